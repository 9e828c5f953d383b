//! The seller performance report (`GET_V2_SELLER_PERFORMANCE_REPORT`, Reports API 2021-06-30):
//! requesting it, following its processing, and reading its document into Amazon's own
//! account-health figures ([`kenzen_core::health::parse_report`]).
//!
//! Three steps, each one call under the client's rate budget and run deadline like every other
//! call: [`SpApiClient::request_seller_performance`] (createReport),
//! [`SpApiClient::seller_performance_status`] (getReport; ask again while it is pending), and
//! [`SpApiClient::seller_performance_document`] (getReportDocument, then the presigned URL,
//! gunzipped when Amazon says GZIP). The caller decides when to ask again: nothing here waits
//! or loops. Amazon refreshes the figures about daily, and createReport allows one call a
//! minute: request the report a few times a day at most.
//!
//! The calls need the application's Selling Partner Insights role; without it each one is
//! [`SpApiError::NotAuthorized`], naming the role. It must not log the document's URL (a
//! credential while it lasts) or its content, and it must not panic on any answer: what does
//! not read is [`SpApiError::Decode`].

use jiff::Timestamp;
use kenzen_core::health::{ParsedReport, parse_report};
use kenzen_core::ids::encode_segment;
use reqwest::Method;

use super::rate::Op;
use super::{SpApiClient, SpApiError, gunzip, wire};

/// The report type of the seller performance report.
pub const SELLER_PERFORMANCE_REPORT: &str = "GET_V2_SELLER_PERFORMANCE_REPORT";

/// The most marketplaces one report may cover (the model's `marketplaceIds` `maxItems`).
pub const MAX_REPORT_MARKETPLACES: usize = 25;

/// Where a requested report stands (getReport's `processingStatus`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportStatus {
    /// IN_QUEUE or IN_PROGRESS: ask again later (a minute or more).
    Pending,
    /// DONE: read the document with [`SpApiClient::seller_performance_document`].
    Done { document_id: String },
    /// CANCELLED: Amazon made no document (for instance no data); the figures already held stay
    /// in use, and the report can be requested again later.
    Cancelled,
    /// FATAL: Amazon could not make the report. Its document, when there is one, describes the
    /// error; it is not the report (reading it as one is a [`SpApiError::Decode`]).
    Fatal { document_id: Option<String> },
}

impl SpApiClient {
    /// Requests the seller performance report for `marketplaces` (1 to 25, in the endpoint's
    /// region): its report id. Nothing is sent for an empty or too long list
    /// ([`SpApiError::InvalidRequest`]).
    pub async fn request_seller_performance(
        &self,
        marketplaces: &[String],
    ) -> Result<String, SpApiError> {
        let op = Op::CreateReport;
        if marketplaces.is_empty() || marketplaces.len() > MAX_REPORT_MARKETPLACES {
            return Err(SpApiError::InvalidRequest {
                op: op.name(),
                detail: format!(
                    "a report covers 1 to {MAX_REPORT_MARKETPLACES} marketplaces, not {}",
                    marketplaces.len()
                ),
            });
        }
        let (status, body) = self
            .call(
                op,
                Method::POST,
                "/reports/2021-06-30/reports",
                &[],
                Some(serde_json::json!({
                    "reportType": SELLER_PERFORMANCE_REPORT,
                    "marketplaceIds": marketplaces,
                })),
            )
            .await?;
        let created: wire::CreateReportResponse = Self::decode(op, status, &body)?;
        tracing::info!(
            op = op.name(),
            report_id = %created.report_id,
            marketplaces = marketplaces.len(),
            "seller performance report requested"
        );
        Ok(created.report_id)
    }

    /// Where report `report_id` stands. A report of another type, a DONE report without a
    /// document, or a status outside the model is [`SpApiError::Decode`].
    pub async fn seller_performance_status(
        &self,
        report_id: &str,
    ) -> Result<ReportStatus, SpApiError> {
        let op = Op::GetReport;
        let report: wire::Report = self
            .get_json(
                op,
                &format!("/reports/2021-06-30/reports/{}", encode_segment(report_id)),
                &[],
            )
            .await?;
        let unexpected = |detail: String| SpApiError::Decode {
            op: op.name(),
            detail,
        };
        if report.report_type != SELLER_PERFORMANCE_REPORT {
            return Err(unexpected(format!(
                "report {} is a {} report, not {SELLER_PERFORMANCE_REPORT}",
                report.report_id, report.report_type
            )));
        }
        let status = match (report.processing_status.as_str(), report.report_document_id) {
            ("IN_QUEUE" | "IN_PROGRESS", _) => ReportStatus::Pending,
            ("DONE", Some(document_id)) => ReportStatus::Done { document_id },
            ("DONE", None) => {
                return Err(unexpected(format!(
                    "report {} is DONE without a reportDocumentId",
                    report.report_id
                )));
            }
            ("CANCELLED", _) => ReportStatus::Cancelled,
            ("FATAL", document_id) => ReportStatus::Fatal { document_id },
            (other, _) => {
                return Err(unexpected(format!(
                    "report {} has processingStatus {other:?}, not one the model lists",
                    report.report_id
                )));
            }
        };
        if matches!(status, ReportStatus::Cancelled | ReportStatus::Fatal { .. }) {
            tracing::warn!(
                op = op.name(),
                report_id = %report.report_id,
                status = %report.processing_status,
                "seller performance report ended without figures"
            );
        }
        Ok(status)
    }

    /// Reads report document `document_id` downloaded at `fetched_at`: Amazon's figures per
    /// marketplace, and a line for each one left out and why. A failed download is
    /// [`SpApiError::Document`] (worth another try: each getReportDocument gives a new URL); a
    /// document that does not unpack or is not the seller performance report is
    /// [`SpApiError::Decode`] with the reason.
    pub async fn seller_performance_document(
        &self,
        document_id: &str,
        fetched_at: Timestamp,
    ) -> Result<ParsedReport, SpApiError> {
        let op = Op::GetReportDocument;
        let doc: wire::ReportDocument = self
            .get_json(
                op,
                &format!(
                    "/reports/2021-06-30/documents/{}",
                    encode_segment(document_id)
                ),
                &[],
            )
            .await?;
        let unreadable = |detail: String| SpApiError::Decode {
            op: op.name(),
            detail: format!("report document {document_id}: {detail}"),
        };
        let gzip = match doc.compression_algorithm.as_deref() {
            None => false,
            Some("GZIP") => true,
            Some(other) => {
                return Err(unreadable(format!(
                    "compressionAlgorithm {other:?} is not one the model lists"
                )));
            }
        };
        let (_, bytes) = self.download(&doc.url, "seller performance report").await?;
        let raw = if gzip {
            gunzip(&bytes)
                .map_err(|e| unreadable(format!("declared GZIP but does not unpack: {e}")))?
        } else {
            bytes
        };
        let parsed = parse_report(&raw, fetched_at).map_err(|e| unreadable(e.to_string()))?;
        tracing::info!(
            op = op.name(),
            marketplaces = parsed.health.len(),
            skipped = parsed.skipped.len(),
            "seller performance report read"
        );
        for why in &parsed.skipped {
            tracing::warn!(op = op.name(), skipped = %why, "part of the seller performance report left out");
        }
        Ok(parsed)
    }
}
