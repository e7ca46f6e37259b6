//! Who may read a council: the one rule every page, API route, live stream, sync request and
//! bundle export asks ([`decide`]), and who is asking ([`Reader`]).
//!
//! A council's constitution says how it reads (`Reading`): `public`, anyone reads
//! everything; `members` (the default) and `private`, only its current members read, and
//! anyone else learns its name and how to ask to join. Two more readers, each by a decision
//! the council took:
//!
//! - a federation's log is read by its members (delegates) and by the members of its member
//!   councils, who hold their delegates to account;
//! - a member council's register (needs, offers, processes, commons, plans; never its
//!   ballots, members or deliberation) is read by the members of a federation it belongs to,
//!   and by the members of that federation's other councils, when the federation's
//!   constitution says it plans over registers (`Planning::Register`, its default). The
//!   council agreed to it when it decided to join.
//!
//! A reader is a key: the browser's session ([`crate::session`]) or the key that signed the
//! request (`Commune-Signature`, as sync signs). Membership is read from the current fold on
//! every request, so a removed member reads nothing from the moment the removal is folded.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use commune_core::constitution::{Admission, Planning, Reading};
use commune_core::{CouncilId, Folded, PublicKey, State};

use crate::node::{Folds, Node, now_ms};
use crate::server::{ApiError, Shared, with_node};
use crate::session::{self, Sessions};

/// The part of a council a request reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Everything: members, proposals, ballots, comments, mandates, the register, the log.
    Whole,
    /// The register only, as a federation plans over it.
    Register,
}

/// Why a reader may not read a council, with what anyone may know of it: its name and how
/// to ask to join.
#[derive(Debug, Clone)]
pub struct Refused {
    pub council: CouncilId,
    pub name: String,
    pub admission: Admission,
    pub signed_in: bool,
}

impl Refused {
    /// How to ask to join, in words.
    pub fn how_to_join(&self) -> &'static str {
        match self.admission {
            Admission::Invitation => "ask one of its members for an invitation link",
            Admission::Vote => "ask to join from its page with your key: the council decides",
            Admission::Open => "join from its page with your key: anyone may",
        }
    }

    pub fn message(&self) -> String {
        let who = if self.signed_in {
            "you are not a member"
        } else {
            "you are not signed in as a member (open this page from a browser that holds your key)"
        };
        format!(
            "{} is read by its members only, and {who}. To read it, {}.",
            self.name,
            self.how_to_join()
        )
    }
}

impl From<Refused> for ApiError {
    fn from(refused: Refused) -> ApiError {
        ApiError(StatusCode::FORBIDDEN, refused.message())
    }
}

/// May `who` read `part` of the council whose state is `state`? `fold_of` gives another
/// council's fold if this node holds it (federations and their member councils); it is asked
/// only when the council's own members and rule do not settle the question.
pub fn decide(
    state: &State,
    who: Option<&PublicKey>,
    part: Part,
    fold_of: &mut dyn FnMut(CouncilId) -> Option<Arc<Folded>>,
) -> Result<(), Refused> {
    if state.constitution.reading() == Reading::Public {
        return Ok(());
    }
    let refused = || Refused {
        council: state.council,
        name: state.name.clone(),
        admission: state.constitution.admission,
        signed_in: who.is_some(),
    };
    let Some(who) = who else {
        return Err(refused());
    };
    if state.members.contains_key(who) {
        return Ok(());
    }
    let member_of = |folded: &Option<Arc<Folded>>| {
        folded
            .as_ref()
            .is_some_and(|f| f.state.members.contains_key(who))
    };
    // A federation: the members of its member councils follow their delegates.
    if let Some(federation) = &state.federation {
        for &council in federation.councils.keys() {
            if member_of(&fold_of(council)) {
                return Ok(());
            }
        }
    }
    if part == Part::Register {
        for &federation in state.federations.keys() {
            let Some(folded) = fold_of(federation) else {
                continue;
            };
            let fed = &folded.state;
            let plans = fed
                .constitution
                .federation
                .is_some_and(|rules| rules.planning.unwrap_or_default() == Planning::Register);
            let Some(members) = &fed.federation else {
                continue;
            };
            if !plans || !members.councils.contains_key(&state.council) {
                continue;
            }
            if fed.members.contains_key(who) {
                return Ok(());
            }
            for &council in members.councils.keys() {
                if council != state.council && member_of(&fold_of(council)) {
                    return Ok(());
                }
            }
        }
    }
    Err(refused())
}

/// Whether an invitation (its text) lets its holder read `council`'s log now, to join: it is
/// for this council, signed by one of its current members, not expired, and not yet used by
/// a join the fold accepted. A bearer credential: whoever holds the text reads until then.
pub fn invitation_reads(
    node: &mut Node,
    council: CouncilId,
    text: &str,
    now_ms: u64,
) -> Result<(), String> {
    let invitation = commune_core::invite::Invitation::from_text(text)
        .map_err(|error| format!("the invitation does not work: {error}"))?;
    invitation
        .verify()
        .map_err(|error| format!("the invitation does not work: {error}"))?;
    if invitation.council != council {
        return Err("the invitation is for another council".into());
    }
    if invitation.expires_ms < now_ms {
        return Err("the invitation has expired: ask for a new one".into());
    }
    let folded = node
        .fold(council)
        .map_err(|_| "this node does not hold that council".to_string())?;
    let state = &folded.state;
    if !state.members.contains_key(&invitation.inviter) {
        return Err("the invitation's inviter is no longer a member".into());
    }
    // Used: a member admitted by this inviter joined with this very invitation.
    for member in state.members.values() {
        if !matches!(member.admitted, commune_core::state::Admitted::Invitation { inviter } if inviter == invitation.inviter)
        {
            continue;
        }
        let joined = node.store().event(member.since).ok().flatten();
        let used = joined.is_some_and(|event| {
            let body = event.inline_body().unwrap_or_default();
            matches!(
                commune_core::Payload::decode(event.unsigned.kind, body),
                Ok(commune_core::Payload::Join(commune_core::payload::Join {
                    invitation: Some(used),
                    ..
                })) if used.nonce == invitation.nonce
            )
        });
        if used {
            return Err("the invitation was already used: ask for a new one".into());
        }
    }
    Ok(())
}

/// The part of a council's state a [`Part::Register`] reader gets: its name, constitution,
/// federations and register; no members, proposals, ballots, mandates, acts or signatures.
pub fn register_view(state: &State) -> State {
    State {
        council: state.council,
        name: state.name.clone(),
        constitution: state.constitution.clone(),
        members: Default::default(),
        former_members: Default::default(),
        applicants: Default::default(),
        proposals: Default::default(),
        events: 0,
        mandates: Default::default(),
        acts: Default::default(),
        endorsements: Default::default(),
        federations: state.federations.clone(),
        roster_version: None,
        federation: None,
        register: state.register.clone(),
    }
}

/// The fold of a council this node holds, for [`decide`]'s `fold_of`.
pub fn held(node: &mut Node, council: CouncilId) -> Option<Arc<Folded>> {
    match node.store().event_count(council) {
        Ok(0) | Err(_) => None,
        Ok(_) => node.fold(council).ok(),
    }
}

/// The council's fold if `who` may read `part` of it; for use-cases that hold the node.
pub fn readable_in(
    node: &mut Node,
    who: Option<&PublicKey>,
    council: CouncilId,
    part: Part,
) -> Result<Arc<Folded>, ApiError> {
    let folded = node.fold(council).map_err(crate::server::not_found)?;
    decide(&folded.state, who, part, &mut |other| held(node, other))?;
    Ok(folded)
}

/// The council's fold if `who` may read `part` of it; for pages, which read the node's
/// latest fold without waiting for a write, and take the node only when other councils'
/// folds are needed to decide.
pub async fn readable(
    node: Shared,
    folds: &Folds,
    who: Option<PublicKey>,
    council: CouncilId,
    part: Part,
) -> Result<Arc<Folded>, ApiError> {
    let folded = crate::web::latest_fold(node.clone(), folds, council).await?;
    match decide(&folded.state, who.as_ref(), part, &mut |_| None) {
        Ok(()) => Ok(folded),
        Err(refused) if who.is_none() => Err(refused.into()),
        Err(_) => {
            with_node(node, move |node| {
                readable_in(node, who.as_ref(), council, part)
            })
            .await
        }
    }
}

/// Who is asking: the key of the request's session cookie, or the key that signed it with a
/// `Commune-Signature` header (over the method, the path and an empty body, as the CLI
/// signs a read); `None` for anyone else.
#[derive(Debug, Clone, Copy)]
pub struct Reader(pub Option<PublicKey>);

impl Reader {
    pub fn key(&self) -> Option<&PublicKey> {
        self.0.as_ref()
    }
}

/// The session token a request carries, if any.
pub fn session_token(parts: &axum::http::HeaderMap) -> Option<String> {
    parts
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| {
            pair.trim()
                .strip_prefix(session::COOKIE)
                .and_then(|rest| rest.strip_prefix('='))
                .map(str::to_owned)
        })
}

impl<S: Send + Sync> FromRequestParts<S> for Reader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let now = now_ms();
        if let Some(token) = session_token(&parts.headers)
            && let Some(sessions) = parts.extensions.get::<Sessions>()
            && let Some(key) = sessions.key_of(&token, now)
        {
            return Ok(Reader(Some(key)));
        }
        if let Some(signature) = parts.headers.get(crate::transport::auth::HEADER) {
            let key = crate::transport::auth::check(
                signature.to_str().ok(),
                parts.method.as_str(),
                parts.uri.path(),
                now,
                b"",
            )
            .map_err(|reason| ApiError(StatusCode::UNAUTHORIZED, reason))?;
            return Ok(Reader(Some(key)));
        }
        Ok(Reader(None))
    }
}
