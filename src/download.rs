//! Rules of a large-result download that do not depend on the network:
//! which redirects are followed, and what the body's length headers say.

use crate::text::{cat, decimal, digits};

use crate::error::Error;
use crate::url::{result_url, BaseUrl, ResultUrl};

/// Redirects a download follows before giving up.
pub const MAX_REDIRECTS: u32 = 5;

/// True for the statuses whose `Location` a download follows.
pub fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// The next hop of a download that answered `status` with `location`
/// (already resolved against the URL that answered), after `hops` hops.
/// Each hop obeys the result-URL rules, so an https download is never
/// followed to plain http, and credentials go only to the API's origin.
///
/// # Errors
/// `RESULT_DOWNLOAD_FAILED` with `status`, not retryable: no usable
/// `Location`, too many hops, or a target the rules refuse.
pub fn redirect_hop(
    base: &BaseUrl,
    location: Option<&str>,
    status: u16,
    hops: u32,
) -> Result<ResultUrl, Error> {
    let refuse = |why: &str| {
        Error::download_failed(
            cat(&[
                "the result download was redirected (HTTP ",
                &decimal(status.into()),
                ") ",
                why,
                "; not followed",
            ]),
            Some(status),
            false,
        )
    };
    let location = location.ok_or_else(|| refuse("without a usable Location"))?;
    if hops >= MAX_REDIRECTS {
        return Err(refuse("more than 5 times"));
    }
    result_url(base, location).map_err(|_| {
        refuse("to a URL that is not absolute http(s), or is plain http while the API is https")
    })
}

/// The decoded size a response announces: its `Content-Length`, unless a
/// `Content-Encoding` makes that the encoded size, which says nothing of it.
pub fn decoded_length(content_length: Option<&str>, content_encoding: Option<&str>) -> Option<f64> {
    let encoded = content_encoding.is_some_and(|e| {
        let e = e.trim();
        !e.is_empty() && !e.eq_ignore_ascii_case("identity")
    });
    if encoded {
        return None;
    }
    content_length
        .and_then(|v| digits(v.trim()))
        .map(|bytes| bytes as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn base(url: &str) -> BaseUrl {
        BaseUrl::parse(url).unwrap()
    }

    #[test]
    fn follows_to_https_and_keeps_credentials_on_the_api_origin() {
        let api = base("https://api.example");
        let hop = redirect_hop(&api, Some("https://bucket.example/r?sig=1"), 302, 0).unwrap();
        assert!(!hop.same_origin);
        let own = redirect_hop(&api, Some("https://api.example/large_results/j"), 307, 4).unwrap();
        assert!(own.same_origin);
    }

    #[test]
    fn refuses_plain_http_from_an_https_api() {
        let e = redirect_hop(
            &base("https://api.example"),
            Some("http://bucket.example/r"),
            302,
            0,
        )
        .unwrap_err();
        assert_eq!(
            (e.code, e.http_status, e.retryable),
            (ErrorCode::ResultDownloadFailed, Some(302), false)
        );
        assert!(redirect_hop(
            &base("http://api.example"),
            Some("http://b.example/r"),
            302,
            0
        )
        .is_ok());
    }

    #[test]
    fn refuses_missing_locations_and_long_chains() {
        let api = base("https://api.example");
        assert!(redirect_hop(&api, None, 301, 0).is_err());
        assert!(redirect_hop(&api, Some("ftp://x/r"), 301, 0).is_err());
        let e = redirect_hop(&api, Some("https://b.example/r"), 308, MAX_REDIRECTS).unwrap_err();
        assert!(e.message.contains("more than 5 times"), "{}", e.message);
    }

    #[test]
    fn only_redirect_statuses_are_followed() {
        assert!([301, 302, 303, 307, 308].into_iter().all(is_redirect));
        assert!(![200, 300, 304, 305, 306, 400].into_iter().any(is_redirect));
    }

    #[test]
    fn an_encoded_body_has_no_known_decoded_length() {
        assert_eq!(decoded_length(Some("1234"), None), Some(1234.0));
        assert_eq!(decoded_length(Some(" 10 "), Some("identity")), Some(10.0));
        assert_eq!(decoded_length(Some("1234"), Some("gzip")), None);
        assert_eq!(decoded_length(Some("1234"), Some("br")), None);
        assert_eq!(decoded_length(Some("-1"), None), None);
        assert_eq!(decoded_length(None, None), None);
    }
}
