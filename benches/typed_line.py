#!/usr/bin/env python3
"""What the bash hook adds per command line as a user types it, in a real terminal.

Run: python3 benches/typed_line.py HOOK  (HOOK: the output of `credwatch init bash`, with a
daemon running for the same XDG_RUNTIME_DIR). Five rounds, each typing 400 lines of `:` in a real
pseudo-terminal (pexpect; TERM=xterm; readline active) to a bash with the hook, and the same to a
bash with an empty PROMPT_COMMAND function; the prompt shows bash's command number, so each line
is timed to its own next prompt. Prints the medians and the median of the per-round differences
(the pexpect round trip is in both).
"""
import pexpect, time, os, statistics, sys
hook = sys.argv[1]
def run(hooked, n=400):
    env = dict(os.environ, TERM='xterm')
    c = pexpect.spawn('bash', ['--norc', '--noprofile', '-i'], encoding='utf-8', timeout=20, env=env)
    c.delaybeforesend = None
    c.sendline("PS1='P<\\#> '")
    setup = 'source ' + hook if hooked else '_e() { :; }; PROMPT_COMMAND=(_e)'
    c.sendline(setup + "; echo READY")
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
with_hook, without = [], []
for r in range(5):
    with_hook.append(run(True)); without.append(run(False))
print("with the hook: %.0f us/line, empty hook: %.0f us/line, added (median of rounds): %.1f us" % (
    statistics.median(with_hook), statistics.median(without),
    statistics.median([a - b for a, b in zip(with_hook, without)])))
