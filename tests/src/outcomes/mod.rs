//! The outcome lab (`scripts/outcomes.sh`): a seeded population of buyers of unfillable orders,
//! played through the four real handlers and the real SP-API client against the simulator
//! under each policy, to see how many orders end exempt from the cancel rate. A benchmark that
//! prints figures: it is not a test and judges nothing but the never-break rules.
//!
//! The buyers live here, outside the simulator's scripted behaviour: every order's buyer is
//! `Buyer::Silent` to the simulator, and the lab watches the messages the simulator delivers,
//! draws from [`population`] when (if ever) the buyer reads each one, and schedules Amazon's
//! "request cancellation" for a buyer the request convinces. Every policy plays the same orders
//! with the same buyers' draws (common random numbers).
//!
//! Layout: [`population`] (the data file and its draws), [`world`] (where a run plays: the
//! in-memory store or moto_server), [`report`] (the table, CSV and chart).

pub mod population;
pub mod report;
pub mod world;

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use jiff::{SignedDuration, Timestamp};
use kenzen_core::marketplace::Language;
use kenzen_core::{LocalTime, Settings, Strategy};

use crate::checks::{Limits, OrderFacts, check};
use crate::sim::{Action, Buyer, SimItem, SimOrder};
use population::{BuyerTraits, Complies, DayKinds, LabOrder, MARKETPLACE, Population, zone};
use world::{LabWorld, StoreKind};

/// How a seller handles an unfillable order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Policy {
    /// Strategy cancel-first: apologise and cancel at once.
    CancelAtOnce,
    /// The seed's manual routine: the seller notices the order at their next 09:00 look, sends
    /// one request then and one at the same hour the next day, then apologises and cancels.
    Manual,
    /// kenzen's ask-buyer with its default slots (08:30, 12:30, 19:00), at most 3 requests.
    FixedSlots,
    /// kenzen's ask-buyer with `learn_slots` on: kenzen learns its slots from its own history
    /// (a warm-up week of orders comes first, played the same way).
    LearnedSlots,
}

impl Policy {
    pub const ALL: [Policy; 4] = [
        Policy::CancelAtOnce,
        Policy::Manual,
        Policy::FixedSlots,
        Policy::LearnedSlots,
    ];

    /// The name printed in the table.
    pub fn label(self) -> &'static str {
        match self {
            Self::CancelAtOnce => "cancel at once",
            Self::Manual => "manual routine",
            Self::FixedSlots => "kenzen fixed slots",
            Self::LearnedSlots => "kenzen learned slots",
        }
    }

    /// The name in the CSV and on the command line.
    pub fn key(self) -> &'static str {
        match self {
            Self::CancelAtOnce => "cancel-at-once",
            Self::Manual => "manual",
            Self::FixedSlots => "fixed",
            Self::LearnedSlots => "learned",
        }
    }

    pub fn parse(s: &str) -> Result<Policy> {
        Self::ALL.into_iter().find(|p| p.key() == s).ok_or_else(|| {
            anyhow!(
                "unknown policy {s:?}: one of {}",
                Self::ALL.map(Policy::key).join(", ")
            )
        })
    }

    /// kenzen's settings for the policy, at the template's sweep cadence.
    ///
    /// Only the learned-slots policy has `learn_slots` on (the template's default): kenzen
    /// starts with the configured slots and learns its own from the history it records, as
    /// deployed (hourly, per local kind of day, once it has enough observations).
    pub fn settings(self) -> Result<Settings> {
        let strategy = match self {
            Self::CancelAtOnce => Strategy::CancelFirst,
            _ => Strategy::AskBuyer,
        };
        let mut s = Settings::new(strategy, MARKETPLACE);
        s.learn_slots = self == Self::LearnedSlots;
        let cadence = crate::harness::cadence()?;
        s.send_sweep = SignedDuration::from_mins(cadence["MessageResend"]);
        s.cancel_sweep = SignedDuration::from_mins(cadence["FinalCancel"]);
        if self == Self::Manual {
            // One send slot at 09:00: the first request goes when the case opens (the seller's
            // morning look), the second at the next 09:00 (23 h on, so the same hour the next
            // day), then the final apology at kenzen's final-notice time and the cancel.
            s.windows.slots = vec![MANUAL_LOOK];
            s.max_requests = 2;
            s.min_gap = SignedDuration::from_hours(23);
        }
        s.validate().map_err(|e| anyhow!("{}: {e}", self.label()))?;
        Ok(s)
    }

    /// The policy runs a warm-up week before the evaluated orders.
    pub fn warms_up(self) -> bool {
        self == Self::LearnedSlots
    }

    /// When kenzen first sees an order placed at `placed`: at once, or for the manual routine
    /// at the seller's next morning look (the order reaches the seller's routine then).
    fn visible_at(self, placed: Timestamp) -> Timestamp {
        if self != Self::Manual {
            return placed;
        }
        let tz = zone();
        let local = placed.to_zoned(tz.clone());
        let today = local.date();
        let day = if (local.hour(), local.minute()) <= (MANUAL_LOOK.hour, MANUAL_LOOK.minute) {
            today
        } else {
            today.tomorrow().unwrap_or(today)
        };
        day.at(MANUAL_LOOK.hour, MANUAL_LOOK.minute, 0, 0)
            .to_zoned(tz)
            .map_or(placed, |z| z.timestamp())
    }
}

/// The manual seller's daily look at new orders.
const MANUAL_LOOK: LocalTime = LocalTime::new(9, 0);

/// How often the lab looks for new deliveries (a buyer's reaction is never due before the lab
/// has seen the message: reading times are drawn from the delivery time on).
const STEP: SignedDuration = SignedDuration::from_mins(5);

/// How many sold-out SKUs the orders are spread over.
const SKUS: u64 = 50;

/// What one policy did with one seed's orders (the evaluated ones).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RunFigures {
    pub policy: String,
    pub seed: u64,
    pub orders: usize,
    /// Cancelled as BuyerCanceled after the buyer's own request: not counted.
    pub exempt: usize,
    /// Cancelled for the seller's reasons: counted against the cancel rate.
    pub counted: usize,
    /// Not cancelled before ship-by.
    pub late: usize,
    /// Still open at the end of the run, or ended otherwise.
    pub other: usize,
    pub messages: usize,
    pub messages_max: usize,
    pub requests: usize,
    pub requests_max: usize,
    /// The policy's cap: requests per case, and all messages per case (requests + apology).
    pub cap_requests: u32,
    pub broken_rules: Vec<String>,
    /// Handler invocations that failed (each retried by the function's next run).
    pub failed_invocations: usize,
    /// The learned slots and why, for the learned policy.
    pub slots: Vec<String>,
    /// Opening delays of the evaluated orders' messages to buyers who read (opened within 1 h,
    /// 6 h, 24 h, later; never).
    pub opened: [usize; 5],
    pub virtual_days: f64,
    pub wall_secs: f64,
    /// Every message the evaluated orders' buyers received, and what the lab drew for it.
    #[serde(skip)]
    pub messages_trace: Vec<TracedMessage>,
}

/// One delivered message of an evaluated order (for `messages.csv`).
#[derive(Debug, Clone)]
pub struct TracedMessage {
    pub order_id: String,
    pub placed: Timestamp,
    pub ship_by: Timestamp,
    pub sent_at: Timestamp,
    pub request: bool,
    pub read_at: Option<Timestamp>,
    pub buyer: BuyerTraits,
    /// When the lab had the buyer request the cancellation (as far as known then).
    pub requests_at: Option<Timestamp>,
}

impl RunFigures {
    pub fn exempt_share(&self) -> f64 {
        share(self.exempt, self.orders)
    }

    pub fn counted_share(&self) -> f64 {
        share(self.counted, self.orders)
    }

    pub fn messages_per_case(&self) -> f64 {
        self.messages as f64 / self.orders.max(1) as f64
    }

    pub fn requests_per_case(&self) -> f64 {
        self.requests as f64 / self.orders.max(1) as f64
    }
}

fn share(n: usize, of: usize) -> f64 {
    100.0 * n as f64 / of.max(1) as f64
}

/// What the lab knows of one buyer while a run plays.
struct BuyerState {
    index: u64,
    placed: Timestamp,
    ship_by: Timestamp,
    warmup: bool,
    traits: BuyerTraits,
    /// Messages delivered so far (requests and the apology).
    received: u32,
    /// When the requests read so far are read, ascending.
    requests_read: Vec<Timestamp>,
    /// When the lab has the buyer request the cancellation.
    requests_at: Option<Timestamp>,
}

/// The order id of the buyer numbered `index` in `seed`'s orders.
fn order_id(seed: u64, index: u64) -> String {
    format!("503-{:07}-{:07}", seed % 10_000_000, index % 10_000_000)
}

fn sku(index: u64) -> String {
    format!("GONE-{:03}", index % SKUS)
}

/// Plays `orders` (the evaluated ones, and the warm-up ones if the policy warms up) under
/// `policy` with `pop`'s buyers for `seed`, through the real handlers.
pub async fn run(
    policy: Policy,
    seed: u64,
    pop: &Population,
    orders: &[LabOrder],
    store: StoreKind,
) -> Result<RunFigures> {
    let wall = Instant::now();
    let settings = policy.settings()?;
    let played: Vec<&LabOrder> = orders
        .iter()
        .filter(|o| policy.warms_up() || !o.warmup)
        .collect();
    let first = played
        .iter()
        .map(|o| o.placed)
        .min()
        .ok_or_else(|| anyhow!("no orders to play"))?;
    let last_placed = played.iter().map(|o| o.placed).max().unwrap_or(first);
    let end =
        played.iter().map(|o| o.ship_by).max().unwrap_or(first) + SignedDuration::from_hours(1);
    let tz = zone();
    let start = first
        .to_zoned(tz.clone())
        .date()
        .to_zoned(tz.clone())
        .map(|z| z.timestamp())
        .unwrap_or(first);
    let mut world = LabWorld::start(store, start, settings.clone()).await?;
    for s in 0..SKUS {
        world.stock(&sku(s), 0).await?;
    }
    let mut buyers: HashMap<String, BuyerState> = HashMap::new();
    for o in &played {
        let id = order_id(seed, o.index);
        let items = vec![SimItem {
            order_item_id: format!("{:014}", 20_000_000_000_000u64 + o.index),
            sku: sku(o.index),
            asin: format!("B0LAB{:05}", o.index % 100_000),
            title: "健全茶 (lab item)".into(),
            quantity: 1,
            unit_price: "2480".into(),
        }];
        let mut order = SimOrder::new(&id, o.placed, o.ship_by, items, Buyer::Silent, "ja-JP");
        order.last_updated = policy.visible_at(o.placed);
        world.sim().add_order(order);
        buyers.insert(
            id,
            BuyerState {
                index: o.index,
                placed: o.placed,
                ship_by: o.ship_by,
                warmup: o.warmup,
                traits: pop.buyer(seed, o.index),
                received: 0,
                requests_read: Vec::new(),
                requests_at: None,
            },
        );
    }

    // A request (not the apology) is the message that tells the buyer where to request the
    // cancellation; every lab buyer reads Japanese.
    let request_marker = kenzen_core::templates::cancel_path(Language::Japanese);
    let mut days = DayKinds::default();
    let mut seen = 0usize;
    let mut opened = [0usize; 5];
    let mut trace = Vec::new();
    let mut t = start;
    while t < end {
        t = (t + STEP).min(end);
        world.run_until(t).await?;
        let now = world.now();
        let fresh = world.sim().delivered_since(seen);
        seen += fresh.len();
        for d in fresh {
            let Some(b) = buyers.get_mut(&d.order_id) else {
                continue;
            };
            let k = b.received;
            b.received += 1;
            let read = pop.read_at(seed, b.index, &b.traits, k, d.at, &mut days);
            if b.traits.reads && !b.warmup {
                let bucket = match read.map(|r| r.duration_since(d.at).as_hours()) {
                    Some(h) if h < 1 => 0,
                    Some(h) if h < 6 => 1,
                    Some(h) if h < 24 => 2,
                    Some(_) => 3,
                    None => 4,
                };
                opened[bucket] += 1;
            }
            let request = d.text.contains(request_marker);
            if let (Some(r), true) = (read, request) {
                let pos = b.requests_read.partition_point(|x| *x <= r);
                b.requests_read.insert(pos, r);
                let needed = match b.traits.complies {
                    Complies::OnFirstRead => Some(1),
                    Complies::OnSecondRead => Some(2),
                    Complies::Never => None,
                };
                if let Some(convinced) = needed.and_then(|n| b.requests_read.get(n - 1)) {
                    let at = (*convinced + b.traits.delay).max(now);
                    if b.requests_at.is_none_or(|s| at < s) {
                        world
                            .sim()
                            .schedule(at, &d.order_id, Action::BuyerRequestsCancellation);
                        b.requests_at = Some(at);
                    }
                }
            }
            if !b.warmup {
                trace.push(TracedMessage {
                    order_id: d.order_id.clone(),
                    placed: b.placed,
                    ship_by: b.ship_by,
                    sent_at: d.at,
                    request,
                    read_at: read,
                    buyer: b.traits,
                    requests_at: b.requests_at,
                });
            }
        }
        // Every order placed and every case ended: nothing more can happen.
        if t > last_placed
            && t.as_second() % 3600 == 0
            && buyers.keys().all(|id| {
                world
                    .sim()
                    .order(id)
                    .is_some_and(|o| o.status != "UNSHIPPED")
            })
        {
            break;
        }
    }

    let mut figures = tally(
        &world,
        &settings,
        policy,
        seed,
        &played,
        request_marker,
        end,
    )?;
    figures.slots = learned_slot_notes(&world, seed, &played).await?;
    figures.failed_invocations = world.failed_invocations();
    figures.opened = opened;
    figures.messages_trace = trace;
    figures.virtual_days = world.now().duration_since(start).as_secs_f64() / 86_400.0;
    figures.wall_secs = wall.elapsed().as_secs_f64();
    Ok(figures)
}

/// What kenzen wrote on the evaluated orders' timelines about the slots it learned: for each
/// learned slot (and kind of day), how many requests went out in it, with kenzen's reason as of
/// the last of them; and how many requests went out in the configured slots.
async fn learned_slot_notes(
    world: &LabWorld,
    seed: u64,
    played: &[&LabOrder],
) -> Result<Vec<String>> {
    let mut by_slot: BTreeMap<String, (usize, String)> = BTreeMap::new();
    let mut configured = 0usize;
    for o in played.iter().filter(|o| !o.warmup) {
        for e in world.timeline(&order_id(seed, o.index)).await? {
            if e.kind != "message" || !e.note.starts_with("request message") {
                continue;
            }
            let Some((_, why)) = e.note.split_once("; ") else {
                configured += 1;
                continue;
            };
            let key = match why.split_once(" chosen:") {
                Some((slot, _)) if why.contains(" on weekdays") => format!("weekdays, {slot}"),
                Some((slot, _)) => format!("weekends and holidays, {slot}"),
                // A configured slot kept in a learned set (its reason names no kind of day).
                None => {
                    why.split_once(" kept from")
                        .map_or(why, |(slot, _)| slot)
                        .to_string()
                        + " (kept from the configured slots)"
                }
            };
            let entry = by_slot.entry(key).or_insert((0, String::new()));
            entry.0 += 1;
            entry.1 = why.to_string();
        }
    }
    let mut out: Vec<String> = by_slot
        .into_iter()
        .map(|(k, (n, why))| format!("{k}: {n} requests; last reason: {why}"))
        .collect();
    out.push(format!(
        "{configured} requests in no learned slot (before learning, on a kind of day without \
         enough history, or a first request sent when the order was found, between slots)"
    ));
    Ok(out)
}

/// Reads the evaluated orders' endings off the simulator (the marketplace's view), and checks
/// the never-break rules over every order played.
fn tally(
    world: &LabWorld,
    settings: &Settings,
    policy: Policy,
    seed: u64,
    played: &[&LabOrder],
    request_marker: &str,
    end: Timestamp,
) -> Result<RunFigures> {
    let log = world.sim().log();
    let mut ended: BTreeMap<String, Timestamp> = BTreeMap::new();
    for l in &log {
        if matches!(l["action"].as_str(), Some("cancelExecuted" | "cancelOrder"))
            && let (Some(id), Some(t)) = (
                l["orderId"].as_str(),
                l["time"].as_str().and_then(|t| t.parse::<Timestamp>().ok()),
            )
        {
            ended.entry(id.to_string()).or_insert(t);
        }
    }
    let mut messages: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for d in world.sim().delivered() {
        let m = messages.entry(d.order_id).or_default();
        m.0 += 1;
        m.1 += usize::from(d.text.contains(request_marker));
    }
    let mut f = RunFigures {
        policy: policy.key().into(),
        seed,
        cap_requests: settings.max_requests,
        ..RunFigures::default()
    };
    let mut facts = Vec::new();
    for o in played {
        let id = order_id(seed, o.index);
        facts.push(OrderFacts {
            order_id: id.clone(),
            ship_by: o.ship_by,
            has_case: true,
            ended_at: ended.get(&id).copied(),
            notice_excused: false,
            cancel_by: Some(o.ship_by - settings.cancel_margin),
            lines: 1,
            deadline_unreachable: false,
            deadline_alerted: false,
        });
        if o.warmup {
            continue;
        }
        let s = world
            .sim()
            .order(&id)
            .with_context(|| format!("order {id} is gone from the simulator"))?;
        f.orders += 1;
        let merchant = s.cancel.as_ref().is_some_and(|(by, _)| by == "MERCHANT");
        let buyer_reasons = !s.cancelled_items.is_empty()
            && s.cancelled_items.values().all(|r| r == "BuyerCanceled");
        if s.status == "CANCELLED" && merchant && s.buyer_request.is_some() && buyer_reasons {
            f.exempt += 1;
        } else if s.status == "CANCELLED" && merchant {
            f.counted += 1;
        } else {
            f.other += 1;
        }
        if ended.get(&id).is_none_or(|t| *t >= o.ship_by) {
            f.late += 1;
        }
        let (m, r) = messages.get(&id).copied().unwrap_or_default();
        f.messages += m;
        f.requests += r;
        f.messages_max = f.messages_max.max(m);
        f.requests_max = f.requests_max.max(r);
    }
    let c = &world.sim().config;
    let limits = Limits {
        max_messages: settings.max_requests + 1,
        forbidden: vec![c.client_secret.clone(), c.refresh_token.clone()],
        windows: Some(settings.windows.clone()),
        order_windows: BTreeMap::new(),
        languages: played
            .iter()
            .map(|o| (order_id(seed, o.index), Language::Japanese))
            .collect(),
        orders: facts,
        end,
    };
    f.broken_rules = check(&log, &limits);
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn population() -> Population {
        population::shipped()
    }

    /// The learned policy is kenzen's own `learn_slots`: after the warm-up week it sends in
    /// slots it learned and says why on the timeline, within the cap, with no broken rule.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_learned_policy_sends_in_slots_kenzen_learned_and_breaks_no_rule() {
        let pop = population();
        let orders = pop.orders(3, 40);
        let f = run(Policy::LearnedSlots, 3, &pop, &orders, StoreKind::Memory)
            .await
            .expect("the run plays");
        assert_eq!(f.orders, 40);
        assert!(f.broken_rules.is_empty(), "{:?}", f.broken_rules);
        assert_eq!(f.late, 0);
        assert_eq!(f.exempt + f.counted, 40, "{f:?}");
        assert!(f.requests_max <= 3 && f.messages_max <= 4, "{f:?}");
        let learned: Vec<&String> = f.slots.iter().filter(|l| l.contains(" chosen: ")).collect();
        assert!(
            !learned.is_empty(),
            "no request in a learned slot: {:?}",
            f.slots
        );
    }

    /// The other policies never learn: every request goes out in a configured slot.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_fixed_policy_sends_only_in_the_configured_slots() {
        let pop = population();
        let orders = pop.orders(3, 40);
        let f = run(Policy::FixedSlots, 3, &pop, &orders, StoreKind::Memory)
            .await
            .expect("the run plays");
        assert!(f.broken_rules.is_empty(), "{:?}", f.broken_rules);
        assert!(
            f.slots.iter().all(|l| !l.contains(" chosen: ")),
            "{:?}",
            f.slots
        );
        assert!(f.requests > 0);
    }
}
