/**
 * Shared by every verb: a failure inside `execute` becomes one line on stderr
 * and an exit status (SPEC: 125 for anything of tsjail's own), never
 * clipanion's multi-line error block or a stack trace.
 */
import { Command, UsageError } from 'clipanion';
import { TsjailError } from '../errors.js';
import { ProfileError } from '../profile/index.js';
import { say } from './output.js';

export function report(err: unknown, verbose: boolean): number {
  if (err instanceof TsjailError) {
    say(err.message);
    if (err.hint) say(`hint: ${err.hint}`);
    return err.exitCode;
  }
  if (err instanceof ProfileError || err instanceof UsageError) {
    say(err.message.split('\n')[0]!.trim());
    return 125;
  }
  const e = err as Error;
  say(`internal error: ${e?.message ?? String(err)}`);
  if (verbose && e?.stack) for (const l of e.stack.split('\n')) say(l);
  return 125;
}

export abstract class BaseCommand extends Command {
  failure?: number;
  static verboseRequested = false;
  override async catch(error: unknown): Promise<void> {
    this.failure = report(error, BaseCommand.verboseRequested);
  }
}
