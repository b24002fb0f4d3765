//! `gwstat gateway import --from-aws` against moto's server (loopback, dummy credentials): an
//! account of three APIs (two REST APIs sharing the stage name `prod`, one HTTP API), methods
//! and routes with integration timeouts, usage plans with keys across APIs. Reading it from
//! AWS must give the gateway.toml that importing the saved files gives; lists longer than a
//! page are followed (through a proxy that pages moto's answers as AWS does, since moto
//! returns every item at once); a call the endpoint refuses is warned about, not fatal.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::aws_moto::{aws_gwstat, moto_sdk, start_moto};
use crate::common::gwstat;

/// What the test account holds.
struct Account {
    shop: String,
    admin: String,
    web: String,
    gold: String,
}

/// The account, with `extra_apis` more REST APIs and half as many (rounded up) HTTP APIs
/// without stages.
async fn create_account(url: &str, extra_apis: usize) -> Account {
    use aws_sdk_apigateway::types::{
        ApiStage, IntegrationType, QuotaPeriodType, QuotaSettings, ThrottleSettings,
    };
    let rest = aws_sdk_apigateway::Client::new(&moto_sdk(url));
    let v2 = aws_sdk_apigatewayv2::Client::new(&moto_sdk(url));
    // Two REST APIs, each with a `prod` stage and one method with a timeout.
    let mut rest_ids = Vec::new();
    for (name, part, method, key_required, timeout) in [
        ("shop", "pets", "GET", true, 5000),
        ("admin", "users", "POST", false, 12000),
    ] {
        let api = rest.create_rest_api().name(name).send().await.unwrap();
        let id = api.id().unwrap().to_string();
        let resources = rest.get_resources().rest_api_id(&id).send().await.unwrap();
        let root = resources.items()[0].id().unwrap().to_string();
        let resource = rest
            .create_resource()
            .rest_api_id(&id)
            .parent_id(&root)
            .path_part(part)
            .send()
            .await
            .unwrap();
        let resource_id = resource.id().unwrap();
        rest.put_method()
            .rest_api_id(&id)
            .resource_id(resource_id)
            .http_method(method)
            .authorization_type("NONE")
            .api_key_required(key_required)
            .send()
            .await
            .unwrap();
        rest.put_integration()
            .rest_api_id(&id)
            .resource_id(resource_id)
            .http_method(method)
            .r#type(IntegrationType::Http)
            .integration_http_method(method)
            .uri(format!("http://backend.invalid/{part}"))
            .timeout_in_millis(timeout)
            .send()
            .await
            .unwrap();
        rest.create_deployment()
            .rest_api_id(&id)
            .stage_name("prod")
            .send()
            .await
            .unwrap();
        rest_ids.push(id);
    }
    for i in 0..extra_apis {
        rest.create_rest_api()
            .name(format!("extra-{i}"))
            .send()
            .await
            .unwrap();
        if i % 2 == 0 {
            v2.create_api()
                .name(format!("extra-http-{i}"))
                .protocol_type(aws_sdk_apigatewayv2::types::ProtocolType::Http)
                .send()
                .await
                .unwrap();
        }
    }
    // One HTTP API with a route whose integration times out after 3 s.
    let web = v2
        .create_api()
        .name("web")
        .protocol_type(aws_sdk_apigatewayv2::types::ProtocolType::Http)
        .send()
        .await
        .unwrap();
    let web_id = web.api_id().unwrap().to_string();
    let integration = v2
        .create_integration()
        .api_id(&web_id)
        .integration_type(aws_sdk_apigatewayv2::types::IntegrationType::HttpProxy)
        .integration_method("GET")
        .integration_uri("http://backend.invalid/items")
        .payload_format_version("1.0")
        .timeout_in_millis(3000)
        .send()
        .await
        .unwrap();
    v2.create_route()
        .api_id(&web_id)
        .route_key("GET /items")
        .target(format!(
            "integrations/{}",
            integration.integration_id().unwrap()
        ))
        .send()
        .await
        .unwrap();
    v2.create_stage()
        .api_id(&web_id)
        .stage_name("live")
        .send()
        .await
        .unwrap();
    // A usage plan over both `prod` stages, with two keys.
    let stage = |api: &str| ApiStage::builder().api_id(api).stage("prod").build();
    let gold = rest
        .create_usage_plan()
        .name("gold")
        .api_stages(stage(&rest_ids[0]))
        .api_stages(stage(&rest_ids[1]))
        .throttle(
            ThrottleSettings::builder()
                .rate_limit(50.0)
                .burst_limit(100)
                .build(),
        )
        .quota(
            QuotaSettings::builder()
                .limit(10_000)
                .period(QuotaPeriodType::Day)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let gold_id = gold.id().unwrap().to_string();
    for name in ["alice", "bob"] {
        let key = rest
            .create_api_key()
            .name(name)
            .enabled(true)
            .send()
            .await
            .unwrap();
        rest.create_usage_plan_key()
            .usage_plan_id(&gold_id)
            .key_id(key.id().unwrap())
            .key_type("API_KEY")
            .send()
            .await
            .unwrap();
    }
    Account {
        shop: rest_ids[0].clone(),
        admin: rest_ids[1].clone(),
        web: web_id,
        gold: gold_id,
    }
}

fn import_from(endpoint: &str, home: &Path, extra: &[&str]) -> (String, String) {
    let mut cmd = aws_gwstat(home);
    let out = cmd
        .args(["gateway", "import", "--from-aws", "--max-attempts", "2"])
        .args(["--endpoint-url", endpoint])
        .args(extra)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    (String::from_utf8(out.stdout).unwrap(), stderr)
}

#[test]
fn an_account_read_from_aws_imports_as_its_saved_files() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let account = runtime.block_on(create_account(&moto.url, 0));
    let saved = dir.path().join("account");
    let (from_aws, stderr) = import_from(
        &moto.url,
        dir.path(),
        &["--save", saved.to_str().unwrap(), "--usage-days", "3"],
    );

    // The same documents imported offline give the same gateway.toml.
    let offline = gwstat()
        .args(["gateway", "import"])
        .arg(&saved)
        .output()
        .unwrap();
    assert!(offline.status.success());
    assert_eq!(from_aws, String::from_utf8(offline.stdout).unwrap());

    // Laid out as the offline import expects.
    for file in [
        "rest-apis.json".to_string(),
        "apis.json".into(),
        "usage-plans.json".into(),
        format!("{}/stages.json", account.shop),
        format!("{}/resources.json", account.admin),
        format!("{}/routes.json", account.web),
        format!("{}/integrations.json", account.web),
        format!("usage-plans/{}/keys.json", account.gold),
    ] {
        assert!(saved.join(&file).is_file(), "{file} not saved");
    }

    // And it is the account: three APIs, both `prod` stages kept apart, the timeouts of
    // each method, the plan over both APIs with its two keys.
    let config: toml::Value = toml::from_str(&from_aws).unwrap();
    let apis = config["apis"].as_array().unwrap();
    assert_eq!(apis.len(), 3, "{from_aws}");
    let stage = |api: &str, name: &str| {
        apis.iter()
            .find(|a| a["id"].as_str() == Some(api))
            .and_then(|a| a.get("stages")?.as_array())
            .and_then(|stages| stages.iter().find(|s| s["name"].as_str() == Some(name)))
            .unwrap_or_else(|| panic!("stage {api}/{name} missing: {from_aws}"))
    };
    let timeout = |api: &str, stage_name: &str, key: &str| {
        stage(api, stage_name)
            .get("methods")
            .and_then(|m| m.get(key))
            .and_then(|m| m.get("integration_timeout_ms"))
            .and_then(toml::Value::as_integer)
    };
    assert_eq!(timeout(&account.shop, "prod", "/pets/GET"), Some(5000));
    assert_eq!(timeout(&account.admin, "prod", "/users/POST"), Some(12000));
    assert_eq!(timeout(&account.web, "live", "/items/GET"), Some(3000));
    assert_eq!(
        stage(&account.shop, "prod")
            .get("methods")
            .and_then(|m| m.get("/pets/GET"))
            .and_then(|m| m.get("api_key_required"))
            .and_then(toml::Value::as_bool),
        Some(true)
    );
    let plans = config["usage_plans"].as_array().unwrap();
    assert_eq!(plans.len(), 1);
    assert_eq!(plans[0]["api_stages"].as_array().unwrap().len(), 2);
    assert_eq!(config["api_keys"].as_array().unwrap().len(), 2);

    // moto has no GetUsage: warned about, the rest imported.
    assert!(
        stderr.contains(&format!("GetUsage for usage plan {} failed", account.gold)),
        "{stderr}"
    );
}

/// Pages moto's `GET /restapis` (`limit`, `position`) and `GET /v2/apis` (`maxResults`,
/// `nextToken`) as AWS does: moto returns every item in one answer whatever the limit.
/// Counts the pages served of each.
async fn paging_proxy(upstream: String, pages: Arc<[AtomicU64; 2]>) -> String {
    use http_body_util::{BodyExt, Full};
    use hyper::body::Bytes;
    use hyper::service::service_fn;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::{TokioExecutor, TokioIo};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    tokio::spawn(async move {
        // Bounded: the test makes a few dozen connections at most.
        for _ in 0..1000 {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let client = client.clone();
            let upstream = upstream.clone();
            let pages = pages.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let client = client.clone();
                    let upstream = upstream.clone();
                    let pages = pages.clone();
                    async move {
                        let (parts, body) = req.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map_err(std::io::Error::other)?
                            .to_bytes();
                        let query: Vec<(String, String)> = parts
                            .uri
                            .query()
                            .unwrap_or_default()
                            .split('&')
                            .filter_map(|kv| kv.split_once('='))
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                            .collect();
                        let get = |name: &str| {
                            query
                                .iter()
                                .find(|(k, _)| k == name)
                                .and_then(|(_, v)| v.parse::<usize>().ok())
                        };
                        // (list key, token key, limit parameter, page counter)
                        let paged = match parts.uri.path() {
                            "/restapis" => Some(("item", "position", "limit", 0)),
                            "/v2/apis" => Some(("items", "nextToken", "maxResults", 1)),
                            _ => None,
                        };
                        let uri: hyper::Uri = format!(
                            "{upstream}{}",
                            if paged.is_some() {
                                parts.uri.path()
                            } else {
                                parts.uri.path_and_query().map_or("/", |p| p.as_str())
                            }
                        )
                        .parse()
                        .unwrap();
                        let mut forward = hyper::Request::builder().method(parts.method).uri(uri);
                        for (name, value) in &parts.headers {
                            if name != hyper::header::HOST {
                                forward = forward.header(name, value);
                            }
                        }
                        let response = client
                            .request(forward.body(Full::new(body)).unwrap())
                            .await
                            .map_err(std::io::Error::other)?;
                        let (mut parts, body) = response.into_parts();
                        let mut body = body
                            .collect()
                            .await
                            .map_err(std::io::Error::other)?
                            .to_bytes();
                        if let Some((list, token, limit, counter)) = paged {
                            pages[counter].fetch_add(1, Ordering::SeqCst);
                            let mut all: serde_json::Value = serde_json::from_slice(&body).unwrap();
                            let items = all[list].as_array().cloned().unwrap_or_default();
                            let from = get(token).unwrap_or(0).min(items.len());
                            let to = (from + get(limit).unwrap_or(25)).min(items.len());
                            all[list] = items[from..to].to_vec().into();
                            if to < items.len() {
                                all[token] = to.to_string().into();
                            }
                            body = Bytes::from(serde_json::to_vec(&all).unwrap());
                            parts.headers.remove(hyper::header::CONTENT_LENGTH);
                        }
                        Ok::<_, std::io::Error>(hyper::Response::from_parts(parts, Full::new(body)))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    format!("http://{addr}")
}

#[test]
fn lists_longer_than_a_page_are_read_whole() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let account = runtime.block_on(create_account(&moto.url, 7));
    let pages = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
    let proxy = runtime.block_on(paging_proxy(moto.url.clone(), pages.clone()));
    let (whole, _) = import_from(&moto.url, dir.path(), &[]);
    let (paged, _) = import_from(&proxy, dir.path(), &["--page-size", "2"]);
    // Nine REST APIs two a page: five pages; five HTTP APIs: three; every API read.
    assert_eq!(pages[0].load(Ordering::SeqCst), 5);
    assert_eq!(pages[1].load(Ordering::SeqCst), 3);
    assert_eq!(paged, whole);
    let config: toml::Value = toml::from_str(&paged).unwrap();
    assert_eq!(config["apis"].as_array().unwrap().len(), 14);
    assert!(paged.contains(&account.admin));
}

#[test]
fn aws_flags_without_from_aws_and_an_unreachable_endpoint_are_one_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let out = gwstat()
        .args(["gateway", "import", "--region", "eu-west-1"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("go with --from-aws"));
    let out = gwstat()
        .args(["gateway", "import", "--from-aws"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success(), "paths and --from-aws together");

    // Nothing listens on the port: the import stops at the first call, saying what to check.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = aws_gwstat(dir.path());
    let out = cmd
        .args(["gateway", "import", "--from-aws", "--max-attempts", "1"])
        .args(["--endpoint-url", &format!("http://127.0.0.1:{port}")])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("GetRestApis failed: AWS could not be reached"),
        "{stderr}"
    );
    assert!(stderr.contains("--endpoint-url"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}
