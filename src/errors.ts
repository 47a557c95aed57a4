/**
 * Errors tsjail reports to the user. Every failure the user can cause or
 * meet (bad option, bad profile, missing kernel feature) is a TsjailError:
 * printed as one line `tsjail: MESSAGE` (plus a hint under -v), exit 125,
 * never a stack trace. Anything else escaping is a bug and is reported as
 * one line too (see cli/main.ts).
 */
export const EXIT_SETUP_FAILED = 125;

export class TsjailError extends Error {
  readonly hint?: string;
  readonly exitCode: number;
  constructor(message: string, opts: { hint?: string; exitCode?: number } = {}) {
    super(message);
    this.name = 'TsjailError';
    this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? EXIT_SETUP_FAILED;
  }
}
