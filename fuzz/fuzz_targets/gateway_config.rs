//! gateway.toml text and AWS CLI JSON imports (single outputs, get-usage, a whole account):
//! parse, validate, build a pipeline.
#![no_main]

use gwstat::gateway::aws_account::{import_account, AccountFile};
use gwstat::gateway::aws_import::{apply_usage, import, AwsSources};
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
        if let Ok(mut config) = import(&sources) {
            let _ = config.validate();
            let _ = apply_usage(&mut config, &text);
        }
    }
    // A whole-account import of the text as any output, placed where an integration sits.
    let files = [AccountFile {
        path: "acct/a1b2c3d4e5/r1/GET.json".into(),
        text: text.clone(),
        id: None,
    }];
    if let Ok((config, _notes)) = import_account(&files) {
        let _ = Pipeline::new(config);
    }
});
