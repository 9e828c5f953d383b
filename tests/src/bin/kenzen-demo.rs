//! The demo command: see `kenzen_tests::demo`. Run it with `scripts/demo.sh`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let out = kenzen_tests::demo::out_dir();
    match kenzen_tests::demo::run_demo(&out).await {
        Ok(0) => std::process::ExitCode::SUCCESS,
        Ok(_) => std::process::ExitCode::FAILURE,
        Err(e) => {
            eprintln!("demo failed: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
