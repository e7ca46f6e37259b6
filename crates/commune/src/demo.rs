//! `commune demo`: a realistic example in a fresh data directory, so that a newcomer has
//! something to look at: a tenants' assembly and a bakery workers' committee, with members,
//! and open and closed proposals of each method.

use anyhow::{Result, bail};
use commune_core::constitution::{Admission, Constitution, Reading};
use commune_core::payload::{self, Action, Payload};
use commune_core::tally::{Choice, Method, Position, YesNo};
use commune_core::{CouncilId, EventId, Keypair};

use crate::cli::Invocation;
use crate::node::{DEFAULT_IDENTITY, Node, now_ms};

const DAY: u64 = 86_400_000;

pub fn run(invocation: &Invocation) -> Result<()> {
    let councils = fill(invocation)?;
    invocation.print(&serde_json::json!({ "councils": councils, "data": invocation.dir }), || {
        format!(
            "the example is in {}:\n  commune --data {} council list\n  commune --data {} serve",
            invocation.dir.display(),
            invocation.dir.display(),
            invocation.dir.display()
        )
    })
}

/// Fills the data directory with the example, unless it already holds councils.
pub fn fill(invocation: &Invocation) -> Result<Vec<CouncilId>> {
    let (node, _) = invocation.init(DEFAULT_IDENTITY)?;
    if !node.store().councils()?.is_empty() {
        if invocation.identity == DEFAULT_IDENTITY && node.identity("bilal").is_ok() {
            return node.store().councils().map_err(Into::into);
        }
        bail!(
            "{} already holds councils: the example goes into a fresh data directory (pass --data DIR)",
            invocation.dir.display()
        );
    }
    let mut demo = Demo { node };
    Ok(vec![demo.tenants()?, demo.bakery()?])
}

/// Title, text, method, options, action, and days open.
type Question<'a> = (&'a str, &'a str, Option<Method>, &'a [&'a str], Action, u64);

struct Demo {
    node: Node,
}

impl Demo {
    fn key(&self, name: &str) -> Result<Keypair> {
        match self.node.identity(name) {
            Ok(key) => Ok(key),
            Err(_) => self.node.create_identity(name),
        }
    }

    fn act(&mut self, who: &str, council: CouncilId, payload: Payload) -> Result<EventId> {
        let key = self.key(who)?;
        Ok(self.node.act(&key, council, payload)?.id)
    }

    fn invite_all(&mut self, council: CouncilId, people: &[(&str, &str)]) -> Result<()> {
        let host = self.key(DEFAULT_IDENTITY)?;
        for (identity, name) in people {
            let invitation = self.node.invite(&host, council, 7 * DAY)?;
            self.act(
                identity,
                council,
                Payload::Join(payload::Join {
                    name: (*name).into(),
                    invitation: Some(invitation),
                }),
            )?;
        }
        Ok(())
    }

    fn propose(
        &mut self,
        who: &str,
        council: CouncilId,
        question: Question<'_>,
    ) -> Result<EventId> {
        let (title, text, method, options, action, days) = question;
        self.act(
            who,
            council,
            Payload::Propose(payload::Propose {
                title: title.into(),
                text: text.into(),
                action,
                method,
                options: options.iter().map(|o| o.to_string()).collect(),
                quorum: None,
                deadline_ms: now_ms() + days * DAY,
                mode: None,
            }),
        )
    }

    fn ballot(
        &mut self,
        who: &str,
        council: CouncilId,
        proposal: EventId,
        choice: Choice,
    ) -> Result<()> {
        self.act(
            who,
            council,
            Payload::Ballot(payload::Ballot { proposal, choice }),
        )?;
        Ok(())
    }

    fn yes_no(
        &mut self,
        council: CouncilId,
        proposal: EventId,
        votes: &[(&str, YesNo)],
    ) -> Result<()> {
        for (who, vote) in votes {
            self.ballot(who, council, proposal, Choice::YesNo { vote: *vote })?;
        }
        Ok(())
    }

    fn comment(
        &mut self,
        who: &str,
        council: CouncilId,
        proposal: EventId,
        text: &str,
    ) -> Result<()> {
        self.act(
            who,
            council,
            Payload::Comment(payload::Comment {
                proposal,
                reply_to: None,
                text: text.into(),
            }),
        )?;
        Ok(())
    }

    fn close(&mut self, who: &str, council: CouncilId, proposal: EventId) -> Result<()> {
        self.act(who, council, Payload::Close(payload::Close { proposal }))?;
        Ok(())
    }

    fn tenants(&mut self) -> Result<CouncilId> {
        let me = self.key(DEFAULT_IDENTITY)?;
        let council = self
            .node
            .found(
                &me,
                "Tenants' assembly, 12 Rue Dupont",
                "Amina",
                // Public, so that a visitor to the demo sees a council at work; the bakery's
                // committee keeps the default and shows what a members-only council shows.
                Constitution {
                    reading: Some(Reading::Public),
                    ..Constitution::default()
                },
            )?
            .council();
        self.invite_all(
            council,
            &[
                ("bilal", "Bilal"),
                ("chloe", "Chloé"),
                ("dmitri", "Dmitri"),
                ("esther", "Esther"),
            ],
        )?;
        let everyone = ["me", "bilal", "chloe", "dmitri", "esther"];

        let thursdays = self.propose(
            "chloe",
            council,
            (
                "Meet on Thursdays at 19:00",
                "The assembly meets every Thursday at 19:00 in the common room.",
                Some(Method::Consent { max_objections: 1 }),
                &[],
                Action::None,
                7,
            ),
        )?;
        for who in everyone {
            let (position, reason) = if who == "dmitri" {
                (Position::Object, "I work late on Thursdays; can we rotate?")
            } else {
                (Position::Agree, "")
            };
            self.ballot(
                who,
                council,
                thursdays,
                Choice::Consent {
                    position,
                    reason: reason.into(),
                },
            )?;
        }
        self.close("chloe", council, thursdays)?;

        let strike = self.propose("me", council, ("Withhold rent until the boiler is repaired", "The boiler has been broken for six weeks. We pay rent into a common escrow account \
             until the landlord repairs it.", Some(Method::Majority), &[], Action::None, 3))?;
        self.comment(
            "bilal",
            council,
            strike,
            "The housing union will back us if we go ahead.",
        )?;
        self.comment(
            "esther",
            council,
            strike,
            "I can't risk my lease; I will abstain.",
        )?;
        self.yes_no(
            council,
            strike,
            &[
                ("me", YesNo::Yes),
                ("bilal", YesNo::Yes),
                ("chloe", YesNo::Yes),
                ("dmitri", YesNo::No),
                ("esther", YesNo::Abstain),
            ],
        )?;
        self.close("me", council, strike)?;

        let room = self.propose(
            "esther",
            council,
            (
                "What should the common room be used for?",
                "Pick the uses you would support; the two with most support get the room.",
                Some(Method::Approval { winners: 2 }),
                &[
                    "Homework club",
                    "Tool library",
                    "Food pantry",
                    "Repair café",
                ],
                Action::None,
                5,
            ),
        )?;
        for (who, approved) in [
            ("me", vec![0, 2]),
            ("bilal", vec![1, 2, 3]),
            ("esther", vec![0]),
        ] {
            self.ballot(who, council, room, Choice::Approval { approved })?;
        }

        let inspection = self.propose(
            "bilal",
            council,
            (
                "Ask the city for a rent-control inspection",
                "We file a joint request for an inspection of rents in the building.",
                None,
                &[],
                Action::None,
                4,
            ),
        )?;
        self.yes_no(
            council,
            inspection,
            &[("bilal", YesNo::Yes), ("chloe", YesNo::Yes)],
        )?;
        self.comment(
            "dmitri",
            council,
            inspection,
            "Do we have copies of everyone's leases?",
        )?;
        self.comment(
            "chloe",
            council,
            inspection,
            "I have five of them; I'll collect the rest.",
        )?;
        Ok(council)
    }

    fn bakery(&mut self) -> Result<CouncilId> {
        let me = self.key(DEFAULT_IDENTITY)?;
        let constitution = Constitution {
            admission: Admission::Vote,
            ..Constitution::default()
        };
        let council = self
            .node
            .found(
                &me,
                "Workers' committee, Croissant Coop",
                "Amina",
                constitution,
            )?
            .council();
        // Admission is by vote: each newcomer asks, and the committee admits them.
        for (identity, name) in [("farid", "Farid"), ("gaia", "Gaia"), ("hugo", "Hugo")] {
            self.act(
                identity,
                council,
                Payload::Join(payload::Join {
                    name: name.into(),
                    invitation: None,
                }),
            )?;
            let member = self.key(identity)?.public();
            let admit = self.propose(
                "me",
                council,
                (
                    &format!("Admit {name}"),
                    "",
                    None,
                    &[],
                    Action::Admit { member },
                    1,
                ),
            )?;
            let electorate = self.node.fold(council)?.state.proposals[&admit]
                .electorate
                .clone();
            for voter in electorate {
                let who = self.identity_of(voter)?;
                self.ballot(
                    &who,
                    council,
                    admit,
                    Choice::Consent {
                        position: Position::Agree,
                        reason: String::new(),
                    },
                )?;
            }
            self.close("me", council, admit)?;
        }
        self.act(
            "ines",
            council,
            Payload::Join(payload::Join {
                name: "Inès".into(),
                invitation: None,
            }),
        )?;
        let ines = self.key("ines")?.public();
        let admit_ines = self.propose(
            "farid",
            council,
            (
                "Admit Inès",
                "She starts on the morning shift.",
                None,
                &[],
                Action::Admit { member: ines },
                2,
            ),
        )?;
        self.ballot(
            "farid",
            council,
            admit_ines,
            Choice::Consent {
                position: Position::Agree,
                reason: String::new(),
            },
        )?;

        let rota = self.propose(
            "gaia",
            council,
            (
                "Adopt the four-day week rota",
                "Everyone works four longer days; the bakery stays open six days a week.",
                Some(Method::Supermajority {
                    numerator: 2,
                    denominator: 3,
                }),
                &[],
                Action::None,
                3,
            ),
        )?;
        self.yes_no(
            council,
            rota,
            &[
                ("me", YesNo::Yes),
                ("farid", YesNo::Yes),
                ("gaia", YesNo::Yes),
                ("hugo", YesNo::No),
            ],
        )?;
        self.close("gaia", council, rota)?;

        let flour = self.propose(
            "hugo",
            council,
            (
                "Which mill should supply our flour?",
                "",
                Some(Method::Approval { winners: 1 }),
                &[
                    "Moulin de la Vallée",
                    "Farmers' cooperative mill",
                    "City wholesaler",
                ],
                Action::None,
                3,
            ),
        )?;
        for (who, approved) in [
            ("me", vec![1]),
            ("farid", vec![0, 1]),
            ("gaia", vec![1]),
            ("hugo", vec![0]),
        ] {
            self.ballot(who, council, flour, Choice::Approval { approved })?;
        }
        self.close("hugo", council, flour)?;

        let van = self.propose(
            "farid",
            council,
            (
                "Share the delivery van with the tenants' assembly",
                "On Sundays the van is free; the tenants' food pantry could use it.",
                Some(Method::Consent { max_objections: 0 }),
                &[],
                Action::None,
                6,
            ),
        )?;
        self.ballot(
            "farid",
            council,
            van,
            Choice::Consent {
                position: Position::Agree,
                reason: String::new(),
            },
        )?;
        self.ballot(
            "hugo",
            council,
            van,
            Choice::Consent {
                position: Position::Object,
                reason: "Who pays for the fuel?".into(),
            },
        )?;
        self.comment(
            "gaia",
            council,
            van,
            "We could log the kilometres and ask the assembly to bring fuel.",
        )?;
        Ok(council)
    }

    fn identity_of(&self, member: commune_core::MemberId) -> Result<String> {
        self.node
            .identities()?
            .into_iter()
            .find(|(_, key)| *key == member)
            .map(|(name, _)| name)
            .ok_or_else(|| anyhow::anyhow!("no local identity for {member}"))
    }
}
