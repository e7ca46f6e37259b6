//! The web app: server-rendered pages that read with JavaScript off, forms that the small
//! signing script turns into signed events, live updates, and the static assets, all served
//! by the binary itself (no CDN, no external fonts or scripts).
//!
//! The node never signs here either: a form post returns a draft, the member's browser signs
//! it with a key the node never sees, and the signed bytes go to `POST /api/events` like any
//! event from outside. Must not hold a member's private key, nor write to the store except
//! through `Node` use-cases.

pub mod bench;
mod federation_plan;
mod forms;
pub mod guard;
mod live;
pub mod openapi;
mod pages;
mod register;
pub mod sessions;
#[cfg(test)]
mod tests;

use axum::Extension;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

pub(crate) use pages::folded as latest_fold;

use crate::node::Folds;
use crate::server::{Routes, Shared};

const STYLE: &str = include_str!("web/static/style.css");
const SCRIPT: &str = include_str!("web/static/sign.js");

/// The web app's routes; `server::router` merges them with the JSON API. Pages read the
/// node's latest folds from `folds`, so that a long write does not hold them up.
pub fn routes(folds: Folds) -> Routes<Shared> {
    Routes::new()
        .route("GET", "/", get(pages::home))
        .route("GET", "/keys", get(pages::keys))
        .route("GET POST", "/join", get(pages::join).post(forms::join))
        .route("POST", "/found", post(forms::found))
        .route("POST", "/invitations", post(forms::seal_invitation))
        .route("GET", "/c/{council}", get(pages::council))
        .route("GET", "/c/{council}/live", get(live::changes))
        .route("GET", "/c/{council}/new", get(pages::new_proposal))
        .route("POST", "/c/{council}/invitations", post(forms::invite))
        .route("POST", "/c/{council}/proposals", post(forms::propose))
        .route("POST", "/c/{council}/petitions", post(forms::petition))
        .route("POST", "/c/{council}/certificates", post(forms::certify))
        .route("GET", "/c/{council}/register", get(register::page))
        .route("GET", "/c/{council}/plan", get(federation_plan::page))
        .route("POST", "/c/{council}/items", post(register::item))
        .route("POST", "/c/{council}/resources", post(register::resource))
        .route("POST", "/c/{council}/processes", post(register::process))
        .route("POST", "/c/{council}/needs", post(register::need))
        .route("POST", "/c/{council}/offers", post(register::offer))
        .route("POST", "/c/{council}/bookings", post(register::book))
        .route("POST", "/c/{council}/plans", post(register::propose_plan))
        .route("POST", "/c/{council}/fulfilments", post(register::fulfil))
        .route("GET", "/c/{council}/p/{proposal}", get(pages::proposal))
        .route(
            "POST",
            "/c/{council}/p/{proposal}/ballot",
            post(forms::ballot),
        )
        .route(
            "POST",
            "/c/{council}/p/{proposal}/comment",
            post(forms::comment),
        )
        .route(
            "POST",
            "/c/{council}/p/{proposal}/close",
            post(forms::close),
        )
        .route("GET", "/static/style.css", get(|| asset("text/css", STYLE)))
        .route(
            "GET",
            "/static/sign.js",
            get(|| asset("text/javascript", SCRIPT)),
        )
        .layer(|router| {
            router
                .layer(axum::middleware::map_response(protect))
                .layer(Extension(folds))
        })
}

/// Headers for every page and asset: only this node's own script, style and connections;
/// no framing; no referrer (an invitation link carries its token in the address).
async fn protect(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
             img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// The signed event from a draft's signing message and its signature, as `sign.js` builds
/// it: the signed message is the domain (17 bytes) and the 10-element array of the first
/// envelope fields; the event is that array with one more element, the 64-byte signature.
pub(crate) fn assemble_event(
    signing_message: &[u8],
    signature: &commune_core::Signature,
) -> Vec<u8> {
    let fields = &signing_message[commune_core::event::SIGNATURE_DOMAIN.len() + 1..];
    let mut event = Vec::with_capacity(fields.len() + 67);
    event.push(0x8b);
    event.extend_from_slice(fields);
    event.extend_from_slice(&[0x58, 0x40]);
    event.extend_from_slice(&signature.0);
    event
}

async fn asset(content_type: &'static str, text: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        text,
    )
}
