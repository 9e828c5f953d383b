//! The deployment found from a CloudFormation stack (moto_server's): its outputs name the table
//! and bus, its parameters the marketplace and seller; a stack that does not exist is named with
//! what to do.

use anyhow::Result;
use serde_json::json;

use crate::{aws_env, kenzen, mins, order, t0, world};

#[tokio::test]
async fn the_table_and_bus_come_from_the_stacks_outputs_when_no_flag_names_them() -> Result<()> {
    let mut w = world().await?;
    w.stock("CUP", 0).await?;
    let id = "503-0500001-0000001";
    w.sim.add_order(order(id, t0() + mins(3), "CUP"));
    w.run_until(t0() + mins(30)).await?;
    let stack = format!("{}-stack", w.table);
    let template = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {
            "MarketplaceId": {"Type": "String"},
            "SellerId": {"Type": "String"}
        },
        "Resources": {"Alerts": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {
            "TableName": {"Value": w.table},
            "EventBusName": {"Value": w.bus}
        }
    });
    let cfn = aws_sdk_cloudformation::Client::new(&w.aws);
    cfn.create_stack()
        .stack_name(&stack)
        .template_body(template.to_string())
        .parameters(
            aws_sdk_cloudformation::types::Parameter::builder()
                .parameter_key("MarketplaceId")
                .parameter_value("A1VC38T7YXB528")
                .build(),
        )
        .parameters(
            aws_sdk_cloudformation::types::Parameter::builder()
                .parameter_key("SellerId")
                .parameter_value("A2KENZENSELLER")
                .build(),
        )
        .send()
        .await?;

    let env = aws_env();
    let status = kenzen(&env, &["status", "--stack", &stack, "--json"])
        .await?
        .expect(0)
        .json();
    assert_eq!(status["open_cases"][0]["order_id"], id);
    let flagged = kenzen(
        &env,
        &["withdraw", id, "--reason", "shipping it", "--stack", &stack],
    )
    .await?
    .expect(0);
    assert!(
        flagged.stdout.contains(&format!("on bus {}", w.bus)),
        "{}",
        flagged.stdout
    );

    let missing = kenzen(&env, &["status", "--stack", "no-such-stack"])
        .await?
        .expect(1);
    assert!(
        missing
            .stderr
            .contains("stack no-such-stack not found in region ap-northeast-1"),
        "{}",
        missing.stderr
    );
    assert_eq!(missing.stderr.lines().count(), 1, "{}", missing.stderr);
    Ok(())
}
