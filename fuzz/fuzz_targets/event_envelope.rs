//! The event envelope: strict decoding never panics, and what decodes is canonical (its
//! bytes re-encode to themselves) and verifies or not without panicking.
#![no_main]

use commune_core::Event;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(event) = Event::decode(data) {
        assert_eq!(event.bytes, data);
        let again = Event::decode(&event.bytes).expect("decoded bytes decode again");
        assert_eq!(again.id, event.id);
        let _ = event.verify();
    }
});
