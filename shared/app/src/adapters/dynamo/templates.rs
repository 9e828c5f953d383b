//! The seller's message templates on the table: `TEMPLATE` / `<lang>#<kind>` with `text` (e.g.
//! `TEMPLATE` / `ja#request-again-today`), and `TEMPLATE` / `VARS` with `shop_name` and
//! `signature`. All in one partition, read with one consistent query.
//!
//! It stores only what the core validated and reads back raw: deciding what a stored item
//! means (and ignoring one this version cannot use) is the core's, not this adapter's.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use kenzen_core::marketplace::Language;
use kenzen_core::templates::{SellerVars, Template, TemplateKind};

use super::{DynamoStore, db_err};
use crate::ports::{StoreError, StoredTemplate, StoredTemplates, TemplateStore};

const PK: &str = "TEMPLATE";
const VARS: &str = "VARS";

fn template_sk(lang: Language, kind: TemplateKind) -> String {
    format!("{}#{}", lang.code(), kind.name())
}

fn string(item: &HashMap<String, AttributeValue>, name: &str) -> String {
    match item.get(name) {
        Some(AttributeValue::S(s)) => s.clone(),
        _ => String::new(),
    }
}

impl TemplateStore for DynamoStore {
    async fn stored_templates(&self) -> Result<StoredTemplates, StoreError> {
        let mut out = StoredTemplates::default();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", AttributeValue::S(PK.into()))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| db_err("Query(templates)", e))?;
            for item in page.items() {
                let sk = string(item, "sk");
                if sk == VARS {
                    out.vars = Some((string(item, "shop_name"), string(item, "signature")));
                    continue;
                }
                let (lang, kind) = sk.split_once('#').unwrap_or((sk.as_str(), ""));
                out.templates.push(StoredTemplate {
                    lang: lang.into(),
                    kind: kind.into(),
                    text: string(item, "text"),
                });
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        Ok(out)
    }

    async fn put_template(&self, template: &Template) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(PK.into()))
            .item(
                "sk",
                AttributeValue::S(template_sk(template.lang(), template.kind())),
            )
            .item("text", AttributeValue::S(template.text().into()))
            .send()
            .await
            .map_err(|e| db_err("PutItem(template)", e))?;
        Ok(())
    }

    async fn delete_template(&self, lang: Language, kind: TemplateKind) -> Result<(), StoreError> {
        // operator only (kenzen templates reset).
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(PK.into()))
            .key("sk", AttributeValue::S(template_sk(lang, kind)))
            .send()
            .await
            .map_err(|e| db_err("DeleteItem(template)", e))?;
        Ok(())
    }

    async fn put_template_vars(&self, vars: &SellerVars) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(PK.into()))
            .item("sk", AttributeValue::S(VARS.into()))
            .item("shop_name", AttributeValue::S(vars.shop_name().into()))
            .item("signature", AttributeValue::S(vars.signature().into()))
            .send()
            .await
            .map_err(|e| db_err("PutItem(template vars)", e))?;
        Ok(())
    }
}
