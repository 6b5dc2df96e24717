//! Transport-wide congestion control (TWCC) only where the server receives.
//!
//! TWCC feedback lets a browser estimate how fast it may send: the server gives it for every
//! track it receives. For the tracks the server sends, the feedback would feed a bandwidth
//! estimate the server does not make (it forwards what publishers send), yet str0m would
//! still number every packet and keep a record of the last 1000 sent per participant
//! (~90 KB), and every receiving browser would send feedback for the server to parse. So the
//! extension and its `rtcp-fb` are left out of the m-lines where media flows from the server.

const TWCC_URI: &str = "transport-wide-cc-extensions";
const TWCC_FEEDBACK: &str = " transport-cc";

/// Whose SDP it is: the direction attribute of an m-line where the server sends reads
/// `sendonly` in the server's SDP and `recvonly` in the browser's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Writer {
    Server,
    Browser,
}

/// `sdp` without TWCC on the m-lines where the server sends; every other line as it was.
pub fn without_send_side_twcc(sdp: &str, writer: Writer) -> String {
    let server_sends = match writer {
        Writer::Server => "a=sendonly",
        Writer::Browser => "a=recvonly",
    };
    let mut out = String::with_capacity(sdp.len());
    let mut rest = sdp;
    while !rest.is_empty() {
        // A section runs from one "m=" line to the next (the first, the session, from the start).
        let end = rest.find("\nm=").map_or(rest.len(), |i| i + 1);
        let (section, after) = rest.split_at(end);
        let sends =
            section.starts_with("m=") && section.lines().any(|l| l.trim_end() == server_sends);
        if sends {
            for line in section.split_inclusive('\n').filter(|l| !is_twcc_line(l)) {
                out.push_str(line);
            }
        } else {
            out.push_str(section);
        }
        rest = after;
    }
    out
}

fn is_twcc_line(line: &str) -> bool {
    let line = line.trim_end();
    (line.starts_with("a=extmap:") && line.contains(TWCC_URI))
        || (line.starts_with("a=rtcp-fb:") && line.ends_with(TWCC_FEEDBACK))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWCC_EXT: &str =
        "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n";

    fn media(direction: &str) -> String {
        format!(
            "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\n\
             a=extmap:2 urn:ietf:params:rtp-hdrext:sdes:mid\r\n{TWCC_EXT}a={direction}\r\n\
             a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 transport-cc\r\na=rtcp-fb:96 nack\r\n"
        )
    }

    const SESSION: &str = "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n";

    #[test]
    fn only_the_lines_where_the_server_sends_lose_twcc() {
        let sdp = format!("{SESSION}{}{}", media("recvonly"), media("sendonly"));
        let out = without_send_side_twcc(&sdp, Writer::Server);
        let expected_send = media("sendonly")
            .replace(TWCC_EXT, "")
            .replace("a=rtcp-fb:96 transport-cc\r\n", "");
        assert_eq!(
            out,
            format!("{SESSION}{}{expected_send}", media("recvonly"))
        );
        assert!(
            expected_send.contains("a=rtcp-fb:96 nack\r\n") && expected_send.contains("sdes:mid")
        );
    }

    #[test]
    fn in_the_browsers_sdp_the_server_sends_on_its_recvonly_lines() {
        let sdp = format!("{SESSION}{}{}", media("sendonly"), media("recvonly"));
        let out = without_send_side_twcc(&sdp, Writer::Browser);
        let (publishing, receiving) = out.split_at(out.rfind("m=video").unwrap());
        assert!(publishing.contains("transport-wide-cc") && publishing.contains("96 transport-cc"));
        assert!(!receiving.contains("transport"), "{receiving}");
    }

    #[test]
    fn sdp_without_twcc_or_media_is_unchanged() {
        for sdp in [
            SESSION.to_string(),
            format!("{SESSION}{}", media("sendrecv")),
            String::new(),
            "m=".into(),
        ] {
            assert_eq!(without_send_side_twcc(&sdp, Writer::Server), sdp);
        }
        let lf_only = format!("{SESSION}{}", media("sendonly")).replace("\r\n", "\n");
        assert!(!without_send_side_twcc(&lf_only, Writer::Server).contains("transport"));
    }
}
