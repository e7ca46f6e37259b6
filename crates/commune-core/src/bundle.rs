//! The bundle file: a council's events on a USB stick.
//!
//! Owns the bytes of the format (docs/event-format.md, "Bundles"): a header, then frames,
//! then a signed trailer. Each frame is a 4-byte marker, a 4-byte big-endian length and the
//! payload; an event frame's payload is one event's exact signed bytes, so every frame
//! proves itself. A damaged frame is skipped by scanning for the next marker. Must not read
//! files: the binary streams bytes through [`next_frame`].

use minicbor::{Decode, Encode};

use crate::id::PublicKey;
use crate::keys::{self, Keypair, Signature};

/// The first bytes of every bundle: a name and the format version.
pub const HEADER: &[u8; 16] = b"commune-bundle\n\x01";
/// The marker of an event frame.
pub const EVENT: &[u8; 4] = b"CMEV";
/// The marker of the trailer frame.
pub const TRAILER: &[u8; 4] = b"CMTR";
/// The largest frame payload: an event is at most `MAX_EVENT_BYTES`.
pub const MAX_FRAME: usize = crate::event::MAX_EVENT_BYTES;

/// One frame's bytes for an event.
pub fn event_frame(event_bytes: &[u8]) -> Vec<u8> {
    frame(EVENT, event_bytes)
}

fn frame(marker: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + payload.len());
    out.extend_from_slice(marker);
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// What the start of a buffer holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame<'a> {
    /// An event frame of `len` bytes in all.
    Event { payload: &'a [u8], len: usize },
    /// The trailer frame of `len` bytes in all.
    Trailer { payload: &'a [u8], len: usize },
    /// The buffer ends inside a frame: read at least this many bytes in all, or the file
    /// is truncated.
    Need(usize),
    /// These bytes are not a frame: skip them (up to the next marker, or all but the last
    /// three bytes, which may start one).
    Garbage(usize),
}

/// Reads the frame at the start of `buffer`.
pub fn next_frame(buffer: &[u8]) -> Frame<'_> {
    if buffer.len() < 8 {
        return if could_start_marker(buffer) {
            Frame::Need(8)
        } else {
            Frame::Garbage(1)
        };
    }
    let marker: &[u8; 4] = buffer[..4].try_into().expect("4 bytes");
    if marker != EVENT && marker != TRAILER {
        return Frame::Garbage(find_marker(&buffer[1..]).map_or(buffer.len() - 3, |at| at + 1));
    }
    let len = u32::from_be_bytes(buffer[4..8].try_into().expect("4 bytes")) as usize;
    if len > MAX_FRAME {
        return Frame::Garbage(find_marker(&buffer[1..]).map_or(buffer.len() - 3, |at| at + 1));
    }
    if buffer.len() < 8 + len {
        return Frame::Need(8 + len);
    }
    let payload = &buffer[8..8 + len];
    if marker == EVENT {
        Frame::Event {
            payload,
            len: 8 + len,
        }
    } else {
        Frame::Trailer {
            payload,
            len: 8 + len,
        }
    }
}

fn find_marker(buffer: &[u8]) -> Option<usize> {
    buffer
        .windows(4)
        .position(|window| window == EVENT || window == TRAILER)
}

/// Whether the buffer (shorter than a marker and length) could be the start of a frame.
fn could_start_marker(buffer: &[u8]) -> bool {
    let n = buffer.len().min(4);
    buffer[..n] == EVENT[..n] || buffer[..n] == TRAILER[..n]
}

/// What a bundle's first 16 bytes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Header {
    /// The version 1 header, whole.
    Whole,
    /// A version 1 header with a few bits damaged, followed by a frame that reads: the
    /// frames prove themselves, so the reader goes on past it.
    Damaged,
    /// The header of another version of the format.
    Version(u8),
    /// Not a bundle.
    NotBundle,
}

/// The most bits of a damaged header that still make it a version 1 header (when a readable
/// frame follows it).
const HEADER_DAMAGE_BITS: u32 = 8;

/// Reads the header (`start`, the first 16 bytes of the file) with the bytes that follow it
/// (`rest`, at least one frame's worth when the file has one). A header one bit off a
/// version's byte is read as damage only when a frame that decodes follows it; another
/// version's exact header is that version.
pub fn read_header(start: &[u8], rest: &[u8]) -> Header {
    if start == HEADER {
        return Header::Whole;
    }
    let bits: u32 = start
        .iter()
        .zip(HEADER.iter())
        .map(|(a, b)| (a ^ b).count_ones())
        .sum();
    let name_whole = start.len() == HEADER.len() && start[..15] == HEADER[..15];
    let damaged = start.len() == HEADER.len()
        && bits <= HEADER_DAMAGE_BITS
        && (!name_whole || bits == 1)
        && readable_frame(rest);
    if damaged {
        Header::Damaged
    } else if name_whole {
        Header::Version(start[15])
    } else {
        Header::NotBundle
    }
}

/// Whether `buffer` starts with a frame whose payload decodes.
fn readable_frame(buffer: &[u8]) -> bool {
    match next_frame(buffer) {
        Frame::Event { payload, .. } => crate::Event::decode(payload).is_ok(),
        Frame::Trailer { payload, .. } => minicbor::decode::<Trailer>(payload).is_ok(),
        Frame::Need(_) | Frame::Garbage(_) => false,
    }
}

/// The signed end of a bundle: how many event frames came before it, the BLAKE3 hash of
/// their payloads in order, who wrote the bundle and when.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Trailer {
    #[n(0)]
    pub frames: u64,
    #[n(1)]
    #[cbor(with = "minicbor::bytes")]
    pub digest: [u8; 32],
    #[n(2)]
    pub signer: PublicKey,
    #[n(3)]
    pub time_ms: u64,
    #[n(4)]
    #[cbor(with = "minicbor::bytes")]
    pub signature: [u8; 64],
}

/// Hashes the event payloads of a bundle, in order, for its trailer.
#[derive(Debug, Clone)]
pub struct Digest {
    hasher: blake3::Hasher,
    pub frames: u64,
}

impl Default for Digest {
    fn default() -> Self {
        Digest {
            hasher: blake3::Hasher::new_derive_key("commune bundle frames v1"),
            frames: 0,
        }
    }
}

impl Digest {
    pub fn add(&mut self, payload: &[u8]) {
        self.hasher.update(&(payload.len() as u64).to_le_bytes());
        self.hasher.update(payload);
        self.frames += 1;
    }

    pub fn finish(&self) -> [u8; 32] {
        *self.hasher.finalize().as_bytes()
    }
}

fn trailer_message(frames: u64, digest: &[u8; 32], time_ms: u64) -> Vec<u8> {
    let mut message = b"commune/bundle/v1\0".to_vec();
    message.extend_from_slice(&frames.to_be_bytes());
    message.extend_from_slice(digest);
    message.extend_from_slice(&time_ms.to_be_bytes());
    message
}

impl Trailer {
    /// The trailer frame for the frames hashed into `digest`.
    pub fn frame(digest: &Digest, keypair: &Keypair, time_ms: u64) -> Vec<u8> {
        let hash = digest.finish();
        let signature = keypair.sign(&trailer_message(digest.frames, &hash, time_ms));
        let trailer = Trailer {
            frames: digest.frames,
            digest: hash,
            signer: keypair.public(),
            time_ms,
            signature: signature.0,
        };
        frame(
            TRAILER,
            &minicbor::to_vec(&trailer).expect("writing to a Vec cannot fail"),
        )
    }

    /// Checks a trailer's payload against the frames read before it. The events prove
    /// themselves whatever this says; the trailer tells whether the file is whole and who
    /// wrote it.
    pub fn check(payload: &[u8], digest: &Digest) -> Result<Trailer, String> {
        let trailer: Trailer =
            minicbor::decode(payload).map_err(|e| format!("the trailer is unreadable: {e}"))?;
        keys::verify(
            &trailer.signer,
            &trailer_message(trailer.frames, &trailer.digest, trailer.time_ms),
            &Signature(trailer.signature),
        )
        .map_err(|_| "the trailer's signature does not hold".to_owned())?;
        if trailer.frames != digest.frames || trailer.digest != digest.finish() {
            return Err(format!(
                "the trailer lists {} event frames with another digest; {} were read",
                trailer.frames, digest.frames
            ));
        }
        Ok(trailer)
    }
}
