//! kenzen-clock: the clock the service layer reads once per invocation, and that SP-API rate
//! limiting and the marketplace simulator run on.
//!
//! In Lambda it is the system clock. In tests, the demo and scenarios it is a [`VirtualClock`]
//! shared with the marketplace simulator: waiting on it moves virtual time forward at once, so a
//! scenario spanning days runs in seconds. Nothing else in kenzen may read the time.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use jiff::{SignedDuration, Timestamp};

/// Virtual time in nanoseconds since the Unix epoch, moved only by [`VirtualClock::advance`],
/// [`VirtualClock::set`] and waits.
#[derive(Debug)]
pub struct VirtualClock {
    nanos: AtomicI64,
}

impl VirtualClock {
    pub fn new(start: Timestamp) -> Arc<Self> {
        Arc::new(Self {
            nanos: AtomicI64::new(start.as_nanosecond() as i64),
        })
    }

    pub fn now(&self) -> Timestamp {
        Timestamp::from_nanosecond(i128::from(self.nanos.load(Ordering::SeqCst)))
            .expect("virtual clock holds a valid timestamp")
    }

    /// Moves time forward by `d` (a negative `d` is ignored: time never goes back).
    pub fn advance(&self, d: SignedDuration) {
        let n = d.as_nanos().clamp(0, i128::from(i64::MAX)) as i64;
        self.nanos.fetch_add(n, Ordering::SeqCst);
    }

    /// Moves time forward to `t` if `t` is later than now.
    pub fn set(&self, t: Timestamp) {
        self.nanos
            .fetch_max(t.as_nanosecond() as i64, Ordering::SeqCst);
    }
}

/// The system clock or a shared virtual one.
#[derive(Debug, Clone)]
pub enum Clock {
    System,
    Virtual(Arc<VirtualClock>),
}

impl Clock {
    pub fn now(&self) -> Timestamp {
        match self {
            Self::System => Timestamp::now(),
            Self::Virtual(v) => v.now(),
        }
    }

    /// Waits `d`: really (system clock) or by moving virtual time.
    pub async fn sleep(&self, d: SignedDuration) {
        if d <= SignedDuration::ZERO {
            return;
        }
        match self {
            Self::System => {
                tokio::time::sleep(d.unsigned_abs()).await;
            }
            Self::Virtual(v) => v.advance(d),
        }
    }
}
