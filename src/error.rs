//! One error type for the whole web layer, mapped to status codes and to the JSON error
//! body of CONTRACT.md. Pages get an HTML rendering of the same error (see `web::errors`).
//! A 500 never shows its cause: the cause is logged once, with the request id.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

pub type AppResult<T> = Result<T, AppError>;

/// Field name → message, for 422 answers and form re-rendering.
pub type FieldErrors = BTreeMap<String, String>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("authentication required")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("this store is temporarily unavailable")]
    TenantSuspended,
    #[error("the request has invalid fields")]
    Validation(FieldErrors),
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// A refusal with data the client needs to act on (the short lines, the new prices),
    /// merged into the error body next to `code` and `message`.
    #[error("{message}")]
    Detailed { status: u16, code: &'static str, message: String, details: serde_json::Map<String, serde_json::Value> },
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("too many attempts, try again later")]
    RateLimited { retry_after_secs: u64 },
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

/// What an error response carries for the HTML error renderer and the metrics.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorInfo {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub fields: FieldErrors,
}

impl AppError {
    pub fn not_found(what: &str) -> Self {
        AppError::NotFound(format!("{what} not found"))
    }

    pub fn forbidden(msg: &str) -> Self {
        AppError::Forbidden(msg.to_owned())
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Conflict { code, message: message.into() }
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut fields = FieldErrors::new();
        fields.insert(field.to_owned(), message.into());
        AppError::Validation(fields)
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "bad_request",
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::TenantSuspended => "tenant_suspended",
            AppError::Validation(_) => "validation_failed",
            AppError::Conflict { code, .. } => code,
            AppError::Detailed { code, .. } => code,
            AppError::PayloadTooLarge(_) => "payload_too_large",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::Unavailable(_) => "service_unavailable",
            AppError::Internal(_) => "internal_error",
        }
    }

    /// The message shown to users; internal causes are never part of it.
    pub fn public_message(&self) -> String {
        match self {
            AppError::Internal(_) => "Something went wrong on our side. Please try again.".into(),
            other => other.to_string(),
        }
    }

    pub fn info(&self) -> ErrorInfo {
        ErrorInfo {
            status: self.status_code().as_u16(),
            code: self.code(),
            message: self.public_message(),
            fields: match self {
                AppError::Validation(f) => f.clone(),
                _ => FieldErrors::new(),
            },
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::TenantSuspended => StatusCode::FORBIDDEN,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::Detailed { status, .. } => StatusCode::from_u16(*status).unwrap_or(StatusCode::CONFLICT),
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(cause) = self {
            tracing::error!(error = %format!("{cause:#}"), "request failed");
        }
        let info = self.info();
        let mut body = serde_json::json!({"code": info.code, "message": info.message});
        if !info.fields.is_empty() {
            body["fields"] = serde_json::json!(info.fields);
        }
        if let AppError::Detailed { details, .. } = self {
            for (k, v) in details {
                if !matches!(k.as_str(), "code" | "message" | "fields") {
                    body[k.as_str()] = v.clone();
                }
            }
        }
        let mut builder = HttpResponse::build(self.status_code());
        match self {
            AppError::RateLimited { retry_after_secs } => {
                builder.insert_header(("Retry-After", retry_after_secs.to_string()));
            }
            AppError::Unavailable(_) => {
                builder.insert_header(("Retry-After", "5"));
            }
            _ => {}
        }
        let mut resp = builder.json(serde_json::json!({ "error": body }));
        resp.extensions_mut().insert(info);
        resp
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as K, Error as E};
        match err {
            E::NotFound => AppError::not_found("record"),
            E::DatabaseError(K::UniqueViolation, info) => AppError::conflict(
                "already_exists",
                format!("already exists ({})", info.constraint_name().unwrap_or("unique")),
            ),
            E::DatabaseError(K::ClosedConnection, _) => AppError::Unavailable("the database is unavailable".into()),
            E::DatabaseError(K::SerializationFailure, _) => {
                AppError::conflict("concurrent_update", "the data changed concurrently; please retry")
            }
            // A statement or lock wait over its timeout (SQLSTATE 57014, 55P03): nothing was
            // done, the client may try again (with its Idempotency-Key), so 503, not 500.
            E::DatabaseError(_, info) if info.message().starts_with("canceling statement due to") => {
                tracing::warn!(error = %info.message(), "statement cancelled by a timeout");
                AppError::Unavailable("the store is busy right now: try again in a moment".into())
            }
            // diesel has no kind for SQLSTATE 40P01; PostgreSQL's message is stable.
            E::DatabaseError(_, info) if info.message().starts_with("deadlock detected") => {
                AppError::conflict("concurrent_update", "the data changed concurrently; please retry")
            }
            other => AppError::Internal(anyhow::Error::new(other)),
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        tracing::warn!(error = %err, "database pool unavailable");
        AppError::Unavailable("the database is unavailable, try again shortly".into())
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        AppError::Internal(anyhow::anyhow!("blocking task was cancelled"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_their_cause() {
        let err = AppError::Internal(anyhow::anyhow!("password=hunter2 at db.internal"));
        assert_eq!(err.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!err.public_message().contains("hunter2"));
        assert_eq!(err.info().code, "internal_error");
    }

    #[test]
    fn unique_violation_is_a_conflict() {
        let err: AppError = diesel::result::Error::NotFound.into();
        assert_eq!(err.status_code(), StatusCode::NOT_FOUND);
        let err = AppError::field("slug", "taken");
        assert_eq!(err.status_code(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(err.info().fields.get("slug").map(String::as_str), Some("taken"));
    }
}
