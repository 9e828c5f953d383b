//! Where a lab run plays: the four real handlers at the template's cadence on the virtual
//! clock, with the real SP-API client against the simulator, over one of two stores.
//!
//! - `memory` (the default): kenzen's in-memory store (`kenzen_app::fakes::MemoryStore`, the
//!   one the service rule tests use, keeping the ports' contracts) and an in-memory bus that
//!   routes each domain event to the function the template's bus rules name. No moto_server:
//!   a run of hundreds of orders over two weeks takes seconds, not many minutes.
//! - `moto`: the end-to-end harness ([`crate::harness::World`]): DynamoDB, EventBridge and SQS
//!   on moto_server, as every other end-to-end run. Slower; it is there to check that the memory
//!   world gives the same figures.
//!
//! It plays AWS around the functions and nothing else: it never touches a case.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use anyhow::{Result, anyhow};
use aws_lambda_events::eventbridge::EventBridgeEvent;
use jiff::Timestamp;
use kenzen_app::Service;
use kenzen_app::adapters::spapi::SpApiClient;
use kenzen_app::clock::{Clock, VirtualClock};
use kenzen_app::config::Config;
use kenzen_app::fakes::MemoryStore;
use kenzen_app::ports::{EventPublisher, PublishError, TimelineEntry};
use kenzen_core::{DomainEvent, Settings, SkuInfo};
use serde_json::{Value, json};

use crate::harness::{Function, World, WorldOptions, route, run_handler, schedule_event};
use crate::sim::{ServerHandle, Sim, SimConfig};

/// Which store and bus a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Memory,
    Moto,
}

impl StoreKind {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "memory" => Ok(Self::Memory),
            "moto" => Ok(Self::Moto),
            other => Err(anyhow!("unknown store {other:?}: memory or moto")),
        }
    }
}

/// A bus that keeps what kenzen publishes until the world delivers it.
#[derive(Default)]
pub struct LabBus {
    events: Mutex<Vec<DomainEvent>>,
}

impl LabBus {
    fn take(&self) -> Vec<DomainEvent> {
        std::mem::take(&mut *self.events.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl EventPublisher for LabBus {
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), PublishError> {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(events);
        Ok(())
    }
}

/// The domain event as the bus rule delivers it to a function (source `kenzen`, the detail as
/// kenzen's EventBridge publisher writes it).
fn bus_event(ev: &DomainEvent, n: u64, now: Timestamp) -> Result<EventBridgeEvent<Value>> {
    Ok(serde_json::from_value(json!({
        "version": "0",
        "id": format!("lab-event-{n}"),
        "detail-type": ev.detail_type(),
        "source": kenzen_core::events::SOURCE,
        "account": "123456789012",
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "region": "ap-northeast-1",
        "resources": [],
        "detail": serde_json::to_value(ev.notice_safe())?,
    }))?)
}

/// The four functions on the in-memory store and bus.
pub struct MemoryWorld {
    clock: Arc<VirtualClock>,
    sim: Arc<Sim>,
    svc: Service<SpApiClient, MemoryStore, LabBus>,
    _server: ServerHandle,
    next_tick: BTreeMap<Function, Timestamp>,
    delivered_events: u64,
    failed: usize,
}

impl MemoryWorld {
    async fn start(start: Timestamp, settings: Settings) -> Result<Self> {
        crate::harness::cadence()?;
        kenzen_app::report::keep_emf_off_stdout();
        let clock = VirtualClock::new(start);
        let sim = Sim::new(SimConfig::default(), clock.clone());
        let (bound, server) = sim.serve("127.0.0.1:0".parse()?).await?;
        let base = format!("http://{bound}");
        let c = &sim.config;
        let env: BTreeMap<&str, String> = BTreeMap::from([
            ("KENZEN_TABLE", "kenzen-lab".to_string()),
            ("KENZEN_EVENT_BUS", "kenzen-lab".to_string()),
            ("KENZEN_MARKETPLACE_ID", c.marketplace_id.clone()),
            ("KENZEN_SELLER_ID", c.seller_id.clone()),
            ("KENZEN_SPAPI_ENDPOINT", base.clone()),
            ("KENZEN_LWA_ENDPOINT", format!("{base}/auth/o2/token")),
            ("KENZEN_LWA_CLIENT_ID", c.client_id.clone()),
            ("KENZEN_LWA_CLIENT_SECRET", c.client_secret.clone()),
            ("KENZEN_LWA_REFRESH_TOKEN", c.refresh_token.clone()),
            (
                "KENZEN_STRATEGY",
                settings.strategy.as_setting().to_string(),
            ),
        ]);
        let config = Config::from_lookup(|k| env.get(k).cloned()).map_err(|e| anyhow!(e))?;
        let market = SpApiClient::new(config.spapi, Clock::Virtual(clock.clone()))
            .map_err(|e| anyhow!(e))?;
        let svc = Service::new(
            market,
            MemoryStore::new(),
            LabBus::default(),
            settings,
            Clock::Virtual(clock.clone()),
        )
        .with_initial_lookback(config.initial_lookback)
        .with_reply_sweep(
            kenzen_app::service::REPLY_SWEEP_LIMIT,
            config.reply_sweep_every,
        );
        Ok(Self {
            clock,
            sim,
            svc,
            _server: server,
            next_tick: Function::ALL.iter().map(|f| (*f, start)).collect(),
            delivered_events: 0,
            failed: 0,
        })
    }

    async fn invoke(&mut self, f: Function, event: EventBridgeEvent<Value>) {
        let inv = run_handler(&self.svc, &self.sim, &self.clock, f, 0, event).await;
        if inv.result.is_err() {
            self.failed += 1;
        }
    }

    /// Runs every function at its cadence until `end`, delivering the events each run
    /// publishes (and those their runs publish) before the next tick, as the harness does.
    async fn run_until(&mut self, end: Timestamp) -> Result<()> {
        loop {
            let (f, at) = self
                .next_tick
                .iter()
                .map(|(f, t)| (*f, *t))
                .min_by_key(|(f, t)| (*t, Function::ALL.iter().position(|g| g == f)))
                .expect("four schedules");
            if at > end {
                self.clock.set(end);
                self.sim.advance();
                return Ok(());
            }
            self.clock.set(at);
            self.invoke(f, schedule_event(f, at)).await;
            self.next_tick.insert(f, at + f.every());
            loop {
                let events = self.svc.events().take();
                if events.is_empty() {
                    break;
                }
                for ev in events {
                    let Some(g) = route(ev.detail_type()) else {
                        continue;
                    };
                    self.delivered_events += 1;
                    let event = bus_event(&ev, self.delivered_events, self.clock.now())?;
                    self.invoke(g, event).await;
                }
            }
        }
    }
}

/// A lab run's world.
pub enum LabWorld {
    Memory(Box<MemoryWorld>),
    Moto(Box<World>),
}

impl LabWorld {
    /// A world starting at `start` under `settings`, its simulator at its defaults
    /// (amazon.co.jp).
    pub async fn start(kind: StoreKind, start: Timestamp, settings: Settings) -> Result<Self> {
        Ok(match kind {
            StoreKind::Memory => Self::Memory(Box::new(MemoryWorld::start(start, settings).await?)),
            StoreKind::Moto => {
                let opts = WorldOptions {
                    start,
                    settings,
                    ..WorldOptions::at("2026-01-01T00:00:00Z")
                };
                Self::Moto(Box::new(World::start(opts).await?))
            }
        })
    }

    pub fn sim(&self) -> &Arc<Sim> {
        match self {
            Self::Memory(w) => &w.sim,
            Self::Moto(w) => &w.sim,
        }
    }

    pub fn now(&self) -> Timestamp {
        match self {
            Self::Memory(w) => w.clock.now(),
            Self::Moto(w) => w.now(),
        }
    }

    pub async fn run_until(&mut self, end: Timestamp) -> Result<()> {
        match self {
            Self::Memory(w) => w.run_until(end).await,
            Self::Moto(w) => w.run_until(end).await,
        }
    }

    /// The functions deployed again with `settings`.
    pub fn redeploy(&mut self, settings: &Settings) {
        match self {
            Self::Memory(w) => w.svc.set_settings(settings.clone()),
            Self::Moto(w) => w.redeploy(settings),
        }
    }

    /// The seller's stock of `sku`.
    pub async fn stock(&self, sku: &str, on_hand: u32) -> Result<()> {
        match self {
            Self::Memory(w) => {
                w.svc.store().put_stock(
                    sku,
                    SkuInfo {
                        on_hand: Some(on_hand),
                        unit_cost: None,
                        shipping_cost: None,
                        product_type: None,
                    },
                );
                Ok(())
            }
            Self::Moto(w) => w.stock(sku, on_hand).await,
        }
    }

    /// The timeline kenzen wrote for `order_id`, in the order written.
    pub async fn timeline(&self, order_id: &str) -> Result<Vec<TimelineEntry>> {
        match self {
            Self::Memory(w) => Ok(w.svc.store().timeline_of(order_id)),
            Self::Moto(w) => w.timeline(order_id).await,
        }
    }

    /// Invocations that failed (each is retried by the function's next run).
    pub fn failed_invocations(&self) -> usize {
        match self {
            Self::Memory(w) => w.failed,
            Self::Moto(w) => w.failures().len(),
        }
    }
}
