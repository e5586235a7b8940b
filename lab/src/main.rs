//! `cartsense-lab`: parses the command line and runs the command, mapping the outcome to an
//! exit code (0 success, 1 bad data or I/O failure, 2 bad command line).

use std::process::ExitCode;

use cartsense_lab::{cli, run};

fn main() -> ExitCode {
    let args: Vec<String> = match std::env::args_os().skip(1).map(|a| a.into_string()).collect() {
        Ok(args) => args,
        Err(arg) => {
            eprintln!(
                "cartsense-lab: argument {arg:?} is not valid UTF-8\n\n{}",
                cli::SHORT_USAGE
            );
            return ExitCode::from(2);
        }
    };
    if let Some(code) = cartsense_lab::recs::command::main(&args) {
        return code;
    }
    let command = match cli::parse(args.clone()) {
        Ok(command) => command,
        Err(error) => {
            eprintln!("cartsense-lab: {error}\n\n{}", cli::SHORT_USAGE);
            return ExitCode::from(2);
        }
    };
    let outcome = run::run(command, &run::command_line(&args), &mut |warning| {
        eprintln!("cartsense-lab: {warning}")
    });
    run::finish(outcome)
}
