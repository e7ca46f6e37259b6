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

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Extension, Path, State};
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

/// What one key may cost this node a minute, in bytes of requests and answers, with each
/// pushed event counted as at least [`EVENT_COST`] bytes (its signature check and the gate
/// cost more than its bytes). An address may cost [`ADDRESS_KEYS`] times as much: several
/// members may sync from behind one address.
pub const BUDGET_PER_MINUTE: u64 = 64 << 20;
pub const EVENT_COST: u64 = 4096;
pub const ADDRESS_KEYS: u64 = 4;
/// The most keys and addresses the limiter tracks; past that, newcomers share one budget.
const MAX_TRACKED: usize = 10_000;

pub fn router() -> Routes<Shared> {
    Routes::new()
        .route("POST", "/sync/v1/councils", post(councils))
        .route("POST", "/sync/v1/{council}/hello", post(hello))
        .route("POST", "/sync/v1/{council}/more", post(more))
        .route("POST", "/sync/v1/{council}/exchange", post(exchange))
        .layer(|router| {
            router
                .layer(Extension(Limiter::default()))
                .layer(DefaultBodyLimit::max(MAX_REQUEST))
        })
}

/// Who a request is charged to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Payer {
    Key(PublicKey),
    Address(IpAddr),
    /// Everyone the limiter has no room to track.
    Crowd,
}

/// A bounded, in-memory budget per key and per address, renewed every minute.
#[derive(Debug, Clone, Default)]
pub struct Limiter(Arc<Mutex<HashMap<Payer, (Instant, u64)>>>);

impl Limiter {
    /// Adds `cost` to the key's and the address's spending; whether either is now over.
    fn add(&self, key: PublicKey, address: Option<IpAddr>, cost: u64) -> bool {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let mut over = false;
        let mut payers = vec![(Payer::Key(key), BUDGET_PER_MINUTE)];
        if let Some(address) = address {
            payers.push((Payer::Address(address), BUDGET_PER_MINUTE * ADDRESS_KEYS));
        }
        for (mut payer, budget) in payers {
            if !map.contains_key(&payer) && map.len() >= MAX_TRACKED {
                map.retain(|_, (since, _)| now.duration_since(*since) < Duration::from_secs(60));
                if map.len() >= MAX_TRACKED {
                    payer = Payer::Crowd;
                }
            }
            let (since, spent) = map.entry(payer).or_insert((now, 0));
            if now.duration_since(*since) >= Duration::from_secs(60) {
                *since = now;
                *spent = 0;
            }
            *spent = spent.saturating_add(cost);
            over |= *spent > budget;
        }
        over
    }

    /// Counts an answer against the asker: it is sent, and the next request pays for it.
    fn spend(&self, key: PublicKey, address: Option<IpAddr>, cost: u64) {
        self.add(key, address, cost);
    }

    /// Charges `cost` to the request's key and address; refuses (429) once either is spent.
    fn charge(&self, key: PublicKey, address: Option<IpAddr>, cost: u64) -> Result<(), ApiError> {
        if self.add(key, address, cost) {
            tracing::warn!(peer = %key, ?address, "a sync peer is over its budget");
            return Err(ApiError(
                StatusCode::TOO_MANY_REQUESTS,
                "too much sync from this key or address in the last minute: try again in a minute"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// The asker's address, when the server was started with it (`commune serve` is).
struct PeerAddress(Option<IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PeerAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(PeerAddress(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(address)| address.ip()),
        ))
    }
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

/// The council's ids and its heads' hash, if `key` is a member here: read under the node's
/// lock, then keyed under the salt without it ([`keyed`]).
fn member_ids(
    node: &mut Node,
    council: CouncilId,
    key: PublicKey,
    invitation: Option<&str>,
) -> Result<(Vec<commune_core::EventId>, [u8; 32]), ApiError> {
    check_member(node, council, key, invitation)?;
    let ids = node
        .store()
        .ids_of(council)
        .map_err(|e| crate::server::internal(e.into()))?;
    let heads = node
        .store()
        .heads(council)
        .map_err(|e| crate::server::internal(e.into()))?;
    Ok((ids, sync::heads_hash(&heads)))
}

/// Runs CPU work (keying ids, encoding an answer) on a blocking thread, without the node.
async fn off_lock<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work).await.map_err(|error| {
        tracing::error!(%error, "a sync task failed");
        ApiError(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error; see the node's log".into(),
        )
    })?
}

/// The most symbols a `more` may reach for a council of `events` ids: two per id, and 1,024,
/// so that an answer stays in proportion to the council. An asker that follows the protocol
/// never gets there: a hello answers with symbols only while they cost less than the
/// listing of the ids (about 0.2 per id), and eight requests for a quarter more reach
/// about 1.2 per id.
pub fn symbol_cap(events: usize) -> u64 {
    (events as u64).saturating_mul(2).saturating_add(1024)
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
    Extension(limiter): Extension<Limiter>,
    PeerAddress(from): PeerAddress,
    Path(council): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (council, key, hello) = signed::<Hello>(&council, &headers, &uri, &body)?;
    limiter.charge(key, from, body.len() as u64)?;
    let invitation = invitation(&headers);
    let (ids, heads_hash) = with_node(node, move |node| {
        member_ids(node, council, key, invitation.as_deref())
    })
    .await?;
    let answer = off_lock(move || {
        let items = Keyer::new(&hello.salt).items(&ids);
        let answer: Answer =
            sync::answer(&hello, heads_hash, &items).map_err(|e| refuse(key, e.to_string()))?;
        Ok(sync::encode_message(&answer))
    })
    .await?;
    limiter.spend(key, from, answer.len() as u64);
    Ok(cbor(answer))
}

async fn more(
    State(node): State<Shared>,
    Extension(limiter): Extension<Limiter>,
    PeerAddress(from): PeerAddress,
    Path(council): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (council, key, mut request) = signed::<More>(&council, &headers, &uri, &body)?;
    limiter.charge(key, from, body.len() as u64)?;
    let invitation = invitation(&headers);
    let (ids, _) = with_node(node, move |node| {
        member_ids(node, council, key, invitation.as_deref())
    })
    .await?;
    let cap = symbol_cap(ids.len());
    if request.from >= cap {
        return Err(refuse(
            key,
            format!(
                "symbols from {} on are more than this council's {} events need: sync again",
                request.from,
                ids.len()
            ),
        ));
    }
    request.to = request.to.min(cap);
    let answer = off_lock(move || {
        let items = Keyer::new(&request.salt).items(&ids);
        let symbols = sync::more(&request, &items).map_err(|e| refuse(key, e.to_string()))?;
        Ok(sync::encode_message(&minicbor::bytes::ByteVec::from(
            symbols,
        )))
    })
    .await?;
    limiter.spend(key, from, answer.len() as u64);
    Ok(cbor(answer))
}

async fn exchange(
    State(node): State<Shared>,
    Extension(limiter): Extension<Limiter>,
    PeerAddress(from): PeerAddress,
    Path(council): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (council, key, request) = signed::<Exchange>(&council, &headers, &uri, &body)?;
    let pushed = request.push.len() as u64;
    limiter.charge(
        key,
        from,
        (body.len() as u64).saturating_add(pushed * EVENT_COST),
    )?;
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
    let delivery = with_node(node, move |node| {
        let mut delivery = Delivery::default();
        if !request.push.is_empty() {
            if !node.holds(council).map_err(crate::server::internal)? {
                tracing::warn!(peer = %key, %council, "refused a push to a council this node does not hold");
                return Err(ApiError(
                    StatusCode::NOT_FOUND,
                    format!(
                        "no council {council} on this node, and a push does not bring a new one (a council comes to a node by being founded there, by a bundle its operator imports, or by the node's own sync)"
                    ),
                ));
            }
            let frames: Vec<&[u8]> = request.push.iter().map(|e| e.as_slice()).collect();
            let report = node
                .ingest(Some(council), &frames)
                .map_err(crate::server::internal)?;
            node.settle(&report.touched).map_err(crate::server::internal)?;
            if !report.invalid.is_empty() || !report.refused.is_empty() || !report.not_yet.is_empty() {
                tracing::warn!(peer = %key, %council, invalid = ?report.invalid, refused = report.refused.len(), not_yet = report.not_yet.len(), "refused events a peer pushed");
            }
            delivery.new = report.new as u64;
            delivery.duplicate = report.duplicate as u64;
            delivery.missing = report.missing_parents.iter().map(|id| id.0.into()).collect();
            delivery.invalid = report.invalid;
            // "Not yet" goes with the refusals: the asker's next sync offers it again.
            delivery.invalid.extend(report.not_yet);
            delivery.invalid.extend(report.refused);
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
        Ok(delivery)
    })
    .await?;
    let answer = off_lock(move || Ok(sync::encode_message(&delivery))).await?;
    limiter.spend(key, from, answer.len() as u64);
    Ok(cbor(answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u32) -> PublicKey {
        let mut bytes = [0u8; 32];
        bytes[..4].copy_from_slice(&n.to_le_bytes());
        PublicKey(bytes)
    }

    #[test]
    fn a_key_and_an_address_each_have_a_budget() {
        let limiter = Limiter::default();
        let home: IpAddr = "127.0.0.1".parse().unwrap();
        let away: IpAddr = "127.0.0.2".parse().unwrap();
        let mb = 1 << 20;
        // One key spends its minute, then is refused; another key from the address is not.
        for _ in 0..BUDGET_PER_MINUTE / mb {
            limiter.charge(key(1), Some(home), mb).unwrap();
        }
        let refused = limiter.charge(key(1), Some(home), mb).unwrap_err();
        assert_eq!(refused.0, StatusCode::TOO_MANY_REQUESTS);
        assert!(refused.1.contains("try again in a minute"), "{}", refused.1);
        limiter.charge(key(2), Some(home), mb).unwrap();
        // Fresh keys from one address run into the address's budget.
        let mut refused_at = None;
        for n in 3..3 + 4 * ADDRESS_KEYS as u32 {
            if limiter
                .charge(key(n), Some(home), BUDGET_PER_MINUTE / 2)
                .is_err()
            {
                refused_at = Some(n);
                break;
            }
        }
        assert!(refused_at.is_some(), "an address spent without bound");
        limiter.charge(key(999), Some(away), mb).unwrap();
    }

    #[test]
    fn the_limiter_tracks_a_bounded_number_of_payers() {
        let limiter = Limiter::default();
        for n in 0..(MAX_TRACKED as u32 + 500) {
            let _ = limiter.charge(key(n), None, 1);
        }
        assert!(limiter.0.lock().unwrap().len() <= MAX_TRACKED + 1);
    }

    #[test]
    fn a_more_reaches_two_symbols_per_event() {
        assert_eq!(symbol_cap(0), 1024);
        assert_eq!(symbol_cap(1_000_000), 2_001_024);
    }
}
