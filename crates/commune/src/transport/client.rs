//! The asking side of HTTP sync: one council with one peer at a time.
//!
//! The node is locked only while it is read or written, never across a request, so two
//! nodes that sync with each other at once do not wait on each other.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use commune_core::sync::{self, Answer, Delivery, Exchange, Hello, Keyer, More};
use commune_core::{CouncilId, Event, EventId, Keypair};
use serde::Serialize;

use super::{CBOR, auth};
use crate::node::{IngestReport, Node, check_frames, now_ms, random_bytes};

/// Events per exchange request, each way.
const BATCH: usize = 2_000;
/// Bytes of pushed events per exchange request.
const BATCH_BYTES: usize = 4 << 20;
/// The most extra requests for symbols, or for missing parents, in one sync.
const MAX_EXTRA: usize = 8;
/// The largest answer read from a peer.
const MAX_ANSWER: u64 = 64 << 20;

/// A peer and the identity that signs requests to it, with what has crossed the wire.
pub struct Peer {
    agent: ureq::Agent,
    base: String,
    keypair: Keypair,
    /// An invitation (its text) shown with each request: a read credential until it is used
    /// or expires, so that a newcomer can fetch the log before joining.
    invitation: Option<String>,
    pub traffic: Traffic,
}

/// Requests made and bytes moved, counting message bodies (HTTP headers, a few hundred
/// bytes a request, are not counted).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Traffic {
    pub requests: u64,
    pub bytes_up: u64,
    pub bytes_down: u64,
}

/// What one council's sync did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CouncilSync {
    pub council: CouncilId,
    /// Requests made to find the difference (the hello, and any request for more symbols).
    pub reconcile_round_trips: u64,
    /// Bytes of those requests and their answers, both ways.
    pub reconcile_bytes: u64,
    /// Milliseconds until the difference was known.
    pub reconcile_ms: u64,
    /// How many events differed, as the reconciliation found.
    pub difference: usize,
    /// What became of the events fetched from the peer.
    pub fetched: IngestReport,
    /// Events the peer stored from our push.
    pub pushed: u64,
    /// Pushed events the peer refused, with its reasons.
    pub refused_by_peer: Vec<String>,
    pub traffic: Traffic,
}

impl Peer {
    pub fn new(base: &str, keypair: Keypair) -> Result<Peer> {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(300)))
            .timeout_connect(Some(Duration::from_secs(10)))
            .build()
            .into();
        Ok(Peer {
            agent,
            base: super::peers::normalise(base)?,
            keypair,
            invitation: None,
            traffic: Traffic::default(),
        })
    }

    /// Shows `invitation` (its text) with every request.
    pub fn with_invitation(mut self, invitation: String) -> Peer {
        self.invitation = Some(invitation);
        self
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// POSTs a signed CBOR message. A refusal comes back as an error with the peer's reason,
    /// its status in [`Refused`].
    fn post(&mut self, path: &str, body: Vec<u8>) -> Result<Vec<u8>> {
        let signature = auth::sign(&self.keypair, "POST", path, now_ms(), &body);
        let url = format!("{}{path}", self.base);
        let mut request = self
            .agent
            .post(&url)
            .header("content-type", CBOR)
            .header(auth::HEADER, &signature);
        if let Some(invitation) = &self.invitation {
            request = request.header(super::routes::INVITATION_HEADER, invitation);
        }
        let mut response = request
            .send(&body[..])
            .with_context(|| format!("cannot reach {}", self.base))?;
        let status = response.status().as_u16();
        let answer = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER)
            .read_to_vec()
            .with_context(|| format!("{} sent a broken or oversized answer", self.base))?;
        self.traffic.requests += 1;
        self.traffic.bytes_up += body.len() as u64;
        self.traffic.bytes_down += answer.len() as u64;
        if status != 200 {
            let reason = serde_json::from_slice::<serde_json::Value>(&answer)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_owned))
                .unwrap_or_else(|| String::from_utf8_lossy(&answer).chars().take(200).collect());
            return Err(
                anyhow!(Refused(status)).context(format!("{} refused: {reason}", self.base))
            );
        }
        Ok(answer)
    }

    /// A member council's register, read as a federation reads it to plan
    /// (`GET /api/councils/{council}/register`, signed by our identity).
    pub fn register(&mut self, council: CouncilId) -> Result<commune_core::State> {
        let path = format!("/api/councils/{council}/register");
        let signature = auth::sign(&self.keypair, "GET", &path, now_ms(), b"");
        let mut response = self
            .agent
            .get(&format!("{}{path}", self.base))
            .header(auth::HEADER, &signature)
            .call()
            .with_context(|| format!("cannot reach {}", self.base))?;
        let status = response.status().as_u16();
        let bytes = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER)
            .read_to_vec()
            .with_context(|| format!("{} sent a broken answer", self.base))?;
        let answer: serde_json::Value = serde_json::from_slice(&bytes)
            .with_context(|| format!("{} sent an answer that is not JSON", self.base))?;
        if status != 200 {
            let reason = answer["error"].as_str().unwrap_or("no reason given");
            bail!(
                "{} refused council {}'s register: {reason}",
                self.base,
                council.short()
            );
        }
        serde_json::from_value(answer["state"].clone())
            .with_context(|| format!("{} sent a register that does not read", self.base))
    }

    fn decode<T: for<'b> minicbor::Decode<'b, ()>>(&self, bytes: &[u8]) -> Result<T> {
        sync::decode(bytes)
            .map_err(|error| anyhow!("{} sent a bad sync message: {error}", self.base))
    }

    /// The councils the peer holds that our identity is a member of.
    pub fn councils(&mut self) -> Result<Vec<CouncilId>> {
        let answer = self.post("/sync/v1/councils", Vec::new())?;
        self.decode(&answer)
    }

    fn exchange(&mut self, council: CouncilId, request: &Exchange) -> Result<Delivery> {
        let answer = self.post(
            &format!("/sync/v1/{council}/exchange"),
            sync::encode_message(request),
        )?;
        self.decode(&answer)
    }
}

/// The HTTP status of a peer's refusal.
#[derive(Debug, Clone, Copy)]
pub struct Refused(pub u16);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HTTP {}", self.0)
    }
}

fn lock(node: &Mutex<Node>) -> std::sync::MutexGuard<'_, Node> {
    node.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Syncs one council with a peer: finds the difference, fetches what we lack, pushes what
/// the peer lacks, and fetches missing parents by id. `progress` hears (events moved,
/// events to move).
pub fn sync_council(
    node: &Mutex<Node>,
    peer: &mut Peer,
    council: CouncilId,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<CouncilSync> {
    let start = peer.traffic;
    let started = std::time::Instant::now();
    let salt = random_bytes();
    let keyer = Keyer::new(&salt);
    let (items, hello) = {
        let node = lock(node);
        let ids = node.store().ids_of(council)?;
        let heads = node.store().heads(council)?;
        let items = keyer.items(&ids);
        let hello = Hello::new(sync::heads_hash(&heads), &items, salt);
        (items, hello)
    };
    let hello_bytes = sync::encode_message(&hello);
    let path = format!("/sync/v1/{council}/hello");
    // Our own events the peer stored before it would answer us (our join).
    let mut joined = 0;
    let answer = match peer.post(&path, hello_bytes.clone()) {
        Err(error) if error.downcast_ref::<Refused>().is_some_and(|r| r.0 == 403) => {
            // Not a member there yet: our join (and our other acts) may not have reached
            // the peer. Push our own events, then ask again.
            let own: Vec<Event> = lock(node)
                .store()
                .events_of(council)?
                .into_iter()
                .filter(|e| e.unsigned.author == peer.keypair.public())
                .collect();
            if own.is_empty() {
                return Err(error);
            }
            joined = push(peer, council, &own)?;
            peer.post(&path, hello_bytes)?
        }
        other => other?,
    };
    let answer: Answer = peer.decode(&answer)?;
    let mut report = CouncilSync {
        council,
        pushed: joined,
        ..CouncilSync::default()
    };
    // What we lack, as id prefixes, and the events the peer lacks.
    let (want, mut to_push): (Vec<Vec<u8>>, Vec<Event>) = match answer {
        Answer::Same => (Vec::new(), Vec::new()),
        Answer::Difference {
            asker_lacks,
            answerer_lacks,
        } => {
            let node = lock(node);
            let mut events = Vec::new();
            for prefix in &answerer_lacks {
                events.extend(node.store().events_with_prefix(council, &prefix[..])?);
            }
            (asker_lacks.iter().map(|p| p.to_vec()).collect(), events)
        }
        Answer::Listing { prefixes } => {
            let (lacking, extra) = sync::listing_difference(&prefixes, &items)
                .ok_or_else(|| anyhow!("{} sent a listing of broken prefixes", peer.base))?;
            (
                lacking.iter().map(|p| p.to_vec()).collect(),
                load(node, &extra)?,
            )
        }
        Answer::Symbols { symbols, .. } => {
            let mut received = sync::unpack(&symbols)
                .ok_or_else(|| anyhow!("{} sent broken symbols", peer.base))?;
            let mut extra = 0;
            let difference = loop {
                if let Some(difference) = sync::resolve(&keyer, &received, &items) {
                    break difference;
                }
                extra += 1;
                if extra > MAX_EXTRA || received.len() as u64 >= sync::MAX_SYMBOLS {
                    bail!(
                        "the difference with {} did not resolve; try again",
                        peer.base
                    );
                }
                let from = received.len() as u64;
                let to = (from + from / 4 + 16).min(sync::MAX_SYMBOLS);
                let more = sync::encode_message(&More { salt, from, to });
                let answer = peer.post(&format!("/sync/v1/{council}/more"), more)?;
                let packed: minicbor::bytes::ByteVec = peer.decode(&answer)?;
                received.extend(
                    sync::unpack(&packed)
                        .ok_or_else(|| anyhow!("{} sent broken symbols", peer.base))?,
                );
            };
            (
                difference
                    .remote_only
                    .iter()
                    .map(|id| sync::prefix(id).to_vec())
                    .collect(),
                load(node, &difference.local_only)?,
            )
        }
    };
    let reconciled = peer.traffic;
    report.reconcile_round_trips = reconciled.requests - start.requests;
    report.reconcile_bytes =
        reconciled.bytes_up + reconciled.bytes_down - start.bytes_up - start.bytes_down;
    report.reconcile_ms = started.elapsed().as_millis() as u64;
    report.difference = want.len() + to_push.len();
    let total = report.difference as u64;
    let mut moved = 0;
    progress(moved, total);

    // What the peer lacks, oldest first, so that parents go before children.
    to_push.sort_by_key(|e| (e.unsigned.depth, e.id));
    let mut wants = want.chunks(BATCH);
    let mut pushes = to_push.as_slice();
    let mut received = Received::default();
    loop {
        let want_batch = wants.next().unwrap_or_default();
        let batch = next_batch(&mut pushes);
        if want_batch.is_empty() && batch.is_empty() {
            break;
        }
        let pushed = batch.len() as u64;
        let request = Exchange {
            want: want_batch.iter().map(|p| p.clone().into()).collect(),
            push: batch,
        };
        let mut delivery = peer.exchange(council, &request)?;
        received.take(node, council, std::mem::take(&mut delivery.events))?;
        report.pushed += delivery.new;
        report
            .refused_by_peer
            .extend(delivery.invalid.iter().cloned());
        moved += want_batch.len() as u64 + pushed;
        progress(moved.min(total), total);
        // The peer lacks parents of what we pushed: push those first, next time round.
        if !delivery.missing.is_empty() {
            let missing: Vec<EventId> = delivery.missing.iter().map(|id| EventId(**id)).collect();
            let parents = load(node, &missing)?;
            report.pushed += push(peer, council, &parents)?;
        }
    }
    // Orphans still held: their parents were in no batch. Fetch the parents by id (they may
    // be older than what the reconciliation found, if the peer's answer was cut).
    let mut seen: HashSet<EventId> = HashSet::new();
    for _ in 0..MAX_EXTRA {
        let missing: Vec<EventId> = received
            .missing_parents
            .iter()
            .filter(|id| seen.insert(**id))
            .copied()
            .collect();
        if missing.is_empty() {
            break;
        }
        for chunk in missing.chunks(BATCH) {
            let request = Exchange {
                want: chunk.iter().map(|id| id.0.to_vec().into()).collect(),
                push: Vec::new(),
            };
            let delivery = peer.exchange(council, &request)?;
            received.take(node, council, delivery.events)?;
        }
    }
    report.fetched = received.finish(node)?;
    report.traffic = Traffic {
        requests: peer.traffic.requests - start.requests,
        bytes_up: peer.traffic.bytes_up - start.bytes_up,
        bytes_down: peer.traffic.bytes_down - start.bytes_down,
    };
    Ok(report)
}

/// The events fetched in one sync. Batches arrive in the order the wants were listed, not in
/// (depth, id) order, so an event may come before its parents: it is held and offered again
/// with each later batch, and only what is still held at the end counts as an orphan.
#[derive(Default)]
struct Received {
    report: IngestReport,
    /// Checked events waiting for their parents.
    held: Vec<Event>,
    missing_parents: Vec<EventId>,
}

impl Received {
    fn take(
        &mut self,
        node: &Mutex<Node>,
        council: CouncilId,
        events: Vec<minicbor::bytes::ByteVec>,
    ) -> Result<()> {
        let frames: Vec<&[u8]> = events.iter().map(|e| e.as_slice()).collect();
        let mut batch = IngestReport::default();
        let mut checked = check_frames(Some(council), &frames, &mut batch.invalid);
        if !batch.invalid.is_empty() {
            tracing::warn!(%council, invalid = ?batch.invalid, "refused events a peer sent");
        }
        checked.append(&mut self.held);
        if checked.is_empty() {
            self.report.invalid.extend(batch.invalid);
            return Ok(());
        }
        let report = lock(node).append_checked(&checked, batch)?;
        let orphans: HashSet<EventId> = report.orphans.iter().copied().collect();
        self.held = checked
            .into_iter()
            .filter(|e| orphans.contains(&e.id))
            .collect();
        self.missing_parents = report.missing_parents;
        self.report.new += report.new;
        self.report.duplicate += report.duplicate;
        self.report.invalid.extend(report.invalid);
        self.report.not_yet.extend(report.not_yet);
        self.report.refused.extend(report.refused);
        self.report.touched.extend(report.touched);
        Ok(())
    }

    /// Saves the projections of what changed; the report, with the orphans still held.
    fn finish(mut self, node: &Mutex<Node>) -> Result<IngestReport> {
        self.report.touched.sort();
        self.report.touched.dedup();
        lock(node).settle(&self.report.touched)?;
        self.report.orphans = self.held.iter().map(|e| e.id).collect();
        self.report.missing_parents = self.missing_parents;
        Ok(self.report)
    }
}

/// The stored events with these ids (those the store has).
fn load(node: &Mutex<Node>, ids: &[EventId]) -> Result<Vec<Event>> {
    let node = lock(node);
    let mut events = Vec::with_capacity(ids.len());
    for id in ids {
        events.extend(node.store().event(*id)?);
    }
    Ok(events)
}

/// Takes the next batch of events to push off the front of `events`: at most [`BATCH`]
/// events and, past the first, [`BATCH_BYTES`] bytes, so that a request stays under the
/// peer's size limit.
fn next_batch(events: &mut &[Event]) -> Vec<minicbor::bytes::ByteVec> {
    let mut batch = Vec::new();
    let mut size = 0;
    while let Some((event, rest)) = events.split_first() {
        if batch.len() == BATCH || (size + event.bytes.len() > BATCH_BYTES && !batch.is_empty()) {
            break;
        }
        size += event.bytes.len();
        batch.push(event.bytes.clone().into());
        *events = rest;
    }
    batch
}

/// Pushes events (in (depth, id) order) in batches; returns how many the peer stored.
fn push(peer: &mut Peer, council: CouncilId, events: &[Event]) -> Result<u64> {
    let mut events = events.to_vec();
    events.sort_by_key(|e| (e.unsigned.depth, e.id));
    let mut rest = events.as_slice();
    let mut stored = 0;
    while !rest.is_empty() {
        let request = Exchange {
            want: Vec::new(),
            push: next_batch(&mut rest),
        };
        stored += peer.exchange(council, &request)?.new;
    }
    Ok(stored)
}

/// What syncing with one peer did, council by council.
#[derive(Debug, Serialize)]
pub struct PeerSync {
    pub peer: String,
    pub councils: Vec<CouncilSync>,
    /// Councils that failed, with the reason.
    pub failed: Vec<(CouncilId, String)>,
    /// Councils the peer does not hold: nothing to do there, and no failure.
    pub not_held: Vec<CouncilId>,
}

/// Syncs the given councils with a peer, or every council that either side holds and our
/// identity may read. A failing council does not stop the others; an unreachable peer is an
/// error.
pub fn sync_peer(
    node: &Mutex<Node>,
    url: &str,
    keypair: Keypair,
    councils: Option<Vec<CouncilId>>,
    progress: &mut dyn FnMut(CouncilId, u64, u64),
) -> Result<PeerSync> {
    let mut peer = Peer::new(url, keypair)?;
    let councils = match councils {
        Some(councils) => councils,
        None => {
            let mut councils = lock(node).store().councils()?;
            councils.extend(peer.councils()?);
            councils.sort();
            councils.dedup();
            councils
        }
    };
    let mut result = PeerSync {
        peer: peer.base().to_owned(),
        councils: Vec::new(),
        failed: Vec::new(),
        not_held: Vec::new(),
    };
    for council in councils {
        match sync_council(node, &mut peer, council, &mut |done, total| {
            progress(council, done, total)
        }) {
            Ok(report) => result.councils.push(report),
            Err(error) if error.downcast_ref::<Refused>().is_some_and(|r| r.0 == 404) => {
                result.not_held.push(council);
            }
            Err(error) => {
                if error.downcast_ref::<ureq::Error>().is_some() {
                    return Err(error);
                }
                result.failed.push((council, format!("{error:#}")));
            }
        }
    }
    Ok(result)
}
