//! Buyer message templates, written by us: Japanese for a `ja-JP` buyer, English otherwise.
//!
//! Every text names the order id and the product, is 1–2000 characters, and contains no HTML and
//! no e-mail address (Amazon's rules for `createUnexpectedProblem`). Product titles come from
//! Amazon and are cleaned and shortened so the text always stays within those rules.

use crate::case::{Case, OpenReason};

/// Amazon's limit for a message text, in characters.
pub const MAX_CHARS: usize = 2000;
const MAX_TITLE_CHARS: usize = 120;
const MAX_TITLES: usize = 5;

pub use crate::marketplace::Language;

/// Makes a product title safe for a message: no markup or address characters, one line, short.
fn clean_title(title: &str) -> String {
    let cleaned: String = title
        .chars()
        .map(|c| match c {
            '<' | '>' | '@' | '&' => ' ',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    let words: Vec<&str> = cleaned.split_whitespace().collect();
    let one_line = words.join(" ");
    if one_line.chars().count() > MAX_TITLE_CHARS {
        let short: String = one_line.chars().take(MAX_TITLE_CHARS - 1).collect();
        format!("{short}…")
    } else {
        one_line
    }
}

fn product_list(case: &Case) -> String {
    let mut titles: Vec<String> = case
        .items
        .iter()
        .map(|i| clean_title(&i.title))
        .filter(|t| !t.is_empty())
        .collect();
    titles.dedup();
    if titles.is_empty() {
        // No usable title: the SKU, cleaned the same way (it may hold any character).
        let sku = case
            .items
            .first()
            .map_or_else(String::new, |i| clean_title(i.sku.as_str()));
        titles.push(if sku.is_empty() { "-".into() } else { sku });
    }
    let more = titles.len().saturating_sub(MAX_TITLES);
    titles.truncate(MAX_TITLES);
    let mut s = titles.join(" / ");
    if more > 0 {
        s.push_str(&format!(" (+{more})"));
    }
    s
}

fn why_ja(case: &Case) -> &'static str {
    match case.reason {
        OpenReason::StockShort { .. } => "在庫を確保できず、",
        _ => "やむを得ない事情により、",
    }
}

fn why_en(case: &Case) -> &'static str {
    match case.reason {
        OpenReason::StockShort { .. } => "the item is out of stock and ",
        _ => "",
    }
}

/// Request message `n` (1-based): asks the buyer to use Amazon's own "request cancellation".
pub fn request_text(case: &Case, n: u32, lang: Language) -> String {
    let order = &case.order_id;
    let products = product_list(case);
    let text = match lang {
        Language::Japanese => {
            let again = if n > 1 {
                "先日もご連絡いたしましたが、改めてお願い申し上げます。\n\n"
            } else {
                ""
            };
            let why = why_ja(case);
            format!(
                "ご注文番号 {order} について、お詫びとお願い\n\n\
                 {again}このたびは「{products}」をご注文いただき、誠にありがとうございます。\n\
                 大変申し訳ございませんが、{why}このご注文の商品をお届けできなくなりました。\n\n\
                 お手数をおかけいたしますが、Amazonの「注文履歴」からご注文番号 {order} を開き、\
                 「商品をキャンセル」からキャンセルをリクエストしていただけますでしょうか。\
                 代金が請求されることはございません。\n\n\
                 ご迷惑をおかけいたしますことを、心よりお詫び申し上げます。"
            )
        }
        Language::English => {
            let again = if n > 1 {
                "We are writing again about this order.\n\n"
            } else {
                ""
            };
            let why = why_en(case);
            format!(
                "About your order {order}: our apologies and a request\n\n\
                 {again}Thank you for ordering \"{products}\". We are very sorry: {why}we \
                 cannot send this order.\n\n\
                 Could you please open order {order} in Your Orders on Amazon and choose \
                 \"Cancel items\" to request the cancellation? You will not be charged.\n\n\
                 We apologise for the inconvenience."
            )
        }
    };
    fit(text)
}

/// The final apology, sent before kenzen cancels the order itself (both strategies).
pub fn final_text(case: &Case, lang: Language) -> String {
    let order = &case.order_id;
    let products = product_list(case);
    let text = match lang {
        Language::Japanese => {
            let why = why_ja(case);
            format!(
                "ご注文番号 {order} のキャンセルについてのお詫び\n\n\
                 このたびは「{products}」をご注文いただき、誠にありがとうございます。\n\
                 大変申し訳ございませんが、{why}このご注文の商品をお届けできないため、\
                 当店にてご注文をキャンセルさせていただきます。\
                 代金が請求されることはございません。\n\n\
                 ご期待に沿えず、誠に申し訳ございません。またのご利用を心よりお待ちしております。"
            )
        }
        Language::English => {
            let why = why_en(case);
            format!(
                "Your order {order}: our apologies\n\n\
                 Thank you for ordering \"{products}\". We are very sorry: {why}we cannot send \
                 this order, so we are cancelling it. You will not be charged.\n\n\
                 We apologise for letting you down and hope to serve you again."
            )
        }
    };
    fit(text)
}

/// The phrases only the final apology carries (Japanese and English).
const FINAL_MARKERS: [&str; 2] = [
    "当店にてご注文をキャンセルさせていただきます",
    "so we are cancelling it",
];

/// True when `text` is a final apology written by [`final_text`] (used by checks that judge
/// kenzen from the marketplace's log).
pub fn is_final_text(text: &str) -> bool {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    FINAL_MARKERS.iter().any(|m| one_line.contains(m))
}

/// Keeps a text within Amazon's limit (titles are already short, so this only guards).
fn fit(text: String) -> String {
    if text.chars().count() <= MAX_CHARS {
        text
    } else {
        text.chars().take(MAX_CHARS).collect()
    }
}

/// Checks a text against Amazon's rules for `createUnexpectedProblem`.
pub fn check_text(text: &str) -> Result<(), &'static str> {
    let n = text.chars().count();
    if n == 0 || n > MAX_CHARS {
        return Err("text must be 1 to 2000 characters");
    }
    if text.contains('<') || text.contains('>') {
        return Err("text must not contain HTML");
    }
    if text.contains('@') {
        return Err("text must not contain an e-mail address");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::{CaseItem, CaseState, Strategy};
    use proptest::prelude::*;

    fn case_with_titles(titles: &[String]) -> Case {
        let t: jiff::Timestamp = "2026-12-01T00:00:00Z".parse().unwrap();
        Case {
            slots_used: vec![],
            final_notice_at: t,
            cancel_by: t,
            order_id: "503-1234567-7654321".parse().unwrap(),
            marketplace_id: "A1VC38T7YXB528".parse().unwrap(),
            opened_at: "2026-12-01T00:00:00Z".parse().unwrap(),
            ship_by: "2026-12-03T14:59:59Z".parse().unwrap(),
            reason: OpenReason::StockShort {
                sku: "CUP-1".parse().unwrap(),
                on_hand: 0,
                ordered: 1,
            },
            strategy: Strategy::AskBuyer,
            items: titles
                .iter()
                .enumerate()
                .map(|(i, t)| CaseItem {
                    order_item_id: format!("{i}"),
                    sku: format!("SKU-{i}").parse().unwrap(),
                    title: t.clone(),
                    quantity: 1,
                })
                .collect(),
            requests_sent: 0,
            pending: vec![],
            lines_cancelled: vec![],
            outcomes_unknown: 0,
            alerts_raised: vec![],
            final_sent: None,
            buyer_locale: None,
            messaging_offered: false,
            dry_run: false,
            approved: None,
            approval_asked: None,
            state: CaseState::Requesting {
                next_at: None,
                sending: None,
            },
        }
    }

    #[test]
    fn a_japanese_buyer_gets_japanese_with_order_id_and_title() {
        let case = case_with_titles(&["有田焼 湯呑み".into()]);
        let t = request_text(&case, 1, Language::from_locale(Some("ja-JP")));
        assert!(t.contains("503-1234567-7654321"));
        assert!(t.contains("有田焼 湯呑み"));
        assert!(t.contains("キャンセルをリクエスト"));
        check_text(&t).unwrap();
    }

    #[test]
    fn other_locales_get_english_and_a_resend_says_so() {
        let case = case_with_titles(&["Tea cup".into()]);
        let first = request_text(&case, 1, Language::from_locale(Some("en-US")));
        let second = request_text(&case, 2, Language::from_locale(None));
        assert!(first.contains("Tea cup") && first.contains("503-1234567-7654321"));
        assert!(!first.contains("writing again"));
        assert!(second.contains("writing again"));
    }

    #[test]
    fn the_final_apology_says_the_order_is_being_cancelled() {
        let case = case_with_titles(&["Tea cup".into()]);
        assert!(final_text(&case, Language::English).contains("we are cancelling it"));
        assert!(is_final_text(&final_text(&case, Language::English)));
        assert!(is_final_text(&final_text(&case, Language::Japanese)));
        assert!(!is_final_text(&request_text(&case, 3, Language::Japanese)));
        assert!(!is_final_text(&request_text(&case, 3, Language::English)));
        let ja = final_text(&case, Language::Japanese);
        assert!(ja.contains("キャンセルさせていただきます") && ja.contains("503-1234567-7654321"));
        let mut flagged = case.clone();
        flagged.reason = OpenReason::ManualFlag {
            reason: "damaged".into(),
        };
        let t = request_text(&flagged, 1, Language::Japanese);
        assert!(!t.contains("在庫"), "no stock excuse for a flagged order");
    }

    #[test]
    fn markup_and_addresses_in_titles_are_removed() {
        let case = case_with_titles(&["<b>Cup</b> ask me@example.com".into()]);
        let t = request_text(&case, 1, Language::English);
        check_text(&t).unwrap();
        assert!(t.contains("Cup"));
    }

    #[test]
    fn check_text_rejects_what_amazon_rejects() {
        assert!(check_text("").is_err());
        assert!(check_text("<p>hi</p>").is_err());
        assert!(check_text("mail me at a@b.jp").is_err());
        assert!(check_text(&"あ".repeat(2001)).is_err());
        assert!(check_text(&"あ".repeat(2000)).is_ok());
    }

    proptest! {
        #[test]
        fn every_request_text_passes_amazons_rules(
            titles in proptest::collection::vec(any::<String>(), 1..30),
            n in 1u32..5,
            ja in any::<bool>(),
        ) {
            let case = case_with_titles(&titles);
            let lang = if ja { Language::Japanese } else { Language::English };
            let t = request_text(&case, n, lang);
            prop_assert!(check_text(&t).is_ok(), "{t}");
            prop_assert!(t.contains(case.order_id.as_str()));
            let f = final_text(&case, lang);
            prop_assert!(check_text(&f).is_ok(), "{f}");
            prop_assert!(f.contains(case.order_id.as_str()));
        }
    }
}
