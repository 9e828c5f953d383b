//! `--help` works for the command and each subcommand, and a usage error exits 2.

use anyhow::Result;

use crate::{aws_env, kenzen};

#[tokio::test]
async fn help_lists_every_command_and_each_command_has_real_help() -> Result<()> {
    let env = aws_env();
    let top = kenzen(&env, &["--help"]).await?.expect(0);
    for command in [
        "status",
        "show",
        "flag",
        "withdraw",
        "approve",
        "stock",
        "subscribe",
        "doctor",
    ] {
        assert!(
            top.stdout.contains(&format!("  {command} ")),
            "{command} missing from:\n{}",
            top.stdout
        );
    }
    assert!(top.stdout.contains("--stack") && top.stdout.contains("KENZEN_TABLE"));
    let subscribe = kenzen(&env, &["subscribe", "--help"]).await?.expect(0);
    assert!(
        subscribe.stdout.contains("409") && subscribe.stdout.contains("QUEUE_ARN"),
        "{}",
        subscribe.stdout
    );
    let import = kenzen(&env, &["stock", "import", "--help"])
        .await?
        .expect(0);
    assert!(
        import.stdout.contains("sku,on_hand") && import.stdout.contains("--dry-run"),
        "{}",
        import.stdout
    );
    Ok(())
}

#[tokio::test]
async fn an_unknown_command_or_a_missing_argument_is_a_usage_error() -> Result<()> {
    let env = aws_env();
    let unknown = kenzen(&env, &["cancel-everything"]).await?.expect(2);
    assert!(
        unknown.stderr.contains("cancel-everything"),
        "{}",
        unknown.stderr
    );
    let flag = kenzen(&env, &["flag", "503-1234567-1234567"])
        .await?
        .expect(2);
    assert!(flag.stderr.contains("--reason"), "{}", flag.stderr);
    Ok(())
}
