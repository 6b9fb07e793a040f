//! What a job status and an HTTP status mean for the wait.

/// A job's `status`, as the wait understands it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    /// Queued; not terminal.
    Pending,
    /// Running; not terminal.
    Processing,
    /// Done; `result` is there.
    Completed,
    /// Done with an `error`.
    Failed,
    /// Canceled; the API spells it `canceled` or `cancelled`.
    Canceled,
    /// The result is gone.
    Expired,
    /// A status this version does not know: treated as not terminal, so a new
    /// server-side state never ends a wait early.
    Unknown,
}

impl JobStatus {
    /// Classifies the API's status string (exact, lower-case spellings).
    pub fn parse(status: &str) -> Self {
        match status {
            "pending" => Self::Pending,
            "processing" => Self::Processing,
            "completed" => Self::Completed,
            "failed" => Self::Failed,
            "canceled" | "cancelled" => Self::Canceled,
            "expired" => Self::Expired,
            _ => Self::Unknown,
        }
    }
}

/// The status string reported to callers: `cancelled` becomes `canceled`,
/// everything else is kept as sent.
pub fn reported(status: &str) -> &str {
    if status == "cancelled" {
        "canceled"
    } else {
        status
    }
}

/// HTTP statuses worth retrying: the server may answer differently later.
pub fn is_transient_http(status: u16) -> bool {
    matches!(status, 408 | 425 | 429 | 500 | 502 | 503 | 504)
}

/// The `Retry-After` a rate limit asks to be honoured: a 429's, or a 503's.
/// It pauses the whole client ([`crate::scheduler::pause_after`]) and
/// stretches a result download's retry (a poll honours any status's).
pub fn rate_limit_delay(status: u16, retry_after_ms: Option<f64>) -> Option<f64> {
    match status {
        429 | 503 => retry_after_ms,
        _ => None,
    }
}

/// An expired presigned URL answers one of these; a re-poll brings a fresh one.
/// (A 410 is not among them: Pulse's single-use link answers it once used,
/// and no re-poll brings it back.)
pub fn is_expired_url(status: u16) -> bool {
    matches!(status, 403 | 404)
}

/// A `Response.status` as an HTTP status: a whole number from 100 to 599, or
/// 0 (a browser's opaque redirect or opaque response). A custom `fetch` may
/// hand us anything; 65736 must not wrap to 200.
pub fn http_status(value: f64) -> Option<u16> {
    let whole = value.fract() == 0.0;
    (whole && (value == 0.0 || (100.0..=599.0).contains(&value))).then_some(value as u16)
}

/// True for 2xx.
pub fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_of_canceled() {
        assert_eq!(JobStatus::parse("canceled"), JobStatus::Canceled);
        assert_eq!(JobStatus::parse("cancelled"), JobStatus::Canceled);
        assert_eq!(reported("cancelled"), "canceled");
        assert_eq!(reported("processing"), "processing");
    }

    #[test]
    fn each_spelling_has_its_status() {
        // What each status does to the wait is decided (and tested) in `poll`.
        for s in ["queued_for_review", "", "COMPLETED", "done"] {
            assert_eq!(JobStatus::parse(s), JobStatus::Unknown, "{s}");
        }
        let known = [
            ("pending", JobStatus::Pending),
            ("processing", JobStatus::Processing),
            ("completed", JobStatus::Completed),
            ("failed", JobStatus::Failed),
            ("expired", JobStatus::Expired),
        ];
        for (s, status) in known {
            assert_eq!(JobStatus::parse(s), status, "{s}");
        }
    }

    #[test]
    fn transient_http_statuses() {
        for s in [408, 425, 429, 500, 502, 503, 504] {
            assert!(is_transient_http(s), "{s}");
        }
        for s in [400, 401, 403, 404, 410, 501, 505] {
            assert!(!is_transient_http(s), "{s}");
        }
    }

    #[test]
    fn expired_url_and_success_statuses() {
        assert!(is_expired_url(403) && is_expired_url(404));
        assert!(!is_expired_url(401) && !is_expired_url(410));
        assert!(is_success(200) && is_success(204) && !is_success(304) && !is_success(199));
    }

    #[test]
    fn only_real_http_statuses_are_statuses() {
        assert_eq!(http_status(200.0), Some(200));
        assert_eq!(http_status(599.0), Some(599));
        assert_eq!(http_status(0.0), Some(0));
        for bad in [65736.0, 200.5, 99.0, 600.0, -200.0, f64::NAN, f64::INFINITY] {
            assert_eq!(http_status(bad), None, "{bad}");
        }
    }
}
