//! Options: what a caller may pass, the defaults, and the checks that turn
//! them into policies. Type checks of JS values happen in `bindings`; the
//! rules on values live here. No message ever shows the key or a header value.

use crate::text::cat;

use crate::backoff::Backoff;
use crate::error::Error;
use crate::url::BaseUrl;

/// The Pulse API's public address.
pub const DEFAULT_BASE_URL: &str = "https://api.runpulse.com";
const DEFAULT_REQUEST_TIMEOUT_MS: f64 = 30_000.0;
const DEFAULT_INITIAL_DELAY_MS: f64 = 1_000.0;
const DEFAULT_MAX_DELAY_MS: f64 = 15_000.0;
const DEFAULT_MULTIPLIER: f64 = 1.5;
const DEFAULT_JITTER: f64 = 0.2;
const DEFAULT_TIMEOUT_MS: f64 = 1_800_000.0;
const DEFAULT_MAX_RETRIES: u32 = 5;
const MAX_JOB_ID_UTF16: usize = 256;

/// Options as the caller gave them, already type-checked; `None` = not given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Options {
    /// `apiKey`.
    pub api_key: Option<String>,
    /// `baseUrl`.
    pub base_url: Option<String>,
    /// `headers`, in the caller's order.
    pub headers: Vec<(String, String)>,
    /// `requestTimeoutMs`.
    pub request_timeout_ms: Option<f64>,
    /// `initialDelayMs`.
    pub initial_delay_ms: Option<f64>,
    /// `maxDelayMs`.
    pub max_delay_ms: Option<f64>,
    /// `multiplier`.
    pub multiplier: Option<f64>,
    /// `jitter`.
    pub jitter: Option<f64>,
    /// `timeoutMs`.
    pub timeout_ms: Option<f64>,
    /// `maxRetries`.
    pub max_retries: Option<f64>,
    /// `downloadResult`.
    pub download_result: Option<bool>,
    /// `maxResultBytes`.
    pub max_result_bytes: Option<f64>,
    /// `cancelOnAbort`.
    pub cancel_on_abort: Option<bool>,
    /// `endpoint`: where `submitJob` and `runJob` send the job.
    pub submit_path: Option<String>,
}

/// Where API requests go and the headers that ride along (the key included).
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// The validated `baseUrl`.
    pub base: BaseUrl,
    /// Extra headers then `x-api-key`; sent only to `base`'s origin.
    pub headers: Vec<(String, String)>,
}

/// What a wait needs beyond the endpoint.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WaitPolicy {
    /// The delay schedule.
    pub backoff: Backoff,
    /// The whole wait's limit in ms; `None` = no limit (`timeoutMs: 0`).
    pub timeout_ms: Option<f64>,
    /// Consecutive transient failures tolerated.
    pub max_retries: u32,
    /// Whether `is_url` results are fetched.
    pub download_result: bool,
    /// Largest result accepted, in bytes.
    pub max_result_bytes: Option<f64>,
    /// Whether an abandoned wait cancels its job.
    pub cancel_on_abort: bool,
}

/// The error for a value of the wrong JS type.
pub fn wrong_type(field: &str, expected: &str) -> Error {
    Error::invalid_argument(cat(&["options.", field, " must be ", expected]))
}

impl Options {
    /// These (per-call) options over a client's: each given field wins, and
    /// headers merge name by name, names compared without regard to case.
    /// (By reference: callers keep theirs, and one clone here, not one per
    /// caller, is in the wasm.)
    pub fn over(&self, client: &Options) -> Options {
        let mut headers = client.headers.clone();
        for (name, value) in &self.headers {
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            headers.push((name.clone(), value.clone()));
        }
        let pick = |own: &Option<String>, theirs: &Option<String>| {
            own.as_ref().or(theirs.as_ref()).cloned()
        };
        Options {
            api_key: pick(&self.api_key, &client.api_key),
            base_url: pick(&self.base_url, &client.base_url),
            headers,
            submit_path: self.submit_path.clone(),
            ..*self
        }
    }

    /// Validates `apiKey`, `baseUrl` and `headers`.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` naming the field, never showing a key or header value.
    pub fn endpoint(&self) -> Result<Endpoint, Error> {
        let base = BaseUrl::parse(self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL))?;
        let mut headers = Vec::with_capacity(self.headers.len() + 1);
        for (name, value) in &self.headers {
            if !is_token(name) {
                return Err(Error::invalid_argument(
                    "options.headers has a name that is not a valid HTTP header name",
                ));
            }
            if !is_field_value(value) {
                return Err(Error::invalid_argument(cat(&[
                    "options.headers[\"",
                    name,
                    "\"] must be a valid HTTP header value (no control characters, nothing above U+00FF)",
                ])));
            }
            let replaced_by_key = self.api_key.is_some() && name.eq_ignore_ascii_case("x-api-key");
            if !replaced_by_key {
                headers.push((name.clone(), value.clone()));
            }
        }
        if let Some(key) = &self.api_key {
            if key.is_empty() || !is_field_value(key) {
                return Err(Error::invalid_argument(
                    "options.apiKey must be a non-empty valid HTTP header value (no control characters, nothing above U+00FF)",
                ));
            }
            headers.push(("x-api-key".to_string(), key.clone()));
        }
        Ok(Endpoint { base, headers })
    }

    /// Validates `requestTimeoutMs` (default 30000).
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` unless it is above 0.
    pub fn request_timeout_ms(&self) -> Result<f64, Error> {
        let ms = self
            .request_timeout_ms
            .unwrap_or(DEFAULT_REQUEST_TIMEOUT_MS);
        require(
            ms.is_finite() && ms > 0.0,
            "requestTimeoutMs",
            "greater than 0",
        )?;
        Ok(ms)
    }

    /// Validates the polling options and applies their defaults. Numbers must
    /// be finite (as `bindings` already demands), so a policy is always valid:
    /// an infinite delay or multiplier would make the backoff infinite or NaN.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` naming the first field out of range.
    pub fn wait_policy(&self) -> Result<WaitPolicy, Error> {
        let initial_ms = self.initial_delay_ms.unwrap_or(DEFAULT_INITIAL_DELAY_MS);
        require(
            initial_ms.is_finite() && initial_ms >= 0.0,
            "initialDelayMs",
            ">= 0",
        )?;
        let max_ms = self
            .max_delay_ms
            .unwrap_or(DEFAULT_MAX_DELAY_MS.max(initial_ms));
        require(
            max_ms.is_finite() && max_ms >= initial_ms,
            "maxDelayMs",
            ">= initialDelayMs",
        )?;
        let multiplier = self.multiplier.unwrap_or(DEFAULT_MULTIPLIER);
        require(
            multiplier.is_finite() && multiplier >= 1.0,
            "multiplier",
            ">= 1",
        )?;
        let jitter = self.jitter.unwrap_or(DEFAULT_JITTER);
        require((0.0..=1.0).contains(&jitter), "jitter", "between 0 and 1")?;
        let timeout_ms = self.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS);
        require(
            timeout_ms.is_finite() && timeout_ms >= 0.0,
            "timeoutMs",
            ">= 0 (0 means no limit)",
        )?;
        let max_retries = self.max_retries.unwrap_or(DEFAULT_MAX_RETRIES as f64);
        require(
            max_retries >= 0.0 && max_retries.fract() == 0.0,
            "maxRetries",
            "a whole number >= 0",
        )?;
        if let Some(bytes) = self.max_result_bytes {
            require(
                bytes.is_finite() && bytes > 0.0,
                "maxResultBytes",
                "greater than 0",
            )?;
        }
        Ok(WaitPolicy {
            backoff: Backoff {
                initial_ms,
                max_ms,
                multiplier,
                jitter,
            },
            timeout_ms: (timeout_ms > 0.0).then_some(timeout_ms),
            max_retries: max_retries.min(u32::MAX as f64) as u32,
            download_result: self.download_result.unwrap_or(true),
            max_result_bytes: self.max_result_bytes,
            cancel_on_abort: self.cancel_on_abort.unwrap_or(false),
        })
    }
}

fn require(ok: bool, field: &str, rule: &str) -> Result<(), Error> {
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_argument(cat(&[
            "options.",
            field,
            " must be ",
            rule,
        ])))
    }
}

/// Checks a job id: 1 to 256 UTF-16 code units, no control characters, not
/// `.` or `..` (which would move the URL up a level even when encoded).
/// Lone surrogates are caught by `bindings`, where the JS string still has them.
///
/// # Errors
/// `INVALID_ARGUMENT` naming `jobId`.
pub fn validate_job_id(job_id: &str) -> Result<(), Error> {
    let problem = if job_id.is_empty() {
        Some("must not be empty")
    } else if job_id.encode_utf16().count() > MAX_JOB_ID_UTF16 {
        Some("must be at most 256 characters")
    } else if job_id.chars().any(char::is_control) {
        Some("must not contain control characters")
    } else if job_id == "." || job_id == ".." {
        Some("must not be \".\" or \"..\"")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(Error::invalid_argument(cat(&["jobId ", problem]))),
        None => Ok(()),
    }
}

/// An HTTP token (RFC 9110 `tchar`s), as header names must be.
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A header value fetch will send as is: Latin-1, no control characters.
fn is_field_value(value: &str) -> bool {
    value.chars().all(|c| (c as u32) <= 0xFF && !c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn with(f: impl FnOnce(&mut Options)) -> Options {
        let mut o = Options::default();
        f(&mut o);
        o
    }

    #[test]
    fn defaults() {
        let p = Options::default().wait_policy().unwrap();
        assert_eq!(
            p.backoff,
            Backoff {
                initial_ms: 1000.0,
                max_ms: 15000.0,
                multiplier: 1.5,
                jitter: 0.2
            }
        );
        assert_eq!(p.timeout_ms, Some(1_800_000.0));
        assert_eq!(p.max_retries, 5);
        assert!(p.download_result);
        assert_eq!(p.max_result_bytes, None);
        assert_eq!(Options::default().request_timeout_ms().unwrap(), 30000.0);
        let e = Options::default().endpoint().unwrap();
        assert_eq!(e.base.job_url("x"), "https://api.runpulse.com/job/x");
        assert!(e.headers.is_empty());
    }

    #[test]
    fn max_delay_defaults_above_a_large_initial_delay() {
        let p = with(|o| o.initial_delay_ms = Some(20000.0))
            .wait_policy()
            .unwrap();
        assert_eq!(p.backoff.max_ms, 20000.0);
    }

    #[test]
    fn zero_timeout_means_no_limit() {
        let p = with(|o| o.timeout_ms = Some(0.0)).wait_policy().unwrap();
        assert_eq!(p.timeout_ms, None);
    }

    #[test]
    fn out_of_range_values_name_their_field() {
        let cases: Vec<(&str, Options)> = vec![
            ("initialDelayMs", with(|o| o.initial_delay_ms = Some(-1.0))),
            (
                "maxDelayMs",
                with(|o| {
                    o.initial_delay_ms = Some(10.0);
                    o.max_delay_ms = Some(5.0)
                }),
            ),
            ("multiplier", with(|o| o.multiplier = Some(0.5))),
            ("jitter", with(|o| o.jitter = Some(1.5))),
            ("jitter", with(|o| o.jitter = Some(-0.1))),
            ("timeoutMs", with(|o| o.timeout_ms = Some(-5.0))),
            ("maxRetries", with(|o| o.max_retries = Some(1.5))),
            ("maxRetries", with(|o| o.max_retries = Some(-1.0))),
            ("maxResultBytes", with(|o| o.max_result_bytes = Some(0.0))),
        ];
        for (field, options) in cases {
            let err = options.wait_policy().unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidArgument);
            assert!(
                err.message.contains(&format!("options.{field}")),
                "{field}: {}",
                err.message
            );
        }
        let err = with(|o| o.request_timeout_ms = Some(0.0))
            .request_timeout_ms()
            .unwrap_err();
        assert!(err.message.contains("requestTimeoutMs"));
    }

    #[test]
    fn non_finite_numbers_are_refused() {
        // `bindings` refuses them already; the policies must be valid on their own.
        let cases: Vec<(&str, Options)> = vec![
            (
                "initialDelayMs",
                with(|o| o.initial_delay_ms = Some(f64::INFINITY)),
            ),
            ("maxDelayMs", with(|o| o.max_delay_ms = Some(f64::INFINITY))),
            ("multiplier", with(|o| o.multiplier = Some(f64::INFINITY))),
            ("jitter", with(|o| o.jitter = Some(f64::NAN))),
            ("timeoutMs", with(|o| o.timeout_ms = Some(f64::INFINITY))),
            ("maxRetries", with(|o| o.max_retries = Some(f64::INFINITY))),
            (
                "maxResultBytes",
                with(|o| o.max_result_bytes = Some(f64::INFINITY)),
            ),
        ];
        for (field, options) in cases {
            let err = options.wait_policy().unwrap_err();
            assert!(err.message.contains(&format!("options.{field}")), "{field}");
        }
        let err = with(|o| o.request_timeout_ms = Some(f64::INFINITY))
            .request_timeout_ms()
            .unwrap_err();
        assert!(err.message.contains("requestTimeoutMs"));
    }

    #[test]
    fn key_and_header_values_never_appear_in_errors() {
        let secret = "sk-secret\u{7}";
        let err = with(|o| o.api_key = Some(secret.into()))
            .endpoint()
            .unwrap_err();
        assert!(err.message.contains("apiKey") && !err.message.contains("sk-secret"));
        let err = with(|o| o.headers = vec![("X-Token".into(), "tok-secret\n".into())])
            .endpoint()
            .unwrap_err();
        assert!(err.message.contains("headers") && !err.message.contains("tok-secret"));
        let err = with(|o| o.headers = vec![("bad name".into(), "v".into())])
            .endpoint()
            .unwrap_err();
        assert!(err.message.contains("headers"));
        let err = with(|o| o.api_key = Some("ключ".into()))
            .endpoint()
            .unwrap_err();
        assert!(!err.message.contains("ключ"));
        assert!(with(|o| o.api_key = Some(String::new()))
            .endpoint()
            .is_err());
    }

    #[test]
    fn api_key_wins_over_an_x_api_key_header() {
        let e = with(|o| {
            o.api_key = Some("key".into());
            o.headers = vec![
                ("X-Api-Key".into(), "other".into()),
                ("x-trace".into(), "1".into()),
            ];
        })
        .endpoint()
        .unwrap();
        assert_eq!(
            e.headers,
            vec![
                ("x-trace".to_string(), "1".to_string()),
                ("x-api-key".to_string(), "key".to_string())
            ]
        );
        let header_only = with(|o| o.headers = vec![("X-Api-Key".into(), "other".into())])
            .endpoint()
            .unwrap();
        assert_eq!(header_only.headers.len(), 1);
    }

    #[test]
    fn per_call_options_override_and_merge_headers() {
        let client = with(|o| {
            o.api_key = Some("client".into());
            o.base_url = Some("http://a".into());
            o.headers = vec![("X-A".into(), "1".into()), ("X-B".into(), "1".into())];
        });
        let call = with(|o| {
            o.base_url = Some("http://b".into());
            o.headers = vec![("x-b".into(), "2".into()), ("X-C".into(), "3".into())];
            o.jitter = Some(0.0);
        });
        let merged = call.over(&client);
        assert_eq!(merged.api_key.as_deref(), Some("client"));
        assert_eq!(merged.base_url.as_deref(), Some("http://b"));
        assert_eq!(merged.jitter, Some(0.0));
        let names: Vec<(&str, &str)> = merged
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(names, vec![("X-A", "1"), ("x-b", "2"), ("X-C", "3")]);
    }

    #[test]
    fn job_id_rules() {
        assert!(validate_job_id("abc-123").is_ok());
        assert!(validate_job_id("a/b?c").is_ok());
        assert!(validate_job_id(&"é".repeat(256)).is_ok());
        for bad in [
            "",
            ".",
            "..",
            "a\nb",
            "a\u{7f}",
            "a\u{85}",
            &"x".repeat(257),
            &"😀".repeat(129),
        ] {
            let err = validate_job_id(bad).unwrap_err();
            assert!(err.message.starts_with("jobId "), "{bad:?}");
        }
    }
}
