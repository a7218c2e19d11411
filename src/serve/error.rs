//! The server's one error type and the one place where causes become HTTP status codes.
//!
//! Every handler returns [`ApiError`] for what went wrong; [`IntoResponse`] turns it into
//! `{"error":{"code","message"}}` with the status that code implies (TEI's router does the
//! same with its `ErrorType`). Library errors are sorted here too: a store's "no such item" is
//! a 404, a bad glob or date a 400, and only a fault of the server itself is a 500.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::search::SearchError;
use crate::store::StoreError;

/// Seconds a client is told to wait after a 503.
pub const RETRY_AFTER_SECS: u64 = 1;

/// What went wrong with a request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed JSON, a missing or mistyped field, a bad query parameter.
    #[error("{0}")]
    BadRequest(String),
    /// No or wrong `Authorization: Bearer` key.
    #[error("missing or wrong API key: send `Authorization: Bearer KEY`")]
    Unauthorized,
    /// The server was started read-only and the request would write.
    #[error("this server is read-only (started with --read-only)")]
    ReadOnly,
    /// An unknown item, document, theme or route.
    #[error("{0}")]
    NotFound(String),
    /// The body is larger than the server accepts.
    #[error("request body too large (at most {0} bytes)")]
    TooLarge(usize),
    /// Well-formed but outside a documented range (`k` above its maximum, ...).
    #[error("{0}")]
    OutOfRange(String),
    /// The embedding queue is full, or a writer holds the store: try again shortly.
    #[error("{0}")]
    Overloaded(String),
    /// A fault of the server (store I/O, model failure, a caught panic).
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// The machine-readable code and the HTTP status, decided here only.
    pub fn code_and_status(&self) -> (&'static str, StatusCode) {
        match self {
            ApiError::BadRequest(_) => ("bad_request", StatusCode::BAD_REQUEST),
            ApiError::Unauthorized => ("unauthorized", StatusCode::UNAUTHORIZED),
            ApiError::ReadOnly => ("read_only", StatusCode::FORBIDDEN),
            ApiError::NotFound(_) => ("not_found", StatusCode::NOT_FOUND),
            ApiError::TooLarge(_) => ("payload_too_large", StatusCode::PAYLOAD_TOO_LARGE),
            ApiError::OutOfRange(_) => ("out_of_range", StatusCode::UNPROCESSABLE_ENTITY),
            ApiError::Overloaded(_) => ("overloaded", StatusCode::SERVICE_UNAVAILABLE),
            ApiError::Internal(_) => ("internal", StatusCode::INTERNAL_SERVER_ERROR),
        }
    }
}

/// The error body: `{"error":{"code","message"}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// One error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// `bad_request`, `unauthorized`, `read_only`, `not_found`, `payload_too_large`, `out_of_range`,
    /// `overloaded` or `internal`.
    #[schema(example = "not_found")]
    pub code: String,
    #[schema(example = "no item `report#s9.p9`")]
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (code, status) = self.code_and_status();
        if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
            eprintln!("simsum serve: error: {self}");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: code.to_string(),
                message: self.to_string(),
            },
        };
        let mut resp = (status, axum::Json(body)).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
        }
        resp
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::UnknownItem { id, .. } => ApiError::NotFound(format!("no item `{id}`")),
            StoreError::Locked { .. } => ApiError::Overloaded(e.to_string()),
            StoreError::NoTags { .. } => ApiError::BadRequest(e.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<SearchError> for ApiError {
    fn from(e: SearchError) -> Self {
        match e {
            SearchError::Index(s) => s.into(),
            SearchError::BadGlob { .. } | SearchError::BadDate(_) | SearchError::EmptyQuery(_) => {
                ApiError::BadRequest(e.to_string())
            }
            SearchError::Embed(_) | SearchError::MissingVector(_) => {
                ApiError::Internal(e.to_string())
            }
            SearchError::Filter(f) => f.into(),
        }
    }
}

impl From<crate::facets::FacetError> for ApiError {
    fn from(e: crate::facets::FacetError) -> Self {
        match e {
            crate::facets::FacetError::Store(s) => s.into(),
            other => ApiError::BadRequest(other.to_string()),
        }
    }
}

/// Maps an extractor's rejection (bad JSON, a body over the limit, a bad path or query) to
/// the error shape, keeping 413 for oversized bodies.
pub fn rejection(status: StatusCode, text: String, limit: usize) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge(limit)
    } else {
        ApiError::BadRequest(text)
    }
}
