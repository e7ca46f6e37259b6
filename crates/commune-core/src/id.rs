//! Identifiers: event ids, council ids and public keys, as 32-byte newtypes.
//!
//! Owns their text form (lower-case hex) and their CBOR form (a 32-byte string).
//! Must not know how events are built or signed.

use std::fmt;
use std::str::FromStr;

use minicbor::decode::Error as DecodeError;
use minicbor::{Decode, Decoder, Encode, Encoder};

/// Why a piece of text is not an id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdParseError {
    #[error("expected 64 hexadecimal characters, got {0}")]
    Length(usize),
    #[error("not hexadecimal: {0:?}")]
    NotHex(String),
}

macro_rules! id32 {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub [u8; 32]);

        impl $name {
            pub fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }

            /// The first 8 hex characters, for people reading a list.
            pub fn short(&self) -> String {
                data_encoding::HEXLOWER.encode(&self.0[..4])
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&data_encoding::HEXLOWER.encode(&self.0))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.short())
            }
        }

        impl FromStr for $name {
            type Err = IdParseError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                parse_hex32(text).map($name)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }

        impl<C> Encode<C> for $name {
            fn encode<W: minicbor::encode::Write>(
                &self,
                e: &mut Encoder<W>,
                _: &mut C,
            ) -> Result<(), minicbor::encode::Error<W::Error>> {
                e.bytes(&self.0)?;
                Ok(())
            }
        }

        impl<'b, C> Decode<'b, C> for $name {
            fn decode(d: &mut Decoder<'b>, _: &mut C) -> Result<Self, DecodeError> {
                decode_bytes32(d).map($name)
            }
        }
    };
}

id32!(
    /// The BLAKE3 hash of an event's exact bytes.
    EventId
);
id32!(
    /// The id of a council: the [`EventId`] of its genesis event.
    CouncilId
);
id32!(
    /// An Ed25519 public key, as its 32 encoded bytes. A device signs events with it.
    PublicKey
);

id32!(
    /// A mandate: BLAKE3 of the decision that issued it and its holder (see
    /// [`crate::mandate::mandate_id`]).
    MandateId
);

id32!(
    /// A draft plan: BLAKE3 of its exact commitments (see
    /// [`crate::register::PlanTerms::hash_of`]).
    PlanHash
);

/// A member is identified by the public key they first joined with.
pub type MemberId = PublicKey;

impl From<EventId> for CouncilId {
    fn from(event_id: EventId) -> Self {
        CouncilId(event_id.0)
    }
}

impl EventId {
    /// The id of the given exact event bytes.
    pub fn of(bytes: &[u8]) -> Self {
        EventId(*blake3::hash(bytes).as_bytes())
    }
}

fn parse_hex32(text: &str) -> Result<[u8; 32], IdParseError> {
    if text.len() != 64 {
        return Err(IdParseError::Length(text.len()));
    }
    let bytes = data_encoding::HEXLOWER_PERMISSIVE
        .decode(text.as_bytes())
        .map_err(|_| IdParseError::NotHex(text.to_owned()))?;
    Ok(bytes.try_into().expect("64 hex characters are 32 bytes"))
}

/// Decodes a CBOR byte string of exactly 32 bytes.
pub(crate) fn decode_bytes32(d: &mut Decoder<'_>) -> Result<[u8; 32], DecodeError> {
    let bytes = d.bytes()?;
    bytes
        .try_into()
        .map_err(|_| DecodeError::message("expected a 32-byte string"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_errors() {
        let id = EventId::of(b"hello");
        assert_eq!(id.to_string().parse::<EventId>(), Ok(id));
        assert_eq!("abc".parse::<EventId>(), Err(IdParseError::Length(3)));
        assert!(matches!(
            "z".repeat(64).parse::<EventId>(),
            Err(IdParseError::NotHex(_))
        ));
    }
}
