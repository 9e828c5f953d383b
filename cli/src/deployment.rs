//! Finding the deployment: each value from its flag or environment variable, else from the
//! CloudFormation stack's outputs and parameters (read once, only when a value is missing).
//! The LWA credentials come from the secret the way the functions read them. It must not print
//! a secret's contents.

use std::collections::BTreeMap;

use anyhow::{Result, anyhow};
use kenzen_app::adapters::spapi::{SpApiClient, SpApiConfig};
use kenzen_app::clock::Clock;
use tokio::sync::OnceCell;

use crate::args::DeploymentArgs;
use crate::failure::sdk_failure;

/// What the stack says: its outputs and parameters.
#[derive(Debug, Clone, Default)]
pub struct StackInfo {
    pub outputs: BTreeMap<String, String>,
    pub parameters: BTreeMap<String, String>,
}

/// Where the LWA credentials come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// The secret with this id or ARN.
    Secret(String),
    /// KENZEN_LWA_CLIENT_ID, KENZEN_LWA_CLIENT_SECRET, KENZEN_LWA_REFRESH_TOKEN.
    Environment,
}

/// The deployment as far as it has been looked up, and the AWS configuration to reach it.
pub struct Ctx {
    pub aws: aws_config::SdkConfig,
    pub args: DeploymentArgs,
    pub json: bool,
    stack: OnceCell<std::result::Result<StackInfo, String>>,
}

const LWA_ENV: [&str; 3] = [
    "KENZEN_LWA_CLIENT_ID",
    "KENZEN_LWA_CLIENT_SECRET",
    "KENZEN_LWA_REFRESH_TOKEN",
];

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Where on the stack a fact is read.
#[derive(Clone, Copy)]
enum Fact {
    Output,
    Parameter,
}

fn given(v: &Option<String>) -> Option<String> {
    v.as_ref()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

impl Ctx {
    /// The AWS configuration from the standard chain, with `--region` / `--profile` applied.
    pub async fn new(args: DeploymentArgs, json: bool) -> Ctx {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(r) = given(&args.region) {
            loader = loader.region(aws_config::Region::new(r));
        }
        if let Some(p) = given(&args.profile) {
            loader = loader.profile_name(p);
        }
        Ctx {
            aws: loader.load().await,
            args,
            json,
            stack: OnceCell::new(),
        }
    }

    /// The stack's outputs and parameters (DescribeStacks, once).
    pub async fn stack(&self) -> Result<&StackInfo> {
        let got = self
            .stack
            .get_or_init(|| async { self.describe_stack().await })
            .await;
        got.as_ref().map_err(|e| anyhow!("{e}"))
    }

    async fn describe_stack(&self) -> std::result::Result<StackInfo, String> {
        let name = &self.args.stack;
        let cfn = aws_sdk_cloudformation::Client::new(&self.aws);
        let out = cfn
            .describe_stacks()
            .stack_name(name)
            .send()
            .await
            .map_err(|e| {
                let region = self
                    .aws
                    .region()
                    .map_or("(no region set)".to_string(), |r| r.to_string());
                let why = sdk_failure("CloudFormation", &e);
                if why.contains("does not exist") {
                    format!(
                        "stack {name} not found in region {region}: name it with --stack (or \
                         KENZEN_STACK) and --region, or give the values it would provide as \
                         flags"
                    )
                } else {
                    format!("reading stack {name} (region {region}): {why}")
                }
            })?;
        let stack = out
            .stacks()
            .first()
            .ok_or_else(|| format!("stack {name}: CloudFormation described no stack"))?;
        let outputs = stack
            .outputs()
            .iter()
            .filter_map(|o| Some((o.output_key()?.to_string(), o.output_value()?.to_string())))
            .collect();
        let parameters = stack
            .parameters()
            .iter()
            .filter_map(|p| {
                Some((
                    p.parameter_key()?.to_string(),
                    p.parameter_value()?.to_string(),
                ))
            })
            .collect();
        Ok(StackInfo {
            outputs,
            parameters,
        })
    }

    /// `flag` if given, else the stack's output `output`; the error says how to give it.
    async fn output_or(&self, flag: &Option<String>, output: &str, how: &str) -> Result<String> {
        self.stack_value_or(flag, Fact::Output, output, how).await
    }

    /// `flag` if given, else the stack's parameter `parameter`.
    async fn parameter_or(
        &self,
        flag: &Option<String>,
        parameter: &str,
        how: &str,
    ) -> Result<String> {
        self.stack_value_or(flag, Fact::Parameter, parameter, how)
            .await
    }

    async fn stack_value_or(
        &self,
        flag: &Option<String>,
        fact: Fact,
        name: &str,
        how: &str,
    ) -> Result<String> {
        if let Some(v) = given(flag) {
            return Ok(v);
        }
        let stack = self
            .stack()
            .await
            .map_err(|e| anyhow!("{how} is not set and the stack cannot tell: {e}"))?;
        let (values, what, advice) = match fact {
            Fact::Output => (&stack.outputs, "output", "update the stack, or pass"),
            Fact::Parameter => (&stack.parameters, "parameter", "pass"),
        };
        values
            .get(name)
            .filter(|v| !v.trim().is_empty())
            .cloned()
            .ok_or_else(|| {
                anyhow!(
                    "stack {} has no {what} {name}: {advice} {how}",
                    self.args.stack
                )
            })
    }

    pub async fn table(&self) -> Result<String> {
        self.output_or(&self.args.table, "TableName", "--table (KENZEN_TABLE)")
            .await
    }

    pub async fn bus(&self) -> Result<String> {
        self.output_or(&self.args.bus, "EventBusName", "--bus (KENZEN_EVENT_BUS)")
            .await
    }

    pub async fn queue_arn(&self) -> Result<String> {
        self.output_or(
            &self.args.queue_arn,
            "NotificationQueueArn",
            "--queue-arn (KENZEN_NOTIFICATION_QUEUE_ARN)",
        )
        .await
    }

    /// The schedule rules' names; `None` when neither a flag nor the stack names them.
    pub async fn schedule_rules(&self) -> Result<Option<Vec<String>>> {
        if let Some(rules) = &self.args.schedule_rules {
            let rules: Vec<String> = rules
                .iter()
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty())
                .collect();
            if !rules.is_empty() {
                return Ok(Some(rules));
            }
        }
        let stack = self.stack().await.map_err(|e| {
            anyhow!(
                "--schedule-rules (KENZEN_SCHEDULE_RULES) is not set and the stack cannot tell: {e}"
            )
        })?;
        Ok(stack.outputs.get("ScheduleRules").map(|v| {
            v.split(',')
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty())
                .collect()
        }))
    }

    /// The marketplaces the stack serves, its home marketplace first: `--marketplace` (one id or
    /// a comma-separated list; env KENZEN_MARKETPLACE_ID, or KENZEN_MARKETPLACE_IDS), else the
    /// stack's MarketplaceIds when set, else its MarketplaceId.
    pub async fn marketplaces(&self) -> Result<Vec<String>> {
        let list = |v: &str| -> Vec<String> {
            v.split(',')
                .map(|m| m.trim().to_string())
                .filter(|m| !m.is_empty())
                .collect()
        };
        if let Some(v) = given(&self.args.marketplace).or_else(|| env("KENZEN_MARKETPLACE_IDS")) {
            return Ok(list(&v));
        }
        if let Some(v) = self.parameter("MarketplaceIds").await
            && !list(&v).is_empty()
        {
            return Ok(list(&v));
        }
        let one = self
            .parameter_or(
                &None,
                "MarketplaceId",
                "--marketplace (KENZEN_MARKETPLACE_ID)",
            )
            .await?;
        Ok(list(&one))
    }

    /// The stack's home marketplace (the first it serves): local times and the currency of
    /// stock prices are read in it.
    pub async fn marketplace(&self) -> Result<String> {
        self.marketplaces()
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| anyhow!("--marketplace (KENZEN_MARKETPLACE_ID) names no marketplace"))
    }

    pub async fn seller(&self) -> Result<String> {
        self.parameter_or(&self.args.seller, "SellerId", "--seller (KENZEN_SELLER_ID)")
            .await
    }

    /// A stack parameter, if the stack can be read and has it (for optional facts such as the
    /// strategy or the deployed mode).
    pub async fn parameter(&self, name: &str) -> Option<String> {
        self.stack().await.ok()?.parameters.get(name).cloned()
    }

    /// Where the LWA credentials come from: `--secret`, else the KENZEN_LWA_* environment when
    /// all three are set, else the stack's LwaSecretArn.
    pub async fn credentials(&self) -> Result<Credentials> {
        if let Some(s) = given(&self.args.secret) {
            return Ok(Credentials::Secret(s));
        }
        if LWA_ENV.iter().all(|k| env(k).is_some()) {
            return Ok(Credentials::Environment);
        }
        self.output_or(
            &None,
            "LwaSecretArn",
            "--secret (KENZEN_LWA_SECRET_ID) or KENZEN_LWA_CLIENT_ID, KENZEN_LWA_CLIENT_SECRET \
             and KENZEN_LWA_REFRESH_TOKEN",
        )
        .await
        .map(Credentials::Secret)
    }

    /// Reads secret `id` and returns the LWA settings it holds. Errors name the secret and what
    /// is wrong, never its contents.
    pub async fn read_secret(&self, id: &str) -> Result<Vec<(&'static str, String)>> {
        let sm = aws_sdk_secretsmanager::Client::new(&self.aws);
        let out = sm
            .get_secret_value()
            .secret_id(id)
            .send()
            .await
            .map_err(|e| {
                anyhow!(
                    "reading secret {id}: {}",
                    sdk_failure("Secrets Manager", &e)
                )
            })?;
        let text = out.secret_string().ok_or_else(|| {
            anyhow!("secret {id} has no string value: put the LWA credentials JSON into it")
        })?;
        kenzen_app::wiring::lwa_from_secret_text(id, text).map_err(|e| anyhow!("{e}"))
    }

    /// The SP-API configuration the functions would build: endpoints and the LWA credentials as
    /// the functions read them (from the secret, or the environment), marketplace and seller
    /// from flags, environment or stack.
    pub async fn spapi_config(&self) -> Result<SpApiConfig> {
        let marketplaces = self.marketplaces().await?.join(",");
        let seller = self.seller().await?;
        let lwa = match self.credentials().await? {
            Credentials::Secret(id) => self.read_secret(&id).await?,
            Credentials::Environment => Vec::new(),
        };
        let lookup = move |k: &str| match k {
            "KENZEN_MARKETPLACE_IDS" => Some(marketplaces.clone()),
            "KENZEN_MARKETPLACE_ID" => None,
            "KENZEN_SELLER_ID" => Some(seller.clone()),
            _ => lwa
                .iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.clone())
                .or_else(|| env(k)),
        };
        kenzen_app::config::spapi_from_lookup(lookup).map_err(|e| anyhow!("{e}"))
    }

    /// The SP-API client, drawing on the deployment's shared rate budget on the table when the
    /// table is known (so the operator's calls never push kenzen's functions into 429s).
    pub async fn spapi(&self) -> Result<SpApiClient> {
        let cfg = self.spapi_config().await?;
        let client = SpApiClient::new(cfg, Clock::System).map_err(|e| anyhow!("{e}"))?;
        Ok(match self.table().await {
            Ok(table) => client.with_shared_rates(std::sync::Arc::new(
                kenzen_app::adapters::dynamo::DynamoRates::new(
                    aws_sdk_dynamodb::Client::new(&self.aws),
                    table,
                ),
            )),
            Err(_) => client,
        })
    }

    /// The DynamoDB store on the deployment's table.
    pub async fn store(&self) -> Result<kenzen_app::adapters::dynamo::DynamoStore> {
        Ok(kenzen_app::adapters::dynamo::DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&self.aws),
            self.table().await?,
        ))
    }
}
