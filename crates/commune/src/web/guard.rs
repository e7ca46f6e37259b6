//! Refuses cross-site requests that would act: a page on another site must not be able to
//! make a visitor's browser post forms or events to this node.
//!
//! Browsers say where a request comes from (`Sec-Fetch-Site`, `Origin`); tools such as the
//! CLI or another node send neither, and are let through: they cannot be tricked into
//! carrying a visitor's cookies.

use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::server::ApiError;

pub async fn same_origin(request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD) || is_same_origin(request.headers())
    {
        next.run(request).await
    } else {
        ApiError(
            StatusCode::FORBIDDEN,
            "a request from another site is refused: act from this node's own pages".into(),
        )
        .into_response()
    }
}

fn is_same_origin(headers: &HeaderMap) -> bool {
    let text = |name| headers.get(name).and_then(|value| value.to_str().ok());
    if let Some(site) = text("sec-fetch-site")
        && !matches!(site, "same-origin" | "none")
    {
        return false;
    }
    match (text(header::ORIGIN.as_str()), text(header::HOST.as_str())) {
        (None, _) => true,
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, origin_host)| origin_host == host),
        (Some(_), None) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn only_this_nodes_own_pages_and_non_browsers_may_post() {
        let host = ("host", "127.0.0.1:7878");
        assert!(is_same_origin(&headers(&[host])));
        assert!(is_same_origin(&headers(&[
            host,
            ("origin", "http://127.0.0.1:7878"),
            ("sec-fetch-site", "same-origin"),
        ])));
        assert!(!is_same_origin(&headers(&[
            host,
            ("origin", "https://evil.example"),
        ])));
        assert!(!is_same_origin(&headers(&[host, ("origin", "null")])));
        assert!(!is_same_origin(&headers(&[
            host,
            ("sec-fetch-site", "cross-site")
        ])));
        assert!(!is_same_origin(&headers(&[
            host,
            ("sec-fetch-site", "same-site")
        ])));
    }
}
