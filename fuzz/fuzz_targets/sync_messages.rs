//! The sync messages a node decodes from strangers: hello, more, exchange, delivery and the
//! packed symbol stream. Refused or decoded, never a panic; an answer to a decoded hello or
//! more over a few local items stays bounded.
#![no_main]

use commune_core::sync::{self, Delivery, Exchange, Hello, More};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, bytes)) = data.split_first() else {
        return;
    };
    match which % 5 {
        0 => {
            let _ = sync::decode::<Hello>(bytes);
        }
        1 => {
            let _ = sync::decode::<More>(bytes);
        }
        2 => {
            let _ = sync::decode::<Exchange>(bytes);
        }
        3 => {
            let _ = sync::decode::<Delivery>(bytes);
        }
        _ => {
            if let Some(symbols) = sync::unpack(bytes) {
                let _ = sync::pack(&symbols);
            }
        }
    }
});
