//! From a request to (stage, resource template): API Gateway's default endpoint puts the
//! stage first (`/prod/pets/42`); HTTP APIs' `$default` stage has no prefix. Resource
//! templates (`/pets/{id}`, `/files/{proxy+}`) come from the stage's configured routes and
//! method settings, and the most specific one is chosen by the gateway core's route
//! selection ([`Router`]), so serve and replay name the same resource for a path.
//!
//! Every answer names a configured stage and a bounded set of resources: a stage with a
//! `routes` list matches only those; a stage without one is a catch-all whose unmatched
//! paths are its `/{proxy+}` resource (as a REST proxy resource logs), so hostile paths
//! cannot grow the gateway's per-route state. A route of a prefixed stage is matched only
//! under its prefix: `$default` does not take `/products` when `/prod/products` is a route
//! of `prod` (that would skip `prod`'s API key and throttle).

use crate::gateway::config::{method_key, ApiKind, GatewayConfig};
use crate::gateway::routes::Router;

/// The resource of a catch-all stage's unmatched paths.
pub(crate) const PROXY_RESOURCE: &str = "/{proxy+}";

/// Methods API Gateway routes; any other is refused before the gateway core sees it.
pub(crate) const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];

#[derive(Debug, Clone)]
struct StageRoutes {
    /// The API's id (empty: the implicit API).
    api: String,
    name: String,
    /// The stage's routes and the resources of its method settings, selected as the gateway
    /// core selects them.
    router: Router,
    /// Only the configured routes exist (the stage has a `routes` list).
    closed: bool,
}

/// Templates per stage.
#[derive(Debug, Clone, Default)]
pub struct Routes {
    stages: Vec<StageRoutes>,
}

/// Where a request goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route<'a> {
    /// The id of the stage's API (empty: the implicit API).
    pub api: &'a str,
    /// Stage name.
    pub stage: &'a str,
    /// Resource template.
    pub resource: &'a str,
    /// The path below the stage prefix (what the upstream gets), `/…` or empty.
    pub rest: &'a str,
}

impl Routes {
    /// Collects every stage's resource templates.
    pub fn new(config: &GatewayConfig) -> Routes {
        let stages = config
            .stages
            .iter()
            .map(|s| {
                // Every resource the stage names: routes, and method settings (not the
                // stage-wide `*/*`).
                let named: Vec<String> = s
                    .routes
                    .iter()
                    .chain(s.methods.keys())
                    .filter(|k| method_key(k).is_some_and(|(resource, _)| resource != "*"))
                    .cloned()
                    .collect();
                StageRoutes {
                    api: s.api_id.clone(),
                    name: s.name.clone(),
                    // Paths are matched by resource whatever the API kind (serve proxies HTTP).
                    router: Router::new(ApiKind::Rest, &named),
                    closed: !s.routes.is_empty(),
                }
            })
            .collect();
        Routes { stages }
    }

    /// The stage, resource and upstream path of a request path (origin-form, starting with
    /// `/`), or `None` when no configured stage has a route for it. Of several APIs with the stage, the first in
    /// the configuration answers.
    pub fn resolve<'a>(&'a self, path: &'a str) -> Option<Route<'a>> {
        self.resolve_host(None, path)
    }

    /// As [`resolve`](Self::resolve), among the stages of the API whose id is the first
    /// label of `host` when there is one (AWS's default endpoint,
    /// `{apiId}.execute-api.{region}.amazonaws.com`), else among all APIs' stages.
    pub fn resolve_host<'a>(&'a self, host: Option<&str>, path: &'a str) -> Option<Route<'a>> {
        if !path.starts_with('/') {
            return None;
        }
        let label = host.and_then(|h| h.split(['.', ':']).next()).unwrap_or("");
        let named = !label.is_empty() && self.stages.iter().any(|s| s.api == label);
        let stages = || self.stages.iter().filter(move |s| !named || s.api == label);
        let trimmed = path.trim_start_matches('/');
        let (first, _) = trimmed.split_once('/').unwrap_or((trimmed, ""));
        if let Some(stage) = stages().find(|s| s.name == first && s.name != "$default") {
            // The path below the stage, from the `/` after its name (empty without one).
            let rest = &trimmed[first.len()..];
            let resource = stage.resource(if rest.is_empty() { "/" } else { rest })?;
            return Some(Route {
                api: &stage.api,
                stage: &stage.name,
                resource,
                rest,
            });
        }
        let default = stages().find(|s| s.name == "$default")?;
        // The path with one leading `/`.
        let concrete = &path[path.len() - trimmed.len() - 1..];
        let own = default.router.resource(concrete).is_some();
        let elsewhere = stages()
            .filter(|s| s.name != "$default")
            .any(|s| s.router.resource(concrete).is_some());
        if elsewhere && !own {
            return None;
        }
        Some(Route {
            api: &default.api,
            stage: &default.name,
            resource: default.resource(concrete)?,
            rest: concrete,
        })
    }
}

impl StageRoutes {
    fn resource(&self, concrete: &str) -> Option<&str> {
        match self.router.resource(concrete) {
            Some(t) => Some(t),
            None if self.closed => None,
            None => Some(PROXY_RESOURCE),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route<'a>(stage: &'a str, resource: &'a str, rest: &'a str) -> Option<Route<'a>> {
        Some(Route {
            api: "",
            stage,
            resource,
            rest,
        })
    }

    #[test]
    fn templates_match_parameters_and_greedy_proxies() {
        let config = GatewayConfig::from_toml(
            "[[stages]]\nname = \"prod\"\nroutes = [\"GET /pets/{id}\", \"GET /files/{proxy+}\", \"GET /\", \"POST /files/{name}\"]\n",
        )
        .unwrap();
        let routes = Routes::new(&config);
        let resource = |path: &'static str| routes.resolve(path).map(|r| r.resource);
        assert_eq!(resource("/prod/pets/42"), Some("/pets/{id}"));
        assert_eq!(resource("/prod/pets"), None);
        assert_eq!(resource("/prod/pets/42/toys"), None);
        assert_eq!(resource("/prod/files/a/b/c"), Some("/files/{proxy+}"));
        // A parameter is more specific than a greedy segment, whatever the method.
        assert_eq!(resource("/prod/files/a"), Some("/files/{name}"));
        assert_eq!(resource("/prod/"), Some("/"));
        assert_eq!(resource("/prod"), Some("/"));
    }

    #[test]
    fn stage_prefix_then_most_specific_template() {
        let config = GatewayConfig::from_toml(
            "[[stages]]\nname = \"prod\"\nroutes = [\"GET /pets/{id}\", \"GET /pets/mine\", \"GET /pets\"]\n[[stages]]\nname = \"$default\"\napi = \"http\"\n",
        )
        .unwrap();
        let routes = Routes::new(&config);
        assert_eq!(
            routes.resolve("/prod/pets/42"),
            route("prod", "/pets/{id}", "/pets/42")
        );
        assert_eq!(
            routes.resolve("/prod/pets/mine"),
            route("prod", "/pets/mine", "/pets/mine")
        );
        assert_eq!(
            routes.resolve("/prod/pets"),
            route("prod", "/pets", "/pets")
        );
        // prod lists its routes: nothing else exists under /prod.
        assert_eq!(routes.resolve("/prod/admin"), None);
        assert_eq!(
            routes.resolve("/other/x"),
            route("$default", PROXY_RESOURCE, "/other/x")
        );
    }

    #[test]
    fn a_prefixed_stage_route_is_not_reachable_through_default() {
        // The case: prod requires an API key on /products; $default is a catch-all.
        let config = GatewayConfig::from_toml(
            "[[stages]]\nname = \"prod\"\napi_key_required = true\n[stages.methods.\"/products/GET\"]\ncaching = false\n[[stages]]\nname = \"$default\"\napi = \"http\"\n",
        )
        .unwrap();
        let routes = Routes::new(&config);
        assert_eq!(
            routes.resolve("/prod/products"),
            route("prod", "/products", "/products")
        );
        assert_eq!(routes.resolve("/products"), None);
        assert_eq!(
            routes.resolve("/health"),
            route("$default", PROXY_RESOURCE, "/health")
        );
    }

    #[test]
    fn the_host_names_the_api_when_several_have_the_stage() {
        let config = GatewayConfig::from_toml(
            "[[apis]]\nid = \"aaaa111111\"\n[[apis.stages]]\nname = \"prod\"\n[[apis]]\nid = \"bbbb222222\"\n[[apis.stages]]\nname = \"prod\"\n",
        )
        .unwrap();
        let routes = Routes::new(&config);
        let api = |host: Option<&str>| routes.resolve_host(host, "/prod/x").map(|r| r.api);
        assert_eq!(
            api(Some("bbbb222222.execute-api.eu-west-1.amazonaws.com")),
            Some("bbbb222222")
        );
        assert_eq!(api(Some("aaaa111111:8080")), Some("aaaa111111"));
        // Any other host: the first API with the stage.
        assert_eq!(api(Some("127.0.0.1:8080")), Some("aaaa111111"));
        assert_eq!(api(None), Some("aaaa111111"));
    }

    #[test]
    fn unmatched_paths_share_one_resource() {
        let config = GatewayConfig::from_toml("[[stages]]\nname = \"prod\"\n").unwrap();
        let routes = Routes::new(&config);
        for path in ["/prod/a", "/prod/b/c", "/prod/%22x%22"] {
            assert_eq!(routes.resolve(path).unwrap().resource, PROXY_RESOURCE);
        }
        assert_eq!(routes.resolve("/prod").unwrap().rest, "");
        assert_eq!(routes.resolve("/nostage/x"), None);
    }
}
