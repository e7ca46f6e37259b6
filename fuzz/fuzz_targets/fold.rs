//! The fold over re-signed mutated events: a council founded by Alice, then events whose
//! kinds and bodies come from the golden vectors with bytes flipped by the input, their
//! authors, parents, seqs and times chosen by the input, each signed again so that it passes
//! the signature check and reaches the fold's rules. The fold never panics, and folding the
//! same events in reverse order gives the same state (the fold sorts; convergence).
#![no_main]

use commune_core::constitution::Constitution;
use commune_core::event::{Body, Unsigned};
use commune_core::payload::{self, Payload};
use commune_core::{Event, Keypair, fold};
use libfuzzer_sys::fuzz_target;

const VECTORS: [&[u8]; 4] = [
    include_bytes!(
        "../../test_data/events/00-c206646646afbc723b88e793f768fdfea8c0d23429ba2f0fc9301447e2a871c7.cbor"
    ),
    include_bytes!(
        "../../test_data/events/01-7eb2e2e4b602e439aea08718a2895ac588caa18b654011ee8965e638b47d0cfa.cbor"
    ),
    include_bytes!(
        "../../test_data/events/02-a346a1c6eff6065efa1dbaa44f8bc3c1659c069ef1aaa4113e411e006558f74b.cbor"
    ),
    include_bytes!(
        "../../test_data/events/03-bd8597911c304c5cc45bed3662a2bf8508a88c7526acef9e1a7005b2c752af7a.cbor"
    ),
];

fn key(name: &str) -> Keypair {
    Keypair::from_seed(*blake3::hash(name.as_bytes()).as_bytes())
}

fuzz_target!(|data: &[u8]| {
    let keys = [key("alice"), key("bob"), key("carol")];
    let templates: Vec<(u64, Vec<u8>)> = VECTORS
        .iter()
        .filter_map(|bytes| Event::decode(bytes).ok())
        .filter_map(|event| Some((event.unsigned.kind, event.inline_body()?.to_vec())))
        .collect();
    let found = Payload::Found(payload::Found {
        name: "Fuzzed".to_owned(),
        constitution: Constitution::default(),
        founder_name: "Alice".to_owned(),
    });
    let genesis =
        Unsigned::genesis(keys[0].public(), 1_000, found.kind(), found.encode()).sign(&keys[0]);
    let council = genesis.council();
    let mut events = vec![genesis];
    let mut seqs = [1u64, 0, 0];
    // Each step: author, template, parent, time step, seq tweak, then flips (position, xor).
    for step in data.chunks(8).take(64) {
        let [who, template, parent, time, tweak, flips @ ..] = step else {
            break;
        };
        let who = usize::from(*who) % keys.len();
        let Some((kind, body)) = templates.get(usize::from(*template) % templates.len().max(1))
        else {
            return;
        };
        let mut body = body.clone();
        for flip in flips.chunks(2) {
            if let [at, xor] = flip
                && !body.is_empty()
            {
                let at = usize::from(*at) % body.len();
                body[at] ^= xor;
            }
        }
        let parent = &events[usize::from(*parent) % events.len()];
        seqs[who] = seqs[who]
            .wrapping_add(1)
            .wrapping_add(u64::from(*tweak % 3) / 2);
        let unsigned = Unsigned {
            council: Some(council),
            author: keys[who].public(),
            seq: seqs[who],
            parents: vec![parent.id],
            depth: parent.unsigned.depth + 1,
            time_ms: parent.unsigned.time_ms + u64::from(*time) * 60_000,
            kind: *kind,
            body: Body::Inline(body),
            encryption: None,
        };
        events.push(unsigned.sign(&keys[who]));
    }
    let forward = fold(events.iter(), |_| None).expect("the genesis is there");
    let backward = fold(events.iter().rev(), |_| None).expect("the genesis is there");
    assert_eq!(forward.state.hash(), backward.state.hash());
});
