//! Submitting a job (`submitJob`, `runJob`): where a submission may go, the
//! headers of a JSON body, and which field of the API's answer names the job
//! to wait for. The body itself is a JS value, prepared in the effects layer.

use crate::error::Error;
use crate::options::validate_job_id;
use crate::poll::Failure;
use crate::text::cat;

/// Where a submission goes when `options.endpoint` is not given.
pub const DEFAULT_ENDPOINT: &str = "/extract";

/// The longest `endpoint` accepted; Pulse's are a few words.
const MAX_ENDPOINT_LEN: usize = 200;

/// `options.endpoint`, checked: a path under `baseUrl` such as `/extract`,
/// `/split` or `/batch/extract`. Only plain segments are allowed, so the key
/// can go nowhere but the API (no other origin, no `..`, no query).
///
/// # Errors
/// `INVALID_ARGUMENT` for anything else.
pub fn endpoint_path(endpoint: Option<&str>) -> Result<&str, Error> {
    let path = endpoint.unwrap_or(DEFAULT_ENDPOINT);
    let plain_segment = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
    };
    let valid = path.len() <= MAX_ENDPOINT_LEN
        && path
            .strip_prefix('/')
            .is_some_and(|rest| rest.split('/').all(plain_segment));
    match valid {
        true => Ok(path),
        false => Err(Error::invalid_argument(
            "options.endpoint must be a path under baseUrl such as \"/extract\" or \"/batch/extract\" (letters, digits, -._~ and /)",
        )),
    }
}

/// The headers of a JSON submission: the call's, with
/// `content-type: application/json` unless the caller set a content type.
pub fn json_headers(headers: &[(String, String)]) -> Vec<(String, String)> {
    let mut all = headers.to_vec();
    if !all
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
    {
        all.push(("content-type".into(), "application/json".into()));
    }
    all
}

/// The job a submission created: the answer's `job_id`, or a batch's
/// `batch_job_id` (which is polled like a job).
///
/// # Errors
/// `INVALID_RESPONSE` when neither is a usable job id.
pub fn submitted_job_id(
    job_id: Option<String>,
    batch_job_id: Option<String>,
) -> Result<String, Error> {
    job_id
        .into_iter()
        .chain(batch_job_id)
        .find(|id| validate_job_id(id).is_ok())
        .ok_or_else(|| {
            Error::invalid_response(
                "the API's answer to the submission has no job_id or batch_job_id",
            )
        })
}

/// The error of a submission that failed, saying what is known: a POST that
/// never left, or that the API refused unprocessed (408, 425, 429 say so),
/// created nothing, and is `retryable` when the same POST may succeed later;
/// one that may have reached the API (no answer, a broken connection, a 5xx)
/// may have created a job, so it is not retryable and its message says so.
/// Another 4xx is a refusal: no job, and no retry helps.
pub fn submission_error(failure: Failure) -> Error {
    match failure {
        Failure::NotSent(reason) => {
            Error::network(cat(&["the submission was not sent: ", &reason]))
        }
        Failure::Http {
            status: status @ (408 | 425 | 429),
            detail,
            server,
            ..
        } => Error::http(status, detail.as_deref(), server, true),
        Failure::Http {
            status,
            detail,
            server,
            ..
        } if status < 500 => Error::http(status, detail.as_deref(), server, false),
        Failure::Fatal(error) => error,
        maybe_sent => may_have_created(maybe_sent.into_error()),
    }
}

/// `error` for a submission that may have created a job: not retryable, and
/// the message says to look before submitting again.
pub fn may_have_created(error: Error) -> Error {
    Error {
        retryable: false,
        message: cat(&[
            &error.message,
            "; the submission may have reached the API and created a job, so it is not retried: check before submitting again",
        ]),
        ..error
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use crate::server_text::ServerError;

    #[test]
    fn a_failed_submission_says_whether_a_job_may_exist() {
        let http = |status| Failure::Http {
            status,
            detail: None,
            server: None,
            retry_after_ms: Some(1000.0),
        };
        let never_left = submission_error(Failure::NotSent("connect ECONNREFUSED".into()));
        assert_eq!(
            (never_left.code, never_left.retryable),
            (ErrorCode::NetworkError, true)
        );
        assert!(!never_left.message.contains("may have"));
        for refused in [408, 425, 429] {
            let e = submission_error(http(refused));
            assert!(e.retryable && !e.message.contains("may have"), "{refused}");
        }
        for final_refusal in [400, 401, 404, 413, 422] {
            let e = submission_error(http(final_refusal));
            assert!(
                !e.retryable && !e.message.contains("may have"),
                "{final_refusal}"
            );
        }
        for maybe in [
            http(500),
            http(502),
            http(503),
            http(504),
            Failure::Network("socket hang up".into()),
            Failure::TimedOut(500.0),
        ] {
            let e = submission_error(maybe.clone());
            assert!(!e.retryable, "{maybe:?}");
            assert!(
                e.message
                    .contains("may have reached the API and created a job"),
                "{maybe:?}"
            );
        }
        let server = Some(Box::new(ServerError {
            code: Some("rate_limited".into()),
            details: None,
        }));
        for status in [400, 429, 503] {
            let e = submission_error(Failure::Http {
                status,
                detail: None,
                server: server.clone(),
                retry_after_ms: None,
            });
            assert_eq!(e.server, server, "{status}");
        }
        let fatal = Error::invalid_response("no job_id");
        assert_eq!(submission_error(Failure::Fatal(fatal.clone())), fatal);
    }

    #[test]
    fn endpoints_are_plain_paths_under_the_base() {
        assert_eq!(endpoint_path(None), Ok("/extract"));
        for ok in [
            "/split",
            "/schema",
            "/tables",
            "/batch/extract",
            "/v2/extract-async",
        ] {
            assert_eq!(endpoint_path(Some(ok)), Ok(ok));
        }
        let long = "/".to_string() + &"a".repeat(200);
        for bad in [
            "",
            "extract",
            "/",
            "//evil.example/x",
            "/a//b",
            "/../job",
            "/a/./b",
            "/extract?x=1",
            "/extract#f",
            "https://evil.example/extract",
            "/a b",
            "/a\\b",
            "/é",
            &long,
        ] {
            let error = endpoint_path(Some(bad)).unwrap_err();
            assert_eq!(error.code, ErrorCode::InvalidArgument, "{bad:?}");
        }
    }

    #[test]
    fn json_bodies_say_so_unless_the_caller_chose_a_type() {
        let key = ("x-api-key".to_string(), "k".to_string());
        assert_eq!(
            json_headers(std::slice::from_ref(&key)),
            vec![
                key.clone(),
                ("content-type".into(), "application/json".into())
            ]
        );
        let own = (
            "Content-Type".to_string(),
            "application/vnd.x+json".to_string(),
        );
        assert_eq!(json_headers(std::slice::from_ref(&own)), vec![own]);
    }

    #[test]
    fn the_answer_names_a_job_or_a_batch() {
        let id = |s: &str| Some(s.to_string());
        assert_eq!(submitted_job_id(id("j1"), None), Ok("j1".into()));
        assert_eq!(submitted_job_id(None, id("b1")), Ok("b1".into()));
        assert_eq!(submitted_job_id(id(""), id("b1")), Ok("b1".into()));
        for (job, batch) in [(None, None), (id(""), None), (id(".."), id(""))] {
            let error = submitted_job_id(job, batch).unwrap_err();
            assert_eq!(error.code, ErrorCode::InvalidResponse);
        }
    }
}
