//! A council's constitution: admission, the method and quorum per kind of question, and who
//! may close proposals. Changed only by a decision of the council.

use minicbor::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::id::MemberId;
use crate::plan::Settings;
use crate::tally::{Method, Quorum};

/// How new members come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[cbor(index_only)]
#[serde(rename_all = "kebab-case")]
pub enum Admission {
    /// Any member may hand out an invitation; its holder joins at once.
    #[n(0)]
    Invitation,
    /// A request to join is decided by an admission proposal.
    #[n(1)]
    Vote,
    /// Anyone who holds the log may join.
    #[n(2)]
    Open,
}

/// The kinds of question a council decides, each with its own rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum QuestionKind {
    General,
    Admission,
    Removal,
    Amendment,
    /// Electing delegates or a working group (the general rule's quorum and deadline).
    Election,
    /// Recalling a mandate (the removal rule).
    Recall,
    /// Admitting a council to a federation (the admission rule).
    Federation,
}

impl QuestionKind {
    pub fn name(self) -> &'static str {
        match self {
            QuestionKind::General => "general",
            QuestionKind::Admission => "admission",
            QuestionKind::Removal => "removal",
            QuestionKind::Amendment => "amendment",
            QuestionKind::Election => "election",
            QuestionKind::Recall => "recall",
            QuestionKind::Federation => "federation",
        }
    }
}

/// The default method and quorum for one kind of question, and its shortest deadline.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Rule {
    #[n(0)]
    pub method: Method,
    #[n(1)]
    pub quorum: Quorum,
    /// A proposal's deadline is at least this long after it opens.
    #[n(2)]
    pub min_duration_ms: u64,
}

/// Who may close a proposal.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[cbor(flat)]
#[serde(tag = "who", rename_all = "kebab-case")]
pub enum Closers {
    #[n(0)]
    AnyMember,
    #[n(1)]
    Proposer,
    #[n(2)]
    Tellers {
        #[n(0)]
        tellers: Vec<MemberId>,
    },
}

/// A council's rules.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Constitution {
    #[n(0)]
    pub admission: Admission,
    #[n(1)]
    pub general: Rule,
    #[n(2)]
    pub admission_rule: Rule,
    #[n(3)]
    pub removal: Rule,
    #[n(4)]
    pub amendment: Rule,
    #[n(5)]
    pub closers: Closers,
    /// Whether a proposal may be closed before its deadline once every member of its
    /// electorate has voted.
    #[n(6)]
    pub early_close: bool,
    /// Mandate rules; `None` means [`MandateRules::default`].
    #[n(7)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mandates: Option<MandateRules>,
    /// Set only in a federation: a council whose members are councils.
    #[n(8)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub federation: Option<FederationRules>,
    /// The planner's settings for the council's register; `None` means
    /// [`Settings::default`].
    #[n(9)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planner: Option<Settings>,
    /// Who may read the council's log and pages; `None` means [`Reading::Members`].
    #[n(10)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reading: Option<Reading>,
}

/// Who may read a council: its log, its pages, its API, its sync and its bundles.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[cbor(index_only)]
#[serde(rename_all = "kebab-case")]
pub enum Reading {
    /// Anyone who reaches a node that holds it reads everything.
    #[n(0)]
    Public,
    /// Only members read; anyone else sees the name and how to ask to join.
    #[default]
    #[n(1)]
    Members,
    /// As `Members`, and meant to have its bodies end-to-end encrypted. Not yet: today the
    /// bodies are stored in clear, and a private council reads exactly as a members-only one.
    #[n(2)]
    Private,
}

impl Reading {
    pub fn name(self) -> &'static str {
        match self {
            Reading::Public => "public",
            Reading::Members => "members",
            Reading::Private => "private",
        }
    }

    /// What the rule means, in words a member reads on the council page.
    pub fn words(self) -> &'static str {
        match self {
            Reading::Public => {
                "anyone may read this council: its members, proposals, ballots and register"
            }
            Reading::Members => {
                "only members read this council; others see its name and how to ask to join"
            }
            Reading::Private => {
                "only members read this council; others see its name and how to ask to join. \
                 Its bodies are meant to be end-to-end encrypted, which is not built yet: the \
                 node that holds its log can read it"
            }
        }
    }
}

/// What a federation may read of its member councils so that it can plan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[cbor(index_only)]
#[serde(rename_all = "kebab-case")]
pub enum Planning {
    /// The member councils' registers (needs, offers, processes, commons, plans), never
    /// their ballots, members or deliberation: read by the federation's members and the
    /// members of its member councils.
    #[default]
    #[n(0)]
    Register,
    /// Nothing beyond what each member council's own reading rule allows.
    #[n(1)]
    Nothing,
}

/// How mandates rotate and how members recall them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct MandateRules {
    /// No one holds more than this many consecutive mandates of one scope (0: no limit).
    #[n(0)]
    pub max_consecutive_terms: u32,
    /// A recall petition signed by this share of the members, in thousandths, suspends the
    /// mandate at once and opens a recall decision.
    #[n(1)]
    pub petition_share_permille: u32,
}

impl Default for MandateRules {
    /// Two consecutive terms at most; a quarter of the members suspend a mandate.
    fn default() -> Self {
        MandateRules {
            max_consecutive_terms: 2,
            petition_share_permille: 250,
        }
    }
}

/// How much a member council weighs when its delegates vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[cbor(index_only)]
#[serde(rename_all = "kebab-case")]
pub enum Weight {
    /// One vote per council, shared among its delegates.
    #[n(0)]
    Equal,
    /// One vote per member of the council, shared among its delegates.
    #[n(1)]
    Membership,
}

/// A federation's rules for its member councils.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct FederationRules {
    #[n(0)]
    pub weight: Weight,
    /// A certificate from a member council needs signatures from this share of that
    /// council's roster, in thousandths (rounded up, at least one).
    #[n(1)]
    pub certificate_share_permille: u32,
    /// What the member councils let the federation read to plan; `None` means
    /// [`Planning::Register`]. A council accepts it by joining the federation.
    #[n(2)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planning: Option<Planning>,
}

impl Default for FederationRules {
    /// Equal weight; certificates signed by half of a council's members.
    fn default() -> Self {
        FederationRules {
            weight: Weight::Equal,
            certificate_share_permille: 500,
            planning: None,
        }
    }
}

const DAY_MS: u64 = 24 * 60 * 60 * 1000;

impl Default for Constitution {
    /// Sane defaults: invitation by any member; general questions by simple majority;
    /// admissions by consent; removals and amendments by two thirds of a half-present
    /// assembly, open for at least two days.
    fn default() -> Self {
        let two_thirds = Method::Supermajority {
            numerator: 2,
            denominator: 3,
        };
        let half = Quorum {
            min_ballots: 1,
            min_share_permille: 500,
        };
        Constitution {
            admission: Admission::Invitation,
            general: Rule {
                method: Method::Majority,
                quorum: Quorum {
                    min_ballots: 1,
                    min_share_permille: 0,
                },
                min_duration_ms: 0,
            },
            admission_rule: Rule {
                method: Method::Consent { max_objections: 0 },
                quorum: Quorum {
                    min_ballots: 1,
                    min_share_permille: 0,
                },
                min_duration_ms: 0,
            },
            removal: Rule {
                method: two_thirds.clone(),
                quorum: half,
                min_duration_ms: 2 * DAY_MS,
            },
            amendment: Rule {
                method: two_thirds,
                quorum: half,
                min_duration_ms: 2 * DAY_MS,
            },
            closers: Closers::AnyMember,
            early_close: true,
            mandates: None,
            federation: None,
            planner: None,
            reading: None,
        }
    }
}

impl Constitution {
    pub fn rule(&self, kind: QuestionKind) -> &Rule {
        match kind {
            QuestionKind::General | QuestionKind::Election => &self.general,
            QuestionKind::Admission | QuestionKind::Federation => &self.admission_rule,
            QuestionKind::Removal | QuestionKind::Recall => &self.removal,
            QuestionKind::Amendment => &self.amendment,
        }
    }

    pub fn mandate_rules(&self) -> MandateRules {
        self.mandates.unwrap_or_default()
    }

    pub fn planner_settings(&self) -> Settings {
        self.planner.unwrap_or_default()
    }

    /// Who may read the council: [`Reading::Members`] unless the council decided otherwise.
    pub fn reading(&self) -> Reading {
        self.reading.unwrap_or_default()
    }

    /// Checks that every rule is usable.
    pub fn check(&self) -> Result<(), String> {
        for kind in [
            QuestionKind::General,
            QuestionKind::Admission,
            QuestionKind::Removal,
            QuestionKind::Amendment,
        ] {
            let rule = self.rule(kind);
            if kind != QuestionKind::General && rule.method.has_options() {
                return Err(format!(
                    "{} questions are yes-or-no; {} chooses among options",
                    kind.name(),
                    rule.method.name()
                ));
            }
            if !rule.method.has_options() {
                rule.method
                    .check(&[])
                    .map_err(|error| format!("{} rule: {error}", kind.name()))?;
            }
            if rule.quorum.min_share_permille > 1000 {
                return Err(format!(
                    "{} rule: a quorum share is at most 1000‰",
                    kind.name()
                ));
            }
        }
        if let Some(rules) = &self.mandates
            && rules.petition_share_permille > 1000
        {
            return Err("a petition share is at most 1000‰".into());
        }
        if let Some(rules) = &self.federation
            && !(1..=1000).contains(&rules.certificate_share_permille)
        {
            return Err("a certificate share is from 1 to 1000‰".into());
        }
        if let Some(settings) = &self.planner
            && settings.tolerance_permille > 1000
        {
            return Err("the planner's tolerance is at most 1000‰ (100 %)".into());
        }
        if let Closers::Tellers { tellers } = &self.closers
            && tellers.is_empty()
        {
            return Err("name at least one teller".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reading rights add no byte to a constitution that leaves them unset, so councils
    /// founded before them keep their events' bytes and their state hash; a set rule
    /// round-trips, and the state's JSON names it only when it is set.
    #[test]
    fn reading_rights_are_left_out_until_set() {
        let unset = Constitution::default();
        let bytes = minicbor::to_vec(&unset).unwrap();
        assert_eq!(
            bytes[0], 0x87,
            "an array of the 7 fields every constitution has"
        );
        assert!(!serde_json::to_string(&unset).unwrap().contains("reading"));
        assert_eq!(unset.reading(), Reading::Members, "the default protects");

        let public = Constitution {
            reading: Some(Reading::Public),
            ..Constitution::default()
        };
        let bytes = minicbor::to_vec(&public).unwrap();
        assert_eq!(bytes[0], 0x8b, "written up to field 10");
        let back: Constitution = minicbor::decode(&bytes).unwrap();
        assert_eq!(back, public);
        assert!(
            serde_json::to_string(&public)
                .unwrap()
                .contains(r#""reading":"public""#)
        );

        let rules = FederationRules::default();
        assert_eq!(minicbor::to_vec(rules).unwrap()[0], 0x82);
        let nothing = FederationRules {
            planning: Some(Planning::Nothing),
            ..rules
        };
        let back: FederationRules = minicbor::decode(&minicbor::to_vec(nothing).unwrap()).unwrap();
        assert_eq!(back, nothing);
    }
}
