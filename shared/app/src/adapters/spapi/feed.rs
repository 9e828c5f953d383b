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

/// A parsed processing report: its summary counts and its result lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessingReport {
    pub status_code: String,
    pub messages_processed: u32,
    pub messages_successful: u32,
    pub messages_with_error: u32,
    pub messages_with_warning: u32,
    pub results: Vec<ReportResult>,
}

impl ProcessingReport {
    /// The order of the batch `cancels` an error result is about: the order its
    /// `AdditionalInfo/AmazonOrderID` names, else the one its `MessageID` numbers (message
    /// `i + 1` is `cancels[i]`; a whole-document error has `MessageID` 0 or none).
    fn order_of(r: &ReportResult, cancels: &[CancelRequest]) -> Option<OrderId> {
        r.order_id
            .as_deref()
            .and_then(|id| cancels.iter().find(|c| c.order_id.as_str() == id))
            .or_else(|| {
                r.message_id
                    .and_then(|m| cancels.get((m as usize).checked_sub(1)?))
            })
            .map(|c| c.order_id.clone())
    }

    fn errors(&self) -> impl Iterator<Item = &ReportResult> {
        self.results.iter().filter(|r| r.result_code == "Error")
    }

    /// The errors per order of the batch `cancels` (the feed was built from them, in order).
    pub fn errors_by_order(&self, cancels: &[CancelRequest]) -> BTreeMap<OrderId, String> {
        let mut out = BTreeMap::new();
        for r in self.errors() {
            if let Some(order) = Self::order_of(r, cancels) {
                out.entry(order)
                    .or_insert_with(|| format!("{} {}", r.message_code, r.description));
            }
        }
        out
    }

    /// What the report says went wrong that it does not tie to an order of the batch, if
    /// anything: an error result with no order (a whole-document error such as "XML Parsing
    /// Fatal Error"), more messages counted with errors than results name orders (a report
    /// that gives only the counts), or fewer messages processed than were sent. Then the report
    /// confirms no order of the batch.
    pub fn unattributed(&self, cancels: &[CancelRequest]) -> Option<String> {
        let untied: Vec<&ReportResult> = self
            .errors()
            .filter(|r| Self::order_of(r, cancels).is_none())
            .collect();
        if let Some(first) = untied.first() {
            let more = match untied.len() {
                1 => String::new(),
                n => format!(" (and {} more errors not tied to an order)", n - 1),
            };
            return Some(format!(
                "{} {}{more}",
                first.message_code, first.description
            ));
        }
        let tied = self.errors_by_order(cancels).len();
        let counted = self.messages_with_error as usize;
        if counted > tied {
            return Some(format!(
                "{counted} messages with errors in the report, {} not tied to an order",
                counted - tied
            ));
        }
        let processed = self.messages_processed as usize;
        if processed < cancels.len() {
            return Some(format!(
                "the report counts {processed} messages processed of the {} sent",
                cancels.len()
            ));
        }
        None
    }

    /// The summary counts in one line.
    pub fn summary(&self) -> String {
        format!(
            "{} messages processed, {} successful, {} with errors, {} with warnings",
            self.messages_processed,
            self.messages_successful,
            self.messages_with_error,
            self.messages_with_warning
        )
    }
}

/// A report's bytes as text, by the charset its download declares (`charset=` in the
/// Content-Type, e.g. `UTF-8`, `Shift_JIS`, `windows-31j`), else the one its XML declaration
/// names, else UTF-8. `Err` when the charset is unknown or the bytes are not in it: a report
/// that cannot be read is never read as one without errors.
pub fn decode_report(bytes: &[u8], content_type: Option<&str>) -> Result<String, String> {
    let declared = content_type.and_then(|ct| {
        ct.split(';').skip(1).find_map(|param| {
            let (name, value) = param.split_once('=')?;
            name.trim()
                .eq_ignore_ascii_case("charset")
                .then(|| value.trim().trim_matches('"').to_string())
        })
    });
    let (label, whence) = match declared {
        Some(c) => (c, "its Content-Type"),
        None => match xml_declared_encoding(bytes) {
            Some(c) => (c, "its XML declaration"),
            None => ("UTF-8".to_string(), "no declaration (read as UTF-8)"),
        },
    };
    let encoding = encoding_rs::Encoding::for_label(label.as_bytes())
        .ok_or_else(|| format!("the report's charset {label:?} (from {whence}) is unknown"))?;
    let (text, _, had_errors) = encoding.decode(bytes);
    if had_errors {
        return Err(format!(
            "the report is not valid {label} (the charset from {whence}): it cannot be read"
        ));
    }
    Ok(text.into_owned())
}

/// The `encoding` of an XML declaration at the start of `bytes`, if there is one.
fn xml_declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(200)];
    let head = String::from_utf8_lossy(head);
    let decl = head.strip_prefix('\u{feff}').unwrap_or(&head);
    let decl = &decl[..decl.find("?>")?];
    if !decl.starts_with("<?xml") {
        return None;
    }
    let rest = &decl[decl.find("encoding")? + "encoding".len()..];
    let rest = rest.trim_start().strip_prefix('=')?.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &rest[1..];
    Some(value[..value.find(quote)?].to_string())
}

/// Parses a processing report; `Err` says what is wrong with the document. A summary count
/// that is not a number is an error, never read as 0.
pub fn parse_processing_report(xml: &str) -> Result<ProcessingReport, String> {
    let count = |leaf: &str, value: &str| {
        value
            .parse::<u32>()
            .map_err(|_| format!("processing report: {leaf} {value:?} is not a count"))
    };
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
                            report.messages_processed = count(&leaf, &value)?
                        }
                        ("ProcessingSummary", "MessagesSuccessful") => {
                            report.messages_successful = count(&leaf, &value)?
                        }
                        ("ProcessingSummary", "MessagesWithError") => {
                            report.messages_with_error = count(&leaf, &value)?
                        }
                        ("ProcessingSummary", "MessagesWithWarning") => {
                            report.messages_with_warning = count(&leaf, &value)?
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

    /// A report with `summary` (processed, successful, errors) and `results` as XML.
    fn report(summary: (u32, u32, u32), results: &str) -> ProcessingReport {
        let (p, ok, e) = summary;
        parse_processing_report(&format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><AmazonEnvelope><Message><MessageID>1</MessageID>\
             <ProcessingReport><StatusCode>Complete</StatusCode><ProcessingSummary>\
             <MessagesProcessed>{p}</MessagesProcessed><MessagesSuccessful>{ok}</MessagesSuccessful>\
             <MessagesWithError>{e}</MessagesWithError><MessagesWithWarning>0</MessagesWithWarning>\
             </ProcessingSummary>{results}</ProcessingReport></Message></AmazonEnvelope>"
        ))
        .unwrap()
    }

    #[test]
    fn a_report_whose_errors_are_all_tied_to_orders_confirms_the_others() {
        let r = report(
            (2, 1, 1),
            "<Result><MessageID>2</MessageID><ResultCode>Error</ResultCode>\
             <ResultMessageCode>18028</ResultMessageCode><ResultDescription>shipped</ResultDescription></Result>",
        );
        assert_eq!(r.errors_by_order(&cancels()).len(), 1);
        assert_eq!(r.unattributed(&cancels()), None);
        assert_eq!(report((2, 2, 0), "").unattributed(&cancels()), None);
    }

    #[test]
    fn errors_counted_but_not_listed_leave_the_batch_unconfirmed() {
        let r = report((2, 1, 1), "");
        assert!(r.errors_by_order(&cancels()).is_empty());
        assert_eq!(
            r.unattributed(&cancels()).unwrap(),
            "1 messages with errors in the report, 1 not tied to an order"
        );
        // Three counted, one of them listed for an order.
        let r = report(
            (2, 0, 3),
            "<Result><MessageID>1</MessageID><ResultCode>Error</ResultCode>\
             <ResultMessageCode>1</ResultMessageCode><ResultDescription>x</ResultDescription></Result>",
        );
        assert_eq!(
            r.unattributed(&cancels()).unwrap(),
            "3 messages with errors in the report, 2 not tied to an order"
        );
    }

    #[test]
    fn a_whole_document_error_is_given_in_the_reports_words() {
        let r = report(
            (0, 0, 1),
            "<Result><MessageID>0</MessageID><ResultCode>Error</ResultCode>\
             <ResultMessageCode>5001</ResultMessageCode><ResultDescription>XML Parsing Fatal Error \
             at Line 1, Column 1: Content is not allowed in prolog.</ResultDescription></Result>",
        );
        assert!(r.errors_by_order(&cancels()).is_empty());
        assert_eq!(
            r.unattributed(&cancels()).unwrap(),
            "5001 XML Parsing Fatal Error at Line 1, Column 1: Content is not allowed in prolog."
        );
        // An error naming an order outside the batch is not tied to it either.
        let r = report(
            (2, 1, 1),
            "<Result><ResultCode>Error</ResultCode><ResultMessageCode>7</ResultMessageCode>\
             <ResultDescription>y</ResultDescription><AdditionalInfo><AmazonOrderID>503-9\
             </AmazonOrderID></AdditionalInfo></Result>",
        );
        assert_eq!(r.unattributed(&cancels()).unwrap(), "7 y");
    }

    #[test]
    fn fewer_messages_processed_than_sent_leave_the_batch_unconfirmed() {
        assert_eq!(
            report((1, 1, 0), "").unattributed(&cancels()).unwrap(),
            "the report counts 1 messages processed of the 2 sent"
        );
    }

    #[test]
    fn a_summary_count_that_is_not_a_number_is_an_error() {
        let err = parse_processing_report(
            "<AmazonEnvelope><ProcessingReport><ProcessingSummary><MessagesWithError>many\
             </MessagesWithError></ProcessingSummary></ProcessingReport></AmazonEnvelope>",
        )
        .unwrap_err();
        assert!(err.contains("MessagesWithError"), "{err}");
    }

    #[test]
    fn a_report_is_decoded_by_the_charset_its_download_declares() {
        let text = "<?xml version=\"1.0\" encoding=\"Windows-31J\"?><a>キャンセルできません</a>";
        let sjis = encoding_rs::SHIFT_JIS.encode(text).0.into_owned();
        for ct in [
            Some("text/xml; charset=windows-31j"),
            Some("text/xml;charset=\"Shift_JIS\""),
            Some("text/xml"),
            None,
        ] {
            assert_eq!(decode_report(&sjis, ct).unwrap(), text, "{ct:?}");
        }
        assert_eq!(
            decode_report(text.as_bytes(), Some("text/xml; charset=UTF-8")).unwrap(),
            text
        );
        let plain = "<a>é</a>";
        assert_eq!(decode_report(plain.as_bytes(), None).unwrap(), plain);
        // The XML parser reads the decoded text whatever its declaration says.
        let r = parse_processing_report(
            &decode_report(
                &encoding_rs::SHIFT_JIS
                    .encode(
                        "<?xml version=\"1.0\" encoding=\"Windows-31J\"?><AmazonEnvelope>\
                         <ProcessingReport><Result><ResultCode>Error</ResultCode>\
                         <ResultDescription>注文番号が見つかりません</ResultDescription>\
                         </Result></ProcessingReport></AmazonEnvelope>",
                    )
                    .0,
                Some("text/xml; charset=windows-31j"),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(r.results[0].description, "注文番号が見つかりません");
    }

    #[test]
    fn a_report_not_in_its_declared_charset_is_an_error_never_read_as_empty() {
        let sjis = encoding_rs::SHIFT_JIS
            .encode("<a>キャンセル</a>")
            .0
            .into_owned();
        let err = decode_report(&sjis, Some("text/xml; charset=UTF-8")).unwrap_err();
        assert!(err.contains("not valid UTF-8"), "{err}");
        let err = decode_report(b"<a/>", Some("text/xml; charset=x-klingon")).unwrap_err();
        assert!(err.contains("x-klingon"), "{err}");
        let err = decode_report(
            &[0x82, 0xa0, 0xff, 0xff],
            Some("text/xml; charset=Shift_JIS"),
        )
        .unwrap_err();
        assert!(err.contains("not valid Shift_JIS"), "{err}");
    }

    #[test]
    fn a_document_that_is_not_a_report_is_an_error() {
        assert!(parse_processing_report("<a><b></a>").is_err());
        assert!(parse_processing_report("<Other/>").is_err());
    }
}
