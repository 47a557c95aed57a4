// Turn tsjail's launch plan (--dry-run JSON on stdin) into the bwrap command
// line that builds the same sandbox, so both are timed doing the same work.
// Usage: tsjail --dry-run PROGRAM | node plan-to-bwrap.mjs [--seccomp-fd N]
import * as fs from 'node:fs';

const plan = JSON.parse(fs.readFileSync(0, 'utf8'));
const args = ['--unshare-all', '--die-with-parent', '--new-session', '--tmpfs', '/'];
if (!plan.namespaces.includes('net')) args.push('--share-net');
for (const m of plan.mounts) {
  const ro = (m.flags ?? []).includes('ro');
  switch (m.op) {
    case 'bind':
      args.push(ro ? '--ro-bind' : '--bind', m.src, m.dest);
      break;
    case 'tmpfs':
      if (m.dest === '/dev' || m.dest === '/dev/shm') break; // bwrap's --dev makes both
      args.push('--perms', m.mode.replace(/^0(?=\d{4})/, ''), '--tmpfs', m.dest);
      break;
    case 'symlink':
      if (m.dest.startsWith('/dev/')) break;
      args.push('--symlink', m.target, m.dest);
      break;
    case 'proc':
      args.push('--proc', m.dest);
      break;
    case 'devbind':
    case 'devpts':
      break; // covered by --dev
    case 'bindself':
      break; // bwrap makes /proc/sys and friends read-only itself
    case 'deny':
      args.push(m.kind === 'dir' ? '--tmpfs' : '--ro-bind', ...(m.kind === 'dir' ? [m.dest] : ['/dev/null', m.dest]));
      break;
    case 'remount':
      args.push('--remount-ro', m.dest);
      break;
    default:
      throw new Error(`no bwrap equivalent for ${m.op}`);
  }
  if (m.op === 'tmpfs' && m.dest === '/dev') args.push('--dev', '/dev');
}
args.push('--hostname', plan.hostname, '--chdir', plan.cwd, '--clearenv');
for (const e of plan.env) {
  const i = e.indexOf('=');
  args.push('--setenv', e.slice(0, i), e.slice(i + 1));
}
const fd = process.argv.indexOf('--seccomp-fd');
if (fd > 0) args.push('--seccomp', process.argv[fd + 1]);
process.stdout.write(JSON.stringify(args));
