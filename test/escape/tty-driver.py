#!/usr/bin/env python3
# Drives an interactive bash on a fresh pseudo-terminal, as a user at a
# terminal would: job control on, keys typed, the window resized.
#
#   tty-driver.py STEPS_JSON
#
# STEPS_JSON is a list of steps:
#   ["send", TEXT]           type TEXT (may hold control characters)
#   ["expect", REGEX]        wait until the output since the last expect
#                            matches REGEX (multiline, dotall)
#   ["absent", REGEX]        the output since the last expect must not match
#   ["winsize", ROWS, COLS]  resize the terminal (bash's job gets SIGWINCH)
# Prints one JSON object: {"ok": bool, "step": N (the failed one), "output": ...}.
# Waits are bounded (EXPECT_SECONDS) so a hung sandbox fails the test
# instead of hanging it; nothing is asserted about how long anything took.
import fcntl
import json
import os
import pty
import re
import select
import struct
import sys
import termios
import time

EXPECT_SECONDS = 30


def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))


def main():
    steps = json.loads(sys.argv[1])
    pid, fd = pty.fork()
    if pid == 0:
        os.environ['PS1'] = 'PROMPT> '
        os.environ['TERM'] = 'dumb'
        os.execvp('bash', ['bash', '--norc', '--noprofile', '-i'])
    set_size(fd, 24, 80)
    everything = ''
    pending = ''

    def read_some(timeout):
        nonlocal everything, pending
        r, _, _ = select.select([fd], [], [], timeout)
        if not r:
            return True
        try:
            data = os.read(fd, 65536)
        except OSError:
            return False
        if not data:
            return False
        text = data.decode('utf-8', 'replace').replace('\r', '')
        everything += text
        pending += text
        return True

    result = {'ok': True}
    for i, step in enumerate(steps):
        kind = step[0]
        if kind == 'send':
            os.write(fd, step[1].encode())
        elif kind == 'winsize':
            set_size(fd, step[1], step[2])
        elif kind == 'expect':
            pattern = re.compile(step[1], re.M | re.S)
            deadline = time.monotonic() + EXPECT_SECONDS
            while True:
                m = pattern.search(pending)
                if m:
                    pending = pending[m.end():]
                    break
                left = deadline - time.monotonic()
                if left <= 0 or not read_some(min(left, 0.5)):
                    result = {'ok': False, 'step': i, 'why': 'not seen: ' + step[1]}
                    break
        elif kind == 'absent':
            read_some(0)
            if re.search(step[1], pending, re.M | re.S):
                result = {'ok': False, 'step': i, 'why': 'seen: ' + step[1]}
        if not result['ok']:
            break
    try:
        os.write(fd, b'\x04exit\n')
        read_some(0.5)
    except OSError:
        pass
    try:
        os.kill(pid, 9)
    except OSError:
        pass
    result['output'] = everything
    print(json.dumps(result))


main()
