//! Route templates for requests whose logs name a raw path (`$context.path`, custom formats)
//! instead of a route (`resourcePath`, `routeKey`): `GET /users/8f14e45f-…/orders/123` is
//! counted as `GET /users/{id}/orders/{id}`, so the report has one row per route rather than
//! one per id. The method is always kept. In order:
//!
//! 1. explicit templates (`--route-template`, the routes and method settings of a
//!    `gateway.toml`, the paths of an OpenAPI/Swagger export): the most specific matching one
//!    wins, as API Gateway selects routes (`crate::gateway::routes`);
//! 2. token rules, per path segment: numbers, UUIDs, hex of 8 or more characters with a
//!    digit, base64-like tokens of 16 or more characters with a letter and a digit, and
//!    e-mail addresses become `{id}`;
//! 3. cardinality: a segment position under one parent path with more than
//!    `segment_cardinality` distinct literal values becomes `{id}` ([`RouteTemplates::collapse`],
//!    over the distinct routes once every request is counted).
//!
//! Logged templates (`/pets/{petId}`) and `$`-route keys pass unchanged. Every engine that
//! folds requests (stream, table) applies the same rules through its accumulator.

use std::borrow::Cow;
use std::sync::Arc;

use rayon::prelude::*;

use crate::gateway::config::ApiKind;
use crate::gateway::routes::{Router, DEFAULT_ROUTE};
use crate::model::{CodedColumn, Dictionary, Request, RequestColumns, RequestSink};
use crate::report::TemplateSource;
use crate::FastMap;

/// Default of `--segment-cardinality`: more distinct values than this at one segment
/// position under one parent make the position a parameter. API Gateway allows 300
/// resources per REST API (and 300 routes per HTTP API) by default, so a real API rarely has
/// 100 literal siblings, while ids in traffic easily exceed it.
pub const DEFAULT_SEGMENT_CARDINALITY: usize = 100;

/// What an inferred parameter segment is written as.
pub const PLACEHOLDER: &str = "{id}";

/// The templates a report's routes are matched against, and the inference rules.
#[derive(Debug, Clone)]
pub struct RouteTemplates {
    explicit: Option<Router>,
    segment_cardinality: usize,
}

impl Default for RouteTemplates {
    fn default() -> Self {
        RouteTemplates::new(&[], DEFAULT_SEGMENT_CARDINALITY)
    }
}

impl RouteTemplates {
    /// Templates `METHOD /path/{param}` (`ANY` or no method: every method; a trailing
    /// `{proxy+}` takes the rest of the path) and the cardinality above which a segment
    /// position becomes a parameter (0: never).
    pub fn new(explicit: &[String], segment_cardinality: usize) -> RouteTemplates {
        let routes: Vec<String> = explicit
            .iter()
            .map(|t| t.trim())
            .filter(|t| !t.is_empty() && !t.starts_with('$'))
            .map(|t| match t.starts_with('/') {
                true => format!("ANY {t}"),
                false => t.to_string(),
            })
            .collect();
        let router = Router::new(ApiKind::Rest, &routes);
        RouteTemplates {
            explicit: (!router.is_empty()).then_some(router),
            segment_cardinality,
        }
    }

    /// The template of a route as logged (`METHOD /path` or `/path`) and where it came from:
    /// an explicit template, the token rules, or the log itself (unchanged).
    pub fn template<'a>(&self, route: &'a str) -> (Cow<'a, str>, TemplateSource) {
        let Some((method, path)) = split_route(route) else {
            return (Cow::Borrowed(route), TemplateSource::Log);
        };
        if let Some(router) = &self.explicit {
            if let Some(found) = router.select(method.unwrap_or("ANY"), path) {
                if found.resource != DEFAULT_ROUTE && found.resource != path {
                    let templated = match method {
                        Some(m) => format!("{m} {}", found.resource),
                        None => found.resource.to_string(),
                    };
                    return (Cow::Owned(templated), TemplateSource::Explicit);
                }
                if found.resource == path {
                    return (Cow::Borrowed(route), TemplateSource::Log);
                }
            }
        }
        if !path.split('/').any(is_token) {
            return (Cow::Borrowed(route), TemplateSource::Log);
        }
        let mut out = String::with_capacity(route.len());
        if let Some(m) = method {
            out.push_str(m);
            out.push(' ');
        }
        for (i, segment) in path.split('/').enumerate() {
            if i > 0 {
                out.push('/');
            }
            out.push_str(if is_token(segment) {
                PLACEHOLDER
            } else {
                segment
            });
        }
        (Cow::Owned(out), TemplateSource::Inferred)
    }

    /// The cardinality rule over distinct routes (`(route, how it was templated)`; explicit
    /// ones are left alone): a segment position under one parent path, across methods, with
    /// more than the threshold of distinct literal values becomes `{id}`, level by level from
    /// the root, so ids nested under ids are found too. Returns the new name of every route
    /// that changed. Linear in the routes' segments.
    pub fn collapse<'a>(
        &self,
        routes: impl IntoIterator<Item = (&'a str, TemplateSource)>,
    ) -> FastMap<String, String> {
        let mut renames = FastMap::default();
        if self.segment_cardinality == 0 {
            return renames;
        }
        let mut parsed: Vec<(&'a str, Option<&'a str>, Vec<&'a str>)> = routes
            .into_iter()
            .filter(|(_, source)| *source != TemplateSource::Explicit)
            .filter_map(|(route, _)| {
                let (method, path) = split_route(route)?;
                Some((route, method, path.split('/').collect()))
            })
            .collect();
        let mut changed = vec![false; parsed.len()];
        // The node each route has reached in the tree of (rewritten) prefixes; 0 is the root.
        let mut node = vec![0u32; parsed.len()];
        let mut depth = 0;
        loop {
            let mut children: FastMap<(u32, &str), u32> = FastMap::default();
            let mut literals: FastMap<u32, usize> = FastMap::default();
            let mut any = false;
            for (i, (_, _, segments)) in parsed.iter().enumerate() {
                let Some(segment) = segments.get(depth) else {
                    continue;
                };
                any = true;
                let next = children.len() as u32;
                if let std::collections::hash_map::Entry::Vacant(v) =
                    children.entry((node[i], segment))
                {
                    v.insert(next);
                    if !is_parameter(segment) {
                        *literals.entry(node[i]).or_default() += 1;
                    }
                }
            }
            if !any {
                break;
            }
            let exploded = |parent: u32| {
                literals
                    .get(&parent)
                    .is_some_and(|n| *n > self.segment_cardinality)
            };
            let mut next_nodes: FastMap<(u32, &str), u32> = FastMap::default();
            for (i, (_, _, segments)) in parsed.iter_mut().enumerate() {
                let Some(segment) = segments.get_mut(depth) else {
                    continue;
                };
                if exploded(node[i]) && !is_parameter(segment) {
                    *segment = PLACEHOLDER;
                    changed[i] = true;
                }
                let fresh = next_nodes.len() as u32 + 1;
                node[i] = *next_nodes.entry((node[i], *segment)).or_insert(fresh);
            }
            depth += 1;
        }
        for ((route, method, segments), changed) in parsed.into_iter().zip(changed) {
            if changed {
                let path = segments.join("/");
                let name = match method {
                    Some(m) => format!("{m} {path}"),
                    None => path,
                };
                renames.insert(route.to_string(), name);
            }
        }
        renames
    }
}

impl RouteTemplates {
    /// Templates a column of routes (the table engine's), per distinct route: explicit
    /// templates and token rules, then the cardinality rule over what they gave. `known`:
    /// how routes already templated were made, by name (the table engine's columns are
    /// templated as they are decoded; templating a template gives itself). Returns how each
    /// new route was made (routes the log named: absent).
    pub fn apply(
        &self,
        column: &mut CodedColumn,
        known: &FastMap<Box<str>, TemplateSource>,
    ) -> FastMap<String, TemplateSource> {
        // Each name on its own: on every core (hundreds of thousands of raw paths at high
        // cardinality, where the columns were not templated as they were decoded).
        let templated: Vec<(Cow<'_, str>, TemplateSource)> = column
            .dictionary
            .names()
            .par_iter()
            .map(|name| self.template(name))
            .collect();
        let mut sources: FastMap<&str, TemplateSource> = FastMap::default();
        for (name, source) in &templated {
            let before = known.get(&**name).copied().unwrap_or(*source);
            note_source(&mut sources, name, before);
        }
        let collapsed = self.collapse(sources.iter().map(|(n, s)| (*n, *s)));
        let mut by_name: FastMap<String, TemplateSource> = FastMap::default();
        // The new name of each value, by code (`None`: kept): at hundreds of thousands of
        // distinct raw paths, no map from raw name to new name, nor a copy of each raw name.
        let mut renames: Vec<Option<String>> = Vec::with_capacity(templated.len());
        for (raw, (name, _)) in column.dictionary.names().iter().zip(&templated) {
            let (last, source) = match collapsed.get(&**name) {
                Some(new) => (new.as_str(), TemplateSource::Inferred),
                None => (&**name, sources[&**name]),
            };
            if source != TemplateSource::Log {
                match by_name.get_mut(last) {
                    Some(known) => *known = (*known).max(source),
                    None => {
                        by_name.insert(last.to_string(), source);
                    }
                }
            }
            renames.push((**raw != *last).then(|| last.to_string()));
        }
        drop(templated);
        if renames.iter().any(Option::is_some) {
            let mut renames = renames.into_iter();
            column.rename(|_| renames.next().flatten());
        }
        by_name
    }
}

/// Records that the route `key` was made as `source`: of the ways one route was made (raw
/// paths templated alike, parts of the input joined), the furthest from the log is kept.
pub(crate) fn note_source<K: Eq + std::hash::Hash>(
    sources: &mut FastMap<K, TemplateSource>,
    key: K,
    source: TemplateSource,
) {
    let known = sources.entry(key).or_insert(source);
    *known = (*known).max(source);
}

/// Raw routes a [`TemplatedColumns`] keeps with their templates' codes.
const RAW_ROUTES_KEPT: usize = 1 << 14;

/// Request columns whose routes are templated as they are decoded (the table engine's sink
/// for a report): each chunk templates its own raw routes on its own core, as the stream
/// engine's workers do, and the joined columns hold a route per template rather than one per
/// raw path. The cardinality rule needs every route, so [`RouteTemplates::apply`] runs once
/// they are all in (and templates the routes of rows added later, from execution logs).
#[derive(Debug, Clone)]
pub(crate) struct TemplatedColumns {
    /// The requests, routes templated.
    pub(crate) columns: RequestColumns,
    /// How the templated routes were made, by name (routes the log named: absent).
    pub(crate) sources: FastMap<Box<str>, TemplateSource>,
    templates: Arc<RouteTemplates>,
    /// The raw routes this sink was given, each one's code in `routes`.
    raw: Dictionary,
    /// By raw route code: its template's code in the route column.
    routes: Vec<u32>,
}

impl TemplatedColumns {
    /// Empty columns (request IDs kept when `keep_request_ids`) templated by `templates`.
    pub(crate) fn new(templates: Arc<RouteTemplates>, keep_request_ids: bool) -> Self {
        TemplatedColumns {
            columns: RequestColumns::new(keep_request_ids),
            sources: FastMap::default(),
            templates,
            raw: Dictionary::default(),
            routes: Vec::new(),
        }
    }

    /// The route column's code of the template of `raw`.
    fn route_code(&mut self, raw: &str) -> u32 {
        if self.routes.len() >= RAW_ROUTES_KEPT {
            // Raw paths of ids rarely come again: a fresh start bounds what is kept.
            self.raw = Dictionary::default();
            self.routes.clear();
        }
        let code = self.raw.code(raw) as usize;
        if code == self.routes.len() {
            let (name, source) = self.templates.template(raw);
            if source != TemplateSource::Log {
                note_source(&mut self.sources, name.as_ref().into(), source);
            }
            self.routes.push(self.columns.route.dictionary.code(&name));
        }
        self.routes[code]
    }
}

impl RequestSink for TemplatedColumns {
    fn fresh(&self) -> Self {
        TemplatedColumns::new(self.templates.clone(), self.columns.keep_request_ids)
    }

    fn push(&mut self, request: &Request<'_>) {
        let route = request.route.as_deref().map(|raw| self.route_code(raw));
        self.columns.push_routed(request, route);
    }

    fn append(&mut self, other: Self) {
        self.columns.append(other.columns);
        for (name, source) in other.sources {
            note_source(&mut self.sources, name, source);
        }
    }

    fn requests(&self) -> usize {
        self.columns.len()
    }

    fn reserve(&mut self, additional: usize) {
        self.columns.reserve(additional);
    }
}

/// How each route of `dictionary` was made, by code, from the sources by name (the table
/// engine's, run by the command line).
pub(crate) fn sources_by_code(
    dictionary: &crate::model::Dictionary,
    by_name: &FastMap<String, TemplateSource>,
) -> FastMap<u32, TemplateSource> {
    dictionary
        .names()
        .iter()
        .enumerate()
        .filter_map(|(code, name)| Some((code as u32, *by_name.get(&**name)?)))
        .collect()
}

/// The route templates of an OpenAPI 3 or Swagger 2 document (`aws apigateway get-export`):
/// `METHOD /path` per operation, `x-amazon-apigateway-any-method` as `ANY` (`--openapi`).
#[cfg(feature = "cli")]
pub(crate) fn openapi_templates(document: &serde_json::Value) -> Option<Vec<String>> {
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    let is_spec = document.get("openapi").is_some() || document.get("swagger").is_some();
    let paths = document.get("paths")?.as_object().filter(|_| is_spec)?;
    let mut out = Vec::new();
    for (path, item) in paths {
        for name in item.as_object().into_iter().flat_map(|o| o.keys()) {
            if name == "x-amazon-apigateway-any-method" {
                out.push(format!("ANY {path}"));
            } else if METHODS.contains(&name.as_str()) {
                out.push(format!("{} {path}", name.to_ascii_uppercase()));
            }
        }
    }
    Some(out)
}

/// `(method, path)` of a route that names a path: `GET /pets/1` or `/pets/1`; `None` for
/// `$default`, WebSocket route keys and anything else without a path.
fn split_route(route: &str) -> Option<(Option<&str>, &str)> {
    if route.starts_with('/') {
        return Some((None, route));
    }
    let (method, path) = route.split_once(' ')?;
    (path.starts_with('/') && !method.is_empty()).then_some((Some(method), path))
}

/// A template parameter already: `{petId}`, `{proxy+}`.
fn is_parameter(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

/// Whether a path segment is an id by its shape alone: a number, a UUID, hex of 8 or more
/// characters with a digit, a base64-like token of 16 or more characters with a letter and
/// a digit, or an e-mail address (also percent-encoded).
fn is_token(segment: &str) -> bool {
    let bytes = segment.as_bytes();
    if bytes.is_empty() || is_parameter(segment) {
        return false;
    }
    if bytes.iter().all(u8::is_ascii_digit) {
        return true;
    }
    let digits = bytes.iter().filter(|b| b.is_ascii_digit()).count();
    if is_uuid(bytes) {
        return true;
    }
    if bytes.len() >= 8 && digits > 0 && bytes.iter().all(u8::is_ascii_hexdigit) {
        return true;
    }
    let letters = bytes.iter().filter(|b| b.is_ascii_alphabetic()).count();
    if bytes.len() >= 16
        && digits > 0
        && letters > 0
        && bytes.iter().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'=' | b'.' | b'~')
        })
    {
        return true;
    }
    is_email(segment)
}

/// `8-4-4-4-12` hex digits.
fn is_uuid(bytes: &[u8]) -> bool {
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// `local@domain.tld`, the `@` possibly percent-encoded (`%40`).
fn is_email(segment: &str) -> bool {
    let at = segment
        .find('@')
        .map(|i| (i, 1))
        .or_else(|| segment.find("%40").map(|i| (i, 3)));
    match at {
        Some((i, len)) => {
            let domain = &segment[i + len..];
            i > 0 && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn templates(explicit: &[&str], limit: usize) -> RouteTemplates {
        let explicit: Vec<String> = explicit.iter().map(|s| s.to_string()).collect();
        RouteTemplates::new(&explicit, limit)
    }

    fn template(t: &RouteTemplates, route: &str) -> (String, TemplateSource) {
        let (name, source) = t.template(route);
        (name.into_owned(), source)
    }

    #[test]
    fn ids_of_every_shape_become_parameters_and_the_method_stays() {
        let t = RouteTemplates::default();
        let cases = [
            (
                "GET /users/8f14e45f-ceea-467f-a8e8-5d2b3c4e6f70/orders/123",
                "GET /users/{id}/orders/{id}",
            ),
            (
                "DELETE /carts/65a1f0c2e4b0a1b2c3d4e5f6",
                "DELETE /carts/{id}",
            ),
            ("GET /files/dGhpcyBpcyBhIHRva2VuMTIz", "GET /files/{id}"),
            ("PUT /users/jane.doe@example.com", "PUT /users/{id}"),
            (
                "PUT /users/jane.doe%40example.com/prefs",
                "PUT /users/{id}/prefs",
            ),
            ("/orders/42", "/orders/{id}"),
        ];
        for (raw, want) in cases {
            assert_eq!(
                template(&t, raw),
                (want.to_string(), TemplateSource::Inferred),
                "{raw}"
            );
        }
    }

    #[test]
    fn words_versions_templates_and_route_keys_are_left_alone() {
        let t = RouteTemplates::default();
        for route in [
            "GET /pets/{petId}",
            "GET /v1/health",
            "GET /deadbeef",
            "GET /api/2015-03-31/functions",
            "POST /getUserPreferences",
            "$default",
            "sendMessage",
            "GET /",
            "GET /{proxy+}",
        ] {
            assert_eq!(
                template(&t, route),
                (route.to_string(), TemplateSource::Log),
                "{route}"
            );
        }
    }

    #[test]
    fn explicit_templates_win_most_specific_first_keeping_the_method() {
        let t = templates(
            &[
                "/users/{userId}",
                "GET /users/me",
                "GET /files/{proxy+}",
                "POST /orders/{orderId}/items",
                "$default",
            ],
            DEFAULT_SEGMENT_CARDINALITY,
        );
        let cases = [
            (
                "GET /users/alice",
                "GET /users/{userId}",
                TemplateSource::Explicit,
            ),
            (
                "DELETE /users/42",
                "DELETE /users/{userId}",
                TemplateSource::Explicit,
            ),
            ("GET /users/me", "GET /users/me", TemplateSource::Log),
            (
                "GET /files/a/b/c.txt",
                "GET /files/{proxy+}",
                TemplateSource::Explicit,
            ),
            (
                "POST /orders/77/items",
                "POST /orders/{orderId}/items",
                TemplateSource::Explicit,
            ),
            // No template for GET: the token rules.
            (
                "GET /orders/77/items",
                "GET /orders/{id}/items",
                TemplateSource::Inferred,
            ),
            // Nothing matches and nothing looks like an id ($default is not a template).
            ("GET /about", "GET /about", TemplateSource::Log),
        ];
        for (raw, want, source) in cases {
            assert_eq!(template(&t, raw), (want.to_string(), source), "{raw}");
        }
    }

    #[test]
    fn a_position_with_too_many_values_under_one_parent_becomes_a_parameter() {
        let t = templates(&[], 3);
        let names: Vec<String> = ["alice", "bob", "carol", "dave"]
            .iter()
            .flat_map(|u| {
                [
                    format!("GET /users/{u}/orders"),
                    format!("DELETE /users/{u}"),
                ]
            })
            .chain([
                "GET /health".to_string(),
                "GET /users/me/orders".to_string(),
            ])
            .chain((0..5).map(|i| format!("GET /users/{{id}}/tags/tag{i}")))
            .collect();
        let renames = t.collapse(names.iter().map(|n| (n.as_str(), TemplateSource::Log)));
        assert_eq!(renames["GET /users/alice/orders"], "GET /users/{id}/orders");
        assert_eq!(renames["DELETE /users/dave"], "DELETE /users/{id}");
        assert_eq!(renames["GET /users/me/orders"], "GET /users/{id}/orders");
        // Under /users/{id}/tags five values: nested positions explode too.
        assert_eq!(
            renames["GET /users/{id}/tags/tag4"],
            "GET /users/{id}/tags/{id}"
        );
        assert!(!renames.contains_key("GET /health"));
        // Three values are not more than three.
        let few = ["GET /a/x", "GET /a/y", "GET /a/z"];
        assert!(t
            .collapse(few.iter().map(|n| (*n, TemplateSource::Log)))
            .is_empty());
        // Explicit routes are never collapsed, and 0 turns the rule off.
        let explicit = names.iter().map(|n| (n.as_str(), TemplateSource::Explicit));
        assert!(t.collapse(explicit).is_empty());
        let off = templates(&[], 0);
        assert!(off
            .collapse(names.iter().map(|n| (n.as_str(), TemplateSource::Log)))
            .is_empty());
    }

    fn id() -> impl Strategy<Value = String> {
        prop_oneof![
            (0u64..u64::MAX).prop_map(|n| n.to_string()),
            any::<u128>().prop_map(|n| {
                let h = format!("{n:032x}");
                format!(
                    "{}-{}-{}-{}-{}",
                    &h[..8],
                    &h[8..12],
                    &h[12..16],
                    &h[16..20],
                    &h[20..]
                )
            }),
            (any::<u64>(), 1u32..4096).prop_map(|(a, b)| format!("{a:016x}{b:08x}")),
            "[a-z]{3,8}[0-9]{1,3}@[a-z]{3,8}\\.com",
        ]
    }

    fn word() -> impl Strategy<Value = String> {
        "[a-z]{1,12}"
    }

    #[test]
    fn raw_routes_past_those_kept_are_templated_alike() {
        let t = Arc::new(RouteTemplates::default());
        let mut columns = TemplatedColumns::new(t.clone(), false);
        let raw: Vec<String> = (0..2 * RAW_ROUTES_KEPT + 5)
            .map(|i| format!("GET /users/{}/orders/{}", i * 7919, i % 3))
            .chain([
                "GET /users/42/orders/1".to_string(),
                "GET /health".to_string(),
            ])
            .collect();
        for route in &raw {
            columns.push(&Request {
                route: Some(Cow::Borrowed(route)),
                ..Request::default()
            });
        }
        assert!(columns.routes.len() < RAW_ROUTES_KEPT);
        let names = columns.columns.route.dictionary.names();
        assert_eq!(names.len(), 2, "{names:?}");
        for (row, route) in raw.iter().enumerate() {
            let (templated, _) = t.template(route);
            assert_eq!(columns.columns.route.name(row), Some(&*templated));
        }
        assert_eq!(
            columns.sources.get("GET /users/{id}/orders/{id}"),
            Some(&TemplateSource::Inferred)
        );
    }

    proptest! {
        /// Any path of words and ids: the template has the same method and number of
        /// segments, keeps every word and puts `{id}` where every id was.
        #[test]
        fn ids_are_replaced_words_are_kept(
            method in prop_oneof![Just("GET"), Just("POST"), Just("DELETE")],
            segments in prop::collection::vec(prop_oneof![word(), id()], 1..8),
        ) {
            let t = RouteTemplates::default();
            let route = format!("{method} /{}", segments.join("/"));
            let (name, source) = t.template(&route);
            let (m, path) = name.split_once(' ').unwrap();
            prop_assert_eq!(m, method);
            let out: Vec<&str> = path[1..].split('/').collect();
            prop_assert_eq!(out.len(), segments.len());
            for (o, s) in out.iter().zip(&segments) {
                if s.chars().all(|c| c.is_ascii_lowercase()) {
                    prop_assert_eq!(*o, s.as_str());
                } else {
                    prop_assert_eq!(*o, PLACEHOLDER);
                }
            }
            let any_id = segments.iter().any(|s| !s.chars().all(|c| c.is_ascii_lowercase()));
            prop_assert_eq!(source == TemplateSource::Inferred, any_id);
        }

        /// Templating is idempotent: a template is its own template.
        #[test]
        fn templates_are_fixed_points(
            segments in prop::collection::vec(prop_oneof![word(), id()], 1..8),
        ) {
            let t = RouteTemplates::default();
            let route = format!("GET /{}", segments.join("/"));
            let (once, _) = t.template(&route);
            let once = once.into_owned();
            let (twice, source) = t.template(&once);
            prop_assert_eq!(&twice, &once);
            prop_assert_eq!(source, TemplateSource::Log);
        }

        /// Routes templated as each chunk decodes them, the chunks joined, then the rest of
        /// the rules: the same routes, row by row, and the same sources as templating the
        /// joined raw routes (explicit templates, ids, logged templates, route keys, no
        /// route; a threshold low enough to collapse).
        #[test]
        fn routes_templated_as_decoded_equal_those_templated_after(
            routes in prop::collection::vec(prop::option::of(prop_oneof![
                (word(), id()).prop_map(|(w, i)| format!("GET /{w}/{i}")),
                (word(), word()).prop_map(|(a, b)| format!("POST /{a}/{b}")),
                id().prop_map(|i| format!("GET /pets/{i}")),
                (word(), word()).prop_map(|(a, b)| format!("GET /files/{a}/{b}")),
                Just("GET /pets/{petId}".to_string()),
                Just("$default".to_string()),
            ]), 0..120),
            cuts in prop::collection::vec(0usize..120, 0..4),
        ) {
            let t = Arc::new(templates(&["GET /pets/{petId}", "/files/{proxy+}"], 3));
            fn request(route: &Option<String>) -> Request<'_> {
                Request {
                    route: route.as_deref().map(Cow::Borrowed),
                    ..Request::default()
                }
            }
            let mut raw = RequestColumns::default();
            for route in &routes {
                raw.push(&request(route));
            }
            let after = t.apply(&mut raw.route, &FastMap::default());
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(routes.len())).collect();
            cuts.push(0);
            cuts.push(routes.len());
            cuts.sort_unstable();
            let mut joined = TemplatedColumns::new(t.clone(), false);
            for ends in cuts.windows(2) {
                let mut chunk = joined.fresh();
                for route in &routes[ends[0]..ends[1]] {
                    chunk.push(&request(route));
                }
                joined.append(chunk);
            }
            let mut columns = joined.columns;
            let decoded = t.apply(&mut columns.route, &joined.sources);
            prop_assert_eq!(decoded, after);
            for row in 0..routes.len() {
                prop_assert_eq!(columns.route.name(row), raw.route.name(row));
            }
        }

        /// The cardinality rule never changes the number of routes' segments or methods,
        /// leaves the routes alone when no position exceeds the threshold, and after it no
        /// position under one parent holds more literal values than the threshold.
        #[test]
        fn collapsing_bounds_the_values_under_every_parent(
            paths in prop::collection::vec(
                prop::collection::vec("[a-e]{1,2}", 1..4), 1..200),
            limit in 1usize..12,
        ) {
            let t = RouteTemplates::new(&[], limit);
            let names: Vec<String> = paths.iter().map(|p| format!("GET /{}", p.join("/"))).collect();
            let renames = t.collapse(names.iter().map(|n| (n.as_str(), TemplateSource::Log)));
            let after: Vec<String> = names
                .iter()
                .map(|n| renames.get(n).cloned().unwrap_or_else(|| n.clone()))
                .collect();
            let mut under: FastMap<String, std::collections::HashSet<String>> = FastMap::default();
            for (before, now) in names.iter().zip(&after) {
                prop_assert_eq!(before.matches('/').count(), now.matches('/').count());
                prop_assert!(now.starts_with("GET /"));
                let segments: Vec<&str> = now.split('/').collect();
                for d in 1..segments.len() {
                    if !is_parameter(segments[d]) {
                        under
                            .entry(segments[..d].join("/"))
                            .or_default()
                            .insert(segments[d].to_string());
                    }
                }
            }
            for values in under.values() {
                prop_assert!(values.len() <= limit, "{values:?}");
            }
        }
    }
}
