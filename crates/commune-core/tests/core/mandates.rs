//! Scenario tests of mandates, recall, working groups, urgent decisions and federations.

use commune_core::constitution::{Constitution, FederationRules, MandateRules};
use commune_core::mandate::{
    Amount, BreachEvidence, Instruction, MandateTerms, Scope, Signed, Statement,
};
use commune_core::payload::{self, Action, Mode, Payload};
use commune_core::state::{MandateStatus, State};
use commune_core::tally::{self, Choice, Method, Position, Quorum, TallyInput, YesNo};
use commune_core::{CouncilId, EventId, MandateId, fold};

use super::{DAY, Sim, assembly, close, key_of, propose, vote};

fn state(sim: &Sim) -> State {
    fold(&sim.events, |_| None).unwrap().state
}

/// The reasons the fold gave for every event of `who` it refused.
fn refused(sim: &Sim, who: &str) -> Vec<String> {
    let author = sim.member(who);
    fold(&sim.events, |_| None)
        .unwrap()
        .rejections
        .into_iter()
        .filter(|r| r.author == author)
        .map(|r| r.reason)
        .collect()
}

fn elect(sim: &Sim, candidates: &[&str], scope: Scope, term_ms: u64, deadline: u64) -> Payload {
    Payload::Propose(payload::Propose {
        title: "Elect".into(),
        text: String::new(),
        action: Action::Elect {
            candidates: candidates.iter().map(|c| sim.member(c)).collect(),
            terms: MandateTerms {
                scope,
                term_ms,
                instructions: Vec::new(),
            },
        },
        method: Some(Method::Approval { winners: 1 }),
        options: candidates.iter().map(|c| c.to_string()).collect(),
        quorum: None,
        deadline_ms: deadline,
        mode: None,
    })
}

fn approve(proposal: EventId, option: u32) -> Payload {
    Payload::Ballot(payload::Ballot {
        proposal,
        choice: Choice::Approval {
            approved: vec![option],
        },
    })
}

/// Everyone in `voters` approves option 0, then `closer` closes at `time`.
fn elect_first(sim: &mut Sim, election: EventId, voters: &[&str], time: u64) -> EventId {
    for voter in voters {
        sim.act(voter, time - 10, approve(election, 0));
    }
    sim.act(voters[0], time, close(election))
}

fn decide(sim: &mut Sim, who: &str, action: Action, time: u64, voters: &[&str]) -> EventId {
    let p = sim.act(who, time, propose("Decide", action, None, time + 3 * DAY));
    for voter in voters {
        sim.act(voter, time + 10, vote(p, YesNo::Yes));
    }
    sim.act(who, time + 3 * DAY, close(p));
    p
}

fn kitchen() -> Scope {
    Scope::WorkingGroup {
        name: "kitchen".into(),
        limits: vec![Amount {
            unit: "hours".into(),
            quantity: 10,
        }],
    }
}

fn only_mandate(state: &State) -> MandateId {
    assert_eq!(state.mandates.len(), 1, "one mandate");
    *state.mandates.keys().next().unwrap()
}

fn act(mandate: MandateId, hours: u64) -> Payload {
    Payload::Act(payload::Act {
        mandate,
        text: format!("cook for {hours} hours"),
        amounts: vec![Amount {
            unit: "hours".into(),
            quantity: hours,
        }],
    })
}

#[test]
fn an_election_issues_mandates_and_terms_rotate() {
    let mut sim = assembly();
    let mut time = 10_000;
    for term in 1..=2 {
        let e = sim.act(
            "alice",
            time,
            elect(&sim, &["bob", "carol"], kitchen(), DAY, time + DAY),
        );
        elect_first(&mut sim, e, &["alice", "bob", "carol", "dave"], time + 100);
        let s = state(&sim);
        let bob: Vec<_> = s
            .mandates
            .values()
            .filter(|m| m.holder == sim.member("bob"))
            .collect();
        assert_eq!(bob.len(), term);
        assert_eq!(bob.iter().map(|m| m.term).max(), Some(term as u32));
        time += 1000;
    }
    // A third consecutive term is refused at the proposal: terms rotate (at most 2 by default).
    sim.act(
        "alice",
        time,
        elect(&sim, &["bob", "carol"], kitchen(), DAY, time + DAY),
    );
    assert_eq!(
        refused(&sim, "alice"),
        ["bob has held 2 consecutive mandates of this scope: mandates rotate"]
    );
    // Another scope counts apart.
    let other = Scope::WorkingGroup {
        name: "repairs".into(),
        limits: Vec::new(),
    };
    let e = sim.act(
        "alice",
        time + 1,
        elect(&sim, &["bob", "dave"], other, DAY, time + DAY),
    );
    elect_first(&mut sim, e, &["alice", "bob", "carol", "dave"], time + 200);
    assert_eq!(state(&sim).mandates.len(), 3);
}

#[test]
fn a_working_group_acts_within_its_limits_and_the_council_overturns() {
    let mut sim = assembly();
    let e = sim.act(
        "alice",
        10_000,
        elect(&sim, &["bob", "dave"], kitchen(), 30 * DAY, 20_000),
    );
    elect_first(&mut sim, e, &["alice", "bob", "carol", "dave"], 20_000);
    let m = only_mandate(&state(&sim));
    let first = sim.act("bob", 21_000, act(m, 6));
    sim.act("bob", 22_000, act(m, 5));
    sim.act("carol", 22_500, act(m, 1));
    assert_eq!(
        refused(&sim, "bob"),
        ["over the mandate's limit: 6 of 10 hours used, and this act needs 5"]
    );
    assert_eq!(
        refused(&sim, "carol"),
        ["only the mandate's holder acts under it"]
    );
    decide(
        &mut sim,
        "alice",
        Action::Overturn { act: first },
        23_000,
        &["alice", "carol", "dave"],
    );
    sim.act("bob", 23_000 + 4 * DAY, act(m, 9));
    let s = state(&sim);
    assert!(s.acts[&first].overturned.is_some());
    assert_eq!(
        s.acts.values().filter(|a| a.overturned.is_none()).count(),
        1
    );
    // After its term, the mandate covers nothing.
    sim.act("bob", 31 * DAY, act(m, 1));
    assert_eq!(
        refused(&sim, "bob").last().unwrap(),
        "the mandate had expired"
    );
}

#[test]
fn a_recall_voids_the_acts_concurrent_with_it() {
    let mut sim = assembly();
    let e = sim.act(
        "alice",
        10_000,
        elect(&sim, &["bob", "dave"], kitchen(), 30 * DAY, 20_000),
    );
    elect_first(&mut sim, e, &["alice", "bob", "carol", "dave"], 20_000);
    let m = only_mandate(&state(&sim));
    let before = sim.act("bob", 21_000, act(m, 2));
    let recall = sim.act(
        "alice",
        22_000,
        propose(
            "Recall Bob",
            Action::Recall { mandate: m },
            None,
            22_000 + 2 * DAY,
        ),
    );
    for voter in ["alice", "carol", "dave"] {
        sim.act(voter, 23_000, vote(recall, YesNo::Yes));
    }
    let fork = sim.heads();
    let closed = sim.act("carol", 22_000 + 2 * DAY, close(recall));
    // Bob, cut off, acts again on what he saw before the close: concurrent with the recall.
    let concurrent = sim.on("bob", &fork, 24_000, act(m, 3));
    sim.on(
        "bob",
        &[closed, concurrent],
        22_000 + 2 * DAY + 1,
        act(m, 1),
    );
    let s = state(&sim);
    assert!(matches!(
        s.mandates[&m].status,
        MandateStatus::Recalled { .. }
    ));
    assert!(s.acts.contains_key(&before));
    assert_eq!(s.acts.len(), 1, "the concurrent act is void");
    let reasons = refused(&sim, "bob");
    assert!(
        reasons[0].starts_with("void: concurrent with the recall"),
        "{reasons:?}"
    );
    assert_eq!(reasons[1], "the mandate was recalled");
}

#[test]
fn a_petition_suspends_at_once_and_a_refused_recall_lifts_it() {
    let rules = MandateRules {
        max_consecutive_terms: 2,
        petition_share_permille: 500,
    };
    let mut sim = Sim::found(
        "alice",
        Constitution {
            mandates: Some(rules),
            ..Constitution::default()
        },
    );
    for (nonce, who) in ["bob", "carol", "dave"].into_iter().enumerate() {
        sim.invite("alice", who, nonce as u8 + 1, 2000 + nonce as u64);
    }
    let e = sim.act(
        "alice",
        10_000,
        elect(&sim, &["bob", "dave"], kitchen(), 30 * DAY, 20_000),
    );
    elect_first(&mut sim, e, &["alice", "bob", "carol", "dave"], 20_000);
    let s = state(&sim);
    let m = only_mandate(&s);
    let petition = Statement::Suspend {
        council: sim.council,
        mandate: m,
    };
    endorse(&mut sim, "carol", &petition, 21_000);
    assert_eq!(state(&sim).mandates[&m].status, MandateStatus::Active);
    let crossing = endorse(&mut sim, "dave", &petition, 21_500);
    let s = state(&sim);
    assert_eq!(
        s.mandates[&m].status,
        MandateStatus::Suspended { petition: crossing }
    );
    let recall = &s.proposals[&crossing];
    assert_eq!(recall.action, Action::Recall { mandate: m });
    sim.act("bob", 22_000, act(m, 1));
    assert_eq!(
        refused(&sim, "bob"),
        ["the mandate is suspended by a recall petition"]
    );
    // Nobody votes: the recall fails for want of a quorum, and the mandate stands again.
    sim.act("alice", 21_500 + 2 * DAY, close(crossing));
    assert_eq!(state(&sim).mandates[&m].status, MandateStatus::Active);
    sim.act("bob", 21_500 + 2 * DAY + 1, act(m, 1));
    assert_eq!(state(&sim).acts.len(), 1);
    // The petition is spent: a new one needs the share again, from anyone.
    assert!(!state(&sim).endorsements.contains_key(&petition.id()));
    endorse(&mut sim, "carol", &petition, 21_500 + 2 * DAY + 2);
    assert_eq!(state(&sim).mandates[&m].status, MandateStatus::Active);
    let again = endorse(&mut sim, "dave", &petition, 21_500 + 2 * DAY + 3);
    assert_eq!(
        state(&sim).mandates[&m].status,
        MandateStatus::Suspended { petition: again }
    );
}

#[test]
fn an_urgent_decision_unratified_is_revoked_and_what_followed_is_flagged() {
    let mut sim = assembly();
    let mut urgent = propose("Occupy the depot tonight", Action::None, None, 10_060);
    if let Payload::Propose(p) = &mut urgent {
        p.mode = Some(Mode::Urgent);
    }
    let u = sim.act("alice", 10_000, urgent);
    for voter in ["alice", "bob", "carol", "dave"] {
        sim.act(voter, 10_010, vote(u, YesNo::Yes));
    }
    let closed = sim.act("bob", 10_020, close(u));
    let s = state(&sim);
    assert_eq!(
        s.proposals[&u].decision.as_ref().unwrap().ratification,
        Some(closed)
    );
    assert_eq!(s.proposals[&closed].action, Action::Ratify { decision: u });
    let follow = sim.act(
        "carol",
        10_030,
        propose("Buy padlocks for the depot", Action::None, None, 20_000),
    );
    // No one opens a ratification by hand.
    sim.act(
        "dave",
        10_040,
        propose("Ratify it", Action::Ratify { decision: u }, None, 20_000),
    );
    assert_eq!(
        refused(&sim, "dave"),
        ["a ratification is opened by the council itself when an urgent decision passes"]
    );
    for voter in ["alice", "bob", "carol"] {
        sim.act(voter, 11_000, vote(closed, YesNo::No));
    }
    sim.act("dave", 10_020 + 7 * DAY, close(closed));
    let s = state(&sim);
    assert_eq!(
        s.proposals[&u].decision.as_ref().unwrap().revoked,
        s.proposals[&closed].decision.as_ref().map(|d| d.close)
    );
    assert_eq!(s.proposals[&follow].follows_revoked, Some(u));
}

fn endorse(sim: &mut Sim, who: &str, statement: &Statement, time: u64) -> EventId {
    let signature = statement.sign(&key_of(who));
    sim.act(
        who,
        time,
        Payload::Endorse(payload::Endorse {
            statement: statement.clone(),
            signature,
            breach: None,
        }),
    )
}

fn certificate(statement: &Statement, signers: &[&str]) -> Payload {
    let signatures: Vec<Signed> = signers
        .iter()
        .map(|who| Signed {
            signer: key_of(who).public(),
            signature: statement.sign(&key_of(who)),
        })
        .collect();
    Payload::Certify(payload::Certify::new(statement.clone(), signatures))
}

/// A federation convened by `convener`, and a council of alice, bob, carol and dave that
/// joined it (its roster certified by alice and bob, admitted by the convener).
struct World {
    federation: Sim,
    home: Sim,
}

impl World {
    fn fed_id(&self) -> CouncilId {
        self.federation.council
    }
}

fn federate() -> World {
    let federation = Sim::found(
        "convener",
        Constitution {
            federation: Some(FederationRules::default()),
            ..Constitution::default()
        },
    );
    let mut home = assembly();
    let fed = federation.council;
    decide(
        &mut home,
        "alice",
        Action::JoinFederation { federation: fed },
        5000,
        &["alice", "bob", "carol"],
    );
    let roster = state(&home).roster_statement(fed);
    let mut world = World { federation, home };
    let time = 5000 + 3 * DAY + 100;
    endorse(&mut world.home, "alice", &roster, time);
    endorse(&mut world.home, "bob", &roster, time + 1);
    let signed = &state(&world.home).endorsements[&roster.id()];
    assert_eq!(signed.signatures.len(), 2);
    world
        .federation
        .act("alice", time + 10, certificate(&roster, &["alice", "bob"]));
    let admit = world.federation.act(
        "convener",
        time + 20,
        propose(
            "Admit the tenants",
            Action::AdmitCouncil {
                council: world.home.council,
            },
            None,
            time + 20,
        ),
    );
    world.federation.act(
        "convener",
        time + 30,
        Payload::Ballot(payload::Ballot {
            proposal: admit,
            choice: Choice::Consent {
                position: Position::Agree,
                reason: String::new(),
            },
        }),
    );
    world.federation.act("convener", time + 40, close(admit));
    let s = state(&world.federation);
    assert!(
        s.federation
            .as_ref()
            .unwrap()
            .councils
            .contains_key(&world.home.council)
    );
    world
}

/// The home council elects bob its delegate (term `term_ms`) and certifies his mandate to
/// the federation. Returns the mandate.
fn seat_bob(world: &mut World, time: u64, term_ms: u64) -> MandateId {
    let scope = Scope::Federation {
        federation: world.fed_id(),
    };
    let e = world.home.act(
        "alice",
        time,
        elect(&world.home, &["bob", "dave"], scope, term_ms, time + 100),
    );
    elect_first(
        &mut world.home,
        e,
        &["alice", "bob", "carol", "dave"],
        time + 100,
    );
    let s = state(&world.home);
    let m = *s.mandates.keys().next().unwrap();
    let statement = s.mandate_statement(&m).unwrap();
    endorse(&mut world.home, "alice", &statement, time + 200);
    endorse(&mut world.home, "carol", &statement, time + 201);
    world.federation.act(
        "carol",
        time + 300,
        certificate(&statement, &["alice", "carol"]),
    );
    m
}

#[test]
fn a_council_joins_a_federation_and_seats_a_delegate_by_certificate() {
    let mut world = federate();
    let t = 10 * DAY;
    let m = seat_bob(&mut world, t, 30 * DAY);
    let s = state(&world.federation);
    let seat = &s.federation.as_ref().unwrap().delegates[&world.home.member("bob")];
    assert_eq!((seat.council, seat.mandate), (world.home.council, m));
    let sitting: Vec<_> = s.members.keys().collect();
    assert_eq!(
        sitting,
        [&world.home.member("bob")],
        "the convener's seat ends with the first delegate's"
    );
    // The delegate sits: he proposes and votes.
    let q = world.federation.act(
        "bob",
        t + 1000,
        propose("A city-wide rent strike", Action::None, None, t + 2000),
    );
    world.federation.act("bob", t + 1100, vote(q, YesNo::Yes));
    world.federation.act("bob", t + 2000, close(q));
    let s = state(&world.federation);
    assert!(s.proposals[&q].decision.as_ref().unwrap().outcome.passed);
    assert!(refused(&world.federation, "bob").is_empty());
}

#[test]
fn forged_and_under_signed_certificates_are_refused() {
    let mut world = federate();
    let t = 10 * DAY;
    let scope = Scope::Federation {
        federation: world.fed_id(),
    };
    let e = world.home.act(
        "alice",
        t,
        elect(&world.home, &["bob", "dave"], scope, 30 * DAY, t + 100),
    );
    elect_first(
        &mut world.home,
        e,
        &["alice", "bob", "carol", "dave"],
        t + 100,
    );
    let s = state(&world.home);
    let statement = s
        .mandate_statement(s.mandates.keys().next().unwrap())
        .unwrap();
    // One signature of the two the federation asks of a council of four.
    world
        .federation
        .act("alice", t + 300, certificate(&statement, &["alice"]));
    // A stranger's signature.
    world.federation.act(
        "mallory",
        t + 400,
        certificate(&statement, &["alice", "mallory"]),
    );
    assert_eq!(
        refused(&world.federation, "alice"),
        ["1 signature(s), and the federation needs 2 of the council's 4"]
    );
    let mallory = refused(&world.federation, "mallory");
    assert!(
        mallory[0].contains("is not on the council's roster"),
        "{mallory:?}"
    );
    // A signature that is not alice's: the event fails its signature check, so no node
    // stores it.
    let mut forged = certificate(&statement, &["alice", "carol"]);
    if let Payload::Certify(c) = &mut forged {
        c.signatures[..64].copy_from_slice(&statement.sign(&key_of("mallory")).0);
    }
    let id = world.federation.act("carol", t + 500, forged);
    let event = world.federation.events.iter().find(|e| e.id == id).unwrap();
    assert!(event.verify().is_err());
    assert_eq!(
        commune_core::event::verify_events(std::slice::from_ref(event)),
        [false]
    );
    // A statement the home log does not bear out is refused there, whoever signs it.
    let lie = Statement::Mandate {
        council: world.home.council,
        mandate: MandateId([7; 32]),
        holder: world.home.member("dave"),
        federation: world.fed_id(),
        expires_ms: u64::MAX,
        instructions: Vec::new(),
    };
    endorse(&mut world.home, "dave", &lie, t + 600);
    assert_eq!(
        refused(&world.home, "dave"),
        ["no such mandate in the signer's causal past"]
    );
}

/// A council of 1,000 asks to join; half of them sign its roster, the default share.
#[test]
fn a_thousand_member_roster_certificate_fits_one_event_and_compact_forgeries_are_refused() {
    let mut federation = Sim::found(
        "convener",
        Constitution {
            federation: Some(FederationRules::default()),
            ..Constitution::default()
        },
    );
    let names: Vec<String> = (0..1000).map(|i| format!("member {i}")).collect();
    let mut members: Vec<_> = names.iter().map(|n| key_of(n).public()).collect();
    members.sort();
    let council = CouncilId([9; 32]);
    let roster = Statement::Roster {
        council,
        federation: federation.council,
        version: 3,
        members,
        petition_share_permille: None,
    };
    let signed_by = |names: &[String]| {
        let signatures = names
            .iter()
            .map(|n| Signed {
                signer: key_of(n).public(),
                signature: roster.sign(&key_of(n)),
            })
            .collect();
        payload::Certify::new(roster.clone(), signatures)
    };
    let half = signed_by(&names[..500]);
    let size = Payload::Certify(half.clone()).encode().len();
    assert!(size <= commune_core::event::MAX_INLINE_BODY, "{size} bytes");
    assert_eq!(half.signed().unwrap().len(), 500);
    // One short of half.
    federation.act(
        &names[1],
        10_000,
        Payload::Certify(signed_by(&names[1..500])),
    );
    assert_eq!(
        refused(&federation, &names[1]),
        ["499 signature(s), and the federation needs 500 of the council's 1000"]
    );
    // A bitmap naming a member past the roster's end, or a signature missing.
    let mut past_end = half.clone();
    past_end.signers.push(0x80);
    let mut short = half.clone();
    short.signatures.truncate(short.signatures.len() - 64);
    for (bad, why) in [
        (past_end, "a roster's signers are one bit per member"),
        (short, "one signature of 64 bytes per signer"),
    ] {
        assert_eq!(bad.signed().unwrap_err(), why);
        federation.act(&names[2], 10_100, Payload::Certify(bad));
        assert_eq!(refused(&federation, &names[2]).last().unwrap(), why);
    }
    federation.act(&names[0], 10_200, Payload::Certify(half.clone()));
    let s = state(&federation);
    assert!(s.federation.unwrap().applicants.contains_key(&council));
    // One signature changed: the event fails its signature check, and no node stores it.
    let mut forged = half;
    forged.signatures[100] ^= 1;
    let id = federation.act(&names[0], 10_300, Payload::Certify(forged));
    let event = federation.events.iter().find(|e| e.id == id).unwrap();
    assert_eq!(
        commune_core::event::verify_events(std::slice::from_ref(event)),
        [false]
    );
}

#[test]
fn a_recall_concurrent_with_the_delegates_ballot_voids_it() {
    let mut world = federate();
    let t = 10 * DAY;
    let m = seat_bob(&mut world, t, 30 * DAY);
    let q = world.federation.act(
        "bob",
        t + 1000,
        propose(
            "Join the regional federation",
            Action::None,
            None,
            t + 5 * DAY,
        ),
    );
    // At home, the council recalls bob and certifies the recall.
    decide(
        &mut world.home,
        "alice",
        Action::Recall { mandate: m },
        t + 2000,
        &["alice", "carol", "dave"],
    );
    let recall = Statement::Recall {
        council: world.home.council,
        mandate: m,
    };
    endorse(&mut world.home, "alice", &recall, t + 4 * DAY);
    endorse(&mut world.home, "carol", &recall, t + 4 * DAY + 1);
    let fork = world.federation.heads();
    world.federation.act(
        "carol",
        t + 4 * DAY + 2,
        certificate(&recall, &["alice", "carol"]),
    );
    // Bob, partitioned from the recall, votes: concurrent with the certificate.
    world
        .federation
        .on("bob", &fork, t + 4 * DAY + 3, vote(q, YesNo::Yes));
    let s = state(&world.federation);
    assert!(s.proposals[&q].ballots.is_empty());
    let reasons = refused(&world.federation, "bob");
    assert!(
        reasons[0].starts_with("void: concurrent with the certificate that unseated"),
        "{reasons:?}"
    );
    assert!(
        s.federation.unwrap().delegates[&world.home.member("bob")]
            .ended
            .is_some()
    );
    // The old mandate certificate, posted again, seats no one.
    let old = state(&world.home).mandate_statement(&m).unwrap();
    world
        .federation
        .act("alice", t + 5 * DAY, certificate(&old, &["alice", "carol"]));
    assert_eq!(
        refused(&world.federation, "alice"),
        [
            "that mandate was recalled or suspended here; only a new election seats the delegate again"
        ]
    );
}

#[test]
fn a_mandate_expires_inside_a_partition() {
    let mut world = federate();
    let t = 10 * DAY;
    seat_bob(&mut world, t, DAY);
    let q = world.federation.act(
        "bob",
        t + 1000,
        propose("Share the trucks", Action::None, None, t + 5 * DAY),
    );
    // No recall ever reaches the federation; the term alone ends the seat.
    world
        .federation
        .act("bob", t + 2 * DAY, vote(q, YesNo::Yes));
    assert_eq!(
        refused(&world.federation, "bob"),
        ["the mandate that seats this delegate had expired"]
    );
}

/// The home council instructs bob to vote no on a federation question and certifies the
/// instruction; bob votes yes. Returns the mandate, the question, bob's ballot and the
/// certificate that gave him the instruction.
fn bob_breaches(world: &mut World, t: u64) -> (MandateId, EventId, EventId, EventId) {
    let m = seat_bob(world, t, 30 * DAY);
    let q = world.federation.act(
        "bob",
        t + 1000,
        propose(
            "Accept the landlords' offer",
            Action::None,
            None,
            t + 10 * DAY,
        ),
    );
    let instruction = Instruction {
        proposal: q,
        choice: Choice::YesNo { vote: YesNo::No },
    };
    let federation = world.fed_id();
    decide(
        &mut world.home,
        "alice",
        Action::Instruct {
            federation,
            instruction,
        },
        t + 2000,
        &["alice", "carol", "dave"],
    );
    let s = state(&world.home);
    assert_eq!(s.mandates[&m].instructions.len(), 1);
    let statement = s.mandate_statement(&m).unwrap();
    endorse(&mut world.home, "alice", &statement, t + 4 * DAY);
    endorse(&mut world.home, "dave", &statement, t + 4 * DAY + 1);
    let certificate = world.federation.act(
        "dave",
        t + 4 * DAY + 2,
        certificate(&statement, &["alice", "dave"]),
    );
    let ballot = world
        .federation
        .act("bob", t + 4 * DAY + 3, vote(q, YesNo::Yes));
    (m, q, ballot, certificate)
}

#[test]
fn a_ballot_against_the_councils_instruction_is_a_breach() {
    let mut world = federate();
    let (m, _, ballot, _) = bob_breaches(&mut world, 10 * DAY);
    let s = state(&world.federation);
    let breaches = &s.federation.as_ref().unwrap().breaches;
    assert_eq!(breaches.len(), 1);
    assert_eq!(
        (
            breaches[0].delegate,
            breaches[0].mandate,
            breaches[0].ballot
        ),
        (world.home.member("bob"), m, ballot)
    );
}

fn bytes_of(sim: &Sim, id: EventId) -> Vec<u8> {
    sim.events
        .iter()
        .find(|e| e.id == id)
        .unwrap()
        .bytes
        .clone()
}

fn petition_with(
    sim: &mut Sim,
    who: &str,
    mandate: MandateId,
    breach: BreachEvidence,
    time: u64,
) -> EventId {
    let statement = Statement::Suspend {
        council: sim.council,
        mandate,
    };
    sim.act(
        who,
        time,
        Payload::Endorse(payload::Endorse {
            signature: statement.sign(&key_of(who)),
            statement,
            breach: Some(breach),
        }),
    )
}

#[test]
fn a_breach_carried_home_opens_a_recall_petition_and_forged_evidence_is_refused() {
    let mut world = federate();
    let t = 10 * DAY;
    let (m, _, ballot, cert) = bob_breaches(&mut world, t);
    let evidence = BreachEvidence {
        ballot: bytes_of(&world.federation, ballot),
        certificate: bytes_of(&world.federation, cert),
    };
    // A ballot whose signature was tampered with.
    let mut tampered = evidence.clone();
    let last = tampered.ballot.len() - 1;
    tampered.ballot[last] ^= 1;
    petition_with(&mut world.home, "alice", m, tampered, t + 5 * DAY);
    // Bob's ballot on a question the council gave no instruction on, with a certificate dave
    // made up that instructs him on it: the council never decided that instruction.
    let other = world.federation.act(
        "bob",
        t + 5 * DAY,
        propose("Paint the hall", Action::None, None, t + 9 * DAY),
    );
    let innocent = world
        .federation
        .act("bob", t + 5 * DAY + 1, vote(other, YesNo::Yes));
    let mut lie = state(&world.home).mandate_statement(&m).unwrap();
    if let Statement::Mandate { instructions, .. } = &mut lie {
        instructions.push(Instruction {
            proposal: other,
            choice: Choice::YesNo { vote: YesNo::No },
        });
    }
    let made_up = world
        .federation
        .act("dave", t + 5 * DAY + 2, certificate(&lie, &["dave"]));
    let forged = BreachEvidence {
        ballot: bytes_of(&world.federation, innocent),
        certificate: bytes_of(&world.federation, made_up),
    };
    petition_with(&mut world.home, "dave", m, forged, t + 5 * DAY + 3);
    // The convener's ballot is not the delegate's.
    let not_bobs = BreachEvidence {
        ballot: evidence.certificate.clone(),
        certificate: evidence.certificate.clone(),
    };
    petition_with(&mut world.home, "bob", m, not_bobs, t + 5 * DAY + 4);
    assert_eq!(
        refused(&world.home, "alice"),
        ["a signature in the breach's evidence does not verify"]
    );
    assert_eq!(
        refused(&world.home, "dave"),
        ["the council gave no instruction on the ballot's proposal in that certificate"]
    );
    assert_eq!(
        refused(&world.home, "bob"),
        ["the breach's ballot is not the delegate's"]
    );
    let s = state(&world.home);
    assert_eq!(s.mandates[&m].status, MandateStatus::Active);
    assert!(s.mandates[&m].breaches.is_empty());
    // The real evidence, carried home by carol: her signature opens the petition, citing
    // the breach, and (a quarter of four members) suspends the mandate.
    let carried = petition_with(&mut world.home, "carol", m, evidence.clone(), t + 6 * DAY);
    let s = state(&world.home);
    let breaches = &s.mandates[&m].breaches;
    assert_eq!(breaches.len(), 1);
    assert_eq!(
        (
            breaches[0].ballot,
            breaches[0].certificate,
            breaches[0].petition
        ),
        (ballot, cert, carried)
    );
    assert_eq!(
        s.mandates[&m].status,
        MandateStatus::Suspended { petition: carried }
    );
    assert_eq!(s.proposals[&carried].action, Action::Recall { mandate: m });
    // Others sign the same petition as usual; the same breach is not recorded twice.
    let petition = Statement::Suspend {
        council: world.home.council,
        mandate: m,
    };
    endorse(&mut world.home, "alice", &petition, t + 6 * DAY + 1);
    petition_with(&mut world.home, "dave", m, evidence, t + 6 * DAY + 2);
    let s = state(&world.home);
    assert_eq!(s.endorsements[&petition.id()].signatures.len(), 2);
    assert_eq!(
        refused(&world.home, "dave").last().unwrap(),
        "that breach is already on record"
    );
}

#[test]
fn a_delegate_the_council_keeps_after_a_petition_is_seated_again() {
    let mut world = federate();
    let t = 10 * DAY;
    let m = seat_bob(&mut world, t, 30 * DAY);
    let council = world.home.council;
    let petition = Statement::Suspend {
        council,
        mandate: m,
    };
    let crossing = endorse(&mut world.home, "carol", &petition, t + DAY);
    endorse(&mut world.home, "dave", &petition, t + DAY + 1);
    let suspension = world.federation.act(
        "carol",
        t + DAY + 2,
        certificate(&petition, &["carol", "dave"]),
    );
    let bob = world.home.member("bob");
    let s = state(&world.federation);
    assert_eq!(
        s.federation.as_ref().unwrap().delegates[&bob].ended,
        Some(suspension)
    );
    assert!(!s.members.contains_key(&bob));
    // Nobody may sign the reinstatement while the council has not decided.
    let reinstate = Statement::Reinstate {
        council,
        mandate: m,
    };
    endorse(&mut world.home, "alice", &reinstate, t + DAY + 3);
    assert_eq!(
        refused(&world.home, "alice"),
        ["the council has not kept that mandate after a petition in the signer's causal past"]
    );
    // The recall fails for want of a quorum: the council keeps bob.
    let keep = world.home.act("alice", t + 3 * DAY, close(crossing));
    let s = state(&world.home);
    assert_eq!(s.mandates[&m].status, MandateStatus::Active);
    assert_eq!(s.mandates[&m].kept, Some(keep));
    endorse(&mut world.home, "alice", &reinstate, t + 3 * DAY + 1);
    endorse(&mut world.home, "carol", &reinstate, t + 3 * DAY + 2);
    assert_eq!(
        state(&world.home).endorsements[&reinstate.id()]
            .signatures
            .len(),
        2
    );
    let seated_by = state(&world.federation).federation.unwrap().delegates[&bob].certificate;
    let back = world.federation.act(
        "alice",
        t + 3 * DAY + 3,
        certificate(&reinstate, &["alice", "carol"]),
    );
    let s = state(&world.federation);
    let seat = &s.federation.as_ref().unwrap().delegates[&bob];
    assert_eq!(seat.ended, None);
    assert_eq!(seat.certificate, seated_by, "the mandate's, not {back}");
    assert!(s.members.contains_key(&bob));
    // He sits again: his ballot counts.
    let q = world.federation.act(
        "bob",
        t + 3 * DAY + 10,
        propose("Share the trucks", Action::None, None, t + 4 * DAY),
    );
    world
        .federation
        .act("bob", t + 3 * DAY + 11, vote(q, YesNo::Yes));
    assert_eq!(state(&world.federation).proposals[&q].ballots.len(), 1);
    // The old suspension, posted again, does not unseat him; a second reinstatement does
    // nothing either.
    world.federation.act(
        "dave",
        t + 3 * DAY + 20,
        certificate(&petition, &["carol", "dave"]),
    );
    world.federation.act(
        "carol",
        t + 3 * DAY + 21,
        certificate(&reinstate, &["alice", "carol"]),
    );
    assert_eq!(
        refused(&world.federation, "dave"),
        [
            "the council kept that mandate after a petition; only its recall unseats the delegate now"
        ]
    );
    assert_eq!(
        refused(&world.federation, "carol"),
        ["no delegate's seat under that mandate is suspended here"]
    );
    assert!(state(&world.federation).members.contains_key(&bob));
}

/// Two councils answer a referred Schulze question and a referred STV election; the
/// federation's result equals a direct count of all their ballots together.
#[test]
fn a_referrals_aggregate_equals_a_direct_tally() {
    let mut world = federate();
    let fed = world.fed_id();
    // A second council, of erin, frank and gina, joins too.
    let mut second = Sim::found("erin", Constitution::default());
    second.invite("erin", "frank", 1, 2000);
    second.invite("erin", "gina", 2, 3000);
    decide(
        &mut second,
        "erin",
        Action::JoinFederation { federation: fed },
        5000,
        &["erin", "frank"],
    );
    let roster = state(&second).roster_statement(fed);
    let t = 10 * DAY;
    endorse(&mut second, "erin", &roster, t);
    endorse(&mut second, "frank", &roster, t + 1);
    world
        .federation
        .act("erin", t + 2, certificate(&roster, &["erin", "frank"]));
    let m = seat_bob(&mut world, t + 10, 30 * DAY);
    let _ = m;
    // The delegate of the first council admits the second.
    let admit = world.federation.act(
        "bob",
        t + 1000,
        propose(
            "Admit the second council",
            Action::AdmitCouncil {
                council: second.council,
            },
            None,
            t + 1000,
        ),
    );
    world.federation.act(
        "bob",
        t + 1001,
        Payload::Ballot(payload::Ballot {
            proposal: admit,
            choice: Choice::Consent {
                position: Position::Agree,
                reason: String::new(),
            },
        }),
    );
    world.federation.act("bob", t + 1002, close(admit));
    assert_eq!(
        state(&world.federation).federation.unwrap().councils.len(),
        2
    );

    let options: Vec<String> = ["north", "south", "east", "west"].map(String::from).into();
    let ranked = |ranks: &[u32]| Choice::Ranked {
        ranks: ranks.iter().map(|&r| vec![r]).collect(),
    };
    let home_ballots = [
        ranked(&[0, 1, 2]),
        ranked(&[1, 0]),
        ranked(&[2, 1, 0, 3]),
        ranked(&[0, 2]),
    ];
    let second_ballots = [ranked(&[3, 1]), ranked(&[1, 3, 0]), ranked(&[1])];
    for method in [
        Method::Schulze { status_quo: None },
        Method::StvMeek { seats: 2 },
    ] {
        let mut question = propose("Where the depot goes", Action::None, None, t + 9 * DAY);
        if let Payload::Propose(p) = &mut question {
            p.method = Some(method.clone());
            p.options = options.clone();
            p.mode = Some(Mode::Referral);
        }
        let q = world.federation.act("bob", t + 2000, question);
        for (council, ballots, voters) in [
            (
                &mut world.home,
                &home_ballots[..],
                &["alice", "bob", "carol", "dave"][..],
            ),
            (
                &mut second,
                &second_ballots[..],
                &["erin", "frank", "gina"][..],
            ),
        ] {
            let mut refer = propose(
                "Where the federation's depot goes",
                Action::Refer {
                    federation: fed,
                    question: q,
                },
                None,
                t + 5 * DAY,
            );
            if let Payload::Propose(p) = &mut refer {
                p.method = Some(method.clone());
                p.options = options.clone();
            }
            let r = council.act(voters[0], t + 3000, refer);
            for (voter, choice) in voters.iter().zip(ballots) {
                council.act(
                    voter,
                    t + 3100,
                    Payload::Ballot(payload::Ballot {
                        proposal: r,
                        choice: choice.clone(),
                    }),
                );
            }
            council.act(voters[0], t + 3200, close(r));
            let s = state(council);
            let statement = s.proposals[&r].tally_statement(council.council).unwrap();
            endorse(council, voters[0], &statement, t + 3300);
            endorse(council, voters[1], &statement, t + 3301);
            world.federation.act(
                voters[0],
                t + 3400,
                certificate(&statement, &[voters[0], voters[1]]),
            );
        }
        world.federation.act("bob", t + 9 * DAY, close(q));
        let s = state(&world.federation);
        assert!(refused(&world.federation, "alice").is_empty());
        let proposal = &s.proposals[&q];
        assert_eq!(proposal.tallies.len(), 2);
        let federated = &proposal.decision.as_ref().unwrap().outcome;
        let all: Vec<&Choice> = home_ballots.iter().chain(&second_ballots).collect();
        let direct = tally::tally(&TallyInput::new(
            q,
            &method,
            &options,
            Quorum::default(),
            7,
            &all,
        ));
        assert_eq!(federated.winners, direct.winners, "{}", method.name());
        assert_eq!(federated.ballots, 7);
        assert_eq!(federated.electorate, 7);
        let (f, d) = (
            federated.report.as_ref().unwrap(),
            direct.report.as_ref().unwrap(),
        );
        assert_eq!(f.ranking, d.ranking);
        assert_eq!(f.pairwise, d.pairwise);
        assert_eq!(f.rounds, d.rounds);
    }
}
