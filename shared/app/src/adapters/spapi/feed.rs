//! The order acknowledgement feed that cancels MFN orders, and its processing report.
//!
//! One feed carries every order due for cancel, one `<Message>` each (createFeed allows about
//! one feed per two minutes). The report is read per order: DONE does not mean every cancel
//! worked.

use std::collections::BTreeMap;

use quick_xml::Reader;

use kenzen_core::OrderId;

use crate::ports::CancelRequest;
use quick_xml::escape::escape;
use quick_xml::events::Event;

/// The feed type that acknowledges or cancels orders.
pub const FEED_TYPE: &str = "POST_ORDER_ACKNOWLEDGEMENT_DATA";
/// The content type of the feed document.
pub const CONTENT_TYPE: &str = "text/xml; charset=UTF-8";

/// Builds the feed: message `i + 1` cancels `cancels[i]` (StatusCode Failure = cancel the order).
pub fn order_acknowledgement_feed(merchant_id: &str, cancels: &[CancelRequest]) -> String {
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <AmazonEnvelope xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xsi:noNamespaceSchemaLocation=\"amzn-envelope.xsd\">\n",
    );
    x.push_str(&format!(
        "  <Header>\n    <DocumentVersion>1.01</DocumentVersion>\n    \
         <MerchantIdentifier>{}</MerchantIdentifier>\n  </Header>\n  \
         <MessageType>OrderAcknowledgement</MessageType>\n",
        escape(merchant_id)
    ));
    for (i, c) in cancels.iter().enumerate() {
        x.push_str(&format!(
            "  <Message>\n    <MessageID>{}</MessageID>\n    <OrderAcknowledgement>\n      \
             <AmazonOrderID>{}</AmazonOrderID>\n      <StatusCode>Failure</StatusCode>\n",
            i + 1,
            escape(c.order_id.as_str())
        ));
        for item in &c.order_item_ids {
            x.push_str(&format!(
                "      <Item>\n        <AmazonOrderItemCode>{}</AmazonOrderItemCode>\n        \
                 <CancelReason>{}</CancelReason>\n      </Item>\n",
                escape(item.as_str()),
                c.reason.as_feed()
            ));
        }
        x.push_str("    </OrderAcknowledgement>\n  </Message>\n");
    }
    x.push_str("</AmazonEnvelope>\n");
    x
}

/// One `<Result>` of a processing report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportResult {
    pub message_id: Option<u32>,
    pub result_code: String,
    pub message_code: String,
    pub description: String,
    pub order_id: Option<String>,
}

/// A parsed processing report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessingReport {
    pub status_code: String,
    pub messages_processed: u32,
    pub messages_with_error: u32,
    pub results: Vec<ReportResult>,
}

impl ProcessingReport {
    /// The errors per order id, for a feed built from `cancels` (a result names its order by
    /// `AdditionalInfo/AmazonOrderID` or by its `MessageID`).
    pub fn errors_by_order(&self, cancels: &[CancelRequest]) -> BTreeMap<OrderId, String> {
        let mut out = BTreeMap::new();
        for r in self.results.iter().filter(|r| r.result_code == "Error") {
            let order = r
                .order_id
                .as_deref()
                .and_then(|id| id.parse().ok())
                .or_else(|| {
                    r.message_id
                        .and_then(|m| cancels.get((m as usize).checked_sub(1)?))
                        .map(|c| c.order_id.clone())
                });
            if let Some(order) = order {
                out.insert(order, format!("{} {}", r.message_code, r.description));
            }
        }
        out
    }
}

/// Parses a processing report; `Err` says what is wrong with the document.
pub fn parse_processing_report(xml: &str) -> Result<ProcessingReport, String> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().trim_text(false);
    let mut path: Vec<String> = Vec::new();
    let mut report = ProcessingReport::default();
    let mut current: Option<ReportResult> = None;
    let mut saw_report = false;
    let mut text = String::new();
    loop {
        match reader.read_event() {
            Err(e) => {
                return Err(format!(
                    "processing report is not valid XML at byte {}: {e}",
                    reader.buffer_position()
                ));
            }
            Ok(Event::Eof) => break,
            Ok(Event::Start(e)) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if name == "ProcessingReport" {
                    saw_report = true;
                }
                if name == "Result" {
                    current = Some(ReportResult::default());
                }
                text.clear();
                path.push(name);
            }
            Ok(Event::Text(t)) => {
                text.push_str(
                    &t.decode()
                        .map_err(|e| format!("processing report text: {e}"))?,
                );
            }
            Ok(Event::GeneralRef(r)) => {
                let name = r
                    .decode()
                    .map_err(|e| format!("processing report text: {e}"))?;
                match r.resolve_char_ref() {
                    Ok(Some(c)) => text.push(c),
                    _ => text.push_str(match name.as_ref() {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "quot" => "\"",
                        "apos" => "'",
                        other => {
                            return Err(format!("processing report: unknown entity &{other};"));
                        }
                    }),
                }
            }
            Ok(Event::End(_)) => {
                let leaf = path.pop().unwrap_or_default();
                let parent = path.last().map(String::as_str).unwrap_or("");
                let value = std::mem::take(&mut text).trim().to_string();
                if leaf == "Result" {
                    if let Some(r) = current.take() {
                        report.results.push(r);
                    }
                } else if let Some(r) = current.as_mut() {
                    match leaf.as_str() {
                        "MessageID" => r.message_id = value.parse().ok(),
                        "ResultCode" => r.result_code = value,
                        "ResultMessageCode" => r.message_code = value,
                        "ResultDescription" => r.description = value,
                        "AmazonOrderID" => r.order_id = Some(value),
                        _ => {}
                    }
                } else {
                    match (parent, leaf.as_str()) {
                        ("ProcessingReport", "StatusCode") => report.status_code = value,
                        ("ProcessingSummary", "MessagesProcessed") => {
                            report.messages_processed = value.parse().unwrap_or(0)
                        }
                        ("ProcessingSummary", "MessagesWithError") => {
                            report.messages_with_error = value.parse().unwrap_or(0)
                        }
                        _ => {}
                    }
                }
            }
            Ok(_) => {}
        }
    }
    if !saw_report {
        return Err("document has no ProcessingReport element".into());
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kenzen_core::CancelReason;

    fn cancels() -> Vec<CancelRequest> {
        vec![
            CancelRequest {
                order_id: "503-1".parse().unwrap(),
                order_item_ids: vec!["A1".into(), "A2".into()],
                reason: CancelReason::BuyerCanceled,
            },
            CancelRequest {
                order_id: "503-2".parse().unwrap(),
                order_item_ids: vec!["B1".into()],
                reason: CancelReason::BuyerCanceled,
            },
        ]
    }

    #[test]
    fn the_feed_has_one_message_per_order_and_one_item_per_line() {
        let x = order_acknowledgement_feed("SELLER<1>", &cancels());
        assert_eq!(x.matches("<Message>").count(), 2);
        assert_eq!(
            x.matches("<CancelReason>BuyerCanceled</CancelReason>")
                .count(),
            3
        );
        assert!(x.contains("<MerchantIdentifier>SELLER&lt;1&gt;</MerchantIdentifier>"));
        assert!(x.contains("<MessageID>2</MessageID>"));
        assert!(x.contains("<StatusCode>Failure</StatusCode>"));
    }

    #[test]
    fn report_errors_are_mapped_to_orders_by_order_id_or_message_id() {
        let xml = r#"<?xml version="1.0"?>
<AmazonEnvelope><Header><DocumentVersion>1.02</DocumentVersion></Header>
<MessageType>ProcessingReport</MessageType>
<Message><MessageID>1</MessageID><ProcessingReport>
<DocumentTransactionID>1</DocumentTransactionID><StatusCode>Complete</StatusCode>
<ProcessingSummary><MessagesProcessed>2</MessagesProcessed><MessagesSuccessful>0</MessagesSuccessful>
<MessagesWithError>2</MessagesWithError><MessagesWithWarning>0</MessagesWithWarning></ProcessingSummary>
<Result><MessageID>2</MessageID><ResultCode>Error</ResultCode><ResultMessageCode>18028</ResultMessageCode>
<ResultDescription>Order &amp; item unknown</ResultDescription></Result>
<Result><MessageID>9</MessageID><ResultCode>Error</ResultCode><ResultMessageCode>1</ResultMessageCode>
<ResultDescription>x</ResultDescription><AdditionalInfo><AmazonOrderID>503-1</AmazonOrderID></AdditionalInfo></Result>
<Result><MessageID>1</MessageID><ResultCode>Warning</ResultCode><ResultMessageCode>5</ResultMessageCode>
<ResultDescription>w</ResultDescription></Result>
</ProcessingReport></Message></AmazonEnvelope>"#;
        let r = parse_processing_report(xml).unwrap();
        assert_eq!(r.status_code, "Complete");
        assert_eq!(r.messages_processed, 2);
        assert_eq!(r.messages_with_error, 2);
        let errors = r.errors_by_order(&cancels());
        assert_eq!(errors.len(), 2);
        assert_eq!(errors["503-2"], "18028 Order & item unknown");
        assert!(errors.contains_key("503-1"));
    }

    #[test]
    fn a_document_that_is_not_a_report_is_an_error() {
        assert!(parse_processing_report("<a><b></a>").is_err());
        assert!(parse_processing_report("<Other/>").is_err());
    }
}
