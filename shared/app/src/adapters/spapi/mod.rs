//! kenzen's own thin Selling Partner API client (reqwest): LWA token cache, per-operation rate
//! limits on the injected clock, retries on 429/5xx, and the operations kenzen needs.
//!
//! It implements the [`Marketplace`](crate::ports::Marketplace) port, mapping its own
//! [`SpApiError`] onto the port's [`MarketError`] kinds. Hosts come from configuration only
//! (defaults per marketplace in [`kenzen_core::marketplace`]). It never logs tokens, secrets,
//! message texts or buyer data.

pub mod feed;
pub mod notifications;
pub mod rate;
pub mod wire;

use std::io::Read;

use jiff::{SignedDuration, Timestamp};
use kenzen_core::{OrderId, OrderView, Sku};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use tokio::sync::Mutex;

use kenzen_core::ids::encode_segment;

use crate::clock::Clock;
use crate::ports::{
    CancelBatchStatus, CancelRequest, FeedSummary, MarketError, MarketErrorKind, Marketplace,
    SendOutcome,
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
    pub marketplace_id: String,
    /// The seller (merchant) id, used as `MerchantIdentifier` in feeds.
    pub seller_id: String,
}

impl std::fmt::Debug for SpApiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpApiConfig")
            .field("endpoint", &self.endpoint)
            .field("lwa_endpoint", &self.lwa_endpoint)
            .field("marketplace_id", &self.marketplace_id)
            .finish_non_exhaustive()
    }
}

/// Why an SP-API call failed. Each variant says what the caller can do.
#[derive(Debug, thiserror::Error)]
pub enum SpApiError {
    #[error("LWA token exchange failed: {0} (check the client id, secret and refresh token)")]
    Auth(String),
    #[error("{op}: HTTP {status} {code}: {message}")]
    Http {
        op: &'static str,
        status: u16,
        code: String,
        message: String,
    },
    #[error("{op}: still failing after {attempts} attempts (last: {last}); try again later")]
    Exhausted {
        op: &'static str,
        attempts: u32,
        last: String,
    },
    #[error("{op}: unexpected response: {detail}")]
    Decode { op: &'static str, detail: String },
    #[error("feed document transfer failed: {0}")]
    Document(String),
}

impl SpApiError {
    /// True for failures that may go away by themselves (throttling, 5xx, network).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Exhausted { .. })
    }

    /// The port's kind of failure: what the caller can do about it.
    pub fn kind(&self) -> MarketErrorKind {
        match self {
            Self::Exhausted { .. } => MarketErrorKind::Transient,
            Self::Auth(_) => MarketErrorKind::Refused,
            Self::Http {
                status: 401 | 403, ..
            } => MarketErrorKind::Refused,
            Self::Http { .. } => MarketErrorKind::InvalidInput,
            Self::Decode { .. } => MarketErrorKind::Unreadable,
            // A presigned upload or download failed: the feed or report can be tried again.
            Self::Document(_) => MarketErrorKind::Transient,
        }
    }

    fn op(&self) -> &'static str {
        match self {
            Self::Auth(_) => "lwaToken",
            Self::Http { op, .. } | Self::Exhausted { op, .. } | Self::Decode { op, .. } => op,
            Self::Document(_) => "feedDocument",
        }
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
}

/// Refresh the token this long before it expires.
const TOKEN_MARGIN: SignedDuration = SignedDuration::from_mins(5);

impl SpApiClient {
    pub fn new(cfg: SpApiConfig, clock: Clock) -> Result<Self, SpApiError> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(20))
            .connect_timeout(std::time::Duration::from_secs(5))
            .user_agent(concat!(
                "kenzen/",
                env!("CARGO_PKG_VERSION"),
                " (Language=Rust)"
            ))
            .build()
            .map_err(|e| SpApiError::Auth(format!("cannot build HTTP client: {e}")))?;
        Ok(Self {
            http,
            cfg,
            clock,
            token: Mutex::new(None),
            grantless_token: Mutex::new(None),
            limits: RateLimits::default(),
            max_attempts: 5,
        })
    }

    pub fn marketplace_id(&self) -> &str {
        &self.cfg.marketplace_id
    }

    /// A token for `grant`: the seller's (refresh token) or the grantless one for the
    /// notifications API, each cached until a few minutes before it expires.
    async fn token_for(&self, grant: Grant) -> Result<String, SpApiError> {
        let cache = match grant {
            Grant::Seller => &self.token,
            Grant::Notifications => &self.grantless_token,
        };
        let mut guard = cache.lock().await;
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
        let resp = self
            .http
            .post(&self.cfg.lwa_endpoint)
            .form(&form)
            .send()
            .await
            .map_err(|e| SpApiError::Auth(format!("token endpoint unreachable: {e}")))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(SpApiError::Auth(format!(
                "token endpoint answered HTTP {status}"
            )));
        }
        let body: TokenResponse = resp
            .json()
            .await
            .map_err(|e| SpApiError::Auth(format!("token response unreadable: {e}")))?;
        tracing::info!(expires_in = body.expires_in, grant = ?grant, "LWA access token refreshed");
        *guard = Some(CachedToken {
            token: body.access_token.clone(),
            expires_at: now + SignedDuration::from_secs(body.expires_in),
        });
        Ok(body.access_token)
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
        let mut backoff = SignedDuration::from_secs(1);
        let mut last = String::new();
        for attempt in 1..=self.max_attempts {
            self.limits.acquire(op, &self.clock).await;
            let token = self.token_for(grant).await?;
            let mut req = self
                .http
                .request(method.clone(), &url)
                .header("x-amz-access-token", token)
                .header("accept", "application/json")
                .query(query);
            if let Some(b) = &body {
                req = req.json(b);
            }
            match req.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    let bytes = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
                    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
                        if status == StatusCode::TOO_MANY_REQUESTS {
                            self.limits.throttled(op, self.clock.now());
                        }
                        last = format!("HTTP {}", status.as_u16());
                        tracing::warn!(
                            op = op.name(),
                            status = status.as_u16(),
                            attempt,
                            "SP-API call will be retried"
                        );
                    } else {
                        return Ok((status, bytes));
                    }
                }
                Err(e) => {
                    last = format!("network error: {e}");
                    tracing::warn!(op = op.name(), attempt, error = %e, "SP-API call will be retried");
                }
            }
            if attempt < self.max_attempts {
                self.clock.sleep(backoff).await;
                backoff *= 2;
            }
        }
        Err(SpApiError::Exhausted {
            op: op.name(),
            attempts: self.max_attempts,
            last,
        })
    }

    pub(crate) fn http_error(op: Op, status: StatusCode, body: &[u8]) -> SpApiError {
        let (code, message) = match serde_json::from_slice::<wire::ErrorList>(body) {
            Ok(list) if !list.errors.is_empty() => {
                (list.errors[0].code.clone(), list.errors[0].message.clone())
            }
            _ => (
                String::new(),
                String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
            ),
        };
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

    fn messaging_query(&self) -> [(&'static str, String); 1] {
        [("marketplaceIds", self.cfg.marketplace_id.clone())]
    }

    async fn download(&self, url: &str, gzip: bool) -> Result<String, SpApiError> {
        let resp = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| SpApiError::Document(format!("download: {e}")))?;
        if !resp.status().is_success() {
            return Err(SpApiError::Document(format!(
                "download answered HTTP {}",
                resp.status()
            )));
        }
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| SpApiError::Document(format!("download: {e}")))?;
        if gzip {
            let mut s = String::new();
            flate2::read::GzDecoder::new(&bytes[..])
                .read_to_string(&mut s)
                .map_err(|e| SpApiError::Document(format!("report is not valid gzip text: {e}")))?;
            Ok(s)
        } else {
            String::from_utf8(bytes.to_vec())
                .map_err(|_| SpApiError::Document("report is not UTF-8".into()))
        }
    }
}

/// Percent-encodes one URL path segment (SKUs may hold any character).
impl SpApiClient {
    pub async fn search_orders(
        &self,
        updated_after: Timestamp,
    ) -> Result<(Vec<OrderView>, Option<Timestamp>), SpApiError> {
        let mut out = Vec::new();
        let mut next: Option<String> = None;
        let mut before = None;
        loop {
            let mut q = vec![
                (
                    "lastUpdatedAfter",
                    updated_after.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
                ),
                ("marketplaceIds", self.cfg.marketplace_id.clone()),
                ("fulfilledBy", "MERCHANT".to_string()),
                ("includedData", "FULFILLMENT,CANCELLATION".to_string()),
                ("maxResultsPerPage", "100".to_string()),
            ];
            if let Some(t) = &next {
                q.push(("paginationToken", t.clone()));
            }
            let page: wire::SearchOrdersResponse = self
                .get_json(Op::SearchOrders, "/orders/2026-01-01/orders", &q)
                .await?;
            before = page.last_updated_before.or(before);
            for o in page.orders {
                out.push(o.into_view(&self.cfg.marketplace_id).map_err(|detail| {
                    SpApiError::Decode {
                        op: Op::SearchOrders.name(),
                        detail,
                    }
                })?);
            }
            next = page.pagination.and_then(|p| p.next_token);
            if next.is_none() {
                return Ok((out, before));
            }
        }
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
            .into_view(&self.cfg.marketplace_id)
            .map_err(|detail| SpApiError::Decode {
                op: Op::GetOrder.name(),
                detail,
            })
    }

    pub async fn can_send_unexpected_problem(&self, order_id: &str) -> Result<bool, SpApiError> {
        let (status, body) = self
            .call(
                Op::GetMessagingActions,
                Method::GET,
                &format!("/messaging/v1/orders/{}", encode_segment(order_id)),
                &self.messaging_query(),
                None,
            )
            .await?;
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

    pub async fn buyer_locale(&self, order_id: &str) -> Result<Option<String>, SpApiError> {
        let attrs: wire::Attributes = self
            .get_json(
                Op::GetAttributes,
                &format!(
                    "/messaging/v1/orders/{}/attributes",
                    encode_segment(order_id)
                ),
                &self.messaging_query(),
            )
            .await?;
        Ok(attrs.buyer.and_then(|b| b.locale))
    }

    pub async fn send_unexpected_problem(
        &self,
        order_id: &str,
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
                &self.messaging_query(),
                Some(serde_json::json!({ "text": text })),
            )
            .await?;
        match status {
            StatusCode::CREATED => Ok(SendOutcome::Accepted),
            StatusCode::FORBIDDEN => Ok(SendOutcome::Refused(
                Self::http_error(op, status, &body).to_string(),
            )),
            _ => Err(Self::http_error(op, status, &body)),
        }
    }

    pub async fn submit_cancels(&self, cancels: &[CancelRequest]) -> Result<String, SpApiError> {
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
            .map_err(|e| SpApiError::Document(format!("upload: {e}")))?;
        if !put.status().is_success() {
            return Err(SpApiError::Document(format!(
                "upload answered HTTP {}",
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
                    "marketplaceIds": [self.cfg.marketplace_id],
                    "inputFeedDocumentId": doc.feed_document_id,
                })),
            )
            .await?;
        let created: wire::CreateFeedResponse = Self::decode(op, status, &body)?;
        Ok(created.feed_id)
    }

    /// The cancel feeds this application created since `since` (`getFeeds`, one page of up to
    /// 100, newest first as Amazon lists them).
    pub async fn recent_cancel_feeds(
        &self,
        since: Timestamp,
    ) -> Result<Vec<FeedSummary>, SpApiError> {
        let list: wire::FeedList = self
            .get_json(
                Op::GetFeeds,
                "/feeds/2021-06-30/feeds",
                &[
                    ("feedTypes", feed::FEED_TYPE.to_string()),
                    ("marketplaceIds", self.cfg.marketplace_id.clone()),
                    ("pageSize", "100".to_string()),
                    (
                        "createdSince",
                        since.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
                    ),
                ],
            )
            .await?;
        Ok(list
            .feeds
            .into_iter()
            .filter(|f| f.feed_type == feed::FEED_TYPE)
            .map(|f| FeedSummary {
                feed_id: f.feed_id,
                created: f.created_time,
                status: f.processing_status,
            })
            .collect())
    }

    /// The listing's product type (`getListingsItem` with summaries); `None` when Amazon has no
    /// listing for the SKU (404).
    pub async fn listing_product_type(&self, sku: &str) -> Result<Option<String>, SpApiError> {
        let op = Op::GetListingsItem;
        let (status, body) = self
            .call(
                op,
                Method::GET,
                &self.listing_path(sku),
                &[
                    ("marketplaceIds", self.cfg.marketplace_id.clone()),
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
            .find(|s| s.marketplace_id == self.cfg.marketplace_id)
            .map(|s| s.product_type))
    }

    fn listing_path(&self, sku: &str) -> String {
        format!(
            "/listings/2021-08-01/items/{}/{}",
            encode_segment(&self.cfg.seller_id),
            encode_segment(sku)
        )
    }

    /// Sets the listing's quantity with a `merge` patch on `fulfillment_availability`, which
    /// keeps the handling time and restock date Amazon holds.
    pub async fn set_listing_quantity(
        &self,
        sku: &str,
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
                &self.messaging_query(),
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
        match feed.processing_status.as_str() {
            "IN_QUEUE" | "IN_PROGRESS" => Ok(CancelBatchStatus::Pending),
            "CANCELLED" | "FATAL" => Ok(CancelBatchStatus::Failed(format!(
                "feed ended {}",
                feed.processing_status
            ))),
            "DONE" => {
                let doc_id = feed
                    .result_feed_document_id
                    .ok_or_else(|| SpApiError::Decode {
                        op: Op::GetFeed.name(),
                        detail: format!("feed {feed_id} is DONE without a result document"),
                    })?;
                let doc: wire::FeedDocument = self
                    .get_json(
                        Op::GetFeedDocument,
                        &format!("/feeds/2021-06-30/documents/{}", encode_segment(&doc_id)),
                        &[],
                    )
                    .await?;
                let gzip = doc.compression_algorithm.as_deref() == Some("GZIP");
                let text = self.download(&doc.url, gzip).await?;
                let report =
                    feed::parse_processing_report(&text).map_err(|detail| SpApiError::Decode {
                        op: Op::GetFeedDocument.name(),
                        detail,
                    })?;
                Ok(CancelBatchStatus::Done {
                    errors: report.errors_by_order(cancels),
                    unattributed: None,
                })
            }
            other => Err(SpApiError::Decode {
                op: Op::GetFeed.name(),
                detail: format!("unknown processingStatus {other:?}"),
            }),
        }
    }
}

/// The port, over the client's own operations (their errors mapped to [`MarketError`]).
impl Marketplace for SpApiClient {
    async fn search_orders(
        &self,
        after: Timestamp,
    ) -> Result<(Vec<OrderView>, Option<Timestamp>), MarketError> {
        Ok(SpApiClient::search_orders(self, after).await?)
    }

    async fn get_order(&self, order_id: &OrderId) -> Result<OrderView, MarketError> {
        Ok(SpApiClient::get_order(self, order_id).await?)
    }

    async fn can_send_unexpected_problem(&self, order_id: &OrderId) -> Result<bool, MarketError> {
        Ok(SpApiClient::can_send_unexpected_problem(self, order_id).await?)
    }

    async fn buyer_locale(&self, order_id: &OrderId) -> Result<Option<String>, MarketError> {
        Ok(SpApiClient::buyer_locale(self, order_id).await?)
    }

    async fn send_unexpected_problem(
        &self,
        order_id: &OrderId,
        text: &str,
    ) -> Result<SendOutcome, MarketError> {
        Ok(SpApiClient::send_unexpected_problem(self, order_id, text).await?)
    }

    async fn submit_cancels(&self, cancels: &[CancelRequest]) -> Result<String, MarketError> {
        Ok(SpApiClient::submit_cancels(self, cancels).await?)
    }

    async fn recent_cancel_feeds(&self, since: Timestamp) -> Result<Vec<FeedSummary>, MarketError> {
        Ok(SpApiClient::recent_cancel_feeds(self, since).await?)
    }

    async fn listing_product_type(&self, sku: &Sku) -> Result<Option<String>, MarketError> {
        Ok(SpApiClient::listing_product_type(self, sku).await?)
    }

    async fn set_listing_quantity(
        &self,
        sku: &Sku,
        quantity: u32,
        product_type: &str,
    ) -> Result<(), MarketError> {
        Ok(SpApiClient::set_listing_quantity(self, sku, quantity, product_type).await?)
    }

    async fn cancel_status(
        &self,
        id: &str,
        cancels: &[CancelRequest],
    ) -> Result<CancelBatchStatus, MarketError> {
        Ok(SpApiClient::cancel_status(self, id, cancels).await?)
    }
}
