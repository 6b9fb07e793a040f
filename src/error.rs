//! The one error type of the crate: a public [`ErrorCode`] plus what a caller
//! needs to act on it. `bindings` turns it into a JS `PulseError` once.
//!
//! Messages never contain the API key, header values or result URLs (presigned
//! URLs carry signatures), so an error can be logged as it is.

use crate::server_text::ServerError;
use crate::text::{cat, decimal};

use std::fmt;

/// The `ErrorCode` union of the TypeScript API, one variant per code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// A job id or an option was rejected before any request.
    InvalidArgument,
    /// The job ended with status `failed`.
    JobFailed,
    /// The job ended with status `canceled` (or `cancelled`).
    JobCanceled,
    /// The job ended with status `expired`.
    JobExpired,
    /// `timeoutMs` passed before the job finished.
    Timeout,
    /// The caller's `AbortSignal` fired.
    Aborted,
    /// The API answered with a non-2xx status.
    HttpError,
    /// The request never got an answer: connection error or `requestTimeoutMs`.
    NetworkError,
    /// A 2xx answer that is not a job, or a result pointer that is unusable.
    InvalidResponse,
    /// The result is larger than `maxResultBytes`.
    ResultTooLarge,
    /// The large result could not be downloaded from its URL.
    ResultDownloadFailed,
}

impl ErrorCode {
    /// The code as JS sees it, e.g. `"JOB_FAILED"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidArgument => "INVALID_ARGUMENT",
            Self::JobFailed => "JOB_FAILED",
            Self::JobCanceled => "JOB_CANCELED",
            Self::JobExpired => "JOB_EXPIRED",
            Self::Timeout => "TIMEOUT",
            Self::Aborted => "ABORTED",
            Self::HttpError => "HTTP_ERROR",
            Self::NetworkError => "NETWORK_ERROR",
            Self::InvalidResponse => "INVALID_RESPONSE",
            Self::ResultTooLarge => "RESULT_TOO_LARGE",
            Self::ResultDownloadFailed => "RESULT_DOWNLOAD_FAILED",
        }
    }

    /// Whether the error is the job's own end (`failed`, `canceled`,
    /// `expired`): then `PulseError.job` is the job as last polled, and no
    /// `cause` goes with it; any other error of a wait carries the exception
    /// behind its last failed attempt instead (docs/contract.md, "Error codes").
    pub fn is_job_end(self) -> bool {
        matches!(self, Self::JobFailed | Self::JobCanceled | Self::JobExpired)
    }
}

/// An error of `waitForJob`, `getJob` or `cancelJob`.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    /// What went wrong, as a public code.
    pub code: ErrorCode,
    /// A sentence for people; never holds a secret.
    pub message: String,
    /// The HTTP status of the last failed answer, when there was one.
    pub http_status: Option<u16>,
    /// True when the same call may succeed if made again later.
    pub retryable: bool,
    /// Pulse's own `code` and `details` from an error body.
    pub server: Option<Box<ServerError>>,
}

impl Error {
    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            http_status: None,
            retryable: false,
            server: None,
        }
    }

    /// A rejected argument; `message` names the field, never a secret value.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidArgument, message)
    }

    /// The job reported `failed`; `reason` is the job's own `error` text.
    pub fn job_failed(job_id: &str, reason: Option<&str>) -> Self {
        let message = cat(&[
            "job ",
            job_id,
            " failed",
            colon(reason),
            reason.unwrap_or(""),
        ]);
        Self::new(ErrorCode::JobFailed, message)
    }

    /// The job reported `canceled` or `cancelled`.
    pub fn job_canceled(job_id: &str) -> Self {
        Self::new(
            ErrorCode::JobCanceled,
            cat(&["job ", job_id, " was canceled"]),
        )
    }

    /// The job reported `expired`.
    pub fn job_expired(job_id: &str) -> Self {
        Self::new(
            ErrorCode::JobExpired,
            cat(&["job ", job_id, " has expired"]),
        )
    }

    /// The whole wait ran past `timeoutMs`.
    pub fn timeout(job_id: &str, timeout_ms: f64) -> Self {
        Self {
            retryable: true,
            ..Self::new(
                ErrorCode::Timeout,
                cat(&[
                    "job ",
                    job_id,
                    " did not finish within ",
                    &decimal(whole(timeout_ms)),
                    " ms",
                ]),
            )
        }
    }

    /// `runJob`'s `timeoutMs` passed while its submission had no answer:
    /// a job may have been created, so it is not retryable.
    pub fn submission_timeout(timeout_ms: f64) -> Self {
        crate::submit::may_have_created(Self::new(
            ErrorCode::Timeout,
            cat(&[
                "the submission had no answer within timeoutMs (",
                &decimal(whole(timeout_ms)),
                " ms)",
            ]),
        ))
    }

    /// The caller aborted; JS adds `name = "AbortError"` and the signal's reason.
    pub fn aborted() -> Self {
        Self::new(ErrorCode::Aborted, "the operation was aborted")
    }

    /// A non-2xx answer from the API; `detail` is the body's own message,
    /// `server` Pulse's code and details.
    pub fn http(
        status: u16,
        detail: Option<&str>,
        server: Option<Box<ServerError>>,
        retryable: bool,
    ) -> Self {
        let message = cat(&[
            "the Pulse API answered HTTP ",
            &decimal(status.into()),
            colon(detail),
            detail.unwrap_or(""),
        ]);
        Self {
            http_status: Some(status),
            retryable,
            server,
            ..Self::new(ErrorCode::HttpError, message)
        }
    }

    /// No answer: a connection failure or a request over `requestTimeoutMs`.
    pub fn network(message: impl Into<String>) -> Self {
        Self {
            retryable: true,
            ..Self::new(ErrorCode::NetworkError, message)
        }
    }

    /// A 2xx answer that cannot be used.
    pub fn invalid_response(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidResponse, message)
    }

    /// The result is over `maxResultBytes`.
    pub fn result_too_large(limit: f64) -> Self {
        Self::new(
            ErrorCode::ResultTooLarge,
            cat(&[
                "the result is larger than maxResultBytes (",
                &decimal(whole(limit)),
                " bytes)",
            ]),
        )
    }

    /// The result is past what this JavaScript engine can hold as one string
    /// (V8: about 512 MiB); the engine's own error becomes the `cause`.
    pub fn result_too_large_for_engine() -> Self {
        Self::new(
            ErrorCode::ResultTooLarge,
            "the result is too large for this JavaScript engine to decode",
        )
    }

    /// The large result could not be fetched from its URL.
    pub fn download_failed(
        message: impl Into<String>,
        status: Option<u16>,
        retryable: bool,
    ) -> Self {
        Self {
            http_status: status,
            retryable,
            ..Self::new(ErrorCode::ResultDownloadFailed, message)
        }
    }
}

/// `": "` before a detail that is there. (One `cat` per message, not one
/// per shape of it.)
fn colon(detail: Option<&str>) -> &'static str {
    detail.map_or("", |_| ": ")
}

/// A count of ms or bytes for a message. Integer formatting keeps the float
/// formatter (about 15 KB) out of the wasm.
pub fn whole(value: f64) -> u64 {
    value.round() as u64
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_the_typescript_union() {
        assert_eq!(
            ErrorCode::ResultDownloadFailed.as_str(),
            "RESULT_DOWNLOAD_FAILED"
        );
        assert_eq!(ErrorCode::JobCanceled.as_str(), "JOB_CANCELED");
    }

    #[test]
    fn retryable_follows_the_contract() {
        assert!(Error::network("x").retryable);
        assert!(Error::timeout("j", 5.0).retryable);
        assert!(Error::http(503, None, None, true).retryable);
        assert!(!Error::http(404, None, None, false).retryable);
        assert!(!Error::job_failed("j", None).retryable);
        assert!(!Error::invalid_argument("x").retryable);
    }

    #[test]
    fn messages_carry_the_details() {
        let e = Error::http(401, Some("Invalid API key"), None, false);
        assert_eq!(e.http_status, Some(401));
        assert_eq!(
            e.to_string(),
            "HTTP_ERROR: the Pulse API answered HTTP 401: Invalid API key"
        );
        assert!(Error::job_failed("j1", Some("bad pdf"))
            .message
            .contains("bad pdf"));
    }
}
