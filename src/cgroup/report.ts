/**
 * What `tsjail doctor` says about limits.memory, pids and cpu: the cgroup
 * layout, where this process sits, which way tsjail would enforce the
 * limits for this user, and what an administrator must do otherwise.
 */
import { hierarchies, hierarchyOf, layoutName, CONTROLLERS, type FsView, realFs } from './layout.js';
import * as os from 'node:os';
import { chooseLimits } from './place.js';

export function cgroupReport(
  uid: number,
  user: string,
  env: NodeJS.ProcessEnv,
  view: FsView = realFs,
  release: string = os.release(),
): [string, string][] {
  const hs = hierarchies(view);
  const lines: [string, string][] = [['cgroups', layoutName(hs)]];
  for (const c of CONTROLLERS) {
    const h = hierarchyOf(hs, c);
    lines.push([
      `  ${c}`,
      h
        ? `cgroup v${h.version}; this process in ${h.path}${h.root ? ' (the top cgroup)' : ''}${h.dir ? '' : ', not mounted here'}`
        : 'no hierarchy has this controller',
    ]);
  }
  const d = chooseLimits({ memory: 1, pids: 1, cpu: 1 }, { uid, env, hierarchies: hs, view }, release);
  const how =
    d.choice.kind === 'v1'
      ? `enforced for ${d.choice.enforced.join(', ')}: cgroup v1, below the subtree delegated to ${user} (${Object.values(d.choice.subtree.dirs).join(', ')})`
      : d.choice.kind === 'systemd'
        ? `enforced for ${d.choice.enforced.join(', ')}: cgroup v2, a systemd scope with Delegate=yes per sandbox`
        : d.nproc
          ? 'no cgroup of its own here'
          : 'not enforced here';
  lines.push(['  limits', how]);
  if (d.nproc)
    lines.push([
      '',
      "pids: enforced without a cgroup: the sandbox's user namespace's process limit (RLIMIT_NPROC, counted per user namespace since Linux 5.14) caps its program's processes and threads",
    ]);
  for (const m of d.missing) lines.push(['', `${m.controller}: NOT ENFORCED: ${m.reason}`]);
  if (d.missing.length > 0)
    lines.push([
      '',
      `profiles that set these limits start only with limits.required: false; to enforce them, an administrator runs \`tsjail setup-limits ${user}\` (cgroup v1), or the user runs tsjail from a systemd user session (cgroup v2)`,
    ]);
  // --parent self delegates nothing in a hierarchy whose top cgroup holds the caller (setup.ts): say which way works there.
  const atTop = d.missing
    .map((m) => m.controller)
    .filter((c) => hierarchyOf(hs, c)?.version === 1 && hierarchyOf(hs, c)?.root);
  if (atTop.length > 0)
    lines.push([
      '',
      `${atTop.join(', ')}: this process is in the top cgroup (the whole machine's), where \`--parent self\` creates nothing; there an administrator delegates with \`tsjail setup-limits ${user} --parent root\` (a subtree below the top)`,
    ]);
  return lines;
}
