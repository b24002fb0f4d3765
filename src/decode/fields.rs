//! What a log value means: the `$context` variables gwstat understands, and the key names
//! users give them in JSON and XML access logs.
//!
//! One table ([`ALIASES`]) maps every accepted spelling to a [`Field`]; keys are compared
//! after [`normalize_key`] (lower case, punctuation removed), so `integration.latency`,
//! `integrationLatency` and `integration_latency` are the same key.

use crate::FastMap as HashMap;

/// A value in an access-log line that the report uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// `$context.requestId`
    RequestId,
    /// `$context.requestTime` (CLF time, whole seconds)
    RequestTime,
    /// `$context.requestTimeEpoch` (epoch milliseconds)
    RequestTimeEpoch,
    /// `$context.httpMethod`
    HttpMethod,
    /// `$context.resourcePath` (REST resource template)
    ResourcePath,
    /// `$context.routeKey` (HTTP API route, method included)
    RouteKey,
    /// `$context.path` (the request's path, ids included; read only when no route is)
    Path,
    /// `$context.status`
    Status,
    /// `$context.responseLatency` in milliseconds
    ResponseLatency,
    /// `$context.integrationLatency` / `$context.integration.latency` in milliseconds
    IntegrationLatency,
    /// `$context.stage`
    Stage,
    /// `$context.identity.apiKeyId`
    ApiKeyId,
    /// `$context.identity.apiKey` (the key value; used only when no key ID is logged)
    ApiKey,
    /// `$context.error.responseType`
    ErrorResponseType,
    /// `$context.error.message` (or `messageString`, quotes stripped)
    ErrorMessage,
    /// `$context.xrayTraceId` (joins X-Ray traces)
    XrayTraceId,
    /// `$context.eventType` (WebSocket APIs: `CONNECT`, `MESSAGE` or `DISCONNECT`)
    EventType,
    /// `$context.connectionId` (WebSocket APIs)
    ConnectionId,
    /// `$context.connectedAt` (WebSocket APIs: connection time, epoch milliseconds)
    ConnectedAt,
    /// `$context.apiId` (matches a request to its API in `replay`)
    ApiId,
}

impl Field {
    /// Every field, in documentation order.
    pub const ALL: [Field; 20] = [
        Field::RequestId,
        Field::RequestTime,
        Field::RequestTimeEpoch,
        Field::HttpMethod,
        Field::ResourcePath,
        Field::RouteKey,
        Field::Path,
        Field::Status,
        Field::ResponseLatency,
        Field::IntegrationLatency,
        Field::Stage,
        Field::ApiKeyId,
        Field::ApiKey,
        Field::ErrorResponseType,
        Field::ErrorMessage,
        Field::XrayTraceId,
        Field::EventType,
        Field::ConnectionId,
        Field::ConnectedAt,
        Field::ApiId,
    ];

    /// The `$context` variable this field stands for (without the `$context.` prefix).
    pub fn context_name(self) -> &'static str {
        match self {
            Field::RequestId => "requestId",
            Field::RequestTime => "requestTime",
            Field::RequestTimeEpoch => "requestTimeEpoch",
            Field::HttpMethod => "httpMethod",
            Field::ResourcePath => "resourcePath",
            Field::RouteKey => "routeKey",
            Field::Path => "path",
            Field::Status => "status",
            Field::ResponseLatency => "responseLatency",
            Field::IntegrationLatency => "integrationLatency",
            Field::Stage => "stage",
            Field::ApiKeyId => "identity.apiKeyId",
            Field::ApiKey => "identity.apiKey",
            Field::ErrorResponseType => "error.responseType",
            Field::ErrorMessage => "error.message",
            Field::XrayTraceId => "xrayTraceId",
            Field::EventType => "eventType",
            Field::ConnectionId => "connectionId",
            Field::ConnectedAt => "connectedAt",
            Field::ApiId => "apiId",
        }
    }

    /// Parses a meaning given on the command line (`--field status=http_status`): any
    /// accepted spelling of the `$context` variable.
    pub fn from_meaning(name: &str) -> Option<Field> {
        let name = name.strip_prefix("$context.").unwrap_or(name);
        lookup_alias(&normalize_key(name))
    }
}

/// Accepted key spellings (already normalized) and what they mean. `$context` variable names
/// with and without their dotted prefix, plus the names the AWS presets and common
/// Terraform/CDK configurations use.
const ALIASES: &[(&str, Field)] = &[
    ("requestid", Field::RequestId),
    ("xraytraceid", Field::XrayTraceId),
    ("traceid", Field::XrayTraceId),
    ("requesttime", Field::RequestTime),
    ("requesttimeepoch", Field::RequestTimeEpoch),
    ("httpmethod", Field::HttpMethod),
    ("method", Field::HttpMethod),
    ("resourcepath", Field::ResourcePath),
    ("routekey", Field::RouteKey),
    ("path", Field::Path),
    ("status", Field::Status),
    ("statuscode", Field::Status),
    ("responselatency", Field::ResponseLatency),
    ("latency", Field::ResponseLatency),
    ("integrationlatency", Field::IntegrationLatency),
    ("stage", Field::Stage),
    ("apikeyid", Field::ApiKeyId),
    ("identityapikeyid", Field::ApiKeyId),
    ("apikey", Field::ApiKey),
    ("identityapikey", Field::ApiKey),
    ("errorresponsetype", Field::ErrorResponseType),
    ("responsetype", Field::ErrorResponseType),
    ("errormessage", Field::ErrorMessage),
    ("errormessagestring", Field::ErrorMessage),
    ("eventtype", Field::EventType),
    ("connectionid", Field::ConnectionId),
    ("connectedat", Field::ConnectedAt),
    ("apiid", Field::ApiId),
];

/// Lower-cases a key and drops everything that is not a letter or digit.
pub fn normalize_key(key: &str) -> String {
    key.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn lookup_alias(normalized: &str) -> Option<Field> {
    ALIASES
        .iter()
        .find(|(alias, _)| *alias == normalized)
        .map(|(_, field)| *field)
}

/// Resolves log keys (JSON keys, XML tags, template variables) to fields, remembering
/// every answer so that each distinct key is normalized once per decoder.
#[derive(Debug, Clone, Default)]
pub struct KeyMap {
    overrides: HashMap<String, Field>,
    cache: HashMap<Box<str>, Option<Field>>,
    /// The keys of the previous line in order: lines of one log repeat their key order, so
    /// the k-th key is usually the same as last time and needs no hashing.
    order: Vec<(Box<str>, Option<Field>)>,
}

impl KeyMap {
    /// A key map with user overrides (`--field meaning=key`), which win over the aliases.
    /// An override key is matched exactly as written.
    pub fn new(overrides: &[(Field, String)]) -> Self {
        let overrides = overrides
            .iter()
            .map(|(field, key)| (key.clone(), *field))
            .collect();
        KeyMap {
            overrides,
            cache: HashMap::default(),
            order: Vec::new(),
        }
    }

    /// What `key` means, if anything.
    pub fn resolve(&mut self, key: &str) -> Option<Field> {
        if let Some(found) = self.cache.get(key) {
            return *found;
        }
        let field = self.resolve_uncached(key);
        self.cache.insert(key.into(), field);
        field
    }

    /// What `key` means, for the key at `position` in its line (fast when lines share their
    /// key order).
    #[inline]
    pub fn resolve_at(&mut self, position: usize, key: &str) -> Option<Field> {
        if let Some((known, field)) = self.order.get(position) {
            if **known == *key {
                return *field;
            }
        }
        let field = self.resolve(key);
        if position < self.order.len() {
            self.order[position] = (key.into(), field);
        } else if position == self.order.len() && position < 256 {
            self.order.push((key.into(), field));
        }
        field
    }

    /// The key found at `position` in the previous line and what it means: the likely key
    /// there now, to compare with instead of searching for the key's end.
    #[inline]
    pub fn expected_at(&self, position: usize) -> Option<(&str, Option<Field>)> {
        self.order
            .get(position)
            .map(|(key, field)| (&**key, *field))
    }

    fn resolve_uncached(&self, key: &str) -> Option<Field> {
        if let Some(field) = self.overrides.get(key) {
            return Some(*field);
        }
        let key = key.strip_prefix("$context.").unwrap_or(key);
        let key = key.strip_prefix("context.").unwrap_or(key);
        // Once the user names the key of a field, its default spellings mean nothing.
        lookup_alias(&normalize_key(key)).filter(|field| !self.is_overridden(*field))
    }

    /// Whether a field has been claimed by an override (its default keys are then ignored).
    pub fn is_overridden(&self, field: Field) -> bool {
        self.overrides.values().any(|f| *f == field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_camel_and_snake_spellings_mean_the_same() {
        let mut keys = KeyMap::default();
        for key in [
            "integrationLatency",
            "integration.latency",
            "integration_latency",
        ] {
            assert_eq!(keys.resolve(key), Some(Field::IntegrationLatency), "{key}");
        }
        assert_eq!(keys.resolve("identity.apiKeyId"), Some(Field::ApiKeyId));
        assert_eq!(keys.resolve("apiKeyId"), Some(Field::ApiKeyId));
        assert_eq!(
            keys.resolve("error.responseType"),
            Some(Field::ErrorResponseType)
        );
        assert_eq!(keys.resolve("errorMessage"), Some(Field::ErrorMessage));
        assert_eq!(keys.resolve("userAgent"), None);
    }

    #[test]
    fn overrides_win_over_aliases() {
        let mut keys = KeyMap::new(&[(Field::Status, "http_code".into())]);
        assert_eq!(keys.resolve("http_code"), Some(Field::Status));
        assert!(keys.is_overridden(Field::Status));
    }

    #[test]
    fn meanings_accept_context_names() {
        assert_eq!(
            Field::from_meaning("$context.integration.latency"),
            Some(Field::IntegrationLatency)
        );
        assert_eq!(Field::from_meaning("status"), Some(Field::Status));
        assert_eq!(Field::from_meaning("nonsense"), None);
        for field in Field::ALL {
            assert_eq!(Field::from_meaning(field.context_name()), Some(field));
        }
    }
}
