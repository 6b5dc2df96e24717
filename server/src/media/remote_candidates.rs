//! The server learns where a browser is only from its connectivity checks.
//!
//! The server runs full ICE, not ICE-lite: a browser nominates a full agent's path on its
//! first check, but an ICE-lite server's only on a later one (Chromium waits ~50 ms between
//! them), and media waits for that. A full agent would also probe the candidates a browser
//! lists in its SDP, such as addresses on its private network; the server drops them, so it
//! answers only paths the browser's own checks proved (peer-reflexive candidates: its host
//! address, its NAT's, or its TURN relay), exactly as an ICE-lite server would.

/// `sdp` without its `a=candidate:` and `a=end-of-candidates` lines.
pub fn without_candidates(sdp: &str) -> String {
    sdp.split_inclusive('\n')
        .filter(|line| !line.starts_with("a=candidate:") && !line.starts_with("a=end-of-candidates"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_are_dropped_and_every_other_line_kept() {
        let sdp = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n\
                   a=candidate:1 1 udp 2122260223 192.168.1.20 50000 typ host\r\n\
                   a=candidate:2 1 tcp 1518280447 192.168.1.20 9 typ host tcptype active\r\n\
                   a=end-of-candidates\r\na=sendonly\r\n";
        assert_eq!(
            without_candidates(sdp),
            "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=sendonly\r\n"
        );
    }
}
