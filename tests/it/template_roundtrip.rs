//! Property: every console preset round-trips. A request rendered through the preset's
//! `$context` template, exactly as API Gateway writes it, parses back to the same values,
//! both with the template given (`--access-format`) and with format detection.

use chrono::DateTime;
use gwstat::decode::presets::{preset, PresetName};
use gwstat::decode::{detect, DecodeOptions, Template};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Values {
    epoch_s: i64,
    status: u16,
    method: &'static str,
    resource: String,
    request_id: String,
    ip: String,
    length: u32,
}

fn values() -> impl Strategy<Value = Values> {
    (
        // 2017 to 2025: request times a day or more past the clock cannot be placed.
        1_500_000_000i64..1_760_000_000,
        100u16..600,
        prop::sample::select(vec![
            "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS",
        ]),
        "(/[a-z0-9_-]{1,8}(/\\{[a-zA-Z]{1,6}\\+?\\})?){1,3}",
        "[A-Za-z0-9-]{8,36}=?",
        (1u8..255, 0u8..255, 0u8..255, 1u8..255),
        0u32..10_000_000,
    )
        .prop_map(
            |(epoch_s, status, method, resource, request_id, ip, length)| Values {
                epoch_s,
                status,
                method,
                resource,
                request_id,
                ip: format!("{}.{}.{}.{}", ip.0, ip.1, ip.2, ip.3),
                length,
            },
        )
}

fn render(template: &Template, v: &Values) -> String {
    template.render(|name| match name {
        "requestTime" => DateTime::from_timestamp(v.epoch_s, 0)
            .unwrap()
            .format("%d/%b/%Y:%H:%M:%S +0000")
            .to_string(),
        "status" => v.status.to_string(),
        "httpMethod" => v.method.to_string(),
        "resourcePath" => v.resource.clone(),
        "routeKey" => format!("{} {}", v.method, v.resource),
        "requestId" | "extendedRequestId" => v.request_id.clone(),
        "identity.sourceIp" => v.ip.clone(),
        "protocol" => "HTTP/1.1".to_string(),
        "responseLength" => v.length.to_string(),
        _ => "-".to_string(),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn presets_round_trip(v in values()) {
        for name in PresetName::ALL {
            let template = Template::parse(preset(name)).unwrap();
            let line = render(&template, &v);
            for options in [
                DecodeOptions { access_format: Some(template.clone()), ..DecodeOptions::default() },
                DecodeOptions::default(),
            ] {
                let mut detected = detect("prop", &[line.as_bytes()], &options)
                    .unwrap_or_else(|e| panic!("{}: {e}", name.as_str()));
                let request = detected.decoder.decode(line.as_bytes())
                    .unwrap_or_else(|e| panic!("{} ({}): {e}: {line}", name.as_str(), detected.format));
                prop_assert_eq!(request.time_ms, v.epoch_s * 1000, "{}", name.as_str());
                prop_assert_eq!(request.status, Some(v.status), "{}", name.as_str());
                prop_assert_eq!(request.method.as_deref(), Some(v.method), "{}", name.as_str());
                let route = format!("{} {}", v.method, v.resource);
                prop_assert_eq!(request.route.as_deref(), Some(route.as_str()), "{} {}", name.as_str(), line);
            }
        }
    }
}
