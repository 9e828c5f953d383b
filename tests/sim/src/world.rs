//! The simulated marketplace's state: orders, offers, feeds and documents, reports, issued
//! tokens, notification settings, the log, and the scripted actions waiting for their time.
//!
//! It is plain data behind the simulator's one lock; the API modules read and change it. It
//! must not know HTTP: answers are made in the API modules.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::op::Op;
use crate::rate::Bucket;
use crate::wire::iso;
use crate::{Action, Delivered, ReportOutcome, SimOrder};

#[derive(Debug, Default)]
pub(crate) struct World {
    pub(crate) orders: BTreeMap<String, SimOrder>,
    /// Scripted actions by (time, order of scheduling): every request plays the due ones, so
    /// finding them must not cost a pass over all of them (a volume run schedules thousands).
    pending: BTreeMap<(Timestamp, u64), (String, Action)>,
    scheduled: u64,
    /// Offer quantity per offer (marketplace, SKU), as set by listing patches and given back
    /// by cancels: a SKU has an offer of its own in each marketplace.
    pub(crate) offers: BTreeMap<OfferKey, i64>,
    /// The random failures' xorshift state (never 0).
    pub(crate) rng: u64,
    pub(crate) delivered: Vec<Delivered>,
    /// Feed documents by id: `None` until uploaded.
    pub(crate) documents: HashMap<String, Option<Vec<u8>>>,
    pub(crate) feeds: BTreeMap<String, Feed>,
    /// Every access token issued, with the time it was issued at.
    pub(crate) tokens: Vec<(String, Timestamp)>,
    pub(crate) buckets: HashMap<Op, Bucket>,
    pub(crate) faults: Vec<Fault>,
    /// Notification destinations as (destinationId, SQS ARN).
    pub(crate) destinations: Vec<(String, String)>,
    pub(crate) subscription: Option<Value>,
    pub(crate) log: Vec<Value>,
    next_id: u64,
    /// Each patched offer's fulfillment availability but its quantity (that is in `offers`),
    /// as listing patches left it; an offer never patched is as the configuration sets it.
    pub(crate) offer_attributes: BTreeMap<OfferKey, serde_json::Map<String, Value>>,
    /// When a listing patch last changed each offer.
    pub(crate) offer_updated: BTreeMap<OfferKey, Timestamp>,
    /// The getFeeds queries whose next pages the `nextToken`s handed out stand for.
    pub(crate) feed_pages: BTreeMap<String, FeedQuery>,
    /// Reports requested, by report id.
    pub(crate) reports: BTreeMap<String, Report>,
    /// Report documents by report document id (apart from feed documents: the Feeds API never
    /// sees them).
    pub(crate) report_documents: HashMap<String, ReportDocument>,
}

impl World {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            rng: seed.max(1),
            ..Self::default()
        }
    }

    /// A number no other id in this world has used (ids of documents, feeds, tokens…).
    pub(crate) fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Schedules `action` for order `id` at `t` (actions due at the same time play in the order
    /// they were scheduled).
    pub(crate) fn schedule(&mut self, t: Timestamp, id: String, action: Action) {
        self.scheduled += 1;
        self.pending.insert((t, self.scheduled), (id, action));
    }

    /// Applies every scripted action due by `now`, in time order, to orders still unshipped.
    pub(crate) fn play_due(&mut self, now: Timestamp) {
        while let Some(entry) = self.pending.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let ((t, _), (id, action)) = entry.remove_entry();
            let Some(o) = self.orders.get_mut(&id) else {
                continue;
            };
            if o.status != "UNSHIPPED" {
                continue;
            }
            let (actor, name) = match action {
                Action::BuyerRequestsCancellation => {
                    if o.buyer_request.is_some() {
                        continue;
                    }
                    o.buyer_request = Some(t);
                    ("buyer", "requestCancellation")
                }
                Action::BuyerCancels => {
                    o.status = "CANCELLED";
                    o.cancel = Some(("BUYER".into(), "BUYER_CANCELED".into()));
                    ("buyer", "cancelOrder")
                }
                Action::SellerShips => {
                    o.status = "SHIPPED";
                    o.shipped_at = Some(t);
                    ("seller", "ship")
                }
                Action::RequestStopsShowing => {
                    if o.buyer_request.take().is_none() {
                        continue;
                    }
                    ("marketplace", "requestNoLongerShown")
                }
            };
            o.last_updated = t;
            let mut line = json!({
                "time": iso(t), "actor": actor, "action": name, "orderId": id
            });
            if name == "requestCancellation"
                && let Some(items) = &o.request_items
            {
                line["orderItemIds"] = json!(items);
            }
            self.log.push(line);
        }
    }
}

/// An offer: (marketplace id, SKU).
pub(crate) type OfferKey = (String, String);

/// The key of the offer of `sku` in `marketplace`.
pub(crate) fn offer(marketplace: &str, sku: &str) -> OfferKey {
    (marketplace.to_string(), sku.to_string())
}

/// A scripted wrong answer: operation `op` answers `status` with `body`, `times` times.
#[derive(Debug, Clone)]
pub(crate) struct Fault {
    pub(crate) op: String,
    pub(crate) status: u16,
    pub(crate) body: String,
    pub(crate) times: u32,
}

/// A feed as the simulator holds it.
#[derive(Debug, Clone)]
pub(crate) struct Feed {
    pub(crate) id: String,
    /// The one marketplace the feed applies to (its `marketplaceIds`).
    pub(crate) marketplace: String,
    pub(crate) created: Timestamp,
    pub(crate) document_id: String,
    pub(crate) status: &'static str,
    pub(crate) result_document_id: Option<String>,
}

/// A report as the simulator holds it. Its processing status follows from the virtual time
/// (see `reports`); what it ends with is fixed when it is requested.
#[derive(Debug, Clone)]
pub(crate) struct Report {
    pub(crate) id: String,
    pub(crate) report_type: String,
    pub(crate) marketplaces: Vec<String>,
    pub(crate) created: Timestamp,
    pub(crate) data_start: Option<Timestamp>,
    pub(crate) data_end: Option<Timestamp>,
    pub(crate) outcome: ReportOutcome,
    /// Set when the report ends with a document, at the first read after it ended.
    pub(crate) document_id: Option<String>,
}

/// A report document: its bytes as served (compressed when `gzip`).
#[derive(Debug, Clone)]
pub(crate) struct ReportDocument {
    pub(crate) bytes: Vec<u8>,
    pub(crate) gzip: bool,
}

/// A getFeeds query, and where its next page starts.
#[derive(Debug, Clone)]
pub(crate) struct FeedQuery {
    pub(crate) feed_types: Vec<String>,
    pub(crate) marketplaces: Option<Vec<String>>,
    pub(crate) statuses: Option<Vec<String>>,
    pub(crate) since: Timestamp,
    pub(crate) until: Timestamp,
    pub(crate) page_size: usize,
    pub(crate) offset: usize,
}
