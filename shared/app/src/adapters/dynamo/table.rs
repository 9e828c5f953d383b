//! Test support (feature `test-util`): creates the table from `infra/table.json`, the one place
//! its definition lives (the SAM template mirrors it, checked by `scripts/check-template.py`).
//! The file is read when a table is created, from the workspace the tests run in.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};
use serde::Deserialize;

/// Where the definition file lives in the workspace.
pub const DEFINITION_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/table.json");

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TableDefinition {
    pub attribute_definitions: Vec<Attr>,
    pub key_schema: Vec<Key>,
    pub global_secondary_indexes: Vec<Index>,
    pub time_to_live_attribute: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Attr {
    pub attribute_name: String,
    pub attribute_type: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Key {
    pub attribute_name: String,
    pub key_type: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Index {
    pub index_name: String,
    pub key_schema: Vec<Key>,
}

/// The parsed definition.
pub fn definition() -> Result<TableDefinition, String> {
    let text = std::fs::read_to_string(DEFINITION_PATH)
        .map_err(|e| format!("reading {DEFINITION_PATH}: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("{DEFINITION_PATH}: {e}"))
}

fn key_schema(keys: &[Key]) -> Result<Vec<KeySchemaElement>, String> {
    keys.iter()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(&k.attribute_name)
                .key_type(KeyType::from(k.key_type.as_str()))
                .build()
                .map_err(|e| e.to_string())
        })
        .collect()
}

/// Creates table `name` from the definition (on-demand billing, keys-only indexes).
pub async fn create_table(client: &Client, name: &str) -> Result<(), String> {
    let def = definition()?;
    let mut req = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(key_schema(&def.key_schema)?));
    for a in &def.attribute_definitions {
        req = req.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(&a.attribute_name)
                .attribute_type(ScalarAttributeType::from(a.attribute_type.as_str()))
                .build()
                .map_err(|e| e.to_string())?,
        );
    }
    for i in &def.global_secondary_indexes {
        req = req.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(&i.index_name)
                .set_key_schema(Some(key_schema(&i.key_schema)?))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::KeysOnly)
                        .build(),
                )
                .build()
                .map_err(|e| e.to_string())?,
        );
    }
    req.send().await.map_err(|e| {
        format!(
            "CreateTable {name}: {}",
            aws_sdk_dynamodb::error::DisplayErrorContext(e)
        )
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_definition_file_parses_and_names_the_indexes_the_store_queries() {
        let d = super::definition().unwrap();
        let names: Vec<_> = d
            .global_secondary_indexes
            .iter()
            .map(|i| i.index_name.as_str())
            .collect();
        assert_eq!(names, ["due", "open"]);
        assert_eq!(d.time_to_live_attribute, "expires_at");
    }
}
