// Issue 10, item 1: code execution outside through the sound server. A real
// PulseAudio daemon runs as the test user (private socket, a null sink,
// module-filter-apply as Debian's default.pa loads it). Outside, as the
// review found, a client makes the daemon dlopen a shared object it wrote
// (module-ladspa-sink plugin=, and the same through a stream's filter.apply
// properties) and opens a command socket that loads anything
// (module-cli-protocol-unix). Under every shipped profile with the
// pulseaudio snippet all of that is refused by tsjail-pulse-filter, the
// constructor never runs, and sound still plays and records.
import t from 'tap';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { installed } from '../helpers/browser.js';
import { PAREC, peak, record, soundHome, startPulse, tone } from '../helpers/pulse.js';
import {
  asUser,
  mkUserDir,
  removeDir,
  tsjailArgv,
  tsjail,
  tsjailRoot,
  userEnv,
  writeUserFile,
} from '../helpers/sandbox.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const missing = ['pulseaudio', 'paplay', 'parec', 'pactl', 'gcc'].filter((p) => !installed(p));

/** Shipped profiles whose includes have the pulseaudio snippet. */
function soundProfiles(): string[] {
  const dir = path.join(tsjailRoot(), 'profiles');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json5') && /"pulseaudio"/.test(fs.readFileSync(path.join(dir, f), 'utf8')))
    .map((f) => f.replace(/\.json5$/, ''));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Three tests per profile with sound (about twenty profiles, each some
// twenty launches): over three minutes on a quiet machine, two thirds of
// tap's 300 s, so a loaded one ran out of time half-way.
t.setTimeout(900_000);

if (missing.length > 0) {
  t.skip(`${missing.join(', ')} not installed here (.ci/run installs them)`, async () => {});
} else {
  const { home, runtime, socket, opts } = soundHome('pulse-escape');
  const downloads = path.join(home, 'Downloads');
  mkUserDir(downloads);
  // What the constructor reads to show it runs outside: a key in ~/.ssh.
  const secret = path.join(home, '.ssh', 'id_rsa');
  writeUserFile(secret, 'PRIVATE KEY of the test user\n', 0o600);
  writeUserFile(path.join(downloads, 'tone.wav'), tone());
  // The same tone where every profile is shown it (--ro): not every profile with sound shows ~/Downloads.
  const sounds = path.join(home, 'Sounds');
  writeUserFile(path.join(sounds, 'tone.wav'), tone());
  // The plugin, as a download would leave it (the browser profiles may write ~/Downloads).
  const plugin = path.join(downloads, 'plugin.so');
  execFileSync('gcc', [
    '-shared',
    '-fPIC',
    '-O2',
    '-Wall',
    `-DSECRET="${secret}"`,
    '-o',
    plugin,
    path.join(here, 'pulse-plugin.c'),
  ]);
  writeUserFile(plugin, fs.readFileSync(plugin), 0o755);
  /** A fresh copy of the plugin (dlopen runs a constructor once per file). */
  const copy = (name: string): string => {
    const p = path.join(downloads, name);
    writeUserFile(p, fs.readFileSync(plugin), 0o755);
    return p;
  };

  // module-filter-apply as Debian's default.pa loads it (with module-filter-heuristics).
  const pulse = startPulse(opts, socket, ['module-filter-heuristics', 'module-filter-apply']);
  t.teardown(() => {
    pulse.daemon.kill('SIGKILL');
    removeDir(home);
  });

  /** A command as the test user outside any sandbox. */
  const outside = (argv: string[]) => {
    const a = asUser(argv, userEnv(opts));
    return spawnSync(a[0]!, a.slice(1), { encoding: 'utf8', timeout: 30_000, cwd: home });
  };
  const modules = () => outside(['pactl', 'list', 'short', 'modules']).stdout;
  const ladspaArgs = (so: string) => ['load-module', 'module-ladspa-sink', 'sink_name=x', `plugin=${so}`, 'label=none'];
  const filterApply = (so: string) => [
    '--property=filter.apply=ladspa-sink',
    `--property=filter.apply.ladspa-sink.parameters=plugin=${so} label=none`,
  ];
  /** Connect to a PulseAudio CLI socket and send one command (it answers nothing on success). */
  const cli = (where: string, line: string) =>
    new Promise<net.Socket>((resolve, reject) => {
      const c = net.connect(where, () => c.write(`${line}\n`, () => resolve(c)));
      c.on('error', reject);
    });

  t.before(() => pulse.ready());

  t.test('outside control: the daemon loads what a client names', async (t) => {
    const so = copy('control-ladspa.so');
    outside(['pactl', ...ladspaArgs(so)]);
    t.ok(
      fs.existsSync(`${so}.ran`),
      "module-ladspa-sink dlopened the client's file: its constructor ran in the daemon",
    );
    t.match(fs.readFileSync(`${so}.ran`, 'utf8'), /PRIVATE KEY/, 'and read ~/.ssh/id_rsa');

    const so2 = copy('control-filter.so');
    const play = outside(['paplay', ...filterApply(so2), '-d', 'tsjail_null', path.join(downloads, 'tone.wav')]);
    t.equal(play.status, 0, `paplay with filter.apply properties ${play.stderr}`);
    t.ok(
      fs.existsSync(`${so2}.ran`),
      "module-filter-apply loaded module-ladspa-sink with the stream's plugin: the constructor ran",
    );

    const cliSock = path.join(downloads, 'control-cli');
    const load = outside(['pactl', 'load-module', 'module-cli-protocol-unix', `socket=${cliSock}`]);
    t.equal(load.status, 0, `module-cli-protocol-unix loads ${load.stderr}`);
    t.ok(fs.existsSync(cliSock), 'its socket is where the client said');
    const conn = await cli(cliSock, 'load-module module-null-sink sink_name=tsjail_via_cli');
    const sinks = () => outside(['pactl', 'list', 'short', 'sinks']).stdout;
    const end = Date.now() + 10_000;
    while (Date.now() < end && !/tsjail_via_cli/.test(sinks())) await sleep(100);
    conn.destroy();
    t.match(sinks(), /tsjail_via_cli/, 'and load-module through it works');
    for (const line of modules().split('\n')) {
      if (/module-cli-protocol-unix|tsjail_via_cli/.test(line))
        outside(['pactl', 'unload-module', line.split('\t')[0]!]);
    }
  });

  /** Wait until a recorder is connected: its stream shows outside (a loaded machine may take seconds). */
  const recording = async () => {
    const end = Date.now() + 20_000;
    while (Date.now() < end && !/parec/.test(outside(['pactl', 'list', 'source-outputs']).stdout)) await sleep(200);
  };

  const profiles = soundProfiles();
  t.ok(
    profiles.includes('firefox') && profiles.includes('chromium'),
    `shipped profiles with sound: ${profiles.join(', ')}`,
  );

  for (const name of profiles) {
    t.test(`${name}: module loading and server-side paths are refused`, async (t) => {
      const before = modules();
      const so = `${downloads}/${name}-ladspa.so`;
      const so2 = `${downloads}/${name}-filter.so`;
      const cliSock = `${downloads}/${name}-cli`;
      copy(`${name}-ladspa.so`);
      copy(`${name}-filter.so`);
      // The review's steps, from inside: write the plugin into ~/Downloads, have the daemon load it.
      const r = tsjail(
        [
          '-p',
          name,
          '--ro',
          sounds,
          '--',
          '/bin/sh',
          '-c',
          `if cp "$1" "$2" && cp "$1" "$3"; then echo copied; else echo read-only; fi;
           pactl load-module module-ladspa-sink sink_name=x plugin="$2" label=none; echo "ladspa=$?";
           paplay --property=filter.apply=ladspa-sink "--property=filter.apply.ladspa-sink.parameters=plugin=$3 label=none" -d tsjail_null "$4"; echo "filter=$?";
           pactl load-module module-cli-protocol-unix socket="$5"; echo "cli=$?"`,
          'sh',
          plugin,
          so,
          so2,
          path.join(sounds, 'tone.wav'),
          cliSock,
        ],
        { ...opts, timeout: 60_000 },
      );
      const out = r.stdout + r.stderr;
      // A profile whose Downloads is read-only (a music player's) names the
      // copies the test left there: the daemon, outside, could read them all the same.
      t.match(r.stdout, /copied|read-only/, `the sandbox placed or found the plugin ${r.stderr}`);
      if (/read-only/.test(r.stdout)) t.comment(`${name}: ~/Downloads is not writable; the plugin left there is named`);
      t.match(r.stdout, /ladspa=1/, 'pactl load-module module-ladspa-sink fails');
      t.match(r.stdout, /filter=1/, 'a stream asking for filter.apply is refused');
      t.match(r.stdout, /cli=1/, 'pactl load-module module-cli-protocol-unix fails');
      t.match(out, /Access denied/, 'with "Access denied"');
      t.notOk(fs.existsSync(`${so}.ran`), 'the constructor of the ladspa plugin never ran');
      t.notOk(fs.existsSync(`${so2}.ran`), 'nor the one named in filter.apply properties');
      t.notOk(fs.existsSync(cliSock), 'no CLI socket was made');
      t.equal(modules(), before, 'the daemon has the same modules as before');
    });

    t.test(`${name}: every other command that changes the server is refused`, async (t) => {
      // Another application's stream, which the sandbox may see but not touch.
      const other = spawn(
        ...((a: string[]) => [a[0]!, a.slice(1)] as const)(
          asUser(['pacat', '-p', '-d', 'tsjail_null', '--volume=100'], userEnv(opts)),
        ),
        {
          stdio: [fs.openSync('/dev/zero', 'r'), 'ignore', 'ignore'],
        },
      );
      t.teardown(() => void other.kill('SIGKILL'));
      let idx: string | undefined;
      const until = Date.now() + 10_000;
      while (Date.now() < until && !idx) {
        idx = /^(\d+)\t/m.exec(outside(['pactl', 'list', 'short', 'sink-inputs']).stdout)?.[1];
        if (!idx) await sleep(100);
      }
      t.ok(idx, `the other stream is sink input ${idx}`);
      const info = () => outside(['pactl', 'info']).stdout.replace(/^Client Index:.*$/m, '');
      const before = info();
      const cmds = [
        'unload-module 0',
        `upload-sample ${path.join(sounds, 'tone.wav')} tsjail_sample`,
        'remove-sample bell',
        'set-default-sink tsjail_null',
        'set-default-source tsjail_null.monitor',
        'set-sink-volume tsjail_null 10%',
        'set-sink-mute tsjail_null 1',
        'set-source-volume tsjail_null.monitor 10%',
        'suspend-sink tsjail_null 1',
        `set-sink-input-volume ${idx} 10%`,
        `set-sink-input-mute ${idx} 1`,
        `move-sink-input ${idx} tsjail_null`,
        'set-port-latency-offset x y 10',
        'send-message /core list-handlers',
        'exit',
      ];
      const script = cmds
        .map((c) => `pactl ${c} >/dev/null 2>"$HOME/err" ; echo "$?:${c}:$(cat "$HOME/err")"`)
        .join('\n');
      const r = tsjail(['-p', name, '--ro', sounds, '--', '/bin/sh', '-c', script], { ...opts, timeout: 60_000 });
      const lines = r.stdout.trim().split('\n');
      t.equal(lines.length, cmds.length, `one answer per command ${r.stderr}`);
      for (const l of lines) t.match(l, /^[1-9]\d*:.*Access denied/, l);
      t.equal(info(), before, 'the server is still there, defaults unchanged');
      t.match(
        outside(['pactl', 'list', 'sink-inputs']).stdout,
        /Mute: no\s+Volume: front-left: 100 \/ .*front-right: 100 \//,
        "the other stream's volume and mute are as they were",
      );
      t.notMatch(outside(['pactl', 'list', 'short', 'samples']).stdout, /tsjail_sample/, 'no sample was uploaded');
    });

    t.test(`${name}: sound plays and records`, async (t) => {
      // A tone played inside reaches the null sink, recorded outside.
      const rec = record(asUser(PAREC, userEnv(opts)));
      await recording();
      const play = tsjail(['-p', name, '--ro', sounds, 'paplay', '-d', 'tsjail_null', path.join(sounds, 'tone.wav')], {
        ...opts,
        timeout: 30_000,
      });
      await sleep(300);
      const raw = await rec.stop();
      t.equal(play.status, 0, `paplay inside exited 0 ${play.stderr}`);
      t.ok(peak(raw) > 4000, `the tone reached the sink (peak ${peak(raw)})`);

      // parec inside records the monitor while the tone plays outside.
      const inside = record(asUser(tsjailArgv(['-p', name, '--', ...PAREC]), userEnv(opts)), home);
      await recording();
      const played = outside(['paplay', '-d', 'tsjail_null', path.join(downloads, 'tone.wav')]);
      await sleep(300);
      const heard = await inside.stop();
      t.equal(played.status, 0, 'the tone played outside');
      t.ok(peak(heard) > 4000, `parec inside heard it (peak ${peak(heard)}) ${inside.stderr()}`);
    });
  }

  /** Processes of tsjail-pulse-filter whose command line names this test's server socket. */
  const filters = (): number[] =>
    fs
      .readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .filter((d) => {
        try {
          const argv = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
          return path.basename(argv[0] ?? '') === 'tsjail-pulse-filter' && argv.includes(fs.realpathSync(socket));
        } catch {
          return false;
        }
      })
      .map(Number);
  const filterDirs = () => fs.readdirSync(runtime).filter((n) => n.startsWith('tsjail-pulse-'));

  for (const how of ['exit', 'SIGKILL'] as const) {
    t.test(
      `the filter lives exactly as long as the sandbox (${how === 'exit' ? 'program exits' : 'tsjail killed with SIGKILL'})`,
      async (t) => {
        const profile = soundProfiles()[0]!;
        const argv = asUser(tsjailArgv(['-p', profile, '--', '/bin/sh', '-c', 'read line']), userEnv(opts));
        const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'ignore', 'pipe'], cwd: home });
        let end = Date.now() + 20_000;
        while (Date.now() < end && filters().length === 0) await sleep(100);
        t.equal(filters().length, 1, 'one filter runs beside the sandbox');
        t.equal(filterDirs().length, 1, 'with its socket directory');
        const exited = new Promise((r) => child.on('exit', r));
        if (how === 'exit') child.stdin!.end('\n');
        else child.kill('SIGKILL');
        await exited;
        end = Date.now() + 20_000;
        while (Date.now() < end && (filters().length > 0 || filterDirs().length > 0)) await sleep(100);
        t.same(filters(), [], 'the filter is gone');
        t.same(filterDirs(), [], 'and its directory');
      },
    );
  }
}
