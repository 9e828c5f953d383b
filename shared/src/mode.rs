//! The operating mode the seller chooses at run time: act, rehearse, ask first, or hold still.
//!
//! Data only: the rules in [`crate::decide`] and the service read it; nothing here acts.

use serde::{Deserialize, Serialize};

/// How far kenzen may act on the marketplace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Mode {
    /// Every decision is carried out.
    Live,
    /// Every decision is made and recorded (with the exact texts and feeds it would send), but
    /// nothing is sent, cancelled or patched on the marketplace. A case opened in this mode stays
    /// a rehearsal for good.
    DryRun,
    /// Like live, but a seller-initiated cancel (GeneralAdjustment, NoInventory) and the final
    /// apology before it wait for the seller's approval until the approval deadline; then the
    /// seller's default applies. BuyerCanceled never waits.
    Approve,
    /// No messages and no cancels; cases still open and buyers' requests are still seen. The
    /// trade-off: an order nobody ships or cancels ships late. An alert goes out at each deadline.
    Pause,
}

impl Mode {
    /// The setting's spelling: `live`, `dry-run`, `approve` or `pause`.
    pub fn as_setting(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::DryRun => "dry-run",
            Self::Approve => "approve",
            Self::Pause => "pause",
        }
    }

    /// True when kenzen may send messages, submit feeds and patch listings.
    pub fn acts(self) -> bool {
        matches!(self, Self::Live | Self::Approve)
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_setting())
    }
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "live" => Ok(Self::Live),
            "dry-run" => Ok(Self::DryRun),
            "approve" => Ok(Self::Approve),
            "pause" => Ok(Self::Pause),
            other => Err(format!(
                "{other:?} is not a mode: use live, dry-run, approve or pause"
            )),
        }
    }
}

/// What happens, in approve mode, to a seller-initiated cancel the seller did not approve by its
/// approval deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ApprovalDefault {
    /// Go ahead: the final apology, then the cancel, as in live mode.
    Cancel,
    /// Leave the order to the seller: the case closes without a message or a cancel, with an
    /// alert (the order ships late unless the seller acts).
    Leave,
}

impl ApprovalDefault {
    pub fn as_setting(self) -> &'static str {
        match self {
            Self::Cancel => "cancel",
            Self::Leave => "leave",
        }
    }
}

impl std::str::FromStr for ApprovalDefault {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "cancel" => Ok(Self::Cancel),
            "leave" => Ok(Self::Leave),
            other => Err(format!(
                "{other:?} is not an approval default: use cancel or leave"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mode_reads_back_from_its_spelling() {
        for m in [Mode::Live, Mode::DryRun, Mode::Approve, Mode::Pause] {
            assert_eq!(m.as_setting().parse::<Mode>(), Ok(m));
        }
        assert!("Live".parse::<Mode>().is_err());
        assert!("".parse::<Mode>().is_err());
    }

    #[test]
    fn only_live_and_approve_act_on_the_marketplace() {
        assert!(Mode::Live.acts() && Mode::Approve.acts());
        assert!(!Mode::DryRun.acts() && !Mode::Pause.acts());
    }

    #[test]
    fn approval_defaults_read_back() {
        for d in [ApprovalDefault::Cancel, ApprovalDefault::Leave] {
            assert_eq!(d.as_setting().parse::<ApprovalDefault>(), Ok(d));
        }
        assert!("yes".parse::<ApprovalDefault>().is_err());
    }
}
