//! gateway.toml text and AWS CLI JSON imports: parse, validate, build a pipeline.
#![no_main]

use gwstat::gateway::aws_import::{import, AwsSources};
use gwstat::gateway::{GatewayConfig, Pipeline};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    if let Ok(config) = GatewayConfig::from_toml(&text) {
        if config.validate().is_ok() {
            let _ = Pipeline::new(config);
        }
    }
    for sources in [
        AwsSources {
            rest_stages: vec![text.clone()],
            ..AwsSources::default()
        },
        AwsSources {
            http_stages: vec![text.clone()],
            ..AwsSources::default()
        },
        AwsSources {
            usage_plans: Some(text.clone()),
            usage_plan_keys: vec![("p".into(), text.clone())],
            account: Some(text.clone()),
            ..AwsSources::default()
        },
    ] {
        if let Ok(config) = import(&sources) {
            let _ = config.validate();
        }
    }
});
