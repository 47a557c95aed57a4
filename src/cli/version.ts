/**
 * `tsjail --version`. Not clipanion's built-in, which also claims `-v`: here
 * `-v` means --verbose (SPEC), so `tsjail -v PROGRAM` must run PROGRAM.
 * VERSION is package.json's: esbuild writes it into the bundle
 * (--define:__TSJAIL_VERSION__, npm's $npm_package_version), and unbundled
 * code (the tests, tsc's dist/) reads it from package.json.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'clipanion';
import { packageRoot } from '../sys/package-root.js';

declare const __TSJAIL_VERSION__: string | undefined;

function packageVersion(): string {
  const root = packageRoot();
  if (root === undefined) return 'unknown';
  const pkg: unknown = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const v = typeof pkg === 'object' && pkg !== null && 'version' in pkg ? pkg.version : undefined;
  return typeof v === 'string' ? v : 'unknown';
}

export const VERSION: string = typeof __TSJAIL_VERSION__ === 'string' ? __TSJAIL_VERSION__ : packageVersion();

export class VersionCommand extends Command {
  static override paths = [['--version']];
  async execute(): Promise<number> {
    this.context.stdout.write(`${VERSION}\n`);
    return 0;
  }
}
