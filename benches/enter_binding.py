#!/usr/bin/env python3
"""What the bash hook's Enter binding (issue #30 item 1) adds per command line, as a user types it.

Run: python3 benches/enter_binding.py HOOK  (HOOK: the output of `credwatch init bash`, with a
daemon running for the same XDG_RUNTIME_DIR). Five rounds, each typing 400 lines of `:` in a real
pseudo-terminal (pexpect; TERM=xterm) to a bash with the hook, and the same with the hook's binding
taken out (`_credwatch_unbind_enter`); the prompt shows bash's command number, so each line is
timed to its own next prompt (bash redraws the line around a readline binding, and an earlier
prompt must not count). Prints the medians and the median of the per-round differences.
"""
import pexpect, time, os, statistics, sys
hook = sys.argv[1]
def run(unbind, n=400):
    env = dict(os.environ, TERM='xterm')
    c = pexpect.spawn('bash', ['--norc', '--noprofile', '-i'], encoding='utf-8', timeout=20, env=env)
    c.delaybeforesend = None
    c.sendline("PS1='P<\\#> '")
    c.sendline('source ' + hook + ('; _credwatch_unbind_enter' if unbind else '') + "; echo READY")
    c.expect('READY\r\n')
    c.expect(r'P<(\d+)> ')
    k = int(c.match.group(1))
    t = time.perf_counter()
    for i in range(n):
        c.send(':\r')
        c.expect_exact('P<%d> ' % (k + i + 1))
    d = time.perf_counter() - t
    c.sendline('exit'); c.close()
    return d / n * 1e6
with_b, without_b = [], []
for r in range(5):
    with_b.append(run(False)); without_b.append(run(True))
print("with binding: %.0f us/line, without: %.0f us/line, added (median of rounds): %.1f us" % (
    statistics.median(with_b), statistics.median(without_b),
    statistics.median([a - b for a, b in zip(with_b, without_b)])))
