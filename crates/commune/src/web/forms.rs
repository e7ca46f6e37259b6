//! Form posts: each turns a page's form into a payload and answers with a draft for the
//! signing script to sign (the same draft as `POST /api/councils/{c}/drafts`), plus the page
//! to go to once the signed event is recorded.
//!
//! Without the script a form post has no author (the key lives in the browser), so the
//! answer is a page that says what acting needs. Nothing here writes to the store.

use axum::Json;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use commune_core::constitution::Constitution;
use commune_core::invite::Invitation;
use commune_core::mandate::{MandateTerms, Scope};
use commune_core::payload::{self, Action, Payload};
use commune_core::tally::{Availability, Choice, Method, Position, YesNo};
use commune_core::{CouncilId, EventId, PublicKey, Unsigned};
use serde::Deserialize;

use crate::node::{Node, draft_found, now_ms};
use crate::reading::Part;
use crate::server::{ApiError, Shared, draft_json, not_found, parse, with_node};

pub(super) const HOUR_MS: u64 = 60 * 60 * 1000;
/// How long a web invitation stays valid.
const INVITATION_MS: u64 = 7 * 24 * HOUR_MS;
/// The longest a proposal may stay open from the web form: a year.
const MAX_OPEN_HOURS: u64 = 366 * 24;

/// The longest mandate the election form grants: ten years.
const MAX_TERM_DAYS: u64 = 3650;

/// A form post's fields, in order, repeated names kept (approval ballots check several).
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// A field that must be filled in; `label` is what the page calls it.
    pub(super) fn required(&self, name: &str, label: &str) -> Result<String, ApiError> {
        match self.get(name).map(str::trim) {
            Some(value) if !value.is_empty() => Ok(value.to_owned()),
            _ => Err(invalid(format!("fill in “{label}”"))),
        }
    }

    pub(super) fn number(&self, name: &str, label: &str, default: u64) -> Result<u64, ApiError> {
        match self.get(name).map(str::trim) {
            None | Some("") => Ok(default),
            Some(text) => text
                .parse()
                .map_err(|_| invalid(format!("“{label}” must be a whole number"))),
        }
    }

    /// The signing script adds the member's public key; a post without one came from a
    /// browser with the script off.
    pub(super) fn author(&self) -> Result<PublicKey, FormError> {
        let text = self.get("author").ok_or(FormError::NoScript)?;
        text.parse().map_err(|_| {
            FormError::Api(invalid(
                "the author is not a public key (64 hex characters)".into(),
            ))
        })
    }
}

/// Why a form post gives no draft.
pub enum FormError {
    /// Posted without the signing script.
    NoScript,
    Api(ApiError),
}

/// A form whose content does not make an act: the message says what to change.
pub(super) fn invalid(message: String) -> ApiError {
    ApiError(StatusCode::UNPROCESSABLE_ENTITY, message)
}

impl From<ApiError> for FormError {
    fn from(error: ApiError) -> FormError {
        FormError::Api(error)
    }
}

impl IntoResponse for FormError {
    fn into_response(self) -> Response {
        match self {
            FormError::NoScript => (
                StatusCode::BAD_REQUEST,
                Html(super::pages::needs_script().into_string()),
            )
                .into_response(),
            FormError::Api(error) => error.into_response(),
        }
    }
}

pub(super) type Answer = Result<Json<serde_json::Value>, FormError>;
pub(super) type Posted = Result<Form<Vec<(String, String)>>, FormRejection>;

pub(super) fn fields(posted: Posted) -> Result<Fields, FormError> {
    let Form(pairs) = posted.map_err(|rejection| {
        FormError::Api(ApiError(
            rejection.status(),
            format!("the form could not be read: {}", rejection.body_text()),
        ))
    })?;
    Ok(Fields(pairs))
}

/// The draft and where to go once it is signed and recorded: `{event}` and `{council}` in
/// `next` stand for the recorded event's ids.
fn answer(unsigned: &Unsigned, next: String) -> Json<serde_json::Value> {
    let mut json = draft_json(unsigned);
    json["next"] = next.into();
    Json(json)
}

/// Drafts `payload` for the fields' author in `council` on a blocking thread.
pub(super) async fn draft(
    node: Shared,
    council: CouncilId,
    fields: Fields,
    next: String,
    payload: impl FnOnce(&mut Node, &Fields) -> Result<Payload, ApiError> + Send + 'static,
) -> Answer {
    draft_as(node, council, fields, next, false, payload).await
}

/// As [`draft`]; `joining`: the draft is a request to join, which needs no reading right.
async fn draft_as(
    node: Shared,
    council: CouncilId,
    fields: Fields,
    next: String,
    joining: bool,
    payload: impl FnOnce(&mut Node, &Fields) -> Result<Payload, ApiError> + Send + 'static,
) -> Answer {
    let author = fields.author()?;
    let result = with_node(node, move |node| {
        // A form answers only for an author who may read the council: its errors and its
        // draft's heads are the council's (a request to join is drafted by `join`).
        if !joining {
            crate::reading::readable_in(node, Some(&author), council, Part::Whole)?;
        }
        let payload = payload(node, &fields)?;
        let unsigned = node
            .draft(council, author, &payload, now_ms())
            .map_err(not_found)?;
        Ok(answer(&unsigned, next))
    })
    .await?;
    Ok(result)
}

pub async fn found(posted: Posted) -> Answer {
    let fields = fields(posted)?;
    let author = fields.author()?;
    let name = fields.required("name", "Name of the council")?;
    let founder_name = fields.required("your_name", "Your name in it")?;
    let unsigned = draft_found(
        author,
        &name,
        &founder_name,
        Constitution::default(),
        now_ms(),
    )
    .map_err(|error| invalid(format!("{error:#}")))?;
    Ok(answer(&unsigned, "/c/{council}".into()))
}

/// A count from a form that must fit the event's 32-bit fields.
fn small(number: u64) -> Result<u32, ApiError> {
    u32::try_from(number).map_err(|_| invalid(format!("{number} is too large")))
}

pub async fn propose(
    State(node): State<Shared>,
    Path(council): Path<String>,
    posted: Posted,
) -> Answer {
    let council: CouncilId = parse(&council, "council")?;
    let fields = fields(posted)?;
    let next = format!("/c/{council}/p/{{event}}");
    draft(node, council, fields, next, move |node, fields| {
        let mut options: Vec<String> = fields
            .get("options")
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(str::to_owned)
            .collect();
        // One candidate stands against re-opening nominations, as on the command line.
        if fields.get("action") == Some("elect") && options.len() == 1 {
            options.push(commune_core::mandate::REOPEN_NOMINATIONS.to_owned());
        }
        let method = match fields.get("method").unwrap_or("default") {
            "default" => None,
            "majority" => Some(Method::Majority),
            "two-thirds" => Some(Method::Supermajority {
                numerator: 2,
                denominator: 3,
            }),
            "consent" => Some(Method::Consent {
                max_objections: u32::try_from(fields.number(
                    "max_objections",
                    "Objections allowed",
                    0,
                )?)
                .map_err(|_| invalid("too many objections allowed".into()))?,
            }),
            "approval" => Some(Method::Approval {
                winners: small(fields.number("winners", "How many options win", 1)?)?,
            }),
            "score" => Some(Method::Score {
                max: small(fields.number("max_score", "Highest score", 5)?)?,
                winners: small(fields.number("winners", "How many options win", 1)?)?,
            }),
            "schulze" => Some(Method::Schulze { status_quo: None }),
            "irv" => Some(Method::Irv),
            "stv-meek" => Some(Method::StvMeek {
                seats: small(fields.number("winners", "How many options win", 1)?)?,
            }),
            "stv-scottish" => Some(Method::StvScottish {
                seats: small(fields.number("winners", "How many options win", 1)?)?,
            }),
            "time-poll" => Some(Method::TimePoll),
            other => return Err(invalid(format!("no method called {other:?}"))),
        };
        if let Some(method) = &method {
            method.check(&options).map_err(invalid)?;
        }
        let hours = fields.number("open_for", "Open for", 72)?;
        if hours == 0 || hours > MAX_OPEN_HOURS {
            return Err(invalid(
                "a proposal stays open between one hour and a year".into(),
            ));
        }
        // Admitting or removing a member: the constitution's method decides it.
        let member = || -> Result<commune_core::MemberId, ApiError> {
            fields
                .required("member", "Member")?
                .parse()
                .map_err(|_| invalid("the member is not a public key (64 hex characters)".into()))
        };
        let action = match fields.get("action").unwrap_or("none") {
            "none" => Action::None,
            "admit" => Action::Admit { member: member()? },
            "remove" => Action::Remove { member: member()? },
            "elect" => elect(node, council, fields, &options)?,
            other => return Err(invalid(format!("no action called {other:?}"))),
        };
        if matches!(action, Action::Admit { .. } | Action::Remove { .. }) && method.is_some() {
            return Err(invalid(
                "admissions and removals are decided by the council's own method".into(),
            ));
        }
        Ok(Payload::Propose(payload::Propose {
            title: fields.required("title", "Title")?,
            text: fields.get("text").unwrap_or_default().trim().to_owned(),
            action,
            method,
            options,
            quorum: None,
            deadline_ms: now_ms() + hours * HOUR_MS,
            mode: None,
        }))
    })
    .await
}

/// An election of delegates to a federation: the options are the candidates' names, and the
/// winners get mandates for the term (one candidate stands against re-opening nominations).
fn elect(
    node: &mut Node,
    council: CouncilId,
    fields: &Fields,
    names: &[String],
) -> Result<Action, ApiError> {
    let federation: CouncilId = parse(&fields.required("federation", "Federation")?, "federation")?;
    let days = fields.number("term_days", "Term in days", 90)?;
    if days == 0 || days > MAX_TERM_DAYS {
        return Err(invalid(format!(
            "a term is between one day and {MAX_TERM_DAYS} days"
        )));
    }
    let folded = node.fold(council).map_err(not_found)?;
    // The options are the candidates, and perhaps re-opening nominations last.
    let names = match names.split_last() {
        Some((last, rest)) if last == commune_core::mandate::REOPEN_NOMINATIONS => rest,
        _ => names,
    };
    let candidates = names
        .iter()
        .map(|name| {
            folded
                .state
                .members
                .iter()
                .find(|(_, member)| member.name == *name)
                .map(|(key, _)| *key)
                .ok_or_else(|| invalid(format!("no member is called {name:?}")))
        })
        .collect::<Result<_, _>>()?;
    Ok(Action::Elect {
        candidates,
        terms: MandateTerms {
            scope: Scope::Federation { federation },
            term_ms: days * 24 * HOUR_MS,
            instructions: Vec::new(),
        },
    })
}

fn proposal_page(council: CouncilId, proposal: EventId) -> String {
    format!("/c/{council}/p/{proposal}")
}

pub async fn ballot(
    State(node): State<Shared>,
    Path((council, proposal)): Path<(String, String)>,
    posted: Posted,
) -> Answer {
    let council: CouncilId = parse(&council, "council")?;
    let proposal: EventId = parse(&proposal, "proposal")?;
    let fields = fields(posted)?;
    let next = proposal_page(council, proposal);
    draft(node, council, fields, next, move |node, fields| {
        let folded = node.fold(council).map_err(not_found)?;
        let found = folded.state.proposals.get(&proposal).ok_or_else(|| {
            ApiError(
                StatusCode::NOT_FOUND,
                format!("no proposal {proposal} here"),
            )
        })?;
        let choice = choice(&found.method, found.options.len(), fields)?;
        choice
            .check(&found.method, &found.options)
            .map_err(invalid)?;
        Ok(Payload::Ballot(payload::Ballot { proposal, choice }))
    })
    .await
}

/// Reads a ballot form: `vote` for yes-or-no methods, `position` and `reason` for consent,
/// one `approve` per approved option for approval, `rank-I` for ranked methods, `score-I`
/// for score, `slot-I` (yes, maybe, no) for a time poll.
fn choice(method: &Method, options: usize, fields: &Fields) -> Result<Choice, ApiError> {
    let pick = |name: &str| {
        fields
            .get(name)
            .ok_or_else(|| invalid("choose one of the answers".into()))
    };
    Ok(match method {
        Method::Majority | Method::Supermajority { .. } => Choice::YesNo {
            vote: match pick("vote")? {
                "yes" => YesNo::Yes,
                "no" => YesNo::No,
                "abstain" => YesNo::Abstain,
                other => return Err(invalid(format!("{other:?} is not a vote"))),
            },
        },
        Method::Consent { .. } => Choice::Consent {
            position: match pick("position")? {
                "agree" => Position::Agree,
                "abstain" => Position::Abstain,
                "object" => Position::Object,
                "block" => Position::Block,
                other => return Err(invalid(format!("{other:?} is not a position"))),
            },
            reason: fields.get("reason").unwrap_or_default().trim().to_owned(),
        },
        Method::Approval { .. } => {
            let mut approved = fields
                .all("approve")
                .map(|index| {
                    index
                        .parse::<u32>()
                        .map_err(|_| invalid(format!("{index:?} is not an option")))
                })
                .collect::<Result<Vec<u32>, ApiError>>()?;
            approved.sort_unstable();
            approved.dedup();
            Choice::Approval { approved }
        }
        Method::Schulze { .. }
        | Method::Irv
        | Method::StvMeek { .. }
        | Method::StvScottish { .. } => {
            // `rank-I` is a number per option: 1 first; equal numbers tie; blank unranked.
            let mut ranked: Vec<(u32, u32)> = Vec::new();
            for index in 0..options {
                match fields.get(&format!("rank-{index}")).map(str::trim) {
                    None | Some("") => {}
                    Some(text) => ranked.push((
                        text.parse()
                            .map_err(|_| invalid(format!("{text:?} is not a rank (1, 2, 3…)")))?,
                        index as u32,
                    )),
                }
            }
            ranked.sort_unstable();
            let mut ranks: Vec<Vec<u32>> = Vec::new();
            let mut last = None;
            for (rank, option) in ranked {
                match ranks.last_mut() {
                    Some(level) if last == Some(rank) => level.push(option),
                    _ => ranks.push(vec![option]),
                }
                last = Some(rank);
            }
            Choice::Ranked { ranks }
        }
        Method::Score { .. } => Choice::Score {
            scores: (0..options)
                .map(
                    |index| match fields.get(&format!("score-{index}")).map(str::trim) {
                        None | Some("") => Ok(0),
                        Some(text) => text
                            .parse()
                            .map_err(|_| invalid(format!("{text:?} is not a score"))),
                    },
                )
                .collect::<Result<_, _>>()?,
        },
        Method::TimePoll => Choice::TimePoll {
            answers: (0..options)
                .map(|index| match fields.get(&format!("slot-{index}")) {
                    Some("yes") => Ok(Availability::Yes),
                    Some("maybe") => Ok(Availability::Maybe),
                    Some("no") | None => Ok(Availability::No),
                    Some(other) => Err(invalid(format!("{other:?} is not yes, maybe or no"))),
                })
                .collect::<Result<_, _>>()?,
        },
    })
}

pub async fn comment(
    State(node): State<Shared>,
    Path((council, proposal)): Path<(String, String)>,
    posted: Posted,
) -> Answer {
    let council: CouncilId = parse(&council, "council")?;
    let proposal: EventId = parse(&proposal, "proposal")?;
    let fields = fields(posted)?;
    let next = proposal_page(council, proposal);
    draft(node, council, fields, next, move |_, fields| {
        Ok(Payload::Comment(payload::Comment {
            proposal,
            reply_to: None,
            text: fields.required("text", "Your comment")?,
        }))
    })
    .await
}

pub async fn close(
    State(node): State<Shared>,
    Path((council, proposal)): Path<(String, String)>,
    posted: Posted,
) -> Answer {
    let council: CouncilId = parse(&council, "council")?;
    let proposal: EventId = parse(&proposal, "proposal")?;
    let fields = fields(posted)?;
    let next = proposal_page(council, proposal);
    draft(node, council, fields, next, move |_, _| {
        Ok(Payload::Close(payload::Close { proposal }))
    })
    .await
}

/// Joins with an invitation, or without one where the council admits openly or by vote
/// (then the form names the `council`, and a vote may follow).
pub async fn join(State(node): State<Shared>, posted: Posted) -> Answer {
    let fields = fields(posted)?;
    let (council, invitation) = match fields.get("invitation").filter(|t| !t.trim().is_empty()) {
        Some(text) => {
            let invitation = Invitation::from_text(text)
                .map_err(|error| invalid(format!("this invitation does not work: {error}")))?;
            (invitation.council, Some(invitation))
        }
        None => (
            parse(&fields.required("council", "Council")?, "council")?,
            None,
        ),
    };
    draft_as(
        node,
        council,
        fields,
        format!("/c/{council}"),
        true,
        move |_, fields| {
            Ok(Payload::Join(payload::Join {
                name: fields.required("name", "Your name in the council")?,
                invitation,
            }))
        },
    )
    .await
}

/// Signs a recall petition (DESIGN.md §6).
pub async fn petition(
    State(node): State<Shared>,
    Path(council): Path<String>,
    posted: Posted,
) -> Answer {
    let council: CouncilId = parse(&council, "council")?;
    let fields = fields(posted)?;
    let mandate: commune_core::MandateId =
        parse(&fields.required("mandate", "Mandate")?, "mandate")?;
    let statement = commune_core::mandate::Statement::Suspend { council, mandate };
    sign_statement(node, council, fields, statement).await
}

/// Certifies a delegate's mandate as the council's log has it now (holder, expiry and
/// instructions), for `commune federation send` to carry to the federation.
pub async fn certify(
    State(node): State<Shared>,
    Path(council): Path<String>,
    posted: Posted,
) -> Answer {
    let council: CouncilId = parse(&council, "council")?;
    let fields = fields(posted)?;
    let mandate: commune_core::MandateId =
        parse(&fields.required("mandate", "Mandate")?, "mandate")?;
    let author = fields.author()?;
    let statement = with_node(node.clone(), move |node| {
        let folded = crate::reading::readable_in(node, Some(&author), council, Part::Whole)?;
        folded
            .state
            .mandate_statement(&mandate)
            .ok_or_else(|| invalid("no delegate's mandate by that id".into()))
    })
    .await?;
    sign_statement(node, council, fields, statement).await
}

/// A member signs a statement about their council. Two steps, as the signing script does
/// them: without `statement_signature`, the answer is the statement's signing message; with
/// it, the draft of the endorse event that carries the signature. The node checks that
/// signature with the event's when the signed event comes back.
async fn sign_statement(
    node: Shared,
    council: CouncilId,
    fields: Fields,
    statement: commune_core::mandate::Statement,
) -> Answer {
    let Some(signature) = fields.get("statement_signature").map(str::to_owned) else {
        fields.author()?;
        return Ok(Json(serde_json::json!({
            "statement_message": data_encoding::HEXLOWER.encode(&statement.signing_message()),
        })));
    };
    let signature = data_encoding::HEXLOWER_PERMISSIVE
        .decode(signature.trim().as_bytes())
        .ok()
        .and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
        .map(commune_core::Signature)
        .ok_or_else(|| invalid("the statement's signature is not 128 hex characters".into()))?;
    draft(
        node,
        council,
        fields,
        format!("/c/{council}"),
        move |_, _| {
            Ok(Payload::Endorse(payload::Endorse {
                statement,
                signature,
                breach: None,
            }))
        },
    )
    .await
}

/// An unsigned invitation from the form's author: the script signs its message and sends it
/// back to [`seal_invitation`].
pub async fn invite(
    State(node): State<Shared>,
    Path(council): Path<String>,
    posted: Posted,
) -> Answer {
    let council: CouncilId = parse(&council, "council")?;
    let author = fields(posted)?.author()?;
    let json = with_node(node, move |node| {
        crate::reading::readable_in(node, Some(&author), council, Part::Whole)?;
        let invitation = node
            .draft_invitation(council, author, INVITATION_MS)
            .map_err(|error| ApiError(StatusCode::UNPROCESSABLE_ENTITY, format!("{error:#}")))?;
        Ok(serde_json::json!({
            "signing_message": data_encoding::HEXLOWER.encode(&invitation.signed_message()),
            "invitation": invitation,
        }))
    })
    .await?;
    Ok(Json(json))
}

#[derive(Debug, Deserialize)]
pub struct SealRequest {
    invitation: Invitation,
}

/// Checks a signed invitation and gives its text and the join link to hand out.
pub async fn seal_invitation(
    request: Result<Json<SealRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Json(request) = request.map_err(|e| ApiError(e.status(), e.body_text()))?;
    request.invitation.verify().map_err(|error| {
        ApiError(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("the invitation is refused: {error}"),
        )
    })?;
    let text = request.invitation.to_text();
    Ok(Json(serde_json::json!({
        "link": format!("/join?invitation={text}"),
        "text": text,
    })))
}
