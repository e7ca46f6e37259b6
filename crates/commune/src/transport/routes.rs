//! The server's side of HTTP sync: `POST /sync/v1/…`, CBOR in and out, every request signed
//! by a member device (see [`auth`](super::auth)).
//!
//! - `councils`: the councils this node holds that the requester is a member of;
//! - `{council}/hello`: a [`Hello`] → an [`Answer`];
//! - `{council}/more`: a [`More`] → more packed symbols;
//! - `{council}/exchange`: an [`Exchange`] → a [`Delivery`].
//!
//! Reading a council is decided by [`crate::reading`], as for pages and the API; pushing
//! events is not, since each event
//! speaks for itself and the fold judges it (a new member's join reaches a node that way).
//! Everything refused is logged with the requester's key.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use commune_core::event::MAX_EVENT_BYTES;
use commune_core::sync::{self, Answer, Delivery, Exchange, Hello, Keyer, More};
use commune_core::{CouncilId, Event, PublicKey};

use super::{CBOR, auth};
use crate::node::{Node, now_ms};
use crate::reading::Part;
use crate::server::{ApiError, Routes, Shared, parse, with_node};

/// The largest sync request: a push of events, or a hello with every estimator level.
pub const MAX_REQUEST: usize = 16 << 20;
/// The most events one exchange may push or want.
pub const MAX_ITEMS: usize = 10_000;
/// A delivery stops adding events past this many bytes; the asker asks again for the rest.
pub const MAX_DELIVERY: usize = 8 << 20;

pub fn router() -> Routes<Shared> {
    Routes::new()
        .route("POST", "/sync/v1/councils", post(councils))
        .route("POST", "/sync/v1/{council}/hello", post(hello))
        .route("POST", "/sync/v1/{council}/more", post(more))
        .route("POST", "/sync/v1/{council}/exchange", post(exchange))
        .layer(|router| router.layer(DefaultBodyLimit::max(MAX_REQUEST)))
}

fn cbor(bytes: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, CBOR)], bytes).into_response()
}

/// The requester's key, if the request is signed.
fn requester(headers: &HeaderMap, uri: &Uri, body: &[u8]) -> Result<PublicKey, ApiError> {
    let header = headers.get(auth::HEADER).and_then(|v| v.to_str().ok());
    auth::check(header, "POST", uri.path(), now_ms(), body).map_err(|reason| {
        tracing::warn!(path = uri.path(), %reason, "refused an unsigned or badly signed sync request");
        ApiError(StatusCode::UNAUTHORIZED, reason)
    })
}

/// The council of the path, the requester, and the request's message.
fn signed<T: for<'b> minicbor::Decode<'b, ()>>(
    council: &str,
    headers: &HeaderMap,
    uri: &Uri,
    body: &[u8],
) -> Result<(CouncilId, PublicKey, T), ApiError> {
    let council: CouncilId = parse(council, "council")?;
    let key = requester(headers, uri, body)?;
    let message = sync::decode(body).map_err(|e| refuse(key, e.to_string()))?;
    Ok((council, key, message))
}

fn refuse(key: PublicKey, reason: String) -> ApiError {
    tracing::warn!(peer = %key, %reason, "refused a sync request");
    ApiError(StatusCode::UNPROCESSABLE_ENTITY, reason)
}

/// The council's ids keyed under a salt, if `key` is a member here.
fn member_items(
    node: &mut Node,
    council: CouncilId,
    key: PublicKey,
    invitation: Option<&str>,
    salt: &[u8; 16],
) -> Result<(Vec<sync::Item>, [u8; 32]), ApiError> {
    check_member(node, council, key, invitation)?;
    let ids = node
        .store()
        .ids_of(council)
        .map_err(|e| crate::server::internal(e.into()))?;
    let heads = node
        .store()
        .heads(council)
        .map_err(|e| crate::server::internal(e.into()))?;
    Ok((Keyer::new(salt).items(&ids), sync::heads_hash(&heads)))
}

/// The header in which a newcomer shows the invitation they hold (its text).
pub const INVITATION_HEADER: &str = "commune-invitation";

/// Reads the council only if `key` may read all of it ([`crate::reading`]), or shows an
/// invitation to it that is still a read credential.
fn check_member(
    node: &mut Node,
    council: CouncilId,
    key: PublicKey,
    invitation: Option<&str>,
) -> Result<(), ApiError> {
    let refused = match crate::reading::readable_in(node, Some(&key), council, Part::Whole) {
        Ok(_) => return Ok(()),
        Err(refused) => refused,
    };
    if let Some(text) = invitation {
        match crate::reading::invitation_reads(node, council, text, now_ms()) {
            Ok(()) => return Ok(()),
            Err(reason) => {
                tracing::warn!(peer = %key, %council, %reason, "refused an invitation as a read credential");
                return Err(ApiError(StatusCode::FORBIDDEN, reason));
            }
        }
    }
    tracing::warn!(peer = %key, %council, "refused to serve a council to a reader it does not admit");
    Err(refused)
}

fn invitation(headers: &HeaderMap) -> Option<String> {
    headers
        .get(INVITATION_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

async fn councils(
    State(node): State<Shared>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Result<Response, ApiError> {
    let key = requester(&headers, &uri, &body)?;
    with_node(node, move |node| {
        let mut mine = Vec::new();
        for council in node
            .store()
            .councils()
            .map_err(|e| crate::server::internal(e.into()))?
        {
            if crate::reading::readable_in(node, Some(&key), council, Part::Whole).is_ok() {
                mine.push(council);
            }
        }
        Ok(cbor(sync::encode_message(&mine)))
    })
    .await
}

async fn hello(
    State(node): State<Shared>,
    Path(council): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (council, key, hello) = signed::<Hello>(&council, &headers, &uri, &body)?;
    let invitation = invitation(&headers);
    with_node(node, move |node| {
        let (items, heads_hash) =
            member_items(node, council, key, invitation.as_deref(), &hello.salt)?;
        let answer: Answer =
            sync::answer(&hello, heads_hash, &items).map_err(|e| refuse(key, e.to_string()))?;
        Ok(cbor(sync::encode_message(&answer)))
    })
    .await
}

async fn more(
    State(node): State<Shared>,
    Path(council): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (council, key, request) = signed::<More>(&council, &headers, &uri, &body)?;
    let invitation = invitation(&headers);
    with_node(node, move |node| {
        let (items, _) = member_items(node, council, key, invitation.as_deref(), &request.salt)?;
        let symbols = sync::more(&request, &items).map_err(|e| refuse(key, e.to_string()))?;
        Ok(cbor(sync::encode_message(&minicbor::bytes::ByteVec::from(
            symbols,
        ))))
    })
    .await
}

async fn exchange(
    State(node): State<Shared>,
    Path(council): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (council, key, request) = signed::<Exchange>(&council, &headers, &uri, &body)?;
    let invitation = invitation(&headers);
    if request.want.len() > MAX_ITEMS || request.push.len() > MAX_ITEMS {
        return Err(refuse(
            key,
            format!("an exchange carries at most {MAX_ITEMS} wants and {MAX_ITEMS} events"),
        ));
    }
    if let Some(bad) = request.want.iter().find(|p| p.is_empty() || p.len() > 32) {
        return Err(refuse(
            key,
            format!(
                "a wanted id prefix has {} bytes; 1 to 32 are allowed",
                bad.len()
            ),
        ));
    }
    if request.push.iter().any(|e| e.len() > MAX_EVENT_BYTES) {
        return Err(refuse(
            key,
            format!("a pushed event is over {MAX_EVENT_BYTES} bytes"),
        ));
    }
    with_node(node, move |node| {
        let mut delivery = Delivery::default();
        if !request.push.is_empty() {
            let frames: Vec<&[u8]> = request.push.iter().map(|e| e.as_slice()).collect();
            let report = node
                .ingest(Some(council), &frames)
                .map_err(crate::server::internal)?;
            node.settle(&report.touched).map_err(crate::server::internal)?;
            if !report.invalid.is_empty() {
                tracing::warn!(peer = %key, %council, invalid = ?report.invalid, "refused events a peer pushed");
            }
            delivery.new = report.new as u64;
            delivery.duplicate = report.duplicate as u64;
            delivery.missing = report.missing_parents.iter().map(|id| id.0.into()).collect();
            delivery.invalid = report.invalid;
        }
        if !request.want.is_empty() {
            check_member(node, council, key, invitation.as_deref())?;
            let mut events: Vec<Event> = Vec::new();
            let mut bytes = 0;
            for prefix in &request.want {
                for event in node
                    .store()
                    .events_with_prefix(council, prefix)
                    .map_err(|e| crate::server::internal(e.into()))?
                {
                    bytes += event.bytes.len();
                    events.push(event);
                }
                if bytes > MAX_DELIVERY {
                    break;
                }
            }
            events.sort_by_key(|e| (e.unsigned.depth, e.id));
            events.dedup_by_key(|e| e.id);
            delivery.events = events.into_iter().map(|e| e.bytes.into()).collect();
        }
        Ok(cbor(sync::encode_message(&delivery)))
    })
    .await
}
