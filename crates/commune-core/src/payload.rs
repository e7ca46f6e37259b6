//! Event bodies: what each kind of event says, and their strict CBOR form.
//!
//! Owns the kind numbers and the body types. A body is decoded by the fold, not at storage
//! time, so that a node stores events of kinds it does not know yet; decoding is strict in the
//! same way as the envelope (re-encoded bytes must equal the input).

use minicbor::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::constitution::{Constitution, QuestionKind};
use crate::id::{CouncilId, EventId, MandateId, MemberId};
use crate::invite::Invitation;
use crate::keys::Signature;
use crate::mandate::{Amount, BreachEvidence, Instruction, MandateTerms, Signed, Statement};

use crate::register::{
    Adopt, Book, Fulfil, ItemKind, Need, Offer, PlanTerms, Recipe, Resource, Withdraw,
};
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
    pub const ENDORSE: u64 = 8;
    pub const CERTIFY: u64 = 9;
    pub const ACT: u64 = 10;
    pub const ITEM: u64 = 40;
    pub const NEED: u64 = 41;
    pub const OFFER: u64 = 42;
    pub const PROCESS: u64 = 43;
    pub const RESOURCE: u64 = 44;
    pub const BOOK: u64 = 45;
    pub const FULFIL: u64 = 46;
    pub const WITHDRAW: u64 = 47;
    pub const ADOPT: u64 = 48;

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
            ENDORSE => "endorse",
            CERTIFY => "certify",
            ACT => "act",
            ITEM => "item",
            NEED => "need",
            OFFER => "offer",
            PROCESS => "process",
            RESOURCE => "resource",
            BOOK => "book",
            FULFIL => "fulfil",
            WITHDRAW => "withdraw",
            ADOPT => "adopt",
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
    /// Elect delegates or a working group among `candidates` (one option each, in order):
    /// each winner receives a mandate on `terms`.
    #[n(4)]
    Elect {
        #[n(0)]
        candidates: Vec<MemberId>,
        #[n(1)]
        terms: MandateTerms,
    },
    /// Withdraw a mandate.
    #[n(5)]
    Recall {
        #[n(0)]
        mandate: MandateId,
    },
    /// Decide the position the council's delegates to `federation` must take.
    #[n(6)]
    Instruct {
        #[n(0)]
        federation: CouncilId,
        #[n(1)]
        instruction: Instruction,
    },
    /// Ask to join a federation (it must still admit the council).
    #[n(7)]
    JoinFederation {
        #[n(0)]
        federation: CouncilId,
    },
    /// In a federation: admit a council that asked to join.
    #[n(8)]
    AdmitCouncil {
        #[n(0)]
        council: CouncilId,
    },
    /// Undo a working group's act.
    #[n(9)]
    Overturn {
        #[n(0)]
        act: EventId,
    },
    /// Decide, as this council, a question that `federation` referred to its members.
    #[n(10)]
    Refer {
        #[n(0)]
        federation: CouncilId,
        #[n(1)]
        question: EventId,
    },
    /// Ratify an urgent decision. Opened by the fold itself when an urgent proposal passes;
    /// a proposal may not name it.
    #[n(11)]
    Ratify {
        #[n(0)]
        decision: EventId,
    },
    /// Adopt a draft plan: its commitments become the council's plan.
    #[n(12)]
    Plan {
        #[n(0)]
        terms: PlanTerms,
    },
}

impl Action {
    pub fn question_kind(&self) -> QuestionKind {
        match self {
            Action::None => QuestionKind::General,
            Action::Admit { .. } => QuestionKind::Admission,
            Action::Remove { .. } => QuestionKind::Removal,
            Action::Amend { .. } => QuestionKind::Amendment,
            Action::Elect { .. } => QuestionKind::Election,
            Action::Recall { .. } => QuestionKind::Recall,
            Action::AdmitCouncil { .. } => QuestionKind::Federation,
            Action::Instruct { .. }
            | Action::JoinFederation { .. }
            | Action::Overturn { .. }
            | Action::Refer { .. }
            | Action::Ratify { .. }
            | Action::Plan { .. } => QuestionKind::General,
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
    #[n(7)]
    pub mode: Option<Mode>,
}

/// How a proposal departs from the ordinary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[cbor(index_only)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Decided at once (any deadline), then put to the council for ratification.
    #[n(0)]
    Urgent,
    /// In a federation: every member council decides it and sends its tally up.
    #[n(1)]
    Referral,
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

/// A member signs a statement about this council's log (a certificate's signature, or a
/// recall petition's when the statement is a suspension).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Endorse {
    #[n(0)]
    pub statement: Statement,
    /// The author's signature on [`Statement::signing_message`].
    #[n(1)]
    pub signature: Signature,
    /// On a recall petition: the delegate's breach of their instructions that prompted it.
    #[n(2)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breach: Option<BreachEvidence>,
}

/// In a federation: a statement of a member council with its members' signatures, packed.
/// Build it with [`Certify::new`] and read it with [`Certify::signed`].
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Certify {
    #[n(0)]
    pub statement: Statement,
    /// Who signed: for a roster, one bit per member of it, in order (the first member is the
    /// high bit of the first byte); otherwise the signers' keys end to end, ascending.
    #[cbor(n(1), with = "minicbor::bytes")]
    pub signers: Vec<u8>,
    /// The signatures end to end, 64 bytes each, in the signers' order.
    #[cbor(n(2), with = "minicbor::bytes")]
    pub signatures: Vec<u8>,
}

impl Certify {
    /// Packs members' signatures on `statement`, in any order. On a roster, only its
    /// members' signatures can be named.
    pub fn new(statement: Statement, mut signed: Vec<Signed>) -> Certify {
        signed.sort_by_key(|s| s.signer);
        signed.dedup_by_key(|s| s.signer);
        let signers = match &statement {
            Statement::Roster { members, .. } => {
                signed.retain(|s| members.binary_search(&s.signer).is_ok());
                let mut bitmap = vec![0u8; members.len().div_ceil(8)];
                for s in &signed {
                    let i = members.binary_search(&s.signer).expect("kept above");
                    bitmap[i / 8] |= 0x80 >> (i % 8);
                }
                bitmap
            }
            _ => signed.iter().flat_map(|s| s.signer.0).collect(),
        };
        Certify {
            statement,
            signers,
            signatures: signed.iter().flat_map(|s| s.signature.0).collect(),
        }
    }

    /// The signers, each with their signature, or why the packing is wrong.
    pub fn signed(&self) -> Result<Vec<Signed>, String> {
        let signers: Vec<MemberId> = match &self.statement {
            Statement::Roster { members, .. } => {
                if self.signers.len() != members.len().div_ceil(8) {
                    return Err("a roster's signers are one bit per member".into());
                }
                let bit = |i: usize| self.signers[i / 8] & (0x80 >> (i % 8)) != 0;
                let named: u32 = self.signers.iter().map(|b| b.count_ones()).sum();
                let signers: Vec<MemberId> = (0..members.len())
                    .filter(|i| bit(*i))
                    .map(|i| members[i])
                    .collect();
                if named as usize != signers.len() {
                    return Err("the signers' bitmap names no one past the roster".into());
                }
                signers
            }
            _ => {
                if !self.signers.len().is_multiple_of(32) {
                    return Err("signers' keys are 32 bytes each".into());
                }
                let signers: Vec<MemberId> = self
                    .signers
                    .chunks_exact(32)
                    .map(|key| crate::id::PublicKey(key.try_into().expect("32 bytes")))
                    .collect();
                if !signers.windows(2).all(|w| w[0] < w[1]) {
                    return Err("signatures must be sorted by signer, one each".into());
                }
                signers
            }
        };
        if self.signatures.len() != signers.len() * 64 {
            return Err("one signature of 64 bytes per signer".into());
        }
        Ok(signers
            .into_iter()
            .zip(self.signatures.chunks_exact(64))
            .map(|(signer, signature)| Signed {
                signer,
                signature: Signature(signature.try_into().expect("64 bytes")),
            })
            .collect())
    }
}

/// A working group's act under its mandate, counted against the mandate's limits.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Act {
    #[n(0)]
    pub mandate: MandateId,
    #[n(1)]
    pub text: String,
    #[n(2)]
    pub amounts: Vec<Amount>,
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
    Endorse(Endorse),
    Certify(Certify),
    Act(Act),
    Item(ItemKind),
    Need(Need),
    Offer(Offer),
    Process(Recipe),
    Resource(Resource),
    Book(Book),
    Fulfil(Fulfil),
    Withdraw(Withdraw),
    Adopt(Adopt),
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
            Payload::Endorse(_) => kind::ENDORSE,
            Payload::Certify(_) => kind::CERTIFY,
            Payload::Act(_) => kind::ACT,
            Payload::Item(_) => kind::ITEM,
            Payload::Need(_) => kind::NEED,
            Payload::Offer(_) => kind::OFFER,
            Payload::Process(_) => kind::PROCESS,
            Payload::Resource(_) => kind::RESOURCE,
            Payload::Book(_) => kind::BOOK,
            Payload::Fulfil(_) => kind::FULFIL,
            Payload::Withdraw(_) => kind::WITHDRAW,
            Payload::Adopt(_) => kind::ADOPT,
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
            Payload::Endorse(body) => minicbor::to_vec(body),
            Payload::Certify(body) => minicbor::to_vec(body),
            Payload::Act(body) => minicbor::to_vec(body),
            Payload::Item(body) => minicbor::to_vec(body),
            Payload::Need(body) => minicbor::to_vec(body),
            Payload::Offer(body) => minicbor::to_vec(body),
            Payload::Process(body) => minicbor::to_vec(body),
            Payload::Resource(body) => minicbor::to_vec(body),
            Payload::Book(body) => minicbor::to_vec(body),
            Payload::Fulfil(body) => minicbor::to_vec(body),
            Payload::Withdraw(body) => minicbor::to_vec(body),
            Payload::Adopt(body) => minicbor::to_vec(body),
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
            kind::ENDORSE => Payload::Endorse(strict(bytes)?),
            kind::CERTIFY => Payload::Certify(strict(bytes)?),
            kind::ACT => Payload::Act(strict(bytes)?),
            kind::ITEM => Payload::Item(strict(bytes)?),
            kind::NEED => Payload::Need(strict(bytes)?),
            kind::OFFER => Payload::Offer(strict(bytes)?),
            kind::PROCESS => Payload::Process(strict(bytes)?),
            kind::RESOURCE => Payload::Resource(strict(bytes)?),
            kind::BOOK => Payload::Book(strict(bytes)?),
            kind::FULFIL => Payload::Fulfil(strict(bytes)?),
            kind::WITHDRAW => Payload::Withdraw(strict(bytes)?),
            kind::ADOPT => Payload::Adopt(strict(bytes)?),
            other => return Err(PayloadError::UnknownKind(other)),
        };
        if payload.encode() != bytes {
            return Err(PayloadError::NotCanonical);
        }
        Ok(payload)
    }
}

/// The signatures an event's body carries besides the event's own: a node checks them with
/// the event's, and refuses the event if any fails. A body that does not decode carries none
/// (the fold refuses it).
pub fn inner_signatures(
    kind: u64,
    author: &MemberId,
    body: &[u8],
) -> Vec<(MemberId, Vec<u8>, Signature)> {
    match Payload::decode(kind, body) {
        Ok(Payload::Endorse(endorse)) => vec![(
            *author,
            endorse.statement.signing_message(),
            endorse.signature,
        )],
        Ok(Payload::Certify(certify)) => {
            let message = certify.statement.signing_message();
            certify
                .signed()
                .unwrap_or_default()
                .into_iter()
                .map(|signed| (signed.signer, message.clone(), signed.signature))
                .collect()
        }
        _ => Vec::new(),
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
            mode: None,
        });
        let bytes = payload.encode();
        // A trailing field left unset is not written: bodies from before it was added keep
        // their bytes.
        assert_eq!(bytes[0], 0x87, "an array of the seven original fields");
        assert_eq!(Payload::decode(kind::PROPOSE, &bytes), Ok(payload));
        // Two more elements on the end, an unset mode and a field no version knows:
        // decodable, but not canonical.
        let mut longer = bytes.clone();
        longer[0] += 2;
        longer.extend([0xf6, 0]);
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
