//! Any text a client can send: decoding never panics, and whatever decodes re-encodes to
//! the same message. Display names go through the same rules the server applies.
#![no_main]

use haven::protocol::ClientMessage;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = haven::names::validate(text);
    let Ok(message) = serde_json::from_str::<ClientMessage>(text) else { return };
    let again = serde_json::to_string(&message).expect("a decoded message encodes");
    let back: ClientMessage = serde_json::from_str(&again).expect("what we encode decodes");
    assert_eq!(message, back);
});
