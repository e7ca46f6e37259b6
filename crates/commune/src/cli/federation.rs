//! `commune mandate …`, `commune act`, `commune petition`, `commune certify` and
//! `commune federation …`: delegates and working groups, their recall, and what a council
//! tells its federations.

use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use commune_core::mandate::{Amount, BreachEvidence, Scope, Signed, Statement};
use commune_core::payload::{self, Payload};
use commune_core::state::{MandateStatus, State};
use commune_core::{CouncilId, EventId, MandateId};

use super::{Invocation, print_event};
use crate::config::format_time;
use crate::federation_plan;
use crate::node::now_ms;

#[derive(Debug, Subcommand)]
pub enum MandateCommand {
    /// Who holds the council's mandates, for what, until when
    List(super::record::CouncilArg),
    /// What working groups did under their mandates, each act flagged when it was overturned
    /// or its mandate has since been recalled or suspended
    Acts(ActsArgs),
}

#[derive(Debug, Args)]
pub struct ActsArgs {
    /// The council (id, id prefix or name)
    pub council: String,
    /// Only the acts under this mandate (id or prefix)
    pub mandate: Option<String>,
}

#[derive(Debug, Args)]
pub struct ActArgs {
    /// The council (id, id prefix or name)
    pub council: String,
    /// Your working group's mandate (id or prefix)
    pub mandate: String,
    /// What you did or decided, in a line
    pub text: String,
    /// An amount counted against the mandate's limit, as UNIT=N; repeat for each
    #[arg(long = "amount", value_name = "UNIT=N")]
    pub amounts: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PetitionArgs {
    /// The council (id, id prefix or name)
    pub council: String,
    /// The mandate to suspend until the council decides on its recall (id or prefix)
    pub mandate: String,
    /// Carry home, as the petition's reason, the delegate's breach of their instructions
    /// that the federation's log on this node records (its ballot and certificate)
    #[arg(long)]
    pub breach: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The federation (id, id prefix or name)
    pub federation: String,
    /// Carry home each breach it records that the delegate's council has not heard of: sign,
    /// as yourself, that council's recall petition citing it (where you are a member and
    /// have not signed it yet)
    #[arg(long)]
    pub carry_breaches: bool,
}

#[derive(Debug, Subcommand)]
pub enum FederationCommand {
    /// A federation's member councils, delegates, breaches and referred questions
    Status(StatusArgs),
    /// Post the council's statements that have enough signatures to the federations they
    /// are for, as certificates
    Send(super::record::CouncilArg),
    /// Draw a plan over the member councils' registers: needs in one council met from stock
    /// or processes in another; shown, not proposed
    Plan(PlanArgs),
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The federation (id, id prefix or name)
    pub federation: String,
    /// Labour hours to carry one unit of any item between two places of one council
    /// [default: goods are used where they are, as `commune plan`]
    #[arg(long, value_name = "HOURS")]
    pub transport_hours: Option<f64>,
    /// Labour hours to carry one unit of an item from a place of one council to a place of
    /// another
    #[arg(long, value_name = "HOURS", allow_hyphen_values = true,
          default_value_t = crate::federation_plan::LINK_HOURS)]
    pub link_hours: f64,
    /// A node that holds the member councils this node does not: read their registers there
    /// (never their ballots), as the federation's constitution lets its members
    #[arg(long, value_name = "URL")]
    pub from: Option<String>,
}

pub fn mandates(invocation: &Invocation, command: MandateCommand) -> Result<()> {
    let args = match command {
        MandateCommand::List(args) => args,
        MandateCommand::Acts(args) => return acts(invocation, args),
    };
    let mut node = invocation.open()?;
    let council = node.resolve_council(&args.council)?;
    let folded = node.fold(council)?;
    let state = &folded.state;
    // Federations by name where this node holds them, else by id.
    let mut federations = std::collections::BTreeMap::new();
    for mandate in state.mandates.values() {
        if let Scope::Federation { federation } = &mandate.scope
            && !federations.contains_key(federation)
        {
            let name = match node.fold(*federation) {
                Ok(fed) => format!("{} ({})", fed.state.name, federation.short()),
                Err(_) => federation.short(),
            };
            federations.insert(*federation, name);
        }
    }
    invocation.print(&serde_json::to_value(&state.mandates)?, || {
        if state.mandates.is_empty() {
            return "no mandates".into();
        }
        let now = crate::node::now_ms();
        state
            .mandates
            .iter()
            .map(|(id, m)| {
                let status = match &m.status {
                    MandateStatus::Active if m.expires_ms < now => "expired".to_string(),
                    MandateStatus::Active => "active".to_string(),
                    MandateStatus::Suspended { petition } => {
                        format!(
                            "SUSPENDED by petition; recall decision {}",
                            petition.short()
                        )
                    }
                    MandateStatus::Recalled { .. } => "recalled".to_string(),
                };
                let scope = match &m.scope {
                    Scope::Federation { federation } => {
                        format!("delegate to {}", federations[federation])
                    }
                    Scope::WorkingGroup { name, limits } => format!(
                        "working group {name:?}{}",
                        limits
                            .iter()
                            .map(|l| format!(", up to {} {}", l.quantity, l.unit))
                            .collect::<String>()
                    ),
                };
                let breaches = match m.breaches.len() {
                    0 => String::new(),
                    n => format!("; BREACHED its instructions ({n} ballot(s), petition opened)"),
                };
                format!(
                    "{}  {}: {scope}, term {}, until {}; {status}; {} instruction(s){breaches}",
                    id.short(),
                    state.member_name(&m.holder),
                    m.term,
                    format_time(m.expires_ms),
                    m.instructions.len()
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// `commune mandate acts`: a working group's acts, in time order, with what became of them.
fn acts(invocation: &Invocation, args: ActsArgs) -> Result<()> {
    let mut node = invocation.open()?;
    let council = node.resolve_council(&args.council)?;
    let folded = node.fold(council)?;
    let state = &folded.state;
    let only = args
        .mandate
        .as_deref()
        .map(|text| resolve_mandate(state, text))
        .transpose()?;
    let mut acts: Vec<_> = state
        .acts
        .iter()
        .filter(|(_, act)| only.is_none_or(|m| m == act.mandate))
        .collect();
    acts.sort_by_key(|(id, act)| (act.time_ms, **id));
    // What a reader must know of an act: it was undone, or its mandate no longer stands.
    let flag = |act: &commune_core::state::GroupAct| -> Option<String> {
        if let Some(decision) = act.overturned {
            return Some(format!("OVERTURNED by decision {}", decision.short()));
        }
        match state.mandates.get(&act.mandate).map(|m| &m.status) {
            Some(MandateStatus::Recalled { .. }) => {
                Some("done under a mandate since RECALLED".into())
            }
            Some(MandateStatus::Suspended { .. }) => {
                Some("done under a mandate now SUSPENDED".into())
            }
            _ => None,
        }
    };
    let json: Vec<serde_json::Value> = acts
        .iter()
        .map(|(id, act)| {
            serde_json::json!({ "event": id, "mandate": act.mandate, "author": act.author,
                "text": act.text, "amounts": act.amounts, "time_ms": act.time_ms,
                "overturned": act.overturned, "flag": flag(act) })
        })
        .collect();
    invocation.print(&json, || {
        if acts.is_empty() {
            return "no acts under mandates".into();
        }
        acts.iter()
            .map(|(id, act)| {
                format!(
                    "{}  {}  {} (mandate {}): {}{}{}",
                    id.short(),
                    format_time(act.time_ms),
                    state.member_name(&act.author),
                    act.mandate.short(),
                    act.text,
                    act.amounts
                        .iter()
                        .map(|a| format!(", {} {}", a.quantity, a.unit))
                        .collect::<String>(),
                    flag(act).map(|f| format!("; {f}")).unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    })
}

pub(super) fn resolve_mandate(state: &State, text: &str) -> Result<MandateId> {
    let text = text.to_lowercase();
    let found: Vec<&MandateId> = state
        .mandates
        .keys()
        .filter(|id| id.to_string().starts_with(&text))
        .collect();
    match found.as_slice() {
        [one] => Ok(**one),
        [] => bail!("no mandate {text:?} in {}", state.name),
        _ => bail!("{text:?} matches several mandates: give more of the id"),
    }
}

pub fn act(invocation: &Invocation, args: ActArgs) -> Result<()> {
    let mut node = invocation.open()?;
    let council = node.resolve_council(&args.council)?;
    let keypair = node.identity(&invocation.identity)?;
    let mandate = resolve_mandate(&node.fold(council)?.state, &args.mandate)?;
    let amounts = args
        .amounts
        .iter()
        .map(|text| {
            let (unit, quantity) = text
                .rsplit_once('=')
                .ok_or_else(|| anyhow::anyhow!("an amount is UNIT=N, not {text:?}"))?;
            Ok(Amount {
                unit: unit.trim().to_owned(),
                quantity: quantity
                    .trim()
                    .parse()
                    .map_err(|_| anyhow::anyhow!("{quantity:?} is not a whole number"))?,
            })
        })
        .collect::<Result<_>>()?;
    let event = node.act(
        &keypair,
        council,
        Payload::Act(payload::Act {
            mandate,
            text: args.text,
            amounts,
        }),
    )?;
    print_event(invocation, "act", &event)
}

pub fn petition(invocation: &Invocation, args: PetitionArgs) -> Result<()> {
    let mut node = invocation.open()?;
    let council = node.resolve_council(&args.council)?;
    let keypair = node.identity(&invocation.identity)?;
    let mandate = resolve_mandate(&node.fold(council)?.state, &args.mandate)?;
    let breach = if args.breach {
        Some(breach_evidence(&mut node, council, mandate)?)
    } else {
        None
    };
    let event = sign_petition(&mut node, &keypair, council, mandate, breach)?;
    let folded = node.fold(council)?;
    let signers = folded
        .state
        .endorsements
        .get(&Statement::Suspend { council, mandate }.id())
        .map_or(0, |e| e.signatures.len());
    // The share the constitution asks of the members now, as the fold counts it.
    let needed = commune_core::mandate::threshold(
        folded
            .state
            .constitution
            .mandate_rules()
            .petition_share_permille,
        folded.state.members.len(),
    );
    let status = folded.state.mandates.get(&mandate).map(|m| &m.status);
    invocation.print(
        &serde_json::json!({ "event": event.id, "kind": "petition", "signers": signers,
            "needed": needed, "breach": args.breach, "status": status }),
        || {
            format!(
                "signed the recall petition{} ({signers} of the {needed} signature(s) needed); {}",
                if args.breach {
                    ", citing the delegate's breach"
                } else {
                    ""
                },
                match status {
                    Some(MandateStatus::Suspended { .. }) => {
                        "the mandate is SUSPENDED until the council decides".to_owned()
                    }
                    Some(MandateStatus::Recalled { .. }) => "the mandate is recalled".to_owned(),
                    _ => format!(
                        "the mandate is still active: {} more suspend it at once",
                        needed.saturating_sub(signers)
                    ),
                }
            )
        },
    )
}

fn sign_petition(
    node: &mut crate::node::Node,
    keypair: &commune_core::Keypair,
    council: CouncilId,
    mandate: MandateId,
    breach: Option<BreachEvidence>,
) -> Result<commune_core::Event> {
    let statement = Statement::Suspend { council, mandate };
    node.act(
        keypair,
        council,
        Payload::Endorse(payload::Endorse {
            signature: statement.sign(keypair),
            statement,
            breach,
        }),
    )
}

/// Signs, as `keypair`, the recall petition of each delegate whose breach the federation
/// records and whose council, held on this node, has not heard of it, where `keypair` is a
/// member of that council and has not signed its petition yet. Returns the petitions.
fn carry_breaches(
    node: &mut crate::node::Node,
    keypair: &commune_core::Keypair,
    federation: CouncilId,
) -> Result<Vec<EventId>> {
    let me = keypair.public();
    let breaches = node
        .fold(federation)?
        .state
        .federation
        .iter()
        .flat_map(|f| f.breaches.clone())
        .collect::<Vec<_>>();
    let mut carried = Vec::new();
    for breach in breaches {
        let Ok(home) = node.fold(breach.council) else {
            continue;
        };
        let statement = Statement::Suspend {
            council: breach.council,
            mandate: breach.mandate,
        };
        let heard = home
            .state
            .mandates
            .get(&breach.mandate)
            .is_none_or(|m| m.breaches.iter().any(|b| b.ballot == breach.ballot));
        let signed = home
            .state
            .endorsements
            .get(&statement.id())
            .is_some_and(|e| e.signatures.contains_key(&me));
        if heard || signed || !home.state.members.contains_key(&me) {
            continue;
        }
        let evidence = breach_evidence(node, breach.council, breach.mandate)?;
        let event = sign_petition(
            node,
            keypair,
            breach.council,
            breach.mandate,
            Some(evidence),
        )?;
        carried.push(event.id);
    }
    Ok(carried)
}

/// The first breach of `mandate` that the federation's log on this node records and the
/// home council has not yet heard of: the delegate's ballot and the certificate of the
/// instructions it broke, as stored.
fn breach_evidence(
    node: &mut crate::node::Node,
    council: CouncilId,
    mandate: MandateId,
) -> Result<BreachEvidence> {
    let home = node.fold(council)?;
    let m = &home.state.mandates[&mandate];
    let Scope::Federation { federation } = m.scope else {
        bail!("a working group's mandate is not breached in a federation");
    };
    let Ok(fed) = node.fold(federation) else {
        bail!(
            "this node does not hold federation {} (sync with a node that does)",
            federation.short()
        );
    };
    let breach = fed
        .state
        .federation
        .iter()
        .flat_map(|f| &f.breaches)
        .find(|b| {
            b.council == council
                && b.mandate == mandate
                && !m.breaches.iter().any(|known| known.ballot == b.ballot)
        })
        .ok_or_else(|| {
            anyhow::anyhow!(
                "federation {} records no breach of that mandate the council has not heard of",
                federation.short()
            )
        })?;
    let stored = |id: EventId| -> Result<Vec<u8>> {
        Ok(node
            .store()
            .event(id)?
            .ok_or_else(|| anyhow::anyhow!("event {} is not stored here", id.short()))?
            .bytes)
    };
    Ok(BreachEvidence {
        ballot: stored(breach.ballot)?,
        certificate: stored(breach.certificate)?,
    })
}

/// Every statement about the council that is true now and that `state`'s federations would
/// want: its roster, its delegates' mandates, their recalls, its answers to referred
/// questions.
fn statements(state: &State) -> Vec<Statement> {
    let mut out: Vec<Statement> = state
        .federations
        .keys()
        .map(|federation| state.roster_statement(*federation))
        .collect();
    for (id, m) in &state.mandates {
        if !matches!(m.scope, Scope::Federation { .. }) {
            continue;
        }
        match m.status {
            MandateStatus::Active => {
                out.extend(state.mandate_statement(id));
                if m.kept.is_some() {
                    out.push(Statement::Reinstate {
                        council: state.council,
                        mandate: *id,
                    });
                }
            }
            MandateStatus::Recalled { .. } => out.push(Statement::Recall {
                council: state.council,
                mandate: *id,
            }),
            MandateStatus::Suspended { .. } => {}
        }
    }
    out.extend(
        state
            .proposals
            .values()
            .filter_map(|p| p.tally_statement(state.council)),
    );
    out
}

/// `commune certify`: sign every statement about the council you have not signed yet.
pub fn certify(invocation: &Invocation, args: super::record::CouncilArg) -> Result<()> {
    let mut node = invocation.open()?;
    let council = node.resolve_council(&args.council)?;
    let keypair = node.identity(&invocation.identity)?;
    let me = keypair.public();
    let state = node.fold(council)?.state.clone();
    let mut signed = Vec::new();
    for statement in statements(&state) {
        let already = state
            .endorsements
            .get(&statement.id())
            .is_some_and(|e| e.signatures.contains_key(&me));
        if already {
            continue;
        }
        let event = node.act(
            &keypair,
            council,
            Payload::Endorse(payload::Endorse {
                signature: statement.sign(&keypair),
                statement: statement.clone(),
                breach: None,
            }),
        )?;
        signed.push((statement.name(), statement.id(), event.id));
    }
    invocation.print(
        &serde_json::json!(signed
            .iter()
            .map(|(what, id, event)| serde_json::json!({"statement": what, "id": id, "event": event}))
            .collect::<Vec<_>>()),
        || {
            if signed.is_empty() {
                "nothing new to sign".into()
            } else {
                signed
                    .iter()
                    .map(|(what, id, _)| format!("signed the {what} statement {}", &id[..8]))
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        },
    )
}

/// Whether the federation already holds what `statement` says.
fn already_known(federation: &State, statement: &Statement) -> bool {
    let Some(f) = &federation.federation else {
        return true;
    };
    match statement {
        Statement::Roster {
            council, version, ..
        } => {
            f.councils
                .get(council)
                .is_some_and(|c| c.roster_version >= *version)
                || f.applicants.contains_key(council)
        }
        Statement::Mandate {
            mandate,
            holder,
            instructions,
            ..
        } => f.delegates.get(holder).is_some_and(|d| {
            // An unseated mandate's certificate seats no one: a reinstatement does.
            d.mandate == *mandate && (d.instructions == *instructions || d.ended.is_some())
        }),
        Statement::Recall { mandate, .. } | Statement::Suspend { mandate, .. } => !f
            .delegates
            .values()
            .any(|d| d.mandate == *mandate && d.ended.is_none()),
        Statement::Reinstate { mandate, .. } => !f
            .delegates
            .values()
            .any(|d| d.mandate == *mandate && d.ended.is_some()),
        Statement::Tally {
            council, question, ..
        } => federation
            .proposals
            .get(question)
            .is_none_or(|p| p.tallies.contains_key(council) || p.decision.is_some()),
    }
}

/// `commune federation send`: certificates from the council's signed statements, posted to
/// the federations this node holds, by the invoking member (who must have signed them).
pub fn send(invocation: &Invocation, args: super::record::CouncilArg) -> Result<()> {
    let mut node = invocation.open()?;
    let council = node.resolve_council(&args.council)?;
    let keypair = node.identity(&invocation.identity)?;
    let state = node.fold(council)?.state.clone();
    let mut sent = Vec::new();
    let mut waiting = Vec::new();
    for (id, endorsements) in &state.endorsements {
        let statement = &endorsements.statement;
        let federation: Option<CouncilId> = statement.federation().or_else(|| match statement {
            Statement::Recall { mandate, .. }
            | Statement::Suspend { mandate, .. }
            | Statement::Reinstate { mandate, .. } => {
                match state.mandates.get(mandate).map(|m| &m.scope) {
                    Some(Scope::Federation { federation }) => Some(*federation),
                    _ => None,
                }
            }
            _ => None,
        });
        let Some(federation) = federation else {
            continue;
        };
        let Ok(fed) = node.fold(federation) else {
            waiting.push(format!(
                "{} {}: this node does not hold federation {} yet (sync with a node that does)",
                statement.name(),
                &id[..8],
                federation.short()
            ));
            continue;
        };
        let fed_state = fed.state.clone();
        let stale = match statement {
            // Only what the home log says now: an old mandate statement must not follow
            // its recall or suspension.
            Statement::Mandate { mandate, .. } => {
                state.mandate_statement(mandate).is_none_or(|now| {
                    now != *statement || state.mandates[mandate].status != MandateStatus::Active
                })
            }
            // A petition the council has since decided on: its recall or its reinstatement
            // goes instead.
            Statement::Suspend { mandate, .. } => !matches!(
                state.mandates.get(mandate).map(|m| &m.status),
                Some(MandateStatus::Suspended { .. })
            ),
            _ => false,
        };
        if stale || already_known(&fed_state, statement) {
            continue;
        }
        let roster = match statement {
            Statement::Roster { members, .. }
                if !fed_state
                    .federation
                    .as_ref()
                    .is_some_and(|f| f.councils.contains_key(&council)) =>
            {
                members.len()
            }
            _ => fed_state
                .federation
                .as_ref()
                .and_then(|f| f.councils.get(&council))
                .map_or(0, |c| c.members as usize),
        };
        let certificate_share = fed_state
            .constitution
            .federation
            .unwrap_or_default()
            .certificate_share_permille;
        // A petition's own signatures suspend, at the share the federation knows from the
        // council's roster.
        let share = match statement {
            Statement::Suspend { .. } => fed_state
                .federation
                .as_ref()
                .and_then(|f| f.councils.get(&council))
                .and_then(|c| c.petition_share_permille)
                .unwrap_or(certificate_share),
            _ => certificate_share,
        };
        let needed = commune_core::mandate::threshold(share, roster);
        if endorsements.signatures.len() < needed {
            waiting.push(format!(
                "{} {}: {} of the {needed} signature(s) the federation needs",
                statement.name(),
                &id[..8],
                endorsements.signatures.len()
            ));
            continue;
        }
        if !endorsements.signatures.contains_key(&keypair.public()) {
            waiting.push(format!(
                "{} {}: ready, but a signer must send it (you have not signed it)",
                statement.name(),
                &id[..8]
            ));
            continue;
        }
        let signatures = endorsements
            .signatures
            .iter()
            .map(|(signer, (signature, _))| Signed {
                signer: *signer,
                signature: *signature,
            })
            .collect();
        let event = node.act(
            &keypair,
            federation,
            Payload::Certify(payload::Certify::new(statement.clone(), signatures)),
        )?;
        sent.push((statement.name(), federation, event.id));
    }
    invocation.print(
        &serde_json::json!({
            "sent": sent.iter().map(|(what, fed, event)| serde_json::json!({"statement": what, "federation": fed, "event": event})).collect::<Vec<_>>(),
            "waiting": waiting,
        }),
        || {
            let mut lines: Vec<String> = sent
                .iter()
                .map(|(what, fed, _)| format!("sent the {what} certificate to {}", fed.short()))
                .collect();
            lines.extend(waiting.iter().map(|w| format!("waiting: {w}")));
            if lines.is_empty() {
                "nothing to send".into()
            } else {
                lines.join("\n")
            }
        },
    )
}

pub fn federation(invocation: &Invocation, command: FederationCommand) -> Result<()> {
    match command {
        FederationCommand::Send(args) => send(invocation, args),
        FederationCommand::Plan(args) => plan(invocation, args),
        FederationCommand::Status(args) => {
            let mut node = invocation.open()?;
            let council = node.resolve_council(&args.federation)?;
            let folded = node.fold(council)?;
            let state = &folded.state;
            let Some(f) = &state.federation else {
                bail!("{} is a council, not a federation", state.name);
            };
            let carried = if args.carry_breaches {
                let keypair = node.identity(&invocation.identity)?;
                carry_breaches(&mut node, &keypair, council)?
            } else {
                Vec::new()
            };
            let mut json = serde_json::to_value(f)?;
            if args.carry_breaches {
                json["carried"] = serde_json::json!(carried);
            }
            // Member councils and their delegates by name where this node holds the council,
            // else by id.
            let mut homes = std::collections::BTreeMap::new();
            for c in f.councils.keys().chain(f.applicants.keys()) {
                if let Ok(home) = node.fold(*c) {
                    homes.insert(*c, home);
                }
            }
            let council_name = |c: &commune_core::CouncilId| match homes.get(c) {
                Some(home) => format!("{} ({})", home.state.name, c.short()),
                None => c.short(),
            };
            let delegate_name =
                |key: &commune_core::MemberId, c: &commune_core::CouncilId| match homes.get(c) {
                    Some(home) => format!("{} ({})", home.state.member_name(key), key.short()),
                    None => key.short(),
                };
            invocation.print(&json, || {
                let mut lines = vec![format!("federation {:?}", state.name)];
                for petition in &carried {
                    lines.push(format!(
                        "carried a breach home: your recall petition {}",
                        petition.short()
                    ));
                }
                for (c, member) in &f.councils {
                    lines.push(format!(
                        "member council {}: {} member(s), roster version {}",
                        council_name(c),
                        member.members,
                        member.roster_version
                    ));
                }
                for c in f.applicants.keys() {
                    lines.push(format!("asks to join: council {}", council_name(c)));
                }
                for (key, d) in &f.delegates {
                    lines.push(format!(
                        "delegate {} of council {}, mandate {}, until {}{}",
                        delegate_name(key, &d.council),
                        council_name(&d.council),
                        d.mandate.short(),
                        format_time(d.expires_ms),
                        if d.ended.is_some() { " (unseated)" } else { "" }
                    ));
                }
                for b in &f.breaches {
                    lines.push(format!(
                        "BREACH: delegate {} of council {} voted against their instructions on {}",
                        delegate_name(&b.delegate, &b.council),
                        council_name(&b.council),
                        b.proposal.short()
                    ));
                }
                for p in state
                    .proposals
                    .values()
                    .filter(|p| p.mode == Some(commune_core::payload::Mode::Referral))
                {
                    lines.push(format!(
                        "referred {:?}: {} of {} council(s) answered{}",
                        p.title,
                        p.tallies.len(),
                        p.councils.len(),
                        if p.decision.is_some() { ", closed" } else { "" }
                    ));
                }
                lines.join("\n")
            })
        }
    }
}

/// A federation's delegates by the names their home councils give them, where this node
/// holds the council ("Dana, delegate of Workers"); empty for a council that is not a
/// federation.
pub(super) fn delegate_names(
    node: &mut crate::node::Node,
    state: &State,
) -> std::collections::BTreeMap<commune_core::MemberId, String> {
    let mut names = std::collections::BTreeMap::new();
    let Some(f) = &state.federation else {
        return names;
    };
    for (key, d) in &f.delegates {
        if let Ok(home) = node.fold(d.council) {
            names.insert(
                *key,
                format!(
                    "{}, delegate of {}",
                    home.state.member_name(key),
                    home.state.name
                ),
            );
        }
    }
    names
}

/// `commune federation plan`: the federation's plan over the member councils this node holds,
/// for a member of the federation or of one of them.
fn plan(invocation: &Invocation, args: PlanArgs) -> Result<()> {
    let mut node = invocation.open()?;
    let federation = node.resolve_council(&args.federation)?;
    let keypair = node.identity(&invocation.identity)?;
    let mut gathered = federation_plan::gather(&mut node, federation)?;
    gathered.check_member(&keypair.public())?;
    if let Some(url) = &args.from {
        let mut peer = crate::transport::client::Peer::new(url, keypair.clone())?;
        gathered.fetch_registers(&mut peer)?;
    }
    let transport = super::register::transport(args.transport_hours)?;
    let drafted = federation_plan::draft(&gathered, now_ms(), transport, args.link_hours)?;
    invocation.print(&federation_plan::json(&drafted), || {
        federation_plan::text(&drafted)
    })
}
