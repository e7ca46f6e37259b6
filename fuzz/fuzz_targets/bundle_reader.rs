//! The bundle reader's pieces in the core: the header check and the frame scanner, driven
//! over any bytes as `commune bundle import` drives them. Every step moves forward (no
//! endless loop on any input), a trailer is checked without panicking, and the bytes decoded
//! stay within the import's budget: the file four times, 16 MiB and a frame.
#![no_main]

use commune_core::Event;
use commune_core::bundle::{self, Digest, Frame, Trailer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (start, rest) = data.split_at(data.len().min(16));
    if matches!(
        bundle::read_header(start, rest),
        bundle::Header::NotBundle | bundle::Header::Version(_)
    ) {
        return;
    }
    let budget = (rest.len() as u64) * 4 + (16 << 20);
    let (mut at, mut searched, mut examined) = (0usize, 0u64, 0u64);
    let mut digest = Digest::default();
    while at < rest.len() {
        match bundle::next_frame(&rest[at..]) {
            Frame::Event { payload, len } => {
                examined += payload.len() as u64;
                if Event::decode(payload).is_ok() {
                    digest.add(payload);
                    at += len;
                } else {
                    searched += payload.len() as u64;
                    at += if searched <= budget { 1 } else { len };
                }
            }
            Frame::Trailer { payload, len } => {
                let _ = Trailer::check(payload, &digest);
                at += len;
            }
            Frame::Need(n) => {
                assert!(
                    n > rest.len() - at,
                    "Need({n}) with {} bytes left",
                    rest.len() - at
                );
                break;
            }
            Frame::Garbage(len) => {
                assert!(len > 0, "a garbage step of no bytes");
                at += len;
            }
        }
    }
    assert!(examined <= budget + rest.len() as u64 + bundle::MAX_FRAME as u64);
});
