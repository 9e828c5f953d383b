//! Amazon's usage plans for the SP-API operations kenzen calls: requests per second and burst,
//! as Amazon's API models state them. The one place they are written: kenzen's SP-API client
//! keeps to them and the marketplace simulator enforces them. `tests/models.rs` checks every row
//! against the models in `../shared/spapi-models/`.

/// An operation's usage plan.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UsagePlan {
    /// Requests per second, restored continuously.
    pub rate: f64,
    /// How many requests may go at once.
    pub burst: f64,
}

const fn plan(rate: f64, burst: f64) -> UsagePlan {
    UsagePlan { rate, burst }
}

/// Operation id (as in Amazon's models) → usage plan.
pub const PLANS: &[(&str, UsagePlan)] = &[
    ("searchOrders", plan(0.0056, 20.0)),
    ("getOrder", plan(0.5, 30.0)),
    ("getMessagingActionsForOrder", plan(1.0, 5.0)),
    ("getAttributes", plan(1.0, 5.0)),
    ("createUnexpectedProblem", plan(1.0, 5.0)),
    ("createFeedDocument", plan(0.5, 15.0)),
    ("createFeed", plan(0.0083, 15.0)),
    ("getFeed", plan(2.0, 15.0)),
    ("getFeeds", plan(0.0222, 10.0)),
    ("getFeedDocument", plan(0.0222, 10.0)),
    ("patchListingsItem", plan(5.0, 5.0)),
    ("getListingsItem", plan(5.0, 10.0)),
    ("getDestinations", plan(1.0, 5.0)),
    ("createDestination", plan(1.0, 5.0)),
    ("getSubscription", plan(1.0, 5.0)),
    ("createSubscription", plan(1.0, 5.0)),
    ("createReport", plan(0.0167, 15.0)),
    ("getReport", plan(2.0, 15.0)),
    ("getReportDocument", plan(0.0167, 15.0)),
];

/// The usage plan of `operation_id` (case-insensitive: the messaging model spells
/// `GetAttributes`), if kenzen calls it.
pub fn usage_plan(operation_id: &str) -> Option<UsagePlan> {
    PLANS
        .iter()
        .find(|(id, _)| id.eq_ignore_ascii_case(operation_id))
        .map(|(_, p)| *p)
}
