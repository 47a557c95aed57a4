// Landlock against the real kernel, by ABI: every ABI from none to the
// kernel's own (simulated lower with TSJAIL_LANDLOCK_ABI) builds the ruleset
// that ABI allows and runs programs; TSJAIL_LANDLOCK_ABI never raises it.
import t from 'tap';
import { LATEST_ABI } from '../../src/landlock/abi.js';
import { LANDLOCK_ABI, needsLandlock } from '../helpers/machine.js';
import { tsjail, tsjailAsync } from '../helpers/sandbox.js';

t.test(
  `every ABI from none to the kernel's (${LANDLOCK_ABI}): the ruleset uses what the kernel has, and programs run`,
  async (t) => {
    const expectFs: Record<number, bigint> = {
      1: 0x1fffn,
      2: 0x3fffn,
      3: 0x7fffn,
      4: 0x7fffn,
      5: 0xffffn,
      6: 0xffffn,
      7: 0xffffn,
    };
    // One launch pair per ABI, side by side (each is independent of the others).
    const abis = Array.from({ length: LANDLOCK_ABI + 1 }, (_, abi) => abi);
    const results = await Promise.all(
      abis.map(async (abi) => {
        const env = { TSJAIL_LANDLOCK_ABI: String(abi) };
        const dry = await tsjailAsync(['--dry-run', '-v', '--net', 'host', 'true'], { env });
        const script = 'cat /etc/hostname >/dev/null 2>&1; echo hi > /tmp/x && cat /tmp/x';
        const run = await tsjailAsync(['--', '/bin/sh', '-c', script], { env });
        return { abi, dry, run };
      }),
    );
    for (const { abi, dry, run } of results) {
      t.equal(dry.status, 0, dry.stderr);
      const ll = JSON.parse(dry.stdout).landlock;
      if (abi === 0) {
        t.equal(ll, null, 'ABI 0: no ruleset');
        // On a kernel without Landlock there is nothing to turn off: -v says why there is none.
        t.match(dry.stderr, LANDLOCK_ABI > 0 ? /Landlock turned off by TSJAIL_LANDLOCK_ABI=0/ : /Landlock/);
      } else {
        t.equal(BigInt(ll.handledFs), expectFs[abi], `ABI ${abi}: handled filesystem rights`);
        t.equal(BigInt(ll.scoped), abi >= 6 ? 3n : 0n, `ABI ${abi}: scoping`);
        if (abi < 6) t.match(dry.stderr, /Landlock ABI \d cannot enforce/, `ABI ${abi}: -v names what was dropped`);
        else t.notMatch(dry.stderr, /cannot enforce/, `ABI ${abi}: nothing dropped`);
      }
      t.equal(run.status, 0, `ABI ${abi}: ${run.stderr}`);
      t.equal(run.stdout, 'hi\n');
    }
  },
);

// The ABIs this kernel lacks cannot be tried here: one skip says so.
if (LANDLOCK_ABI < LATEST_ABI) {
  t.test(
    `ABIs ${LANDLOCK_ABI + 1} to ${LATEST_ABI}`,
    { skip: needsLandlock(LATEST_ABI, 'to try every ABI tsjail knows') },
    async () => {},
  );
}

t.test("TSJAIL_LANDLOCK_ABI: a bad value is one error line and 125; it never raises the kernel's ABI", async (t) => {
  const bad = tsjail(['true'], { env: { TSJAIL_LANDLOCK_ABI: 'seven' } });
  t.equal(bad.status, 125);
  t.equal(bad.stderr, 'tsjail: TSJAIL_LANDLOCK_ABI: expected a Landlock ABI number (0: none), got "seven"\n');
  const doctor = tsjail(['doctor'], { env: { TSJAIL_LANDLOCK_ABI: 'seven' } });
  t.equal(doctor.status, 125);
  t.equal(doctor.stdout, '', 'doctor says nothing else');
  t.equal(doctor.stderr, bad.stderr);
  const high = tsjail(['--dry-run', 'true'], { env: { TSJAIL_LANDLOCK_ABI: '99' } });
  t.equal(high.status, 0, high.stderr);
  const ll = JSON.parse(high.stdout).landlock;
  if (LANDLOCK_ABI === 0) t.equal(ll, null, 'no Landlock on this kernel, and 99 does not make one');
  else t.equal(ll.abi, LANDLOCK_ABI, "the kernel's own ABI");
});
