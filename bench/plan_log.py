#!/usr/bin/env python3
"""What Haven's allocator did in a run, from its log (run.sh with LOGS=DIR and
HAVEN_LOG=haven=info,haven::media::run_loop::bandwidth=debug): per log, the downlink
estimates at the last plan change of each member, the plan changes in the last WINDOW
seconds before the server stopped (the generator's measuring window ends about a second
before), and, at that last change, how many videos each member had per layer and paused.

    python3 bench/plan_log.py [--window 21] LOG...
"""
import re
import statistics
import sys
from datetime import datetime

args = sys.argv[1:]
window = 21.0
if "--window" in args:
    i = args.index("--window")
    window = float(args[i + 1])
    del args[i:i + 2]
ANSI = re.compile(r"\x1b\[[0-9;]*m")
LINE = re.compile(r"^(\S+Z) .*downlink plan changed peer=(\d+) estimate_kbps=(\d+) allocated_kbps=(\d+) moved=\[(.*)\]")
MOVE = re.compile(r"\((\d+), (Audio|Layer\((\d)\)|Paused\((\w+)\))\)")


def when(stamp):
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


for path in args:
    changes, stop = [], None
    for raw in open(path, errors="replace"):
        line = ANSI.sub("", raw)
        m = LINE.match(line)
        if m:
            changes.append((when(m[1]), int(m[2]), int(m[3]), int(m[4]), m[5]))
        elif " stopping" in line:
            stop = when(line.split()[0])
    if not changes:
        print(f"{path}: no plan changes logged")
        continue
    stop = stop or changes[-1][0]
    # Each member's allocation of each publisher's video, replayed from the changes.
    video = {}
    last_estimate = {}
    for _, peer, est, alloc, moved in changes:
        last_estimate[peer] = (est, alloc)
        seen_audio = set()
        for pub, what, layer, reason in MOVE.findall(moved):
            # A publisher's first entry in `moved` is its video when it also has an Audio
            # entry after: the log gives the track's publisher only, so the video is the
            # entry that is a layer or a pause.
            if what == "Audio":
                continue
            video[(peer, int(pub))] = f"L{layer}" if layer else f"paused:{reason}"
    in_window = [c for c in changes if c[0] >= stop - window]
    ests = [e for e, _ in last_estimate.values()]
    if min(ests) > 10**12:  # media.bandwidth_estimation off: every link carries everything
        ests = [float("inf")]
    per_member = {}
    for (peer, _), state in video.items():
        per_member.setdefault(peer, {}).setdefault(state, 0)
        per_member[peer][state] += 1
    totals = {}
    for states in per_member.values():
        for s, n in states.items():
            totals[s] = totals.get(s, 0) + n
    print(f"{path}: {len(changes)} plan changes, {len(in_window)} in the last {window:.0f} s; "
          f"members' estimate kbit/s at their last plan change: median {statistics.median(ests):.0f} (min {min(ests):.0f}, max {max(ests):.0f}); "
          f"videos by state at the end, all members: {dict(sorted(totals.items()))}")
