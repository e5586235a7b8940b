//! Router-level tests: requests go through the real axum router (`oneshot`) into a real
//! SQLite file in a temp dir, and every check on a refused request also checks that the
//! database did not change.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use base64::Engine as _;
use cartsense::core::json::{self, Value};
use cartsense::core::time;
use cartsense_collector::server::{self, Config};
use cartsense_collector::store::Store;
use http_body_util::BodyExt as _;
use tempfile::TempDir;
use tower::ServiceExt as _;

struct Fixture {
    _dir: TempDir,
    db: PathBuf,
    router: Router,
}

fn fixture(config: Config) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("collector.db");
    let router = server::router(Store::open(&db).unwrap(), &config);
    Fixture { _dir: dir, db, router }
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    /// The `error` member of a JSON error body; fails the test if the body is not one.
    fn error(&self) -> String {
        assert_eq!(self.headers["content-type"], "application/json", "{}", self.body);
        let value = json::parse(&self.body).unwrap();
        assert_eq!(value.as_object().unwrap().len(), 1, "{}", self.body);
        value.get("error").and_then(Value::as_str).unwrap().to_owned()
    }
}

impl Fixture {
    async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            headers,
            body: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }

    async fn post(&self, body: impl Into<String>) -> Reply {
        self.send(batch_request().body(Body::from(body.into())).unwrap()).await
    }

    fn stored(&self) -> Vec<String> {
        stored(&self.db)
    }

    /// (write_key, message_id, type, event) of every row, in receive order.
    fn rows(&self) -> Vec<(String, String, String, Option<String>)> {
        let conn = rusqlite::Connection::open(&self.db).unwrap();
        let mut select = conn
            .prepare("SELECT write_key, message_id, type, event FROM items ORDER BY seq")
            .unwrap();
        select
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }
}

fn stored(db: &Path) -> Vec<String> {
    Store::open_existing(db).unwrap().items().unwrap()
}

fn batch_request() -> axum::http::request::Builder {
    Request::post("/v1/batch")
        .header("host", "collector.test:8080")
        .header("content-type", "application/json")
}

fn track(id: &str) -> String {
    format!(r#"{{"type":"track","event":"Product Viewed","messageId":"{id}","anonymousId":"anon-1"}}"#)
}

fn batch(items: &[String]) -> String {
    format!(
        r#"{{"batch":[{}],"sentAt":"2026-01-02T03:04:05.000Z"}}"#,
        items.join(",")
    )
}

fn basic(key: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{key}:"))
    )
}

fn message_ids(items: &[String]) -> Vec<String> {
    items
        .iter()
        .map(|item| {
            json::parse(item)
                .unwrap()
                .get("messageId")
                .and_then(Value::as_str)
                .unwrap()
                .to_owned()
        })
        .collect()
}

fn now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as f64
}

#[tokio::test]
async fn a_valid_batch_is_stored_as_received_with_received_at() {
    let f = fixture(Config::default());
    let before = now_ms();
    let item = r#"{"type":"track","event":"Order Completed","messageId":"m-1","anonymousId":"a","properties":{"total":19.990,"big":12345678901234567890,"z":1,"a":2},"timestamp":"2026-01-02T03:04:04.000Z"}"#;
    let identify = r#"{"type":"identify","messageId":"m-2","userId":"u-1","traits":{"plan":"pro"},"event":"ignored"}"#;
    let reply = f.post(batch(&[item.into(), identify.into()])).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body, r#"{"success":true}"#);
    assert_eq!(reply.headers["content-type"], "application/json");

    let items = f.stored();
    assert_eq!(items.len(), 2);
    // Byte-for-byte as received (number text, key order), with receivedAt appended.
    let (prefix, received_at) = items[0].rsplit_once(r#","receivedAt":"#).unwrap();
    assert_eq!(format!("{prefix}}}"), item);
    let received_at = json::parse(received_at.trim_end_matches('}')).unwrap();
    let received_ms = time::parse_iso8601(received_at.as_str().unwrap()).unwrap();
    assert!(
        received_ms >= before - 1.0 && received_ms <= now_ms() + 1.0,
        "{received_ms}"
    );
    assert_eq!(
        f.rows(),
        vec![
            ("".into(), "m-1".into(), "track".into(), Some("Order Completed".into())),
            ("".into(), "m-2".into(), "identify".into(), None),
        ]
    );
}

#[tokio::test]
async fn received_at_from_the_client_is_replaced_by_the_server_clock() {
    let f = fixture(Config::default());
    let item = r#"{"type":"page","messageId":"p","anonymousId":"a","receivedAt":"1999-01-01T00:00:00.000Z"}"#;
    assert_eq!(f.post(batch(&[item.into()])).await.status, StatusCode::OK);
    let stored = json::parse(&f.stored()[0]).unwrap();
    let received = stored.get("receivedAt").and_then(Value::as_str).unwrap();
    assert!(received.starts_with("20"), "{received}");
    assert_eq!(
        stored.as_object().unwrap().len(),
        4,
        "receivedAt replaced in place, not duplicated"
    );
}

#[tokio::test]
async fn duplicates_are_acknowledged_and_stored_once() {
    let f = fixture(Config::default());
    assert_eq!(f.post(batch(&[track("a"), track("b")])).await.status, StatusCode::OK);
    // A retry of a batch the client thought was lost, plus one new item.
    let retry = f.post(batch(&[track("b"), track("a"), track("c")])).await;
    assert_eq!(
        (retry.status, retry.body.as_str()),
        (StatusCode::OK, r#"{"success":true}"#)
    );
    // Duplicates inside one batch: the first copy wins.
    let first = r#"{"type":"track","event":"First","messageId":"d","anonymousId":"x"}"#;
    let second = r#"{"type":"track","event":"Second","messageId":"d","anonymousId":"x"}"#;
    assert_eq!(
        f.post(batch(&[first.into(), second.into()])).await.status,
        StatusCode::OK
    );
    assert_eq!(message_ids(&f.stored()), ["a", "b", "c", "d"]);
    assert_eq!(f.rows()[3].3.as_deref(), Some("First"));

    // The same messageId under another write key is another client's item.
    let other = batch_request()
        .header("authorization", basic("other"))
        .body(Body::from(batch(&[track("a")])))
        .unwrap();
    assert_eq!(f.send(other).await.status, StatusCode::OK);
    assert_eq!(message_ids(&f.stored()), ["a", "b", "c", "d", "a"]);
}

#[tokio::test]
async fn bad_input_is_refused_with_a_json_error_and_nothing_is_stored() {
    let f = fixture(Config::default());
    assert_eq!(f.post(batch(&[track("kept")])).await.status, StatusCode::OK);
    let good = track("good");
    let over_limit = format!(
        r#"{{"batch":[],"pad":"{}"}}"#,
        "x".repeat(cartsense::core::wire::MAX_BODY_BYTES)
    );
    let cases: Vec<(String, StatusCode, &str)> = vec![
        (
            r#"{"batch":["#.into(),
            StatusCode::BAD_REQUEST,
            "body is not valid JSON: ",
        ),
        (
            "".into(),
            StatusCode::BAD_REQUEST,
            "body is not valid JSON: unexpected end of JSON",
        ),
        (r#"[]"#.into(), StatusCode::BAD_REQUEST, "body: must be a JSON object"),
        (
            r#"{"sentAt":"x"}"#.into(),
            StatusCode::BAD_REQUEST,
            "body: batch must be an array of events",
        ),
        (
            batch(&[
                good.clone(),
                r#"{"event":"E","messageId":"m","anonymousId":"a"}"#.into(),
            ]),
            StatusCode::BAD_REQUEST,
            "batch[1]: type is missing",
        ),
        (
            batch(&[good.clone(), r#"{"type":"page","messageId":"m"}"#.into()]),
            StatusCode::BAD_REQUEST,
            "batch[1]: needs an anonymousId or a userId",
        ),
        (
            batch(&[
                good.clone(),
                good.clone(),
                r#"{"type":"page","anonymousId":"a"}"#.into(),
            ]),
            StatusCode::BAD_REQUEST,
            "batch[2]: messageId is missing",
        ),
        (
            batch(&[
                good.clone(),
                r#"{"type":"track","messageId":"m","anonymousId":"a"}"#.into(),
            ]),
            StatusCode::BAD_REQUEST,
            "batch[1]: event is missing",
        ),
        (
            format!(r#"{{"batch":[{good}],"context":[1]}}"#),
            StatusCode::BAD_REQUEST,
            "body: context must be an object",
        ),
        (
            format!(r#"{{"batch":[{good}],"writeKey":7}}"#),
            StatusCode::UNAUTHORIZED,
            "body: writeKey must be a string",
        ),
        (
            format!(r#"{{"batch":[{good}],"writeKey":{{"key":"k"}}}}"#),
            StatusCode::UNAUTHORIZED,
            "body: writeKey must be a string",
        ),
        (
            over_limit,
            StatusCode::PAYLOAD_TOO_LARGE,
            "body is larger than 512000 bytes",
        ),
    ];
    for (body, status, message) in cases {
        let reply = f.post(body.clone()).await;
        let shown = &body[..body.len().min(120)];
        assert_eq!(reply.status, status, "{shown}: {}", reply.body);
        assert!(reply.error().starts_with(message), "{shown}: {}", reply.body);
        assert_eq!(message_ids(&f.stored()), ["kept"], "{shown}");
    }

    // The same oversize body announced by Content-Length is refused before it is read.
    let big = vec![b' '; cartsense::core::wire::MAX_BODY_BYTES + 1];
    let reply = f
        .send(
            batch_request()
                .header("content-length", big.len())
                .body(Body::from(big))
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.error(), "body is larger than 512000 bytes");

    // Exactly at the limit is still fine.
    let mut at_limit = batch(&[track("limit")]).into_bytes();
    at_limit.resize(cartsense::core::wire::MAX_BODY_BYTES, b' ');
    assert_eq!(
        f.post(String::from_utf8(at_limit).unwrap()).await.status,
        StatusCode::OK
    );
    assert_eq!(message_ids(&f.stored()), ["kept", "limit"]);

    let not_utf8 = f
        .send(batch_request().body(Body::from(vec![b'{', 0xff, b'}'])).unwrap())
        .await;
    assert_eq!(not_utf8.status, StatusCode::BAD_REQUEST);
    assert_eq!(not_utf8.error(), "body is not valid UTF-8 (at byte 1)");
    assert_eq!(f.stored().len(), 2);
}

#[tokio::test]
async fn only_json_and_plain_text_bodies_are_accepted() {
    let f = fixture(Config::default());
    for content_type in [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "text/html",
    ] {
        let request = Request::post("/v1/batch")
            .header("content-type", content_type)
            .body(Body::from(batch(&[track("no")])))
            .unwrap();
        let reply = f.send(request).await;
        assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type}");
        assert!(reply.error().contains(content_type), "{}", reply.body);
    }
    assert!(f.stored().is_empty());

    // sendBeacon's text/plain, with the write key in the body; and no content type at all.
    let beacon = Request::post("/v1/batch")
        .header("content-type", "text/plain;charset=UTF-8")
        .body(Body::from(format!(
            r#"{{"batch":[{}],"writeKey":"wk_beacon","sentAt":"2026-01-01T00:00:00.000Z"}}"#,
            track("b1")
        )))
        .unwrap();
    assert_eq!(f.send(beacon).await.status, StatusCode::OK);
    let bare = Request::post("/v1/batch")
        .body(Body::from(batch(&[track("b2")])))
        .unwrap();
    assert_eq!(f.send(bare).await.status, StatusCode::OK);
    let rows = f.rows();
    assert_eq!((rows[0].0.as_str(), rows[0].1.as_str()), ("wk_beacon", "b1"));
    assert_eq!((rows[1].0.as_str(), rows[1].1.as_str()), ("", "b2"));
}

#[tokio::test]
async fn write_keys_come_from_basic_auth_or_the_body_and_can_be_restricted() {
    let f = fixture(Config {
        write_keys: vec!["wk_live".into(), "wk_test".into()],
        ..Config::default()
    });
    let with_auth = |auth: &str, body: String| {
        batch_request()
            .header("authorization", auth)
            .body(Body::from(body))
            .unwrap()
    };
    let refused: Vec<(Request<Body>, &str)> = vec![
        (
            batch_request().body(Body::from(batch(&[track("r1")]))).unwrap(),
            "a write key is required",
        ),
        (
            with_auth(&basic("wk_other"), batch(&[track("r2")])),
            "the write key is not accepted",
        ),
        (
            batch_request()
                .body(Body::from(format!(
                    r#"{{"batch":[{}],"writeKey":"nope"}}"#,
                    track("r3")
                )))
                .unwrap(),
            "the write key is not accepted",
        ),
        (
            with_auth("Bearer wk_live", batch(&[track("r4")])),
            "the Authorization header must be",
        ),
        (
            with_auth("Basic %%%", batch(&[track("r5")])),
            "the Authorization header must be",
        ),
        (
            batch_request()
                .body(Body::from(format!(
                    r#"{{"batch":[{}],"writeKey":["wk_live"]}}"#,
                    track("r6")
                )))
                .unwrap(),
            "body: writeKey must be a string",
        ),
    ];
    for (request, message) in refused {
        let reply = f.send(request).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
        assert!(reply.error().starts_with(message), "{}", reply.body);
    }
    assert!(f.stored().is_empty());

    assert_eq!(
        f.send(with_auth(&basic("wk_live"), batch(&[track("ok1")])))
            .await
            .status,
        StatusCode::OK
    );
    // `user:password` form: only the username is the key.
    let with_password = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("wk_test:ignored")
    );
    assert_eq!(
        f.send(with_auth(&with_password, batch(&[track("ok2")]))).await.status,
        StatusCode::OK
    );
    let in_body = format!(r#"{{"batch":[{}],"writeKey":"wk_test"}}"#, track("ok3"));
    assert_eq!(f.post(in_body).await.status, StatusCode::OK);
    // The header wins over the body.
    let both = format!(r#"{{"batch":[{}],"writeKey":"nope"}}"#, track("ok4"));
    assert_eq!(f.send(with_auth(&basic("wk_live"), both)).await.status, StatusCode::OK);
    let keys: Vec<(String, String)> = f.rows().into_iter().map(|r| (r.0, r.1)).collect();
    assert_eq!(
        keys,
        [
            ("wk_live", "ok1"),
            ("wk_test", "ok2"),
            ("wk_test", "ok3"),
            ("wk_live", "ok4")
        ]
        .map(|(k, m)| (k.to_owned(), m.to_owned()))
    );
}

#[tokio::test]
async fn without_a_restriction_any_key_or_none_is_accepted() {
    let f = fixture(Config::default());
    let request = batch_request()
        .header("authorization", "Bearer something-else")
        .body(Body::from(format!(r#"{{"batch":[{}],"writeKey":"k"}}"#, track("x"))))
        .unwrap();
    assert_eq!(f.send(request).await.status, StatusCode::OK);
    assert_eq!(f.rows()[0].0, "k");
}

#[tokio::test]
async fn cors_preflight_and_origin_checks() {
    let f = fixture(Config {
        allow_origins: vec!["https://shop.example".into()],
        ..Config::default()
    });
    let preflight = |origin: &str| {
        Request::builder()
            .method("OPTIONS")
            .uri("/v1/batch")
            .header("host", "collector.test:8080")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization, content-type")
            .body(Body::empty())
            .unwrap()
    };
    for origin in ["https://shop.example", "http://collector.test:8080"] {
        let reply = f.send(preflight(origin)).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{origin}");
        assert_eq!(reply.headers["access-control-allow-origin"], origin);
        assert_eq!(reply.headers["access-control-allow-methods"], "POST, OPTIONS");
        assert_eq!(
            reply.headers["access-control-allow-headers"],
            "Authorization, Content-Type"
        );
        assert_eq!(reply.headers["access-control-max-age"], "86400");
        assert_eq!(reply.headers["vary"], "Origin");
    }

    let reply = f.send(preflight("https://evil.example")).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(
        reply.error(),
        "origin https://evil.example is not allowed to send batches to this collector"
    );
    assert!(!reply.headers.contains_key("access-control-allow-origin"));

    // A POST from a refused origin stores nothing, however valid.
    let from = |origin: &str, body: String| batch_request().header("origin", origin).body(Body::from(body)).unwrap();
    let reply = f.send(from("https://evil.example", batch(&[track("evil")]))).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.error().contains("https://evil.example"));
    assert!(f.stored().is_empty());

    // An allowed origin can read successes and errors alike.
    let reply = f.send(from("https://shop.example", batch(&[track("shop")]))).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers["access-control-allow-origin"], "https://shop.example");
    let reply = f.send(from("https://shop.example", "{".into())).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.headers["access-control-allow-origin"], "https://shop.example");

    // Same origin (the page the collector serves itself) and non-browser clients.
    assert_eq!(
        f.send(from("http://collector.test:8080", batch(&[track("same")])))
            .await
            .status,
        StatusCode::OK
    );
    let reply = f.post(batch(&[track("curl")])).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(!reply.headers.contains_key("access-control-allow-origin"));
    assert_eq!(message_ids(&f.stored()), ["shop", "same", "curl"]);

    let any = fixture(Config {
        allow_origins: vec!["*".into()],
        ..Config::default()
    });
    let reply = any.send(preflight("https://anywhere.example")).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(reply.headers["access-control-allow-origin"], "https://anywhere.example");
}

#[tokio::test]
async fn batch_context_is_merged_into_items() {
    let f = fixture(Config::default());
    let body = r#"{"batch":[
        {"type":"track","event":"E","messageId":"c1","anonymousId":"a","context":{"page":{"path":"/p"},"droppedEvents":0}},
        {"type":"page","messageId":"c2","anonymousId":"a"},
        {"type":"page","messageId":"c3","anonymousId":"a","context":null}
    ],"context":{"droppedEvents":3,"dropReasons":{"queue_full":3}},"sentAt":"2026-01-01T00:00:00.000Z"}"#;
    assert_eq!(f.post(body).await.status, StatusCode::OK);
    let contexts: Vec<String> = f
        .stored()
        .iter()
        .map(|item| json::parse(item).unwrap().get("context").unwrap().to_json())
        .collect();
    assert_eq!(
        contexts,
        [
            r#"{"page":{"path":"/p"},"droppedEvents":0,"dropReasons":{"queue_full":3}}"#,
            r#"{"droppedEvents":3,"dropReasons":{"queue_full":3}}"#,
            r#"{"droppedEvents":3,"dropReasons":{"queue_full":3}}"#,
        ]
    );
}

#[tokio::test]
async fn export_is_ndjson_in_receive_order() {
    let f = fixture(Config::default());
    for ids in [["e3", "e1"], ["e2", "e0"]] {
        let items: Vec<String> = ids.iter().map(|id| track(id)).collect();
        assert_eq!(f.post(batch(&items)).await.status, StatusCode::OK);
    }
    let mut out = Vec::new();
    assert_eq!(Store::open_existing(&f.db).unwrap().export(&mut out).unwrap(), 4);
    let text = String::from_utf8(out).unwrap();
    assert!(text.ends_with('\n'));
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    assert_eq!(message_ids(&lines), ["e3", "e1", "e2", "e0"]);
    for line in &lines {
        let item = json::parse(line).unwrap();
        let received = item.get("receivedAt").and_then(Value::as_str).unwrap();
        assert!(time::parse_iso8601(received).is_some(), "{line}");
    }
}

#[tokio::test]
async fn health_unknown_paths_and_methods() {
    let f = fixture(Config::default());
    let reply = f.send(Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!((reply.status, reply.body.as_str()), (StatusCode::OK, "ok"));
    let reply = f.send(Request::get("/nope").body(Body::empty()).unwrap()).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.error(), "not found");
    let reply = f.send(Request::get("/v1/batch").body(Body::empty()).unwrap()).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.headers["allow"], "POST, OPTIONS");
    assert!(reply.error().contains("POST"));
}

#[tokio::test]
async fn static_files_have_exact_mime_types_and_no_cache() {
    let www = tempfile::tempdir().unwrap();
    std::fs::create_dir(www.path().join("pkg")).unwrap();
    let files = [
        ("index.html", "<!doctype html><title>demo</title>", "text/html"),
        ("pkg/cartsense.js", "export {};", "text/javascript"),
        ("pkg/cartsense_bg.wasm", "\0asm", "application/wasm"),
        ("catalog.json", "{}", "application/json"),
        ("model.bin", "\x01\x02", "application/octet-stream"),
    ];
    for (path, content, _) in files {
        std::fs::write(www.path().join(path), content).unwrap();
    }
    let f = fixture(Config {
        www: Some(www.path().to_owned()),
        ..Config::default()
    });
    for (path, content, mime) in files {
        let reply = f
            .send(Request::get(format!("/{path}")).body(Body::empty()).unwrap())
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(reply.body, content, "{path}");
        let content_type = reply.headers["content-type"].to_str().unwrap();
        assert!(content_type.starts_with(mime), "{path}: {content_type}");
        assert_eq!(reply.headers["cache-control"], "no-cache", "{path}");
    }
    let index = f.send(Request::get("/").body(Body::empty()).unwrap()).await;
    assert_eq!(index.status, StatusCode::OK);
    assert!(index.body.contains("demo"));
    assert!(index.headers["content-type"].to_str().unwrap().starts_with("text/html"));

    let missing = f.send(Request::get("/missing.js").body(Body::empty()).unwrap()).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(!missing.headers.contains_key("cache-control"));
    // The API routes still win over the static directory.
    let health = f.send(Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!(health.body, "ok");
}

#[tokio::test]
async fn same_origin_follows_the_request_scheme_and_default_ports() {
    let f = fixture(Config {
        allow_origins: vec!["HTTPS://Shop.Example:443".into()],
        ..Config::default()
    });
    let request = |origin: &str, host: &str, forwarded: &[(&str, &str)], id: &str| {
        let mut builder = Request::post("/v1/batch")
            .header("host", host)
            .header("content-type", "application/json")
            .header("origin", origin);
        for (name, value) in forwarded {
            builder = builder.header(*name, *value);
        }
        builder.body(Body::from(batch(&[track(id)]))).unwrap()
    };
    let allowed: Vec<(Request<Body>, &str)> = vec![
        // An https page on the collector's own host, behind a TLS-terminating proxy.
        (
            request(
                "https://collector.test",
                "collector.test",
                &[("x-forwarded-proto", "https")],
                "xfp",
            ),
            "https://collector.test",
        ),
        (
            request(
                "https://collector.test",
                "collector.test:443",
                &[("forwarded", "for=192.0.2.1;proto=https;host=collector.test")],
                "fwd",
            ),
            "https://collector.test",
        ),
        // Plain HTTP, the default port written out by one side only.
        (
            request("http://collector.test", "collector.test:80", &[], "port80"),
            "http://collector.test",
        ),
        // A configured origin matches whatever its case and default port.
        (
            request("https://shop.example", "collector.test", &[], "listed"),
            "https://shop.example",
        ),
    ];
    for (request, origin) in allowed {
        let reply = f.send(request).await;
        assert_eq!(reply.status, StatusCode::OK, "{origin}: {}", reply.body);
        assert_eq!(reply.headers["access-control-allow-origin"], origin);
        assert_eq!(reply.headers["access-control-expose-headers"], "Retry-After");
    }

    let refused: Vec<(Request<Body>, &str)> = vec![
        // Same host, but an https page talking to a plain-HTTP collector: another origin.
        (
            request(
                "https://collector.test:8080",
                "collector.test:8080",
                &[],
                "https-on-http",
            ),
            "https://collector.test:8080",
        ),
        // Same host, an http page while the proxy says the request came over https.
        (
            request(
                "http://collector.test",
                "collector.test",
                &[("x-forwarded-proto", "https")],
                "http-on-https",
            ),
            "http://collector.test",
        ),
        // Another port is another origin.
        (
            request("http://collector.test:8081", "collector.test:8080", &[], "port"),
            "http://collector.test:8081",
        ),
        (
            request("http://shop.example", "collector.test", &[], "scheme"),
            "http://shop.example",
        ),
    ];
    for (request, origin) in refused {
        let reply = f.send(request).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{origin}: {}", reply.body);
        assert!(reply.error().contains(origin), "{}", reply.body);
        assert!(!reply.headers.contains_key("access-control-allow-origin"));
    }
    assert_eq!(message_ids(&f.stored()), ["xfp", "fwd", "port80", "listed"]);
}

#[tokio::test]
async fn a_stalled_body_gets_408_and_stores_nothing() {
    let f = fixture(Config {
        body_timeout: std::time::Duration::from_millis(200),
        ..Config::default()
    });
    // Half a batch, then nothing: the stream never ends.
    let body = batch(&[track("stalled")]);
    let head = axum::body::Bytes::copy_from_slice(&body.as_bytes()[..body.len() / 2]);
    use futures_util::StreamExt as _;
    let chunks = futures_util::stream::iter([Ok::<_, std::io::Error>(head)]).chain(futures_util::stream::pending());
    let request = batch_request()
        .header("content-length", body.len())
        .body(Body::from_stream(chunks))
        .unwrap();
    let started = std::time::Instant::now();
    let reply = tokio::time::timeout(std::time::Duration::from_secs(10), f.send(request))
        .await
        .expect("the collector must give up on a stalled body");
    assert!(started.elapsed() >= std::time::Duration::from_millis(200));
    assert_eq!(reply.status, StatusCode::REQUEST_TIMEOUT, "{}", reply.body);
    assert_eq!(
        reply.error(),
        "the body did not arrive within 0.2 s; nothing was stored"
    );
    assert_eq!(reply.headers["connection"], "close");
    assert!(f.stored().is_empty());
    // A body that arrives in time is unaffected.
    assert_eq!(f.post(batch(&[track("prompt")])).await.status, StatusCode::OK);
    assert_eq!(message_ids(&f.stored()), ["prompt"]);
}

#[tokio::test]
async fn a_busy_database_gets_503_with_retry_after_and_the_retry_is_stored_whole() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("collector.db");
    let store = Store::open(&db).unwrap();
    store.set_busy_timeout(std::time::Duration::from_millis(50)).unwrap();
    let f = Fixture {
        router: server::router(
            store,
            &Config {
                allow_origins: vec!["https://shop.example".into()],
                ..Config::default()
            },
        ),
        _dir: dir,
        db,
    };
    assert_eq!(f.post(batch(&[track("before")])).await.status, StatusCode::OK);

    // Another process (an export, a backup, sqlite3 by hand) holds the write lock.
    let other = rusqlite::Connection::open(&f.db).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let body = batch(&[track("b1"), track("b2"), track("b3")]);
    let request = || {
        batch_request()
            .header("origin", "https://shop.example")
            .body(Body::from(body.clone()))
            .unwrap()
    };
    let reply = f.send(request()).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{}", reply.body);
    assert_eq!(reply.headers["retry-after"], "2");
    // A page on another origin can read the Retry-After it is asked to honour.
    assert_eq!(reply.headers["access-control-expose-headers"], "Retry-After");
    assert!(reply.error().starts_with("the database is busy"), "{}", reply.body);
    other.execute_batch("ROLLBACK").unwrap();
    assert_eq!(message_ids(&f.stored()), ["before"]);

    // The tracker's retry of the same body is stored whole.
    assert_eq!(f.send(request()).await.status, StatusCode::OK);
    assert_eq!(message_ids(&f.stored()), ["before", "b1", "b2", "b3"]);
}

#[tokio::test]
async fn a_storage_failure_midway_stores_nothing_of_the_batch() {
    let f = fixture(Config::default());
    assert_eq!(f.post(batch(&[track("kept")])).await.status, StatusCode::OK);
    // The database refuses the second row of the next batch, after the first was written.
    rusqlite::Connection::open(&f.db)
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER fail_on_boom BEFORE INSERT ON items WHEN NEW.message_id = 'boom'
             BEGIN SELECT RAISE(ABORT, 'simulated storage failure'); END;",
        )
        .unwrap();
    let reply = f.post(batch(&[track("first"), track("boom"), track("last")])).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", reply.body);
    assert!(!reply.headers.contains_key("retry-after"));
    assert_eq!(
        reply.error(),
        "the batch could not be stored; nothing was stored, send it again"
    );
    assert_eq!(message_ids(&f.stored()), ["kept"]);
}
