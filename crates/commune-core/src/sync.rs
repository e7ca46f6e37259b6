//! Set reconciliation for sync: which events one node has that another lacks, in few round
//! trips and few bytes, whatever the transport.
//!
//! Owns the rateless invertible Bloom lookup table (Yang, Gilad, Alizadeh, "Practical
//! Rateless Set Reconciliation", SIGCOMM 2024) over event ids, the difference estimator built
//! from it, and the sync messages with their CBOR form. Deciding what to answer is pure
//! ([`answer`], [`resolve`]); the binary carries the messages and the events. Must not touch
//! the store or the network.
//!
//! The idea: each side turns its set of ids into a stream of coded symbols, each the XOR of
//! the ids mapped to it, a checksum and a count. Item `x` is in symbol `i` with probability
//! 1/(1 + i/2). Subtracting one side's symbols from the other's cancels every shared id, and
//! the ~1.35·d first symbols of the difference peel into the d differing ids. The sender
//! needs no estimate of d to make the stream, but a request/response transport must pick a
//! length, so the first message carries a small estimator: the first symbols of the stream
//! for the whole set and for samples of 1/4, 1/16, … of it. The answerer finds the largest
//! sample whose difference peels, and scales its size up.
//!
//! Item positions are keyed by a salt the asking side draws for each sync, so no author can
//! grind event ids that collide for everyone.

use std::collections::VecDeque;
use std::ops::Range;

use minicbor::{Decode, Encode};

use crate::id::EventId;

/// The full symbols of level 0 of the estimator (the start of the stream itself).
pub const ESTIMATOR_SYMBOLS: usize = 32;
/// The light symbols of each sampled level: enough to count 30 to 40 differing ids, so that
/// the finest level that peels gives an estimate within about a quarter.
pub const LIGHT_SYMBOLS: usize = 64;
/// The most estimator levels a hello may carry: samples down to 1/4^12 of the set.
pub const MAX_LEVELS: usize = 13;
/// The most symbols one answer carries: enough for a difference of about 700,000 ids.
pub const MAX_SYMBOLS: u64 = 1 << 20;
/// Bytes of one symbol on the wire: 32 of id sum, 8 of checksum, 1 of count (mod 256).
pub const SYMBOL_BYTES: usize = 41;
/// Bytes of one estimator symbol above level 0: 8 of checksum, 4 of verifier, 1 of count.
/// Counting a sample's difference needs no ids, only the checksums that place them.
pub const LIGHT_BYTES: usize = 13;
/// Bytes of an id prefix used to name an event across the wire.
pub const PREFIX_BYTES: usize = 8;

/// The key of an id under a sync's salt: where it goes in the stream, and its checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    pub id: EventId,
    check: u64,
    sample: u64,
}

/// The salted hasher both sides of one sync use.
#[derive(Debug, Clone)]
pub struct Keyer {
    key: [u8; 32],
}

impl Keyer {
    pub fn new(salt: &[u8; 16]) -> Keyer {
        Keyer {
            key: blake3::derive_key("commune sync riblt v1", salt),
        }
    }

    pub fn item(&self, id: EventId) -> Item {
        let hash = blake3::keyed_hash(&self.key, id.as_bytes());
        let bytes = hash.as_bytes();
        Item {
            id,
            check: u64::from_le_bytes(bytes[0..8].try_into().expect("8 bytes")),
            sample: u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes")),
        }
    }

    pub fn items(&self, ids: &[EventId]) -> Vec<Item> {
        ids.iter().map(|id| self.item(*id)).collect()
    }
}

impl Item {
    /// The item's symbol indexes, in increasing order, starting at 0 (every item is in the
    /// first symbol). The gaps follow the paper's sampling rule, so that the item is in
    /// symbol `i` with probability 1/(1 + i/2); the arithmetic is IEEE (a square root and
    /// basic operations), so every platform draws the same indexes.
    fn indexes(&self) -> Indexes {
        indexes_of(self.check)
    }

    fn in_level(&self, level: usize) -> bool {
        self.sample.leading_zeros() as usize >= 2 * level
    }
}

fn indexes_of(check: u64) -> Indexes {
    Indexes {
        state: check,
        next: 0,
    }
}

/// A second, shorter checksum derived from the first, so that a light symbol can tell a
/// single item from a mixture without its id.
fn verifier(check: u64) -> u32 {
    let mut z = check ^ 0xa076_1d64_78bd_642f;
    z = (z ^ (z >> 32)).wrapping_mul(0xe703_7ed1_a0b4_28db);
    (z >> 32) as u32
}

struct Indexes {
    state: u64,
    next: u64,
}

impl Iterator for Indexes {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        let current = self.next;
        // splitmix64: a fixed, well-mixed sequence from the item's checksum.
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        let r = (z >> 11) as f64 / (1u64 << 53) as f64;
        let gap = ((current as f64 + 1.5) * (1.0 / (1.0 - r).sqrt() - 1.0)).ceil();
        let gap = if gap.is_finite() && gap < (1u64 << 62) as f64 {
            (gap as u64).max(1)
        } else {
            1 << 62
        };
        self.next = current.saturating_add(gap);
        Some(current)
    }
}

/// One coded symbol: the XOR of the ids mapped to it, of their checksums, and their count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Symbol {
    sum: [u8; 32],
    check: u64,
    count: i64,
}

impl Symbol {
    fn toggle(&mut self, item: &Item, sign: i64) {
        for (s, b) in self.sum.iter_mut().zip(item.id.as_bytes()) {
            *s ^= b;
        }
        self.check ^= item.check;
        self.count += sign;
    }

    fn is_empty(&self) -> bool {
        self.sum == [0; 32] && self.check == 0 && self.count as u8 == 0
    }
}

/// The coded symbols `range` of the stream for `items`.
pub fn encode(items: &[Item], range: Range<u64>) -> Vec<Symbol> {
    let mut symbols = vec![Symbol::default(); (range.end - range.start) as usize];
    for item in items {
        for index in item.indexes() {
            if index >= range.end {
                break;
            }
            if index >= range.start {
                symbols[(index - range.start) as usize].toggle(item, 1);
            }
        }
    }
    symbols
}

/// Packs symbols for the wire: [`SYMBOL_BYTES`] each, the count modulo 256 (the peeling
/// only needs to tell ±1, and the checksum catches the rest).
pub fn pack(symbols: &[Symbol]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(symbols.len() * SYMBOL_BYTES);
    for symbol in symbols {
        bytes.extend_from_slice(&symbol.sum);
        bytes.extend_from_slice(&symbol.check.to_le_bytes());
        bytes.push(symbol.count as u8);
    }
    bytes
}

/// Unpacks symbols from the wire; `None` if the length is not a whole number of symbols.
pub fn unpack(bytes: &[u8]) -> Option<Vec<Symbol>> {
    if !bytes.len().is_multiple_of(SYMBOL_BYTES) {
        return None;
    }
    Some(
        bytes
            .chunks_exact(SYMBOL_BYTES)
            .map(|chunk| Symbol {
                sum: chunk[..32].try_into().expect("32 bytes"),
                check: u64::from_le_bytes(chunk[32..40].try_into().expect("8 bytes")),
                count: i64::from(chunk[40] as i8),
            })
            .collect(),
    )
}

/// An estimator symbol above level 0: the XOR of the checksums of its items, of their
/// verifiers, and their count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Light {
    check: u64,
    verify: u32,
    count: i64,
}

impl Light {
    fn toggle(&mut self, check: u64, sign: i64) {
        self.check ^= check;
        self.verify ^= verifier(check);
        self.count += sign;
    }
}

fn encode_light(items: &[Item], length: u64, level: usize) -> Vec<Light> {
    let mut symbols = vec![Light::default(); length as usize];
    for item in items.iter().filter(|item| item.in_level(level)) {
        for index in item.indexes().take_while(|i| *i < length) {
            symbols[index as usize].toggle(item.check, 1);
        }
    }
    symbols
}

fn pack_light(symbols: &[Light]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(symbols.len() * LIGHT_BYTES);
    for symbol in symbols {
        bytes.extend_from_slice(&symbol.check.to_le_bytes());
        bytes.extend_from_slice(&symbol.verify.to_le_bytes());
        bytes.push(symbol.count as u8);
    }
    bytes
}

fn unpack_light(bytes: &[u8]) -> Option<Vec<Light>> {
    if !bytes.len().is_multiple_of(LIGHT_BYTES) {
        return None;
    }
    Some(
        bytes
            .chunks_exact(LIGHT_BYTES)
            .map(|chunk| Light {
                check: u64::from_le_bytes(chunk[..8].try_into().expect("8 bytes")),
                verify: u32::from_le_bytes(chunk[8..12].try_into().expect("4 bytes")),
                count: i64::from(chunk[12] as i8),
            })
            .collect(),
    )
}

/// How many items differ between two light streams, if the difference peels.
fn count_light(remote: &[Light], local: &[Light]) -> Option<u64> {
    let mut cells: Vec<Light> = remote
        .iter()
        .zip(local)
        .map(|(r, l)| Light {
            check: r.check ^ l.check,
            verify: r.verify ^ l.verify,
            count: i64::from((r.count as u8).wrapping_sub(l.count as u8) as i8),
        })
        .collect();
    let mut found = 0u64;
    let mut queue: VecDeque<usize> = (0..cells.len()).collect();
    while let Some(index) = queue.pop_front() {
        if found > cells.len() as u64 {
            return None;
        }
        let cell = cells[index];
        let Some(sign) = single(cell.count) else {
            continue;
        };
        if cell.verify != verifier(cell.check) {
            continue;
        }
        for at in indexes_of(cell.check) {
            let Some(other) = cells.get_mut(at as usize) else {
                break;
            };
            other.toggle(cell.check, -sign);
            queue.push_back(at as usize);
        }
        found += 1;
    }
    cells
        .iter()
        .all(|c| c.check == 0 && c.verify == 0 && c.count as u8 == 0)
        .then_some(found)
}

/// The sign of a cell that may hold a single item. Counts travel modulo 256, so a busy cell's
/// count is known only modulo 256 and is compared that way (the check sorts out the rest):
/// comparing it as a small signed number would never find a cell pure again once its true
/// count had passed 127, and the items only such cells hold would never peel.
fn single(count: i64) -> Option<i64> {
    match count.rem_euclid(256) {
        1 => Some(1),
        255 => Some(-1),
        _ => None,
    }
}

/// What peeling a difference found: the ids only the remote side has, and those only the
/// local side has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Difference {
    pub remote_only: Vec<EventId>,
    pub local_only: Vec<EventId>,
}

impl Difference {
    pub fn len(&self) -> usize {
        self.remote_only.len() + self.local_only.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Peels `remote − local` (symbol by symbol, over the same range starting at 0). Returns the
/// difference if every symbol empties, `None` if more symbols are needed.
pub fn peel(keyer: &Keyer, remote: &[Symbol], local: &[Symbol]) -> Option<Difference> {
    let mut cells: Vec<Symbol> = remote
        .iter()
        .zip(local)
        .map(|(r, l)| {
            let mut cell = *r;
            for (s, b) in cell.sum.iter_mut().zip(&l.sum) {
                *s ^= b;
            }
            cell.check ^= l.check;
            // Counts travel modulo 256: the difference is read as a small signed number.
            cell.count = i64::from((r.count as u8).wrapping_sub(l.count as u8) as i8);
            cell
        })
        .collect();
    let mut difference = Difference::default();
    let mut queue: VecDeque<usize> = (0..cells.len()).collect();
    while let Some(index) = queue.pop_front() {
        // An honest difference never peels more ids than there are symbols; crafted symbols
        // could make the peeling go round, so stop there.
        if difference.len() > cells.len() {
            return None;
        }
        let cell = cells[index];
        let Some(sign) = single(cell.count) else {
            continue;
        };
        let item = keyer.item(EventId(cell.sum));
        if item.check != cell.check {
            continue;
        }
        for at in item.indexes() {
            let Some(other) = cells.get_mut(at as usize) else {
                break;
            };
            other.toggle(&item, -sign);
            queue.push_back(at as usize);
        }
        if sign == 1 {
            difference.remote_only.push(item.id);
        } else {
            difference.local_only.push(item.id);
        }
    }
    cells.iter().all(Symbol::is_empty).then_some(difference)
}

/// The first eight bytes of an id: how a sync names an event it wants. A prefix may match
/// more than one event; the answerer sends all of them and the asker checks each.
pub fn prefix(id: &EventId) -> [u8; PREFIX_BYTES] {
    id.0[..PREFIX_BYTES].try_into().expect("8 bytes")
}

/// The hash of a set of heads (sorted): equal hashes mean equal logs, since a log holds the
/// whole past of its heads.
pub fn heads_hash(heads: &[EventId]) -> [u8; 32] {
    let mut sorted = heads.to_vec();
    sorted.sort();
    let mut hasher = blake3::Hasher::new_derive_key("commune sync heads v1");
    for head in &sorted {
        hasher.update(head.as_bytes());
    }
    *hasher.finalize().as_bytes()
}

/// The first message of a sync: the asker's heads hash, its size, and the estimator.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Hello {
    #[n(0)]
    #[cbor(with = "minicbor::bytes")]
    pub heads_hash: [u8; 32],
    #[n(1)]
    pub count: u64,
    #[n(2)]
    #[cbor(with = "minicbor::bytes")]
    pub salt: [u8; 16],
    /// Packed symbols per level: level 0 is the start of the whole stream
    /// ([`SYMBOL_BYTES`] each), level k the start of the stream of the ids sampled at 1/4^k,
    /// as light symbols ([`LIGHT_BYTES`] each).
    #[n(3)]
    pub levels: Vec<minicbor::bytes::ByteVec>,
}

impl Hello {
    /// The hello for a set of ids: as many levels as the set needs for its samples to reach a
    /// few ids.
    pub fn new(heads_hash: [u8; 32], items: &[Item], salt: [u8; 16]) -> Hello {
        Hello {
            heads_hash,
            count: items.len() as u64,
            salt,
            levels: (0..levels_for(items.len() as u64))
                .map(|level| match level {
                    0 => pack(&encode(items, 0..ESTIMATOR_SYMBOLS as u64)).into(),
                    _ => pack_light(&encode_light(items, LIGHT_SYMBOLS as u64, level)).into(),
                })
                .collect(),
        }
    }
}

fn levels_for(count: u64) -> usize {
    let mut levels = 1;
    while levels < MAX_LEVELS && 4u64.pow(levels as u32) * 4 <= count {
        levels += 1;
    }
    levels
}

/// The answer to a [`Hello`].
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum Answer {
    /// The heads are equal: nothing to do.
    #[n(0)]
    Same,
    /// The answerer peeled the whole difference from the hello: the prefixes of the events
    /// the asker lacks and of those the answerer lacks.
    #[n(1)]
    Difference {
        #[n(0)]
        asker_lacks: Vec<minicbor::bytes::ByteArray<PREFIX_BYTES>>,
        #[n(1)]
        answerer_lacks: Vec<minicbor::bytes::ByteArray<PREFIX_BYTES>>,
    },
    /// The start of the answerer's stream, as long as the estimate says the difference
    /// needs. Ask for more with [`More`] if it does not peel.
    #[n(2)]
    Symbols {
        #[n(0)]
        count: u64,
        #[n(1)]
        symbols: minicbor::bytes::ByteVec,
    },
    /// The asker holds so little next to the answerer that a list of every id the answerer
    /// holds (as [`PREFIX_BYTES`]-byte prefixes, packed) is smaller than a stream: the asker
    /// works the difference out with [`listing_difference`].
    #[n(3)]
    Listing {
        #[n(0)]
        prefixes: minicbor::bytes::ByteVec,
    },
}

/// A request for more of the answerer's stream, under the hello's salt.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct More {
    #[n(0)]
    #[cbor(with = "minicbor::bytes")]
    pub salt: [u8; 16],
    #[n(1)]
    pub from: u64,
    #[n(2)]
    pub to: u64,
}

/// Why a sync message is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    #[error("the message is not valid CBOR for this sync step: {0}")]
    Malformed(String),
    #[error("the hello carries {0} estimator levels; at most {MAX_LEVELS} are allowed")]
    TooManyLevels(usize),
    #[error(
        "an estimator level or symbol list is not a whole number of {SYMBOL_BYTES}-byte symbols, or too long"
    )]
    BadSymbols,
    #[error("the symbol range {0}..{1} is empty or longer than {MAX_SYMBOLS}")]
    BadRange(u64, u64),
}

/// Decodes a sync message, refusing trailing bytes.
pub fn decode<'b, T: Decode<'b, ()>>(bytes: &'b [u8]) -> Result<T, SyncError> {
    let mut decoder = minicbor::Decoder::new(bytes);
    let value = decoder
        .decode()
        .map_err(|error| SyncError::Malformed(error.to_string()))?;
    if decoder.position() != bytes.len() {
        return Err(SyncError::Malformed("trailing bytes".into()));
    }
    Ok(value)
}

/// Encodes a sync message.
pub fn encode_message<T: Encode<()>>(message: &T) -> Vec<u8> {
    minicbor::to_vec(message).expect("writing to a Vec cannot fail")
}

/// The answerer's side of a hello: `items` are the answerer's ids keyed under the hello's
/// salt (see [`Keyer`]), `heads_hash` its own.
pub fn answer(hello: &Hello, heads_hash: [u8; 32], items: &[Item]) -> Result<Answer, SyncError> {
    if hello.heads_hash == heads_hash {
        return Ok(Answer::Same);
    }
    if hello.levels.len() > MAX_LEVELS {
        return Err(SyncError::TooManyLevels(hello.levels.len()));
    }
    let keyer = Keyer::new(&hello.salt);
    let mut estimate = None;
    if let Some(packed) = hello.levels.first() {
        let theirs = unpack(packed).ok_or(SyncError::BadSymbols)?;
        if theirs.len() > ESTIMATOR_SYMBOLS {
            return Err(SyncError::BadSymbols);
        }
        let mine = encode(items, 0..theirs.len() as u64);
        // The answerer is "local" here: remote_only is what the asker has and we lack.
        if let Some(difference) = peel(&keyer, &theirs, &mine) {
            let prefixes = |ids: &[EventId]| ids.iter().map(|id| prefix(id).into()).collect();
            return Ok(Answer::Difference {
                asker_lacks: prefixes(&difference.local_only),
                answerer_lacks: prefixes(&difference.remote_only),
            });
        }
    }
    for (level, packed) in hello.levels.iter().enumerate().skip(1) {
        let theirs = unpack_light(packed).ok_or(SyncError::BadSymbols)?;
        if theirs.len() > LIGHT_SYMBOLS {
            return Err(SyncError::BadSymbols);
        }
        let mine = encode_light(items, theirs.len() as u64, level);
        if let Some(count) = count_light(&theirs, &mine) {
            estimate = Some(count * 4u64.pow(level as u32));
            break;
        }
    }
    // No sample peeled: the difference is about as large as both sets together.
    let estimate = estimate.unwrap_or(hello.count + items.len() as u64);
    let length = symbols_for(estimate);
    if length * SYMBOL_BYTES as u64 >= items.len() as u64 * PREFIX_BYTES as u64 {
        return Ok(Answer::Listing {
            prefixes: items
                .iter()
                .flat_map(|item| prefix(&item.id))
                .collect::<Vec<u8>>()
                .into(),
        });
    }
    Ok(Answer::Symbols {
        count: items.len() as u64,
        symbols: pack(&encode(items, 0..length)).into(),
    })
}

/// How many symbols to send for an estimated difference (1.4·d + 16): the stream peels after about 1.35·d
/// symbols for large d and needs relatively more for small d; a miss costs one more round
/// trip (see [`More`]), not a failure.
pub fn symbols_for(estimate: u64) -> u64 {
    (estimate.saturating_mul(7) / 5 + 16).clamp(ESTIMATOR_SYMBOLS as u64, MAX_SYMBOLS)
}

/// The answerer's side of a [`More`].
pub fn more(request: &More, items: &[Item]) -> Result<Vec<u8>, SyncError> {
    if request.from >= request.to || request.to - request.from > MAX_SYMBOLS {
        return Err(SyncError::BadRange(request.from, request.to));
    }
    Ok(pack(&encode(items, request.from..request.to)))
}

/// The asker's side of a [`Answer::Listing`]: the prefixes it lacks, and its ids the
/// answerer lacks. `None` if the listing is not a whole number of prefixes.
pub fn listing_difference(
    listing: &[u8],
    items: &[Item],
) -> Option<(Vec<[u8; PREFIX_BYTES]>, Vec<EventId>)> {
    if !listing.len().is_multiple_of(PREFIX_BYTES) {
        return None;
    }
    let theirs: std::collections::HashSet<[u8; PREFIX_BYTES]> = listing
        .chunks_exact(PREFIX_BYTES)
        .map(|chunk| chunk.try_into().expect("8 bytes"))
        .collect();
    let mine: std::collections::HashSet<[u8; PREFIX_BYTES]> =
        items.iter().map(|item| prefix(&item.id)).collect();
    let lacking = theirs.difference(&mine).copied().collect();
    let extra = items
        .iter()
        .filter(|item| !theirs.contains(&prefix(&item.id)))
        .map(|item| item.id)
        .collect();
    Some((lacking, extra))
}

/// The asker's side: the symbols received so far (from 0) against its own items. `None`
/// means ask for more.
pub fn resolve(keyer: &Keyer, remote: &[Symbol], items: &[Item]) -> Option<Difference> {
    let mine = encode(items, 0..remote.len() as u64);
    peel(keyer, remote, &mine)
}

/// The last step of a sync: events the asker sends, and the events it wants, named by id
/// prefixes (1 to 32 bytes; [`PREFIX_BYTES`] usually).
#[derive(Debug, Clone, PartialEq, Eq, Default, Encode, Decode)]
pub struct Exchange {
    #[n(0)]
    pub want: Vec<minicbor::bytes::ByteVec>,
    #[n(1)]
    pub push: Vec<minicbor::bytes::ByteVec>,
}

/// The answer to an [`Exchange`]: the wanted events in (depth, id) order, and what became of
/// the pushed ones.
#[derive(Debug, Clone, PartialEq, Eq, Default, Encode, Decode)]
pub struct Delivery {
    #[n(0)]
    pub events: Vec<minicbor::bytes::ByteVec>,
    #[n(1)]
    pub new: u64,
    #[n(2)]
    pub duplicate: u64,
    #[n(3)]
    pub invalid: Vec<String>,
    /// Parents the answerer lacks to store some pushed events: push them too.
    #[n(4)]
    pub missing: Vec<minicbor::bytes::ByteArray<32>>,
}
