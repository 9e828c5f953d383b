//! kenzen-core: the workflow rules every kenzen function shares.
//!
//! It decides; it never acts. Given a case, an input and the time `now` (always passed in, never
//! read from a clock), [`decide`] returns the next state and the effects the service layer must
//! carry out (send this message, submit this cancel, publish this event). Nothing in here does
//! IO, runs async code, reads the environment or the clock: that is what keeps every rule a plain
//! table-driven test and every never-break rule a property test.
//!
//! Layout:
//! - [`order`]: what the marketplace shows about an order, in domain terms.
//! - [`assess`]: the new-order check (can this order be filled?).
//! - [`case`]: the case, its states, and the settings that shape the workflow.
//! - [`digest`]: the seller's daily digest line.
//! - [`health`]: Amazon's account-health figures (the seller performance report), the projected
//!   cancel rate and the `auto` strategy's choice.
//! - [`decide`]: the decision function `(case, input, now) → decision`.
//! - [`policy`]: the send-time policy (quiet hours, send slots, final-notice time).
//! - [`holidays`]: weekday or day off at a marketplace (Japan's public holidays by rule).
//! - [`slots_learn`]: send slots learned from the seller's history of answered messages.
//! - [`strategy`]: the seller's strategy (ask-buyer or cancel-first).
//! - [`mode`]: the operating mode (live, dry-run, approve, pause).
//! - [`message`]: what every buyer message must be (Amazon's rules), and the product list.
//! - [`templates`]: the buyer messages as templates the seller owns, kenzen's defaults in six
//!   languages, validation and rendering.
//! - [`marketplace`]: the marketplaces kenzen knows (host, time zone, currency, language).
//! - [`events`]: the domain events kenzen publishes.
//! - [`ids`]: identifiers and amounts parsed at the edge (order id, SKU, marketplace, money).

pub mod assess;
pub mod case;
pub mod decide;
pub mod digest;
pub mod events;
pub mod health;
pub mod holidays;
pub mod ids;
pub mod marketplace;
pub mod message;
pub mod mode;
pub mod order;
pub mod policy;
pub mod slots_learn;
pub mod strategy;
pub mod templates;

pub use assess::{Assessment, SkuInfo, assess};
pub use case::{
    Approval, BuyerRequest, CancelPlan, CancelReason, Case, CaseItem, CaseState, Claim,
    CloseReason, DueKind, LinesCancelled, Notice, OpenReason, Pending, ProfitFloor, Settings,
    Strategy,
};
pub use decide::{Decision, Effect, FeedOutcome, Input, MessageKind, MessageOutcome, decide};
pub use events::{AlertKind, DetailType, DomainEvent};
pub use health::{
    AutoChoice, AutoReason, AutoSettings, HealthError, MarketplaceHealth, ParsedReport, Projection,
    RateFigure, choose, parse_report, project,
};
pub use holidays::DayKind;
pub use ids::{MarketplaceId, Money, OrderId, Sku};
pub use mode::{ApprovalDefault, Mode};
pub use order::{OrderLine, OrderStatus, OrderView};
pub use policy::{LocalTime, SendWindows};
pub use templates::{Rendered, SellerVars, Template, TemplateKind, TemplateSet};
