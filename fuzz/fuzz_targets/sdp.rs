//! Any SDP a member's client can send, through the media worker's own calls: as a new
//! connection's offer, as an ICE restart, as the answer to the server's first offer. A panic
//! inside str0m is caught (the peer is dropped, the worker lives on); one anywhere else, a
//! hang or runaway memory is a crash here.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(sdp) = std::str::from_utf8(data) else { return };
    haven::media::fuzz_sdp(sdp);
});
