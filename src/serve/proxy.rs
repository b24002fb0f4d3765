//! Forwarding to the upstream: the target URL is always the configured upstream plus the
//! request's path below its stage (never a host from the request), end-to-end headers pass
//! both ways, hop-by-hop ones (RFC 9110 §7.6.1: Connection, Keep-Alive, Proxy-*, TE,
//! Trailer, Transfer-Encoding, Upgrade, and every header the Connection header names) do
//! not. The upstream's response body is read up to API Gateway's 10 MB payload limit.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{HeaderMap, HeaderName, HeaderValue, CONNECTION, CONTENT_LENGTH, HOST};
use hyper::{Request, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::cache::Stored;
use crate::gateway::pipeline::MAX_PAYLOAD_BYTES;

/// The upstream client.
type Upstream = Client<HttpConnector, Full<Bytes>>;

thread_local! {
    /// Each serving thread's client, with its own pool of upstream connections: a request
    /// reuses a connection whose I/O is driven by its own thread (see `super::workers`).
    static UPSTREAM: Upstream = Client::builder(TokioExecutor::new()).build(connector());
}

/// Connections to the upstream, without Nagle's delay (a response written in parts
/// would otherwise wait for the peer's delayed ACK, 40 ms).
fn connector() -> HttpConnector {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector
}

/// Why the upstream gave no response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UpstreamError {
    /// Not within the integration timeout.
    Timeout,
    /// Connection refused or reset, malformed or too large response.
    Failed,
}

/// Whether `name` is hop-by-hop by definition (not counting those a Connection header
/// names).
fn always_hop_by_hop(name: &HeaderName) -> bool {
    const NAMES: &[&str] = &[
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    ];
    let name = name.as_str();
    NAMES.contains(&name) || name.starts_with("proxy-")
}

/// The end-to-end headers of `headers`, without those in `also_drop`.
pub(crate) fn end_to_end<'a>(
    headers: &'a HeaderMap,
    also_drop: &'a [HeaderName],
) -> impl Iterator<Item = (&'a HeaderName, &'a HeaderValue)> + 'a {
    let named: Vec<String> = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .collect();
    headers.iter().filter(move |(name, _)| {
        !always_hop_by_hop(name)
            && !also_drop.contains(name)
            && !named.iter().any(|n| n == name.as_str())
    })
}

/// The upstream base as [`target`] takes it: the configured URL without its trailing `/`.
pub(crate) fn base(upstream: &Uri) -> String {
    upstream.to_string().trim_end_matches('/').to_string()
}

/// The upstream URL for a request: the configured base (see [`base`]), the path below the
/// stage, the query. `rest` always starts with `/` or is empty.
pub(crate) fn target(base: &str, rest: &str, query: Option<&str>) -> Option<Uri> {
    let query_len = query.map_or(0, |q| q.len() + 1);
    let mut target = String::with_capacity(base.len() + rest.len().max(1) + query_len);
    target.push_str(base);
    target.push_str(if rest.is_empty() { "/" } else { rest });
    if let Some(query) = query {
        target.push('?');
        target.push_str(query);
    }
    Uri::try_from(target).ok()
}

/// Sends the request and reads the whole response, within `timeout`.
pub(crate) async fn forward(
    parts: &hyper::http::request::Parts,
    target: Uri,
    body: Bytes,
    timeout: Duration,
) -> Result<Stored, UpstreamError> {
    let mut request = Request::new(Full::new(body));
    *request.method_mut() = parts.method.clone();
    *request.uri_mut() = target;
    let dropped = [HOST, CONTENT_LENGTH, HeaderName::from_static("x-api-key")];
    let headers = request.headers_mut();
    for (name, value) in end_to_end(&parts.headers, &dropped) {
        headers.append(name, value.clone());
    }
    let call = async {
        let response = UPSTREAM
            .with(|client| client.request(request))
            .await
            .map_err(|_| UpstreamError::Failed)?;
        let (parts, body) = response.into_parts();
        let headers = end_to_end(&parts.headers, &[CONTENT_LENGTH])
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect();
        let body = Limited::new(body, MAX_PAYLOAD_BYTES as usize)
            .collect()
            .await
            .map_err(|_| UpstreamError::Failed)?
            .to_bytes();
        Ok(Stored {
            status: parts.status.as_u16(),
            headers,
            body,
        })
    };
    match tokio::time::timeout(timeout, call).await {
        Ok(result) => result,
        Err(_) => Err(UpstreamError::Timeout),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_and_those_connection_names_are_dropped() {
        let mut headers = HeaderMap::new();
        for (n, v) in [
            ("connection", "keep-alive, X-Secret-Hop"),
            ("keep-alive", "timeout=5"),
            ("proxy-authorization", "Basic x"),
            ("te", "trailers"),
            ("trailer", "x-sum"),
            ("transfer-encoding", "chunked"),
            ("upgrade", "websocket"),
            ("x-secret-hop", "1"),
            ("location", "/elsewhere"),
            ("set-cookie", "a=1"),
            ("content-length", "3"),
        ] {
            headers.append(
                HeaderName::from_static(n),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        let kept: Vec<&str> = end_to_end(&headers, &[CONTENT_LENGTH])
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(kept, ["location", "set-cookie"]);
    }

    #[test]
    fn the_target_is_always_the_configured_upstream() {
        let base = base(&"http://127.0.0.1:9000/base/".parse().unwrap());
        let t = target(&base, "/pets/1", Some("a=b")).unwrap();
        assert_eq!(t.to_string(), "http://127.0.0.1:9000/base/pets/1?a=b");
        assert_eq!(
            target(&base, "", None).unwrap().to_string(),
            "http://127.0.0.1:9000/base/"
        );
        // A path that looks like an authority stays a path on the configured host.
        let t = target(&base, "//evil.example:80/x", None);
        assert!(t.is_none_or(|t| t.host() == Some("127.0.0.1")));
    }
}
