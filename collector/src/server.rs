//! The HTTP side: the axum router and its handlers (`POST /v1/batch`, the CORS preflight,
//! `/healthz`, static files), origin and write-key checks, and running the server with a
//! graceful shutdown.
//!
//! What a valid item is comes from `cartsense::core::wire`, and items are parsed and written
//! with `cartsense::core::json`, so the collector and the tracker share one definition of the
//! wire format. Every error response is `{"error": "<message>"}`, and a request that gets one
//! stores nothing: all checks run before the one transaction that stores a batch.
//!
//! Must not touch: SQL (that is `store`), argument parsing (that is `cli`).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use cartsense::core::json::{self, Value};
use cartsense::core::{time, wire};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use tokio::net::TcpListener;
use tower_http::services::ServeDir;

use crate::cli::{DEFAULT_BODY_TIMEOUT, ServeOptions};
use crate::store::{NewItem, Store};

/// How long a shutdown waits for in-flight requests before the process exits anyway; a
/// client that stalls mid-upload must not keep the collector alive forever.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// The `Retry-After` (seconds) sent with a 503 when the database is busy: the lock holder is
/// usually an `export` or a checkpoint, gone within a second or two.
const BUSY_RETRY_AFTER_SECONDS: &str = "2";

/// What the router needs besides the store.
#[derive(Clone, Debug)]
pub struct Config {
    /// `*` or exact origins (`https://shop.example`) whose pages may post batches.
    pub allow_origins: Vec<String>,
    /// When non-empty, the only write keys accepted.
    pub write_keys: Vec<String>,
    /// Serve the static files in this directory at `/`.
    pub www: Option<PathBuf>,
    /// Log one line per request to stderr.
    pub verbose: bool,
    /// A batch whose body has not fully arrived this long after the handler started reading
    /// it gets a 408: a stalled client must not hold a connection and a task forever.
    pub body_timeout: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            allow_origins: Vec::new(),
            write_keys: Vec::new(),
            www: None,
            verbose: false,
            body_timeout: DEFAULT_BODY_TIMEOUT,
        }
    }
}

struct App {
    // A std Mutex, locked only inside `spawn_blocking`: SQLite calls block (fsync), so they
    // must not run on the async workers, and one connection serialises the writes anyway.
    store: Mutex<Store>,
    any_origin: bool,
    /// Normalised with [`normalize_origin`].
    allow_origins: Vec<String>,
    write_keys: Vec<String>,
    body_timeout: Duration,
}

type SharedApp = Arc<App>;

/// Builds the collector's router around an open store.
pub fn router(store: Store, config: &Config) -> Router {
    let app = Arc::new(App {
        store: Mutex::new(store),
        any_origin: config.allow_origins.iter().any(|o| o == "*"),
        allow_origins: config
            .allow_origins
            .iter()
            .filter(|o| *o != "*")
            .map(|o| normalize_origin(o))
            .collect(),
        write_keys: config.write_keys.clone(),
        body_timeout: config.body_timeout,
    });
    let mut router = Router::new()
        .route(
            "/v1/batch",
            post(post_batch).options(preflight).fallback(batch_method_not_allowed),
        )
        .route("/healthz", get(healthz))
        .with_state(app);
    router = match &config.www {
        Some(dir) => {
            let files = ServeDir::new(dir)
                .append_index_html_on_directories(true)
                .not_found_service(get(not_found).fallback(not_found));
            router.fallback_service(
                Router::new()
                    .fallback_service(files)
                    .layer(middleware::from_fn(static_headers)),
            )
        }
        None => router.fallback(not_found),
    };
    if config.verbose {
        router = router.layer(middleware::from_fn(log_request));
    }
    router
}

/// Runs `serve` until SIGINT or SIGTERM: opens the store, binds, prints the listening line,
/// serves, and on a signal stops accepting and lets in-flight requests finish.
pub async fn run(options: ServeOptions) -> Result<(), String> {
    if let Some(www) = &options.www
        && !www.is_dir()
    {
        return Err(format!("--www {}: not a directory", www.display()));
    }
    let store = Store::open(&options.db).map_err(|e| e.to_string())?;
    // Register the handlers before announcing the address: a signal sent the moment a
    // supervisor sees the listening line must reach the graceful path, not kill the process.
    let signals = Signals::register().map_err(|e| format!("cannot install signal handlers: {e}"))?;
    let listener = TcpListener::bind(options.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", options.addr))?;
    let local: SocketAddr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    let config = Config {
        allow_origins: options.allow_origins,
        write_keys: options.write_keys,
        www: options.www,
        verbose: options.verbose,
        body_timeout: options.body_timeout,
    };
    let app = router(store, &config);
    println!("cartsense-collector listening on http://{local}/");
    serve(listener, app, signals.wait()).await
}

/// Serves until `shutdown` resolves, then drains in-flight requests (bounded by
/// [`SHUTDOWN_GRACE`]).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = &'static str> + Send + 'static,
) -> Result<(), String> {
    let shutdown = async move {
        let signal = shutdown.await;
        eprintln!("cartsense-collector: {signal} received, shutting down: finishing in-flight requests");
        // A plain thread, so the deadline holds even if the runtime is wedged.
        std::thread::spawn(|| {
            std::thread::sleep(SHUTDOWN_GRACE);
            eprintln!(
                "cartsense-collector: in-flight requests still open after {}s, exiting; \
                 their batches were not acknowledged",
                SHUTDOWN_GRACE.as_secs()
            );
            std::process::exit(1);
        });
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| format!("server failed: {e}"))?;
    eprintln!("cartsense-collector: stopped");
    Ok(())
}

struct Signals {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

impl Signals {
    fn register() -> io::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
        })
    }

    async fn wait(mut self) -> &'static str {
        tokio::select! {
            _ = self.terminate.recv() => "SIGTERM",
            _ = self.interrupt.recv() => "SIGINT",
        }
    }
}

/// An error response: a status and the message for `{"error": ...}`.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    message: String,
    /// `Retry-After` in seconds, for an error the same request can get past later.
    retry_after: Option<&'static str>,
    /// Send `Connection: close`: the rest of the request was never read, so the connection
    /// cannot carry another one.
    close_connection: bool,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            retry_after: None,
            close_connection: false,
        }
    }

    fn retry_after(self, seconds: &'static str) -> ApiError {
        ApiError {
            retry_after: Some(seconds),
            ..self
        }
    }

    fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = String::from("{\"error\":");
        json::write_string(&mut body, &self.message);
        body.push('}');
        let mut response = json_response(self.status, body);
        let headers = response.headers_mut();
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static(seconds));
        }
        if self.close_connection {
            headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

fn json_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn healthz() -> &'static str {
    "ok"
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not found")
}

async fn batch_method_not_allowed() -> Response {
    let mut response =
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "/v1/batch accepts POST (and OPTIONS)").into_response();
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST, OPTIONS"));
    response
}

/// The outcome of checking a request's `Origin` header.
enum OriginCheck {
    /// No `Origin`: not a browser cross-origin request (curl, a server, sendBeacon same-origin).
    Absent,
    /// Allowed; the value is echoed in `Access-Control-Allow-Origin`.
    Allowed(HeaderValue),
    Refused(String),
}

impl App {
    fn check_origin(&self, headers: &HeaderMap) -> OriginCheck {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return OriginCheck::Absent;
        };
        let Ok(text) = origin.to_str() else {
            return OriginCheck::Refused(String::from_utf8_lossy(origin.as_bytes()).into_owned());
        };
        let origin_key = normalize_origin(text);
        let listed = self.any_origin || self.allow_origins.contains(&origin_key);
        if listed || is_same_origin(&origin_key, headers) {
            OriginCheck::Allowed(origin.clone())
        } else {
            OriginCheck::Refused(text.to_owned())
        }
    }

    /// The write key of a request: the Basic-auth username, else the body's `writeKey`.
    /// With `--write-key` configured only those are accepted; `''` stands for "no key".
    fn authorize(&self, header_key: Result<Option<String>, &'static str>, body: &Value) -> Result<String, ApiError> {
        // A malformed key is an authentication failure, not a format error: the client cannot
        // be identified, and a 400 would make the tracker drop the batch as bad data.
        let body_key = wire::write_key(body)
            .map_err(|e| ApiError::new(StatusCode::UNAUTHORIZED, e.message()))?
            .map(str::to_owned);
        let restricted = !self.write_keys.is_empty();
        let key = match header_key {
            Ok(Some(key)) => Some(key),
            Ok(None) => body_key,
            // Without a restriction a header we cannot read is no reason to lose the batch.
            Err(problem) if restricted => return Err(ApiError::new(StatusCode::UNAUTHORIZED, problem)),
            Err(_) => body_key,
        };
        if !restricted {
            return Ok(key.unwrap_or_default());
        }
        match key {
            None => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "a write key is required: send it as the HTTP Basic auth username or as writeKey in the body",
            )),
            Some(key) if self.write_keys.contains(&key) => Ok(key),
            Some(_) => Err(ApiError::new(StatusCode::UNAUTHORIZED, "the write key is not accepted")),
        }
    }
}

/// An origin in the one form used for comparing: lower case (browsers serialise origins in
/// lower case, a configured one may not be) and without the scheme's default port
/// (`https://shop.example:443` is `https://shop.example`).
fn normalize_origin(origin: &str) -> String {
    let origin = origin.to_ascii_lowercase();
    let default_port = match origin.split_once("://") {
        Some(("http", _)) => ":80",
        Some(("https", _)) => ":443",
        _ => return origin,
    };
    match origin.strip_suffix(default_port) {
        Some(without_port) => without_port.to_owned(),
        None => origin,
    }
}

/// The scheme the client used to reach the collector. The collector itself speaks plain
/// HTTP; behind a TLS-terminating proxy the proxy says `https` in `X-Forwarded-Proto` (or the
/// standard `Forwarded: proto=https`).
fn request_scheme(headers: &HeaderMap) -> String {
    let forwarded_proto = headers
        .get(header::FORWARDED)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            // The first hop's element: the proxy nearest the client appends first.
            let first = v.split(',').next()?;
            first.split(';').find_map(|pair| {
                let (name, value) = pair.trim().split_once('=')?;
                name.eq_ignore_ascii_case("proto")
                    .then(|| value.trim_matches('"').to_owned())
            })
        });
    let proto = forwarded_proto.or_else(|| {
        headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().to_owned())
    });
    match proto {
        Some(proto) if !proto.is_empty() => proto.to_ascii_lowercase(),
        _ => String::from("http"),
    }
}

/// Whether `origin` (normalised) is the collector's own: the request's scheme and `Host`, e.g.
/// the demo page it serves, also when a proxy serves it as `https`. A page of the same host
/// under another scheme is another origin.
fn is_same_origin(origin: &str, headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    origin == normalize_origin(&format!("{}://{host}", request_scheme(headers)))
}

fn refused(origin: &str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        format!("origin {origin} is not allowed to send batches to this collector"),
    )
}

fn add_cors_headers(response: &mut Response, check: &OriginCheck, preflight: bool) {
    let headers = response.headers_mut();
    // Responses differ by Origin, so shared caches must key on it.
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    if let OriginCheck::Allowed(origin) = check {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        if preflight {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("POST, OPTIONS"),
            );
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("Authorization, Content-Type"),
            );
            headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
        } else {
            // Not a CORS-safelisted header: without this a page on another origin reads
            // `null` and cannot honour the wait a 503 asks for.
            headers.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static("Retry-After"),
            );
        }
    }
}

async fn preflight(State(app): State<SharedApp>, headers: HeaderMap) -> Response {
    let check = app.check_origin(&headers);
    let mut response = match &check {
        OriginCheck::Refused(origin) => refused(origin).into_response(),
        OriginCheck::Absent | OriginCheck::Allowed(_) => {
            let mut response = StatusCode::NO_CONTENT.into_response();
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST, OPTIONS"));
            response
        }
    };
    add_cors_headers(&mut response, &check, true);
    response
}

async fn post_batch(State(app): State<SharedApp>, request: Request) -> Response {
    let check = app.check_origin(request.headers());
    let mut response = match &check {
        OriginCheck::Refused(origin) => refused(origin).into_response(),
        OriginCheck::Absent | OriginCheck::Allowed(_) => match accept_batch(&app, request).await {
            Ok(()) => json_response(StatusCode::OK, String::from(r#"{"success":true}"#)),
            Err(error) => error.into_response(),
        },
    };
    // Also on errors, so that a page can read why its batch was refused.
    add_cors_headers(&mut response, &check, false);
    response
}

/// Checks a batch request completely, then stores it in one transaction.
async fn accept_batch(app: &SharedApp, request: Request) -> Result<(), ApiError> {
    let (parts, body) = request.into_parts();
    check_content_type(&parts.headers)?;
    let header_key = basic_auth_key(&parts.headers);
    let bytes = read_body(&parts.headers, body, app.body_timeout).await?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|e| ApiError::bad_request(format!("body is not valid UTF-8 (at byte {})", e.valid_up_to())))?;
    let body = json::parse(text).map_err(|e| ApiError::bad_request(format!("body is not valid JSON: {e}")))?;
    // Authentication before validation, so an unknown client learns nothing about the format.
    let write_key = app.authorize(header_key, &body)?;
    let batch = wire::validate_batch(&body).map_err(|e| ApiError::bad_request(e.message()))?;
    let received_at = time::iso8601(now_ms());
    let rows: Vec<NewItem> = batch
        .items
        .iter()
        .map(|(info, item)| prepare_item(info, item, batch.context, &received_at))
        .collect();

    let app = Arc::clone(app);
    // If the client goes away meanwhile, the blocking task still finishes and commits; the
    // client saw no 200, retries, and the retry is acknowledged as a duplicate.
    let stored = tokio::task::spawn_blocking(move || {
        // A panic while holding the lock cannot leave a half-written batch behind (the
        // transaction rolls back on drop), so a poisoned lock is safe to keep using.
        let mut store = app.store.lock().unwrap_or_else(PoisonError::into_inner);
        store.insert_batch(&write_key, &received_at, &rows)
    })
    .await;
    // Every failure here left nothing of the batch stored (one transaction), so the client
    // may send it again as it is.
    match stored {
        Ok(Ok(_inserted)) => Ok(()),
        Ok(Err(e)) if e.is_busy() => {
            eprintln!("cartsense-collector: {e}; answered 503");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the database is busy; nothing was stored, send the batch again",
            )
            .retry_after(BUSY_RETRY_AFTER_SECONDS))
        }
        Ok(Err(e)) => Err(storage_failed(&e)),
        Err(e) => Err(storage_failed(&format!("storing a batch failed: {e}"))),
    }
}

/// A 500 for a batch the store could not take; the details go to the log, not the client.
fn storage_failed(cause: &dyn std::fmt::Display) -> ApiError {
    eprintln!("cartsense-collector: {cause}");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "the batch could not be stored; nothing was stored, send it again",
    )
}

/// `application/json`, `text/plain` (what `navigator.sendBeacon` sends for a string, to avoid
/// a preflight), or none at all; any parameters such as `charset` are ignored.
fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let Ok(text) = value.to_str() else {
        return Err(unsupported(&String::from_utf8_lossy(value.as_bytes())));
    };
    let media_type = text.split(';').next().unwrap_or("").trim();
    if text.trim().is_empty() {
        return Ok(());
    }
    if media_type.eq_ignore_ascii_case("application/json") || media_type.eq_ignore_ascii_case("text/plain") {
        Ok(())
    } else {
        Err(unsupported(text))
    }
}

fn unsupported(content_type: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        format!("Content-Type {content_type} is not accepted: send application/json or text/plain"),
    )
}

/// The write key from `Authorization: Basic base64("KEY:")`: `Ok(None)` without the header,
/// `Err` when it is there but not readable as Basic auth.
fn basic_auth_key(headers: &HeaderMap) -> Result<Option<String>, &'static str> {
    const PROBLEM: &str = "the Authorization header must be HTTP Basic auth with the write key as the username";
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| PROBLEM)?.trim();
    let (scheme, encoded) = text.split_once(' ').ok_or(PROBLEM)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(PROBLEM);
    }
    let encoded = encoded.trim();
    // Some clients leave out the padding.
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(encoded))
        .map_err(|_| PROBLEM)?;
    let credentials = String::from_utf8(decoded).map_err(|_| PROBLEM)?;
    let user = credentials
        .split_once(':')
        .map_or(credentials.as_str(), |(user, _)| user);
    Ok((!user.is_empty()).then(|| user.to_owned()))
}

async fn read_body(headers: &HeaderMap, body: Body, timeout: Duration) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("body is larger than {} bytes", wire::MAX_BODY_BYTES),
        )
    };
    // Refuse a declared oversize body before reading any of it.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > wire::MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    // A deadline for the whole body, not an idle timeout between chunks: a client trickling
    // a byte now and then would otherwise hold the request open indefinitely.
    let collected = tokio::time::timeout(timeout, Limited::new(body, wire::MAX_BODY_BYTES).collect()).await;
    match collected {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<LengthLimitError>() => Err(too_large()),
        Ok(Err(e)) => Err(ApiError::bad_request(format!("could not read the body: {e}"))),
        Err(_elapsed) => Err(ApiError {
            close_connection: true,
            ..ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the body did not arrive within {} s; nothing was stored",
                    timeout.as_secs_f64()
                ),
            )
        }),
    }
}

fn now_ms() -> f64 {
    // A clock before 1970 is a broken host; storing the epoch is better than refusing data.
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_millis() as f64)
}

/// One item as it will be stored: as received, with the batch `context` members it lacks
/// and the server's `receivedAt`.
fn prepare_item(info: &wire::ItemInfo, item: &Value, batch_context: &[(String, Value)], received_at: &str) -> NewItem {
    let mut stored = item.clone();
    merge_context(&mut stored, batch_context);
    stored.set("receivedAt", Value::string(received_at));
    NewItem {
        message_id: info.message_id.to_owned(),
        kind: info.kind.to_owned(),
        event: info.event.filter(|_| info.kind == "track").map(str::to_owned),
        json: stored.to_json(),
    }
}

/// Segment's semantics: batch-level `context` members apply to every item that does not
/// set the same key itself (a shallow merge; the item wins).
fn merge_context(item: &mut Value, batch_context: &[(String, Value)]) {
    if batch_context.is_empty() {
        return;
    }
    if !matches!(item.get("context"), Some(Value::Object(_))) {
        item.set("context", Value::Object(Vec::new()));
    }
    let Value::Object(members) = item else {
        return;
    };
    let Some((_, Value::Object(context))) = members.iter_mut().find(|(key, _)| key == "context") else {
        return;
    };
    for (key, value) in batch_context {
        if !context.iter().any(|(existing, _)| existing == key) {
            context.push((key.clone(), value.clone()));
        }
    }
}

/// MIME types that must be exact for the tracker's files; `ServeDir` guesses the rest.
fn mime_override(path: &str) -> Option<&'static str> {
    if path.ends_with('/') {
        // A directory: ServeDir answers with its index.html.
        return Some("text/html; charset=utf-8");
    }
    let extension = path.rsplit_once('.').map(|(_, ext)| ext)?;
    Some(match extension.to_ascii_lowercase().as_str() {
        "wasm" => "application/wasm",
        "js" | "mjs" => "text/javascript",
        "json" | "map" => "application/json",
        "bin" => "application/octet-stream",
        "html" => "text/html; charset=utf-8",
        "css" => "text/css",
        _ => return None,
    })
}

/// Static files are revalidated on every load (`no-cache`), so a rebuilt tracker is picked
/// up at once during development, and their MIME types are the ones browsers require
/// (`instantiateStreaming` rejects wasm served as anything but `application/wasm`).
async fn static_headers(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let status = response.status();
    if status.is_success() || status == StatusCode::NOT_MODIFIED {
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        if status.is_success()
            && let Some(mime) = mime_override(&path)
        {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
        }
    }
    response
}

/// `--verbose`: one line per request.
async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method: Method = request.method().clone();
    let path = request.uri().path().to_owned();
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .map(|o| String::from_utf8_lossy(o.as_bytes()).into_owned());
    let response = next.run(request).await;
    eprintln!(
        "{method} {path} {} {}ms{}",
        response.status().as_u16(),
        started.elapsed().as_millis(),
        origin.map(|o| format!(" origin={o}")).unwrap_or_default()
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn basic_auth_takes_the_username() {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let key = |value: &str| basic_auth_key(&headers(&[("authorization", value)]));
        assert_eq!(key(&format!("Basic {}", b64("wk_1:"))), Ok(Some("wk_1".into())));
        assert_eq!(key(&format!("basic {}", b64("wk_1:secret"))), Ok(Some("wk_1".into())));
        assert_eq!(key(&format!("Basic {}", b64("wk_1"))), Ok(Some("wk_1".into())));
        assert_eq!(key("Basic d2tfMTo"), Ok(Some("wk_1".into())), "unpadded");
        assert_eq!(key(&format!("Basic {}", b64(":"))), Ok(None));
        assert!(key("Bearer abc").is_err());
        assert!(key("Basic !!!").is_err());
        assert!(key("Basic").is_err());
        assert_eq!(basic_auth_key(&HeaderMap::new()), Ok(None));
    }

    #[test]
    fn content_types() {
        let check = |value: &str| check_content_type(&headers(&[("content-type", value)])).map_err(|e| e.status);
        assert_eq!(check_content_type(&HeaderMap::new()).map_err(|e| e.status), Ok(()));
        for ok in [
            "application/json",
            "text/plain;charset=UTF-8",
            "Application/JSON; charset=utf-8",
            "text/plain",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        for bad in [
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "text/html",
            ";x",
        ] {
            assert_eq!(check(bad), Err(StatusCode::UNSUPPORTED_MEDIA_TYPE), "{bad}");
        }
        let mut opaque = HeaderMap::new();
        opaque.insert("content-type", HeaderValue::from_bytes(b"text/plain\xff").unwrap());
        assert_eq!(
            check_content_type(&opaque).map_err(|e| e.status),
            Err(StatusCode::UNSUPPORTED_MEDIA_TYPE)
        );
    }

    #[test]
    fn context_merge_keeps_item_members() {
        let batch = json::parse(r#"{"droppedEvents":2,"library":{"name":"batch"}}"#).unwrap();
        let batch = batch.as_object().unwrap();
        let mut item = json::parse(r#"{"type":"page","context":{"library":{"name":"item"}}}"#).unwrap();
        merge_context(&mut item, batch);
        assert_eq!(
            item.to_json(),
            r#"{"type":"page","context":{"library":{"name":"item"},"droppedEvents":2}}"#
        );
        for without in [r#"{"type":"page"}"#, r#"{"type":"page","context":null}"#] {
            let mut item = json::parse(without).unwrap();
            merge_context(&mut item, batch);
            assert_eq!(
                item.get("context").unwrap().to_json(),
                r#"{"droppedEvents":2,"library":{"name":"batch"}}"#
            );
        }
        let mut untouched = json::parse(r#"{"type":"page"}"#).unwrap();
        merge_context(&mut untouched, &[]);
        assert_eq!(untouched.to_json(), r#"{"type":"page"}"#);
    }

    #[test]
    fn mime_overrides() {
        assert_eq!(mime_override("/pkg/cartsense_bg.wasm"), Some("application/wasm"));
        assert_eq!(mime_override("/pkg/cartsense.js"), Some("text/javascript"));
        assert_eq!(mime_override("/model.BIN"), Some("application/octet-stream"));
        assert_eq!(mime_override("/a.png"), None);
        assert_eq!(mime_override("/"), Some("text/html; charset=utf-8"));
        assert_eq!(mime_override("/pkg"), None);
    }
}
