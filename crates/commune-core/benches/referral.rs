//! The referral benchmark of DESIGN.md §11: a federation of 1,000 councils of 1,000 members
//! each refers a Schulze question (5 options) to them; every council counts its own ballots
//! and sends a tally certificate. Timed, on one core:
//!
//! - build: each council's summary (its pairwise matrix) from its members' rankings, and the
//!   signatures of the share of its roster the federation asks for;
//! - verify: every signature the certificates carry, with each event's own, in batches, as a
//!   node does when they arrive;
//! - aggregate: the fold of the federation's whole log (rosters, admissions, the question,
//!   the certificates and the close), which checks each signer against the roster, adds the
//!   matrices and counts them.
//!
//! The result is checked against a direct Schulze count of all the ballots together.
//!
//! `cargo bench -p commune-core --bench referral [-- --councils N --members M]`; figures in
//! docs/benchmarks.md. The federation asks for the default share, half of each roster: a
//! roster certificate of a 1,000-member council with 500 signers fits one inline body (64 KiB)
//! because its signers are a bitmap over the roster and keys and signatures are packed.

use std::time::Instant;

use commune_core::constitution::{Constitution, FederationRules};
use commune_core::event::{ParentInfo, verify_events};
use commune_core::mandate::{Signed, Statement, Summary, threshold};
use commune_core::methods::{Profile, schulze};
use commune_core::payload::{self, Action, Mode, Payload};
use commune_core::tally::{self, Choice, Method, Position, Quorum, TallyInput};
use commune_core::{CouncilId, Event, EventId, Keypair, Unsigned, fold};

const OPTIONS: u32 = 5;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A random complete ranking, with a lean towards the low options so the count is not
    /// a coin toss.
    fn ranking(&mut self) -> Vec<u32> {
        let mut order: Vec<u32> = (0..OPTIONS).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, (self.next() % (i as u64 + 1)) as usize);
        }
        if self.next().is_multiple_of(4) {
            order.sort_unstable();
        }
        order
    }
}

/// A federation's log written as one chain, each event on the one before.
struct Log {
    council: CouncilId,
    last: ParentInfo,
    seqs: std::collections::HashMap<commune_core::PublicKey, u64>,
    events: Vec<Event>,
    time: u64,
}

impl Log {
    fn found(convener: &Keypair) -> Log {
        let body = Payload::Found(payload::Found {
            name: "World federation".into(),
            constitution: Constitution {
                federation: Some(FederationRules::default()),
                ..Constitution::default()
            },
            founder_name: "convener".into(),
        });
        let genesis =
            Unsigned::genesis(convener.public(), 1_000, body.kind(), body.encode()).sign(convener);
        Log {
            council: genesis.council(),
            last: genesis.parent_info(),
            seqs: [(convener.public(), 1)].into(),
            events: vec![genesis],
            time: 1_000,
        }
    }

    fn append(&mut self, author: &Keypair, body: &Payload) -> EventId {
        self.time += 1;
        let seq = self.seqs.entry(author.public()).or_insert(0);
        *seq += 1;
        let event = Unsigned::compose(
            self.council,
            author.public(),
            *seq,
            &[self.last],
            self.time,
            body.kind(),
            body.encode(),
        )
        .sign(author);
        self.last = event.parent_info();
        let id = event.id;
        self.events.push(event);
        id
    }
}

fn certificate(statement: Statement, signers: &[Keypair]) -> Payload {
    let signatures: Vec<Signed> = signers
        .iter()
        .map(|key| Signed {
            signer: key.public(),
            signature: statement.sign(key),
        })
        .collect();
    Payload::Certify(payload::Certify::new(statement, signatures))
}

fn timed<T>(what: &str, run: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let result = run();
    println!("{what}: {:.2} s", start.elapsed().as_secs_f64());
    result
}

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let councils = arg(&args, "--councils", 1_000);
    let members = arg(&args, "--members", 1_000);
    let signers = threshold(
        FederationRules::default().certificate_share_permille,
        members,
    );
    println!(
        "{councils} councils × {members} members, {signers} signatures per certificate, one core"
    );
    let convener = Keypair::from_seed([1; 32]);
    let mut log = Log::found(&convener);
    let options: Vec<String> = (0..OPTIONS).map(|o| format!("site {o}")).collect();

    // Set-up, not timed as part of the referral: every council's roster is certified and
    // admitted, and the question is referred.
    let (keys, ids) = timed("set-up (keys, rosters, admissions)", || {
        let mut keys: Vec<Vec<Keypair>> = Vec::with_capacity(councils);
        let mut ids = Vec::with_capacity(councils);
        for c in 0..councils {
            let mut council_keys: Vec<Keypair> = (0..members)
                .map(|m| {
                    let seed = blake3::hash(format!("council {c} member {m}").as_bytes());
                    Keypair::from_seed(*seed.as_bytes())
                })
                .collect();
            council_keys.sort_by_key(|k| k.public());
            let council = CouncilId(*blake3::hash(format!("council {c}").as_bytes()).as_bytes());
            let roster = Statement::Roster {
                council,
                federation: log.council,
                version: members as u64,
                members: council_keys.iter().map(|k| k.public()).collect(),
                petition_share_permille: None,
            };
            let certified = certificate(roster, &council_keys[..signers]);
            if c == 0 {
                println!(
                    "a roster certificate's body: {} bytes",
                    certified.encode().len()
                );
            }
            log.append(&council_keys[0], &certified);
            let admit = log.append(
                &convener,
                &Payload::Propose(payload::Propose {
                    title: format!("Admit council {c}"),
                    text: String::new(),
                    action: Action::AdmitCouncil { council },
                    method: None,
                    options: Vec::new(),
                    quorum: None,
                    deadline_ms: log.time + 1,
                    mode: None,
                }),
            );
            log.append(
                &convener,
                &Payload::Ballot(payload::Ballot {
                    proposal: admit,
                    choice: Choice::Consent {
                        position: Position::Agree,
                        reason: String::new(),
                    },
                }),
            );
            log.append(
                &convener,
                &Payload::Close(payload::Close { proposal: admit }),
            );
            keys.push(council_keys);
            ids.push(council);
        }
        (keys, ids)
    });
    let question = log.append(
        &convener,
        &Payload::Propose(payload::Propose {
            title: "Where the depot goes".into(),
            text: String::new(),
            action: Action::None,
            method: Some(Method::Schulze { status_quo: None }),
            options: options.clone(),
            quorum: None,
            deadline_ms: u64::MAX / 2,
            mode: Some(Mode::Referral),
        }),
    );
    let mut rng = Rng(7);
    let ballots: Vec<Vec<Vec<u32>>> = (0..councils)
        .map(|_| (0..members).map(|_| rng.ranking()).collect())
        .collect();

    let first_certificate = log.events.len();
    timed("build: summaries and signatures", || {
        for ((council_keys, council), rankings) in keys.iter().zip(&ids).zip(&ballots) {
            let mut profile = Profile::new(options.clone());
            for ranking in rankings {
                profile.push(1, ranking.iter().map(|&o| [o])).unwrap();
            }
            let summary = Summary::Pairwise {
                ballots: rankings.len() as u64,
                preferences: schulze::preferences(&profile)
                    .into_iter()
                    .flatten()
                    .collect(),
            };
            let statement = Statement::Tally {
                council: *council,
                federation: log.council,
                question,
                summary,
            };
            log.append(
                &council_keys[0],
                &certificate(statement, &council_keys[..signers]),
            );
        }
    });
    log.append(
        &convener,
        &Payload::Close(payload::Close { proposal: question }),
    );

    let certificates = &log.events[first_certificate..log.events.len() - 1];
    let valid = timed("verify: every certificate's signatures", || {
        certificates
            .chunks(64)
            .flat_map(verify_events)
            .filter(|ok| *ok)
            .count()
    });
    assert_eq!(valid, councils, "every certificate verifies");

    let folded = timed("aggregate: fold the federation's log", || {
        fold(&log.events, |_| None).unwrap()
    });
    assert!(
        folded.rejections.is_empty(),
        "{:?}",
        &folded.rejections[..1]
    );
    let decision = folded.state.proposals[&question]
        .decision
        .as_ref()
        .expect("closed");

    let choices: Vec<Choice> = ballots
        .iter()
        .flatten()
        .map(|ranking| Choice::Ranked {
            ranks: ranking.iter().map(|&o| vec![o]).collect(),
        })
        .collect();
    let refs: Vec<&Choice> = choices.iter().collect();
    let direct = timed("reference: one direct count of every ballot", || {
        tally::tally(&TallyInput::new(
            question,
            &Method::Schulze { status_quo: None },
            &options,
            Quorum::default(),
            refs.len(),
            &refs,
        ))
    });
    assert_eq!(decision.outcome.winners, direct.winners);
    assert_eq!(decision.outcome.ballots, councils * members);
    println!(
        "{} events in the federation's log; winner {}; equal to the direct count",
        log.events.len(),
        options[decision.outcome.winners[0] as usize]
    );
}
