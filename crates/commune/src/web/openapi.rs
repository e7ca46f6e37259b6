//! `GET /api/openapi.json`: the JSON API described from the code, with utoipa.
//!
//! The paths are the annotated handlers of `server`; the state's own types live in the pure
//! core, which knows nothing of OpenAPI, so they appear as objects whose fields docs/cli.md
//! lists.

use axum::Json;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "commune",
        description = "The JSON API of a commune node. The node never signs for a client: ask for a draft, sign its `signing_message` with your own Ed25519 key, and submit the signed event."
    ),
    paths(
        crate::server::councils,
        crate::server::council,
        crate::server::proposal,
        crate::server::rejections,
        crate::server::register,
        crate::server::draft,
        crate::server::submit,
    )
)]
struct ApiDoc;

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
