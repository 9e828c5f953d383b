//! SP-API calls per case, read from a run's simulator log: how many calls of each per-order
//! operation (getOrder, the Messaging API) each case cost, next to the least a case needs.
//!
//! It only counts; whether a count is too many is the caller's to say (`scripts/calls-per-case.sh`
//! prints it, an e2e test asserts it).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// The most calls one case should need, per operation: getOrder at detection, after each
/// message or change kenzen expects, and to confirm the cancel; the messaging preflight and the
/// buyer's language once per case.
pub const LIMITS: [(&str, usize); 3] = [
    ("getOrder", 6),
    ("getMessagingActionsForOrder", 1),
    ("getAttributes", 1),
];

/// The order a per-order call is about, from its path.
pub fn order_of(path: &str) -> Option<&str> {
    let rest = path
        .strip_prefix("/orders/2026-01-01/orders/")
        .or_else(|| path.strip_prefix("/messaging/v1/orders/"))?;
    let id = rest.split('/').next()?;
    (!id.is_empty()).then_some(id)
}

/// Per operation, each case's count of calls (every logged request, whatever its answer).
#[derive(Debug, Clone, Default)]
pub struct CallsPerCase {
    pub cases: BTreeSet<String>,
    /// operation -> order -> calls.
    pub by_operation: BTreeMap<String, BTreeMap<String, usize>>,
    /// Calls not about one order (searchOrders, feeds, listings), per operation: shared by all.
    pub shared: BTreeMap<String, usize>,
}

impl CallsPerCase {
    /// Counts `log`'s SP-API calls for the orders in `cases`.
    pub fn count(log: &[Value], cases: impl IntoIterator<Item = String>) -> Self {
        let mut out = Self {
            cases: cases.into_iter().collect(),
            ..Self::default()
        };
        for l in log {
            let (Some(op), Some(path)) = (l["operation"].as_str(), l["path"].as_str()) else {
                continue;
            };
            if crate::sim::Sim::usage_plan(op).is_none() {
                continue;
            }
            match order_of(path) {
                Some(id) if out.cases.contains(id) => {
                    *out.by_operation
                        .entry(op.to_string())
                        .or_default()
                        .entry(id.to_string())
                        .or_default() += 1;
                }
                Some(_) => {}
                None => *out.shared.entry(op.to_string()).or_default() += 1,
            }
        }
        out
    }

    /// The most calls any case made to `op`.
    pub fn max(&self, op: &str) -> usize {
        self.by_operation
            .get(op)
            .and_then(|m| m.values().max().copied())
            .unwrap_or(0)
    }

    /// Calls to `op` per case on average.
    pub fn mean(&self, op: &str) -> f64 {
        let total: usize = self.by_operation.get(op).map_or(0, |m| m.values().sum());
        total as f64 / self.cases.len().max(1) as f64
    }

    /// The case that made the most calls to `op`.
    pub fn worst(&self, op: &str) -> Option<&str> {
        self.by_operation
            .get(op)?
            .iter()
            .max_by_key(|(_, n)| **n)
            .map(|(id, _)| id.as_str())
    }

    /// Each limited operation over its limit: (operation, most calls by one case, limit).
    pub fn over_limits(&self) -> Vec<(&'static str, usize, usize)> {
        LIMITS
            .iter()
            .filter(|(op, limit)| self.max(op) > *limit)
            .map(|(op, limit)| (*op, self.max(op), *limit))
            .collect()
    }

    /// A table: each per-order operation with its mean and most per case, and the limit where
    /// there is one; then the shared calls per case.
    pub fn report(&self) -> String {
        let mut s = format!(
            "  {:<30} {:>9} {:>6} {:>7}  within\n",
            "operation (per case)", "mean", "max", "limit"
        );
        let mut ops: BTreeSet<&str> = self.by_operation.keys().map(String::as_str).collect();
        ops.extend(LIMITS.iter().map(|(op, _)| *op));
        for op in ops {
            let limit = LIMITS.iter().find(|(o, _)| *o == op).map(|(_, l)| *l);
            let max = self.max(op);
            s.push_str(&format!(
                "  {:<30} {:>9.1} {:>6} {:>7}  {}\n",
                op,
                self.mean(op),
                max,
                limit.map_or("-".to_string(), |l| l.to_string()),
                match limit {
                    Some(l) if max <= l => "yes".to_string(),
                    Some(_) => format!("NO (worst {})", self.worst(op).unwrap_or("?")),
                    None => String::new(),
                }
            ));
        }
        for (op, n) in &self.shared {
            s.push_str(&format!(
                "  {:<30} {:>9.1}   (shared: {n} calls over {} case(s))\n",
                op,
                *n as f64 / self.cases.len().max(1) as f64,
                self.cases.len()
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn calls_are_counted_per_case_and_checked_against_the_limits() {
        let get = |id: &str| json!({"operation": "getOrder", "path": format!("/orders/2026-01-01/orders/{id}"), "status": 200});
        let pre = |id: &str| json!({"operation": "getMessagingActionsForOrder", "path": format!("/messaging/v1/orders/{id}"), "status": 200});
        let mut log = vec![pre("A"), pre("A"), pre("B"), get("C")];
        log.extend((0..7).map(|_| get("A")));
        log.push(json!({"operation": "searchOrders", "path": "/orders/2026-01-01/orders", "status": 200}));
        let c = CallsPerCase::count(&log, ["A".to_string(), "B".to_string()]);
        assert_eq!(c.max("getOrder"), 7);
        assert_eq!(c.max("getMessagingActionsForOrder"), 2);
        assert_eq!(c.worst("getOrder"), Some("A"));
        assert_eq!(c.shared["searchOrders"], 1);
        assert_eq!(
            c.over_limits(),
            [("getOrder", 7, 6), ("getMessagingActionsForOrder", 2, 1)]
        );
        assert!(c.report().contains("NO (worst A)"));
    }
}
