//! `kenzen doctor`: checks the whole deployment and reports every problem at once, one line
//! each, with what to do: the table and bus, the secret and its keys, an LWA token, each SP-API
//! role kenzen needs (one harmless read per API), the ORDER_CHANGE subscription, and that the
//! schedule rules are enabled. It only reads: it never sends a message, a feed or a patch.

use anyhow::Result;
use jiff::{SignedDuration, Timestamp};
use kenzen_app::adapters::spapi::SpApiError;
use kenzen_app::ports::{CaseStore, StockAdmin};
use serde_json::json;

use crate::Outcome;
use crate::deployment::{Credentials, Ctx};
use crate::failure::{sdk_failure, spapi_failure, store_failure};

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Problem,
    /// It could not be checked (nothing to check it with); not a problem in itself.
    NotChecked,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Problem => "PROBLEM",
            Self::NotChecked => "not checked",
        }
    }
}

/// One check's result.
#[derive(Debug, Clone)]
pub struct Check {
    pub name: String,
    pub status: Status,
    pub detail: String,
}

#[derive(Default)]
struct Report {
    checks: Vec<Check>,
}

impl Report {
    fn add(&mut self, name: impl Into<String>, status: Status, detail: impl Into<String>) {
        self.checks.push(Check {
            name: name.into(),
            status,
            detail: detail.into(),
        });
    }
}

/// An SP-API area kenzen uses, and the role that grants it.
struct Area {
    name: &'static str,
    role: &'static str,
    op: &'static str,
}

const ORDERS: Area = Area {
    name: "orders",
    role: "Inventory and Order Tracking",
    op: "searchOrders",
};
const MESSAGING: Area = Area {
    name: "messaging",
    role: "Buyer Communication",
    op: "getMessagingActionsForOrder",
};
const FEEDS: Area = Area {
    name: "feeds",
    role: "Inventory and Order Tracking",
    op: "getFeeds",
};
const LISTINGS: Area = Area {
    name: "listings",
    role: "Product Listing",
    op: "getListingsItem",
};
const REPORTS: Area = Area {
    name: "account health",
    role: "Selling Partner Insights",
    op: "getReport",
};
const SUBSCRIPTION: Area = Area {
    name: "notifications",
    role: "Inventory and Order Tracking",
    op: "getSubscription",
};

/// What to tell the seller about `e` from a call in `area`.
fn area_failure(area: &Area, endpoint: &str, e: &SpApiError) -> (Status, String) {
    match e {
        SpApiError::NotAuthorized { status, code, .. } => (
            Status::Problem,
            format!(
                "the app lacks the {} ({}) role: {} answered {status} {code}. Add the role in \
                 Seller Central → Apps and Services → Develop Apps → Edit App, then authorise \
                 the app again and put its new refresh token into the secret",
                area.role, area.name, area.op
            ),
        ),
        SpApiError::NoBudget { op } => (
            Status::NotChecked,
            format!(
                "{op}'s rate budget is in use by kenzen's functions right now; run doctor again \
                 in a few minutes"
            ),
        ),
        other => (
            Status::Problem,
            format!("{}: {}", area.op, spapi_failure(endpoint, other)),
        ),
    }
}

/// The name and bus of a rule given as a name, `bus/name` or an ARN.
fn rule_parts(rule: &str) -> (Option<&str>, &str) {
    let rest = rule.split_once(":rule/").map_or(rule, |(_, r)| r);
    match rest.split_once('/') {
        Some((bus, name)) => (Some(bus), name),
        None => (None, rest),
    }
}

pub async fn run(ctx: &Ctx) -> Result<Outcome> {
    let mut r = Report::default();
    let now = Timestamp::now();

    // The table (a read that also finds a SKU for the listings check).
    let mut stock_sku = None;
    let mut store = None;
    match ctx.table().await {
        Err(e) => r.add("table", Status::Problem, format!("{e:#}")),
        Ok(table) => {
            let s = ctx.store().await?;
            match s.any_stock_sku().await {
                Ok(sku) => {
                    r.add("table", Status::Ok, format!("{table}: readable"));
                    stock_sku = sku;
                    store = Some((table, s));
                }
                Err(e) => r.add("table", Status::Problem, store_failure(&table, &e)),
            }
        }
    }

    // The bus.
    match ctx.bus().await {
        Err(e) => r.add("bus", Status::Problem, format!("{e:#}")),
        Ok(bus) => {
            let eb = aws_sdk_eventbridge::Client::new(&ctx.aws);
            match eb.describe_event_bus().name(&bus).send().await {
                Ok(_) => r.add("bus", Status::Ok, format!("{bus}: exists")),
                Err(e) => r.add(
                    "bus",
                    Status::Problem,
                    format!("{bus}: {}", sdk_failure("EventBridge", &e)),
                ),
            }
        }
    }

    // The credentials.
    let mut credentials_ok = true;
    match ctx.credentials().await {
        Err(e) => {
            credentials_ok = false;
            r.add("secret", Status::Problem, format!("{e:#}"));
        }
        Ok(Credentials::Environment) => r.add(
            "secret",
            Status::NotChecked,
            "no secret: the LWA credentials come from KENZEN_LWA_CLIENT_ID, \
             KENZEN_LWA_CLIENT_SECRET and KENZEN_LWA_REFRESH_TOKEN",
        ),
        Ok(Credentials::Secret(id)) => match ctx.read_secret(&id).await {
            Ok(_) => r.add(
                "secret",
                Status::Ok,
                format!("{id}: readable, with client_id, client_secret and refresh_token"),
            ),
            Err(e) => {
                credentials_ok = false;
                r.add("secret", Status::Problem, format!("{e:#}"));
            }
        },
    }

    // SP-API: a token, then one read per area.
    let sp = if credentials_ok {
        match ctx.spapi().await {
            Ok(c) => Some(c),
            Err(e) => {
                r.add("SP-API configuration", Status::Problem, format!("{e:#}"));
                None
            }
        }
    } else {
        None
    };
    let sp = match sp {
        Some(c) => match c.check_token().await {
            Ok(()) => {
                r.add("LWA token", Status::Ok, "obtained");
                Some(c)
            }
            Err(e) => {
                r.add(
                    "LWA token",
                    Status::Problem,
                    spapi_failure(c.endpoint(), &e),
                );
                None
            }
        },
        None => None,
    };
    let Some(sp) = sp else {
        for area in [
            &ORDERS,
            &MESSAGING,
            &FEEDS,
            &LISTINGS,
            &REPORTS,
            &SUBSCRIPTION,
        ] {
            r.add(area.name, Status::NotChecked, "no LWA token (see above)");
        }
        rules(ctx, &mut r).await;
        return print(ctx, r);
    };
    // No call may wait long for its rate budget: the functions share it.
    sp.set_deadline(Some(now + SignedDuration::from_secs(90)));
    let endpoint = sp.endpoint().to_string();
    // Listings are looked up in the home marketplace (the client was built, so it is known).
    let home = ctx.marketplace().await.unwrap_or_default();
    let home = home.as_str();
    // SP-API calls made, and how many were refused for the app's authorisation.
    let mut tried = 0;
    let mut refused = 0;
    let mut note = |r: &mut Report, tried: &mut u32, area: &Area, e: &SpApiError| {
        *tried += 1;
        if matches!(e, SpApiError::NotAuthorized { .. }) {
            refused += 1;
        }
        let (status, detail) = area_failure(area, &endpoint, e);
        r.add(area.name, status, detail);
    };

    // Orders, and a recent order for the messaging check.
    let mut recent_order = None;
    match sp
        .search_page(now - SignedDuration::from_hours(24), None, None)
        .await
    {
        Ok((page, _)) => {
            tried += 1;
            recent_order = page
                .orders
                .iter()
                .max_by_key(|o| o.last_updated)
                .map(|o| (o.order_id.to_string(), o.marketplace_id.to_string()));
            r.add(
                ORDERS.name,
                Status::Ok,
                format!(
                    "searchOrders works ({} orders updated in the last 24 hours)",
                    page.orders.len()
                ),
            );
        }
        Err(e) => note(&mut r, &mut tried, &ORDERS, &e),
    }
    if recent_order.is_none()
        && let Some((_, s)) = &store
        && let Ok(open) = s.open_cases().await
    {
        recent_order = open.cases.first().map(|c| {
            (
                c.value.order_id.to_string(),
                c.value.marketplace_id.to_string(),
            )
        });
    }

    // Messaging.
    match &recent_order {
        None => r.add(
            MESSAGING.name,
            Status::NotChecked,
            "no recent order to ask getMessagingActionsForOrder about; run doctor again once an \
             order has come in",
        ),
        Some((order, marketplace)) => {
            match sp.can_send_unexpected_problem(order, marketplace).await {
                Ok(_) => {
                    tried += 1;
                    r.add(
                        MESSAGING.name,
                        Status::Ok,
                        format!("getMessagingActionsForOrder works (order {order})"),
                    );
                }
                Err(e) => note(&mut r, &mut tried, &MESSAGING, &e),
            }
        }
    }

    // Feeds.
    match sp
        .recent_cancel_feeds(now - SignedDuration::from_hours(7 * 24))
        .await
    {
        Ok(feeds) => {
            tried += 1;
            r.add(
                FEEDS.name,
                Status::Ok,
                format!(
                    "getFeeds works ({} order acknowledgement feeds in the last 7 days)",
                    feeds.len()
                ),
            );
        }
        Err(e) => note(&mut r, &mut tried, &FEEDS, &e),
    }

    // Listings.
    match &stock_sku {
        None => r.add(
            LISTINGS.name,
            Status::NotChecked,
            "no SKU in the stock table to look up; import your stock first (kenzen stock \
             import FILE.csv)",
        ),
        Some(sku) => match sp.listing_product_type(sku, home).await {
            Ok(Some(t)) => {
                tried += 1;
                r.add(
                    LISTINGS.name,
                    Status::Ok,
                    format!("getListingsItem works (SKU {sku}: product type {t})"),
                );
            }
            Ok(None) => {
                tried += 1;
                r.add(
                    LISTINGS.name,
                    Status::Problem,
                    format!(
                        "getListingsItem works, but Amazon has no listing for SKU {sku} of the \
                         stock table: check the SKU (it must be your seller SKU)"
                    ),
                );
            }
            Err(e) => note(&mut r, &mut tried, &LISTINGS, &e),
        },
    }

    // Account health: getReport of an id that does not exist is answered 404 (or 400) when the
    // role is there, 403 when it is not; nothing is requested or made.
    match sp.seller_performance_status("0").await {
        Ok(_)
        | Err(SpApiError::Http {
            status: 400 | 404, ..
        }) => {
            tried += 1;
            r.add(
                REPORTS.name,
                Status::Ok,
                "the Reports API answers (the seller performance report can be read for auto \
                 and the projected cancel rate)",
            );
        }
        Err(e) => note(&mut r, &mut tried, &REPORTS, &e),
    }

    // The subscription.
    match sp.order_change_subscription().await {
        Err(e) => note(&mut r, &mut tried, &SUBSCRIPTION, &e),
        Ok(sub) => {
            tried += 1;
            let queue = ctx.queue_arn().await;
            match (sub, queue) {
                (None, _) => r.add(
                    "subscription",
                    Status::Problem,
                    "there is no ORDER_CHANGE subscription: run `kenzen subscribe`",
                ),
                (Some(s), Ok(q)) if s.queue_arn.as_deref() == Some(q.as_str()) => r.add(
                    "subscription",
                    Status::Ok,
                    format!("ORDER_CHANGE {} sends to {q}", s.subscription_id),
                ),
                (Some(s), Ok(q)) => r.add(
                    "subscription",
                    Status::Problem,
                    format!(
                        "ORDER_CHANGE {} sends to destination {} ({}), not to this stack's queue \
                         {q}: delete it (deleteSubscriptionById) and run `kenzen subscribe`",
                        s.subscription_id,
                        s.destination_id,
                        s.queue_arn.as_deref().unwrap_or("not a listed queue")
                    ),
                ),
                (Some(s), Err(e)) => r.add(
                    "subscription",
                    Status::NotChecked,
                    format!(
                        "ORDER_CHANGE {} exists, but this stack's queue is not known to compare: \
                         {e:#}",
                        s.subscription_id
                    ),
                ),
            }
        }
    }
    if tried >= 3 && refused == tried {
        r.add(
            "authorisation",
            Status::Problem,
            "every SP-API call was refused: the seller's authorisation may be revoked, or the \
             refresh token is another seller's; authorise the app again and put the new refresh \
             token into the secret",
        );
    }

    rules(ctx, &mut r).await;
    print(ctx, r)
}

/// The schedule rules must be enabled, or the functions never run.
async fn rules(ctx: &Ctx, r: &mut Report) {
    let names = match ctx.schedule_rules().await {
        Ok(Some(names)) => names,
        Ok(None) => {
            r.add(
                "schedule rules",
                Status::NotChecked,
                format!(
                    "stack {} has no ScheduleRules output; pass --schedule-rules",
                    ctx.args.stack
                ),
            );
            return;
        }
        Err(e) => {
            r.add("schedule rules", Status::NotChecked, format!("{e:#}"));
            return;
        }
    };
    let eb = aws_sdk_eventbridge::Client::new(&ctx.aws);
    for rule in names {
        let (bus, name) = rule_parts(&rule);
        let got = eb
            .describe_rule()
            .name(name)
            .set_event_bus_name(bus.map(str::to_string))
            .send()
            .await;
        let check = format!("schedule rule {name}");
        match got {
            Ok(out) => match out.state().map(|s| s.as_str()) {
                Some("ENABLED") => r.add(check, Status::Ok, "ENABLED"),
                Some(state) => r.add(
                    check,
                    Status::Problem,
                    format!(
                        "is {state}: the function it runs does not run on schedule; enable it \
                         (aws events enable-rule --name {name})"
                    ),
                ),
                None => r.add(check, Status::Problem, "has no state"),
            },
            Err(e) => r.add(check, Status::Problem, sdk_failure("EventBridge", &e)),
        }
    }
}

fn print(ctx: &Ctx, r: Report) -> Result<Outcome> {
    let problems = r
        .checks
        .iter()
        .filter(|c| c.status == Status::Problem)
        .count();
    if ctx.json {
        let out = json!({
            "problems": problems,
            "checks": r.checks.iter().map(|c| json!({
                "check": c.name,
                "status": match c.status { Status::Ok => "ok", Status::Problem => "problem", Status::NotChecked => "not-checked" },
                "detail": c.detail,
            })).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        for c in &r.checks {
            println!("{:<12} {}: {}", c.status.label(), c.name, c.detail);
        }
        match problems {
            0 => println!("No problems found."),
            1 => println!("1 problem."),
            n => println!("{n} problems."),
        }
    }
    Ok(if problems == 0 {
        Outcome::Ok
    } else {
        Outcome::Problems
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_is_found_by_name_bus_and_name_or_arn() {
        assert_eq!(
            rule_parts("kenzen-NewOrderCheck"),
            (None, "kenzen-NewOrderCheck")
        );
        assert_eq!(
            rule_parts("arn:aws:events:ap-northeast-1:123456789012:rule/kenzen-Sweep"),
            (None, "kenzen-Sweep")
        );
        assert_eq!(
            rule_parts("arn:aws:events:ap-northeast-1:123456789012:rule/kenzen/kenzen-Sweep"),
            (Some("kenzen"), "kenzen-Sweep")
        );
    }
}
