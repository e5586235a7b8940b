//! Command-line arguments: what `cartsense-collector` accepts, turned into [`Command`] or a
//! [`UsageError`] that names the offending argument.
//!
//! Parsing is pure (no environment, no I/O) so every rule is unit-tested; `main` decides what
//! an error means for the exit code and what goes to stderr.

use std::ffi::OsString;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Where `serve` listens when `--addr` is not given.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";

/// `--body-timeout` when not given.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest `--body-timeout` accepted: beyond an hour it no longer protects anything.
const MAX_BODY_TIMEOUT_SECONDS: f64 = 3600.0;

/// Printed with every usage error: enough to fix the command line without scrolling.
pub const SHORT_USAGE: &str = "\
usage: cartsense-collector serve --db PATH [--addr IP:PORT] [--www DIR] [--allow-origin ORIGIN]...
                                 [--write-key KEY]... [--body-timeout SECONDS] [--verbose]
       cartsense-collector export --db PATH
       cartsense-collector report --db PATH [--write-key KEY] [--json]
       cartsense-collector --help
";

/// Printed by `--help`.
pub const USAGE: &str = "\
cartsense-collector: the reference collector for cartsense. It receives Segment-compatible
batches at POST /v1/batch and stores them in SQLite.

usage: cartsense-collector serve --db PATH [--addr IP:PORT] [--www DIR] [--allow-origin ORIGIN]...
                                 [--write-key KEY]... [--body-timeout SECONDS] [--verbose]
       cartsense-collector export --db PATH
       cartsense-collector report --db PATH [--write-key KEY] [--json]
       cartsense-collector --help

serve     receive batches and store them
  --addr IP:PORT          where to listen (default 127.0.0.1:8080; port 0 picks a free port)
  --db PATH               the SQLite database; created if missing
  --www DIR               also serve the static files in DIR at /
  --allow-origin ORIGIN   let pages from ORIGIN (scheme://host[:port], or * for any origin)
                          post batches from a browser; repeatable. Requests without an Origin
                          header and same-origin requests are always allowed.
  --write-key KEY         accept only these write keys; repeatable (default: any key, or none)
  --body-timeout SECONDS  answer 408 to a batch whose body has not fully arrived within this
                          time (default 10; fractions allowed, at most 3600)
  --verbose               log one line per request to stderr
                          (also CARTSENSE_COLLECTOR_VERBOSE=1)

export    print every stored item as one JSON object per line, in receive order
  --db PATH               an existing collector database

report    what each prompt campaign added: per campaign, its treatment and holdout arms'
          exposed visitors, conversion and revenue per visitor, and the differences with
          95 % intervals
  --db PATH               an existing collector database
  --write-key KEY         only the items sent with this write key (default: every item)
  --json                  one JSON object instead of the text report

Exit codes: 0 success, 1 runtime error (database, network), 2 bad command line.
";

#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Help,
    Serve(ServeOptions),
    Export(ExportOptions),
    Report(ReportOptions),
}

#[derive(Clone, Debug, PartialEq)]
pub struct ServeOptions {
    pub addr: SocketAddr,
    pub db: PathBuf,
    pub www: Option<PathBuf>,
    /// Exactly as given: `*` or `scheme://host[:port]`.
    pub allow_origins: Vec<String>,
    /// Empty means every key (and no key) is accepted.
    pub write_keys: Vec<String>,
    pub body_timeout: Duration,
    pub verbose: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ExportOptions {
    pub db: PathBuf,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReportOptions {
    pub db: PathBuf,
    pub write_key: Option<String>,
    pub json: bool,
}

/// A command line that cannot be run, with a message naming what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn usage_error(message: impl Into<String>) -> UsageError {
    UsageError(message.into())
}

/// Parses the arguments after the program name.
pub fn parse<I: IntoIterator<Item = OsString>>(args: I) -> Result<Command, UsageError> {
    let mut args = args.into_iter();
    let Some(first) = args.next() else {
        return Err(usage_error("missing command (serve, export or report)"));
    };
    let Some(command) = first.to_str() else {
        return Err(usage_error(format!("unknown command {first:?}")));
    };
    match command {
        "-h" | "--help" | "help" => Ok(Command::Help),
        "serve" => parse_serve(Flags::new(args)),
        "export" => parse_export(Flags::new(args)),
        "report" => parse_report(Flags::new(args)),
        other => Err(usage_error(format!(
            "unknown command `{other}` (expected serve, export or report)"
        ))),
    }
}

/// One flag as read from the command line: its name and, for `--name=value`, the value.
struct Flag {
    name: String,
    inline_value: Option<OsString>,
}

/// Walks `--flag value` and `--flag=value` pairs.
struct Flags<I> {
    args: I,
}

impl<I: Iterator<Item = OsString>> Flags<I> {
    fn new(args: I) -> Self {
        Flags { args }
    }

    fn next_flag(&mut self) -> Result<Option<Flag>, UsageError> {
        let Some(arg) = self.args.next() else {
            return Ok(None);
        };
        let Some(text) = arg.to_str() else {
            return Err(usage_error(format!("unexpected argument {arg:?}")));
        };
        if !text.starts_with("--") && text != "-h" {
            return Err(usage_error(format!("unexpected argument `{text}`")));
        }
        Ok(Some(match text.split_once('=') {
            Some((name, value)) => Flag {
                name: name.to_owned(),
                inline_value: Some(value.into()),
            },
            None => Flag {
                name: text.to_owned(),
                inline_value: None,
            },
        }))
    }

    fn value(&mut self, flag: &mut Flag) -> Result<OsString, UsageError> {
        let value = match flag.inline_value.take() {
            Some(value) => value,
            // A following flag is not taken as the value: `--db --verbose` is a mistake.
            None => match self.args.next() {
                Some(value) if !value.to_str().is_some_and(|v| v.starts_with("--")) => value,
                _ => return Err(usage_error(format!("{} needs a value", flag.name))),
            },
        };
        if value.is_empty() {
            return Err(usage_error(format!("{} needs a non-empty value", flag.name)));
        }
        Ok(value)
    }

    /// A path flag that may be given once (`--db`, `--www`).
    fn path_once(&mut self, flag: &mut Flag, slot: &mut Option<PathBuf>) -> Result<(), UsageError> {
        let value = self.value(flag)?;
        set_once(slot, flag, PathBuf::from(value))
    }

    fn text_value(&mut self, flag: &mut Flag) -> Result<String, UsageError> {
        let value = self.value(flag)?;
        value
            .into_string()
            .map_err(|value| usage_error(format!("{} value {value:?} is not valid UTF-8", flag.name)))
    }
}

fn no_value(flag: &Flag) -> Result<(), UsageError> {
    match flag.inline_value {
        Some(_) => Err(usage_error(format!("{} takes no value", flag.name))),
        None => Ok(()),
    }
}

fn set_once<T>(slot: &mut Option<T>, flag: &Flag, value: T) -> Result<(), UsageError> {
    if slot.is_some() {
        return Err(usage_error(format!("{} given more than once", flag.name)));
    }
    *slot = Some(value);
    Ok(())
}

fn parse_serve(mut flags: Flags<impl Iterator<Item = OsString>>) -> Result<Command, UsageError> {
    let mut addr = None;
    let mut db = None;
    let mut www = None;
    let mut allow_origins = Vec::new();
    let mut write_keys = Vec::new();
    let mut body_timeout = None;
    let mut verbose = false;
    while let Some(mut flag) = flags.next_flag()? {
        match flag.name.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--addr" => {
                let text = flags.text_value(&mut flag)?;
                let parsed = parse_addr(&text)?;
                set_once(&mut addr, &flag, parsed)?;
            }
            "--db" => flags.path_once(&mut flag, &mut db)?,
            "--www" => flags.path_once(&mut flag, &mut www)?,
            "--allow-origin" => {
                let origin = flags.text_value(&mut flag)?;
                check_origin(&origin)?;
                allow_origins.push(origin);
            }
            "--write-key" => write_keys.push(flags.text_value(&mut flag)?),
            "--body-timeout" => {
                let text = flags.text_value(&mut flag)?;
                let parsed = parse_body_timeout(&text)?;
                set_once(&mut body_timeout, &flag, parsed)?;
            }
            "--verbose" => {
                no_value(&flag)?;
                verbose = true;
            }
            other => return Err(usage_error(format!("unknown flag `{other}` for serve"))),
        }
    }
    let addr = match addr {
        Some(addr) => addr,
        None => parse_addr(DEFAULT_ADDR)?,
    };
    let Some(db) = db else {
        return Err(usage_error("serve needs --db PATH"));
    };
    Ok(Command::Serve(ServeOptions {
        addr,
        db,
        www,
        allow_origins,
        write_keys,
        body_timeout: body_timeout.unwrap_or(DEFAULT_BODY_TIMEOUT),
        verbose,
    }))
}

fn parse_export(mut flags: Flags<impl Iterator<Item = OsString>>) -> Result<Command, UsageError> {
    let mut db = None;
    while let Some(mut flag) = flags.next_flag()? {
        match flag.name.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--db" => flags.path_once(&mut flag, &mut db)?,
            other => return Err(usage_error(format!("unknown flag `{other}` for export"))),
        }
    }
    let Some(db) = db else {
        return Err(usage_error("export needs --db PATH"));
    };
    Ok(Command::Export(ExportOptions { db }))
}

fn parse_report(mut flags: Flags<impl Iterator<Item = OsString>>) -> Result<Command, UsageError> {
    let mut db = None;
    let mut write_key = None;
    let mut json = false;
    while let Some(mut flag) = flags.next_flag()? {
        match flag.name.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--db" => flags.path_once(&mut flag, &mut db)?,
            "--write-key" => {
                let key = flags.text_value(&mut flag)?;
                set_once(&mut write_key, &flag, key)?;
            }
            "--json" => {
                no_value(&flag)?;
                json = true;
            }
            other => return Err(usage_error(format!("unknown flag `{other}` for report"))),
        }
    }
    let Some(db) = db else {
        return Err(usage_error("report needs --db PATH"));
    };
    Ok(Command::Report(ReportOptions { db, write_key, json }))
}

fn parse_addr(text: &str) -> Result<SocketAddr, UsageError> {
    // Only literal addresses: resolving a host name could pick an interface the operator
    // did not mean to expose.
    text.parse().map_err(|_| {
        usage_error(format!(
            "--addr `{text}` is not an IP address with a port, e.g. 127.0.0.1:8080 or [::1]:8080"
        ))
    })
}

fn parse_body_timeout(text: &str) -> Result<Duration, UsageError> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds > 0.0 && seconds <= MAX_BODY_TIMEOUT_SECONDS => Ok(Duration::from_secs_f64(seconds)),
        _ => Err(usage_error(format!(
            "--body-timeout `{text}` must be a number of seconds above 0 and at most {MAX_BODY_TIMEOUT_SECONDS}"
        ))),
    }
}

/// `*`, or an origin as browsers send it: `scheme://host[:port]` with no path.
fn check_origin(origin: &str) -> Result<(), UsageError> {
    if origin == "*" {
        return Ok(());
    }
    let well_formed = origin.split_once("://").is_some_and(|(scheme, rest)| {
        !scheme.is_empty()
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
            && !rest.is_empty()
            && !rest.contains(['/', '?', '#', ' '])
    });
    if well_formed {
        Ok(())
    } else {
        Err(usage_error(format!(
            "--allow-origin `{origin}` must be * or an origin like https://shop.example or \
             http://localhost:3000 (scheme://host[:port], no path or trailing slash)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Command, UsageError> {
        parse(args.iter().map(OsString::from))
    }

    fn serve(args: &[&str]) -> ServeOptions {
        match run(args) {
            Ok(Command::Serve(options)) => options,
            other => panic!("{args:?} gave {other:?}"),
        }
    }

    fn error(args: &[&str]) -> String {
        match run(args) {
            Err(UsageError(message)) => message,
            other => panic!("{args:?} gave {other:?}"),
        }
    }

    #[test]
    fn serve_takes_every_flag_in_both_spellings() {
        let options = serve(&[
            "serve",
            "--addr=0.0.0.0:9000",
            "--db",
            "/tmp/x.db",
            "--www",
            "www",
            "--allow-origin",
            "https://shop.example",
            "--allow-origin=*",
            "--write-key",
            "k1",
            "--write-key=k2",
            "--body-timeout",
            "2.5",
            "--verbose",
        ]);
        assert_eq!(
            options,
            ServeOptions {
                addr: "0.0.0.0:9000".parse().unwrap(),
                db: "/tmp/x.db".into(),
                www: Some("www".into()),
                allow_origins: vec!["https://shop.example".into(), "*".into()],
                write_keys: vec!["k1".into(), "k2".into()],
                body_timeout: Duration::from_millis(2500),
                verbose: true,
            }
        );
    }

    #[test]
    fn serve_defaults() {
        let options = serve(&["serve", "--db", "x.db"]);
        assert_eq!(options.addr, DEFAULT_ADDR.parse().unwrap());
        assert_eq!(options.www, None);
        assert_eq!(options.body_timeout, Duration::from_secs(10));
        assert!(options.allow_origins.is_empty() && options.write_keys.is_empty() && !options.verbose);
    }

    #[test]
    fn export_and_help() {
        assert_eq!(
            run(&["export", "--db", "x.db"]),
            Ok(Command::Export(ExportOptions { db: "x.db".into() }))
        );
        assert_eq!(run(&["--help"]), Ok(Command::Help));
        assert_eq!(run(&["serve", "--help"]), Ok(Command::Help));
        assert_eq!(run(&["export", "-h"]), Ok(Command::Help));
        assert_eq!(
            run(&["report", "--db", "x.db"]),
            Ok(Command::Report(ReportOptions {
                db: "x.db".into(),
                write_key: None,
                json: false
            }))
        );
        assert_eq!(
            run(&["report", "--json", "--write-key=k", "--db=x.db"]),
            Ok(Command::Report(ReportOptions {
                db: "x.db".into(),
                write_key: Some("k".into()),
                json: true
            }))
        );
    }

    #[test]
    fn errors_name_the_argument() {
        let cases: &[(&[&str], &str)] = &[
            (&[], "missing command (serve, export or report)"),
            (
                &["launch"],
                "unknown command `launch` (expected serve, export or report)",
            ),
            (&["report", "--json"], "report needs --db PATH"),
            (&["report", "--db", "x", "--json=1"], "--json takes no value"),
            (
                &["report", "--db", "x", "--write-key", "a", "--write-key=b"],
                "--write-key given more than once",
            ),
            (
                &["report", "--db", "x", "--since", "1"],
                "unknown flag `--since` for report",
            ),
            (
                &["serve", "--db", "x", "--port", "1"],
                "unknown flag `--port` for serve",
            ),
            (
                &["export", "--db", "x", "--addr", "1"],
                "unknown flag `--addr` for export",
            ),
            (&["serve", "--db"], "--db needs a value"),
            (&["serve", "--db", "--verbose"], "--db needs a value"),
            (&["serve", "--db="], "--db needs a non-empty value"),
            (&["serve", "--addr", "127.0.0.1:8080"], "serve needs --db PATH"),
            (&["export"], "export needs --db PATH"),
            (&["serve", "--db", "x", "--db", "y"], "--db given more than once"),
            (&["serve", "--db", "x", "extra"], "unexpected argument `extra`"),
            (&["serve", "--db", "x", "--verbose=yes"], "--verbose takes no value"),
            (
                &["serve", "--db", "x", "--body-timeout", "1", "--body-timeout", "2"],
                "--body-timeout given more than once",
            ),
        ];
        for (args, expected) in cases {
            assert_eq!(error(args), *expected, "{args:?}");
        }
        assert!(error(&["serve", "--db", "x", "--addr", "localhost:80"]).starts_with("--addr `localhost:80` is not"));
        assert!(error(&["serve", "--db", "x", "--addr", "127.0.0.1"]).starts_with("--addr `127.0.0.1` is not"));
        for bad in ["0", "-1", "NaN", "inf", "3601", "10s", "1e9"] {
            assert_eq!(
                error(&["serve", "--db", "x", "--body-timeout", bad]),
                format!("--body-timeout `{bad}` must be a number of seconds above 0 and at most 3600"),
                "{bad}"
            );
        }
    }

    #[test]
    fn origins_must_be_bare_origins() {
        for good in [
            "*",
            "https://shop.example",
            "http://localhost:3000",
            "http://[::1]:8080",
        ] {
            assert!(check_origin(good).is_ok(), "{good}");
        }
        for bad in [
            "shop.example",
            "https://shop.example/",
            "https://",
            "://x",
            "https://a/b",
            "null",
        ] {
            assert!(check_origin(bad).is_err(), "{bad}");
        }
        assert!(error(&["serve", "--db", "x", "--allow-origin", "http://a.example/"]).contains("no path"));
    }
}
