#!/usr/bin/env python3
"""Minimal recursive inotify watcher with microsecond wall-clock timestamps.
usage: iwatch.py DIR OUTFILE   (runs until killed; prints READY to stderr once watching)"""
import ctypes, os, sys, struct, time
libc = ctypes.CDLL("libc.so.6", use_errno=True)
M = {0x1:"ACCESS",0x2:"MODIFY",0x4:"ATTRIB",0x8:"CLOSE_WRITE",0x10:"CLOSE_NOWRITE",0x20:"OPEN",
     0x40:"MOVED_FROM",0x80:"MOVED_TO",0x100:"CREATE",0x200:"DELETE",0x400:"DELETE_SELF",0x800:"MOVE_SELF",0x40000000:"ISDIR"}
MASK = 0x2|0x4|0x8|0x20|0x40|0x80|0x100|0x200
fd = libc.inotify_init()
wds = {}
def add(p):
    wd = libc.inotify_add_watch(fd, p.encode(), MASK)
    if wd >= 0: wds[wd] = p
for root, dirs, _ in os.walk(sys.argv[1]):
    add(root)
out = open(sys.argv[2], "w", buffering=1)
sys.stderr.write("READY\n"); sys.stderr.flush()
while True:
    buf = os.read(fd, 65536)
    t = time.time()
    i = 0
    while i < len(buf):
        wd, mask, cookie, ln = struct.unpack_from("iIII", buf, i)
        name = buf[i+16:i+16+ln].rstrip(b"\0").decode()
        i += 16 + ln
        path = os.path.join(wds.get(wd, "?"), name)
        ev = "|".join(v for k, v in M.items() if mask & k)
        out.write(f"{t:.6f} {ev} {path}\n")
        if mask & 0x40000000 and mask & (0x100|0x80):
            add(path)
