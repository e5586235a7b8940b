//! Process-level tests: the built binary, real sockets, real signals and exit codes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_cartsense-collector");
const TIMEOUT: Duration = Duration::from_secs(20);

struct Server {
    child: Child,
    addr: SocketAddr,
    /// Whatever the server printed on stdout after the listening line.
    more_stdout: Option<JoinHandle<Vec<String>>>,
}

impl Server {
    fn start(db: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(BIN)
            .args(["serve", "--addr", "127.0.0.1:0", "--db"])
            .arg(db)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let more_stdout = std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next().map(|line| line.unwrap_or_default());
            let _ = tx.send(first);
            lines.map_while(Result::ok).collect()
        });
        let line = match rx.recv_timeout(TIMEOUT) {
            Ok(Some(line)) => line,
            other => {
                let _ = child.kill();
                panic!("no listening line: {other:?}");
            }
        };
        let addr = line
            .strip_prefix("cartsense-collector listening on http://")
            .and_then(|rest| rest.strip_suffix('/'))
            .unwrap_or_else(|| panic!("unexpected line {line:?}"))
            .parse()
            .unwrap();
        Server {
            child,
            addr,
            more_stdout: Some(more_stdout),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn signal(&self, signal: libc::c_int) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: kill(2) on the pid of a child this test spawned and has not reaped.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    }

    fn wait(mut self) -> (ExitStatus, String) {
        let status = wait_with_timeout(&mut self.child);
        let mut stderr = String::new();
        self.child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
        let more_stdout = self.more_stdout.take().unwrap().join().unwrap();
        // The listening line is the only thing serve prints on stdout.
        assert!(more_stdout.is_empty(), "unexpected stdout: {more_stdout:?}");
        (status, stderr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Only for a failing test: never leave a server behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_with_timeout(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "process did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).stdin(Stdio::null()).output().unwrap()
}

fn export(db: &Path) -> Vec<String> {
    let output = Command::new(BIN).args(["export", "--db"]).arg(db).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn track(id: &str) -> String {
    format!(
        r#"{{"batch":[{{"type":"track","event":"E","messageId":"{id}","anonymousId":"a"}}],"sentAt":"2026-01-01T00:00:00.000Z"}}"#
    )
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(TIMEOUT))
        .build()
        .new_agent()
}

fn post(agent: &ureq::Agent, server: &Server, content_type: &str, body: &str) -> (u16, String) {
    let response = agent
        .post(&server.url("/v1/batch"))
        .header("content-type", content_type)
        .send(body)
        .unwrap();
    let status = response.status().as_u16();
    (status, response.into_body().read_to_string().unwrap())
}

#[test]
fn serves_real_http_keeps_going_after_bad_input_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let server = Server::start(&db, &[]);
    let agent = agent();

    let health = agent.get(&server.url("/healthz")).call().unwrap();
    assert_eq!(health.into_body().read_to_string().unwrap(), "ok");
    assert_eq!(
        post(&agent, &server, "application/json", &track("p1")),
        (200, r#"{"success":true}"#.into())
    );
    let (status, body) = post(&agent, &server, "application/json", "{not json");
    assert_eq!(status, 400);
    assert!(body.starts_with(r#"{"error":"body is not valid JSON"#), "{body}");
    assert_eq!(post(&agent, &server, "application/xml", &track("x")).0, 415);
    assert_eq!(post(&agent, &server, "text/plain;charset=UTF-8", &track("p2")).0, 200);
    // The export can run while the server is live.
    assert_eq!(export(&db).len(), 2);

    server.signal(libc::SIGTERM);
    let (status, stderr) = server.wait();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("SIGTERM received, shutting down"), "{stderr}");
    assert!(
        !stderr.contains("/v1/batch"),
        "requests are not logged by default: {stderr}"
    );
    let items = export(&db);
    assert_eq!(items.len(), 2);
    assert!(items[0].contains(r#""messageId":"p1""#) && items[1].contains(r#""messageId":"p2""#));
}

#[test]
fn sigterm_lets_an_in_flight_request_finish_and_commit() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let server = Server::start(&db, &[]);

    let body = track("in-flight");
    let (head, tail) = body.split_at(body.len() / 2);
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    write!(
        stream,
        "POST /v1/batch HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{head}",
        server.addr,
        body.len()
    )
    .unwrap();
    stream.flush().unwrap();
    // Let the server parse the headers and start the handler, which now waits for the body.
    std::thread::sleep(Duration::from_millis(300));

    server.signal(libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(300));
    let mut child = server;
    assert!(
        child.child.try_wait().unwrap().is_none(),
        "exited with a request in flight"
    );
    assert!(
        TcpStream::connect_timeout(&child.addr, Duration::from_secs(2)).is_err(),
        "still accepting connections after SIGTERM"
    );

    stream.write_all(tail.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with(r#"{"success":true}"#), "{response}");

    let (status, stderr) = child.wait();
    assert_eq!(status.code(), Some(0), "{stderr}");
    let items = export(&db);
    assert_eq!(items.len(), 1);
    assert!(items[0].contains(r#""messageId":"in-flight""#), "{}", items[0]);
}

#[test]
fn sigint_also_stops_cleanly_static_files_are_served_and_verbose_logs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<h1>demo</h1>").unwrap();
    std::fs::write(dir.path().join("t.wasm"), "\0asm").unwrap();
    let db = dir.path().join("c.db");
    let www = dir.path().to_str().unwrap().to_owned();
    let server = Server::start(
        &db,
        &["--www", &www, "--allow-origin", "https://shop.example", "--verbose"],
    );
    let agent = agent();
    let index = agent.get(&server.url("/")).call().unwrap();
    assert_eq!(index.headers()["cache-control"], "no-cache");
    assert_eq!(index.into_body().read_to_string().unwrap(), "<h1>demo</h1>");
    let wasm = agent.get(&server.url("/t.wasm")).call().unwrap();
    assert_eq!(wasm.headers()["content-type"], "application/wasm");

    server.signal(libc::SIGINT);
    let (status, stderr) = server.wait();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("SIGINT received"), "{stderr}");
    assert!(stderr.contains("GET /t.wasm 200"), "--verbose logs requests: {stderr}");
}

#[test]
fn bad_command_lines_exit_2_naming_the_problem() {
    let cases: &[(&[&str], &str)] = &[
        (&[], "missing command"),
        (
            &["serve", "--db", "x.db", "--bogus"],
            "unknown flag `--bogus` for serve",
        ),
        (&["serve", "--db"], "--db needs a value"),
        (
            &["serve", "--db", "x.db", "--addr", "not-an-address"],
            "--addr `not-an-address` is not",
        ),
        (
            &["serve", "--db", "x.db", "--allow-origin", "shop.example"],
            "--allow-origin `shop.example`",
        ),
        (&["export"], "export needs --db PATH"),
    ];
    for (args, message) in cases {
        let output = run(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(
            stderr.contains("usage: cartsense-collector serve"),
            "{args:?}: {stderr}"
        );
        assert!(output.stdout.is_empty(), "{args:?}");
    }
    let help = run(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).contains("--allow-origin ORIGIN"));
}

#[test]
fn export_of_a_missing_database_fails_without_creating_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nothing-here.db");
    let output = Command::new(BIN).args(["export", "--db"]).arg(&db).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("nothing-here.db") && stderr.contains("no such file"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
    assert!(!db.exists());
}

#[test]
fn an_address_in_use_is_a_runtime_error() {
    let dir = tempfile::tempdir().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let db = dir.path().join("c.db");
    let output = Command::new(BIN)
        .args(["serve", "--addr", &addr, "--db"])
        .arg(&db)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("cannot listen on {addr}")), "{stderr}");
    assert!(output.stdout.is_empty());
}

#[test]
fn a_client_that_stalls_its_body_gets_408_after_body_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let server = Server::start(&db, &["--body-timeout", "0.3"]);
    let body = track("stalled");
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    write!(
        stream,
        "POST /v1/batch HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
        server.addr,
        body.len(),
        &body[..body.len() / 2]
    )
    .unwrap();
    stream.flush().unwrap();
    let started = Instant::now();
    // The server answers and closes the connection without the rest of the body.
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(started.elapsed() < TIMEOUT);
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(
        response.ends_with(r#"{"error":"the body did not arrive within 0.3 s; nothing was stored"}"#),
        "{response}"
    );

    server.signal(libc::SIGTERM);
    let (status, stderr) = server.wait();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(export(&db).is_empty());
}

#[test]
fn report_compares_each_campaigns_arms_for_one_write_key_or_all() {
    use cartsense_collector::store::{NewItem, Store};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("events.db");
    let mut store = Store::open(&db).unwrap();
    let mut seq = 0;
    let mut item = |event: &str, visitor: &str, properties: &str| {
        seq += 1;
        NewItem {
            message_id: format!("m{seq}"),
            kind: "track".into(),
            event: Some(event.into()),
            json: format!(
                r#"{{"type":"track","event":"{event}","anonymousId":"{visitor}","messageId":"m{seq}","properties":{properties}}}"#
            ),
        }
    };
    let shop = vec![
        item("Prompt Shown", "t1", r#"{"campaign_id":"exit10","arm":"treatment"}"#),
        item("Prompt Shown", "t2", r#"{"campaign_id":"exit10","arm":"treatment"}"#),
        item("Prompt Held Out", "h1", r#"{"campaign_id":"exit10","arm":"holdout"}"#),
        item(
            "Order Completed",
            "t1",
            r#"{"order_id":"o1","revenue":40,"campaign_id":"exit10","campaign_arm":"treatment"}"#,
        ),
    ];
    store.insert_batch("shop", "2026-12-08T00:00:00.000Z", &shop).unwrap();
    let other = vec![item(
        "Prompt Shown",
        "x",
        r#"{"campaign_id":"other","arm":"treatment"}"#,
    )];
    store
        .insert_batch("other-shop", "2026-12-08T00:00:00.000Z", &other)
        .unwrap();
    drop(store);

    let text = run(&["report", "--db", db.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(text.status.success(), "{}", String::from_utf8_lossy(&text.stderr));
    assert!(
        stdout.contains("campaign exit10") && stdout.contains("campaign other"),
        "{stdout}"
    );
    assert!(stdout.contains("+50.00 points"), "1/2 against 0/1: {stdout}");

    let json = run(&["report", "--db", db.to_str().unwrap(), "--write-key", "shop", "--json"]);
    let stdout = String::from_utf8_lossy(&json.stdout);
    assert!(json.status.success(), "{}", String::from_utf8_lossy(&json.stderr));
    assert!(!stdout.contains("\"other\""), "only the shop's items: {stdout}");
    assert!(
        stdout.contains(r#""treatment":{"exposed_visitors":2,"converted_visitors":1,"orders":1,"revenue":40"#),
        "{stdout}"
    );

    let missing = run(&["report", "--db", dir.path().join("none.db").to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("none.db"));
}
