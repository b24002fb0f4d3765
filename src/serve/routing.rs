//! From a request path to (stage, resource template): API Gateway's default endpoint puts the
//! stage first (`/prod/pets/42`); HTTP APIs' `$default` stage has no prefix. Resource
//! templates (`/pets/{id}`, `/files/{proxy+}`) come from the stage's configured routes and
//! method settings.

use crate::gateway::config::{method_key, GatewayConfig};

/// Templates per stage.
#[derive(Debug, Clone, Default)]
pub struct Routes {
    stages: Vec<(String, Vec<String>)>,
}

impl Routes {
    /// Collects every stage's resource templates.
    pub fn new(config: &GatewayConfig) -> Routes {
        let stages = config
            .stages
            .iter()
            .map(|s| {
                let mut templates: Vec<String> = s
                    .routes
                    .iter()
                    .chain(s.methods.keys())
                    .filter_map(|k| method_key(k).map(|(resource, _)| resource))
                    .filter(|r| r != "*")
                    .collect();
                templates.sort();
                templates.dedup();
                // Literal segments win over parameters: try the most specific first.
                templates.sort_by_key(|t| {
                    std::cmp::Reverse(t.matches('/').count() * 2 - t.matches('{').count())
                });
                (s.name.clone(), templates)
            })
            .collect();
        Routes { stages }
    }

    /// The stage and resource of a request path, or `None` when no stage matches.
    pub fn resolve(&self, path: &str) -> Option<(String, String)> {
        let trimmed = path.trim_start_matches('/');
        let (first, rest) = trimmed.split_once('/').unwrap_or((trimmed, ""));
        let (stage, concrete) = match self.stages.iter().find(|(name, _)| name == first) {
            Some((name, templates)) => (name.clone(), (templates, format!("/{rest}"))),
            None => {
                let (name, templates) = self.stages.iter().find(|(name, _)| name == "$default")?;
                (name.clone(), (templates, format!("/{trimmed}")))
            }
        };
        let (templates, concrete) = concrete;
        let resource = templates
            .iter()
            .find(|t| matches(t, &concrete))
            .cloned()
            .unwrap_or(concrete);
        Some((stage, resource))
    }
}

/// Whether a concrete path fits a resource template.
pub fn matches(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.trim_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_matches('/').split('/').collect();
    for (i, segment) in t.iter().enumerate() {
        if segment.starts_with('{') && segment.ends_with("+}") {
            return p.len() > i && !p[i].is_empty();
        }
        let Some(actual) = p.get(i) else { return false };
        let is_param = segment.starts_with('{') && segment.ends_with('}');
        if !(is_param && !actual.is_empty() || segment == actual) {
            return false;
        }
    }
    t.len() == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_parameters_and_greedy_proxies() {
        assert!(matches("/pets/{id}", "/pets/42"));
        assert!(!matches("/pets/{id}", "/pets"));
        assert!(!matches("/pets/{id}", "/pets/42/toys"));
        assert!(matches("/files/{proxy+}", "/files/a/b/c"));
        assert!(matches("/", "/"));
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
            Some(("prod".into(), "/pets/{id}".into()))
        );
        assert_eq!(
            routes.resolve("/prod/pets/mine"),
            Some(("prod".into(), "/pets/mine".into()))
        );
        assert_eq!(
            routes.resolve("/prod/pets"),
            Some(("prod".into(), "/pets".into()))
        );
        assert_eq!(
            routes.resolve("/other/x"),
            Some(("$default".into(), "/other/x".into()))
        );
    }
}
