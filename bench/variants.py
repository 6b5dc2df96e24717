#!/usr/bin/env python3
"""Haven variants side by side (run.sh's VARIANTS): per variant and repeat, and as medians
with ratios against the first variant named (or `--base NAME`), for one step.

    python3 bench/variants.py bench/results/thirteenth-simulcast-a.jsonl [--base haven:single]

Columns: egress packets/s, SFU CPU µs per egress packet (user + system, and system alone),
SFU CPU % of its core, delivery (the lower of audio and video; video counts frame times, one
layer of each publisher), delay p50/p99, RSS growth per participant (KB), the layer shares of
the video the measured participants received (q/h/f), keyframes sent by layer, validity.
"""
import json
import statistics
import sys
from collections import defaultdict

args = sys.argv[1:]
base = None
if "--base" in args:
    i = args.index("--base")
    base = args[i + 1]
    del args[i:i + 2]
runs = [json.loads(l) for p in args for l in open(p) if l.strip().startswith("{")]
by = defaultdict(list)
order = []
for r in runs:
    v = r.get("variant") or r["sfu"]
    if v not in by:
        order.append(v)
    by[v].append(r)
base = base or order[0]


def delivered(r):
    vals = [x for x in (r.get("audio_delivered"), r.get("video_delivered")) if x is not None]
    return min(vals) if vals else None


def row(r):
    egress = r["egress_pps"]
    cpu_us = r["cpu_s_per_m_egress"]
    sys_us = r["sfu_sys_pct"] / 100 / egress * 1e6 if egress else float("nan")
    return {
        "pps": egress, "us": cpu_us, "sys_us": sys_us, "cpu_pct": r["sfu_cpu_pct"],
        "deliv": delivered(r), "vdeliv": r.get("video_delivered"), "p50": r["delay_p50_ms"], "p99": r["delay_p99_ms"],
        "kb": r["rss_per_participant_kib"] * 1.024, "valid": r["valid"],
        "layers": r.get("video_layer_shares"), "kf": r.get("keyframes_by_layer"),
    }


def fmt(x, nd=2):
    return "–" if x is None else f"{x:.{nd}f}"


print("| variant | rep | egress pkt/s | CPU µs / egress pkt (sys) | SFU CPU % | delivered (video) | delay p50 / p99 ms | KB / participant | video layers q/h/f | keyframes q/h/f | valid |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for v in order:
    for r in by[v]:
        x = row(r)
        layers = "/".join(f"{s:.2f}" for s in x["layers"]) if x["layers"] else "–"
        kf = "/".join(str(k) for k in x["kf"]) if x["kf"] else "–"
        print(f"| {v} | {r.get('rep')} | {x['pps']:,.0f} | {x['us']:.2f} ({x['sys_us']:.2f}) | {x['cpu_pct']:.1f} | "
              f"{100 * x['deliv']:.2f} % ({100 * (x['vdeliv'] or 0):.2f} %) | {fmt(x['p50'])} / {fmt(x['p99'])} | {x['kb']:,.0f} | {layers} | {kf} | {x['valid']} |")

med = {v: {k: statistics.median([row(r)[k] for r in by[v] if row(r)[k] is not None])
           for k in ("pps", "us", "cpu_pct", "p50", "p99", "kb")} for v in order}
print()
print(f"Medians, and ratios against {base}:")
print()
print("| variant | runs | egress pkt/s | CPU µs / egress pkt | SFU CPU % | delay p50 / p99 ms | KB / participant |")
print("|---|---|---|---|---|---|---|")
b = med[base]
for v in order:
    m = med[v]
    ratio = lambda k: f" ({m[k] / b[k]:.2f}×)" if v != base and b[k] else ""
    print(f"| {v} | {len(by[v])} | {m['pps']:,.0f}{ratio('pps')} | {m['us']:.2f}{ratio('us')} | {m['cpu_pct']:.1f}{ratio('cpu_pct')} | "
          f"{m['p50']:.2f} / {m['p99']:.2f} | {m['kb']:,.0f}{ratio('kb')} |")
