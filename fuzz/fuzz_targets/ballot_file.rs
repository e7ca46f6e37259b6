//! The ballot file readers (PrefLib, BLT, commune JSON), on any bytes in each format and by
//! content: a ballot file or one clear error, never a panic, and never more memory than the
//! file's ballots take (a count is a weight, not copies).
#![no_main]
#![allow(dead_code)]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/commune/src/ballot_file.rs"]
mod ballot_file;

use ballot_file::Format;

fuzz_target!(|data: &[u8]| {
    let Some((&which, bytes)) = data.split_first() else {
        return;
    };
    let format = match which % 4 {
        0 => Some(Format::Preflib),
        1 => Some(Format::Blt),
        2 => Some(Format::Json),
        _ => None,
    };
    if let Ok(file) = ballot_file::read_from(bytes, "fuzz", format) {
        assert!(file.profile.total_weight() <= commune_core::methods::MAX_TOTAL_WEIGHT);
    }
});
