/**
 * `tsjail seccomp compile NAME|PATH -o FILE` and `tsjail seccomp disasm FILE|NAME`:
 * the filter a profile runs under, as raw BPF (struct sock_filter[], what
 * `bwrap --seccomp FD` reads) or as a readable listing.
 */
import * as fs from 'node:fs';
import { Command, Option, UsageError } from 'clipanion';
import { TsjailError } from '../errors.js';
import { compileProfileSeccomp, seccompNetwork } from '../policy/seccomp.js';
import { loadProfile } from '../profile/index.js';
import { disassemble, hostArch, type Arch } from '../seccomp/compile.js';
import { BaseCommand } from './base.js';
import { currentCaller, loadOptions } from './context.js';
import { out } from './output.js';

const archOption = () => Option.String('--arch', { description: "x86_64 or aarch64 (default: this machine's)" });

function parseArch(a: string | undefined): Arch {
  if (a === undefined) return hostArch();
  if (a !== 'x86_64' && a !== 'aarch64')
    throw new UsageError(`--arch: expected x86_64 or aarch64, got ${JSON.stringify(a)}`);
  return a;
}

function compileFor(ref: string, arch: Arch): Uint8Array {
  const p = loadProfile(ref, loadOptions(currentCaller()));
  return compileProfileSeccomp(p, seccompNetwork(p.network), arch).bytes;
}

export class SeccompCompileCommand extends BaseCommand {
  static override paths = [['seccomp', 'compile']];
  static override usage = Command.Usage({
    description: 'write the raw BPF filter of a profile (struct sock_filter[], loadable as-is)',
    examples: [
      [
        'Give bubblewrap the filter of the firefox profile',
        '$0 seccomp compile firefox -o ff.bpf && bwrap --seccomp 10 ... 10<ff.bpf',
      ],
    ],
  });
  profile = Option.String({ name: 'NAME|PATH' });
  output = Option.String('-o,--output', { required: true, description: 'file to write' });
  arch = archOption();
  async execute(): Promise<number> {
    const bytes = compileFor(this.profile, parseArch(this.arch));
    try {
      fs.writeFileSync(this.output, bytes);
    } catch (e) {
      throw new TsjailError(`-o ${this.output}: ${(e as Error).message}`);
    }
    return 0;
  }
}

export class SeccompDisasmCommand extends BaseCommand {
  static override paths = [['seccomp', 'disasm']];
  static override usage = Command.Usage({
    description: 'a readable listing of a filter: a BPF file, or the filter of a profile',
    examples: [['Read the default filter', '$0 seccomp disasm default']],
  });
  source = Option.String({ name: 'FILE|NAME' });
  arch = archOption();
  async execute(): Promise<number> {
    const arch = parseArch(this.arch);
    let bytes: Uint8Array;
    const st = fs.statSync(this.source, { throwIfNoEntry: false });
    if (st?.isFile() && !this.source.endsWith('.json5')) {
      bytes = fs.readFileSync(this.source);
      if (bytes.length === 0 || bytes.length % 8 !== 0)
        throw new TsjailError(`${this.source}: not a BPF program (length ${bytes.length} is not a multiple of 8)`);
    } else {
      bytes = compileFor(this.source, arch);
    }
    out(disassemble(bytes, arch));
    return 0;
  }
}
