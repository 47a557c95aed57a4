/** Profile texts shared by the unit and CLI tests of `profile check` and `run`. */

/** 200 ptrace rules of four conditions each, one a line, lines 5 to 204: a filter over 4096 instructions. */
export function bigPtraceProfile(extra = ''): string {
  const rules = Array.from(
    { length: 200 },
    (_, i) =>
      `      { name: "ptrace", args: [{ arg: 0, op: "==", value: ${i} }, { arg: 1, op: "in", value: [${i}, ${i + 1000}, ${i + 2000}] }, ` +
      `{ arg: 2, op: "!=", value: ${i * 3 + 1} }, { arg: 3, op: ">", value: ${i * 5} }] },`,
  );
  return `{\n  syscalls: {${extra}\n    allow: [\n      "@default",\n${rules.join('\n')}\n    ],\n  },\n}\n`;
}
