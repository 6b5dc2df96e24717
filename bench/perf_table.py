#!/usr/bin/env python3
"""bench/perf-s1.sh's profiles as a Markdown table: where the media thread's user space goes,
in µs per egress packet (issue 25).

    python3 bench/perf_table.py before=DIR[,DIR...] after=DIR[,DIR...]

Each DIR holds `script.txt` (`perf script` of a `cpu-clock -F 1000` recording: one sample is
1 ms) and `loadgen.json` (the generator's result line: egress packets per second; 15 s were
recorded). A user-space sample is charged to the first of these on its stack, leaf first:
inside `Rtc::forward_rtp` to the part of the copy it is in; else to the other `Rtc` entry
points (per-datagram timeout, poll, ingress); else to Haven's own code by its leaf function
(a libc `memmove`/`memset`/`malloc` by its caller). Several DIRs per label are summed.
"""
import collections
import json
import re
import sys


def load(directory):
    result = json.loads(open(directory + '/loadgen.json').read().strip().splitlines()[-1])
    samples, current = [], None
    for line in open(directory + '/script.txt'):
        if line.strip() and not line[0].isspace():
            if current:
                samples.append(current)
            current = []
            continue
        m = re.match(r'\s*([0-9a-f]+) (.*) \((.*)\)$', line)
        if m and current is not None:
            current.append((m.group(2), m.group(3)))
    if current:
        samples.append(current)
    return result['egress_pps'] * 15, samples


def where(stack):
    names = [n for n, _ in stack]
    leaf = names[0]
    if 'str0m::Rtc::forward_rtp' in names:
        inner = names[:names.index('str0m::Rtc::forward_rtp')]
        if any('aes' in n.lower() or 'gcm' in n.lower() for n in inner):
            return 'forward_rtp: SRTP seal (AES-GCM)'
        if any('SendQueue' in n or 'TotalQueue' in n for n in names[:3]):
            return 'forward_rtp: send queue (push, stamp, pop)'
        if 'rtx_cache' in leaf or any('RtxCache' in n for n in names[:2]):
            return 'forward_rtp: RTX cache insert'
        if any('register_send' in n for n in names):
            return "forward_rtp: pacer's register_send (SipHash map)"
        if 'RtpHeader::write_to' in leaf or 'Extension' in leaf or any('RtpHeader::write_to' in n for n in names[:2]):
            return 'forward_rtp: header and extensions written'
        if leaf.startswith('__mem') and len(names) > 1 and 'StreamTx' in names[1]:
            return 'forward_rtp: memmove/memset in StreamTx (payload into the buffer, header clone)'
        if leaf == 'str0m::session::Session::forward_rtp':
            return 'forward_rtp: Session::forward_rtp itself (SSRC map, m-line lookup)'
        return 'forward_rtp: other (poll_packet_of, account_sent, ...)'
    if 'str0m::Rtc::do_handle_timeout' in names:
        return "str0m: Rtc::handle_input's timeout (after every datagram)"
    if 'str0m::Rtc::poll_output' in names:
        return 'str0m: Rtc::poll_output'
    if 'str0m::Rtc::poll_timeout' in names:
        return 'str0m: Rtc::poll_timeout'
    if 'str0m::Rtc::handle_input' in names:
        return 'str0m: ingress (parse, SRTP open)'
    if any('SendBatch' in n for n in names[:3]):
        return 'Haven: send batch (grouping, sendmmsg set-up)'
    if leaf.startswith('__mem') and 'resize' in ''.join(names[1:3]):
        return 'Haven: buffer zeroing (Vec::resize)'
    if 'layer_switch' in leaf:
        return 'Haven: layer switch'
    if 'keyframe_due' in leaf:
        return 'Haven: keyframe_due (next deadline)'
    if 'malloc' in leaf or 'free' in leaf or 'realloc' in leaf:
        return 'Haven: allocation'
    if 'tokio' in leaf or 'clock_gettime' in leaf or 'Timespec' in leaf:
        return 'Haven: tokio, clock'
    if leaf.startswith('haven::') or (len(names) > 1 and names[1].startswith('haven::')):
        return 'Haven: loop itself (' + (leaf if leaf.startswith('haven::') else names[1]).split('::')[-1] + ')'
    return 'other (' + leaf[:40] + ')'


def main():
    groups = {}
    for arg in sys.argv[1:]:
        label, dirs = arg.split('=', 1)
        packets, total, user, counts = 0, 0, 0, collections.Counter()
        for d in dirs.split(','):
            p, samples = load(d)
            packets += p
            total += len(samples)
            for s in samples:
                if s and s[0][1] != '[kernel.kallsyms]':
                    user += 1
                    counts[where(s)] += 1
        groups[label] = (packets, total, user, counts)
    keys = collections.Counter()
    for g in groups.values():
        keys.update(g[3])
    labels = list(groups)
    print('| where | ' + ' | '.join(f'{l}: % of user space | {l}: µs / egress packet' for l in labels) + ' |')
    print('|---|' + '---|---|' * len(labels))
    for key, _ in keys.most_common(24):
        cells = []
        for l in labels:
            packets, _, user, counts = groups[l]
            cells += [f'{100 * counts[key] / user:.1f}', f'{counts[key] * 1000 / packets:.3f}']
        print(f'| {key} | ' + ' | '.join(cells) + ' |')
    for l in labels:
        packets, total, user, _ = groups[l]
        print(f'{l}: {total * 1000 / packets:.2f} µs / egress packet under perf, user {user * 1000 / packets:.2f}, kernel {(total - user) * 1000 / packets:.2f}')


if __name__ == '__main__':
    main()
