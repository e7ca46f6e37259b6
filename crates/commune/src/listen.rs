//! The HTTP edge of `commune serve`: the accept loop and the layers every answer passes.
//!
//! Owns what a connection may cost before a handler sees it: a client must finish its
//! request headers within the header timeout (slowloris), a request must name this node by
//! an address, `localhost` or an allowed name (DNS rebinding), and every answer carries
//! `X-Content-Type-Options: nosniff`. Must not know routes: the router is given.

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt as _;

/// The router with the edge's layers: the `Host` check (names in `allowed` besides
/// addresses and `localhost`) and `nosniff` on every answer.
pub fn layers(router: Router, allowed: &[String]) -> Router {
    let allowed: Arc<Vec<String>> = Arc::new(
        allowed
            .iter()
            .map(|name| name.trim().trim_end_matches('.').to_ascii_lowercase())
            .filter(|name| !name.is_empty())
            .collect(),
    );
    router
        .layer(axum::middleware::from_fn(
            move |request: Request, next: Next| {
                let allowed = allowed.clone();
                async move { check_host(&allowed, request, next).await }
            },
        ))
        .layer(axum::middleware::map_response(nosniff))
}

async fn nosniff(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

async fn check_host(allowed: &[String], request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .map(|value| value.to_str().unwrap_or("\u{fffd}").to_owned())
        .or_else(|| request.uri().authority().map(|a| a.as_str().to_owned()));
    match host {
        Some(host) if !host_allowed(&host, allowed) => (
            StatusCode::MISDIRECTED_REQUEST,
            format!(
                "this node does not answer to the name {host:?}: if it is this node's name, \
                 start it with `commune serve --allow-host NAME`\n"
            ),
        )
            .into_response(),
        // No Host at all (HTTP/1.0): no browser sends that, so no page can be behind it.
        _ => next.run(request).await,
    }
}

/// Whether a request's `Host` (a name or address, with or without a port) names this node:
/// any address (a page cannot rebind an address), `localhost` and its subdomains, or a name
/// in `allowed` (lowercase, without a trailing dot).
pub fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        // [v6]:port
        match rest.split_once(']') {
            Some((address, _)) => return address.parse::<std::net::Ipv6Addr>().is_ok(),
            None => return false,
        }
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
            _ => host,
        }
    };
    if name.parse::<IpAddr>().is_ok() {
        return true;
    }
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost") || allowed.contains(&name)
}

/// Serves `app` on `listener` until `shutdown` completes, then closes the listener, lets each
/// open connection finish its request and waits for them all. A connection whose request headers are not
/// all in after `header_timeout` is closed.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let mut connections = tokio::task::JoinSet::new();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                let (stream, address) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors, most often: wait for some to close.
                        tracing::warn!(%error, "cannot accept a connection");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                // Handlers that count by address (the sync budget) read it as axum's own
                // serve would hand it to them.
                let service = TowerToHyperService::new(app.clone().map_request(
                    move |mut request: Request<hyper::body::Incoming>| {
                        request.extensions_mut().insert(ConnectInfo(address));
                        request
                    },
                ));
                let mut stopped = stopped.clone();
                connections.spawn(async move {
                    let mut builder = hyper::server::conn::http1::Builder::new();
                    builder.timer(TokioTimer::new()).header_read_timeout(header_timeout);
                    let connection = builder
                        .serve_connection(TokioIo::new(stream), service)
                        .with_upgrades();
                    let mut connection = std::pin::pin!(connection);
                    tokio::select! {
                        _ = connection.as_mut() => {}
                        _ = stopped.changed() => {
                            connection.as_mut().graceful_shutdown();
                            let _ = connection.await;
                        }
                    }
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    // New connections are refused from here on, rather than left waiting in the backlog.
    drop(listener);
    let _ = stop.send(true);
    while connections.join_next().await.is_some() {}
}

#[cfg(test)]
mod tests {
    use super::host_allowed;

    #[test]
    fn addresses_localhost_and_allowed_names_are_answered() {
        let allowed = vec!["node.example.org".to_owned()];
        for host in [
            "127.0.0.1:7878",
            "127.0.0.1",
            "[::1]:7878",
            "192.0.2.7:80",
            "localhost:7878",
            "LOCALHOST",
            "app.localhost:1",
            "node.example.org",
            "Node.Example.Org.:7878",
        ] {
            assert!(host_allowed(host, &allowed), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:7878",
            "localhost.evil.example",
            "node.example.org.evil.example",
            "[not-an-address]:1",
            "",
        ] {
            assert!(!host_allowed(host, &allowed), "{host}");
        }
    }
}
