//! The access-log format strings the API Gateway console offers, exactly as AWS documents
//! them (`../shared/reference/formats.md` §1.3), plus the older variants still in use.

/// A console preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresetName {
    /// REST CLF (current, ends with `extendedRequestId`).
    RestClf,
    /// REST CLF before `extendedRequestId` was added (also AWS CDK `AccessLogFormat.clf()`).
    RestClfLegacy,
    /// REST JSON.
    RestJson,
    /// REST XML.
    RestXml,
    /// REST CSV.
    RestCsv,
    /// HTTP API CLF (current).
    HttpClf,
    /// HTTP API CLF (2023, ends with `requestId`).
    HttpClfLegacy,
    /// HTTP API JSON.
    HttpJson,
    /// HTTP API XML.
    HttpXml,
    /// HTTP API CSV.
    HttpCsv,
}

impl PresetName {
    /// Every preset.
    pub const ALL: [PresetName; 10] = [
        PresetName::RestClf,
        PresetName::RestClfLegacy,
        PresetName::RestJson,
        PresetName::RestXml,
        PresetName::RestCsv,
        PresetName::HttpClf,
        PresetName::HttpClfLegacy,
        PresetName::HttpJson,
        PresetName::HttpXml,
        PresetName::HttpCsv,
    ];

    /// The name users pass to `--access-format` (`rest-clf`, `http-json`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            PresetName::RestClf => "rest-clf",
            PresetName::RestClfLegacy => "rest-clf-legacy",
            PresetName::RestJson => "rest-json",
            PresetName::RestXml => "rest-xml",
            PresetName::RestCsv => "rest-csv",
            PresetName::HttpClf => "http-clf",
            PresetName::HttpClfLegacy => "http-clf-legacy",
            PresetName::HttpJson => "http-json",
            PresetName::HttpXml => "http-xml",
            PresetName::HttpCsv => "http-csv",
        }
    }

    /// Finds a preset by its name.
    pub fn from_name(name: &str) -> Option<PresetName> {
        PresetName::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

/// The format string of a preset.
pub fn preset(name: PresetName) -> &'static str {
    match name {
        PresetName::RestClf => r#"$context.identity.sourceIp $context.identity.caller $context.identity.user [$context.requestTime] "$context.httpMethod $context.resourcePath $context.protocol" $context.status $context.responseLength $context.requestId $context.extendedRequestId"#,
        PresetName::RestClfLegacy => r#"$context.identity.sourceIp $context.identity.caller $context.identity.user [$context.requestTime] "$context.httpMethod $context.resourcePath $context.protocol" $context.status $context.responseLength $context.requestId"#,
        PresetName::RestJson => r#"{ "requestId":"$context.requestId", "extendedRequestId":"$context.extendedRequestId", "ip": "$context.identity.sourceIp", "caller":"$context.identity.caller", "user":"$context.identity.user", "requestTime":"$context.requestTime", "httpMethod":"$context.httpMethod", "resourcePath":"$context.resourcePath", "status":"$context.status", "protocol":"$context.protocol", "responseLength":"$context.responseLength" }"#,
        PresetName::RestXml => r#"<request id="$context.requestId"> <extendedRequestId>$context.extendedRequestId</extendedRequestId> <ip>$context.identity.sourceIp</ip> <caller>$context.identity.caller</caller> <user>$context.identity.user</user> <requestTime>$context.requestTime</requestTime> <httpMethod>$context.httpMethod</httpMethod> <resourcePath>$context.resourcePath</resourcePath> <status>$context.status</status> <protocol>$context.protocol</protocol> <responseLength>$context.responseLength</responseLength> </request>"#,
        PresetName::RestCsv => "$context.identity.sourceIp,$context.identity.caller,$context.identity.user,$context.requestTime,$context.httpMethod,$context.resourcePath,$context.protocol,$context.status,$context.responseLength,$context.requestId,$context.extendedRequestId",
        PresetName::HttpClf => r#"$context.identity.sourceIp - - [$context.requestTime] "$context.httpMethod $context.routeKey $context.protocol" $context.status $context.responseLength $context.requestId $context.extendedRequestId"#,
        PresetName::HttpClfLegacy => r#"$context.identity.sourceIp - - [$context.requestTime] "$context.httpMethod $context.routeKey $context.protocol" $context.status $context.responseLength $context.requestId"#,
        PresetName::HttpJson => r#"{ "requestId":"$context.requestId", "ip": "$context.identity.sourceIp", "requestTime":"$context.requestTime", "httpMethod":"$context.httpMethod","routeKey":"$context.routeKey", "status":"$context.status","protocol":"$context.protocol", "responseLength":"$context.responseLength", "extendedRequestId": "$context.extendedRequestId" }"#,
        PresetName::HttpXml => r#"<request id="$context.requestId"> <ip>$context.identity.sourceIp</ip> <requestTime>$context.requestTime</requestTime> <httpMethod>$context.httpMethod</httpMethod> <routeKey>$context.routeKey</routeKey> <status>$context.status</status> <protocol>$context.protocol</protocol> <responseLength>$context.responseLength</responseLength> </request>"#,
        PresetName::HttpCsv => "$context.identity.sourceIp,$context.requestTime,$context.httpMethod,$context.routeKey,$context.protocol,$context.status,$context.responseLength,$context.requestId",
    }
}
