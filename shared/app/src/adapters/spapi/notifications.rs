//! ORDER_CHANGE subscription setup: the SQS destination (grantless) and the subscription (the
//! seller's authorisation). Both steps are idempotent: 409 means "already there", and kenzen then
//! looks the existing one up instead of failing; an existing subscription that sends to another
//! destination is reported, never replaced. Also the read-only look-up of the subscription (for
//! `kenzen doctor`).

use reqwest::{Method, StatusCode};
use serde::Deserialize;

use super::rate::Op;
use super::{Grant, SpApiClient, SpApiError};

/// What the setup did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupReport {
    pub destination_id: String,
    pub destination_created: bool,
    pub subscription_id: String,
    pub subscription_created: bool,
    /// Set when the ORDER_CHANGE subscription that already existed sends elsewhere than
    /// `destination_id`: notifications do not reach the queue asked for.
    pub elsewhere: Option<SubscriptionInfo>,
}

/// The ORDER_CHANGE subscription as Amazon holds it: its destination, and that destination's
/// SQS queue when the destination is listed and is a queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionInfo {
    pub subscription_id: String,
    pub destination_id: String,
    pub queue_arn: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Destination {
    destination_id: String,
    resource: Resource,
}

#[derive(Debug, Deserialize)]
struct Resource {
    sqs: Option<Sqs>,
}

#[derive(Debug, Deserialize)]
struct Sqs {
    arn: String,
}

#[derive(Debug, Deserialize)]
struct Payload<T> {
    payload: Option<T>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Subscription {
    subscription_id: String,
    destination_id: String,
}

impl SpApiClient {
    /// Every destination of the application (grantless `getDestinations`).
    async fn destinations(&self) -> Result<Vec<Destination>, SpApiError> {
        let op = Op::GetDestinations;
        let (status, body) = self
            .call_as(
                Grant::Notifications,
                op,
                Method::GET,
                "/notifications/v1/destinations",
                &[],
                None,
            )
            .await?;
        let list: Payload<Vec<Destination>> = Self::decode(op, status, &body)?;
        Ok(list.payload.unwrap_or_default())
    }

    async fn find_destination(&self, queue_arn: &str) -> Result<Option<String>, SpApiError> {
        Ok(self
            .destinations()
            .await?
            .into_iter()
            .find(|d| d.resource.sqs.as_ref().is_some_and(|s| s.arn == queue_arn))
            .map(|d| d.destination_id))
    }

    /// The SQS queue of destination `destination_id`, when it is listed and is a queue.
    async fn queue_of(&self, destination_id: &str) -> Result<Option<String>, SpApiError> {
        Ok(self
            .destinations()
            .await?
            .into_iter()
            .find(|d| d.destination_id == destination_id)
            .and_then(|d| d.resource.sqs.map(|s| s.arn)))
    }

    /// The ORDER_CHANGE subscription (`getSubscription`) with its destination's queue; `None`
    /// when there is none (404). Reads only.
    pub async fn order_change_subscription(&self) -> Result<Option<SubscriptionInfo>, SpApiError> {
        let op = Op::GetSubscription;
        let (status, body) = self
            .call(
                op,
                Method::GET,
                "/notifications/v1/subscriptions/ORDER_CHANGE",
                &[("payloadVersion", "1.0".to_string())],
                None,
            )
            .await?;
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let s: Payload<Subscription> = Self::decode(op, status, &body)?;
        let Some(s) = s.payload else {
            return Ok(None);
        };
        let queue_arn = self.queue_of(&s.destination_id).await?;
        Ok(Some(SubscriptionInfo {
            subscription_id: s.subscription_id,
            destination_id: s.destination_id,
            queue_arn,
        }))
    }

    /// Creates (or finds) the SQS destination for `queue_arn` and the ORDER_CHANGE subscription
    /// for every marketplace the stack serves (OrderStatusChange and BuyerRequestedChange). A
    /// subscription that exists already is kept as it is (Amazon answers 409), whatever
    /// marketplaces it names.
    pub async fn subscribe_order_change(&self, queue_arn: &str) -> Result<SetupReport, SpApiError> {
        let (destination_id, destination_created) = match self.find_destination(queue_arn).await? {
            Some(id) => (id, false),
            None => {
                let op = Op::CreateDestination;
                let (status, body) = self
                    .call_as(
                        Grant::Notifications,
                        op,
                        Method::POST,
                        "/notifications/v1/destinations",
                        &[],
                        Some(serde_json::json!({
                            "name": "kenzen",
                            "resourceSpecification": {"sqs": {"arn": queue_arn}}
                        })),
                    )
                    .await?;
                if status == StatusCode::CONFLICT {
                    let id = self.find_destination(queue_arn).await?.ok_or_else(|| {
                        SpApiError::Decode {
                            op: op.name(),
                            detail: "409, but no destination for the queue is listed".into(),
                        }
                    })?;
                    (id, false)
                } else {
                    let d: Payload<Destination> = Self::decode(op, status, &body)?;
                    let d = d.payload.ok_or_else(|| SpApiError::Decode {
                        op: op.name(),
                        detail: "no payload".into(),
                    })?;
                    (d.destination_id, true)
                }
            }
        };
        let op = Op::CreateSubscription;
        let (status, body) = self
            .call(
                op,
                Method::POST,
                "/notifications/v1/subscriptions/ORDER_CHANGE",
                &[],
                Some(serde_json::json!({
                    "payloadVersion": "1.0",
                    "destinationId": destination_id,
                    "processingDirective": {
                        "eventFilter": {
                            "eventFilterType": "ORDER_CHANGE",
                            "marketplaceIds": self.marketplace_ids(),
                            "orderChangeTypes": ["OrderStatusChange", "BuyerRequestedChange"]
                        }
                    }
                })),
            )
            .await?;
        let (subscription, created) = if status == StatusCode::CONFLICT {
            let op = Op::GetSubscription;
            let (status, body) = self
                .call(
                    op,
                    Method::GET,
                    "/notifications/v1/subscriptions/ORDER_CHANGE",
                    &[("payloadVersion", "1.0".to_string())],
                    None,
                )
                .await?;
            let s: Payload<Subscription> = Self::decode(op, status, &body)?;
            (s.payload, false)
        } else {
            let s: Payload<Subscription> = Self::decode(op, status, &body)?;
            (s.payload, true)
        };
        let subscription = subscription.ok_or_else(|| SpApiError::Decode {
            op: op.name(),
            detail: "no subscription payload".into(),
        })?;
        let elsewhere = if subscription.destination_id != destination_id {
            tracing::warn!(
                existing = %subscription.destination_id,
                wanted = %destination_id,
                "the existing ORDER_CHANGE subscription points at another destination"
            );
            Some(SubscriptionInfo {
                subscription_id: subscription.subscription_id.clone(),
                queue_arn: self.queue_of(&subscription.destination_id).await?,
                destination_id: subscription.destination_id,
            })
        } else {
            None
        };
        Ok(SetupReport {
            destination_id,
            destination_created,
            subscription_id: subscription.subscription_id,
            subscription_created: created,
            elsewhere,
        })
    }
}
