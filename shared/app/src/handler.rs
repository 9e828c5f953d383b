//! How a handler's failure reaches Lambda: a [`Diagnostic`] whose `errorType` says whether
//! running the invocation again can help, so a malformed event and an SP-API outage no longer
//! look the same in the function's logs, metrics and dead-letter queue.

use lambda_runtime::Diagnostic;

use crate::report::CasesFailed;
use crate::service::ServiceError;
use crate::trigger::BadEvent;

/// Why a handler failed.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The event is not one this function takes; it changed nothing. Retrying cannot help.
    #[error(transparent)]
    InvalidEvent(#[from] BadEvent),
    /// The use case failed as a whole (nothing or only part was done).
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// Some cases failed; the others were done. The next run (or retry) tries them again.
    #[error(transparent)]
    CasesFailed(#[from] CasesFailed),
}

impl HandlerError {
    /// True when the same invocation may succeed later.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::InvalidEvent(_) => false,
            Self::Service(e) => e.is_transient(),
            Self::CasesFailed(_) => true,
        }
    }

    /// The diagnostic's `errorType`: `kenzen.InvalidEvent`, `kenzen.Retryable` or
    /// `kenzen.Failed`, and `kenzen.CasesFailed` for a run that did the other cases.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::InvalidEvent(_) => "kenzen.InvalidEvent",
            Self::CasesFailed(_) => "kenzen.CasesFailed",
            Self::Service(_) if self.is_retryable() => "kenzen.Retryable",
            Self::Service(_) => "kenzen.Failed",
        }
    }
}

impl From<HandlerError> for Diagnostic {
    fn from(e: HandlerError) -> Self {
        Diagnostic {
            error_type: e.error_type().to_string(),
            error_message: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{MarketError, MarketErrorKind};

    #[test]
    fn the_diagnostic_says_whether_a_retry_can_help() {
        let bad = HandlerError::from(BadEvent {
            source_name: "aws.ec2".into(),
            detail_type: "x".into(),
            why: "not a kenzen event".into(),
        });
        assert!(!bad.is_retryable());
        assert_eq!(Diagnostic::from(bad).error_type, "kenzen.InvalidEvent");

        let outage = HandlerError::from(ServiceError::from(MarketError::new(
            MarketErrorKind::Transient,
            "getOrder",
            "getOrder: still failing after 5 attempts",
        )));
        assert!(outage.is_retryable());
        assert_eq!(Diagnostic::from(outage).error_type, "kenzen.Retryable");

        let refused = HandlerError::from(ServiceError::from(MarketError::new(
            MarketErrorKind::Refused,
            "getOrder",
            "getOrder: HTTP 403",
        )));
        assert!(!refused.is_retryable());
        let d = Diagnostic::from(refused);
        assert_eq!(d.error_type, "kenzen.Failed");
        assert!(d.error_message.contains("403"));

        let partial = HandlerError::from(CasesFailed {
            failures: vec!["503-1: boom".into()],
        });
        assert_eq!(Diagnostic::from(partial).error_type, "kenzen.CasesFailed");
    }
}
