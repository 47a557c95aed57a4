/**
 * What every verb needs to know about the caller, gathered once: ids, home,
 * current directory, environment, and the profile loading options built
 * from them.
 */
import * as os from 'node:os';
import { buildVarContext, type LoadOptions } from '../profile/index.js';

export interface Caller {
  uid: number;
  gid: number;
  user: string;
  home: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export function currentCaller(): Caller {
  const info = os.userInfo();
  const env = process.env;
  // HOME from the environment when it is sane, as every program does; else the passwd entry.
  const home = env.HOME && env.HOME.startsWith('/') ? env.HOME.replace(/\/+$/, '') || '/' : info.homedir;
  let cwd: string;
  try {
    cwd = process.cwd();
  } catch {
    cwd = '/';
  }
  return { uid: info.uid, gid: info.gid, user: info.username, home, cwd, env };
}

export function loadOptions(c: Caller): LoadOptions {
  return { vars: buildVarContext({ env: c.env, uid: c.uid, user: c.user, home: c.home, cwd: c.cwd }) };
}
