#!/usr/bin/env python3
"""gaps.py REGEX LOG...: per log, events on files matching REGEX, relative ms from first, and span."""
import re, sys
rx = re.compile(sys.argv[1])
for lg in sys.argv[2:]:
    ev = [l.split(" ", 2) for l in open(lg).read().splitlines()]
    ev = [(float(t), e, p) for t, e, p in ev if rx.search(p) and e not in ("OPEN", "CLOSE_NOWRITE", "ACCESS")]
    if not ev: print(lg, "no events"); continue
    t0 = ev[0][0]
    print(f"{lg}: span {1000*(ev[-1][0]-t0):.3f} ms :: " + "; ".join(f"+{1000*(t-t0):.3f} {e} {p.split('/')[-1]}" for t, e, p in ev))
