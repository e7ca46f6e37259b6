//! `commune serve`: the JSON HTTP API. All routes are in [`router`].
//!
//! The node never signs for an HTTP client: a client asks for a draft, signs it with its own
//! key, and submits the signed bytes, which are checked like any event from outside. Errors
//! map to one type with a status and a message a person can act on; internals are logged.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use clap::Args;
use commune_core::{CouncilId, EventId, Payload, PublicKey};
use serde::Deserialize;

use crate::cli::Invocation;
use crate::node::{Node, StaleHeads, Submitted, now_ms};
use crate::reading::{self, Part, Reader};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on
    #[arg(long, default_value = "127.0.0.1:7878")]
    pub listen: SocketAddr,
    /// Fill an empty data directory with the example first (as `commune demo` does)
    #[arg(long)]
    pub demo: bool,
    /// Sync with every peer (`commune peer add`) this often, in seconds; 0 turns it off.
    /// An unreachable peer is tried again after twice as long each time, up to an hour.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub sync_every: u64,
    /// Answer requests addressed to this host name too (repeat it for more). Addresses
    /// (127.0.0.1, [::1], 192.0.2.7) and `localhost` are always answered; any other name in
    /// a request's `Host` is refused, so that a web page cannot reach this node by making its
    /// own name point here (DNS rebinding).
    #[arg(
        long = "allow-host",
        value_name = "NAME",
        env = "COMMUNE_ALLOW_HOSTS",
        value_delimiter = ','
    )]
    pub allow_hosts: Vec<String>,
    /// Close a connection whose request headers have not all arrived after this long.
    #[arg(long, default_value_t = 10, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout: u64,
}

/// The largest request body: one event with the largest inline body, hex-encoded, and room.
const MAX_BODY: usize = 2 * commune_core::event::MAX_EVENT_BYTES + 4096;

pub(crate) type Shared = Arc<Mutex<Node>>;

pub fn serve(invocation: &Invocation, args: ServeArgs) -> Result<()> {
    if args.demo {
        crate::demo::fill(invocation)?;
    }
    let node = invocation.open()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let served = runtime.block_on(async move {
        // Listened for before the address is printed: a signal sent once a supervisor or a
        // test has seen it stops the server gracefully rather than killing it.
        let stop = stop_signal()?;
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let address = listener.local_addr()?;
        println!(
            "commune is serving {} on http://{address}",
            node.dir().display(),
        );
        tracing::info!(%address, data = %node.dir().display(), "serving");
        let keypair = node.identity(&invocation.identity);
        let node = Arc::new(Mutex::new(node));
        let (stop_sync, sync_stopped) = tokio::sync::watch::channel(false);
        let sync = match keypair {
            Ok(keypair) if args.sync_every > 0 => Some(tokio::spawn(crate::transport::sync_loop(
                node.clone(),
                keypair,
                std::time::Duration::from_secs(args.sync_every),
                sync_stopped,
            ))),
            Ok(_) => None,
            Err(error) => {
                tracing::warn!(%error, "no identity to sign sync requests with: not syncing with peers");
                None
            }
        };
        let live = node.clone();
        let app = crate::listen::layers(router(node), &args.allow_hosts);
        // The accept loop hands each request the peer's address, for the sync routes'
        // per-address budget.
        crate::listen::serve(
            listener,
            app,
            std::time::Duration::from_secs(args.header_timeout),
            async move {
                stop.await;
                tracing::info!("stopping: finishing the requests under way");
                // Live pages hold their streams open; ending them lets the server stop.
                live.lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .close_subscriptions();
            },
        )
        .await;
        // A sync under way finishes (its requests have timeouts); no new one starts.
        let _ = stop_sync.send(true);
        if let Some(sync) = sync
            && let Err(error) = sync.await
        {
            tracing::error!(%error, "the sync loop failed");
        }
        // The last handle on the node, and so the store, is dropped here (unless a sync
        // thread left behind still holds one: see below).
        tracing::info!("stopped");
        Ok(())
    });
    // A sync thread still waiting on a peer that does not answer must not hold up the exit
    // (dropping the runtime would wait for it): the sync loop has already given it its grace.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    served
}

/// What stops `serve`: SIGINT (Ctrl-C) or, on Unix, SIGTERM (what systemd and container
/// engines send). The handlers are in place when this returns, before the future is polled.
fn stop_signal() -> Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
        let mut terminate = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

pub fn router(node: Shared) -> Router {
    routes(&node).router.with_state(node)
}

/// Every route of the node, each listed with its methods.
pub(crate) fn routes(node: &Shared) -> Routes<Shared> {
    let (folds, sessions) = {
        let node = node.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        (node.folds(), node.sessions())
    };
    Routes::new()
        .merge(crate::web::routes(folds))
        .route("GET", "/healthz", get(|| async { "ok" }))
        .route("GET", "/api/councils", get(councils))
        .route("GET", "/api/councils/{council}", get(council))
        .route(
            "GET",
            "/api/councils/{council}/proposals/{proposal}",
            get(proposal),
        )
        .route("GET", "/api/councils/{council}/rejections", get(rejections))
        .route("GET", "/api/councils/{council}/register", get(register))
        .route("POST", "/api/councils/{council}/drafts", post(draft))
        .route("POST", "/api/events", post(submit))
        .route(
            "GET",
            "/api/openapi.json",
            get(crate::web::openapi::document),
        )
        .merge(crate::web::sessions::routes())
        .layer(|router| {
            router
                .layer(axum::middleware::from_fn(crate::web::guard::same_origin))
                .layer(DefaultBodyLimit::max(MAX_BODY))
        })
        .merge(crate::transport::routes::router())
        .layer(|router| router.layer(axum::Extension(sessions)))
}

/// A router that lists every route it is given with its methods, so that the test walking
/// every route as every kind of reader cannot miss one.
pub(crate) struct Routes<S> {
    pub(crate) router: Router<S>,
    pub(crate) listed: Vec<(&'static str, &'static str)>,
}

impl<S: Clone + Send + Sync + 'static> Routes<S> {
    pub(crate) fn new() -> Self {
        Routes {
            router: Router::new(),
            listed: Vec::new(),
        }
    }

    /// `methods`: the methods `route` answers, separated by spaces (`"GET POST"`).
    pub(crate) fn route(
        mut self,
        methods: &'static str,
        path: &'static str,
        route: axum::routing::MethodRouter<S>,
    ) -> Self {
        self.router = self.router.route(path, route);
        for method in methods.split(' ') {
            self.listed.push((method, path));
        }
        self
    }

    pub(crate) fn merge(mut self, other: Routes<S>) -> Self {
        self.router = self.router.merge(other.router);
        self.listed.extend(other.listed);
        self
    }

    /// Wraps the routes so far in layers.
    pub(crate) fn layer(mut self, f: impl FnOnce(Router<S>) -> Router<S>) -> Self {
        self.router = f(self.router);
        self
    }
}

/// An error for an HTTP client: a status and a message a person can act on.
#[derive(Debug)]
pub struct ApiError(pub StatusCode, pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

pub(crate) fn bad_request(error: anyhow::Error) -> ApiError {
    ApiError(StatusCode::UNPROCESSABLE_ENTITY, format!("{error:#}"))
}

pub(crate) fn not_found(error: anyhow::Error) -> ApiError {
    ApiError(StatusCode::NOT_FOUND, format!("{error:#}"))
}

pub(crate) fn parse<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, ApiError> {
    text.parse().map_err(|_| {
        ApiError(
            StatusCode::BAD_REQUEST,
            format!("{text:?} is not a {what} id (64 hex characters)"),
        )
    })
}

/// Runs a use-case on a blocking thread, since the store is synchronous.
pub(crate) async fn with_node<T: Send + 'static>(
    node: Shared,
    f: impl FnOnce(&mut Node) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(move || {
        let mut node = node.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut node)
    })
    .await
    .map_err(|error| {
        tracing::error!(%error, "a request's task failed");
        ApiError(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error; see the node's log".into(),
        )
    })?
}

/// The councils this node holds.
#[utoipa::path(get, path = "/api/councils", responses(
    (status = 200, description = "`[{id, name, members, open_proposals, events}]`", body = Object),
))]
pub(crate) async fn councils(
    State(node): State<Shared>,
    reader: Reader,
) -> Result<Json<serde_json::Value>, ApiError> {
    with_node(node, move |node| {
        let list = node.councils().map_err(internal)?;
        let mut shown = Vec::new();
        for summary in list {
            // A council the reader may not read shows its name and how it admits, no more.
            match reading::readable_in(node, reader.key(), summary.id, Part::Whole) {
                Ok(_) => shown.push(serde_json::to_value(summary).map_err(|e| internal(e.into()))?),
                Err(_) => {
                    let folded = node.fold(summary.id).map_err(internal)?;
                    shown.push(serde_json::json!({
                        "id": summary.id,
                        "name": summary.name,
                        "reading": folded.state.constitution.reading(),
                        "admission": folded.state.constitution.admission,
                    }));
                }
            }
        }
        Ok(Json(serde_json::Value::Array(shown)))
    })
    .await
}

pub(crate) fn internal(error: anyhow::Error) -> ApiError {
    tracing::error!(error = %format!("{error:#}"), "request failed");
    ApiError(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal error; see the node's log".into(),
    )
}

/// A council's whole folded state and its state hash.
#[utoipa::path(get, path = "/api/councils/{council}",
    params(("council" = String, Path, description = "The council id (64 hex characters)")),
    responses(
        (status = 200, description = "`{state, state_hash}`", body = Object),
        (status = 400, description = "Not a council id", body = Object),
        (status = 404, description = "No such council on this node", body = Object),
    ))]
pub(crate) async fn council(
    State(node): State<Shared>,
    Path(council): Path<String>,
    reader: Reader,
) -> Result<Json<serde_json::Value>, ApiError> {
    let council: CouncilId = parse(&council, "council")?;
    with_node(node, move |node| {
        let folded = reading::readable_in(node, reader.key(), council, Part::Whole)?;
        Ok(Json(serde_json::json!({
            "state": folded.state,
            "state_hash": data_encoding::HEXLOWER.encode(&folded.state.hash()),
        })))
    })
    .await
}

/// One proposal, with its running tally while it is open.
#[utoipa::path(get, path = "/api/councils/{council}/proposals/{proposal}",
    params(
        ("council" = String, Path, description = "The council id"),
        ("proposal" = String, Path, description = "The proposal id (the id of its event)"),
    ),
    responses(
        (status = 200, description = "`{proposal, running_tally}` (`running_tally` is null once decided)", body = Object),
        (status = 400, description = "Not an id", body = Object),
        (status = 404, description = "No such council or proposal", body = Object),
    ))]
pub(crate) async fn proposal(
    State(node): State<Shared>,
    Path((council, proposal)): Path<(String, String)>,
    reader: Reader,
) -> Result<Json<serde_json::Value>, ApiError> {
    let council: CouncilId = parse(&council, "council")?;
    let proposal: EventId = parse(&proposal, "proposal")?;
    with_node(node, move |node| {
        let folded = reading::readable_in(node, reader.key(), council, Part::Whole)?;
        let found = folded.state.proposals.get(&proposal).ok_or_else(|| {
            ApiError(
                StatusCode::NOT_FOUND,
                format!("no proposal {proposal} in this council"),
            )
        })?;
        Ok(Json(serde_json::json!({
            "proposal": found,
            "running_tally": found.is_open().then(|| found.running_tally()),
        })))
    })
    .await
}

/// The events the council's fold ignored, each with its reason.
#[utoipa::path(get, path = "/api/councils/{council}/rejections",
    params(("council" = String, Path, description = "The council id")),
    responses(
        (status = 200, description = "`[{event, kind, author, reason}]`", body = Object),
        (status = 404, description = "No such council", body = Object),
    ))]
pub(crate) async fn rejections(
    State(node): State<Shared>,
    Path(council): Path<String>,
    reader: Reader,
) -> Result<Json<serde_json::Value>, ApiError> {
    let council: CouncilId = parse(&council, "council")?;
    with_node(node, move |node| {
        reading::readable_in(node, reader.key(), council, Part::Whole)?;
        let rejections = node.rejections(council).map_err(not_found)?;
        Ok(Json(serde_json::json!(rejections)))
    })
    .await
}

/// The council's register, for a federation that plans over it: the state with its members,
/// proposals, ballots and mandates left out.
#[utoipa::path(get, path = "/api/councils/{council}/register",
    params(("council" = String, Path, description = "The council id")),
    responses(
        (status = 200, description = "`{state}`: the council's state with only its name, constitution, federations and register", body = Object),
        (status = 403, description = "A reader the council's reading rule does not admit", body = Object),
        (status = 404, description = "No such council", body = Object),
    ))]
pub(crate) async fn register(
    State(node): State<Shared>,
    Path(council): Path<String>,
    reader: Reader,
) -> Result<Json<serde_json::Value>, ApiError> {
    let council: CouncilId = parse(&council, "council")?;
    with_node(node, move |node| {
        let folded = reading::readable_in(node, reader.key(), council, Part::Register)?;
        Ok(Json(
            serde_json::json!({ "state": reading::register_view(&folded.state) }),
        ))
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct DraftRequest {
    /// The author's public key (64 hex characters).
    #[schema(value_type = String)]
    author: PublicKey,
    /// The act, as `commune_core::Payload` in JSON: `{"kind": "ballot", ...}`.
    #[schema(value_type = Object)]
    payload: Payload,
}

/// The unsigned event a client should sign: the bytes to sign and the fields.
#[utoipa::path(post, path = "/api/councils/{council}/drafts",
    params(("council" = String, Path, description = "The council id")),
    request_body = DraftRequest,
    responses(
        (status = 200, description = "`{signing_message, seq, depth, time_ms, parents, kind, body}`: sign `signing_message` (hex) and build the event as docs/event-format.md says", body = Object),
        (status = 400, description = "Malformed JSON", body = Object),
        (status = 404, description = "No such council", body = Object),
        (status = 422, description = "A payload that is not an act", body = Object),
    ))]
pub(crate) async fn draft(
    State(node): State<Shared>,
    Path(council): Path<String>,
    request: Result<Json<DraftRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let council: CouncilId = parse(&council, "council")?;
    let Json(request) = request.map_err(|e| ApiError(e.status(), e.body_text()))?;
    with_node(node, move |node| {
        // A draft shows the council's heads and the author's place in its log: it is drafted
        // for an author who may read the council (as the web forms do), or for a join.
        if !matches!(request.payload, Payload::Join(_)) {
            reading::readable_in(node, Some(&request.author), council, Part::Whole)?;
        }
        let unsigned = node
            .draft(council, request.author, &request.payload, now_ms())
            .map_err(not_found)?;
        Ok(Json(draft_json(&unsigned)))
    })
    .await
}

/// A draft as clients get it: the bytes to sign (hex) and the event's fields.
pub(crate) fn draft_json(unsigned: &commune_core::Unsigned) -> serde_json::Value {
    serde_json::json!({
        "signing_message": data_encoding::HEXLOWER.encode(&unsigned.signing_message()),
        "seq": unsigned.seq,
        "depth": unsigned.depth,
        "time_ms": unsigned.time_ms,
        "parents": unsigned.parents,
        "kind": unsigned.kind,
        "body": data_encoding::HEXLOWER.encode(unsigned_body(unsigned)),
    })
}

fn unsigned_body(unsigned: &commune_core::Unsigned) -> &[u8] {
    match &unsigned.body {
        commune_core::Body::Inline(body) => body,
        commune_core::Body::Detached { .. } => &[],
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct SubmitRequest {
    /// The signed event's bytes, in hex.
    event: String,
}

/// Verifies, folds and stores a signed event.
#[utoipa::path(post, path = "/api/events",
    request_body = SubmitRequest,
    responses(
        (status = 201, description = "`{event, council}`: recorded", body = Object),
        (status = 400, description = "Malformed JSON, or not hex", body = Object),
        (status = 403, description = "Posted from another site's page", body = Object),
        (status = 409, description = "Already recorded: nothing changed; or `{error, redraft: true}`: the council moved on while the event was signed, so draft and sign it again", body = Object),
        (status = 413, description = "Too large", body = Object),
        (status = 422, description = "Refused: bad or missing signature, not canonical, not authorised, …", body = Object),
    ))]
pub(crate) async fn submit(
    State(node): State<Shared>,
    request: Result<Json<SubmitRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let Json(request) = request.map_err(|e| ApiError(e.status(), e.body_text()))?;
    let bytes = data_encoding::HEXLOWER_PERMISSIVE
        .decode(request.event.as_bytes())
        .map_err(|_| ApiError(StatusCode::BAD_REQUEST, "the event is not hex".into()))?;
    with_node(node, move |node| match node.submit(&bytes) {
        // Drafting again is the fix, so say so in a field a program can read.
        Err(error) if error.is::<StaleHeads>() => Ok((
            StatusCode::CONFLICT,
            Json(serde_json::json!({ "error": format!("{error:#}"), "redraft": true })),
        )),
        Err(error) => Err(bad_request(error)),
        Ok(Submitted::Recorded(event)) => Ok((
            StatusCode::CREATED,
            Json(serde_json::json!({ "event": event.id, "council": event.council() })),
        )),
        Ok(Submitted::AlreadyRecorded(event)) => Err(ApiError(
            StatusCode::CONFLICT,
            format!(
                "event {} is already recorded: a signed act counts once, and sending it again changes nothing",
                event.id
            ),
        )),
    })
    .await
}

#[cfg(test)]
pub(crate) mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use commune_core::constitution::Constitution;
    use commune_core::{Keypair, Unsigned};
    use tower::ServiceExt as _;

    use super::*;

    /// A node in a temporary directory with one council, founded by `keypair`.
    pub(crate) struct Fixture {
        _dir: tempfile::TempDir,
        pub(crate) node: Shared,
        pub(crate) keypair: Keypair,
        pub(crate) council: CouncilId,
    }

    pub(crate) fn fixture() -> Fixture {
        let dir = tempfile::TempDir::new().unwrap();
        let (mut node, _) = Node::init(dir.path(), None, "me").unwrap();
        let keypair = node.identity("me").unwrap();
        let council = node
            .found(&keypair, "Mutual aid", "Ana", Constitution::default())
            .unwrap()
            .council();
        Fixture {
            _dir: dir,
            node: Arc::new(Mutex::new(node)),
            keypair,
            council,
        }
    }

    /// A session cookie for `keypair`, as signing in from a browser gives it.
    pub(crate) fn session(node: &Shared, keypair: &Keypair) -> String {
        let sessions = node.lock().unwrap().sessions();
        let now = now_ms();
        let challenge = sessions.challenge(now);
        let message = crate::session::message(&challenge, &keypair.public());
        let token = sessions
            .sign_in(&keypair.public(), &challenge, &keypair.sign(&message), now)
            .unwrap();
        format!("{}={token}", crate::session::COOKIE)
    }

    /// Sends a request through the whole router; returns the status and the body as text.
    pub(crate) async fn send(node: &Shared, request: Request<Body>) -> (StatusCode, String) {
        let response = router(node.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    pub(crate) async fn call(
        node: &Shared,
        method: &str,
        uri: &str,
        body: Body,
    ) -> (StatusCode, serde_json::Value) {
        call_as(node, None, method, uri, body).await
    }

    /// As [`call`], signed in as `keypair`.
    pub(crate) async fn call_as(
        node: &Shared,
        keypair: Option<&Keypair>,
        method: &str,
        uri: &str,
        body: Body,
    ) -> (StatusCode, serde_json::Value) {
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json");
        if let Some(keypair) = keypair {
            request = request.header("cookie", session(node, keypair));
        }
        let request = request.body(body).unwrap();
        let (status, text) = send(node, request).await;
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        )
    }

    /// Posts signed event bytes to `/api/events`.
    pub(crate) async fn submit(node: &Shared, bytes: &[u8]) -> (StatusCode, serde_json::Value) {
        let body = serde_json::json!({ "event": data_encoding::HEXLOWER.encode(bytes) });
        call(node, "POST", "/api/events", Body::from(body.to_string())).await
    }

    pub(crate) fn event_count(fixture: &Fixture) -> u64 {
        fixture
            .node
            .lock()
            .unwrap()
            .store()
            .event_count(fixture.council)
            .unwrap()
    }

    /// Asks for a draft of a proposal and signs it as the fixture's member.
    async fn signed_proposal(fixture: &Fixture) -> commune_core::Event {
        let payload = serde_json::json!({
            "kind": "propose", "title": "Open a food pantry", "text": "", "action": {"type": "none"},
            "method": null, "options": [], "quorum": null, "deadline_ms": 4_000_000_000_000u64,
        });
        let (status, draft) = call(
            &fixture.node,
            "POST",
            &format!("/api/councils/{}/drafts", fixture.council),
            Body::from(
                serde_json::json!({ "author": fixture.keypair.public(), "payload": payload })
                    .to_string(),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{draft}");
        let unsigned = Unsigned {
            council: Some(fixture.council),
            author: fixture.keypair.public(),
            seq: draft["seq"].as_u64().unwrap(),
            parents: serde_json::from_value(draft["parents"].clone()).unwrap(),
            depth: draft["depth"].as_u64().unwrap(),
            time_ms: draft["time_ms"].as_u64().unwrap(),
            kind: draft["kind"].as_u64().unwrap(),
            body: commune_core::Body::Inline(
                data_encoding::HEXLOWER
                    .decode(draft["body"].as_str().unwrap().as_bytes())
                    .unwrap(),
            ),
            encryption: None,
        };
        assert_eq!(
            data_encoding::HEXLOWER.encode(&unsigned.signing_message()),
            draft["signing_message"].as_str().unwrap()
        );
        unsigned.sign(&fixture.keypair)
    }

    #[tokio::test]
    async fn a_client_signed_event_is_accepted_and_a_forged_one_refused() {
        let fixture = fixture();
        let event = signed_proposal(&fixture).await;
        let mut forged = event.bytes.clone();
        let last = forged.len() - 1;
        forged[last] ^= 1;
        let before = event_count(&fixture);
        let (status, body) = submit(&fixture.node, &forged).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            body["error"].as_str().unwrap().contains("signature"),
            "{body}"
        );
        assert_eq!(
            event_count(&fixture),
            before,
            "a forged event wrote nothing"
        );

        let (status, body) = submit(&fixture.node, &event.bytes).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(event_count(&fixture), before + 1);
        let (status, state) = call_as(
            &fixture.node,
            Some(&fixture.keypair),
            "GET",
            &format!("/api/councils/{}", fixture.council),
            Body::empty(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(state["state"]["proposals"].as_object().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn an_outsiders_signed_act_is_refused() {
        let fixture = fixture();
        let outsider = Keypair::from_seed([7; 32]);
        let payload = Payload::Leave(commune_core::payload::Leave {});
        let event = {
            let node = fixture.node.lock().unwrap();
            let unsigned = node.draft(fixture.council, outsider.public(), &payload, now_ms());
            unsigned.unwrap().sign(&outsider)
        };
        let (status, body) = submit(&fixture.node, &event.bytes).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            body["error"].as_str().unwrap().contains("not a member"),
            "{body}"
        );
    }

    #[tokio::test]
    async fn hostile_requests_get_clear_client_errors() {
        let fixture = fixture();
        let before = event_count(&fixture);
        let cases = [
            (
                "GET",
                "/api/councils/not-an-id".to_owned(),
                Body::empty(),
                StatusCode::BAD_REQUEST,
            ),
            (
                "GET",
                format!("/api/councils/{}", CouncilId([9; 32])),
                Body::empty(),
                StatusCode::NOT_FOUND,
            ),
            (
                "GET",
                format!(
                    "/api/councils/{}/proposals/{}",
                    fixture.council,
                    EventId([9; 32])
                ),
                Body::empty(),
                StatusCode::NOT_FOUND,
            ),
            (
                "POST",
                "/api/events".to_owned(),
                Body::from("{not json"),
                StatusCode::BAD_REQUEST,
            ),
            (
                "POST",
                "/api/events".to_owned(),
                Body::from(r#"{"event":"zz"}"#),
                StatusCode::BAD_REQUEST,
            ),
            (
                "POST",
                "/api/events".to_owned(),
                Body::from(r#"{"event":"a0"}"#),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "POST",
                "/api/events".to_owned(),
                Body::from(format!(r#"{{"event":"{}"}}"#, "00".repeat(MAX_BODY))),
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
            (
                "POST",
                format!("/api/councils/{}/drafts", fixture.council),
                Body::from(r#"{"author":"00","payload":{}}"#),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
        ];
        for (method, uri, body, expected) in cases {
            let (status, answer) =
                call_as(&fixture.node, Some(&fixture.keypair), method, &uri, body).await;
            assert_eq!(status, expected, "{method} {uri}: {answer}");
            if status != StatusCode::PAYLOAD_TOO_LARGE {
                assert!(
                    answer["error"].is_string(),
                    "{method} {uri}: no message: {answer}"
                );
            }
        }
        assert_eq!(event_count(&fixture), before);
    }
}
