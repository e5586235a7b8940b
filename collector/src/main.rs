//! `cartsense-collector`: parses the command line and runs `serve`, `export` or `report`, mapping the
//! outcome to an exit code (0 success, 1 runtime failure, 2 bad command line).

use std::io::{self, Write};
use std::process::ExitCode;

use cartsense_collector::cli::{self, Command, ExportOptions, ReportOptions, ServeOptions};
use cartsense_collector::report::Report;
use cartsense_collector::server;
use cartsense_collector::store::{ExportError, Store};

/// Turns on `--verbose` without changing the command line (e.g. under a supervisor).
const VERBOSE_ENV: &str = "CARTSENSE_COLLECTOR_VERBOSE";

fn main() -> ExitCode {
    let command = match cli::parse(std::env::args_os().skip(1)) {
        Ok(command) => command,
        Err(error) => {
            eprintln!("cartsense-collector: {error}\n\n{}", cli::SHORT_USAGE);
            return ExitCode::from(2);
        }
    };
    let outcome = match command {
        Command::Help => {
            print!("{}", cli::USAGE);
            Ok(())
        }
        Command::Serve(options) => serve(options),
        Command::Export(options) => export(&options),
        Command::Report(options) => report(&options),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("cartsense-collector: {message}");
            ExitCode::from(1)
        }
    }
}

fn serve(mut options: ServeOptions) -> Result<(), String> {
    options.verbose |= std::env::var_os(VERBOSE_ENV).is_some_and(|v| !v.is_empty() && v != "0");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(server::run(options))
}

fn export(options: &ExportOptions) -> Result<(), String> {
    let store = Store::open_existing(&options.db).map_err(|e| e.to_string())?;
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match store.export(&mut out) {
        Ok(_) => Ok(()),
        // `export | head` closing the pipe early is not a failure of the export.
        Err(ExportError::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => {
            let _ = out.flush();
            Err(e.to_string())
        }
    }
}

fn report(options: &ReportOptions) -> Result<(), String> {
    let store = Store::open_existing(&options.db).map_err(|e| e.to_string())?;
    let mut report = Report::default();
    store
        .for_each_item_of(options.write_key.as_deref(), |json| {
            report.add(json);
            Ok(())
        })
        .map_err(|e| e.to_string())?;
    let finished = report.finish();
    let text = if options.json {
        finished.json() + "\n"
    } else {
        finished.text()
    };
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(format!("cannot write the report: {e}")),
        _ => Ok(()),
    }
}
