/**
 * `tsjail --version`. Not clipanion's built-in, which also claims `-v`: here
 * `-v` means --verbose (SPEC), so `tsjail -v PROGRAM` must run PROGRAM.
 * VERSION is kept equal to package.json's by test/unit/cli/version.test.ts.
 */
import { Command } from 'clipanion';

export const VERSION = '0.1.0';

export class VersionCommand extends Command {
  static override paths = [['--version']];
  async execute(): Promise<number> {
    this.context.stdout.write(`${VERSION}\n`);
    return 0;
  }
}
