//! The end-to-end harness: the four real handlers, moto_server (DynamoDB, EventBridge, SQS) and
//! the marketplace simulator, all on one virtual clock.
//!
//! It plays the part of AWS around the functions: schedule ticks at production cadence, and the
//! bus rules that route domain events to functions (events really go through moto's EventBridge
//! into an SQS queue, and are read back from there). It never touches a case itself.
//!
//! By default one service instance serves all four functions, one invocation at a time. With
//! [`WorldOptions::containers`] each function gets that many containers of its own (separate
//! service instances: their own SP-API rate buckets and LWA token cache), used in turn, and the
//! events of one delivery batch run concurrently, each function up to its reserved concurrency
//! in the template (as Lambda would). All of them share the one virtual clock, so a wait in one
//! concurrent invocation moves time for the others too: run times measured that way are upper
//! bounds.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{Context, Result, anyhow};
use aws_lambda_events::eventbridge::EventBridgeEvent;
use jiff::{SignedDuration, Timestamp};
use kenzen_app::adapters::dynamo::DynamoStore;
use kenzen_app::clock::{Clock, VirtualClock};
use kenzen_app::config::Config;
use kenzen_app::ports::{CaseStore, EventPublisher, Marketplace, Store, TimelineEntry};
use kenzen_app::{AppService, RunReport, Service};
use kenzen_core::{Settings, Strategy};
use serde_json::{Value, json};

use crate::sim::{Sim, SimConfig};

/// The four functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Function {
    NewOrderCheck,
    MessageResend,
    ReplyDetect,
    FinalCancel,
}

impl Function {
    pub const ALL: [Function; 4] = [
        Function::NewOrderCheck,
        Function::ReplyDetect,
        Function::FinalCancel,
        Function::MessageResend,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::NewOrderCheck => "new-order-check",
            Self::MessageResend => "message-resend",
            Self::ReplyDetect => "reply-detect",
            Self::FinalCancel => "final-cancel",
        }
    }

    /// The function's key in the template's `Cadence` mapping.
    pub fn template_key(self) -> &'static str {
        match self {
            Self::NewOrderCheck => "NewOrderCheck",
            Self::MessageResend => "MessageResend",
            Self::ReplyDetect => "ReplyDetect",
            Self::FinalCancel => "FinalCancel",
        }
    }

    /// The production schedule, as `infra/template.yaml` sets it (its `Cadence` mapping).
    pub fn every(self) -> SignedDuration {
        let minutes = cadence()
            .ok()
            .and_then(|c| c.get(self.template_key()).copied())
            .unwrap_or_else(|| panic!("infra/template.yaml has no cadence for {}", self.name()));
        SignedDuration::from_mins(minutes)
    }
}

/// The EventBridge Pipe's `InputTemplate` in `infra/template.yaml` (folded to one line).
pub fn pipe_input_template() -> Result<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/template.yaml");
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    let mut lines = text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("InputTemplate:"));
    let first = lines
        .next()
        .ok_or_else(|| anyhow!("{path}: no InputTemplate"))?;
    let indent = first.len() - first.trim_start().len();
    let folded: Vec<&str> = lines
        .take_while(|l| l.trim().is_empty() || l.len() - l.trim_start().len() > indent)
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    Ok(folded.join(" "))
}

/// Fills an input template as EventBridge Pipes does: each `<$.a.b>` becomes the value at that
/// path of `input`; a string is put in as its bare text (so the template must quote it), an
/// object, array, number or boolean as JSON, and a missing path as nothing.
pub fn render_input_template(template: &str, input: &Value) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("<$.") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('>') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let path = &rest[start + 3..start + end];
        let value = path.split('.').try_fold(input, |v, key| v.get(key));
        match value {
            Some(Value::String(s)) => out.push_str(s),
            Some(v) => out.push_str(&v.to_string()),
            None => {}
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

/// The functions' timeout in the template (Globals: Timeout).
pub const LAMBDA_TIMEOUT_SECS: i64 = 300;

/// The `Cadence` mapping of `infra/template.yaml` (function key -> minutes): the one place the
/// schedule cadence is written. Read once.
pub fn cadence() -> Result<&'static BTreeMap<String, i64>> {
    static CADENCE: std::sync::OnceLock<BTreeMap<String, i64>> = std::sync::OnceLock::new();
    if let Some(c) = CADENCE.get() {
        return Ok(c);
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/template.yaml");
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    let mut found = BTreeMap::new();
    let mut in_block = false;
    for line in text.lines() {
        if line == "  Cadence:" {
            in_block = true;
            continue;
        }
        if in_block {
            let indent = line.len() - line.trim_start().len();
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            if indent < 4 {
                break;
            }
            if let Some((k, v)) = line.trim().split_once(':')
                && let Ok(n) = v.trim().parse::<i64>()
            {
                found.insert(k.trim().to_string(), n);
            }
        }
    }
    if found.len() != Function::ALL.len() {
        return Err(anyhow!(
            "{path}: the Cadence mapping should name the four functions, found {found:?}"
        ));
    }
    Ok(CADENCE.get_or_init(|| found))
}

/// Each function's `ReservedConcurrentExecutions` in `infra/template.yaml` (1 when a function
/// sets none: the harness then runs it one invocation at a time). Read once.
pub fn reserved_concurrency() -> Result<&'static BTreeMap<Function, usize>> {
    static RESERVED: std::sync::OnceLock<BTreeMap<Function, usize>> = std::sync::OnceLock::new();
    if let Some(r) = RESERVED.get() {
        return Ok(r);
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/template.yaml");
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    let mut found = BTreeMap::new();
    let mut current = None;
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix("FunctionName:") {
            current = Function::ALL.into_iter().find(|f| {
                name.trim_end()
                    .trim_end_matches('"')
                    .ends_with(&format!("-{}", f.name()))
            });
        } else if let (Some(f), Some(n)) =
            (current, line.strip_prefix("ReservedConcurrentExecutions:"))
        {
            let n: usize = n
                .trim()
                .parse()
                .with_context(|| format!("{path}: ReservedConcurrentExecutions of {}", f.name()))?;
            found.insert(f, n.max(1));
            current = None;
        }
    }
    for f in Function::ALL {
        found.entry(f).or_insert(1);
    }
    Ok(RESERVED.get_or_init(|| found))
}

/// The bus rules: which function an event (detail-type) goes to.
pub fn route(detail_type: &str) -> Option<Function> {
    match detail_type {
        "CaseOpened" => Some(Function::ReplyDetect),
        "BuyerRequestedCancel" => Some(Function::FinalCancel),
        "FlagOrder" | "WithdrawCase" | "ApproveCancel" | "OrderChange" => {
            Some(Function::NewOrderCheck)
        }
        _ => None,
    }
}

/// How to start a world.
#[derive(Debug, Clone)]
pub struct WorldOptions {
    pub start: Timestamp,
    pub settings: Settings,
    /// Where the simulator listens (`KENZEN_SIM_ADDR`); any free port when `None`.
    pub sim_addr: Option<SocketAddr>,
    /// Where the functions send SP-API calls (`KENZEN_SPAPI_ENDPOINT`, e.g. the contract
    /// proxy); the simulator itself when `None`.
    pub spapi_endpoint: Option<String>,
    pub sim: SimConfig,
    /// Deliver every schedule tick and bus event twice, and each batch of events in reverse
    /// order (at-least-once, unordered delivery).
    pub duplicate_deliveries: bool,
    /// Containers per function: 0 (the default) runs all four functions on one service
    /// instance, one invocation at a time; n gives each function n service instances of its
    /// own, invoked in turn, with a delivery batch's events run concurrently up to each
    /// function's reserved concurrency (or `concurrency`).
    pub containers: usize,
    /// How many invocations of one function may run at once, instead of the template's
    /// reserved concurrency (never more than `containers`).
    pub concurrency: Option<usize>,
    /// Print a progress line to stderr every this much virtual time (`KENZEN_PROGRESS_HOURS`).
    pub progress_every: Option<SignedDuration>,
}

impl WorldOptions {
    /// A world starting at `start` on amazon.co.jp under the ask-buyer strategy.
    pub fn at(start: &str) -> Self {
        Self {
            start: start.parse().expect("valid start time"),
            settings: Settings::new(Strategy::AskBuyer, "A1VC38T7YXB528"),
            duplicate_deliveries: false,
            sim_addr: None,
            spapi_endpoint: None,
            sim: SimConfig::default(),
            containers: 0,
            concurrency: None,
            progress_every: None,
        }
    }

    /// Takes `KENZEN_SIM_ADDR` and `KENZEN_SPAPI_ENDPOINT` from the environment.
    pub fn from_env(mut self) -> Result<Self> {
        if let Ok(a) = std::env::var("KENZEN_SIM_ADDR")
            && !a.is_empty()
        {
            self.sim_addr = Some(a.parse().with_context(|| format!("KENZEN_SIM_ADDR={a}"))?);
        }
        if let Ok(e) = std::env::var("KENZEN_SPAPI_ENDPOINT")
            && !e.is_empty()
        {
            self.spapi_endpoint = Some(e);
        }
        if let Ok(h) = std::env::var("KENZEN_PROGRESS_HOURS")
            && !h.is_empty()
        {
            let h: i64 = h
                .parse()
                .with_context(|| format!("KENZEN_PROGRESS_HOURS={h}"))?;
            self.progress_every = Some(SignedDuration::from_hours(h.max(1)));
        }
        Ok(self)
    }
}

/// One handler invocation and what came of it.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub at: Timestamp,
    /// The virtual time it returned at (see the module note on concurrent invocations).
    pub ended: Timestamp,
    pub function: Function,
    /// Which of the function's containers ran it (0 with one shared service).
    pub container: usize,
    pub trigger: String,
    pub result: Result<RunReport, String>,
}

impl Invocation {
    /// True when the invocation may have put events on the bus (it says so, or it failed
    /// part-way).
    pub fn published(&self) -> bool {
        self.result
            .as_ref()
            .map_or(true, |r| r.events_published > 0)
    }
}

/// Everything a scenario runs in.
pub struct World {
    pub clock: Arc<VirtualClock>,
    pub sim: Arc<Sim>,
    /// The service every function runs on without containers; with them, the harness's own
    /// instance (for reading the table and the settings), never invoked.
    pub svc: AppService,
    /// Each function's containers (empty without containers), and which one is next.
    containers: BTreeMap<Function, Vec<AppService>>,
    next_container: BTreeMap<Function, usize>,
    /// How many invocations of each function may run at once (with containers).
    concurrency: BTreeMap<Function, usize>,
    pub aws: aws_config::SdkConfig,
    /// The harness's own clients (the bus and the queues it plays AWS with).
    sqs: aws_sdk_sqs::Client,
    eb: aws_sdk_eventbridge::Client,
    pub table: String,
    pub bus: String,
    queue_url: String,
    next_tick: BTreeMap<Function, Timestamp>,
    duplicate_deliveries: bool,
    _server: crate::sim::ServerHandle,
    pub invocations: Vec<Invocation>,
    /// Every domain event read back from the bus: (time, detail-type, detail).
    pub events: Vec<(Timestamp, String, Value)>,
    /// The SP-API notification queue (ORDER_CHANGE), read by the pipe emulation.
    pub notification_queue_url: String,
    /// Progress lines: every this much virtual time, the next one due, and the wall start.
    progress: Option<(SignedDuration, Timestamp, std::time::Instant)>,
    /// Notifications the pipe could not put on the bus, with why (the Pipe's DLQ).
    pub pipe_failures: Vec<String>,
}

static WORLDS: AtomicU32 = AtomicU32::new(0);

/// The AWS configuration for moto_server at `KENZEN_TEST_AWS_ENDPOINT`.
pub async fn moto_config() -> Result<aws_config::SdkConfig> {
    let endpoint = std::env::var("KENZEN_TEST_AWS_ENDPOINT").map_err(|_| {
        anyhow!(
            "KENZEN_TEST_AWS_ENDPOINT is not set: run the tests with scripts/test.sh (it starts \
             moto_server), or the demo with scripts/demo.sh"
        )
    })?;
    Ok(aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("ap-northeast-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "testing", "testing", None, None, "moto",
        ))
        .load()
        .await)
}

impl World {
    /// The environment an operator (the `kenzen` command) or a function outside this process
    /// would be given for this world: the table and bus, marketplaces and seller, the
    /// simulator's endpoints and the LWA credentials (AWS's own settings not included).
    pub fn operator_env(&self) -> Vec<(&'static str, String)> {
        let c = &self.sim.config;
        let base = self.sim.base_url();
        let marketplaces = if c.other_marketplaces.is_empty() {
            ("KENZEN_MARKETPLACE_ID", c.marketplace_id.clone())
        } else {
            let all: Vec<&str> = std::iter::once(c.marketplace_id.as_str())
                .chain(c.other_marketplaces.iter().map(String::as_str))
                .collect();
            ("KENZEN_MARKETPLACE_IDS", all.join(","))
        };
        vec![
            ("KENZEN_TABLE", self.table.clone()),
            ("KENZEN_EVENT_BUS", self.bus.clone()),
            marketplaces,
            ("KENZEN_SELLER_ID", c.seller_id.clone()),
            ("KENZEN_SPAPI_ENDPOINT", base.clone()),
            ("KENZEN_LWA_ENDPOINT", format!("{base}/auth/o2/token")),
            ("KENZEN_LWA_CLIENT_ID", c.client_id.clone()),
            ("KENZEN_LWA_CLIENT_SECRET", c.client_secret.clone()),
            ("KENZEN_LWA_REFRESH_TOKEN", c.refresh_token.clone()),
        ]
    }

    /// Creates the table, bus, rule and queue in moto, starts the simulator, builds the service.
    pub async fn start(opts: WorldOptions) -> Result<World> {
        // The handlers run in this process, so their EMF lines would fill the terminal (a
        // Lambda's stdout goes to CloudWatch instead).
        kenzen_app::report::keep_emf_off_stdout();
        // The cadence comes from the template; a broken mapping stops here, not mid-run.
        cadence()?;
        let aws = moto_config().await?;
        let n = WORLDS.fetch_add(1, Ordering::SeqCst);
        let name = format!("kenzen-{}-{n}", std::process::id());
        let ddb = aws_sdk_dynamodb::Client::new(&aws);
        kenzen_app::adapters::dynamo::table::create_table(&ddb, &name)
            .await
            .map_err(|e| anyhow!(e))?;

        let eb = aws_sdk_eventbridge::Client::new(&aws);
        eb.create_event_bus()
            .name(&name)
            .send()
            .await
            .context("CreateEventBus")?;
        let sqs = aws_sdk_sqs::Client::new(&aws);
        let queue_url = sqs
            .create_queue()
            .queue_name(&name)
            .send()
            .await
            .context("CreateQueue")?
            .queue_url
            .ok_or_else(|| anyhow!("CreateQueue returned no url"))?;
        let arn = sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .context("GetQueueAttributes")?
            .attributes
            .and_then(|a| {
                a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                    .cloned()
            })
            .ok_or_else(|| anyhow!("queue has no ARN"))?;
        eb.put_rule()
            .name(format!("{name}-domain-events"))
            .event_bus_name(&name)
            .event_pattern(
                json!({"source": ["kenzen", "kenzen.seller", "kenzen.intake"]}).to_string(),
            )
            .send()
            .await
            .context("PutRule")?;
        eb.put_targets()
            .rule(format!("{name}-domain-events"))
            .event_bus_name(&name)
            .targets(
                aws_sdk_eventbridge::types::Target::builder()
                    .id("harness")
                    .arn(arn)
                    .build()
                    .context("target")?,
            )
            .send()
            .await
            .context("PutTargets")?;

        let notification_queue_url = sqs
            .create_queue()
            .queue_name(format!("{name}-notifications"))
            .send()
            .await
            .context("CreateQueue(notifications)")?
            .queue_url
            .ok_or_else(|| anyhow!("CreateQueue returned no url"))?;

        let clock = VirtualClock::new(opts.start);
        let sim = Sim::new(opts.sim.clone(), clock.clone());
        let addr = opts
            .sim_addr
            .unwrap_or_else(|| "127.0.0.1:0".parse().expect("literal address"));
        let (bound, server) = sim
            .serve(addr)
            .await
            .with_context(|| format!("simulator on {addr}"))?;
        let sim_base = format!("http://{bound}");
        let endpoint = opts
            .spapi_endpoint
            .clone()
            .unwrap_or_else(|| sim_base.clone());
        // A seller selling in several marketplaces gets one stack for all of them.
        let marketplaces = if opts.sim.other_marketplaces.is_empty() {
            ("KENZEN_MARKETPLACE_ID", opts.sim.marketplace_id.clone())
        } else {
            (
                "KENZEN_MARKETPLACE_IDS",
                std::iter::once(&opts.sim.marketplace_id)
                    .chain(&opts.sim.other_marketplaces)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(","),
            )
        };
        let env: BTreeMap<&str, String> = BTreeMap::from([
            ("KENZEN_TABLE", name.clone()),
            ("KENZEN_EVENT_BUS", name.clone()),
            marketplaces,
            ("KENZEN_SELLER_ID", opts.sim.seller_id.clone()),
            ("KENZEN_SPAPI_ENDPOINT", endpoint),
            ("KENZEN_LWA_ENDPOINT", format!("{sim_base}/auth/o2/token")),
            ("KENZEN_LWA_CLIENT_ID", opts.sim.client_id.clone()),
            ("KENZEN_LWA_CLIENT_SECRET", opts.sim.client_secret.clone()),
            ("KENZEN_LWA_REFRESH_TOKEN", opts.sim.refresh_token.clone()),
            (
                "KENZEN_STRATEGY",
                opts.settings.strategy.as_setting().to_string(),
            ),
        ]);
        let mut config = Config::from_lookup(|k| env.get(k).cloned()).map_err(|e| anyhow!(e))?;
        config.settings = opts.settings.clone();
        let build = || {
            kenzen_app::wiring::build(config.clone(), &aws, Clock::Virtual(clock.clone()))
                .map_err(|e| anyhow!(e))
        };
        let svc = build()?;
        let mut containers = BTreeMap::new();
        let mut concurrency = BTreeMap::new();
        if opts.containers > 0 {
            let reserved = reserved_concurrency()?;
            for f in Function::ALL {
                containers.insert(
                    f,
                    (0..opts.containers)
                        .map(|_| build())
                        .collect::<Result<Vec<_>>>()?,
                );
                let allowed = opts.concurrency.unwrap_or(reserved[&f]);
                concurrency.insert(f, allowed.clamp(1, opts.containers));
            }
        }
        let next_tick = Function::ALL.iter().map(|f| (*f, opts.start)).collect();
        Ok(World {
            clock,
            sim,
            svc,
            sqs,
            eb,
            containers,
            next_container: BTreeMap::new(),
            concurrency,
            progress: opts
                .progress_every
                .map(|every| (every, opts.start + every, std::time::Instant::now())),
            aws,
            table: name.clone(),
            bus: name,
            queue_url,
            notification_queue_url,
            next_tick,
            duplicate_deliveries: opts.duplicate_deliveries,
            _server: server,
            invocations: Vec::new(),
            events: Vec::new(),
            pipe_failures: Vec::new(),
        })
    }

    /// Deploys the functions again with `settings` (as a stack update with other settings
    /// does); the table, the bus, the queues and the simulator stay as they are.
    pub fn redeploy(&mut self, settings: &Settings) {
        self.svc.set_settings(settings.clone());
        for instances in self.containers.values_mut() {
            for svc in instances {
                svc.set_settings(settings.clone());
            }
        }
    }

    pub fn store(&self) -> &DynamoStore {
        self.svc.store()
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Sets the seller's on-hand quantity for a SKU.
    pub async fn stock(&self, sku: &str, on_hand: u32) -> Result<()> {
        self.store().put_stock(sku, on_hand).await?;
        Ok(())
    }

    /// Damages the stored case of `order`: its state becomes one no version of kenzen knows
    /// (as a bad write, or an item from a later version, would leave it).
    pub async fn damage_case(&self, order: &str) -> Result<()> {
        use aws_sdk_dynamodb::types::AttributeValue as Av;
        aws_sdk_dynamodb::Client::new(&self.aws)
            .update_item()
            .table_name(&self.table)
            .key("pk", Av::S(format!("ORDER#{order}")))
            .key("sk", Av::S("CASE".into()))
            .update_expression("SET #c.#s = :s")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#c", "case")
            .expression_attribute_names("#s", "state")
            .expression_attribute_values(
                ":s",
                Av::M(std::collections::HashMap::from([(
                    "state".to_string(),
                    Av::S("FromTheFuture".into()),
                )])),
            )
            .send()
            .await
            .with_context(|| format!("damaging the case of {order}"))?;
        Ok(())
    }

    /// A schedule tick, as EventBridge Scheduler sends it.
    pub fn schedule_event(&self, f: Function) -> EventBridgeEvent<Value> {
        schedule_event(f, self.now())
    }

    /// The container the next invocation of `f` runs on (0 without containers).
    fn pick(&mut self, f: Function) -> usize {
        let n = self.containers.get(&f).map_or(1, Vec::len).max(1);
        let next = self.next_container.entry(f).or_default();
        let c = *next % n;
        *next = (c + 1) % n;
        c
    }

    /// The service container `c` of `f` runs on.
    fn service(&self, f: Function, c: usize) -> &AppService {
        self.containers
            .get(&f)
            .and_then(|v| v.get(c))
            .unwrap_or(&self.svc)
    }

    /// Invokes a function's real handler with `event` (on its next container).
    pub async fn invoke(&mut self, f: Function, event: EventBridgeEvent<Value>) -> Invocation {
        let c = self.pick(f);
        let inv = run_handler(self.service(f, c), &self.sim, &self.clock, f, c, event).await;
        self.invocations.push(inv.clone());
        inv
    }

    /// Invokes each `(function, event)`: one after the other without containers; with them,
    /// in waves that run concurrently, each function at most its concurrency at once, on
    /// distinct containers. Returns whether any may have published events.
    async fn invoke_batch(&mut self, jobs: Vec<(Function, EventBridgeEvent<Value>)>) -> bool {
        let mut published = false;
        if self.containers.is_empty() {
            for (f, event) in jobs {
                published |= self.invoke(f, event).await.published();
            }
            return published;
        }
        let mut rest: std::collections::VecDeque<_> = jobs.into();
        while !rest.is_empty() {
            let mut wave = Vec::new();
            let mut running: BTreeMap<Function, usize> = BTreeMap::new();
            let mut later = std::collections::VecDeque::new();
            while let Some((f, event)) = rest.pop_front() {
                let n = running.entry(f).or_default();
                if *n < self.concurrency.get(&f).copied().unwrap_or(1) {
                    *n += 1;
                    let c = self.pick(f);
                    wave.push((f, c, event));
                } else {
                    later.push_back((f, event));
                }
            }
            rest = later;
            let runs = wave
                .into_iter()
                .map(|(f, c, event)| {
                    run_handler(self.service(f, c), &self.sim, &self.clock, f, c, event)
                })
                .collect();
            let done = join_all(runs).await;
            for inv in done {
                published |= inv.published();
                self.invocations.push(inv);
            }
        }
        published
    }

    /// Invokes `f` as its schedule would, then delivers the events it caused.
    pub async fn tick(&mut self, f: Function) -> Result<Invocation> {
        let ev = self.schedule_event(f);
        let inv = self.invoke(f, ev.clone()).await;
        let mut published = inv.published();
        if self.duplicate_deliveries {
            published |= self.invoke(f, ev).await.published();
        }
        if published {
            self.deliver_events().await?;
        }
        Ok(inv)
    }

    /// Puts a seller command (`FlagOrder`, `WithdrawCase`) on the bus, as the README's
    /// `aws events put-events` line does, and delivers it.
    pub async fn seller_command(
        &mut self,
        detail_type: &str,
        order_id: &str,
        reason: &str,
    ) -> Result<()> {
        let out = self
            .eb
            .put_events()
            .entries(
                aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                    .event_bus_name(&self.bus)
                    .source("kenzen.seller")
                    .detail_type(detail_type)
                    .detail(json!({"orderId": order_id, "reason": reason}).to_string())
                    .build(),
            )
            .send()
            .await
            .context("PutEvents(seller command)")?;
        anyhow::ensure!(
            out.failed_entry_count == 0,
            "seller command not accepted by the bus"
        );
        self.deliver_events().await
    }

    /// Reads the domain events the bus routed to the queue and invokes the functions the rules
    /// name, a batch (up to 10, as one receive gives) at a time, until no event is left.
    pub async fn deliver_events(&mut self) -> Result<()> {
        let sqs = self.sqs.clone();
        loop {
            let got = sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .send()
                .await
                .context("ReceiveMessage")?;
            let messages = got.messages.unwrap_or_default();
            if messages.is_empty() {
                return Ok(());
            }
            delete_batch(&sqs, &self.queue_url, &messages).await?;
            let mut events = Vec::with_capacity(messages.len());
            for m in &messages {
                let body = m.body().unwrap_or_default();
                let event: EventBridgeEvent<Value> = serde_json::from_str(body)
                    .with_context(|| format!("bus delivered a non-EventBridge message: {body}"))?;
                self.events
                    .push((self.now(), event.detail_type.clone(), event.detail.clone()));
                events.push(event);
            }
            if self.duplicate_deliveries {
                events.reverse();
                let again = events.clone();
                events.extend(again);
            }
            let jobs = events
                .into_iter()
                .filter_map(|e| route(&e.detail_type).map(|f| (f, e)))
                .collect();
            let published = self.invoke_batch(jobs).await;
            // moto gives every visible message up to ten: a short batch whose runs published
            // nothing leaves the queue empty (saves a receive per delivery in a volume run).
            if messages.len() < 10 && !published {
                return Ok(());
            }
        }
    }

    /// Amazon sends an ORDER_CHANGE notification for `order_id` to the notification queue (the
    /// SQS destination), `repeat` times (at-least-once delivery), and the pipe carries it onto
    /// the bus as the template's EventBridge Pipe does; the bus then delivers it.
    pub async fn notify(
        &mut self,
        order_id: &str,
        change_type: &str,
        notification_id: &str,
        repeat: u32,
    ) -> Result<()> {
        self.notify_all(&[Notification {
            order_id: order_id.into(),
            change_type: change_type.into(),
            notification_id: notification_id.into(),
            repeat,
        }])
        .await
    }

    /// Amazon sends these ORDER_CHANGE notifications at the same moment: all go into the
    /// notification queue, the pipe carries them onto the bus, and the bus delivers them (so
    /// with containers they can run concurrently).
    pub async fn notify_all(&mut self, notifications: &[Notification]) -> Result<()> {
        let now = self.now();
        let mut bodies = Vec::new();
        for n in notifications {
            let body = json!({
                "NotificationVersion": "1.0",
                "NotificationType": "ORDER_CHANGE",
                "PayloadVersion": "1.0",
                "EventTime": now.to_string(),
                "Payload": {"OrderChangeNotification": {
                    "NotificationLevel": "OrderLevel",
                    "SellerId": self.sim.config.seller_id,
                    "AmazonOrderId": n.order_id,
                    "OrderChangeType": n.change_type,
                    "OrderChangeTrigger": {"TimeOfOrderChange": now.to_string(), "ChangeReason": n.change_type},
                    "Summary": self.order_summary(&n.order_id)
                }},
                "NotificationMetadata": {
                    "ApplicationId": "amzn1.sp.solution.kenzen-sim",
                    "SubscriptionId": "kenzen-sim-subscription",
                    "PublishTime": now.to_string(),
                    "NotificationId": n.notification_id
                }
            })
            .to_string();
            for _ in 0..n.repeat.max(1) {
                bodies.push(body.clone());
            }
        }
        let sqs = self.sqs.clone();
        for chunk in bodies.chunks(10) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, body)| {
                    aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(body)
                        .build()
                        .context("notification entry")
                })
                .collect::<Result<Vec<_>>>()?;
            let out = sqs
                .send_message_batch()
                .queue_url(&self.notification_queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .context("SendMessageBatch(notifications)")?;
            anyhow::ensure!(
                out.failed.is_empty(),
                "notification queue refused {} notifications",
                out.failed.len()
            );
        }
        self.pipe().await?;
        self.deliver_events().await
    }

    /// The notification `Summary` Amazon's model describes for `order_id`, from the order as
    /// the marketplace holds it now.
    fn order_summary(&self, order_id: &str) -> Value {
        let Some(o) = self.sim.order(order_id) else {
            return json!({"MarketplaceId": self.sim.config.marketplace_id, "OrderStatus": "Pending",
                "PurchaseDate": self.now().to_string(), "DestinationPostalCode": "100-0001",
                "FulfillmentType": "MFN", "OrderType": "StandardOrder", "OrderItems": []});
        };
        let status = match o.status {
            "PENDING" => "Pending",
            "UNSHIPPED" => "Unshipped",
            "PARTIALLY_SHIPPED" => "PartiallyShipped",
            "SHIPPED" => "Shipped",
            "CANCELLED" => "Canceled",
            "UNFULFILLABLE" => "Unfulfillable",
            "PENDING_AVAILABILITY" => "PendingAvailability",
            other => other,
        };
        let items: Vec<Value> = o
            .items
            .iter()
            .map(|i| {
                let requested = o.buyer_request.is_some()
                    && o.request_items
                        .as_ref()
                        .is_none_or(|ids| ids.contains(&i.order_item_id));
                json!({"OrderItemId": i.order_item_id, "SellerSKU": i.sku, "SupplySourceId": "default",
                    "Quantity": i.quantity, "IsBuyerRequestedCancel": requested})
            })
            .collect();
        json!({
            "MarketplaceId": o.marketplace(&self.sim.config),
            "OrderStatus": status,
            "PurchaseDate": o.created.to_string(),
            "DestinationPostalCode": "100-0001",
            "FulfillmentType": if o.fulfilled_by == "AMAZON" { "AFN" } else { "MFN" },
            "OrderType": "StandardOrder",
            "LatestShipDate": o.ship_by.to_string(),
            "OrderItems": items,
        })
    }

    /// The EventBridge Pipe: each notification in the queue becomes an `OrderChange` event
    /// (source `kenzen.intake`) through the template's own InputTemplate, in batches of up to
    /// 10 as the Pipe reads them. A notification whose transformed input is not JSON never
    /// reaches the bus (PutEvents refuses it), as in AWS.
    async fn pipe(&mut self) -> Result<()> {
        let template = pipe_input_template()?;
        let (sqs, eb) = (self.sqs.clone(), self.eb.clone());
        loop {
            let got = sqs
                .receive_message()
                .queue_url(&self.notification_queue_url)
                .max_number_of_messages(10)
                .send()
                .await
                .context("ReceiveMessage(notifications)")?;
            let messages = got.messages.unwrap_or_default();
            if messages.is_empty() {
                return Ok(());
            }
            delete_batch(&sqs, &self.notification_queue_url, &messages).await?;
            // Nothing adds notifications while the pipe runs: a short batch (moto gives every
            // visible message up to ten) empties the queue.
            let last = messages.len() < 10;
            let mut entries = Vec::new();
            for m in messages {
                let body: Value =
                    serde_json::from_str(m.body().unwrap_or_default()).unwrap_or(Value::Null);
                let detail = render_input_template(&template, &json!({ "body": body }));
                if serde_json::from_str::<Value>(&detail).is_err() {
                    self.pipe_failures
                        .push(format!("pipe input is not JSON: {detail}"));
                    continue;
                }
                entries.push(
                    aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus)
                        .source("kenzen.intake")
                        .detail_type("OrderChange")
                        .detail(detail)
                        .build(),
                );
            }
            if !entries.is_empty() {
                let out = eb
                    .put_events()
                    .set_entries(Some(entries))
                    .send()
                    .await
                    .context("PutEvents(pipe)")?;
                anyhow::ensure!(
                    out.failed_entry_count == 0,
                    "the bus refused {} piped notifications",
                    out.failed_entry_count
                );
            }
            if last {
                return Ok(());
            }
        }
    }

    /// Runs every function at its production cadence until `end` (virtual time).
    pub async fn run_until(&mut self, end: Timestamp) -> Result<()> {
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
            self.tick(f).await?;
            self.next_tick.insert(f, at + f.every());
            if let Some((every, due, started)) = &mut self.progress
                && at >= *due
            {
                eprintln!(
                    "  virtual {}: {} invocations ({} failed), wall {:.0} s",
                    at.strftime("%Y-%m-%d %H:%M UTC"),
                    self.invocations.len(),
                    self.invocations
                        .iter()
                        .filter(|i| i.result.is_err())
                        .count(),
                    started.elapsed().as_secs_f64()
                );
                *due = at + *every;
            }
        }
    }

    pub async fn timeline(&self, order_id: &str) -> Result<Vec<TimelineEntry>> {
        let id = kenzen_core::OrderId::parse(order_id)?;
        Ok(self.store().timeline(&id).await?)
    }

    /// Failed invocations so far.
    pub fn failures(&self) -> Vec<&Invocation> {
        self.invocations
            .iter()
            .filter(|i| i.result.is_err())
            .collect()
    }
}

/// One ORDER_CHANGE notification for [`World::notify_all`].
#[derive(Debug, Clone)]
pub struct Notification {
    pub order_id: String,
    /// `OrderStatusChange` or `BuyerRequestedChange`.
    pub change_type: String,
    pub notification_id: String,
    /// How many times it is delivered (at least once).
    pub repeat: u32,
}

/// `f`'s schedule tick at `now`, as EventBridge Scheduler sends it.
pub fn schedule_event(f: Function, now: Timestamp) -> EventBridgeEvent<Value> {
    serde_json::from_value(json!({
        "version": "0",
        "id": format!("tick-{}-{}", f.name(), now.as_second()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "region": "ap-northeast-1",
        "resources": [format!("arn:aws:events:ap-northeast-1:123456789012:rule/kenzen-{}", f.name())],
        "detail": {}
    }))
    .expect("schedule event shape")
}

/// Runs `f`'s real handler on `svc` with `event`, under Lambda's timeout on the virtual clock.
pub(crate) async fn run_handler<M: Marketplace, S: Store, P: EventPublisher>(
    svc: &Service<M, S, P>,
    sim: &Sim,
    clock: &VirtualClock,
    f: Function,
    container: usize,
    event: EventBridgeEvent<Value>,
) -> Invocation {
    let at = clock.now();
    // Lambda's timeout (the template's 300 s), on the virtual clock: a run stops starting new
    // work in time, as it must in production.
    svc.set_deadline(Some(at + SignedDuration::from_secs(LAMBDA_TIMEOUT_SECS)));
    let trigger = event.detail_type.clone();
    // Each handler's future lives on the heap, as Lambda's runtime keeps it: a whole scenario
    // on a test thread's stack (2 MiB) would otherwise hold every nested future at once.
    let handler = async {
        match f {
            Function::NewOrderCheck => Box::pin(new_order_check::handle(svc, event)).await,
            Function::MessageResend => Box::pin(message_resend::handle(svc, event)).await,
            Function::ReplyDetect => Box::pin(reply_detect::handle(svc, event)).await,
            Function::FinalCancel => Box::pin(final_cancel::handle(svc, event)).await,
        }
        .map_err(|e| e.to_string())
    };
    // A crash point in the simulator ends the invocation where it stands, as a Lambda timeout
    // or crash would: nothing after it runs.
    let result = tokio::select! {
        r = handler => r,
        () = sim.crashed() => Err(format!("{} crashed at a crash point", f.name())),
    };
    Invocation {
        at,
        ended: clock.now(),
        function: f,
        container,
        trigger,
        result,
    }
}

/// Polls every future to its end, concurrently on this task; outputs in the same order.
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<std::pin::Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in futures.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}

/// Deletes received `messages` from `queue_url`, ten at a time.
async fn delete_batch(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    messages: &[aws_sdk_sqs::types::Message],
) -> Result<()> {
    for chunk in messages.chunks(10) {
        let entries = chunk
            .iter()
            .enumerate()
            .filter_map(|(i, m)| {
                m.receipt_handle().map(|h| {
                    aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(h)
                        .build()
                        .context("delete entry")
                })
            })
            .collect::<Result<Vec<_>>>()?;
        if entries.is_empty() {
            continue;
        }
        sqs.delete_message_batch()
            .queue_url(queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .context("DeleteMessageBatch")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_templates_pipe_turns_an_order_change_notification_into_an_order_change_event() {
        let body = json!({
            "Payload": {"OrderChangeNotification": {
                "AmazonOrderId": "503-1234567-1234567",
                "OrderChangeType": "BuyerRequestedChange",
                "Summary": {"MarketplaceId": "A1VC38T7YXB528", "OrderStatus": "Unshipped",
                    "PurchaseDate": "2026-12-01T01:00:00Z", "DestinationPostalCode": "100-0001",
                    "FulfillmentType": "MFN", "OrderType": "StandardOrder",
                    "OrderItems": [{"OrderItemId": "1", "SellerSKU": "CUP", "SupplySourceId": "s",
                        "Quantity": 2, "IsBuyerRequestedCancel": true}]}
            }},
            "NotificationMetadata": {"NotificationId": "n-1"}
        });
        let detail = render_input_template(&pipe_input_template().unwrap(), &json!({"body": body}));
        assert!(
            !detail.contains("100-0001"),
            "no postal code on the bus: {detail}"
        );
        let detail: Value = serde_json::from_str(&detail).expect("the pipe's output is JSON");
        assert_eq!(detail["orderId"], "503-1234567-1234567");
        assert_eq!(detail["notificationId"], "n-1");
        assert_eq!(detail["changeType"], "BuyerRequestedChange");
        // ...and it is the event new-order-check takes, with the order's summary.
        let trigger =
            kenzen_app::trigger::classify("kenzen.intake", "OrderChange", &detail).unwrap();
        let kenzen_app::trigger::Trigger::Order { notified, .. } = trigger else {
            panic!("not an order event: {trigger:?}");
        };
        let notified = notified.expect("the summary reaches the handler");
        assert_eq!(
            (notified.status.as_str(), notified.lines[0].quantity),
            ("Unshipped", 2)
        );
        // An unquoted string placeholder, as the template first had it, gives no JSON.
        let bare = render_input_template(
            "{\"orderId\": <$.body.Payload.OrderChangeNotification.AmazonOrderId>}",
            &json!({"body": body}),
        );
        assert!(serde_json::from_str::<Value>(&bare).is_err(), "{bare}");
    }
}
