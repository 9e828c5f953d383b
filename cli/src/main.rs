//! `kenzen`: parse the command line, run the command, exit 0 (done), 1 (failed, or found a
//! problem) or 2 (a usage error, from clap).

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = kenzen_cli::args::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kenzen: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(kenzen_cli::run(cli)) {
        Ok(kenzen_cli::Outcome::Ok) => ExitCode::SUCCESS,
        Ok(kenzen_cli::Outcome::Problems) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("kenzen: {e:#}");
            ExitCode::FAILURE
        }
    }
}
