//! kenzen's own thin Selling Partner API client (reqwest): LWA token cache, per-operation rate
//! limits on the injected clock, retries, and the operations kenzen needs.
//!
//! Retries never repeat what Amazon may have acted on: a buyer message or a feed is sent again
//! only after a 429 or a failure to connect; after a 5xx, a timeout or a lost connection its
//! outcome is unknown ([`SpApiError::OutcomeUnknown`]). Reads and harmless writes are retried on
//! those too. A refused access token is dropped and the call made once more with a new one.
//!
//! It implements the [`Marketplace`](crate::ports::Marketplace) port, mapping its own
//! [`SpApiError`] onto the port's [`MarketError`] kinds. The seller performance report
//! ([`reports`]) is read through the client's own methods, outside the port. Hosts come from
//! configuration only (defaults per marketplace in [`kenzen_core::marketplace`]). It never logs
//! tokens, secrets, document URLs, message texts or buyer data.

pub mod feed;
pub mod notifications;
pub mod rate;
pub mod reports;
pub mod wire;

pub use reports::ReportStatus;

use std::io::Read;

use jiff::{SignedDuration, Timestamp};
use kenzen_core::{MarketplaceId, OrderId, OrderView, Sku};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use tokio::sync::Mutex;

use kenzen_core::ids::encode_segment;

use crate::clock::Clock;
use crate::ports::{
    CancelBatchStatus, CancelRequest, FeedSummary, MarketError, MarketErrorKind, Marketplace,
    OrderPage, OrderSearch, SendOutcome, UnreadableOrder,
};
use rate::{Op, RateLimits};

/// What the client needs to know; built by [`crate::config`].
#[derive(Clone)]
pub struct SpApiConfig {
    /// e.g. `https://sellingpartnerapi-fe.amazon.com`, or the simulator / contract proxy.
    pub endpoint: String,
    /// e.g. `https://api.amazon.com/auth/o2/token`.
    pub lwa_endpoint: String,
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
    /// The marketplaces the stack serves, the first one first: all on `endpoint`'s region
    /// (checked by [`crate::config`]). Never empty.
    pub marketplace_ids: Vec<String>,
    /// The seller (merchant) id, used as `MerchantIdentifier` in feeds.
    pub seller_id: String,
}

impl std::fmt::Debug for SpApiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpApiConfig")
            .field("endpoint", &self.endpoint)
            .field("lwa_endpoint", &self.lwa_endpoint)
            .field("marketplace_ids", &self.marketplace_ids)
            .finish_non_exhaustive()
    }
}

/// Amazon's words when a messaging action is not available for the order (a 403 that is about
/// the order, not about the caller's authorisation).
pub(crate) const TEMPLATE_REFUSAL: &str = "Invalid amazonOrderId and template combination";

/// Why an SP-API call failed. Each variant says what the caller can do.
#[derive(Debug, thiserror::Error)]
pub enum SpApiError {
    /// The token endpoint refused the credentials (HTTP 400/401): retrying will not help.
    #[error("LWA token exchange refused ({0}): check the client id, secret and refresh token")]
    LwaCredentials(String),
    /// The token endpoint could not be reached or kept failing (network, 5xx, 429): the
    /// credentials were not refused, and a later try may work.
    #[error("LWA unavailable: {0}; try again later")]
    LwaUnavailable(String),
    #[error("{op}: HTTP {status} {code}: {message}")]
    Http {
        op: &'static str,
        status: u16,
        code: String,
        message: String,
    },
    /// Refused for the caller's authorisation (401, or a 403 that is not about the order), also
    /// with a freshly exchanged token: a role the application lacks (Buyer Communication for
    /// messaging) or an authorisation the seller revoked.
    #[error(
        "{op}: HTTP {status} {code}: {message} (also with a new access token: the application's \
         authorisation does not cover this call; check {}, and that the seller's authorisation \
         is still granted)",
        role_hint(op)
    )]
    NotAuthorized {
        op: &'static str,
        status: u16,
        code: String,
        message: String,
    },
    /// The call's rate budget (shared by the deployment) would make it wait past the run's
    /// deadline: nothing was sent; the next run makes it.
    #[error("{op}: no rate budget left before this run's deadline; left for the next run")]
    NoBudget { op: &'static str },
    #[error("{op}: still failing after {attempts} attempts (last: {last}); try again later")]
    Exhausted {
        op: &'static str,
        attempts: u32,
        last: String,
    },
    /// A message or feed was sent, but no answer came back: Amazon may have processed it, so
    /// the client did not send it again.
    #[error(
        "{op}: {detail} after the request was sent; Amazon may have processed it, so it was not \
         repeated (look it up before sending it again)"
    )]
    OutcomeUnknown { op: &'static str, detail: String },
    #[error("{op}: unexpected response: {detail}")]
    Decode { op: &'static str, detail: String },
    /// Not sent: what was asked for cannot make a valid request (outside the model's limits).
    #[error("{op}: not sent: {detail}")]
    InvalidRequest { op: &'static str, detail: String },
    /// A presigned document upload or download failed (the text says which document).
    #[error("document transfer failed: {0}")]
    Document(String),
    #[error("cannot build the HTTP client: {0}")]
    Setup(String),
}

impl SpApiError {
    /// True for failures that may go away by themselves (throttling, 5xx, network).
    pub fn is_transient(&self) -> bool {
        self.kind() == MarketErrorKind::Transient
    }

    /// The port's kind of failure: what the caller can do about it.
    pub fn kind(&self) -> MarketErrorKind {
        match self {
            Self::Exhausted { .. } | Self::NoBudget { .. } | Self::LwaUnavailable(_) => {
                MarketErrorKind::Transient
            }
            Self::LwaCredentials(_) | Self::NotAuthorized { .. } => MarketErrorKind::NotAuthorized,
            Self::OutcomeUnknown { .. } => MarketErrorKind::OutcomeUnknown,
            // A refusal about the order itself (the messaging action is not offered for it).
            Self::Http {
                status: 403,
                message,
                ..
            } if message.contains(TEMPLATE_REFUSAL) => MarketErrorKind::Refused,
            Self::Http {
                status: 401 | 403, ..
            } => MarketErrorKind::NotAuthorized,
            Self::Http { .. } | Self::Setup(_) | Self::InvalidRequest { .. } => {
                MarketErrorKind::InvalidInput
            }
            Self::Decode { .. } => MarketErrorKind::Unreadable,
            // A presigned upload or download failed: the feed or report can be tried again.
            Self::Document(_) => MarketErrorKind::Transient,
        }
    }

    fn op(&self) -> &'static str {
        match self {
            Self::LwaCredentials(_) | Self::LwaUnavailable(_) => "lwaToken",
            Self::Http { op, .. }
            | Self::NotAuthorized { op, .. }
            | Self::Exhausted { op, .. }
            | Self::NoBudget { op }
            | Self::OutcomeUnknown { op, .. }
            | Self::Decode { op, .. }
            | Self::InvalidRequest { op, .. } => op,
            Self::Document(_) => "documentTransfer",
            Self::Setup(_) => "setup",
        }
    }
}

/// What to check when `op` (a model operation id) is refused for the caller's authorisation:
/// the role it needs.
fn role_hint(op: &str) -> String {
    match Op::from_name(op).and_then(Op::role) {
        Some(role) => format!("that the application has the {role} role"),
        None => "the application's roles".into(),
    }
}

impl From<SpApiError> for MarketError {
    fn from(e: SpApiError) -> Self {
        MarketError {
            kind: e.kind(),
            op: e.op(),
            message: e.to_string(),
            source: Some(Box::new(e)),
        }
    }
}

/// Which LWA grant a call needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grant {
    /// The seller's authorisation (refresh token).
    Seller,
    /// Grantless, scope `sellingpartnerapi::notifications` (destinations).
    Notifications,
}

struct CachedToken {
    token: String,
    expires_at: Timestamp,
}

/// The SP-API client. Build once per container; it caches the LWA token.
pub struct SpApiClient {
    http: reqwest::Client,
    cfg: SpApiConfig,
    clock: Clock,
    token: Mutex<Option<CachedToken>>,
    grantless_token: Mutex<Option<CachedToken>>,
    limits: RateLimits,
    max_attempts: u32,
    /// How long a request may take, answer included, before its outcome is unknown.
    timeout: std::time::Duration,
}

/// The most marketplaces one `getFeeds` call may filter on (the model's `maxItems`).
const GET_FEEDS_MARKETPLACES: usize = 10;

/// Refresh the token this long before it expires.
const TOKEN_MARGIN: SignedDuration = SignedDuration::from_mins(5);
/// How often the token endpoint is tried when it fails with 5xx, 429 or the network.
const LWA_ATTEMPTS: u32 = 4;
/// How long a request may take, answer included, before its outcome is unknown.
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

fn http_client(timeout: std::time::Duration) -> Result<reqwest::Client, SpApiError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(std::time::Duration::from_secs(5).min(timeout))
        .user_agent(concat!(
            "kenzen/",
            env!("CARGO_PKG_VERSION"),
            " (Language=Rust)"
        ))
        .build()
        .map_err(|e| SpApiError::Setup(e.to_string()))
}

/// A transport error with its causes (reqwest's own text stops at "error sending request").
fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The first error's code and message of an SP-API error body (or the body's start).
fn error_parts(body: &[u8]) -> (String, String) {
    match serde_json::from_slice::<wire::ErrorList>(body) {
        Ok(list) if !list.errors.is_empty() => {
            (list.errors[0].code.clone(), list.errors[0].message.clone())
        }
        _ => (
            String::new(),
            String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
        ),
    }
}

/// A refusal of the caller's authorisation: any 401, and a 403 that is not Amazon's answer for
/// a messaging action the order does not offer.
fn refuses_authorisation(status: StatusCode, body: &[u8]) -> bool {
    status == StatusCode::UNAUTHORIZED
        || (status == StatusCode::FORBIDDEN && !error_parts(body).1.contains(TEMPLATE_REFUSAL))
}

impl SpApiClient {
    pub fn new(cfg: SpApiConfig, clock: Clock) -> Result<Self, SpApiError> {
        Ok(Self {
            http: http_client(REQUEST_TIMEOUT)?,
            cfg,
            clock,
            token: Mutex::new(None),
            grantless_token: Mutex::new(None),
            limits: RateLimits::default(),
            max_attempts: 5,
            timeout: REQUEST_TIMEOUT,
        })
    }

    /// The same client drawing on the deployment's shared rate budget (every container and
    /// function of the seller's stack) instead of this container's own.
    pub fn with_shared_rates(mut self, shared: std::sync::Arc<dyn rate::SharedRates>) -> Self {
        self.limits = RateLimits::shared(shared);
        self
    }

    /// The run's deadline: no call waits for its rate budget (or a retry) past it.
    pub fn set_deadline(&self, deadline: Option<Timestamp>) {
        // The last call starts CALL_MARGIN before the deadline, or a fifth of a short run.
        let now = self.clock.now();
        self.limits.set_deadline(deadline.map(|d| {
            let margin = rate::CALL_MARGIN
                .min(d.duration_since(now) / 5)
                .max(SignedDuration::ZERO);
            d - margin + rate::CALL_MARGIN
        }));
    }

    /// The same client with another request timeout (tests of a request that never answers).
    #[cfg(test)]
    fn with_timeout(mut self, timeout: std::time::Duration) -> Result<Self, SpApiError> {
        self.http = http_client(timeout)?;
        self.timeout = timeout;
        Ok(self)
    }

    /// The stack's first marketplace (an order whose answer names none is taken to be in it).
    pub fn marketplace_id(&self) -> &str {
        self.cfg.marketplace_ids.first().map_or("", String::as_str)
    }

    /// Every marketplace the stack serves, the first one first.
    pub fn marketplace_ids(&self) -> &[String] {
        &self.cfg.marketplace_ids
    }

    /// The SP-API endpoint calls go to.
    pub fn endpoint(&self) -> &str {
        &self.cfg.endpoint
    }

    /// Obtains the seller's LWA access token (or reuses the cached one): `Ok` when the
    /// credentials work. For setup checks; calls get their token themselves.
    pub async fn check_token(&self) -> Result<(), SpApiError> {
        self.token_for(Grant::Seller).await.map(|_| ())
    }

    fn token_cache(&self, grant: Grant) -> &Mutex<Option<CachedToken>> {
        match grant {
            Grant::Seller => &self.token,
            Grant::Notifications => &self.grantless_token,
        }
    }

    /// Forgets the cached token of `grant` if it is still `used` (Amazon refused it): the next
    /// call exchanges a new one.
    async fn drop_token(&self, grant: Grant, used: &str) {
        let mut guard = self.token_cache(grant).lock().await;
        if guard.as_ref().is_some_and(|t| t.token == used) {
            *guard = None;
        }
    }

    /// A token for `grant`: the seller's (refresh token) or the grantless one for the
    /// notifications API, each cached until a few minutes before it expires. The exchange is
    /// tried again on 5xx, 429 and network errors, with backoff on the injected clock; a 4xx
    /// is a refusal of the credentials.
    async fn token_for(&self, grant: Grant) -> Result<String, SpApiError> {
        let mut guard = self.token_cache(grant).lock().await;
        let now = self.clock.now();
        if let Some(t) = guard.as_ref()
            && now + TOKEN_MARGIN < t.expires_at
        {
            return Ok(t.token.clone());
        }
        #[derive(serde::Deserialize)]
        struct TokenResponse {
            access_token: String,
            expires_in: i64,
        }
        #[derive(serde::Deserialize)]
        struct TokenError {
            error: Option<String>,
            error_description: Option<String>,
        }
        let form: Vec<(&str, &str)> = match grant {
            Grant::Seller => vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", self.cfg.refresh_token.as_str()),
                ("client_id", self.cfg.client_id.as_str()),
                ("client_secret", self.cfg.client_secret.as_str()),
            ],
            Grant::Notifications => vec![
                ("grant_type", "client_credentials"),
                ("scope", "sellingpartnerapi::notifications"),
                ("client_id", self.cfg.client_id.as_str()),
                ("client_secret", self.cfg.client_secret.as_str()),
            ],
        };
        let mut backoff = SignedDuration::from_secs(1);
        let mut last = String::new();
        for attempt in 1..=LWA_ATTEMPTS {
            match self
                .http
                .post(&self.cfg.lwa_endpoint)
                .form(&form)
                .send()
                .await
            {
                Err(e) => last = format!("network error: {}", describe(&e)),
                Ok(resp) => {
                    let status = resp.status();
                    if status.is_success() {
                        let body: TokenResponse = resp.json().await.map_err(|e| {
                            SpApiError::LwaUnavailable(format!(
                                "the token endpoint answered HTTP {status} with an unreadable \
                                 token: {}",
                                describe(&e)
                            ))
                        })?;
                        tracing::info!(
                            expires_in = body.expires_in,
                            grant = ?grant,
                            "LWA access token refreshed"
                        );
                        *guard = Some(CachedToken {
                            token: body.access_token.clone(),
                            expires_at: self.clock.now()
                                + SignedDuration::from_secs(body.expires_in),
                        });
                        return Ok(body.access_token);
                    }
                    if status != StatusCode::TOO_MANY_REQUESTS && !status.is_server_error() {
                        // LWA's error body names the grant problem, never the secrets.
                        let why = resp
                            .json::<TokenError>()
                            .await
                            .ok()
                            .map(|e| {
                                [e.error, e.error_description]
                                    .into_iter()
                                    .flatten()
                                    .collect::<Vec<_>>()
                                    .join(": ")
                            })
                            .filter(|w| !w.is_empty());
                        return Err(SpApiError::LwaCredentials(match why {
                            Some(why) => format!("HTTP {}: {why}", status.as_u16()),
                            None => format!("HTTP {}", status.as_u16()),
                        }));
                    }
                    last = format!("HTTP {}", status.as_u16());
                }
            }
            tracing::warn!(attempt, last = %last, "LWA token exchange will be retried");
            if attempt < LWA_ATTEMPTS {
                self.clock.sleep(backoff).await;
                backoff *= 2;
            }
        }
        Err(SpApiError::LwaUnavailable(format!(
            "the token endpoint is still failing after {LWA_ATTEMPTS} attempts (last: {last})"
        )))
    }

    /// One SP-API call with rate limiting and retries; returns the status and body of the first
    /// answer that is neither 429 nor 5xx.
    async fn call(
        &self,
        op: Op,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<serde_json::Value>,
    ) -> Result<(StatusCode, Vec<u8>), SpApiError> {
        self.call_as(Grant::Seller, op, method, path, query, body)
            .await
    }

    /// [`Self::call`] with the token of `grant`.
    ///
    /// A 429 and a failure to connect are retried for every operation (Amazon has nothing). A
    /// 5xx, a timeout or a connection lost after sending are retried only for operations that
    /// may be repeated ([`Op::repeatable`]); for a message or a feed they are
    /// [`SpApiError::OutcomeUnknown`]. A refused token (401, or a 403 that is not about the
    /// order) is dropped and the call made once more with a new one; refused again, it is
    /// [`SpApiError::NotAuthorized`].
    pub(crate) async fn call_as(
        &self,
        grant: Grant,
        op: Op,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<serde_json::Value>,
    ) -> Result<(StatusCode, Vec<u8>), SpApiError> {
        let url = format!("{}{}", self.cfg.endpoint.trim_end_matches('/'), path);
        let repeatable = op.repeatable();
        let mut backoff = SignedDuration::from_secs(1);
        let mut last = String::new();
        let mut new_token_tried = false;
        let mut attempt = 0;
        while attempt < self.max_attempts {
            attempt += 1;
            self.limits
                .acquire(op, &self.clock)
                .await
                .map_err(|_| SpApiError::NoBudget { op: op.name() })?;
            let token = self.token_for(grant).await?;
            let mut req = self
                .http
                .request(method.clone(), &url)
                .header("x-amz-access-token", &token)
                .header("accept", "application/json")
                .query(query);
            if let Some(b) = &body {
                req = req.json(b);
            }
            match req.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    match resp.bytes().await.map(|b| b.to_vec()) {
                        Err(e) if !repeatable => {
                            return Err(SpApiError::OutcomeUnknown {
                                op: op.name(),
                                detail: format!(
                                    "HTTP {} whose body was cut off ({})",
                                    status.as_u16(),
                                    describe(&e)
                                ),
                            });
                        }
                        Err(e) => {
                            last = format!(
                                "HTTP {} whose body was cut off ({})",
                                status.as_u16(),
                                describe(&e)
                            );
                        }
                        Ok(_) if status == StatusCode::TOO_MANY_REQUESTS => {
                            self.limits.throttled(op, self.clock.now()).await;
                            last = "HTTP 429".into();
                        }
                        Ok(_) if status.is_server_error() => {
                            if !repeatable {
                                return Err(SpApiError::OutcomeUnknown {
                                    op: op.name(),
                                    detail: format!("HTTP {}", status.as_u16()),
                                });
                            }
                            last = format!("HTTP {}", status.as_u16());
                        }
                        Ok(bytes) if refuses_authorisation(status, &bytes) => {
                            let (code, message) = error_parts(&bytes);
                            if new_token_tried {
                                return Err(SpApiError::NotAuthorized {
                                    op: op.name(),
                                    status: status.as_u16(),
                                    code,
                                    message,
                                });
                            }
                            // An expired or revoked token is mended by a new one; a missing
                            // role is not, and the second answer says so.
                            tracing::warn!(
                                op = op.name(),
                                status = status.as_u16(),
                                code = %code,
                                "SP-API refused the access token; trying once more with a new one"
                            );
                            new_token_tried = true;
                            self.drop_token(grant, &token).await;
                            attempt -= 1;
                            continue;
                        }
                        Ok(bytes) => return Ok((status, bytes)),
                    }
                    tracing::warn!(op = op.name(), attempt, last = %last, "SP-API call will be retried");
                }
                Err(e) if e.is_connect() || repeatable => {
                    last = format!("network error: {}", describe(&e));
                    tracing::warn!(op = op.name(), attempt, error = %last, "SP-API call will be retried");
                }
                Err(e) => {
                    let detail = if e.is_timeout() {
                        format!("no answer within {:?}", self.timeout)
                    } else {
                        format!("connection lost ({})", describe(&e))
                    };
                    return Err(SpApiError::OutcomeUnknown {
                        op: op.name(),
                        detail,
                    });
                }
            }
            if attempt < self.max_attempts {
                if self
                    .limits
                    .latest()
                    .is_some_and(|l| self.clock.now() + backoff > l)
                {
                    // No time left in this run to wait and try again.
                    break;
                }
                self.clock.sleep(backoff).await;
                backoff *= 2;
            }
        }
        Err(SpApiError::Exhausted {
            op: op.name(),
            attempts: attempt,
            last,
        })
    }

    pub(crate) fn http_error(op: Op, status: StatusCode, body: &[u8]) -> SpApiError {
        let (code, message) = error_parts(body);
        SpApiError::Http {
            op: op.name(),
            status: status.as_u16(),
            code,
            message,
        }
    }

    async fn get_json<T: DeserializeOwned>(
        &self,
        op: Op,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, SpApiError> {
        let (status, body) = self.call(op, Method::GET, path, query, None).await?;
        Self::decode(op, status, &body)
    }

    pub(crate) fn decode<T: DeserializeOwned>(
        op: Op,
        status: StatusCode,
        body: &[u8],
    ) -> Result<T, SpApiError> {
        if !status.is_success() {
            return Err(Self::http_error(op, status, body));
        }
        serde_json::from_slice(body).map_err(|e| SpApiError::Decode {
            op: op.name(),
            detail: e.to_string(),
        })
    }

    /// The query of a call about one order or listing: its own marketplace, exactly one (the
    /// Messaging API's `marketplaceIds` takes one value, the order's).
    fn marketplace_query(marketplace: &str) -> [(&'static str, String); 1] {
        [("marketplaceIds", marketplace.to_string())]
    }

    /// Downloads a processing report and decodes it by the charset its download declares
    /// (gunzipped first when `gzip`). A transfer failure is [`SpApiError::Document`] (worth
    /// another try); bytes that are not what they claim to be are [`SpApiError::Decode`].
    async fn download_report(&self, url: &str, gzip: bool) -> Result<String, SpApiError> {
        let (content_type, bytes) = self.download(url, "processing report").await?;
        let unreadable = |detail: String| SpApiError::Decode {
            op: Op::GetFeedDocument.name(),
            detail,
        };
        let raw = if gzip {
            gunzip(&bytes).map_err(|e| {
                unreadable(format!(
                    "the report is declared GZIP but does not unpack: {e}"
                ))
            })?
        } else {
            bytes
        };
        feed::decode_report(&raw, content_type.as_deref()).map_err(unreadable)
    }

    /// Downloads `what` from a presigned `url` (never logged: it is a credential while it
    /// lasts): its content type, if any, and its bytes. Any failure is
    /// [`SpApiError::Document`], worth another try with a new URL.
    pub(crate) async fn download(
        &self,
        url: &str,
        what: &str,
    ) -> Result<(Option<String>, Vec<u8>), SpApiError> {
        let failed = |e: reqwest::Error| {
            SpApiError::Document(format!("{what} download: {}", describe(&e.without_url())))
        };
        let resp = self.http.get(url).send().await.map_err(failed)?;
        if !resp.status().is_success() {
            return Err(SpApiError::Document(format!(
                "{what} download answered HTTP {}",
                resp.status()
            )));
        }
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = resp.bytes().await.map_err(failed)?;
        Ok((content_type, bytes.to_vec()))
    }
}

/// The most a downloaded document may unpack to: far more than any report kenzen reads, and a
/// stop to a document that would fill the memory.
const MAX_UNPACKED: u64 = 64 * 1024 * 1024;

/// Unpacks GZIP `bytes`, up to [`MAX_UNPACKED`].
pub(crate) fn gunzip(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .take(MAX_UNPACKED + 1)
        .read_to_end(&mut raw)
        .map_err(|e| e.to_string())?;
    if raw.len() as u64 > MAX_UNPACKED {
        return Err(format!("it unpacks to more than {MAX_UNPACKED} bytes"));
    }
    Ok(raw)
}

impl SpApiClient {
    /// Every page of the orders updated since `updated_after` in every marketplace the stack
    /// serves (up to what Amazon has indexed).
    pub async fn search_orders(&self, updated_after: Timestamp) -> Result<OrderSearch, SpApiError> {
        let mut out = OrderSearch::default();
        let mut next: Option<String> = None;
        loop {
            let (page, before) = self
                .search_page(updated_after, None, next.as_deref())
                .await?;
            out.orders.extend(page.orders);
            out.unreadable.extend(page.unreadable);
            out.before = before.or(out.before);
            next = page.next_token;
            if next.is_none() {
                return Ok(out);
            }
        }
    }

    /// One page of the orders updated from `updated_after` to `updated_before` (Amazon's
    /// indexed time when `None`), with the answer's `lastUpdatedBefore`.
    pub async fn search_page(
        &self,
        updated_after: Timestamp,
        updated_before: Option<Timestamp>,
        token: Option<&str>,
    ) -> Result<(OrderPage, Option<Timestamp>), SpApiError> {
        let stamp = |t: Timestamp| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        let mut q = vec![
            ("lastUpdatedAfter", stamp(updated_after)),
            // Amazon's list parameters are comma-separated (at most 50 marketplaces).
            ("marketplaceIds", self.cfg.marketplace_ids.join(",")),
            ("fulfilledBy", "MERCHANT".to_string()),
            ("includedData", "FULFILLMENT,CANCELLATION".to_string()),
            ("maxResultsPerPage", "100".to_string()),
        ];
        if let Some(b) = updated_before {
            q.push(("lastUpdatedBefore", stamp(b)));
        }
        if let Some(t) = token {
            q.push(("paginationToken", t.to_string()));
        }
        let page: wire::SearchOrdersResponse = self
            .get_json(Op::SearchOrders, "/orders/2026-01-01/orders", &q)
            .await?;
        let mut out = OrderPage::default();
        for raw in page.orders {
            let order_id = raw
                .get("orderId")
                .and_then(serde_json::Value::as_str)
                .map(str::to_string);
            let view = serde_json::from_value::<wire::Order>(raw)
                .map_err(|e| e.to_string())
                .and_then(|o| o.into_view(self.marketplace_id()));
            match view {
                Ok(v) => out.orders.push(v),
                Err(detail) => out.unreadable.push(UnreadableOrder { order_id, detail }),
            }
        }
        out.next_token = page.pagination.and_then(|p| p.next_token);
        Ok((out, page.last_updated_before))
    }

    pub async fn get_order(&self, order_id: &str) -> Result<OrderView, SpApiError> {
        let resp: wire::GetOrderResponse = self
            .get_json(
                Op::GetOrder,
                &format!("/orders/2026-01-01/orders/{}", encode_segment(order_id)),
                &[("includedData", "FULFILLMENT,CANCELLATION".to_string())],
            )
            .await?;
        resp.order
            .into_view(self.marketplace_id())
            .map_err(|detail| SpApiError::Decode {
                op: Op::GetOrder.name(),
                detail,
            })
    }

    pub async fn can_send_unexpected_problem(
        &self,
        order_id: &str,
        marketplace: &str,
    ) -> Result<bool, SpApiError> {
        let (status, body) = self
            .call(
                Op::GetMessagingActions,
                Method::GET,
                &format!("/messaging/v1/orders/{}", encode_segment(order_id)),
                &Self::marketplace_query(marketplace),
                None,
            )
            .await?;
        // A 403 here is Amazon's "Invalid amazonOrderId and template combination." (any other
        // is NotAuthorized from `call`); 404: Amazon does not offer messaging for the order.
        if status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND {
            return Ok(false);
        }
        let actions: wire::MessagingActions = Self::decode(Op::GetMessagingActions, status, &body)?;
        Ok(actions
            .links
            .actions
            .iter()
            .any(|a| a.name.as_deref() == Some("unexpectedProblem")))
    }

    pub async fn buyer_locale(
        &self,
        order_id: &str,
        marketplace: &str,
    ) -> Result<Option<String>, SpApiError> {
        let attrs: wire::Attributes = self
            .get_json(
                Op::GetAttributes,
                &format!(
                    "/messaging/v1/orders/{}/attributes",
                    encode_segment(order_id)
                ),
                &Self::marketplace_query(marketplace),
            )
            .await?;
        Ok(attrs.buyer.and_then(|b| b.locale))
    }

    pub async fn send_unexpected_problem(
        &self,
        order_id: &str,
        marketplace: &str,
        text: &str,
    ) -> Result<SendOutcome, SpApiError> {
        let op = Op::CreateUnexpectedProblem;
        let (status, body) = self
            .call(
                op,
                Method::POST,
                &format!(
                    "/messaging/v1/orders/{}/messages/unexpectedProblem",
                    encode_segment(order_id)
                ),
                &Self::marketplace_query(marketplace),
                Some(serde_json::json!({ "text": text })),
            )
            .await?;
        match status {
            StatusCode::CREATED => Ok(SendOutcome::Accepted),
            // Only "Invalid amazonOrderId and template combination." reaches here as a 403.
            StatusCode::FORBIDDEN => Ok(SendOutcome::Refused(
                Self::http_error(op, status, &body).to_string(),
            )),
            _ => Err(Self::http_error(op, status, &body)),
        }
    }

    /// Submits one order acknowledgement feed cancelling `cancels`, orders placed in
    /// `marketplace`: the feed's `marketplaceIds` names that one marketplace (Amazon refuses
    /// several for most feed types, so kenzen sends one feed per marketplace).
    pub async fn submit_cancels(
        &self,
        marketplace: &str,
        cancels: &[CancelRequest],
    ) -> Result<String, SpApiError> {
        let doc: wire::CreateFeedDocumentResponse = {
            let op = Op::CreateFeedDocument;
            let (status, body) = self
                .call(
                    op,
                    Method::POST,
                    "/feeds/2021-06-30/documents",
                    &[],
                    Some(serde_json::json!({ "contentType": feed::CONTENT_TYPE })),
                )
                .await?;
            Self::decode(op, status, &body)?
        };
        let xml = feed::order_acknowledgement_feed(&self.cfg.seller_id, cancels);
        let put = self
            .http
            .put(&doc.url)
            .header("content-type", feed::CONTENT_TYPE)
            .body(xml)
            .send()
            .await
            .map_err(|e| {
                SpApiError::Document(format!("feed upload: {}", describe(&e.without_url())))
            })?;
        if !put.status().is_success() {
            return Err(SpApiError::Document(format!(
                "feed upload answered HTTP {}",
                put.status()
            )));
        }
        let op = Op::CreateFeed;
        let (status, body) = self
            .call(
                op,
                Method::POST,
                "/feeds/2021-06-30/feeds",
                &[],
                Some(serde_json::json!({
                    "feedType": feed::FEED_TYPE,
                    "marketplaceIds": [marketplace],
                    "inputFeedDocumentId": doc.feed_document_id,
                })),
            )
            .await?;
        let created: wire::CreateFeedResponse = Self::decode(op, status, &body)?;
        Ok(created.feed_id)
    }

    /// The cancel feeds this application created since `since` in the stack's marketplaces
    /// (`getFeeds`, every page, newest first as Amazon lists them; one listing per ten
    /// marketplaces, the most `marketplaceIds` takes). Amazon keeps feeds 90 days and refuses an
    /// older `createdSince`, so an older `since` is read as 89 days ago; a `since` still to
    /// come finds nothing and asks nothing.
    pub async fn recent_cancel_feeds(
        &self,
        since: Timestamp,
    ) -> Result<Vec<FeedSummary>, SpApiError> {
        let now = self.clock.now();
        if since > now {
            return Ok(Vec::new());
        }
        let oldest = now - SignedDuration::from_hours(89 * 24);
        let mut out: Vec<FeedSummary> = Vec::new();
        for marketplaces in self.cfg.marketplace_ids.chunks(GET_FEEDS_MARKETPLACES) {
            let mut query = vec![
                ("feedTypes", feed::FEED_TYPE.to_string()),
                ("marketplaceIds", marketplaces.join(",")),
                ("pageSize", "100".to_string()),
                (
                    "createdSince",
                    since.max(oldest).strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
                ),
            ];
            loop {
                let page: wire::FeedList = self
                    .get_json(Op::GetFeeds, "/feeds/2021-06-30/feeds", &query)
                    .await?;
                for f in page.feeds {
                    if f.feed_type == feed::FEED_TYPE && !out.iter().any(|o| o.feed_id == f.feed_id)
                    {
                        out.push(FeedSummary {
                            feed_id: f.feed_id,
                            created: f.created_time,
                            status: f.processing_status,
                        });
                    }
                }
                match page.next_token {
                    // The next page takes the token as its only parameter.
                    Some(token) => query = vec![("nextToken", token)],
                    None => break,
                }
            }
        }
        Ok(out)
    }

    /// The listing's product type in `marketplace` (`getListingsItem` with summaries); `None`
    /// when Amazon has no listing for the SKU there (404).
    pub async fn listing_product_type(
        &self,
        sku: &str,
        marketplace: &str,
    ) -> Result<Option<String>, SpApiError> {
        let op = Op::GetListingsItem;
        let (status, body) = self
            .call(
                op,
                Method::GET,
                &self.listing_path(sku),
                &[
                    ("marketplaceIds", marketplace.to_string()),
                    ("includedData", "summaries".to_string()),
                ],
                None,
            )
            .await?;
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let item: wire::ListingsItem = Self::decode(op, status, &body)?;
        Ok(item
            .summaries
            .into_iter()
            .find(|s| s.marketplace_id == marketplace)
            .map(|s| s.product_type))
    }

    fn listing_path(&self, sku: &str) -> String {
        format!(
            "/listings/2021-08-01/items/{}/{}",
            encode_segment(&self.cfg.seller_id),
            encode_segment(sku)
        )
    }

    /// Sets the listing's quantity in `marketplace` (that one only) with a `merge` patch on
    /// `fulfillment_availability`, which keeps the handling time and restock date Amazon holds.
    pub async fn set_listing_quantity(
        &self,
        sku: &str,
        marketplace: &str,
        quantity: u32,
        product_type: &str,
    ) -> Result<(), SpApiError> {
        let op = Op::PatchListingsItem;
        let path = self.listing_path(sku);
        let (status, body) = self
            .call(
                op,
                Method::PATCH,
                &path,
                &Self::marketplace_query(marketplace),
                Some(serde_json::json!({
                    "productType": product_type,
                    "patches": [{
                        "op": "merge",
                        "path": "/attributes/fulfillment_availability",
                        "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}]
                    }]
                })),
            )
            .await?;
        #[derive(serde::Deserialize)]
        struct Submission {
            status: String,
        }
        let s: Submission = Self::decode(op, status, &body)?;
        if s.status == "ACCEPTED" {
            Ok(())
        } else {
            Err(SpApiError::Http {
                op: op.name(),
                status: status.as_u16(),
                code: s.status,
                message: format!("listing quantity for {sku} not accepted"),
            })
        }
    }

    pub async fn cancel_status(
        &self,
        feed_id: &str,
        cancels: &[CancelRequest],
    ) -> Result<CancelBatchStatus, SpApiError> {
        let feed: wire::Feed = self
            .get_json(
                Op::GetFeed,
                &format!("/feeds/2021-06-30/feeds/{}", encode_segment(feed_id)),
                &[],
            )
            .await?;
        match (
            feed.processing_status.as_str(),
            feed.result_feed_document_id,
        ) {
            ("IN_QUEUE" | "IN_PROGRESS", _) => Ok(CancelBatchStatus::Pending),
            ("CANCELLED", _) => Ok(CancelBatchStatus::Failed(
                "feed ended CANCELLED: Amazon cancelled it before processing".into(),
            )),
            ("FATAL", None) => Ok(CancelBatchStatus::Failed(
                "feed ended FATAL without a processing report".into(),
            )),
            // Amazon: "some, none, or all of the operations within the feed may have completed
            // successfully". The report's errors are kept, and no order counts as confirmed.
            ("FATAL", Some(doc_id)) => {
                let report = self.processing_report(&doc_id).await?;
                let why = report
                    .unattributed(cancels)
                    .unwrap_or_else(|| report.summary());
                Ok(CancelBatchStatus::Done {
                    errors: report.errors_by_order(cancels),
                    unattributed: Some(format!("feed ended FATAL: {why}")),
                })
            }
            ("DONE", Some(doc_id)) => {
                let report = self.processing_report(&doc_id).await?;
                Ok(CancelBatchStatus::Done {
                    errors: report.errors_by_order(cancels),
                    unattributed: report.unattributed(cancels),
                })
            }
            ("DONE", None) => Err(SpApiError::Decode {
                op: Op::GetFeed.name(),
                detail: format!("feed {feed_id} is DONE without a result document"),
            }),
            (other, _) => Err(SpApiError::Decode {
                op: Op::GetFeed.name(),
                detail: format!("unknown processingStatus {other:?}"),
            }),
        }
    }

    /// Reads the processing report `doc_id`: its document, downloaded, decoded by its charset
    /// and parsed.
    async fn processing_report(&self, doc_id: &str) -> Result<feed::ProcessingReport, SpApiError> {
        let doc: wire::FeedDocument = self
            .get_json(
                Op::GetFeedDocument,
                &format!("/feeds/2021-06-30/documents/{}", encode_segment(doc_id)),
                &[],
            )
            .await?;
        let gzip = doc.compression_algorithm.as_deref() == Some("GZIP");
        let text = self.download_report(&doc.url, gzip).await?;
        feed::parse_processing_report(&text).map_err(|detail| SpApiError::Decode {
            op: Op::GetFeedDocument.name(),
            detail,
        })
    }
}

/// The port, over the client's own operations (their errors mapped to [`MarketError`]).
impl Marketplace for SpApiClient {
    fn cancel_feed_document(&self, cancels: &[CancelRequest]) -> String {
        feed::order_acknowledgement_feed(&self.cfg.seller_id, cancels)
    }

    async fn request_health_report(
        &self,
        marketplaces: &[MarketplaceId],
    ) -> Result<String, MarketError> {
        let ids: Vec<String> = marketplaces.iter().map(ToString::to_string).collect();
        Ok(self.request_seller_performance(&ids).await?)
    }

    async fn health_report_status(
        &self,
        report_id: &str,
    ) -> Result<crate::ports::HealthReportStatus, MarketError> {
        use crate::ports::HealthReportStatus as S;
        Ok(match self.seller_performance_status(report_id).await? {
            ReportStatus::Pending => S::Pending,
            ReportStatus::Done { document_id } => S::Done { document_id },
            ReportStatus::Cancelled => S::Cancelled,
            ReportStatus::Fatal { .. } => S::Fatal,
        })
    }

    async fn health_report(
        &self,
        document_id: &str,
        fetched_at: Timestamp,
    ) -> Result<kenzen_core::ParsedReport, MarketError> {
        Ok(self
            .seller_performance_document(document_id, fetched_at)
            .await?)
    }

    fn set_run_deadline(&self, deadline: Option<Timestamp>) {
        self.set_deadline(deadline);
    }

    async fn search_orders_page(
        &self,
        after: Timestamp,
        before: Timestamp,
        token: Option<&str>,
    ) -> Result<OrderPage, MarketError> {
        Ok(self.search_page(after, Some(before), token).await?.0)
    }

    async fn get_order(&self, order_id: &OrderId) -> Result<OrderView, MarketError> {
        Ok(SpApiClient::get_order(self, order_id).await?)
    }

    async fn can_send_unexpected_problem(
        &self,
        order_id: &OrderId,
        marketplace: &MarketplaceId,
    ) -> Result<bool, MarketError> {
        Ok(SpApiClient::can_send_unexpected_problem(self, order_id, marketplace).await?)
    }

    async fn buyer_locale(
        &self,
        order_id: &OrderId,
        marketplace: &MarketplaceId,
    ) -> Result<Option<String>, MarketError> {
        Ok(SpApiClient::buyer_locale(self, order_id, marketplace).await?)
    }

    async fn send_unexpected_problem(
        &self,
        order_id: &OrderId,
        marketplace: &MarketplaceId,
        text: &str,
    ) -> Result<SendOutcome, MarketError> {
        Ok(SpApiClient::send_unexpected_problem(self, order_id, marketplace, text).await?)
    }

    async fn submit_cancels(
        &self,
        marketplace: &MarketplaceId,
        cancels: &[CancelRequest],
    ) -> Result<String, MarketError> {
        Ok(SpApiClient::submit_cancels(self, marketplace, cancels).await?)
    }

    async fn recent_cancel_feeds(&self, since: Timestamp) -> Result<Vec<FeedSummary>, MarketError> {
        Ok(SpApiClient::recent_cancel_feeds(self, since).await?)
    }

    async fn listing_product_type(
        &self,
        sku: &Sku,
        marketplace: &MarketplaceId,
    ) -> Result<Option<String>, MarketError> {
        Ok(SpApiClient::listing_product_type(self, sku, marketplace).await?)
    }

    async fn set_listing_quantity(
        &self,
        sku: &Sku,
        marketplace: &MarketplaceId,
        quantity: u32,
        product_type: &str,
    ) -> Result<(), MarketError> {
        Ok(
            SpApiClient::set_listing_quantity(self, sku, marketplace, quantity, product_type)
                .await?,
        )
    }

    async fn cancel_status(
        &self,
        id: &str,
        cancels: &[CancelRequest],
    ) -> Result<CancelBatchStatus, MarketError> {
        Ok(SpApiClient::cancel_status(self, id, cancels).await?)
    }
}

#[cfg(test)]
mod tests {
    //! The retry rules against a scripted HTTP server on 127.0.0.1 that can answer, close the
    //! connection after reading a request, or never answer.

    use std::io::{BufRead, BufReader, Read as _, Write as _};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex as StdMutex};

    use super::*;
    use crate::clock::VirtualClock;

    #[derive(Debug, Clone, Copy)]
    enum Reply {
        Answer(u16, &'static str),
        /// Read the request, then close the connection without an answer.
        Close,
        /// Read the request and answer nothing for two seconds.
        Hang,
    }

    const TOKEN: Reply = Reply::Answer(
        200,
        r#"{"access_token":"Atza|test","token_type":"bearer","expires_in":3600}"#,
    );
    const ORDER: &str = "503-0000001-0000001";
    const SEND: &str = "/messaging/v1/orders/503-0000001-0000001/messages/unexpectedProblem";
    const ATTRIBUTES: &str = "/messaging/v1/orders/503-0000001-0000001/attributes";

    struct Fake {
        base: String,
        seen: Arc<StdMutex<Vec<String>>>,
    }

    impl Fake {
        /// A server answering the `n`th request (from 0) to a path with `script(path, n)`.
        fn start(script: impl Fn(&str, usize) -> Reply + Send + 'static) -> Fake {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let base = format!("http://{}", listener.local_addr().unwrap());
            let seen = Arc::new(StdMutex::new(Vec::<String>::new()));
            let log = seen.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(mut stream) = stream else { continue };
                    let Some(path) = read_request(&mut stream) else {
                        continue;
                    };
                    let n = {
                        let mut log = log.lock().unwrap();
                        let n = log.iter().filter(|p| **p == path).count();
                        log.push(path.clone());
                        n
                    };
                    match script(&path, n) {
                        Reply::Answer(status, body) => {
                            let _ = write!(
                                stream,
                                "HTTP/1.1 {status} Scripted\r\ncontent-type: application/json\r\n\
                                 content-length: {}\r\nconnection: close\r\n\r\n{body}",
                                body.len()
                            );
                        }
                        Reply::Close => drop(stream),
                        Reply::Hang => std::thread::sleep(std::time::Duration::from_secs(2)),
                    }
                }
            });
            Fake { base, seen }
        }

        fn count(&self, path: &str) -> usize {
            self.seen
                .lock()
                .unwrap()
                .iter()
                .filter(|p| *p == path)
                .count()
        }

        fn client(&self, clock: &Arc<VirtualClock>) -> SpApiClient {
            client(&self.base, &format!("{}/auth/o2/token", self.base), clock)
        }
    }

    /// Reads one request whole; its path without the query.
    fn read_request(stream: &mut std::net::TcpStream) -> Option<String> {
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let path = line
            .split_whitespace()
            .nth(1)?
            .split('?')
            .next()?
            .to_string();
        let mut length = 0;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).ok()?;
            let header = header.trim();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().ok()?;
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok()?;
        Some(path)
    }

    fn client(endpoint: &str, lwa: &str, clock: &Arc<VirtualClock>) -> SpApiClient {
        SpApiClient::new(
            SpApiConfig {
                endpoint: endpoint.into(),
                lwa_endpoint: lwa.into(),
                client_id: "id".into(),
                client_secret: "secret".into(),
                refresh_token: "refresh".into(),
                marketplace_ids: vec!["A1VC38T7YXB528".into()],
                seller_id: "SELLER".into(),
            },
            Clock::Virtual(clock.clone()),
        )
        .unwrap()
    }

    const JP: &str = "A1VC38T7YXB528";

    fn clock() -> Arc<VirtualClock> {
        VirtualClock::new("2026-12-01T00:00:00Z".parse().unwrap())
    }

    /// A loopback address nothing listens on.
    fn closed_port() -> String {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    }

    fn order() -> OrderId {
        ORDER.parse().unwrap()
    }

    #[tokio::test]
    async fn a_message_whose_connection_is_lost_after_sending_is_not_sent_again() {
        let fake = Fake::start(|path, _| match path {
            "/auth/o2/token" => TOKEN,
            _ => Reply::Close,
        });
        let err = fake
            .client(&clock())
            .send_unexpected_problem(&order(), JP, "text")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), MarketErrorKind::OutcomeUnknown, "{err}");
        assert!(err.to_string().contains("may have processed it"), "{err}");
        assert_eq!(fake.count(SEND), 1);
    }

    #[tokio::test]
    async fn a_message_without_an_answer_in_time_is_not_sent_again() {
        let fake = Fake::start(|path, _| match path {
            "/auth/o2/token" => TOKEN,
            _ => Reply::Hang,
        });
        let c = fake
            .client(&clock())
            .with_timeout(std::time::Duration::from_millis(300))
            .unwrap();
        let err = c
            .send_unexpected_problem(&order(), JP, "text")
            .await
            .unwrap_err();
        assert!(
            matches!(&err, SpApiError::OutcomeUnknown { detail, .. } if detail.contains("no answer")),
            "{err}"
        );
        assert_eq!(fake.count(SEND), 1);
    }

    #[tokio::test]
    async fn a_message_answered_5xx_is_not_sent_again_but_a_429_is_retried() {
        let fake = Fake::start(|path, n| match (path, n) {
            ("/auth/o2/token", _) => TOKEN,
            (_, 0) => Reply::Answer(
                429,
                r#"{"errors":[{"code":"QuotaExceeded","message":"q"}]}"#,
            ),
            (_, 1) => Reply::Answer(201, "{}"),
            _ => Reply::Answer(
                503,
                r#"{"errors":[{"code":"InternalFailure","message":"x"}]}"#,
            ),
        });
        let c = fake.client(&clock());
        assert_eq!(
            c.send_unexpected_problem(&order(), JP, "text")
                .await
                .unwrap(),
            SendOutcome::Accepted
        );
        assert_eq!(fake.count(SEND), 2, "the 429 was retried");
        let err = c
            .send_unexpected_problem(&order(), JP, "text")
            .await
            .unwrap_err();
        assert!(
            matches!(&err, SpApiError::OutcomeUnknown { detail, .. } if detail == "HTTP 503"),
            "{err}"
        );
        assert_eq!(fake.count(SEND), 3, "the 503 was not");
    }

    #[tokio::test]
    async fn a_message_that_cannot_connect_is_retried_as_nothing_was_sent() {
        let fake = Fake::start(|_, _| TOKEN);
        let v = clock();
        let start = v.now();
        let c = client(&closed_port(), &format!("{}/auth/o2/token", fake.base), &v);
        let err = c
            .send_unexpected_problem(&order(), JP, "text")
            .await
            .unwrap_err();
        assert!(
            matches!(&err, SpApiError::Exhausted { attempts: 5, last, .. } if last.contains("network")),
            "{err}"
        );
        assert_eq!(err.kind(), MarketErrorKind::Transient);
        assert_eq!(
            v.now().duration_since(start),
            SignedDuration::from_secs(15),
            "backoff 1 + 2 + 4 + 8 s on the injected clock"
        );
    }

    #[tokio::test]
    async fn a_read_whose_connection_is_lost_or_answered_5xx_is_retried() {
        let fake = Fake::start(|path, n| match (path, n) {
            ("/auth/o2/token", _) => TOKEN,
            (_, 0) => Reply::Close,
            (_, 1) => Reply::Answer(
                500,
                r#"{"errors":[{"code":"InternalFailure","message":"x"}]}"#,
            ),
            _ => Reply::Answer(200, r#"{"buyer":{"locale":"ja-JP"}}"#),
        });
        let locale = fake
            .client(&clock())
            .buyer_locale(&order(), JP)
            .await
            .unwrap();
        assert_eq!(locale.as_deref(), Some("ja-JP"));
        assert_eq!(fake.count(ATTRIBUTES), 3);
    }

    #[tokio::test]
    async fn a_refused_token_is_dropped_and_the_call_made_once_more_with_a_new_one() {
        let fake = Fake::start(|path, n| match (path, n) {
            ("/auth/o2/token", _) => TOKEN,
            (_, 0) => Reply::Answer(
                401,
                r#"{"errors":[{"code":"Unauthorized","message":"Access to requested resource is denied.","details":"The access token you provided has expired."}]}"#,
            ),
            _ => Reply::Answer(201, "{}"),
        });
        let c = fake.client(&clock());
        assert_eq!(
            c.send_unexpected_problem(&order(), JP, "text")
                .await
                .unwrap(),
            SendOutcome::Accepted
        );
        assert_eq!(fake.count(SEND), 2, "a 401 means Amazon did not take it");
        assert_eq!(fake.count("/auth/o2/token"), 2, "a new token for the retry");
    }

    #[tokio::test]
    async fn authorisation_refused_again_with_a_new_token_is_not_authorized() {
        let fake = Fake::start(|path, _| match path {
            "/auth/o2/token" => TOKEN,
            _ => Reply::Answer(
                403,
                r#"{"errors":[{"code":"Unauthorized","message":"Access to requested resource is denied.","details":""}]}"#,
            ),
        });
        let c = fake.client(&clock());
        let err = c.buyer_locale(&order(), JP).await.unwrap_err();
        assert_eq!(err.kind(), MarketErrorKind::NotAuthorized, "{err}");
        assert!(err.to_string().contains("Buyer Communication"), "{err}");
        assert_eq!(fake.count(ATTRIBUTES), 2);
        assert_eq!(fake.count("/auth/o2/token"), 2);
    }

    #[tokio::test]
    async fn the_template_refusal_is_about_the_order_and_keeps_the_token() {
        let fake = Fake::start(|path, _| match path {
            "/auth/o2/token" => TOKEN,
            _ => Reply::Answer(
                403,
                r#"{"errors":[{"code":"Unauthorized","message":"Invalid amazonOrderId and template combination."}]}"#,
            ),
        });
        let c = fake.client(&clock());
        assert!(!c.can_send_unexpected_problem(&order(), JP).await.unwrap());
        assert!(matches!(
            c.send_unexpected_problem(&order(), JP, "text")
                .await
                .unwrap(),
            SendOutcome::Refused(_)
        ));
        assert_eq!(fake.count(SEND), 1);
        assert_eq!(fake.count("/auth/o2/token"), 1);
    }

    #[tokio::test]
    async fn the_token_endpoint_is_retried_on_5xx_with_backoff_on_the_injected_clock() {
        let fake = Fake::start(|path, n| match (path, n) {
            ("/auth/o2/token", 0) => Reply::Answer(503, "{}"),
            ("/auth/o2/token", 1) => Reply::Answer(429, "{}"),
            ("/auth/o2/token", _) => TOKEN,
            _ => Reply::Answer(200, r#"{"buyer":{"locale":"ja-JP"}}"#),
        });
        let v = clock();
        let start = v.now();
        fake.client(&v).buyer_locale(&order(), JP).await.unwrap();
        assert_eq!(fake.count("/auth/o2/token"), 3);
        assert_eq!(v.now().duration_since(start), SignedDuration::from_secs(3));
    }

    #[tokio::test]
    async fn a_failing_token_endpoint_says_lwa_is_unavailable_not_that_credentials_are_wrong() {
        let fake = Fake::start(|_, _| Reply::Answer(500, "{}"));
        let err = fake
            .client(&clock())
            .buyer_locale(&order(), JP)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), MarketErrorKind::Transient);
        let text = err.to_string();
        assert!(
            text.contains("LWA unavailable") && text.contains("HTTP 500"),
            "{text}"
        );
        assert!(!text.contains("client id"), "{text}");
        assert_eq!(fake.count("/auth/o2/token"), LWA_ATTEMPTS as usize);

        let err = client(
            &fake.base,
            &format!("{}/auth/o2/token", closed_port()),
            &clock(),
        )
        .buyer_locale(&order(), JP)
        .await
        .unwrap_err();
        assert_eq!(err.kind(), MarketErrorKind::Transient);
        assert!(err.to_string().contains("network error"), "{err}");
    }

    #[tokio::test]
    async fn refused_credentials_are_said_to_be_credentials_and_not_retried() {
        let fake = Fake::start(|_, _| {
            Reply::Answer(
                401,
                r#"{"error":"invalid_client","error_description":"Client authentication failed"}"#,
            )
        });
        let err = fake
            .client(&clock())
            .buyer_locale(&order(), JP)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), MarketErrorKind::NotAuthorized);
        let text = err.to_string();
        assert!(
            text.contains("invalid_client")
                && text.contains("check the client id, secret and refresh token"),
            "{text}"
        );
        assert_eq!(fake.count("/auth/o2/token"), 1);
    }
}
