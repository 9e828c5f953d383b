//! What every buyer message must be, and the parts of it that come from the order.
//!
//! Amazon's rules for `createUnexpectedProblem`: 1–2000 characters, no HTML, no e-mail address,
//! no links but to the problem itself, in the buyer's language. [`check_text`] checks a finished
//! text; [`find_link`] finds a web address in the seller's own words (the templates and their
//! shop name and signature, see [`crate::templates`]). Product titles come from Amazon and are
//! cleaned and shortened here ([`product_list`]) so that any order's titles keep a text that
//! passed on a sample order within the rules. No IO, no clock.

use crate::case::Case;

/// Amazon's limit for a message text, in characters.
pub const MAX_CHARS: usize = 2000;
const MAX_TITLE_CHARS: usize = 120;
const MAX_TITLES: usize = 5;
/// A product list never says more than "(+999)" about the titles it leaves out.
const MAX_MORE: usize = 999;

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

/// The case's products for a message: at most five cleaned titles (the SKU when there is no
/// usable title), then how many more; never longer than [`worst_product_list`].
pub fn product_list(case: &Case) -> String {
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
        s.push_str(&format!(" (+{})", more.min(MAX_MORE)));
    }
    s
}

/// The longest product list [`product_list`] can give: what a template is measured with.
pub fn worst_product_list() -> String {
    let title = "W".repeat(MAX_TITLE_CHARS);
    let titles = vec![title; MAX_TITLES];
    format!("{} (+{MAX_MORE})", titles.join(" / "))
}

/// The phrases only a final apology carries: one in each language's default final texts (see
/// [`crate::templates`]); the English one is also what kenzen's earlier texts said.
const FINAL_MARKERS: [&str; 6] = [
    "当店にてご注文をキャンセルさせていただきます",
    "so we are cancelling it",
    "von unserer Seite aus",
    "de notre côté",
    "da parte nostra",
    "por nuestra parte",
];

/// True when `text` is a final apology as kenzen's default texts write it, in any language
/// (used by checks that judge kenzen from the marketplace's log). A seller's own final text is
/// not recognised: the case timeline's note (`final message`) says which message was which.
pub fn is_final_text(text: &str) -> bool {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    FINAL_MARKERS.iter().any(|m| one_line.contains(m))
}

/// Keeps a text within Amazon's limit (every part is bounded already, so this only guards).
pub(crate) fn fit(text: String) -> String {
    if text.chars().count() <= MAX_CHARS {
        text
    } else {
        text.chars().take(MAX_CHARS).collect()
    }
}

/// Checks a text against Amazon's rules for `createUnexpectedProblem`: length, HTML, e-mail
/// addresses. (Links are looked for in the seller's own words, by [`find_link`]: product titles
/// are Amazon's, and often name an Amazon site, as in 【Amazon.co.jp限定】.)
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

/// Top-level domains a web address in a message would end in (a bare `shop.example` is still a
/// link to a buyer's mail reader).
const TLDS: &[&str] = &[
    "com", "net", "org", "info", "biz", "shop", "store", "online", "site", "website", "xyz", "app",
    "dev", "io", "co", "me", "ly", "to", "tv", "cc", "eu", "asia", "link", "page", "jp", "de",
    "fr", "it", "es", "uk", "nl", "pl", "se", "tr", "be", "at", "ch", "us", "ca", "mx", "br", "au",
    "in", "cn", "kr", "tw", "hk", "sg", "ae", "sa", "eg", "ru", "ie", "pt", "dk", "no", "fi", "cz",
    "nz",
];

/// The first web address in `text`, with the index (in characters) where it starts: anything
/// with `://`, anything starting `www.`, and any name ending in a dot and a top-level domain
/// (`amazon.co.jp`, `shop.example.com/x`). A capitalised ending after a dot (`bestellt.Es`) is
/// taken for a missing space, not a domain.
pub fn find_link(text: &str) -> Option<(usize, String)> {
    let chars: Vec<char> = text.chars().collect();
    let in_run = |c: char| c.is_ascii_alphanumeric() || ".-:/_~%?=#+&".contains(c);
    let mut i = 0;
    while i < chars.len() {
        if !in_run(chars[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && in_run(chars[i]) {
            i += 1;
        }
        let run: String = chars[start..i].iter().collect();
        let lower = run.to_ascii_lowercase();
        if lower.contains("://") || lower.starts_with("www.") {
            return Some((start, run));
        }
        let mut offset = 0;
        for piece in run.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-')) {
            let name = piece.trim_matches(|c| c == '.' || c == '-');
            if is_domain(name) {
                let lead = piece.len() - piece.trim_start_matches(['.', '-']).len();
                return Some((start + offset + lead, name.to_string()));
            }
            offset += piece.chars().count() + 1;
        }
    }
    None
}

fn is_domain(name: &str) -> bool {
    let labels: Vec<&str> = name.split('.').collect();
    let Some(tld) = labels.last() else {
        return false;
    };
    let cased =
        tld.chars().all(|c| c.is_ascii_lowercase()) || tld.chars().all(|c| c.is_ascii_uppercase());
    labels.len() >= 2
        && labels.iter().all(|l| !l.is_empty())
        && cased
        && TLDS.contains(&tld.to_ascii_lowercase().as_str())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::case::{CaseItem, CaseState, OpenReason, Strategy};
    use proptest::prelude::*;

    pub(crate) fn case_with_titles(titles: &[String]) -> Case {
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
            last_request_at: None,
            strategy_choice: None,
            projected_rate: None,
            earlier_feed_plan: None,
            state: CaseState::Requesting {
                next_at: None,
                sending: None,
            },
        }
    }

    #[test]
    fn markup_and_addresses_in_titles_are_removed() {
        let case = case_with_titles(&["<b>Cup</b> ask me@example.com".into()]);
        let p = product_list(&case);
        check_text(&p).unwrap();
        assert!(p.contains("Cup"));
    }

    #[test]
    fn a_long_order_lists_five_titles_and_how_many_more() {
        let titles: Vec<String> = (0..2000).map(|i| format!("Item {i}")).collect();
        let p = product_list(&case_with_titles(&titles));
        assert!(
            p.starts_with("Item 0 / Item 1") && p.ends_with(" (+999)"),
            "{p}"
        );
        let untitled = case_with_titles(&[" ".into()]);
        assert_eq!(product_list(&untitled), "SKU-0");
    }

    #[test]
    fn check_text_rejects_what_amazon_rejects() {
        assert!(check_text("").is_err());
        assert!(check_text("<p>hi</p>").is_err());
        assert!(check_text("mail me at a@b.jp").is_err());
        assert!(check_text(&"あ".repeat(2001)).is_err());
        assert!(check_text(&"あ".repeat(2000)).is_ok());
    }

    #[test]
    fn web_addresses_are_found_and_ordinary_dots_are_not() {
        let found = find_link;
        assert_eq!(
            found("see https://x.example/a"),
            Some((4, "https://x.example/a".into()))
        );
        assert_eq!(found("www.shop.jp"), Some((0, "www.shop.jp".into())));
        assert_eq!(
            found("Amazon.co.jpの注文履歴"),
            Some((0, "Amazon.co.jp".into()))
        );
        assert_eq!(
            found("order at shop.example.com/x now"),
            Some((9, "shop.example.com".into()))
        );
        assert_eq!(found("ACME.DE"), Some((0, "ACME.DE".into())));
        for fine in [
            "Version 2.0, No.5, e.g. and i.e.",
            "bestellt.Es tut uns leid",
            "Mr.Smith",
            "1.000 Stück",
            "Your Orders → Cancel items",
            "「注文履歴」→「商品をキャンセル」",
            "l'annulation de la commande 503-1234567-7654321.",
        ] {
            assert_eq!(found(fine), None, "{fine}");
        }
    }

    #[test]
    fn the_older_final_text_is_still_recognised_and_a_request_is_not() {
        assert!(is_final_text(
            "We cannot send this order, so we are\n cancelling it."
        ));
        assert!(!is_final_text("Could you please request the cancellation?"));
    }

    proptest! {
        #[test]
        fn a_product_list_is_never_longer_than_the_worst_case_and_passes_amazons_rules(
            titles in proptest::collection::vec(any::<String>(), 1..30),
        ) {
            let p = product_list(&case_with_titles(&titles));
            prop_assert!(p.chars().count() <= worst_product_list().chars().count());
            prop_assert!(check_text(&p).is_ok(), "{p}");
        }
    }
}
