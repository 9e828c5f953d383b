//! The EventBridge publisher against moto_server.

use anyhow::Result;
use kenzen_app::adapters::eventbus::EventBridgePublisher;
use kenzen_app::ports::EventPublisher;
use kenzen_core::DomainEvent;

use crate::world;

#[tokio::test]
async fn publishing_to_a_bus_that_does_not_exist_is_an_error() -> Result<()> {
    let w = world().await?;
    let ok = EventBridgePublisher::new(aws_sdk_eventbridge::Client::new(&w.aws), w.bus.clone());
    let ev = DomainEvent::CaseOpened {
        order_id: "503-1".parse().unwrap(),
        reason: "stock".into(),
    };
    ok.publish(std::slice::from_ref(&ev)).await?;
    let missing =
        EventBridgePublisher::new(aws_sdk_eventbridge::Client::new(&w.aws), "no-such-bus");
    let err = missing.publish(&[ev]).await.unwrap_err();
    assert!(err.to_string().contains("CaseOpened"), "{err}");
    Ok(())
}
