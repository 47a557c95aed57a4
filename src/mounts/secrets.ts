/**
 * Secret paths: places of the caller that hold keys, passwords, tokens or
 * another application's session, which no profile may show *implicitly*.
 *
 * Contract: secretPaths({ home, env, uid }) lists them for this caller, each
 * with why it is secret, as lexical paths (HOME and the XDG base directories
 * filled in; both the XDG default under HOME and the caller's
 * $XDG_CONFIG_HOME / $XDG_DATA_HOME when they differ). The mount planner
 * (plan.ts) resolves them and applies the rule that tsjail-profile(5) states
 * under "Secret paths":
 *   - a grant whose real path is a secret path or lies inside one is allowed
 *     only when it *names* that path: written (before symlinks are followed)
 *     as the secret path or a path inside it, by a profile entry without a
 *     glob or a user-directory/current-directory variable, or on the command
 *     line; everything else (the current directory, a symlink, a glob match,
 *     ${XDG_DOWNLOAD_DIR} and friends, filesystem.args) is refused, 125;
 *   - a secret path that lies inside a grant (ro ~, --rw ~/.config) is hidden
 *     as if denied, unless a grant names it.
 * Pure: no file system access here.
 */
import * as path from 'node:path';

export interface SecretPath {
  /** Absolute, normalised, as the caller spells it (not resolved). */
  path: string;
  why: string;
  /** Shown to no grant, not even one naming it (tsjail's plan cache). */
  never?: boolean;
  /**
   * Where it is hidden inside a writable grant, each directory between the
   * grant and it is a mount point of its own (bound onto itself), so the
   * sandbox cannot rename a parent away and put a directory of its own in
   * its place for the next launch to read.
   */
  pin?: boolean;
}

type Base = 'home' | 'config' | 'data' | 'runtime' | 'cache';

/** [base, path below it, why, never, pin]. */
const SECRETS: readonly [Base, string, string, boolean?, boolean?][] = [
  ['home', '.ssh', 'SSH keys and known hosts'],
  ['home', '.gnupg', 'GnuPG keys'],
  ['home', '.password-store', 'pass, the password store'],
  ['home', '.pki', 'NSS certificate and key databases'],
  ['home', '.netrc', 'passwords for FTP and HTTP hosts'],
  ['home', '.git-credentials', "git's stored passwords"],
  ['home', '.aws', 'AWS credentials'],
  ['home', '.azure', 'Azure credentials'],
  ['home', '.kube', 'Kubernetes credentials'],
  ['home', '.docker/config.json', 'Docker registry credentials'],
  ['home', '.vault-token', 'a HashiCorp Vault token'],
  ['home', '.cargo/credentials', 'crates.io token'],
  ['home', '.cargo/credentials.toml', 'crates.io token'],
  ['home', '.Xauthority', 'the X server cookie (control of every window)'],
  ['home', '.ICEauthority', 'the session manager cookie'],
  ['home', '.mozilla', "Firefox's profiles (passwords, cookies, history)"],
  ['home', '.thunderbird', "Thunderbird's profiles (mail and passwords)"],
  ['config', 'mozilla', "Firefox's profiles (passwords, cookies, history)"],
  ['config', 'chromium', "Chromium's profile (passwords, cookies, history)"],
  ['config', 'google-chrome', "Chrome's profile (passwords, cookies, history)"],
  ['config', 'BraveSoftware', "Brave's profile (passwords, cookies, history)"],
  ['config', 'vivaldi', "Vivaldi's profile (passwords, cookies, history)"],
  ['config', 'microsoft-edge', "Edge's profile (passwords, cookies, history)"],
  ['config', 'opera', "Opera's profile (passwords, cookies, history)"],
  ['config', 'gcloud', 'Google Cloud credentials'],
  ['config', 'gh', "GitHub CLI's token"],
  ['config', 'git/credentials', "git's stored passwords"],
  ['config', 'rclone', "rclone's cloud storage tokens"],
  ['config', 'tsjail', "tsjail's own profiles (a sandbox that changes them widens the next one)", false, true],
  [
    'cache',
    'tsjail',
    "tsjail's plan cache (a sandbox that changed it would choose what the next launch runs)",
    true,
    true,
  ],
  ['data', 'keyrings', 'GNOME keyring (every stored password)'],
  ['data', 'kwalletd', 'KDE Wallet (every stored password)'],
  ['data', 'python_keyring', 'Python keyring passwords'],
  ['runtime', '', "the session's sockets (bus, sound server, agents of ssh and GnuPG)"],
];

export function secretPaths(ctx: {
  home: string;
  env: Readonly<Record<string, string | undefined>>;
  uid?: number;
}): SecretPath[] {
  const home = absolute(ctx.home);
  const bases: Record<Base, string[]> = { home: [], config: [], data: [], runtime: [], cache: [] };
  if (home !== undefined && home !== '/') {
    bases.home.push(home);
    bases.config.push(path.posix.join(home, '.config'));
    bases.data.push(path.posix.join(home, '.local/share'));
    bases.cache.push(path.posix.join(home, '.cache'));
  }
  for (const [base, name] of [
    ['config', 'XDG_CONFIG_HOME'],
    ['data', 'XDG_DATA_HOME'],
    ['cache', 'XDG_CACHE_HOME'],
    ['runtime', 'XDG_RUNTIME_DIR'],
  ] as const) {
    const dir = absolute(ctx.env[name]);
    if (dir !== undefined && dir !== '/' && !bases[base].includes(dir)) bases[base].push(dir);
  }
  if (ctx.uid !== undefined && !bases.runtime.includes(`/run/user/${ctx.uid}`))
    bases.runtime.push(`/run/user/${ctx.uid}`);
  const out: SecretPath[] = [];
  for (const [base, rel, why, never, pin] of SECRETS) {
    for (const dir of bases[base]) {
      const p = rel === '' ? dir : path.posix.join(dir, rel);
      if (!out.some((s) => s.path === p))
        out.push({ path: p, why, ...(never ? { never } : {}), ...(pin ? { pin } : {}) });
    }
  }
  // The ssh agent's socket, wherever the session put it.
  const agent = absolute(ctx.env['SSH_AUTH_SOCK']);
  if (agent !== undefined && !out.some((s) => s.path === agent))
    out.push({ path: agent, why: "the ssh agent's socket (every loaded key)" });
  return out;
}

function absolute(p: string | undefined): string | undefined {
  if (p === undefined || !p.startsWith('/') || p.includes('\0')) return undefined;
  const n = path.posix.normalize(p).replace(/\/+$/, '') || '/';
  return n;
}
