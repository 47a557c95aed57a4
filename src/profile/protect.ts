/**
 * The built-in `filesystem.protect` list: paths inside every writable
 * directory that stay read-only, because a program outside the sandbox runs
 * what they say, later, without being asked to run the project.
 *
 * The line (tsjail-profile(5), "Protected paths"): an entry is here when a
 * tool runs code from it, or sends the user's credentials where it says, as
 * a side effect of something other than building or running the project:
 * a git command (or a shell prompt that runs one), cd into the directory,
 * starting a shell or a login session, opening the folder in an editor,
 * the next `npm`/`pip`/`cargo`/`docker` command. The project's own files
 * (sources, Makefile, package.json, build.rs, .gitattributes) are what the
 * program was given to change and what `git diff` shows; they are not here.
 *
 * Entries are relative to each writable directory (SPEC v2 `protect`);
 * `*` matches within one component; `**` is not allowed (see schema.ts).
 */
export interface ProtectDefault {
  path: string;
  /** Why, in a few words, for `profile explain` and the man page. */
  why: string;
}

export const DEFAULT_PROTECT: readonly ProtectDefault[] = [
  // The whole repository directory, not only hooks and config: a written
  // .git/commondir moves git's config and hooks to a directory of the
  // program's choosing, and so do .git/worktrees/*/commondir and the
  // submodules' .git/modules/*/{config,hooks}. A .git *file* (a worktree's
  // or submodule's "gitdir:" link) is kept as it is for the same reason.
  { path: '.git', why: 'git runs its hooks and the commands its config names (core.fsmonitor at every git status)' },
  { path: '.envrc', why: 'direnv runs it on cd' },
  { path: '.vscode', why: 'VS Code runs its tasks and settings when the folder is opened' },
  { path: '.idea', why: 'JetBrains IDEs run its run configurations and tools' },
  { path: '.exrc', why: 'vi and Vim run it with the exrc option' },
  { path: '.nvimrc', why: 'Neovim runs it with the exrc option' },
  { path: '.nvim.lua', why: 'Neovim runs it with the exrc option' },
  { path: '.dir-locals.el', why: 'Emacs evaluates it' },
  // Shell and session start-up: these matter where the writable directory
  // is a home directory (or is used as one, HOME=dir).
  { path: '.bashrc', why: 'bash runs it' },
  { path: '.bash_profile', why: 'bash runs it at login' },
  { path: '.bash_login', why: 'bash runs it at login' },
  { path: '.bash_logout', why: 'bash runs it at logout' },
  { path: '.profile', why: 'login shells run it' },
  { path: '.zshrc', why: 'zsh runs it' },
  { path: '.zshenv', why: 'zsh runs it' },
  { path: '.zprofile', why: 'zsh runs it at login' },
  { path: '.zlogin', why: 'zsh runs it at login' },
  { path: '.zlogout', why: 'zsh runs it at logout' },
  { path: '.kshrc', why: 'ksh runs it' },
  { path: '.mkshrc', why: 'mksh runs it' },
  { path: '.cshrc', why: 'csh runs it' },
  { path: '.tcshrc', why: 'tcsh runs it' },
  { path: '.config/fish', why: 'fish runs its config' },
  { path: '.xprofile', why: 'the X session runs it' },
  { path: '.xsessionrc', why: 'the X session runs it' },
  { path: '.xinitrc', why: 'startx runs it' },
  { path: '.config/autostart', why: 'the desktop starts what it lists at login' },
  { path: '.config/systemd', why: 'systemd --user runs its units' },
  { path: '.config/environment.d', why: 'systemd --user sets its variables for the session' },
  { path: '.gitconfig', why: "git's own settings (commands it runs)" },
  { path: '.config/git', why: "git's own settings (commands it runs)" },
  { path: '.ssh', why: 'ssh runs ProxyCommand and ~/.ssh/rc; authorized_keys lets others in' },
  { path: '.gnupg', why: 'gpg-agent runs the pinentry its config names' },
  // Package tools: where they send credentials and what they run.
  { path: '.npmrc', why: 'npm: registry and token, and the shell and node options of every script' },
  { path: '.yarnrc', why: 'yarn: registry and settings' },
  { path: '.yarnrc.yml', why: 'yarn runs the yarnPath it names' },
  { path: '.pypirc', why: 'twine: where uploads and passwords go' },
  { path: '.pip', why: 'pip: the index packages come from' },
  { path: '.config/pip', why: 'pip: the index packages come from' },
  { path: '.netrc', why: 'passwords for hosts, read by curl, git, ftp' },
  { path: '.cargo/config.toml', why: 'cargo runs the wrappers and runners it names' },
  { path: '.cargo/config', why: 'cargo runs the wrappers and runners it names' },
  { path: '.cargo/credentials.toml', why: 'cargo: registry tokens' },
  { path: '.cargo/credentials', why: 'cargo: registry tokens' },
  { path: '.docker', why: 'docker runs the credential helpers its config names' },
  { path: '.m2/settings.xml', why: 'Maven: repositories and passwords' },
  { path: '.gradle/gradle.properties', why: 'Gradle: JVM options and passwords' },
  { path: '.gem/credentials', why: 'gem: RubyGems API key' },
  { path: '.config/gh', why: 'GitHub CLI: token and aliases' },
  { path: '.aws', why: 'AWS: credentials and the credential_process it runs' },
  { path: '.kube', why: 'kubectl: clusters and the exec credential plugins it runs' },
];

/** Glob characters of a protect entry (as in src/mounts/glob.ts). */
export const PROTECT_GLOB = /[*?[\]{}]/;
