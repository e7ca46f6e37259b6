//! Signing in and out of the web app with the browser's key (see [`crate::session`]):
//! `GET /session/challenge`, `POST /session` with the signed answer, `GET /session` (who
//! this browser is signed in as), `POST /session/end`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use commune_core::PublicKey;
use commune_core::keys::Signature;
use serde::Deserialize;

use crate::node::now_ms;
use crate::reading::{Reader, session_token};
use crate::server::{ApiError, Routes, Shared};
use crate::session::{self, Sessions};

pub fn routes() -> Routes<Shared> {
    Routes::new()
        .route("GET", "/session/challenge", get(challenge))
        .route("GET POST", "/session", get(who).post(sign_in))
        .route("POST", "/session/end", post(sign_out))
}

fn sessions(node: &Shared) -> Sessions {
    node.lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .sessions()
}

/// A fresh challenge for this browser's key to sign.
async fn challenge(State(node): State<Shared>) -> Response {
    let challenge = sessions(&node).challenge(now_ms());
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(serde_json::json!({ "challenge": data_encoding::HEXLOWER.encode(&challenge) })),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
struct Answer {
    key: PublicKey,
    challenge: String,
    signature: String,
}

fn bytes<const N: usize>(text: &str, what: &str) -> Result<[u8; N], ApiError> {
    data_encoding::HEXLOWER_PERMISSIVE
        .decode(text.as_bytes())
        .ok()
        .and_then(|bytes| <[u8; N]>::try_from(bytes).ok())
        .ok_or_else(|| {
            ApiError(
                StatusCode::BAD_REQUEST,
                format!("the {what} is not {N} bytes in hex"),
            )
        })
}

/// Whether the browser reached this node over TLS (directly or through a proxy that says so).
fn over_tls(headers: &HeaderMap) -> bool {
    let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    text("x-forwarded-proto").is_some_and(|proto| proto.eq_ignore_ascii_case("https"))
        || text(header::ORIGIN.as_str()).is_some_and(|origin| origin.starts_with("https://"))
}

/// Opens a session for the key that signed a challenge.
async fn sign_in(
    State(node): State<Shared>,
    headers: HeaderMap,
    answer: Result<Json<Answer>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(answer) = answer.map_err(|e| ApiError(e.status(), e.body_text()))?;
    let challenge = bytes::<32>(&answer.challenge, "challenge")?;
    let signature = Signature(bytes::<64>(&answer.signature, "signature")?);
    let token = sessions(&node)
        .sign_in(&answer.key, &challenge, &signature, now_ms())
        .map_err(|reason| {
            tracing::warn!(key = %answer.key, %reason, "refused a sign-in");
            ApiError(StatusCode::UNAUTHORIZED, reason)
        })?;
    let secure = if over_tls(&headers) { "; Secure" } else { "" };
    let cookie = format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        session::COOKIE,
        session::SESSION_MS / 1000
    );
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(serde_json::json!({ "key": answer.key })),
    )
        .into_response())
}

/// The key this browser is signed in as, or null.
async fn who(reader: Reader) -> Response {
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(serde_json::json!({ "key": reader.0 })),
    )
        .into_response()
}

/// Ends this browser's session.
async fn sign_out(State(node): State<Shared>, headers: HeaderMap) -> Response {
    if let Some(token) = session_token(&headers) {
        sessions(&node).end(&token);
    }
    let cookie = format!(
        "{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
        session::COOKIE
    );
    (
        [(header::SET_COOKIE, cookie)],
        Json(serde_json::json!({ "key": null })),
    )
        .into_response()
}
