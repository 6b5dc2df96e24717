//! The admin API's refusals: a stable code, an HTTP status and a sentence for people.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::schedule::ScheduleError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("This server keeps no meetings of its own: its operator has not set store.data_dir.")]
    Disabled,
    #[error("Please sign in.")]
    Unauthenticated,
    #[error("Admin requests must carry the header X-Haven-Admin: 1.")]
    CsrfHeaderMissing,
    #[error("This server does not accept admin requests from another site.")]
    ForbiddenOrigin,
    #[error("Too many sign-in attempts from your network. Please try again later.")]
    TooManyLogins,
    #[error("That name and password do not match.")]
    BadCredentials,
    #[error("Sign in over HTTPS: from another computer the password would cross the network unencrypted. Serve Haven over HTTPS (tls), or behind an HTTPS proxy with server.public_url set to its https:// address.")]
    HttpsRequired,
    #[error("There is no meeting with that id.")]
    UnknownMeeting,
    #[error("There is no facilitator link with that id in this meeting.")]
    UnknownKey,
    #[error("A meeting id is 3 to 64 lower-case letters, digits and dashes, starting and ending with a letter or digit.")]
    InvalidSlug,
    #[error("Another meeting on this server has that id.")]
    SlugTaken,
    #[error("{0}")]
    InvalidSchedule(#[from] ScheduleError),
    #[error("{0}")]
    InvalidMeeting(String),
    #[error("A label is 1 to 80 characters, for example \"Tuesday chair\".")]
    InvalidLabel,
    #[error("{}", crate::protocol::INVALID_KEY_ID)]
    InvalidKeyId,
    #[error("The request is not valid: {0}")]
    BadRequest(String),
    #[error("The server could not read or write its data. Please try again.")]
    Store(StoreError),
    #[error("The server is restarting.")]
    Stopping,
}

impl AdminError {
    pub fn code(&self) -> &'static str {
        match self {
            AdminError::Disabled => "admin_disabled",
            AdminError::Unauthenticated => "unauthenticated",
            AdminError::CsrfHeaderMissing => "csrf_header_missing",
            AdminError::ForbiddenOrigin => "forbidden_origin",
            AdminError::TooManyLogins => "too_many_logins",
            AdminError::BadCredentials => "bad_credentials",
            AdminError::HttpsRequired => "https_required",
            AdminError::UnknownMeeting => "unknown_meeting",
            AdminError::UnknownKey => "unknown_key",
            AdminError::InvalidSlug => "invalid_slug",
            AdminError::SlugTaken => "slug_taken",
            AdminError::InvalidSchedule(e) => e.code(),
            AdminError::InvalidMeeting(_) => "invalid_meeting",
            AdminError::InvalidLabel => "invalid_label",
            AdminError::InvalidKeyId => "invalid_key_id",
            AdminError::BadRequest(_) => "bad_request",
            AdminError::Store(_) => "store_failed",
            AdminError::Stopping => "server_stopping",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AdminError::Disabled | AdminError::UnknownMeeting | AdminError::UnknownKey => StatusCode::NOT_FOUND,
            AdminError::Unauthenticated | AdminError::BadCredentials => StatusCode::UNAUTHORIZED,
            AdminError::CsrfHeaderMissing | AdminError::ForbiddenOrigin | AdminError::HttpsRequired => StatusCode::FORBIDDEN,
            AdminError::TooManyLogins => StatusCode::TOO_MANY_REQUESTS,
            AdminError::SlugTaken => StatusCode::CONFLICT,
            AdminError::InvalidSlug
            | AdminError::InvalidSchedule(_)
            | AdminError::InvalidMeeting(_)
            | AdminError::InvalidLabel
            | AdminError::InvalidKeyId
            | AdminError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AdminError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AdminError::Stopping => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> AdminError {
        match e {
            StoreError::UnknownMeeting => AdminError::UnknownMeeting,
            StoreError::UnknownKey => AdminError::UnknownKey,
            StoreError::SlugTaken => AdminError::SlugTaken,
            other => {
                // The database's own words (no member data lives there to quote).
                tracing::error!(error = %other, "store failed");
                AdminError::Store(other)
            }
        }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "code": self.code(), "message": self.to_string() });
        (self.status(), Json(body)).into_response()
    }
}
