//! The payloads: any bytes under any kind decode or are refused, never panic; what decodes
//! re-encodes to bytes that decode to the same payload.
#![no_main]

use commune_core::Payload;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, bytes)) = data.split_first() else {
        return;
    };
    if let Ok(payload) = Payload::decode(u64::from(kind), bytes) {
        let encoded = payload.encode();
        let again = Payload::decode(payload.kind(), &encoded).expect("an encoded payload decodes");
        assert_eq!(again.encode(), encoded);
    }
});
