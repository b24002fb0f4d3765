//! Route selection as API Gateway does it. REST resources and HTTP API routes: a path
//! matches a template segment by segment (`{id}` takes one segment, a trailing `{proxy+}`
//! one or more); among matches the most specific wins, compared segment by segment (a
//! literal beats a parameter, a parameter beats a greedy one), then an explicit method beats
//! `ANY`; an HTTP API's `$default` route takes what nothing else does. WebSocket APIs select
//! by route key (`$connect`, `sendMessage`, …), falling back to `$default`.

use super::config::{method_key, ApiKind};

/// The route key of an HTTP or WebSocket API's catch-all route.
pub const DEFAULT_ROUTE: &str = "$default";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Segment {
    Greedy,
    Param,
    Literal,
}

#[derive(Debug, Clone)]
struct Route {
    method: String,
    resource: String,
    segments: Vec<(Segment, String)>,
}

/// The routes of one stage.
#[derive(Debug, Clone)]
pub struct Router {
    kind: ApiKind,
    routes: Vec<Route>,
    has_default: bool,
}

/// The route a request was matched to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Matched<'a> {
    /// The route's method (`ANY` for a catch-all method, the route key for WebSocket).
    pub method: &'a str,
    /// The resource template (`/pets/{id}`), `$default`, or the WebSocket route key.
    pub resource: &'a str,
}

/// A path's or template's segments and what each is, borrowed from it.
fn segments(path: &str) -> Vec<(Segment, &str)> {
    path.trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let kind = if s.starts_with('{') && s.ends_with("+}") {
                Segment::Greedy
            } else if s.starts_with('{') && s.ends_with('}') {
                Segment::Param
            } else {
                Segment::Literal
            };
            (kind, s)
        })
        .collect()
}

impl Router {
    /// The routes of a stage: `METHOD /resource` (or `/resource/METHOD`), `ANY …`, `$default`;
    /// WebSocket: route keys. Entries that are none of these are skipped.
    pub fn new(kind: ApiKind, routes: &[String]) -> Router {
        let mut router = Router {
            kind,
            routes: Vec::new(),
            has_default: false,
        };
        for route in routes {
            let route = route.trim();
            if route == DEFAULT_ROUTE {
                router.has_default = true;
            } else if kind == ApiKind::Websocket {
                router.routes.push(Route {
                    method: route.to_string(),
                    resource: route.to_string(),
                    segments: Vec::new(),
                });
            } else if let Some((resource, method)) = method_key(route) {
                router.routes.push(Route {
                    segments: segments(&resource)
                        .into_iter()
                        .map(|(kind, text)| (kind, text.to_string()))
                        .collect(),
                    method,
                    resource,
                });
            }
        }
        router
    }

    /// No routes configured: every request is taken as it comes.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty() && !self.has_default
    }

    /// The route for `method` and `path` (a concrete path or a logged resource template; for
    /// WebSocket the route key), or `None` when nothing matches.
    pub fn select(&self, method: &str, path: &str) -> Option<Matched<'_>> {
        if self.kind == ApiKind::Websocket {
            if let Some(r) = self.routes.iter().find(|r| r.resource == path) {
                return Some(Matched {
                    method: &r.method,
                    resource: &r.resource,
                });
            }
        } else if let Some(r) = self.most_specific(path, |r| {
            r.method == "ANY" || r.method.eq_ignore_ascii_case(method)
        }) {
            return Some(Matched {
                method: &r.method,
                resource: &r.resource,
            });
        }
        self.has_default.then_some(Matched {
            method: DEFAULT_ROUTE,
            resource: DEFAULT_ROUTE,
        })
    }

    /// The most specific resource template of any route, whatever its method, that takes
    /// the concrete `path` (not counting `$default`): the resource a request for `path` is
    /// logged under before its method is looked at.
    pub fn resource(&self, path: &str) -> Option<&str> {
        if self.kind == ApiKind::Websocket {
            return None;
        }
        self.most_specific(path, |_| true)
            .map(|r| r.resource.as_str())
    }

    /// Among the routes `eligible` keeps, the one that matches `path` most specifically
    /// (then an explicit method over `ANY`).
    fn most_specific(&self, path: &str, eligible: impl Fn(&Route) -> bool) -> Option<&Route> {
        let wanted = segments(path);
        self.routes
            .iter()
            .filter(|r| eligible(r))
            .filter_map(|r| {
                let rank = rank(&r.segments, &wanted)?;
                Some(((rank, r.method != "ANY"), r))
            })
            .max_by(|(a, _), (b, _)| a.cmp(b))
            .map(|(_, r)| r)
    }
}

/// How specifically `template` matches `path`, segment by segment; `None` if it does not.
fn rank(template: &[(Segment, String)], path: &[(Segment, &str)]) -> Option<Vec<Segment>> {
    let mut rank = Vec::with_capacity(template.len());
    for (i, (kind, text)) in template.iter().enumerate() {
        match kind {
            Segment::Greedy => {
                // `{proxy+}` takes one or more segments and must be last.
                return (path.len() > i && i + 1 == template.len()).then(|| {
                    rank.push(Segment::Greedy);
                    rank
                });
            }
            Segment::Param => {
                // A parameter takes any one segment; a logged template's `{proxy+}` is not one.
                let (actual, _) = path.get(i)?;
                if *actual == Segment::Greedy {
                    return None;
                }
            }
            Segment::Literal => {
                let (_, actual) = path.get(i)?;
                if actual != text {
                    return None;
                }
            }
        }
        rank.push(*kind);
    }
    (template.len() == path.len()).then_some(rank)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(kind: ApiKind, routes: &[&str]) -> Router {
        let routes: Vec<String> = routes.iter().map(|r| r.to_string()).collect();
        Router::new(kind, &routes)
    }

    fn pick<'a>(r: &'a Router, method: &str, path: &str) -> Option<(&'a str, &'a str)> {
        r.select(method, path).map(|m| (m.method, m.resource))
    }

    #[test]
    fn the_most_specific_resource_wins_and_explicit_methods_beat_any() {
        let r = router(
            ApiKind::Rest,
            &[
                "ANY /{proxy+}",
                "GET /pets/{id}",
                "ANY /pets/{id}",
                "GET /pets/mine",
                "POST /pets",
            ],
        );
        assert_eq!(pick(&r, "GET", "/pets/mine"), Some(("GET", "/pets/mine")));
        assert_eq!(pick(&r, "GET", "/pets/42"), Some(("GET", "/pets/{id}")));
        assert_eq!(pick(&r, "DELETE", "/pets/42"), Some(("ANY", "/pets/{id}")));
        assert_eq!(pick(&r, "GET", "/pets"), Some(("ANY", "/{proxy+}")));
        assert_eq!(pick(&r, "POST", "/pets"), Some(("POST", "/pets")));
        assert_eq!(pick(&r, "GET", "/a/b/c"), Some(("ANY", "/{proxy+}")));
        // A logged template matches itself.
        assert_eq!(pick(&r, "GET", "/pets/{id}"), Some(("GET", "/pets/{id}")));
        assert_eq!(pick(&r, "PUT", "/{proxy+}"), Some(("ANY", "/{proxy+}")));
    }

    #[test]
    fn greedy_needs_at_least_one_segment_and_nothing_matches_without_it() {
        let r = router(ApiKind::Rest, &["GET /files/{proxy+}", "GET /"]);
        assert_eq!(pick(&r, "GET", "/files"), None);
        assert_eq!(
            pick(&r, "GET", "/files/a/b"),
            Some(("GET", "/files/{proxy+}"))
        );
        assert_eq!(pick(&r, "GET", "/"), Some(("GET", "/")));
        assert_eq!(pick(&r, "POST", "/"), None);
    }

    #[test]
    fn http_default_route_takes_the_rest() {
        let r = router(ApiKind::Http, &["GET /pets", "$default"]);
        assert_eq!(pick(&r, "GET", "/pets"), Some(("GET", "/pets")));
        assert_eq!(pick(&r, "POST", "/pets"), Some(("$default", "$default")));
        assert!(!r.is_empty());
        assert!(router(ApiKind::Http, &[]).is_empty());
    }

    #[test]
    fn websocket_routes_are_selected_by_route_key() {
        let r = router(ApiKind::Websocket, &["$connect", "sendMessage", "$default"]);
        assert_eq!(
            pick(&r, "", "sendMessage"),
            Some(("sendMessage", "sendMessage"))
        );
        assert_eq!(pick(&r, "", "other"), Some(("$default", "$default")));
        let strict = router(ApiKind::Websocket, &["$connect"]);
        assert_eq!(pick(&strict, "", "other"), None);
    }
}
