//! Event bodies: what each kind of event says, and their strict CBOR form.
//!
//! Owns the kind numbers and the body types. A body is decoded by the fold, not at storage
//! time, so that a node stores events of kinds it does not know yet; decoding is strict in the
//! same way as the envelope (re-encoded bytes must equal the input).

use minicbor::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::constitution::{Constitution, QuestionKind};
use crate::id::{EventId, MemberId};
use crate::invite::Invitation;
use crate::tally::{Choice, Method, Quorum};

/// The kind numbers of the envelope's `kind` field.
pub mod kind {
    pub const FOUND: u64 = 1;
    pub const JOIN: u64 = 2;
    pub const LEAVE: u64 = 3;
    pub const PROPOSE: u64 = 4;
    pub const BALLOT: u64 = 5;
    pub const COMMENT: u64 = 6;
    pub const CLOSE: u64 = 7;

    /// The name of a kind, for logs and JSON.
    pub fn name(kind: u64) -> &'static str {
        match kind {
            FOUND => "found",
            JOIN => "join",
            LEAVE => "leave",
            PROPOSE => "propose",
            BALLOT => "ballot",
            COMMENT => "comment",
            CLOSE => "close",
            _ => "unknown",
        }
    }
}

/// The genesis event: a council is founded.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Found {
    #[n(0)]
    pub name: String,
    #[n(1)]
    pub constitution: Constitution,
    /// The founder's display name within the council.
    #[n(2)]
    pub founder_name: String,
}

/// A person joins (or, where admission is by vote, asks to join).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Join {
    #[n(0)]
    pub name: String,
    #[n(1)]
    pub invitation: Option<Invitation>,
}

/// A member leaves.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Leave {}

/// What a decision does when it passes, beyond recording the result.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[cbor(flat)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Action {
    /// A general question: the decision is its own effect.
    #[n(0)]
    None,
    /// Admit a person who asked to join.
    #[n(1)]
    Admit {
        #[n(0)]
        member: MemberId,
    },
    /// Remove a member.
    #[n(2)]
    Remove {
        #[n(0)]
        member: MemberId,
    },
    /// Replace the constitution.
    #[n(3)]
    Amend {
        #[n(0)]
        constitution: Constitution,
    },
}

impl Action {
    pub fn question_kind(&self) -> QuestionKind {
        match self {
            Action::None => QuestionKind::General,
            Action::Admit { .. } => QuestionKind::Admission,
            Action::Remove { .. } => QuestionKind::Removal,
            Action::Amend { .. } => QuestionKind::Amendment,
        }
    }
}

/// A question put to the council.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Propose {
    #[n(0)]
    pub title: String,
    #[n(1)]
    pub text: String,
    #[n(2)]
    pub action: Action,
    /// `None`: the constitution's method for this kind of question. Questions other than
    /// general ones must use the constitution's method.
    #[n(3)]
    pub method: Option<Method>,
    #[n(4)]
    pub options: Vec<String>,
    /// `None`: the constitution's quorum. Only general questions may set their own.
    #[n(5)]
    pub quorum: Option<Quorum>,
    #[n(6)]
    pub deadline_ms: u64,
}

/// One member's vote on one proposal. A later ballot replaces those in its causal past.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Ballot {
    #[n(0)]
    pub proposal: EventId,
    #[n(1)]
    pub choice: Choice,
}

/// A contribution to a proposal's discussion.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Comment {
    #[n(0)]
    pub proposal: EventId,
    #[n(1)]
    pub reply_to: Option<EventId>,
    #[n(2)]
    pub text: String,
}

/// Closes a proposal: its result is the tally of the ballots in this event's causal past.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Close {
    #[n(0)]
    pub proposal: EventId,
}

/// A decoded body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Payload {
    Found(Found),
    Join(Join),
    Leave(Leave),
    Propose(Propose),
    Ballot(Ballot),
    Comment(Comment),
    Close(Close),
}

/// Why a body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("unknown event kind {0} (written by a newer version?)")]
    UnknownKind(u64),
    #[error("malformed body: {0}")]
    Malformed(String),
    #[error("body is not in canonical form")]
    NotCanonical,
}

impl Payload {
    pub fn kind(&self) -> u64 {
        match self {
            Payload::Found(_) => kind::FOUND,
            Payload::Join(_) => kind::JOIN,
            Payload::Leave(_) => kind::LEAVE,
            Payload::Propose(_) => kind::PROPOSE,
            Payload::Ballot(_) => kind::BALLOT,
            Payload::Comment(_) => kind::COMMENT,
            Payload::Close(_) => kind::CLOSE,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let result = match self {
            Payload::Found(body) => minicbor::to_vec(body),
            Payload::Join(body) => minicbor::to_vec(body),
            Payload::Leave(body) => minicbor::to_vec(body),
            Payload::Propose(body) => minicbor::to_vec(body),
            Payload::Ballot(body) => minicbor::to_vec(body),
            Payload::Comment(body) => minicbor::to_vec(body),
            Payload::Close(body) => minicbor::to_vec(body),
        };
        result.expect("writing to a Vec cannot fail")
    }

    pub fn decode(kind: u64, bytes: &[u8]) -> Result<Payload, PayloadError> {
        let payload = match kind {
            kind::FOUND => Payload::Found(strict(bytes)?),
            kind::JOIN => Payload::Join(strict(bytes)?),
            kind::LEAVE => Payload::Leave(strict(bytes)?),
            kind::PROPOSE => Payload::Propose(strict(bytes)?),
            kind::BALLOT => Payload::Ballot(strict(bytes)?),
            kind::COMMENT => Payload::Comment(strict(bytes)?),
            kind::CLOSE => Payload::Close(strict(bytes)?),
            other => return Err(PayloadError::UnknownKind(other)),
        };
        if payload.encode() != bytes {
            return Err(PayloadError::NotCanonical);
        }
        Ok(payload)
    }
}

fn strict<T: for<'b> Decode<'b, ()>>(bytes: &[u8]) -> Result<T, PayloadError> {
    minicbor::decode(bytes).map_err(|error| PayloadError::Malformed(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_round_trip_and_refuse_extra_fields() {
        let payload = Payload::Propose(Propose {
            title: "Repaint the stairwell".into(),
            text: "Green or blue?".into(),
            action: Action::None,
            method: Some(Method::Approval { winners: 1 }),
            options: vec!["green".into(), "blue".into()],
            quorum: None,
            deadline_ms: 5,
        });
        let bytes = payload.encode();
        assert_eq!(Payload::decode(kind::PROPOSE, &bytes), Ok(payload));
        // The same fields with one more element on the end: decodable, but not canonical.
        let mut longer = bytes.clone();
        longer[0] += 1;
        longer.push(0);
        assert_eq!(
            Payload::decode(kind::PROPOSE, &longer),
            Err(PayloadError::NotCanonical)
        );
        assert_eq!(
            Payload::decode(99, &bytes),
            Err(PayloadError::UnknownKind(99))
        );
    }
}
