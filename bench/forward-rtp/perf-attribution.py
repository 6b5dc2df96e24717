"""Charges each `perf script` sample inside `Rtc::forward_rtp` to the innermost of a few str0m
functions on its stack (BENCHMARKS.md, "Slim RTX cache entry"). Input: the output of
`perf script -F comm,tid,ip,sym --no-inline` (a file name, or - for stdin)."""
import sys, re, collections
cats = [
 ("SRTP seal (protect_rtp_into)", r"protect_rtp_into"),
 ("RTX cache insert (cache_sent_packet)", r"cache_sent_packet|EvictingBuffer"),
 ("RtpHeader::write_to", r"RtpHeader::write_to"),
 ("write_rtp + send queue", r"StreamTx::write_rtp|SendQueue::"),
 ("pacer register_send / TWCC record", r"register_send|TwccSendRegister"),
 ("HashMap/SipHash", r"hashbrown|sip::Hasher|HashMap"),
 ("poll_packet_of itself (payload copy into buffer, header clone)", r"StreamTx::poll_packet_of"),
 ("StreamTx::forward_rtp itself", r"StreamTx::forward_rtp"),
 ("Session::forward_rtp itself", r"Session::forward_rtp"),
 ("Rtc::forward_rtp itself", r"Rtc::forward_rtp"),
]
tot=0; c=collections.Counter(); leafc=collections.Counter()
for block in (sys.stdin if sys.argv[1] == '-' else open(sys.argv[1])).read().split("\n\n"):
    lines=[l.strip() for l in block.strip().split("\n")[1:]]
    syms=[l.split(None,1)[1] if len(l.split(None,1))>1 else "" for l in lines]
    if not any("Rtc::forward_rtp" in s for s in syms): continue
    tot+=1
    done=False
    for s in syms:
        for name,pat in cats:
            if re.search(pat,s):
                c[name]+=1; done=True; break
        if done: break
    if not done: c["other"]+=1
    leafc[syms[0][:80]]+=1
print("samples in Rtc::forward_rtp:", tot)
for name,_ in cats+[("other","")]:
    print(f"{100*c[name]/tot:5.1f}%  {name}")
print("-- top leaf functions")
for k,v in leafc.most_common(12): print(f"{100*v/tot:5.1f}%  {k}")
