use proptest::prelude::{Just, any, prop_assert, prop_oneof, proptest};
use proptest::strategy::Strategy as _;

use super::*;
use crate::message::tests::case_with_titles;
use crate::message::{check_text, is_final_text};

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn cup() -> Case {
    case_with_titles(&["Tea cup".into()])
}

/// An order as long as any can get in a message: a 64-character id, many long titles.
fn worst_case() -> Case {
    let titles: Vec<String> = (0..40)
        .map(|i| format!("{i} {}", "長".repeat(300)))
        .collect();
    let mut case = case_with_titles(&titles);
    case.order_id = "9".repeat(64).parse().unwrap();
    case
}

fn longest_vars() -> SellerVars {
    SellerVars::new(
        &"S".repeat(SellerVars::MAX_SHOP_NAME_CHARS),
        &"G".repeat(SellerVars::MAX_SIGNATURE_CHARS),
    )
    .unwrap()
}

fn problems(lang: Language, kind: TemplateKind, text: &str) -> Vec<Problem> {
    Template::new(lang, kind, text).unwrap_err().problems
}

#[test]
fn every_default_in_every_language_validates_and_stays_within_2000_with_the_worst_case() {
    let mut set = TemplateSet::defaults();
    set.set_vars(longest_vars());
    for lang in Language::ALL {
        for kind in TemplateKind::ALL {
            let text = defaults::text(lang, kind);
            let checked = Template::new(lang, kind, text)
                .unwrap_or_else(|e| panic!("default {lang} {kind}: {e}"));
            assert_eq!(checked, Template::default_for(lang, kind));
            let r = set.render_kind(&worst_case(), kind, lang);
            assert_eq!(r.source, Source::Default);
            assert!(r.text.chars().count() <= MAX_CHARS, "{lang} {kind}");
            check_text(&r.text).unwrap();
            assert!(r.text.contains(&"9".repeat(64)), "{lang} {kind}");
            assert!(
                r.text.ends_with(&"G".repeat(300)),
                "{lang} {kind} is signed"
            );
            assert!(r.text.contains(cancel_path(lang)) || !kind_asks(kind));
        }
    }
}

fn kind_asks(kind: TemplateKind) -> bool {
    matches!(
        kind,
        TemplateKind::Request | TemplateKind::RequestAgainToday | TemplateKind::RequestAgainLater
    )
}

#[test]
fn every_final_apology_is_recognised_as_one_and_no_request_is() {
    for lang in Language::ALL {
        for kind in TemplateKind::ALL {
            let text = TemplateSet::defaults().render_kind(&cup(), kind, lang).text;
            assert_eq!(is_final_text(&text), !kind_asks(kind), "{lang} {kind}");
        }
    }
}

#[test]
fn a_resend_the_same_local_day_says_earlier_today_and_one_on_a_later_day_says_the_other_day() {
    let set = TemplateSet::defaults();
    let case = cup();
    let ja = Language::Japanese;
    // 12:30 and 19:00 in Tokyo, the same day.
    let today = set.render(
        &case,
        MessageKind::Request(2),
        ja,
        t("2026-12-01T10:00:00Z"),
        Some(t("2026-12-01T03:30:00Z")),
    );
    assert_eq!(today.kind, TemplateKind::RequestAgainToday);
    assert!(
        today.text.contains("本日先ほどもご連絡いたしましたが"),
        "{}",
        today.text
    );
    assert!(!today.text.contains("先日"));
    // 19:00, then 08:30 the next morning in Tokyo.
    let later = set.render(
        &case,
        MessageKind::Request(3),
        ja,
        t("2026-12-01T23:30:00Z"),
        Some(t("2026-12-01T10:00:00Z")),
    );
    assert_eq!(later.kind, TemplateKind::RequestAgainLater);
    assert!(later.text.contains("先日もご連絡いたしましたが"));
    // The same UTC day, but past midnight in Tokyo: a later day there.
    let kind = TemplateKind::for_message(
        &case,
        MessageKind::Request(2),
        t("2026-12-01T15:30:00Z"),
        Some(t("2026-12-01T14:00:00Z")),
    );
    assert_eq!(kind, TemplateKind::RequestAgainLater);
    let en = set.render(
        &case,
        MessageKind::Request(2),
        Language::English,
        t("2026-12-01T10:00:00Z"),
        Some(t("2026-12-01T03:30:00Z")),
    );
    assert!(en.text.contains("earlier today"));
    let first = set.render(
        &case,
        MessageKind::Request(1),
        ja,
        t("2026-12-01T03:30:00Z"),
        None,
    );
    assert_eq!(first.kind, TemplateKind::Request);
    assert!(!first.text.contains("ご連絡いたしましたが"));
}

#[test]
fn without_the_previous_send_time_a_case_opened_today_says_today_and_an_older_one_the_other_day() {
    let mut case = cup();
    case.opened_at = t("2026-12-01T00:00:00Z"); // 09:00 in Tokyo
    let kind = |now| TemplateKind::for_message(&case, MessageKind::Request(2), t(now), None);
    assert_eq!(
        kind("2026-12-01T10:00:00Z"),
        TemplateKind::RequestAgainToday
    );
    assert_eq!(
        kind("2026-12-02T03:30:00Z"),
        TemplateKind::RequestAgainLater
    );
}

#[test]
fn the_final_message_follows_the_strategy() {
    let mut case = cup();
    let now = t("2026-12-02T03:00:00Z");
    assert_eq!(
        TemplateKind::for_message(&case, MessageKind::FinalNotice, now, None),
        TemplateKind::FinalNotice
    );
    case.strategy = Strategy::CancelFirst;
    let r = TemplateSet::defaults().render(
        &case,
        MessageKind::FinalNotice,
        Language::German,
        now,
        None,
    );
    assert_eq!(r.kind, TemplateKind::CancelFirst);
    assert!(
        r.text
            .contains("stornieren sie daher von unserer Seite aus")
    );
}

#[test]
fn an_unknown_variable_is_rejected_with_where_it_is_and_the_variables_there_are() {
    let p = problems(
        Language::English,
        TemplateKind::Request,
        "Order {order_id}\nDear {buyer_name},",
    );
    assert_eq!(
        p,
        [Problem::UnknownVariable {
            line: 2,
            column: 6,
            name: "buyer_name".into()
        }]
    );
    let said = p[0].to_string();
    assert!(
        said.contains("line 2, column 6: unknown variable {buyer_name}"),
        "{said}"
    );
    assert!(said.contains("{order_id}, {products}, {shop_name}, {signature}, {cancel_path}"));
}

#[test]
fn a_web_address_is_rejected_in_the_template_and_once_filled_in() {
    let k = TemplateKind::Request;
    let en = Language::English;
    assert!(matches!(
        &problems(en, k, "Order {order_id}: see https://shop.example/help")[..],
        [Problem::Link { line: 1, column: 23, found }] if found == "https://shop.example/help"
    ));
    assert!(matches!(
        &problems(en, k, "{order_id} www.{shop_name}.com")[..],
        [Problem::Link { .. }]
    ));
    assert!(matches!(
        &problems(en, k, "{order_id} Amazon.co.jp")[..],
        [Problem::Link { .. }]
    ));
    let filled = problems(en, k, "{order_id} {shop_name}.com");
    assert!(
        matches!(&filled[..], [Problem::Rendered { why }] if why.contains("Shop.com")),
        "{filled:?}"
    );
}

#[test]
fn html_addresses_braces_and_a_missing_order_id_are_each_reported() {
    let p = problems(
        Language::German,
        TemplateKind::FinalNotice,
        "<b>Hallo</b> {products\nan a@b {x}}",
    );
    let said: Vec<String> = p.iter().map(ToString::to_string).collect();
    assert!(
        matches!(
            p[0],
            Problem::Html {
                line: 1,
                column: 1,
                found: '<'
            }
        ),
        "{said:?}"
    );
    assert!(
        p.contains(&Problem::Email { line: 2, column: 5 }),
        "{said:?}"
    );
    assert!(
        p.contains(&Problem::UnclosedBrace {
            line: 1,
            column: 14
        }),
        "{said:?}"
    );
    assert!(
        p.contains(&Problem::UnknownVariable {
            line: 2,
            column: 8,
            name: "x".into()
        }),
        "{said:?}"
    );
    assert!(
        p.contains(&Problem::StrayBrace {
            line: 2,
            column: 11
        }),
        "{said:?}"
    );
    assert_eq!(
        problems(Language::German, TemplateKind::Request, "Hallo {products}"),
        [Problem::NoOrderId]
    );
    assert_eq!(
        problems(Language::German, TemplateKind::Request, " \r\n "),
        [Problem::Empty]
    );
    assert!(matches!(
        problems(Language::German, TemplateKind::Request, "{order_id}\u{7}")[..],
        [Problem::ControlChar { code: 7, .. }]
    ));
    let e = Template::new(Language::German, TemplateKind::Request, "Hallo").unwrap_err();
    assert!(
        e.to_string().starts_with(
            "the de request template cannot be used:\n  - the text does not contain {order_id}"
        ),
        "{e}"
    );
}

#[test]
fn a_template_too_long_for_the_longest_order_is_rejected_by_how_much() {
    let text = format!("{{order_id}} {{products}} {}", "x".repeat(1400));
    let p = problems(Language::English, TemplateKind::Request, &text);
    let [Problem::TooLong { chars }] = p[..] else {
        panic!("{p:?}")
    };
    assert!(chars > MAX_CHARS);
    assert!(
        p[0].to_string()
            .contains(&format!("shorten it by at least {}", chars - MAX_CHARS))
    );
}

#[test]
fn double_braces_are_braces_and_windows_line_ends_are_read() {
    let tpl = Template::new(
        Language::English,
        TemplateKind::Request,
        "Order {order_id} {{ok}}\r\n\r\nBye",
    )
    .unwrap();
    assert_eq!(tpl.text(), "Order {order_id} {{ok}}\n\nBye");
    let mut set = TemplateSet::defaults();
    set.set(tpl);
    let r = set.render_kind(&cup(), TemplateKind::Request, Language::English);
    assert_eq!(r.text, "Order 503-1234567-7654321 {ok}\n\nBye");
}

#[test]
fn the_shop_name_and_signature_are_checked_and_fill_their_variables() {
    assert_eq!(
        SellerVars::new("A\nB", "").unwrap_err().problems,
        [Problem::NotOneLine]
    );
    assert!(matches!(
        &SellerVars::new("Shop", "www.shop.jp").unwrap_err().problems[..],
        [Problem::Link { .. }]
    ));
    assert!(matches!(
        &SellerVars::new("Shop", "mail@shop").unwrap_err().problems[..],
        [Problem::Email { .. }]
    ));
    let long = SellerVars::new(&"x".repeat(101), "").unwrap_err();
    assert_eq!(long.field, "shop name");
    assert_eq!(
        long.problems,
        [Problem::FieldTooLong {
            chars: 101,
            max: 100
        }]
    );
    let tpl = Template::new(
        Language::English,
        TemplateKind::Request,
        "{shop_name}: order {order_id}\n\n{signature}",
    )
    .unwrap();
    let mut set = TemplateSet::defaults();
    set.set(tpl);
    set.set_vars(SellerVars::new("Kenzen Tea", "").unwrap());
    let r = set.render_kind(&cup(), TemplateKind::Request, Language::English);
    assert_eq!(
        r.text,
        "Kenzen Tea: order 503-1234567-7654321\n\nKenzen Tea"
    );
    set.set_vars(SellerVars::default());
    let r = set.render_kind(&cup(), TemplateKind::Request, Language::English);
    assert_eq!(
        r.text, ": order 503-1234567-7654321",
        "an empty signature leaves no blank lines"
    );
}

#[test]
fn stored_items_that_do_not_validate_are_ignored_with_the_reason_and_the_default_applies() {
    let (set, ignored) = TemplateSet::build(
        [
            (
                "de",
                "request",
                "Bestellung {order_id}: bitte stornieren. {signature}",
            ),
            ("en", "request", "Order {order}"),
            ("pt", "request", "Pedido {order_id}"),
            ("ja", "reminder", "{order_id}"),
        ],
        Some(("Kenzen Tea", "Kenzen Tea\nKundenservice")),
    );
    let keys: Vec<&str> = ignored.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(keys, ["en#request", "pt#request", "ja#reminder"]);
    assert!(ignored[0].why.contains("unknown variable {order}"));
    assert!(ignored[1].why.contains("not a language"));
    assert!(ignored[2].why.contains("not a message kind"));
    let de = set.render_kind(&cup(), TemplateKind::Request, Language::German);
    assert_eq!(de.source, Source::Stored);
    assert_eq!(
        de.text,
        "Bestellung 503-1234567-7654321: bitte stornieren. Kenzen Tea\nKundenservice"
    );
    let en = set.render_kind(&cup(), TemplateKind::Request, Language::English);
    assert_eq!(en.source, Source::Default);
    assert!(
        en.text
            .ends_with("Kind regards,\nKenzen Tea\nKundenservice")
    );
    let (_, bad_vars) = TemplateSet::build([], Some(("a@b", "")));
    assert_eq!(bad_vars[0].key, "VARS");
}

#[test]
fn the_sample_case_renders_every_template() {
    for lang in Language::ALL {
        let case = sample_case(
            lang,
            "A1PA6795UKMFR9".parse().unwrap(),
            Strategy::AskBuyer,
            t("2026-12-01T08:00:00Z"),
        );
        for kind in TemplateKind::ALL {
            let r = TemplateSet::defaults().render_kind(&case, kind, lang);
            assert!(r.text.contains("503-0000000-0000000"));
            check_text(&r.text).unwrap();
        }
    }
}

#[test]
fn names_of_kinds_and_languages_read_back() {
    for k in TemplateKind::ALL {
        assert_eq!(k.name().parse::<TemplateKind>(), Ok(k));
    }
    assert!(
        "reminder"
            .parse::<TemplateKind>()
            .unwrap_err()
            .contains("request-again-today")
    );
}

fn template_text() -> impl proptest::strategy::Strategy<Value = String> {
    let piece = prop_oneof![
        Just("{order_id}".to_string()),
        Just("{products}".to_string()),
        Just("{shop_name}".to_string()),
        Just("{signature}".to_string()),
        Just("{cancel_path}".to_string()),
        Just("\n".to_string()),
        Just(".com".to_string()),
        any::<String>(),
        "[a-zA-Zあ-ん .,:!?'\"-]{0,80}",
    ];
    proptest::collection::vec(piece, 0..20).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn a_template_that_validates_gives_a_text_within_amazons_rules_for_any_order(
        text in template_text(),
        titles in proptest::collection::vec(any::<String>(), 1..12),
        lang in proptest::sample::select(Language::ALL.to_vec()),
        kind in proptest::sample::select(TemplateKind::ALL.to_vec()),
        long_vars in any::<bool>(),
    ) {
        let case = case_with_titles(&titles);
        let mut set = TemplateSet::defaults();
        if long_vars {
            set.set_vars(longest_vars());
        }
        if let Ok(tpl) = Template::new(lang, kind, &text) {
            set.set(tpl);
        }
        let r = set.render_kind(&case, kind, lang);
        prop_assert!(check_text(&r.text).is_ok(), "{}", r.text);
        prop_assert!(r.text.contains(case.order_id.as_str()));
        prop_assert!(r.text.chars().count() <= MAX_CHARS);
    }

    #[test]
    fn every_default_passes_amazons_rules_for_any_titles(
        titles in proptest::collection::vec(any::<String>(), 1..30),
        lang in proptest::sample::select(Language::ALL.to_vec()),
        kind in proptest::sample::select(TemplateKind::ALL.to_vec()),
    ) {
        let case = case_with_titles(&titles);
        let r = TemplateSet::defaults().render_kind(&case, kind, lang);
        prop_assert!(check_text(&r.text).is_ok(), "{}", r.text);
        prop_assert!(r.text.contains(case.order_id.as_str()));
    }
}
