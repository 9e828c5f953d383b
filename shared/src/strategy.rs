//! The seller's strategy for unfillable orders (the workflow's one choice with no default).

use serde::{Deserialize, Serialize};

/// How the seller wants unfillable orders ended. There is no default: the seller chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Strategy {
    /// Ask the buyer to use Amazon's own "request cancellation" (then BuyerCanceled); if no
    /// request comes, a final apology and then GeneralAdjustment before the deadline.
    AskBuyer,
    /// Amazon's guideline: apologise, then cancel as NoInventory at once; no requests.
    CancelFirst,
}

impl Strategy {
    /// The setting's spelling: `ask-buyer` or `cancel-first`.
    pub fn as_setting(self) -> &'static str {
        match self {
            Self::AskBuyer => "ask-buyer",
            Self::CancelFirst => "cancel-first",
        }
    }
}

impl std::str::FromStr for Strategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "ask-buyer" => Ok(Self::AskBuyer),
            "cancel-first" => Ok(Self::CancelFirst),
            other => Err(format!(
                "{other:?} is not a strategy: use ask-buyer or cancel-first"
            )),
        }
    }
}
