//! Route selection through the pipeline: ANY, greedy `{proxy+}`, the most specific match,
//! HTTP APIs' 404 and `$default`, WebSocket route keys.

use gwstat::gateway::{GatewayConfig, GatewayRequest, Level, Pipeline};

const T0: u64 = 1_795_514_400 * 1_000_000_000;

fn request<'a>(api: &'a str, method: &'a str, path: &'a str) -> GatewayRequest<'a> {
    crate::common::gateway_request(api, "prod", method, path)
}

const ROUTED: &str = r#"
[[apis]]
id = "rest111111"
kind = "rest"
[[apis.stages]]
name = "prod"
routes = ["ANY /{proxy+}", "GET /pets/{id}", "ANY /pets/{id}", "POST /pets"]
[apis.stages.methods."/pets/{id}/GET"]
throttle = { rate = 1, burst = 1 }
[apis.stages.methods."/{proxy+}/ANY"]
throttle = { rate = 1, burst = 2 }

[[apis]]
id = "http222222"
kind = "http"
[[apis.stages]]
name = "prod"
routes = ["GET /pets", "ANY /pets/{proxy+}"]

[[apis]]
id = "http333333"
kind = "http"
[[apis.stages]]
name = "prod"
routes = ["GET /pets", "$default"]
[apis.stages.methods."$default"]
throttle = { rate = 1, burst = 1 }

[[apis]]
id = "ws44444444"
kind = "websocket"
[[apis.stages]]
name = "prod"
routes = ["$connect", "sendMessage"]
[apis.stages.methods."$connect"]
throttle = { rate = 1, burst = 1 }
"#;

fn pipeline() -> Pipeline {
    Pipeline::new(GatewayConfig::from_toml(ROUTED).unwrap())
}

#[test]
fn an_explicit_method_beats_any_and_its_settings_apply() {
    let mut p = pipeline();
    // GET /pets/7 selects GET /pets/{id} (burst 1): its own bucket.
    let get = request("rest111111", "GET", "/pets/7");
    assert_eq!(p.handle(&get, T0).status, 200);
    assert_eq!(p.handle(&get, T0).refused_by, Some(Level::StageMethod));
    // DELETE /pets/7 selects ANY /pets/{id}: no override, not refused.
    let delete = request("rest111111", "DELETE", "/pets/7");
    assert_eq!(p.handle(&delete, T0).status, 200);
    assert_eq!(p.handle(&delete, T0).status, 200);
}

#[test]
fn the_greedy_proxy_takes_what_nothing_more_specific_does() {
    let mut p = pipeline();
    // GET /pets and PUT /a/b/c both select ANY /{proxy+} (one method, burst 2).
    let a = request("rest111111", "GET", "/pets");
    let b = request("rest111111", "PUT", "/a/b/c");
    assert_eq!(p.handle(&a, T0).status, 200);
    assert_eq!(p.handle(&b, T0).status, 200);
    assert_eq!(p.handle(&a, T0).refused_by, Some(Level::StageMethod));
    // POST /pets has its own route.
    assert_eq!(
        p.handle(&request("rest111111", "POST", "/pets"), T0).status,
        200
    );
}

#[test]
fn rest_unknown_routes_get_403_and_http_unknown_routes_get_404_not_found() {
    let config = GatewayConfig::from_toml(&ROUTED.replace("\"ANY /{proxy+}\", ", "")).unwrap();
    let mut p = Pipeline::new(config);
    let rest = p.handle(&request("rest111111", "GET", "/toys"), T0);
    assert_eq!(rest.status, 403);
    assert_eq!(rest.response_type, Some("MISSING_AUTHENTICATION_TOKEN"));
    let http = p.handle(&request("http222222", "POST", "/pets"), T0);
    assert_eq!(http.status, 404);
    assert_eq!(http.body().unwrap(), r#"{"message":"Not Found"}"#);
    assert_eq!(
        p.handle(&request("http222222", "DELETE", "/pets/1/2"), T0)
            .status,
        200
    );
}

#[test]
fn the_http_default_route_catches_the_rest_with_its_own_settings() {
    let mut p = pipeline();
    let other = request("http333333", "POST", "/anything");
    assert_eq!(p.handle(&other, T0).status, 200);
    assert_eq!(p.handle(&other, T0).refused_by, Some(Level::StageMethod));
    assert_eq!(
        p.handle(&request("http333333", "GET", "/pets"), T0).status,
        200
    );
}

#[test]
fn websocket_routes_are_selected_by_route_key() {
    let mut p = pipeline();
    let connect = request("ws44444444", "", "$connect");
    assert_eq!(p.handle(&connect, T0).status, 200);
    assert_eq!(p.handle(&connect, T0).refused_by, Some(Level::StageMethod));
    let send = request("ws44444444", "", "sendMessage");
    assert_eq!(p.handle(&send, T0).status, 200);
    let unknown = p.handle(&request("ws44444444", "", "nope"), T0);
    assert_eq!((unknown.status, unknown.message), (403, Some("Forbidden")));
}
