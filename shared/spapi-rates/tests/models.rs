//! Every row of the table against Amazon's models (`../shared/spapi-models/`, beside the
//! project): the rate and burst in the operation's "Usage plan" table must be the same.

use std::path::PathBuf;

use kenzen_spapi_rates::PLANS;

fn models_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spapi-models")
}

/// (rate, burst) from the first `| rate | burst |` row of an operation's description.
fn plan_in(description: &str) -> Option<(f64, f64)> {
    description.lines().find_map(|line| {
        let cells: Vec<&str> = line
            .split('|')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        match cells.as_slice() {
            [rate, burst] => Some((rate.parse().ok()?, burst.parse().ok()?)),
            _ => None,
        }
    })
}

#[test]
fn the_table_matches_amazons_models() {
    let dir = models_dir();
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("Amazon's models are expected at {}: {e}", dir.display()));
    let mut found = std::collections::BTreeMap::new();
    for entry in entries.flatten() {
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        let Ok(model) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        let Some(paths) = model.get("paths").and_then(|p| p.as_object()) else {
            continue;
        };
        for op in paths
            .values()
            .filter_map(|p| p.as_object())
            .flat_map(|p| p.values())
        {
            if let (Some(id), Some(desc)) = (
                op.get("operationId").and_then(|v| v.as_str()),
                op.get("description").and_then(|v| v.as_str()),
            ) && let Some(p) = plan_in(desc)
            {
                // The Orders 2026-01-01 model is the one kenzen calls; v0 has a getOrder too.
                let file = entry.file_name().to_string_lossy().into_owned();
                if id == "getOrder" && !file.starts_with("orders_2026") {
                    continue;
                }
                found.insert(id.to_ascii_lowercase(), p);
            }
        }
    }
    for (id, plan) in PLANS {
        let want = found
            .get(&id.to_ascii_lowercase())
            .unwrap_or_else(|| panic!("{id} has no usage plan in the models"));
        assert_eq!((plan.rate, plan.burst), *want, "{id}");
    }
}
