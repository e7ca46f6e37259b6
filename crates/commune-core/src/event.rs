//! The signed event envelope: its canonical CBOR bytes, its id and its signature.
//!
//! Owns the exact bytes of `docs/event-format.md`: encoding, strict decoding (any input whose
//! bytes differ from the re-encoding of what was decoded is refused), the checks that need no
//! other event, and the checks against an event's parents. Must not interpret bodies: that is
//! the fold's job, so that an event of a kind this version does not know is still stored.

use minicbor::{Decoder, Encoder, data::Type};

use crate::id::{CouncilId, EventId, PublicKey, decode_bytes32};
use crate::keys::{self, Keypair, Signature};
use crate::payload::{self, kind};

/// The envelope version this code writes and reads.
pub const VERSION: u64 = 1;
/// The largest inline body.
pub const MAX_INLINE_BODY: usize = 64 * 1024;
/// The most parents an event may name.
pub const MAX_PARENTS: usize = 16;
/// The largest encoded event: an inline body of the largest size plus everything else.
pub const MAX_EVENT_BYTES: usize = MAX_INLINE_BODY + 2048;
/// The prefix of every signed message, so that an event signature means nothing elsewhere.
pub const SIGNATURE_DOMAIN: &[u8] = b"commune/event/v1\0";

/// What an event carries: its bytes in place, or the hash and size of a body kept apart so
/// that it can be redacted while the log stays verifiable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Inline(Vec<u8>),
    Detached { hash: [u8; 32], size: u64 },
}

/// Present on events of private councils: which group key sealed the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptionHeader {
    pub scheme: u64,
    pub epoch: u64,
    pub nonce: Vec<u8>,
}

/// Every field of an event except its signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsigned {
    /// `None` only for a genesis event, whose id becomes the council id.
    pub council: Option<CouncilId>,
    pub author: PublicKey,
    pub seq: u64,
    pub parents: Vec<EventId>,
    pub depth: u64,
    pub time_ms: u64,
    pub kind: u64,
    pub body: Body,
    pub encryption: Option<EncryptionHeader>,
}

/// A signed event with its id and its exact bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: EventId,
    pub unsigned: Unsigned,
    pub signature: Signature,
    pub bytes: Vec<u8>,
}

/// Why bytes are not an event, or an event does not fit its parents.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("event is {0} bytes, more than the limit of {MAX_EVENT_BYTES}")]
    TooLarge(usize),
    #[error("malformed CBOR: {0}")]
    Malformed(String),
    #[error("bytes are not in canonical form")]
    NotCanonical,
    #[error("unsupported envelope version {0}")]
    Version(u64),
    #[error("parents must be sorted, distinct, and at most {MAX_PARENTS}")]
    Parents,
    #[error("a genesis event has no council, no parents, depth 0 and seq 1")]
    Genesis,
    #[error("seq must be at least 1")]
    Seq,
    #[error("inline body is larger than {MAX_INLINE_BODY} bytes")]
    BodyTooLarge,
    #[error("signature does not verify under the author's key")]
    Signature,
    #[error("depth is {found}, but 1 + the deepest parent is {expected}")]
    Depth { expected: u64, found: u64 },
    #[error("time {found} is earlier than a parent's time {parent}")]
    Time { parent: u64, found: u64 },
    #[error("parent {0} belongs to another council")]
    ForeignParent(EventId),
}

/// What an author knows of a parent when composing a new event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParentInfo {
    pub id: EventId,
    pub depth: u64,
    pub time_ms: u64,
}

impl Unsigned {
    /// Composes a non-genesis event on top of `parents` (the heads the author knows):
    /// sorts them, sets depth to one more than the deepest, and keeps time from going
    /// backwards along parents (`now_ms` is the author's clock, advisory).
    pub fn compose(
        council: CouncilId,
        author: PublicKey,
        seq: u64,
        parents: &[ParentInfo],
        now_ms: u64,
        kind: u64,
        body: Vec<u8>,
    ) -> Unsigned {
        let mut ids: Vec<EventId> = parents.iter().map(|p| p.id).collect();
        ids.sort();
        ids.dedup();
        Unsigned {
            council: Some(council),
            author,
            seq,
            parents: ids,
            depth: parents.iter().map(|p| p.depth + 1).max().unwrap_or(0),
            time_ms: parents.iter().map(|p| p.time_ms).fold(now_ms, u64::max),
            kind,
            body: Body::Inline(body),
            encryption: None,
        }
    }

    /// The genesis event of a new council.
    pub fn genesis(author: PublicKey, now_ms: u64, kind: u64, body: Vec<u8>) -> Unsigned {
        Unsigned {
            council: None,
            author,
            seq: 1,
            parents: Vec::new(),
            depth: 0,
            time_ms: now_ms,
            kind,
            body: Body::Inline(body),
            encryption: None,
        }
    }

    pub fn is_genesis(&self) -> bool {
        self.council.is_none()
    }

    /// The bytes that are signed: the domain, then the 10-element array of the fields.
    pub fn signing_message(&self) -> Vec<u8> {
        let mut message = SIGNATURE_DOMAIN.to_vec();
        message.extend_from_slice(&encode_fields(self, None));
        message
    }

    /// Signs the fields with the author's key. The key must be the `author` field's.
    pub fn sign(self, keypair: &Keypair) -> Event {
        assert_eq!(
            keypair.public(),
            self.author,
            "signing key is not the author"
        );
        let signature = keypair.sign(&self.signing_message());
        let bytes = encode_fields(&self, Some(&signature));
        Event {
            id: EventId::of(&bytes),
            unsigned: self,
            signature,
            bytes,
        }
    }

    fn check_shape(&self) -> Result<(), EventError> {
        if self.is_genesis() {
            if !self.parents.is_empty() || self.depth != 0 || self.seq != 1 {
                return Err(EventError::Genesis);
            }
        } else if self.parents.is_empty() {
            return Err(EventError::Parents);
        }
        if self.seq == 0 {
            return Err(EventError::Seq);
        }
        if self.parents.len() > MAX_PARENTS || !self.parents.windows(2).all(|w| w[0] < w[1]) {
            return Err(EventError::Parents);
        }
        if let Body::Inline(body) = &self.body
            && body.len() > MAX_INLINE_BODY
        {
            return Err(EventError::BodyTooLarge);
        }
        Ok(())
    }
}

impl Event {
    pub fn parent_info(&self) -> ParentInfo {
        ParentInfo {
            id: self.id,
            depth: self.unsigned.depth,
            time_ms: self.unsigned.time_ms,
        }
    }

    /// The council this event belongs to (a genesis event founds its own).
    pub fn council(&self) -> CouncilId {
        self.unsigned.council.unwrap_or(CouncilId(self.id.0))
    }

    /// Strict decoding: canonical bytes, a known version, a well-formed shape. The signature
    /// is not checked here: see [`Event::verify`] and [`verify_events`].
    pub fn decode(bytes: &[u8]) -> Result<Event, EventError> {
        if bytes.len() > MAX_EVENT_BYTES {
            return Err(EventError::TooLarge(bytes.len()));
        }
        let (unsigned, signature) = decode_fields(bytes).map_err(|error| match error {
            DecodeFailure::Version(version) => EventError::Version(version),
            DecodeFailure::Cbor(error) => EventError::Malformed(error.to_string()),
        })?;
        if encode_fields(&unsigned, Some(&signature)) != bytes {
            return Err(EventError::NotCanonical);
        }
        unsigned.check_shape()?;
        Ok(Event {
            id: EventId::of(bytes),
            unsigned,
            signature,
            bytes: bytes.to_vec(),
        })
    }

    /// Decodes and verifies the signature of one event.
    pub fn decode_verified(bytes: &[u8]) -> Result<Event, EventError> {
        let event = Event::decode(bytes)?;
        event.verify()?;
        Ok(event)
    }

    /// Checks the event's signature and those its body carries (see [`verify_events`]).
    pub fn verify(&self) -> Result<(), EventError> {
        if verify_events(std::slice::from_ref(self))[0] {
            Ok(())
        } else {
            Err(EventError::Signature)
        }
    }

    /// Checks depth, time and council against the event's parents, given as
    /// `(council, depth, time_ms)` in the order of `unsigned.parents`.
    pub fn check_parents(&self, parents: &[(CouncilId, u64, u64)]) -> Result<(), EventError> {
        debug_assert_eq!(parents.len(), self.unsigned.parents.len());
        let council = self.council();
        for ((parent_council, _, _), parent_id) in parents.iter().zip(&self.unsigned.parents) {
            if *parent_council != council {
                return Err(EventError::ForeignParent(*parent_id));
            }
        }
        let expected = parents.iter().map(|p| p.1 + 1).max().unwrap_or(0);
        if self.unsigned.depth != expected {
            return Err(EventError::Depth {
                expected,
                found: self.unsigned.depth,
            });
        }
        let parent_time = parents.iter().map(|p| p.2).max().unwrap_or(0);
        if self.unsigned.time_ms < parent_time {
            return Err(EventError::Time {
                parent: parent_time,
                found: self.unsigned.time_ms,
            });
        }
        Ok(())
    }

    /// The inline body, if the event carries one.
    pub fn inline_body(&self) -> Option<&[u8]> {
        match &self.unsigned.body {
            Body::Inline(body) => Some(body),
            Body::Detached { .. } => None,
        }
    }
}

/// Verifies the signatures of many events in one batch; `true` where an event verifies. The
/// signatures an event's body carries (a statement's, a certificate's) are checked with it:
/// one bad inner signature makes the event false, like a bad signature of its own.
pub fn verify_events(events: &[Event]) -> Vec<bool> {
    let mut messages: Vec<(usize, PublicKey, Vec<u8>, Signature)> = Vec::new();
    for (index, event) in events.iter().enumerate() {
        messages.push((
            index,
            event.unsigned.author,
            event.unsigned.signing_message(),
            event.signature,
        ));
        if matches!(event.unsigned.kind, kind::ENDORSE | kind::CERTIFY)
            && let Some(body) = event.inline_body()
        {
            for (signer, message, signature) in
                payload::inner_signatures(event.unsigned.kind, &event.unsigned.author, body)
            {
                messages.push((index, signer, message, signature));
            }
        }
    }
    let items: Vec<_> = messages
        .iter()
        .map(|(_, public, message, signature)| (*public, message.as_slice(), *signature))
        .collect();
    let mut valid = vec![true; events.len()];
    for ((index, ..), ok) in messages.iter().zip(keys::verify_batch(&items)) {
        valid[*index] &= ok;
    }
    valid
}

/// Encodes the fields as a CBOR array: 10 elements without a signature, 11 with one.
fn encode_fields(unsigned: &Unsigned, signature: Option<&Signature>) -> Vec<u8> {
    let mut buffer = Vec::with_capacity(256 + body_len(&unsigned.body));
    let mut e = Encoder::new(&mut buffer);
    let write = |e: &mut Encoder<&mut Vec<u8>>| -> Result<(), minicbor::encode::Error<_>> {
        e.array(if signature.is_some() { 11 } else { 10 })?;
        e.u64(VERSION)?;
        match &unsigned.council {
            Some(council) => e.bytes(council.as_bytes())?,
            None => e.null()?,
        };
        e.bytes(unsigned.author.as_bytes())?;
        e.u64(unsigned.seq)?;
        e.array(unsigned.parents.len() as u64)?;
        for parent in &unsigned.parents {
            e.bytes(parent.as_bytes())?;
        }
        e.u64(unsigned.depth)?;
        e.u64(unsigned.time_ms)?;
        e.u64(unsigned.kind)?;
        match &unsigned.body {
            Body::Inline(body) => e.array(2)?.u64(0)?.bytes(body)?,
            Body::Detached { hash, size } => e.array(3)?.u64(1)?.bytes(hash)?.u64(*size)?,
        };
        match &unsigned.encryption {
            Some(header) => e
                .array(3)?
                .u64(header.scheme)?
                .u64(header.epoch)?
                .bytes(&header.nonce)?,
            None => e.null()?,
        };
        if let Some(signature) = signature {
            e.bytes(&signature.0)?;
        }
        Ok(())
    };
    write(&mut e).expect("writing to a Vec cannot fail");
    buffer
}

fn body_len(body: &Body) -> usize {
    match body {
        Body::Inline(bytes) => bytes.len(),
        Body::Detached { .. } => 0,
    }
}

enum DecodeFailure {
    Version(u64),
    Cbor(minicbor::decode::Error),
}

impl From<minicbor::decode::Error> for DecodeFailure {
    fn from(error: minicbor::decode::Error) -> Self {
        DecodeFailure::Cbor(error)
    }
}

fn decode_fields(bytes: &[u8]) -> Result<(Unsigned, Signature), DecodeFailure> {
    use minicbor::decode::Error;
    let mut d = Decoder::new(bytes);
    if d.array()? != Some(11) {
        return Err(Error::message("an event is an array of 11 elements").into());
    }
    let version = d.u64()?;
    if version != VERSION {
        return Err(DecodeFailure::Version(version));
    }
    let council = match d.datatype()? {
        Type::Null => {
            d.skip()?;
            None
        }
        _ => Some(CouncilId(decode_bytes32(&mut d)?)),
    };
    let author = PublicKey(decode_bytes32(&mut d)?);
    let seq = d.u64()?;
    let parent_count = d
        .array()?
        .ok_or_else(|| Error::message("indefinite arrays are not allowed"))?;
    if parent_count > MAX_PARENTS as u64 {
        return Err(Error::message("too many parents").into());
    }
    let mut parents = Vec::with_capacity(parent_count as usize);
    for _ in 0..parent_count {
        parents.push(EventId(decode_bytes32(&mut d)?));
    }
    let depth = d.u64()?;
    let time_ms = d.u64()?;
    let kind = d.u64()?;
    let body_len = d.array()?;
    let body = match (body_len, d.u64()?) {
        (Some(2), 0) => Body::Inline(d.bytes()?.to_vec()),
        (Some(3), 1) => {
            let hash = decode_bytes32(&mut d)?;
            Body::Detached {
                hash,
                size: d.u64()?,
            }
        }
        _ => return Err(Error::message("body is [0, bytes] or [1, hash, size]").into()),
    };
    let encryption = match d.datatype()? {
        Type::Null => {
            d.skip()?;
            None
        }
        _ => {
            if d.array()? != Some(3) {
                return Err(Error::message("encryption header is [scheme, epoch, nonce]").into());
            }
            Some(EncryptionHeader {
                scheme: d.u64()?,
                epoch: d.u64()?,
                nonce: d.bytes()?.to_vec(),
            })
        }
    };
    let signature: [u8; 64] = d
        .bytes()?
        .try_into()
        .map_err(|_| Error::message("a signature is 64 bytes"))?;
    if d.position() != bytes.len() {
        return Err(Error::message("trailing bytes after the event").into());
    }
    Ok((
        Unsigned {
            council,
            author,
            seq,
            parents,
            depth,
            time_ms,
            kind,
            body,
            encryption,
        },
        Signature(signature),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(keypair: &Keypair) -> Event {
        Unsigned {
            council: Some(CouncilId([7; 32])),
            author: keypair.public(),
            seq: 3,
            parents: vec![EventId([1; 32]), EventId([2; 32])],
            depth: 5,
            time_ms: 1_700_000_000_000,
            kind: 6,
            body: Body::Inline(b"body".to_vec()),
            encryption: None,
        }
        .sign(keypair)
    }

    #[test]
    fn round_trip() {
        let keypair = Keypair::from_seed([9; 32]);
        let event = sample(&keypair);
        let decoded = Event::decode_verified(&event.bytes).unwrap();
        assert_eq!(decoded, event);
    }

    #[test]
    fn non_minimal_integer_is_refused() {
        let keypair = Keypair::from_seed([9; 32]);
        let event = sample(&keypair);
        // The version 1 is the byte 0x01 after the array header; write it as 0x18 0x01.
        let mut bytes = event.bytes.clone();
        assert_eq!(&bytes[..2], &[0x8b, 0x01]);
        bytes.splice(1..2, [0x18, 0x01]);
        assert_eq!(Event::decode(&bytes), Err(EventError::NotCanonical));
    }

    #[test]
    fn unsorted_parents_are_refused() {
        let keypair = Keypair::from_seed([9; 32]);
        let mut event = sample(&keypair);
        event.unsigned.parents.reverse();
        let event = event.unsigned.sign(&keypair);
        assert_eq!(Event::decode(&event.bytes), Err(EventError::Parents));
    }
}
