//! The pages, rendered on the server with maud: each reads the council's fold and shows it
//! as plain HTML with real links and forms, so reading works with JavaScript off.
//!
//! A page knows who is looking by the browser's session (`crate::session`: the browser's key
//! signed a challenge), and shows a council only to those `crate::reading` lets read it;
//! anyone else sees its name and how to ask to join.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use commune_core::constitution::Admission;
use commune_core::invite::Invitation;
use commune_core::mandate::Scope;
use commune_core::payload::Action;
use commune_core::state::{MandateStatus, Proposal, State as CouncilState};
use commune_core::tally::{Availability, Choice, Method, Outcome, Position, YesNo};
use commune_core::{CouncilId, EventId, Folded, PublicKey};
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;

use crate::config::format_time;
use crate::node::{Folds, now_ms};
use crate::reading::{Part, Reader, Refused};
use crate::server::{ApiError, Shared, with_node};

const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// A page, or a page that says what went wrong.
pub struct Page(pub(super) StatusCode, pub(super) Markup);

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        (self.0, Html(self.1.into_string())).into_response()
    }
}

impl From<ApiError> for Page {
    fn from(ApiError(status, message): ApiError) -> Page {
        let title = if status == StatusCode::NOT_FOUND {
            "Not found"
        } else {
            "That did not work"
        };
        Page(
            status,
            layout(
                title,
                html! {
                    h1 { (title) }
                    p { (message) }
                    p { a href="/" { "Back to the councils on this node" } }
                },
                None,
            ),
        )
    }
}

/// A council's latest fold. When the node is free, its current fold (the node notices
/// anything written since, by itself or another process); while a write holds the node, its
/// latest fold, rather than waiting for the write to end; else the node folds.
pub(crate) async fn folded(
    node: Shared,
    folds: &Folds,
    council: CouncilId,
) -> Result<Arc<Folded>, ApiError> {
    if let Some(folded) = at_hand(&node, folds, council)? {
        return Ok(folded);
    }
    with_node(node, move |node| {
        node.fold(council).map_err(crate::server::not_found)
    })
    .await
}

/// A fold that costs no folding and no waiting, if there is one.
fn at_hand(
    node: &Shared,
    folds: &Folds,
    council: CouncilId,
) -> Result<Option<Arc<Folded>>, ApiError> {
    match node.try_lock() {
        Ok(mut node) => node.cached_fold(council).map_err(crate::server::internal),
        Err(std::sync::TryLockError::WouldBlock) => Ok(folds.get(&council)),
        Err(std::sync::TryLockError::Poisoned(_)) => Ok(None),
    }
}

pub(super) fn ok(markup: Markup) -> Result<Page, Page> {
    Ok(Page(StatusCode::OK, markup))
}

/// A council's fold for a page, if `reader` may read `part` of it; else a page that says
/// whose it is and how to ask to join.
pub(super) async fn readable(
    node: Shared,
    folds: &Folds,
    reader: Reader,
    council: CouncilId,
    part: Part,
) -> Result<Arc<Folded>, Page> {
    crate::reading::readable(node, folds, reader.0, council, part)
        .await
        .map_err(Page::from)
}

fn not_found(what: String) -> Page {
    Page::from(ApiError(StatusCode::NOT_FOUND, what))
}

pub(super) fn parse<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, Page> {
    crate::server::parse(text, what).map_err(Page::from)
}

/// The page frame. `live` is the council whose changes the script listens for.
pub(super) fn layout(title: &str, main: Markup, live: Option<CouncilId>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · commune" }
                link rel="stylesheet" href="/static/style.css";
                script src="/static/sign.js" defer {}
            }
            body data-live=[live.map(|council| format!("/c/{council}/live"))] {
                a.skip href="#main" { "Skip to the content" }
                header {
                    nav aria-label="Site" {
                        a href="/" { "Councils" }
                        " "
                        a href="/keys" { "My key" }
                    }
                }
                main #main { (main) }
            }
        }
    }
}

/// The box in which the script says how an act went.
pub(super) fn status() -> Markup {
    html! { p.status role="status" aria-live="polite" {} }
}

pub(super) fn needs_key_note() -> Markup {
    html! {
        noscript {
            p.note {
                "Reading works without JavaScript. To act, this page signs with the key kept in "
                "your browser, which needs the small signing script: turn JavaScript on for this site."
            }
        }
    }
}

/// The answer to a form posted without the signing script.
pub fn needs_script() -> Markup {
    layout(
        "Signing needs JavaScript",
        html! {
            h1 { "Signing needs JavaScript" }
            p {
                "Every act in commune is signed by its member's own key. Yours lives in this "
                "browser, and the small signing script of these pages uses it: this node never "
                "sees it. Turn JavaScript on for this site and try again, or act with the "
                code { "commune" } " command line."
            }
            p { a href="/" { "Back to the councils" } }
        },
        None,
    )
}

/// A method in plain words.
fn method_words(method: &Method) -> String {
    match method {
        Method::Majority => "majority: yes or no, passes when more say yes than no".into(),
        Method::Supermajority {
            numerator,
            denominator,
        } => format!(
            "supermajority: yes or no, passes when at least {numerator}/{denominator} of yes and no say yes"
        ),
        Method::Consent { max_objections } => format!(
            "consent: passes unless someone blocks, with at most {max_objections} objection(s)"
        ),
        Method::Approval { winners } => {
            format!("approval: approve any number of options; the {winners} most approved win")
        }
        Method::Score { max, winners } => format!(
            "score: give each option 0 to {max}; the {winners} with the highest total win"
        ),
        Method::Schulze { status_quo } => format!(
            "Schulze: rank the options; the option that beats every other one-to-one wins{}",
            if status_quo.is_some() { ", and it must beat leaving things as they are" } else { "" }
        ),
        Method::Irv => "instant runoff: rank the options; the least supported drops out until one has a majority".into(),
        Method::StvMeek { seats } => format!(
            "single transferable vote (Meek): rank the candidates; {seats} seat(s), surpluses and eliminations passed on"
        ),
        Method::StvScottish { seats } => format!(
            "single transferable vote (Scottish rules): rank the candidates; {seats} seat(s)"
        ),
        Method::TimePoll => "time poll: yes, maybe or no for each slot; the slot most can make wins".into(),
    }
}

fn choice_words(proposal: &Proposal, choice: &Choice) -> String {
    match choice {
        Choice::YesNo { vote } => match vote {
            YesNo::Yes => "yes",
            YesNo::No => "no",
            YesNo::Abstain => "abstain",
        }
        .into(),
        Choice::Consent { position, reason } => {
            let position = match position {
                Position::Agree => "agree",
                Position::Abstain => "abstain",
                Position::Object => "object",
                Position::Block => "block",
            };
            if reason.is_empty() {
                position.into()
            } else {
                format!("{position}: {reason}")
            }
        }
        Choice::Approval { approved } => {
            let names: Vec<&str> = approved
                .iter()
                .filter_map(|&i| proposal.options.get(i as usize).map(String::as_str))
                .collect();
            if names.is_empty() {
                "approves none".into()
            } else {
                format!("approves {}", names.join(", "))
            }
        }
        Choice::Ranked { ranks } => {
            let name = |i: &u32| {
                proposal
                    .options
                    .get(*i as usize)
                    .map_or("?", String::as_str)
            };
            let levels: Vec<String> = ranks
                .iter()
                .map(|level| level.iter().map(name).collect::<Vec<_>>().join(" = "))
                .collect();
            if levels.is_empty() {
                "ranks none".into()
            } else {
                levels.join(" > ")
            }
        }
        Choice::Score { scores } => proposal
            .options
            .iter()
            .zip(scores)
            .map(|(option, score)| format!("{option} {score}"))
            .collect::<Vec<_>>()
            .join(", "),
        Choice::TimePoll { answers } => proposal
            .options
            .iter()
            .zip(answers)
            .map(|(slot, answer)| {
                let answer = match answer {
                    Availability::Yes => "yes",
                    Availability::Maybe => "maybe",
                    Availability::No => "no",
                };
                format!("{slot}: {answer}")
            })
            .collect::<Vec<_>>()
            .join(", "),
    }
}

// ---------------------------------------------------------------- my councils

pub async fn home(State(node): State<Shared>, reader: Reader) -> Result<Page, Page> {
    let me = reader.0;
    let councils = with_node(node, move |node| {
        let summaries = node.councils().map_err(crate::server::internal)?;
        let mut rows = Vec::new();
        for summary in summaries {
            let mine = me.is_some_and(|me| {
                node.fold(summary.id)
                    .is_ok_and(|folded| folded.state.members.contains_key(&me))
            });
            let readable =
                crate::reading::readable_in(node, me.as_ref(), summary.id, Part::Whole).is_ok();
            rows.push((summary, mine, readable));
        }
        Ok(rows)
    })
    .await?;
    let list = |mine: bool| {
        html! {
            ul.cards {
                @for (summary, _, readable) in councils.iter().filter(|(_, m, _)| *m == mine) {
                    li {
                        a href={ "/c/" (summary.id) } { (summary.name) }
                        br;
                        span.meta {
                            @if *readable {
                                (summary.members) " member(s) · "
                                (summary.open_proposals) " open proposal(s)"
                            } @else {
                                "read by its members only"
                            }
                        }
                    }
                }
            }
        }
    };
    let any_mine = councils.iter().any(|(_, mine, _)| *mine);
    ok(layout(
        "Councils",
        html! {
            h1 { "Councils" }
            @if me.is_none() {
                p.note {
                    "To take part you need a key in this browser: "
                    a href="/keys" { "make one or bring yours" } "."
                }
            }
            @if any_mine {
                h2 { "Mine" }
                (list(true))
                h2 { "Others on this node" }
            }
            @if councils.iter().any(|(_, mine, _)| !*mine) {
                (list(false))
            } @else if !any_mine {
                p { "No council on this node yet." }
            }
            h2 #found { "Found a council" }
            form method="post" action="/found" data-sign {
                label for="found-name" { "Name of the council" }
                input #found-name name="name" required maxlength="200" autocomplete="off";
                label for="found-you" { "Your name in it" }
                input #found-you name="your_name" required maxlength="100" autocomplete="nickname";
                p.hint {
                    "It starts with sane rules: anyone in it may invite, everyday questions are "
                    "decided by majority, admissions by consent, removals and changes to the rules "
                    "by two thirds."
                }
                button { "Found it" }
                (status())
            }
            (needs_key_note())
        },
        None,
    ))
}

// ---------------------------------------------------------------- a council

/// What anyone may see of a council they may not read: its name and how to ask to join.
fn visitor_page(refused: &Refused, me: Option<PublicKey>, asked: bool) -> Markup {
    let council = refused.council;
    layout(
        &refused.name,
        html! {
            h1 { (refused.name) }
            p #visitor { (refused.name) " is read by its members only." }
            @if asked {
                p.meta { "You asked to join: the council decides." }
            } @else if me.is_none() {
                p {
                    "If you are a member, open this page from a browser that holds your key ("
                    a href="/keys" { "My key" } "). Otherwise, to read it, " (refused.how_to_join()) "."
                }
            } @else {
                @match refused.admission {
                    Admission::Invitation => p.meta { "You are not a member of this council. Ask a member for an invitation link." },
                    admission => {
                        form method="post" action="/join" data-sign {
                            input type="hidden" name="council" value=(council);
                            label for="ask-name" { "Your name in the council" }
                            input #ask-name name="name" required maxlength="100" autocomplete="nickname";
                            button { @if admission == Admission::Open { "Sign and join" } @else { "Sign and ask to join" } }
                            (status())
                        }
                    }
                }
            }
            @if me.is_none() && refused.admission != Admission::Invitation {
                form method="post" action="/join" data-sign {
                    input type="hidden" name="council" value=(council);
                    label for="ask-name" { "Your name in the council" }
                    input #ask-name name="name" required maxlength="100" autocomplete="nickname";
                    button { @if refused.admission == Admission::Open { "Sign and join" } @else { "Sign and ask to join" } }
                    (status())
                }
                (needs_key_note())
            }
        },
        None,
    )
}

pub async fn council(
    State(node): State<Shared>,
    Extension(folds): Extension<Folds>,
    Path(council): Path<String>,
    reader: Reader,
) -> Result<Page, Page> {
    let council: CouncilId = parse(&council, "council")?;
    let me = reader.0;
    let folded = folded(node.clone(), &folds, council).await?;
    let decided = crate::reading::decide(&folded.state, me.as_ref(), Part::Whole, &mut |_| None);
    if let Err(refused) = decided {
        match crate::reading::readable(node, &folds, me, council, Part::Whole).await {
            Ok(_) => {}
            Err(_) => {
                let asked = me.is_some_and(|me| folded.state.applicants.contains_key(&me));
                return Ok(Page(StatusCode::OK, visitor_page(&refused, me, asked)));
            }
        }
    }
    let state = &folded.state;
    let member = me.is_some_and(|me| state.members.contains_key(&me));
    let mut open: Vec<&Proposal> = state.proposals.values().filter(|p| p.is_open()).collect();
    open.sort_by_key(|p| (p.deadline_ms, p.id));
    let mut closed: Vec<&Proposal> = state.proposals.values().filter(|p| !p.is_open()).collect();
    closed.sort_by_key(|p| std::cmp::Reverse(p.decision.as_ref().map(|d| d.time_ms)));
    let mut members: Vec<(&PublicKey, &str)> = state
        .members
        .iter()
        .map(|(key, m)| (key, m.name.as_str()))
        .collect();
    members.sort_by_key(|(_, name)| name.to_lowercase());
    let rule = &state.constitution.general;
    let reading = state.constitution.reading();
    ok(layout(
        &state.name,
        html! {
            h1 { (state.name) }
            p.meta #reading { "Reading: " (reading.name()) " — " (reading.words()) "." }
            p { a href={ "/c/" (council) "/register" } { "Needs, offers, commons and plans" } }
            @if member {
                p.meta { "You are a member." }
                p { a.button href={ "/c/" (council) "/new" } { "Put a question to the council" } }
            } @else if me.is_some_and(|me| state.applicants.contains_key(&me)) {
                p.meta { "You asked to join: the council decides." }
            } @else if me.is_some() {
                @match state.constitution.admission {
                    Admission::Invitation => p.meta { "You are not a member of this council. Ask a member for an invitation link." },
                    admission => {
                        form method="post" action="/join" data-sign {
                            input type="hidden" name="council" value=(council);
                            label for="ask-name" { "Your name in the council" }
                            input #ask-name name="name" required maxlength="100" autocomplete="nickname";
                            button { @if admission == Admission::Open { "Sign and join" } @else { "Sign and ask to join" } }
                            (status())
                        }
                    }
                }
            }
            div #live {
                (federation_markup(state))
                (mandates_markup(state, member))
                h2 { "Open proposals" }
                @if open.is_empty() { p { "None open." } }
                ul.cards {
                    @for p in &open {
                        li {
                            a href={ "/c/" (council) "/p/" (p.id) } { (p.title) }
                            br;
                            span.meta {
                                (p.method.name()) " · closes " (when(p.deadline_ms))
                                " · " (p.ballots.len()) " of " (p.electorate.len()) " voted"
                            }
                        }
                    }
                }
                h2 { "Decided" }
                @if closed.is_empty() { p { "Nothing decided yet." } }
                ul.cards {
                    @for p in &closed {
                        li {
                            a href={ "/c/" (council) "/p/" (p.id) } { (p.title) }
                            br;
                            span.meta {
                                (verdict(p))
                                @if let Some(decision) = &p.decision { " · " (when(decision.time_ms)) }
                            }
                        }
                    }
                }
                @if !state.applicants.is_empty() {
                    h2 { "Asking to join" }
                    ul.members {
                        @for (key, applicant) in &state.applicants {
                            li {
                                (applicant.name) " " span.key title={ (key) } { (key.short()) }
                                @if member {
                                    (member_proposal(council, "admit", key, &format!("Admit {}", applicant.name), "Propose to admit"))
                                }
                            }
                        }
                    }
                }
                h2 { "Members (" (members.len()) ")" }
                ul.members {
                    @for (key, name) in &members {
                        li {
                            (name) " " span.key title={ (key) } { (key.short()) }
                            @if member && me != Some(**key) {
                                details {
                                    summary { "Propose to remove " (name) }
                                    (member_proposal(council, "remove", key, &format!("Remove {name}"), "Sign and propose the removal"))
                                }
                            }
                        }
                    }
                }
            }
            @if member {
                h2 { "Invite someone" }
                @if state.constitution.admission == Admission::Invitation {
                    form method="post" action={ "/c/" (council) "/invitations" } data-invite {
                        p.hint { "Makes a link, signed by you, that lets one person join. It works for seven days." }
                        button { "Make an invitation link" }
                        (status())
                        label for="invite-link" hidden { "Invitation link to hand out" }
                        input #invite-link readonly hidden;
                    }
                } @else {
                    p { "This council does not admit by invitation: newcomers ask to join and the council decides." }
                }
            }
            h2 { "Rules" }
            dl {
                dt { "Admission" }
                dd { (match state.constitution.admission {
                    Admission::Invitation => "any member may invite; the invited join at once",
                    Admission::Vote => "the council decides on each request to join",
                    Admission::Open => "anyone may join",
                }) }
                dt { "Everyday questions" }
                dd { (method_words(&rule.method)) }
                dt { "Quorum" }
                dd { (quorum_words(rule.quorum)) }
            }
            p.meta { (state.events) " events in the log · " a href={ "/api/councils/" (council) } { "the whole state as JSON" } }
            (needs_key_note())
        },
        Some(council),
    ))
}

/// A one-button form that puts a member's admission or removal to the council, decided by
/// the constitution's method for it, open for the shortest time the rules allow (and at
/// least a day).
fn member_proposal(
    council: CouncilId,
    action: &str,
    member: &PublicKey,
    title: &str,
    button: &str,
) -> Markup {
    html! {
        form.inline method="post" action={ "/c/" (council) "/proposals" } data-sign {
            input type="hidden" name="action" value=(action);
            input type="hidden" name="member" value=(member);
            input type="hidden" name="title" value=(title);
            input type="hidden" name="open_for" value="72";
            button { (button) }
            (status())
        }
    }
}

fn quorum_words(quorum: commune_core::tally::Quorum) -> String {
    let ballots = match quorum.min_ballots {
        0 => "no minimum of ballots".to_owned(),
        1 => "at least one ballot".to_owned(),
        n => format!("at least {n} ballots"),
    };
    match quorum.min_share_permille {
        0 => ballots,
        share => format!(
            "{ballots}, from at least {}.{}% of the members",
            share / 10,
            share % 10
        ),
    }
}

fn verdict(proposal: &Proposal) -> String {
    let Some(decision) = &proposal.decision else {
        return "open".into();
    };
    let outcome = &decision.outcome;
    let mut words = if decision.revoked.is_some() {
        "passed, then revoked: not ratified".to_owned()
    } else if outcome.passed {
        "passed".to_owned()
    } else if outcome.quorum_met {
        "did not pass".to_owned()
    } else {
        "did not pass (no quorum)".to_owned()
    };
    if !outcome.winners.is_empty() {
        let names: Vec<&str> = outcome
            .winners
            .iter()
            .filter_map(|&w| proposal.options.get(w as usize).map(String::as_str))
            .collect();
        words = format!("{words}: chose {}", names.join(", "));
    }
    if !decision.contested_by.is_empty() {
        words.push_str(" · contested");
    }
    words
}

/// A time: UTC in the page, shown in the reader's own zone by the script when it runs.
pub(super) fn when(ms: u64) -> Markup {
    let text = format_time(ms);
    let iso = format!("{}Z", text.trim_end_matches(" UTC").replacen(' ', "T", 1));
    html! { time datetime=(iso) { (text) } }
}

// ---------------------------------------------------------------- a proposal

/// Comments per page of a discussion: a long thread stays light on a phone.
const COMMENTS_PER_PAGE: usize = 50;
/// Voters named on a proposal's page; beyond them, a count.
const VOTERS_NAMED: usize = 100;

#[derive(Debug, Deserialize)]
pub struct ProposalQuery {
    /// The page of the discussion, from 1; the latest by default.
    page: Option<usize>,
}

pub async fn proposal(
    State(node): State<Shared>,
    Extension(folds): Extension<Folds>,
    Path((council, proposal)): Path<(String, String)>,
    Query(query): Query<ProposalQuery>,
    reader: Reader,
) -> Result<Page, Page> {
    let council: CouncilId = parse(&council, "council")?;
    let id: EventId = parse(&proposal, "proposal")?;
    let me = reader.0;
    let folded = readable(node, &folds, reader, council, Part::Whole).await?;
    let state = &folded.state;
    let Some(p) = state.proposals.get(&id) else {
        return Err(not_found(format!("no proposal {id} in {}", state.name)));
    };
    let member = me.is_some_and(|me| state.members.contains_key(&me));
    let voter = me.filter(|me| p.electorate.contains(me));
    let mine = voter.and_then(|me| {
        p.current_ballots()
            .find(|(who, _)| **who == me)
            .map(|(_, latest)| match latest.as_slice() {
                [only] => choice_words(p, &only.choice),
                _ => "two ballots at once: void".into(),
            })
    });
    let pages = p.comments.len().div_ceil(COMMENTS_PER_PAGE).max(1);
    let page = query.page.unwrap_or(pages).clamp(1, pages);
    let shown = &p.comments[((page - 1) * COMMENTS_PER_PAGE).min(p.comments.len())
        ..(page * COMMENTS_PER_PAGE).min(p.comments.len())];
    let here = format!("/c/{council}/p/{id}");
    let action = |what: &str| format!("/c/{council}/p/{id}/{what}");
    ok(layout(
        &p.title,
        html! {
            p.meta { a href={ "/c/" (council) } { "← " (state.name) } }
            h1 { (p.title) }
            p.meta {
                "Proposed by " (state.member_name(&p.proposer)) " on " (when(p.opened_ms))
                " · " (p.question.name()) " question"
            }
            @for paragraph in p.text.split("\n\n").filter(|t| !t.trim().is_empty()) {
                p.text { (paragraph) }
            }
            @if let Some(effect) = action_words(state, &p.action) {
                p { strong { "If it passes: " } (effect) }
            }
            p { strong { "How it is decided: " } (method_words(&p.method)) ". Quorum: " (quorum_words(p.quorum)) "." }
            @if !p.options.is_empty() {
                h2 { "Options" }
                ol { @for option in &p.options { li { (option) } } }
            }
            div #live {
                @match &p.decision {
                    None => {
                        h2 { "Open until " (when(p.deadline_ms)) }
                        @if p.deadline_ms <= now_ms() { p.note { "The deadline has passed: a member may close it now." } }
                        h3 { "Running tally" }
                        (outcome_markup(p, &p.running_tally()))
                    }
                    Some(decision) => {
                        h2 { "Result: " (verdict(p)) }
                        @if !decision.contested_by.is_empty() {
                            p.note { "Contested: another close, made at the same time, reached another result. The earliest close stands." }
                        }
                        p.meta { "Closed by " (state.member_name(&decision.closed_by)) " on " (when(decision.time_ms)) }
                        (outcome_markup(p, &decision.outcome))
                    }
                }
                @for line in crate::decision::urgency_lines(state, p) {
                    p.note { (line) }
                }
                @let reasons = p.consent_reasons();
                @if !reasons.is_empty() {
                    h3 { "Objections and blocks" }
                    ul.reasons {
                        @for (voter, position, reason) in &reasons {
                            li {
                                strong { (state.member_name(voter)) }
                                @if *position == Position::Block { " blocks: " } @else { " objects: " }
                                (reason)
                            }
                        }
                    }
                }
                h3 { "Who voted (" (p.ballots.len()) " of " (p.electorate.len()) ")" }
                @if p.ballots.is_empty() { p { "Nobody yet." } }
                ul { @for who in p.ballots.keys().take(VOTERS_NAMED) { li { (state.member_name(who)) } } }
                @if p.ballots.len() > VOTERS_NAMED {
                    p.meta { "and " (p.ballots.len() - VOTERS_NAMED) " more" }
                }
                @if let Some(words) = &mine {
                    p.yours { "Your ballot: " strong { (words) } }
                }
                h2 { "Discussion (" (p.comments.len()) ")" }
                @if p.comments.is_empty() { p { "No comments yet." } }
                @if pages > 1 {
                    (comment_pages(&here, page, pages))
                }
                ol.comments start=((page - 1) * COMMENTS_PER_PAGE + 1) {
                    @for c in shown {
                        li {
                            p.meta { (state.member_name(&c.author)) " · " (when(c.time_ms)) }
                            p.text { (c.text) }
                        }
                    }
                }
            }
            @if p.is_open() {
                @if voter.is_some() {
                    h2 { @if mine.is_some() { "Change your ballot" } @else { "Your ballot" } }
                    (ballot_form(p, &action("ballot")))
                } @else if member {
                    p.note { "You joined after this proposal opened, so you do not vote on it; you can still discuss it." }
                }
            }
            @if member {
                h2 { "Say something" }
                form method="post" action=(action("comment")) data-sign {
                    label for="comment-text" { "Your comment" }
                    textarea #comment-text name="text" required maxlength="10000" rows="4" {}
                    button { "Post the comment" }
                    (status())
                }
                @if p.is_open() {
                    h2 { "Close" }
                    form method="post" action=(action("close")) data-sign {
                        p.hint { "Closing counts the ballots cast so far and records the result. It is allowed once the deadline has passed, or earlier if everyone has voted and the rules allow it." }
                        button { "Close and count" }
                        (status())
                    }
                }
            }
            (needs_key_note())
        },
        Some(council),
    ))
}

/// Links between the pages of a long discussion.
fn comment_pages(here: &str, page: usize, pages: usize) -> Markup {
    html! {
        nav.pages aria-label="Pages of the discussion" {
            @if page > 1 { a href={ (here) "?page=" (page - 1) } { "← Earlier comments" } " " }
            span.meta { "page " (page) " of " (pages) }
            @if page < pages { " " a href={ (here) "?page=" (page + 1) } { "Later comments →" } }
        }
    }
}

/// Who holds the council's mandates, for what and until when; suspended and recalled ones
/// say so plainly.
fn mandates_markup(state: &CouncilState, member: bool) -> Markup {
    let now = now_ms();
    let current: Vec<_> = state
        .mandates
        .iter()
        .filter(|(_, m)| m.expires_ms >= now && !matches!(m.status, MandateStatus::Recalled { .. }))
        .collect();
    html! {
        @if !current.is_empty() {
            h2 { "Who represents us" }
            ul.cards {
                @for (id, m) in &current {
                    li {
                        strong { (state.member_name(&m.holder)) } " — "
                        @match &m.scope {
                            Scope::Federation { federation } => { "delegate to federation " span.key title={ (federation) } { (federation.short()) } }
                            Scope::WorkingGroup { name, limits } => {
                                "working group “" (name) "”"
                                @for limit in limits { ", up to " (limit.quantity) " " (limit.unit) }
                            }
                        }
                        br;
                        span.meta {
                            "until " (when(m.expires_ms)) " · term " (m.term)
                            @if !m.instructions.is_empty() { " · " (m.instructions.len()) " instruction(s)" }
                            " · mandate " span.key title={ (id) } { (id.short()) }
                        }
                        @for breach in &m.breaches {
                            p.alert role="alert" {
                                "Mandate breach: voted against the council's instruction on federation proposal "
                                span.key title={ (breach.proposal) } { (breach.proposal.short()) }
                                "; the recall petition cites it."
                            }
                        }
                        @if let MandateStatus::Suspended { .. } = m.status {
                            p.alert { "Suspended by a recall petition until the council decides." }
                        }
                        @let petition = commune_core::mandate::Statement::Suspend { council: state.council, mandate: **id };
                        @let signers = state.endorsements.get(&petition.id()).map_or(0, |e| e.signatures.len());
                        @if signers > 0 { p.meta { (signers) " member(s) signed the recall petition." } }
                        @if member && m.status == MandateStatus::Active {
                            form method="post" action={ "/c/" (state.council) "/petitions" } data-sign data-statement {
                                input type="hidden" name="mandate" value=(id);
                                button { "Sign the recall petition" }
                                (status())
                            }
                            @if let Some(certificate) = state.mandate_statement(id) {
                                @let signed = state.endorsements.get(&certificate.id()).map_or(0, |e| e.signatures.len());
                                form method="post" action={ "/c/" (state.council) "/certificates" } data-sign data-statement {
                                    input type="hidden" name="mandate" value=(id);
                                    button { "Certify this mandate to the federation" }
                                    " " span.meta { (signed) " member(s) signed it as it stands" }
                                    (status())
                                }
                            }
                        }
                    }
                }
            }
            p.hint { "A petition signed by enough members suspends the mandate at once and puts its recall to the council." }
        }
    }
}

/// A federation's member councils, and any delegate who voted against their instructions.
fn federation_markup(state: &CouncilState) -> Markup {
    html! {
        @if let Some(federation) = &state.federation {
            @for breach in &federation.breaches {
                p.alert role="alert" {
                    "Mandate breach: delegate " span.key { (breach.delegate.short()) }
                    " of council " span.key { (breach.council.short()) }
                    " voted against their council's instructions."
                }
            }
            p { a href={ "/c/" (state.council) "/plan" } { "The plan over the member councils' registers" } }
            h2 { "Member councils (" (federation.councils.len()) ")" }
            ul.members {
                @for (council, member) in &federation.councils {
                    li {
                        "council " span.key title={ (council) } { (council.short()) }
                        " · " (member.members) " member(s) · "
                        (federation.delegates.values().filter(|d| d.council == *council && d.ended.is_none()).count())
                        " delegate(s) seated"
                    }
                }
            }
        }
    }
}

/// What a decision does beyond its own record, in plain words.
fn action_words(state: &CouncilState, action: &Action) -> Option<String> {
    match action {
        Action::None => None,
        Action::Admit { member } => {
            Some(format!("{} becomes a member.", state.member_name(member)))
        }
        Action::Remove { member } => Some(format!(
            "{} is removed from the council.",
            state.member_name(member)
        )),
        Action::Amend { .. } => {
            Some("the council's rules are replaced by the ones proposed.".into())
        }
        Action::Elect { terms, .. } => Some(match &terms.scope {
            Scope::Federation { federation } => format!(
                "the winners become the council's delegates to federation {} for {} day(s).",
                federation.short(),
                terms.term_ms.div_ceil(DAY_MS)
            ),
            Scope::WorkingGroup { name, .. } => format!(
                "the winners form the working group \"{name}\" for {} day(s).",
                terms.term_ms.div_ceil(DAY_MS)
            ),
        }),
        Action::Recall { mandate } => Some(format!(
            "{}'s mandate is withdrawn.",
            state
                .mandates
                .get(mandate)
                .map_or_else(|| mandate.short(), |m| state.member_name(&m.holder))
        )),
        Action::Instruct { federation, .. } => Some(format!(
            "the council's delegates to federation {} are instructed how to vote.",
            federation.short()
        )),
        Action::JoinFederation { federation } => Some(format!(
            "the council asks to join federation {}.",
            federation.short()
        )),
        Action::AdmitCouncil { council } => {
            Some(format!("council {} joins the federation.", council.short()))
        }
        Action::Overturn { .. } => Some("a working group's act is undone.".into()),
        Action::Refer { federation, .. } => Some(format!(
            "the council's count is sent to federation {}.",
            federation.short()
        )),
        Action::Ratify { .. } => {
            Some("the urgent decision stands; if this fails, it is revoked.".into())
        }
        Action::Plan { terms } => Some(format!(
            "the plan's {} delivery and {} process-run commitment(s) become the council's plan.",
            terms.deliveries.len(),
            terms.runs.len()
        )),
    }
}

fn outcome_markup(proposal: &Proposal, outcome: &Outcome) -> Markup {
    html! {
        p.meta { "Counts, in " (proposal.count_unit()) ":" }
        table.counts {
            caption.visually-hidden { "Counts, in " (proposal.count_unit()) }
            tbody {
                @for (label, count) in &outcome.counts {
                    tr { th scope="row" { (label) } td { (count) } }
                }
            }
        }
        @if !outcome.winners.is_empty() {
            p { "Leading: " (outcome.winners.iter().filter_map(|&w| proposal.options.get(w as usize).map(String::as_str)).collect::<Vec<_>>().join(", ")) }
        }
        details {
            summary { "How this was counted" }
            ul { @for line in &outcome.explanation { li { (line) } } }
        }
    }
}

fn ballot_form(proposal: &Proposal, action: &str) -> Markup {
    let radios = |name: &str, choices: &[(&str, &str)]| {
        html! {
            @for (value, label) in choices {
                label.choice {
                    input type="radio" name=(name) value=(value) required;
                    " " (label)
                }
            }
        }
    };
    html! {
        form method="post" action=(action) data-sign {
            fieldset {
                @match &proposal.method {
                    Method::Majority | Method::Supermajority { .. } => {
                        legend { "Your vote" }
                        (radios("vote", &[("yes", "Yes"), ("no", "No"), ("abstain", "Abstain")]))
                    }
                    Method::Consent { .. } => {
                        legend { "Your position" }
                        (radios("position", &[
                            ("agree", "Agree"),
                            ("abstain", "Stand aside (abstain)"),
                            ("object", "Object (give a reason)"),
                            ("block", "Block (give a reason)"),
                        ]))
                        label for="ballot-reason" { "Reason (needed to object or block)" }
                        textarea #ballot-reason name="reason" maxlength="5000" rows="3" {}
                    }
                    Method::Approval { .. } => {
                        legend { "Approve every option you can live with" }
                        @for (index, option) in proposal.options.iter().enumerate() {
                            label.choice {
                                input type="checkbox" name="approve" value=(index);
                                " " (option)
                            }
                        }
                    }
                    Method::Schulze { .. } | Method::Irv | Method::StvMeek { .. } | Method::StvScottish { .. } => {
                        legend { "Number the options in your order: 1 first; the same number ties; leave blank what you would not rank" }
                        @for (index, option) in proposal.options.iter().enumerate() {
                            label.choice for=(format!("rank-{index}")) {
                                input #(format!("rank-{index}")) type="number" min="1" max=(proposal.options.len()) inputmode="numeric" name=(format!("rank-{index}"));
                                " " (option)
                            }
                        }
                    }
                    Method::Score { max, .. } => {
                        legend { "Give each option a score from 0 to " (max) }
                        @for (index, option) in proposal.options.iter().enumerate() {
                            label.choice for=(format!("score-{index}")) {
                                input #(format!("score-{index}")) type="number" min="0" max=(max) value="0" inputmode="numeric" name=(format!("score-{index}"));
                                " " (option)
                            }
                        }
                    }
                    Method::TimePoll => {
                        legend { "Can you make it?" }
                        @for (index, slot) in proposal.options.iter().enumerate() {
                            fieldset {
                                legend { (slot) }
                                (radios(&format!("slot-{index}"), &[("yes", "Yes"), ("maybe", "Maybe"), ("no", "No")]))
                            }
                        }
                    }
                }
            }
            button { "Sign and cast" }
            (status())
        }
    }
}

// ---------------------------------------------------------------- a new proposal

pub async fn new_proposal(
    State(node): State<Shared>,
    Extension(folds): Extension<Folds>,
    Path(council): Path<String>,
    reader: Reader,
) -> Result<Page, Page> {
    let council: CouncilId = parse(&council, "council")?;
    let folded = readable(node, &folds, reader, council, Part::Whole).await?;
    let state = &folded.state;
    let default = method_words(&state.constitution.general.method);
    let methods: [(&str, String, &str); 11] = [
        (
            "default",
            format!("The council's usual way ({default})"),
            "When in doubt.",
        ),
        (
            "majority",
            "Majority: yes or no".into(),
            "Passes when more say yes than no. For everyday questions that are easy to undo.",
        ),
        (
            "two-thirds",
            "Two-thirds majority: yes or no".into(),
            "Needs two yes for every no. For weighty choices that are hard to undo.",
        ),
        (
            "consent",
            "Consent".into(),
            "Passes unless someone blocks; objections need reasons. For what everyone must be able to live with.",
        ),
        (
            "approval",
            "Approval: choose among options".into(),
            "Each member approves any number of options; the most approved win. For a date, a name, a supplier.",
        ),
        (
            "score",
            "Score: rate each option".into(),
            "Each member gives every option a score; the highest total wins. For weighing several good options.",
        ),
        (
            "schulze",
            "Ranked choice (Schulze): one winner".into(),
            "Members rank the options; the option that beats every other one-to-one wins. For one choice among many.",
        ),
        (
            "irv",
            "Instant runoff: one winner".into(),
            "Members rank the options; the least supported drops out until one has a majority. For one choice, counted as people expect a runoff.",
        ),
        (
            "stv-meek",
            "Single transferable vote: several seats".into(),
            "Members rank the candidates; seats go to quotas, with surpluses passed on. For electing delegates or a working group in proportion.",
        ),
        (
            "stv-scottish",
            "Single transferable vote, Scottish rules".into(),
            "As above, counted by the rules of Scottish local elections. For a count people can follow with pen and paper.",
        ),
        (
            "time-poll",
            "Time poll: find a date".into(),
            "Each member says yes, maybe or no to each slot; the slot most can make wins. For meetings.",
        ),
    ];
    ok(layout(
        "New proposal",
        html! {
            p.meta { a href={ "/c/" (council) } { "← " (state.name) } }
            h1 { "Put a question to " (state.name) }
            form method="post" action={ "/c/" (council) "/proposals" } data-sign {
                label for="p-title" { "Title" }
                input #p-title name="title" required maxlength="200";
                label for="p-text" { "What is proposed, and why" }
                textarea #p-text name="text" rows="6" maxlength="20000" {}
                fieldset {
                    legend { "How should the council decide?" }
                    @for (index, (value, label, hint)) in methods.iter().enumerate() {
                        label.choice {
                            input type="radio" name="method" value=(value) checked[index == 0] aria-describedby={ "m-" (value) };
                            " " strong { (label) }
                        }
                        p.hint id={ "m-" (value) } { (hint) }
                    }
                }
                label for="p-options" { "Options, candidates or time slots, one per line (all but yes-or-no and consent)" }
                textarea #p-options name="options" rows="4" {}
                label for="p-winners" { "How many options win, or seats (approval, score, STV)" }
                input #p-winners name="winners" type="number" min="1" value="1" inputmode="numeric";
                label for="p-max-score" { "Highest score (score only)" }
                input #p-max-score name="max_score" type="number" min="1" value="5" inputmode="numeric";
                label for="p-objections" { "Objections allowed (consent only)" }
                input #p-objections name="max_objections" type="number" min="0" value="0" inputmode="numeric";
                @if !state.federations.is_empty() {
                    fieldset {
                        legend { "Elect delegates" }
                        label.choice {
                            input type="checkbox" name="action" value="elect" aria-describedby="p-elect-hint";
                            " " strong { "This is an election of delegates to a federation" }
                        }
                        p.hint #p-elect-hint { "The options are the candidates' names as members; the winners (seats) get mandates for the term. Choose a method among candidates: approval, ranked choice or STV." }
                        label for="p-federation" { "Federation" }
                        select #p-federation name="federation" {
                            @for federation in state.federations.keys() {
                                option value=(federation) { (federation.short()) }
                            }
                        }
                        label for="p-term" { "Term in days" }
                        input #p-term name="term_days" type="number" min="1" max="3650" value="90" inputmode="numeric";
                    }
                }
                label for="p-open" { "Open for" }
                select #p-open name="open_for" {
                    option value="1" { "an hour" }
                    option value="24" { "a day" }
                    option value="72" selected { "three days" }
                    option value="168" { "a week" }
                    option value="336" { "two weeks" }
                }
                button { "Sign and open the proposal" }
                (status())
            }
            (needs_key_note())
        },
        None,
    ))
}

// ---------------------------------------------------------------- joining

#[derive(Debug, Deserialize)]
pub struct JoinQuery {
    invitation: Option<String>,
}

pub async fn join(
    State(node): State<Shared>,
    Query(query): Query<JoinQuery>,
) -> Result<Page, Page> {
    let Some(text) = query.invitation else {
        return ok(layout(
            "Join a council",
            html! {
                h1 { "Join a council" }
                form method="get" action="/join" {
                    label for="j-text" { "Paste the invitation you were given" }
                    textarea #j-text name="invitation" required rows="4" {}
                    button { "Read it" }
                }
            },
            None,
        ));
    };
    let invitation = Invitation::from_text(&text).map_err(|error| {
        Page::from(ApiError(
            StatusCode::BAD_REQUEST,
            format!("This invitation does not work: {error}. Ask for a new link."),
        ))
    })?;
    let council = invitation.council;
    let inviter = invitation.inviter;
    let folded = with_node(node, move |node| {
        node.fold(council).map_err(|_| {
            ApiError(
                StatusCode::NOT_FOUND,
                "This node does not hold that council yet: open the link on the node your inviter uses.".into(),
            )
        })
    })
    .await?;
    let state = &folded.state;
    // A valid invitation lets its holder see who invites them and how many members there are.
    let valid = invitation.verify().is_ok() && state.members.contains_key(&inviter);
    ok(layout(
        &format!("Join {}", state.name),
        html! {
            h1 { "Join " (state.name) }
            @if valid {
                p { (state.member_name(&inviter)) " invites you. The council has " (state.members.len()) " member(s)." }
            } @else {
                p.note { "This invitation is not signed by a member of the council: ask for a new one." }
            }
            @if invitation.expires_ms < now_ms() { p.note { "This invitation has expired: ask for a new one." } }
            form method="post" action="/join" data-sign {
                input type="hidden" name="invitation" value=(text);
                label for="j-name" { "Your name in the council" }
                input #j-name name="name" required maxlength="100" autocomplete="nickname";
                p.hint { "Joining is signed with the key in this browser. " a href="/keys" { "No key yet?" } }
                button { "Sign and join" }
                (status())
            }
            (needs_key_note())
        },
        None,
    ))
}

// ---------------------------------------------------------------- my key

pub async fn keys() -> Page {
    Page(
        StatusCode::OK,
        layout(
            "My key",
            html! {
                h1 { "My key" }
                p {
                    "Every act in commune is signed with your own key. This browser makes it, "
                    "keeps it so that not even this page's script can read it back, and signs "
                    "with it; this node only ever sees your public key and your signatures."
                }
                noscript { p.note { "Keys need JavaScript: turn it on for this site." } }
                section #key-status aria-live="polite" { p { "Looking for a key in this browser…" } }
                section #key-make hidden {
                    h2 { "Make a key" }
                    form data-keygen {
                        p.hint {
                            "Choose a passphrase for your backup: the backup is encrypted with it, "
                            "and without it the backup cannot be opened. Nobody can reset it."
                        }
                        label for="k-pass" { "Backup passphrase (12 characters or more)" }
                        input #k-pass type="password" name="passphrase" required minlength="12" autocomplete="new-password";
                        label for="k-pass2" { "The same passphrase again" }
                        input #k-pass2 type="password" name="again" required minlength="12" autocomplete="new-password";
                        button { "Make my key" }
                        (status())
                    }
                }
                section #key-backup hidden {
                    h2 { "Back up" }
                    p {
                        "Keep the backup file somewhere safe (a USB stick, another phone). It is "
                        "encrypted with your passphrase. With it you can use commune on another "
                        "device, or after clearing this browser."
                    }
                    button type="button" data-backup { "Download my encrypted backup" }
                    h2 { "Sign in and out" }
                    p {
                        "This browser signs in to the node with your key, so that pages show you "
                        "the councils you belong to. Signing out ends that session on the node; "
                        "this browser then stays out until you sign in again."
                    }
                    p #session-status aria-live="polite" {}
                    button type="button" data-signout { "Sign out of this node" }
                    " "
                    button type="button" data-signin { "Sign in" }
                }
                section {
                    h2 { "Restore, or add this device" }
                    p { "Open a backup here to use your key on this device too (it replaces any key this browser holds)." }
                    form data-restore {
                        label for="r-file" { "Backup file" }
                        input #r-file type="file" accept=".json,application/json";
                        label for="r-text" { "…or paste the backup" }
                        textarea #r-text name="backup" rows="4" {}
                        label for="r-pass" { "Its passphrase" }
                        input #r-pass type="password" name="passphrase" required autocomplete="current-password";
                        button { "Restore" }
                        (status())
                    }
                }
            },
            None,
        ),
    )
}
