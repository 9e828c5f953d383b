//! The operations the simulator serves, by Amazon's model operation ids.

use crate::Role;

/// An operation the simulator serves, by its model operation id (the log's `operation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Op {
    LwaToken,
    UploadDocument,
    DownloadDocument,
    SearchOrders,
    GetOrder,
    GetMessagingActionsForOrder,
    GetAttributes,
    CreateUnexpectedProblem,
    CreateFeedDocument,
    CreateFeed,
    GetFeed,
    GetFeeds,
    GetFeedDocument,
    PatchListingsItem,
    GetListingsItem,
    GetDestinations,
    CreateDestination,
    GetSubscription,
    CreateSubscription,
    CreateReport,
    GetReport,
    GetReportDocument,
    /// No route matched.
    Unknown,
}

impl Op {
    pub(crate) fn id(self) -> &'static str {
        match self {
            Self::LwaToken => "lwaToken",
            Self::UploadDocument => "uploadDocument",
            Self::DownloadDocument => "downloadDocument",
            Self::SearchOrders => "searchOrders",
            Self::GetOrder => "getOrder",
            Self::GetMessagingActionsForOrder => "getMessagingActionsForOrder",
            Self::GetAttributes => "getAttributes",
            Self::CreateUnexpectedProblem => "createUnexpectedProblem",
            Self::CreateFeedDocument => "createFeedDocument",
            Self::CreateFeed => "createFeed",
            Self::GetFeed => "getFeed",
            Self::GetFeeds => "getFeeds",
            Self::GetFeedDocument => "getFeedDocument",
            Self::PatchListingsItem => "patchListingsItem",
            Self::GetListingsItem => "getListingsItem",
            Self::GetDestinations => "getDestinations",
            Self::CreateDestination => "createDestination",
            Self::GetSubscription => "getSubscription",
            Self::CreateSubscription => "createSubscription",
            Self::CreateReport => "createReport",
            Self::GetReport => "getReport",
            Self::GetReportDocument => "getReportDocument",
            Self::Unknown => "unknown",
        }
    }

    /// An SP-API operation: it takes an access token, has a rate, and can be made to fail.
    pub(crate) fn is_spapi(self) -> bool {
        !matches!(
            self,
            Self::LwaToken | Self::UploadDocument | Self::DownloadDocument | Self::Unknown
        )
    }

    /// Destinations take a grantless token; every other SP-API operation the seller's.
    pub(crate) fn grantless(self) -> bool {
        matches!(self, Self::GetDestinations | Self::CreateDestination)
    }

    /// The role the application needs for this operation (`None`: grantless, or not an SP-API
    /// operation).
    pub(crate) fn role(self) -> Option<Role> {
        match self {
            Self::SearchOrders
            | Self::GetOrder
            | Self::CreateFeedDocument
            | Self::CreateFeed
            | Self::GetFeed
            | Self::GetFeeds
            | Self::GetFeedDocument
            | Self::GetSubscription
            | Self::CreateSubscription => Some(Role::InventoryAndOrderTracking),
            Self::GetMessagingActionsForOrder
            | Self::GetAttributes
            | Self::CreateUnexpectedProblem => Some(Role::BuyerCommunication),
            Self::PatchListingsItem | Self::GetListingsItem => Some(Role::ProductListing),
            Self::CreateReport | Self::GetReport | Self::GetReportDocument => {
                Some(Role::SellingPartnerInsights)
            }
            Self::LwaToken
            | Self::UploadDocument
            | Self::DownloadDocument
            | Self::GetDestinations
            | Self::CreateDestination
            | Self::Unknown => None,
        }
    }

    /// The Messaging API answers in HAL; the others in plain JSON.
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Self::GetMessagingActionsForOrder
            | Self::GetAttributes
            | Self::CreateUnexpectedProblem => "application/hal+json",
            _ => "application/json",
        }
    }
}
