#!/usr/bin/env python3
"""Turns bench/results/results.jsonl into the Markdown tables for BENCHMARKS.md and an SVG
plot of SFU CPU and forwarding delay against N for S1 (video meeting), both servers.

    python3 bench/report.py [results.jsonl] > /tmp/tables.md

Medians over the repeats of each step; a second table splits the SFU's CPU per egress packet
into user space and kernel, with the SRTP profiles the generator's connections negotiated. A step passes when the run was valid (generator core
not saturated, everyone's media up), ≥ 99.5 % of frames arrived, and delay p99 < 20 ms.
"""
import json
import statistics
import sys
from collections import defaultdict

PATH = sys.argv[1] if len(sys.argv) > 1 else "bench/results/results.jsonl"
SVG = "bench/results/s1.svg"

runs = [json.loads(l) for l in open(PATH) if l.strip().startswith("{")]
steps = defaultdict(list)
for r in runs:
    # A baseline Haven build (run.sh's BASELINE_HAVEN) is its own row, "haven-base".
    steps[(r["label"], r["step"], "haven-base" if r.get("variant") == "haven-base" else r["sfu"])].append(r)


def med(rs, key):
    vals = [r[key] for r in rs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def delivered(rs):
    vals = [min(v for v in (r.get("audio_delivered"), r.get("video_delivered")) if v is not None)
            for r in rs if r.get("audio_delivered") is not None or r.get("video_delivered") is not None]
    return statistics.median(vals) if vals else None


def passes(rs):
    d, p99 = delivered(rs), med(rs, "delay_p99_ms")
    valid = sum(r["valid"] for r in rs) * 2 > len(rs)
    return valid and d is not None and d >= 0.995 and p99 is not None and p99 < 20


def fmt(v, spec=".1f"):
    return "–" if v is None else format(v, spec)


shapes = sorted({k[0] for k in steps})
SFUS = ("haven-base", "haven", "janus", "relay")


def table_rows():
    """(shape, N, SFU, its runs) for every step run, in table order."""
    for shape in shapes:
        for n in sorted({k[1] for k in steps if k[0] == shape}):
            for sfu in SFUS:
                if steps.get((shape, n, sfu)):
                    yield shape, n, sfu, steps[(shape, n, sfu)]


print("| shape | N | SFU | runs | SFU CPU % | generator CPU % | egress pkt/s | CPU s / M egress pkts | delivered | delay p50 / p99 ms | generator read wait p99 ms | join p50 ms | RSS MB | KB / participant | pass |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for shape, n, sfu, rs in table_rows():
    rss = med(rs, "rss_kib")
    print(f"| {shape} | {n} | {sfu} | {len(rs)} | {fmt(med(rs, 'sfu_cpu_pct'))} | "
          f"{fmt(med(rs, 'generator_cpu_pct'))} | {fmt(med(rs, 'egress_pps'), '.0f')} | "
          f"{fmt(med(rs, 'cpu_s_per_m_egress'), '.2f')} | {fmt(None if delivered(rs) is None else 100 * delivered(rs), '.2f')} % | "
          f"{fmt(med(rs, 'delay_p50_ms'), '.2f')} / {fmt(med(rs, 'delay_p99_ms'), '.2f')} | "
          f"{fmt(med(rs, 'generator_read_wait_p99_ms'), '.2f')} | "
          f"{fmt(med(rs, 'join_p50_ms'), '.0f')} | {fmt(None if rss is None else rss / 1024)} | "
          f"{fmt(med(rs, 'rss_per_participant_kib'), '.0f')} | {'yes' if passes(rs) else 'no'} |")

print()
print("| shape | Haven capacity | Janus capacity | CPU per egress packet, Haven ÷ Janus (median over steps both passed) |")
print("|---|---|---|---|")
for shape in shapes:
    ns = sorted({k[1] for k in steps if k[0] == shape})
    cap = {s: max([n for n in ns if (shape, n, s) in steps and passes(steps[(shape, n, s)])], default=None)
           for s in ("haven", "janus")}
    ratios = [med(steps[(shape, n, "haven")], "cpu_s_per_m_egress") / med(steps[(shape, n, "janus")], "cpu_s_per_m_egress")
              for n in ns if (shape, n, "haven") in steps and (shape, n, "janus") in steps
              and passes(steps[(shape, n, "haven")]) and passes(steps[(shape, n, "janus")])
              and med(steps[(shape, n, "janus")], "cpu_s_per_m_egress")]
    print(f"| {shape} | {fmt(cap['haven'], 'd')} | {fmt(cap['janus'], 'd')} | "
          f"{fmt(statistics.median(ratios) if ratios else None, '.2f')} |")



def per_packet_us(r, part):
    """The SFU's user or kernel CPU per egress packet, in µs."""
    sys_pct = r.get("sfu_sys_pct")
    if sys_pct is None or not r.get("egress_pps"):
        return None
    pct = sys_pct if part == "kernel" else r["sfu_cpu_pct"] - sys_pct
    return pct / 100 / r["egress_pps"] * 1e6


def profiles(rs):
    total = defaultdict(int)
    for r in rs:
        for name, count in (r.get("srtp_profiles") or {}).items():
            total[name] += count
    return ", ".join(f"{name} ({count})" for name, count in sorted(total.items())) or "–"


print()
print("| shape | N | SFU | user µs / egress packet | kernel µs / egress packet | SRTP profiles (connections, all runs) |")
print("|---|---|---|---|---|---|")
for shape, n, sfu, rs in table_rows():
    user = [v for v in (per_packet_us(r, "user") for r in rs) if v is not None]
    kernel = [v for v in (per_packet_us(r, "kernel") for r in rs) if v is not None]
    print(f"| {shape} | {n} | {sfu} | {fmt(statistics.median(user) if user else None, '.2f')} | "
          f"{fmt(statistics.median(kernel) if kernel else None, '.2f')} | {profiles(rs)} |")

# The plot: S1 CPU % (left) and delay p99 (right) against N.
ns = sorted({k[1] for k in steps if k[0] == "S1"})
if ns:
    W, H, PAD = 720, 300, 50
    colours = {"haven": "#2a7ab0", "janus": "#c0504d"}

    def panel(x0, key, title, ymax):
        out = [f'<text x="{x0 + 150}" y="20" font-size="14" text-anchor="middle">{title}</text>',
               f'<line x1="{x0 + PAD}" y1="{H - PAD}" x2="{x0 + 320}" y2="{H - PAD}" stroke="#333"/>',
               f'<line x1="{x0 + PAD}" y1="{H - PAD}" x2="{x0 + PAD}" y2="30" stroke="#333"/>']
        sx = lambda n: x0 + PAD + (n - ns[0]) / max(1, ns[-1] - ns[0]) * (270)
        sy = lambda v: H - PAD - min(v, ymax) / ymax * (H - PAD - 30)
        for n in ns:
            out.append(f'<text x="{sx(n):.0f}" y="{H - PAD + 16}" font-size="11" text-anchor="middle">{n}</text>')
        for frac in (0, 0.5, 1):
            out.append(f'<text x="{x0 + PAD - 6}" y="{sy(ymax * frac) + 4:.0f}" font-size="11" text-anchor="end">{ymax * frac:g}</text>')
        out.append(f'<text x="{x0 + 185}" y="{H - 12}" font-size="12" text-anchor="middle">participants (N)</text>')
        for sfu, colour in colours.items():
            pts = [(n, med(steps[("S1", n, sfu)], key)) for n in ns if ("S1", n, sfu) in steps]
            pts = [(n, v) for n, v in pts if v is not None]
            if pts:
                path = " ".join(f"{sx(n):.1f},{sy(v):.1f}" for n, v in pts)
                out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>')
                out += [f'<circle cx="{sx(n):.1f}" cy="{sy(v):.1f}" r="3" fill="{colour}"/>' for n, v in pts]
        return out

    body = panel(0, "sfu_cpu_pct", "S1: SFU CPU, % of one core", 100) + \
        panel(360, "delay_p99_ms", "S1: delay p99, ms (clipped at 50)", 50)
    legend = [f'<rect x="{440 + 80 * i}" y="36" width="12" height="12" fill="{c}"/>'
              f'<text x="{456 + 80 * i}" y="46" font-size="12">{s.capitalize()}</text>'
              for i, (s, c) in enumerate(colours.items())]
    with open(SVG, "w") as f:
        f.write(f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif">'
                '<rect width="100%" height="100%" fill="white"/>' + "".join(body + legend) + "</svg>\n")
    print(f"\n(plot written to {SVG})", file=sys.stderr)
