//! Each SP-API operation's rate and burst, from Amazon's usage plans, enforced as one token
//! bucket per operation on virtual time: a call past them is answered 429 by the guard.
//!
//! It must not sleep: time is the virtual clock's, and only moves when kenzen waits on it.

use std::collections::HashMap;

use jiff::Timestamp;

use crate::op::Op;

/// The operation's (requests per second, burst).
pub(crate) fn limits(op: Op) -> (f64, f64) {
    // Amazon's usage plans (`kenzen-spapi-rates`); operations without one (the token endpoint,
    // document transfers) are never rate limited, so the fallback is not used for them.
    kenzen_spapi_rates::usage_plan(op.id()).map_or((1.0, 5.0), |p| (p.rate, p.burst))
}

/// One operation's tokens; full at its first call.
#[derive(Debug, Default)]
pub(crate) struct Bucket {
    pub(crate) tokens: f64,
    pub(crate) last: Option<Timestamp>,
}

/// Takes one token for a call to `op` at `now`; `false` if the bucket is empty.
pub(crate) fn take(buckets: &mut HashMap<Op, Bucket>, op: Op, now: Timestamp) -> bool {
    let (rate, burst) = limits(op);
    let b = buckets.entry(op).or_default();
    let last = b.last.unwrap_or(now);
    if b.last.is_none() {
        b.tokens = burst;
    }
    b.tokens = (b.tokens + now.duration_since(last).as_secs_f64().max(0.0) * rate).min(burst);
    b.last = Some(now.max(last));
    if b.tokens >= 1.0 {
        b.tokens -= 1.0;
        true
    } else {
        false
    }
}
