//! The command line: global options that find the deployment, and one subcommand each. Parsing
//! only; what each command does is in its own module.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// kenzen's operator command: what kenzen is doing, one order's case, seller commands, the
/// operating mode, the stock table, the ORDER_CHANGE subscription, and a check of the whole
/// deployment.
///
/// The deployment is found from the CloudFormation stack (`--stack`, default `kenzen`): its
/// outputs name the table, bus, secret, queue and schedule rules, its parameters the marketplace
/// and seller. Flags and environment variables override each one (then the stack is not read).
/// Times are shown in the marketplace's local time.
#[derive(Debug, Parser)]
#[command(name = "kenzen", version, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub deployment: DeploymentArgs,

    /// Print JSON instead of text (every command).
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// Where the deployment is. Each value comes from its flag, else its environment variable, else
/// the stack.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Where the deployment is")]
pub struct DeploymentArgs {
    /// The CloudFormation stack kenzen was deployed as.
    #[arg(long, global = true, env = "KENZEN_STACK", default_value = "kenzen")]
    pub stack: String,

    /// AWS region (default: the AWS configuration's, e.g. AWS_REGION).
    #[arg(long, global = true)]
    pub region: Option<String>,

    /// AWS profile (default: the AWS configuration's, e.g. AWS_PROFILE).
    #[arg(long, global = true)]
    pub profile: Option<String>,

    /// The DynamoDB table (stack output TableName).
    #[arg(long, global = true, env = "KENZEN_TABLE")]
    pub table: Option<String>,

    /// The event bus (stack output EventBusName).
    #[arg(long, global = true, env = "KENZEN_EVENT_BUS")]
    pub bus: Option<String>,

    /// The Secrets Manager secret holding the LWA credentials (stack output LwaSecretArn).
    /// Without it and without a stack, the credentials come from KENZEN_LWA_CLIENT_ID,
    /// KENZEN_LWA_CLIENT_SECRET and KENZEN_LWA_REFRESH_TOKEN.
    #[arg(long, global = true, env = "KENZEN_LWA_SECRET_ID")]
    pub secret: Option<String>,

    /// The SQS queue ORDER_CHANGE notifications go to (stack output NotificationQueueArn).
    #[arg(long, global = true, env = "KENZEN_NOTIFICATION_QUEUE_ARN")]
    pub queue_arn: Option<String>,

    /// The SNS topic alerts go to (stack output AlertTopicArn).
    #[arg(long, global = true, env = "KENZEN_ALERT_TOPIC_ARN")]
    pub alert_topic: Option<String>,

    /// The schedule rules, comma-separated (stack output ScheduleRules).
    #[arg(
        long,
        global = true,
        env = "KENZEN_SCHEDULE_RULES",
        value_delimiter = ','
    )]
    pub schedule_rules: Option<Vec<String>>,

    /// The marketplace id, e.g. A1VC38T7YXB528 for amazon.co.jp, or a comma-separated list
    /// for a stack serving several, its home marketplace first (stack parameters MarketplaceId,
    /// MarketplaceIds; env KENZEN_MARKETPLACE_IDS also works).
    #[arg(long, global = true, env = "KENZEN_MARKETPLACE_ID")]
    pub marketplace: Option<String>,

    /// Your merchant (seller) id (stack parameter SellerId).
    #[arg(long, global = true, env = "KENZEN_SELLER_ID")]
    pub seller: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open cases: order, SKU, reason, ship-by, state, the next action and when, messages sent.
    Status,

    /// One order's case and its timeline: every decision, message text and Amazon's answer.
    Show {
        /// The Amazon order id, e.g. 503-1234567-1234567.
        order: String,
    },

    /// Flag an order as unfillable: kenzen opens a case for it and handles it under your
    /// strategy.
    Flag {
        /// The Amazon order id.
        order: String,
        /// Why (kept on the case; at most 200 characters).
        #[arg(long)]
        reason: String,
    },

    /// Withdraw a case: kenzen stops and closes it quietly (no more messages, no cancel); the
    /// order is yours to ship or cancel.
    Withdraw {
        /// The Amazon order id.
        order: String,
        /// Why (kept on the case; at most 200 characters).
        #[arg(long)]
        reason: String,
    },

    /// Approve the cancel a case is waiting for (approve mode): kenzen sends the final message
    /// and cancels at its next run.
    Approve {
        /// The Amazon order id.
        order: String,
    },

    /// Show the operating mode, or set it: live (act), dry-run (decide and record, send and
    /// cancel nothing), approve (seller-initiated cancels wait for `kenzen approve`), pause
    /// (no messages, no cancels). Takes effect from kenzen's next run.
    Mode {
        /// The mode to set (none: show the mode in force).
        #[arg(value_parser = ["live", "dry-run", "approve", "pause"])]
        mode: Option<String>,
    },

    /// Pause kenzen: no messages and no cancels until `kenzen resume` (orders nobody ships or
    /// cancels may ship late; you get an alert at each deadline).
    Pause,

    /// End a pause: back to the mode before it (live if there was none).
    Resume,

    /// The stock table (`SKU#<sku>` / `STOCK` items).
    #[command(subcommand)]
    Stock(StockCommand),

    /// Subscribe to ORDER_CHANGE notifications: creates the SQS destination and the
    /// subscription, treating "already there" (409) as done, so it is safe to run again. Warns,
    /// and exits 1, when the existing subscription sends to another queue than this stack's.
    Subscribe {
        /// The queue to subscribe (default: the stack's NotificationQueueArn, or --queue-arn).
        queue_arn: Option<String>,
    },

    /// Check the deployment and report every problem at once, one line each: the secret, an
    /// LWA token, each SP-API role (orders, messaging, feeds, listings), the ORDER_CHANGE
    /// subscription, the schedule rules. Exits 1 if there is any problem.
    Doctor,

    /// The seller report of the last DAYS local days: one row per case (SKU, reason, ship-by,
    /// messages, ending, whether it counts against the cancel rate) and the totals with the
    /// rate against Amazon's 2.5% target; `--html FILE` also writes a page with a day-by-day
    /// chart.
    Report {
        /// How many local days back, today included (1 to 90).
        #[arg(long, default_value_t = 7)]
        days: u32,
        /// Also write the report as one self-contained HTML page to this file.
        #[arg(long)]
        html: Option<PathBuf>,
        /// The report as of this time (RFC 3339, e.g. 2026-12-04T09:00:00+09:00; default now).
        #[arg(long)]
        until: Option<String>,
    },

    /// The buyer message templates: kenzen's defaults in ja, en, de, fr, it, es, or yours.
    #[command(subcommand)]
    Templates(TemplatesCommand),
}

#[derive(Debug, Subcommand)]
pub enum TemplatesCommand {
    /// Every template in effect (yours or kenzen's default), or one language's, and the shop
    /// name and signature.
    Show {
        /// A language code (ja, en, de, fr, it, es); none: all.
        #[arg(long)]
        lang: Option<String>,
        /// A kind (request, request-again-today, request-again-later, final-notice,
        /// cancel-first); none: all.
        #[arg(long)]
        kind: Option<String>,
    },
    /// Store your template for a language and kind from a file (UTF-8). It must contain
    /// {order_id}; it may use {products}, {shop_name}, {signature}, {cancel_path}. Checked
    /// against Amazon's message rules first: nothing is stored if it fails.
    Set {
        #[arg(long)]
        lang: String,
        #[arg(long)]
        kind: String,
        /// The file with the template's text.
        file: PathBuf,
    },
    /// Go back to kenzen's default for a language and kind.
    Reset {
        #[arg(long)]
        lang: String,
        #[arg(long)]
        kind: String,
    },
    /// Set the shop name and the signature the templates use.
    Vars {
        #[arg(long)]
        shop_name: Option<String>,
        #[arg(long)]
        signature: Option<String>,
    },
    /// The text a buyer would get: a language and kind filled in for an order's case (or a
    /// sample order), optionally with a draft file in place of the template in effect.
    Preview {
        #[arg(long)]
        lang: String,
        #[arg(long)]
        kind: String,
        /// The order whose case fills it in (none: a sample order).
        #[arg(long)]
        order: Option<String>,
        /// A draft text to preview instead of the template in effect (not stored).
        #[arg(long)]
        draft: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum StockCommand {
    /// Import stock levels from a CSV file with the header `sku,on_hand` and, optionally,
    /// `unit_cost` and `shipping_cost` (in the marketplace currency). on_hand is the units no
    /// unshipped order holds yet, as in the stock table. Every line is checked first: if any is
    /// bad, all bad lines are reported and nothing is written. Other attributes of existing
    /// items (kenzen's reservations, the listing's product type) are kept; an empty cost cell
    /// keeps the cost the table has.
    Import {
        /// The CSV file (UTF-8).
        file: PathBuf,
        /// Show what would change without writing anything.
        #[arg(long)]
        dry_run: bool,
    },
}
