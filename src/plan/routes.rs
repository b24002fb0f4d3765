//! What the user calls routes: aliases and groups that rename them, and the latency objective
//! (SLO) each is held to. Both come from `gwstat.toml` (`[routes]`, `[slo]`); reading that file
//! is the CLI's job, applying them is this module's.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::filter::route_matches;
use crate::model::RequestColumns;
use crate::report::{Report, SloCheck};

/// Route aliases and groups (`[routes]`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RouteNames {
    /// Exact route → the name to show.
    #[serde(default)]
    pub aliases: BTreeMap<String, String>,
    /// Route glob (as `--route`) → group name; routes matching one are counted as one (the
    /// most specific matching glob wins).
    #[serde(default)]
    pub groups: BTreeMap<String, String>,
}

impl RouteNames {
    /// Applies the names to the requests' routes: aliases first, then groups.
    pub fn apply(&self, columns: &mut RequestColumns) {
        if let Some(rename) = self.renamer() {
            columns.route.rename(rename);
        }
    }

    /// The new name of a route under the aliases and groups (`None`: unchanged); `None`
    /// when there are no aliases or groups.
    pub fn renamer(&self) -> Option<impl Fn(&str) -> Option<String> + '_> {
        if self.aliases.is_empty() && self.groups.is_empty() {
            return None;
        }
        let groups = by_specificity(&self.groups);
        Some(move |route: &str| {
            let aliased = self.aliases.get(route);
            let name = aliased.map_or(route, |a| a.as_str());
            groups
                .iter()
                .find(|(p, _)| route_matches(p, name))
                .map(|(_, group)| (*group).clone())
                .or_else(|| aliased.cloned())
        })
    }
}

/// One latency objective.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Slo {
    /// p99 response latency must stay at or under this, ms.
    pub p99_ms: f64,
}

/// Per-route-glob latency objectives (`[slo]`: `"GET /products" = { p99_ms = 300 }`); the
/// most specific matching glob applies ([`by_specificity`]).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(transparent)]
pub struct Slos(pub BTreeMap<String, Slo>);

impl Slos {
    /// The latency objective of a route: the most specific glob matching it.
    pub fn for_route(&self, route: &str) -> Option<Slo> {
        by_specificity(&self.0)
            .into_iter()
            .find(|(p, _)| route_matches(p, route))
            .map(|(_, slo)| *slo)
    }

    /// Checks each route's p99 in the report's latency section against its objective.
    pub fn check(&self, report: &mut Report) {
        for route in &mut report.latency.by_route {
            let slo = route.route.as_deref().and_then(|r| self.for_route(r));
            route.slo = slo.map(|slo| SloCheck {
                p99_ms: slo.p99_ms,
                breached: route.stats.latency_ms.p99.is_some_and(|p| p > slo.p99_ms),
            });
        }
    }
}

/// Globs most specific first: fewest wildcards (`*`, `?`, `[`), then longest, then by text.
pub fn by_specificity<V>(map: &BTreeMap<String, V>) -> Vec<(glob::Pattern, &V)> {
    let mut globs: Vec<(&String, &V)> = map.iter().collect();
    globs.sort_by_key(|(g, _)| {
        let wild = g.chars().filter(|c| matches!(c, '*' | '?' | '[')).count();
        (wild, std::cmp::Reverse(g.len()), (*g).clone())
    });
    globs
        .into_iter()
        .filter_map(|(g, v)| Some((glob::Pattern::new(g).ok()?, v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn aliases_then_groups() {
        let names = RouteNames {
            aliases: map(&[("GET /products/{productId}", "GET /products/:id")]),
            groups: map(&[("GET /users/*", "GET /users/*")]),
        };
        let mut c = RequestColumns::new(false);
        for route in [
            "GET /products/{productId}",
            "GET /users/{userId}",
            "GET /users/me",
            "POST /orders",
        ] {
            c.push(&crate::model::Request {
                route: Some(route.into()),
                ..Default::default()
            });
        }
        names.apply(&mut c);
        let renamed: Vec<&str> = (0..4).map(|i| c.route.name(i).unwrap()).collect();
        assert_eq!(
            renamed,
            [
                "GET /products/:id",
                "GET /users/*",
                "GET /users/*",
                "POST /orders"
            ]
        );
        assert!(RouteNames::default().renamer().is_none());
    }

    #[test]
    fn the_most_specific_slo_applies() {
        let slos = Slos(BTreeMap::from([
            ("GET /products*".to_string(), Slo { p99_ms: 300.0 }),
            ("*".to_string(), Slo { p99_ms: 1000.0 }),
        ]));
        assert_eq!(slos.for_route("GET /products").unwrap().p99_ms, 300.0);
        assert_eq!(slos.for_route("POST /orders").unwrap().p99_ms, 1000.0);
        assert!(Slos::default().for_route("GET /").is_none());
    }
}
