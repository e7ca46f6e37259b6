//! Mandates and what councils say to their federations: the terms a decision grants a
//! delegate or working group, the statements members sign about their own council's log, and
//! the tally summaries a council sends up for a referred question.
//!
//! Owns the statement signing message and the rule that turns a set of signatures into a
//! certificate a federation can check without the home council's log. The fold decides which
//! statements are true; this module only says what they are.

use std::collections::BTreeMap;

use minicbor::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::id::{CouncilId, EventId, MandateId, MemberId};
use crate::keys::{self, Signature};
use crate::tally::Choice;

/// What a mandate allows and for how long.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct MandateTerms {
    #[n(0)]
    pub scope: Scope,
    /// The mandate lapses this long after the decision that issued it.
    #[n(1)]
    pub term_ms: u64,
    /// Positions the council has already decided on named federation proposals.
    #[n(2)]
    pub instructions: Vec<Instruction>,
}

/// Where a mandate may be used.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[cbor(flat)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Scope {
    /// Represent the council in a federation: sit, propose and vote there.
    #[n(0)]
    Federation {
        #[n(0)]
        federation: CouncilId,
    },
    /// Act for the council within limits, each act on the record.
    #[n(1)]
    WorkingGroup {
        #[n(0)]
        name: String,
        #[n(1)]
        limits: Vec<Amount>,
    },
}

impl Scope {
    /// The key under which terms rotate: consecutive mandates of one scope count together.
    pub fn rotation_key(&self) -> String {
        match self {
            Scope::Federation { federation } => format!("federation {federation}"),
            Scope::WorkingGroup { name, .. } => format!("working group {name}"),
        }
    }
}

/// A quantity of something, in whole units of the council's choosing ("labour hours",
/// "bike loans").
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Amount {
    #[n(0)]
    pub unit: String,
    #[n(1)]
    pub quantity: u64,
}

/// The position a delegate must take on one federation proposal.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Instruction {
    #[n(0)]
    pub proposal: EventId,
    #[n(1)]
    pub choice: Choice,
}

/// Something a council's members sign about their own log, for a federation to check without
/// that log. The home council's fold accepts a member's signature only on a statement that is
/// true in the causal past of the event carrying it.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[cbor(flat)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Statement {
    /// The council's members, as it asks to join a federation or tells it who they are now.
    /// `version` counts the membership changes in the signer's causal past.
    #[n(0)]
    Roster {
        #[n(0)]
        council: CouncilId,
        #[n(1)]
        federation: CouncilId,
        #[n(2)]
        version: u64,
        /// Ascending, distinct; written end to end in one byte string.
        #[cbor(n(3), with = "packed_keys")]
        members: Vec<MemberId>,
        /// The share of members (thousandths) whose petition suspends a mandate at home: the
        /// federation honours a suspension signed by that many of the roster. Absent in
        /// rosters from before it was carried; the federation's certificate share then applies.
        #[n(4)]
        petition_share_permille: Option<u32>,
    },
    /// A delegate's mandate in a federation.
    #[n(1)]
    Mandate {
        #[n(0)]
        council: CouncilId,
        #[n(1)]
        mandate: MandateId,
        #[n(2)]
        holder: MemberId,
        #[n(3)]
        federation: CouncilId,
        #[n(4)]
        expires_ms: u64,
        #[n(5)]
        instructions: Vec<Instruction>,
    },
    /// A mandate withdrawn by decision.
    #[n(2)]
    Recall {
        #[n(0)]
        council: CouncilId,
        #[n(1)]
        mandate: MandateId,
    },
    /// A recall petition: each signature is one member asking that the mandate be suspended
    /// until the council decides.
    #[n(3)]
    Suspend {
        #[n(0)]
        council: CouncilId,
        #[n(1)]
        mandate: MandateId,
    },
    /// The council's own tally of a question its federation referred to it.
    #[n(4)]
    Tally {
        #[n(0)]
        council: CouncilId,
        #[n(1)]
        federation: CouncilId,
        #[n(2)]
        question: EventId,
        #[n(3)]
        summary: Summary,
    },
    /// The council kept a mandate a petition had suspended (the recall it opened failed):
    /// the federation seats the delegate again.
    #[n(5)]
    Reinstate {
        #[n(0)]
        council: CouncilId,
        #[n(1)]
        mandate: MandateId,
    },
}

const STATEMENT_DOMAIN: &[u8] = b"commune/statement/v1\0";

impl Statement {
    pub fn council(&self) -> CouncilId {
        match self {
            Statement::Roster { council, .. }
            | Statement::Mandate { council, .. }
            | Statement::Recall { council, .. }
            | Statement::Suspend { council, .. }
            | Statement::Tally { council, .. }
            | Statement::Reinstate { council, .. } => *council,
        }
    }

    /// The federation the statement is addressed to; a recall or suspension goes wherever
    /// the mandate's certificate went.
    pub fn federation(&self) -> Option<CouncilId> {
        match self {
            Statement::Roster { federation, .. }
            | Statement::Mandate { federation, .. }
            | Statement::Tally { federation, .. } => Some(*federation),
            Statement::Recall { .. } | Statement::Suspend { .. } | Statement::Reinstate { .. } => {
                None
            }
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Statement::Roster { .. } => "roster",
            Statement::Mandate { .. } => "mandate",
            Statement::Recall { .. } => "recall",
            Statement::Suspend { .. } => "suspension",
            Statement::Tally { .. } => "tally",
            Statement::Reinstate { .. } => "reinstatement",
        }
    }

    /// What a member signs: a domain tag, then the statement's canonical CBOR.
    pub fn signing_message(&self) -> Vec<u8> {
        let mut message = STATEMENT_DOMAIN.to_vec();
        minicbor::encode(self, &mut message).expect("writing to a Vec cannot fail");
        message
    }

    /// The statement's id: BLAKE3 of its canonical CBOR, in hex. Signatures on one statement
    /// gather under it.
    pub fn id(&self) -> String {
        let bytes = minicbor::to_vec(self).expect("writing to a Vec cannot fail");
        blake3::hash(&bytes).to_hex().to_string()
    }

    pub fn sign(&self, keypair: &keys::Keypair) -> Signature {
        keypair.sign(&self.signing_message())
    }
}

/// One member's signature on a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Signed {
    #[n(0)]
    pub signer: MemberId,
    #[n(1)]
    pub signature: Signature,
}

/// Keys end to end in one byte string, 32 bytes each: a roster of 1,000 members takes 32,003
/// bytes, not 34,003, and its certificate fits in one event.
mod packed_keys {
    use minicbor::decode::Error as DecodeError;
    use minicbor::encode::{Error as EncodeError, Write};
    use minicbor::{Decoder, Encoder};

    use crate::id::{MemberId, PublicKey};

    pub fn encode<C, W: Write>(
        keys: &[MemberId],
        e: &mut Encoder<W>,
        _: &mut C,
    ) -> Result<(), EncodeError<W::Error>> {
        let bytes: Vec<u8> = keys.iter().flat_map(|key| key.0).collect();
        e.bytes(&bytes)?;
        Ok(())
    }

    pub fn decode<C>(d: &mut Decoder<'_>, _: &mut C) -> Result<Vec<MemberId>, DecodeError> {
        let bytes = d.bytes()?;
        if bytes.len() % 32 != 0 {
            return Err(DecodeError::message("keys are 32 bytes each"));
        }
        Ok(bytes
            .chunks_exact(32)
            .map(|key| PublicKey(key.try_into().expect("32 bytes")))
            .collect())
    }
}

/// What a member carries home to show that a delegate voted against the council's
/// instructions, checkable without the federation's log: the delegate's ballot there and the
/// certificate of the mandate it broke, both as the federation's signed events.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct BreachEvidence {
    #[cbor(n(0), with = "minicbor::bytes")]
    pub ballot: Vec<u8>,
    #[cbor(n(1), with = "minicbor::bytes")]
    pub certificate: Vec<u8>,
}

/// The id of the mandate a decision issues to one holder.
pub fn mandate_id(decision: &EventId, holder: &MemberId) -> MandateId {
    let mut hasher = blake3::Hasher::new_derive_key("commune mandate id v1");
    hasher.update(decision.as_bytes());
    hasher.update(holder.as_bytes());
    MandateId(*hasher.finalize().as_bytes())
}

/// How many of `of` make `share_permille` thousandths: rounded up, and at least one.
/// The option an election may end with besides its candidates, as real assemblies offer
/// it: when it wins, no one is elected. It lets one candidate stand.
pub const REOPEN_NOMINATIONS: &str = "re-open nominations";

pub fn threshold(share_permille: u32, of: usize) -> usize {
    let needed = (of as u64 * u64::from(share_permille)).div_ceil(1000);
    (needed as usize).max(1)
}

/// What a council sends up for a referred question: enough to add councils together and
/// recount, and no more. Anonymised ballots are distinct choices with how many cast each.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[cbor(flat)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Summary {
    /// Distinct choices with their counts, in canonical order (by their CBOR bytes).
    #[n(0)]
    Ballots {
        #[n(0)]
        ballots: Vec<CountedChoice>,
    },
    /// Schulze: the ballot count and `n × n` pairwise preferences, row by row
    /// (`preferences[a·n + b]`: ballots ranking a above b).
    #[n(1)]
    Pairwise {
        #[n(0)]
        ballots: u64,
        #[n(1)]
        preferences: Vec<u64>,
    },
}

/// One distinct choice and how many ballots made it.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct CountedChoice {
    #[n(0)]
    pub count: u64,
    #[n(1)]
    pub choice: Choice,
}

impl Summary {
    /// Anonymised ballots: the choices, with any reason text dropped, counted.
    pub fn of_ballots<'c>(choices: impl IntoIterator<Item = &'c Choice>) -> Summary {
        let mut counted: BTreeMap<Vec<u8>, CountedChoice> = BTreeMap::new();
        for choice in choices {
            let choice = anonymise(choice);
            let key = minicbor::to_vec(&choice).expect("writing to a Vec cannot fail");
            counted
                .entry(key)
                .or_insert(CountedChoice { count: 0, choice })
                .count += 1;
        }
        Summary::Ballots {
            ballots: counted.into_values().collect(),
        }
    }

    /// How many ballots it sums up.
    pub fn ballots(&self) -> u64 {
        match self {
            Summary::Ballots { ballots } => ballots.iter().map(|c| c.count).sum(),
            Summary::Pairwise { ballots, .. } => *ballots,
        }
    }

    /// Adds summaries of one question from several councils. `None` when they are not of
    /// one kind and size.
    pub fn add<'s>(summaries: impl IntoIterator<Item = &'s Summary>) -> Option<Summary> {
        let mut ballots: BTreeMap<Vec<u8>, CountedChoice> = BTreeMap::new();
        let mut pairwise: Option<(u64, Vec<u64>)> = None;
        let mut any_ballots = false;
        for summary in summaries {
            match summary {
                Summary::Ballots { ballots: these } => {
                    any_ballots = true;
                    for counted in these {
                        let key = minicbor::to_vec(&counted.choice)
                            .expect("writing to a Vec cannot fail");
                        ballots
                            .entry(key)
                            .or_insert(CountedChoice {
                                count: 0,
                                choice: counted.choice.clone(),
                            })
                            .count += counted.count;
                    }
                }
                Summary::Pairwise {
                    ballots,
                    preferences,
                } => match &mut pairwise {
                    None => pairwise = Some((*ballots, preferences.clone())),
                    Some((total, sum)) if sum.len() == preferences.len() => {
                        *total += ballots;
                        for (s, p) in sum.iter_mut().zip(preferences) {
                            *s += p;
                        }
                    }
                    Some(_) => return None,
                },
            }
        }
        match (any_ballots, pairwise) {
            (true, Some(_)) => None,
            (_, Some((ballots, preferences))) => Some(Summary::Pairwise {
                ballots,
                preferences,
            }),
            (_, None) => Some(Summary::Ballots {
                ballots: ballots.into_values().collect(),
            }),
        }
    }
}

/// A choice without what could name its voter: consent reasons are dropped.
fn anonymise(choice: &Choice) -> Choice {
    match choice {
        Choice::Consent { position, .. } => Choice::Consent {
            position: *position,
            reason: String::new(),
        },
        other => other.clone(),
    }
}
