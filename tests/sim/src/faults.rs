//! Failures on purpose: a configured share of calls to an operation that fail at random
//! (seeded, so a run repeats), and scripted wrong answers injected by tests.
//!
//! A fault strikes before processing (after the token and rate checks, like a real server
//! fault: the call changes nothing) or after it (the simulator acted; the answer is lost on the
//! way back), and may be limited to a window of virtual time.

use axum::http::StatusCode;
use serde_json::Value;

use jiff::Timestamp;

use crate::op::Op;
use crate::wire::{errors, quota_exceeded};
use crate::world::World;
use crate::{FaultRate, FaultSide};

/// The random failure of this call to `op` at `now` on `side` of processing, if one of `rates`
/// strikes. Each rate that covers the call draws once, in order, until one strikes.
pub(crate) fn random(
    rates: &[FaultRate],
    w: &mut World,
    op: Op,
    now: Timestamp,
    side: FaultSide,
) -> Option<(StatusCode, Value)> {
    for rate in rates {
        if rate.side == side && rate.covers(op.id(), now) && next_random(&mut w.rng) < rate.share {
            let status =
                StatusCode::from_u16(rate.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let body = if status == StatusCode::TOO_MANY_REQUESTS {
                quota_exceeded()
            } else {
                errors(
                    "InternalFailure",
                    "We encountered an internal error. Please try again.",
                )
            };
            return Some((status, body));
        }
    }
    None
}

/// The next scripted wrong answer for `op`, used up by this call.
pub(crate) fn scripted(w: &mut World, op: Op) -> Option<(StatusCode, String)> {
    let f = w
        .faults
        .iter_mut()
        .find(|f| f.op == op.id() && f.times > 0)?;
    f.times -= 1;
    let status = StatusCode::from_u16(f.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    Some((status, f.body.clone()))
}

/// xorshift64*: deterministic for a given seed.
fn next_random(state: &mut u64) -> f64 {
    let mut x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
}
