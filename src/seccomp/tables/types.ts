// Shape of the generated syscall tables (see generate.ts).

/** [name, number, widths]: widths has one char per register argument, '4' or '8', or is '*' (unknown). */
export type SyscallRow = readonly [name: string, nr: number, widths: string];
