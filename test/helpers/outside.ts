/**
 * Servers of the test user outside any sandbox, for the tests that check
 * what a sandbox can and cannot reach of the host.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Test } from 'tap';
import { asUser, userEnv } from './sandbox.js';

/** A process of the test user outside any sandbox, killed (its whole group) at teardown. */
export function outside(t: Test, argv: string[]): ChildProcess {
  const a = asUser(argv, userEnv({}));
  const child = spawn(a[0]!, a.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  t.teardown(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  });
  return child;
}

/** Waits for the server's "ready" line and returns it (a server may say more on it, e.g. its ports). */
export async function ready(child: ChildProcess): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server not ready: ${out}`)), 15000);
    child.stdout!.on('data', (d) => {
      out += d;
      const line = /^ready.*$/m.exec(out);
      if (line && out.slice(line.index).includes('\n')) {
        clearTimeout(timer);
        resolve(line[0]);
      }
    });
    child.on('exit', () => reject(new Error(`server exited: ${out}`)));
  });
}
