//! URLs: the job URL, the origin rule that keeps the API key on the API's
//! origin, and the checks on a large result's URL.
//!
//! The parser is deliberately strict: anything it cannot read exactly
//! (credentials, backslashes, white space, non-ASCII hosts) is not an origin
//! it will call "same", so a misreading can only withhold the key, never leak it.

use crate::text::{cat, digits};

use crate::error::Error;

/// Scheme, host and port: what the browser compares for same-origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    https: bool,
    host: String,
    port: u16,
}

/// An absolute `http:` or `https:` URL, split where the origin rule needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct HttpUrl {
    origin: Origin,
    /// Whether a `?` or `#` follows the path.
    has_query_or_fragment: bool,
}

fn parse_http_url(text: &str) -> Option<HttpUrl> {
    if text
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return None;
    }
    // The first `:` ends the scheme: "http" and "https" hold none, so this
    // accepts exactly what `split_once("://")` did, without the substring
    // searcher (whose panic paths bring `core::fmt` into the wasm).
    let (scheme, rest) = text.split_once(':')?;
    let rest = rest.strip_prefix("//")?;
    let https = match scheme.to_ascii_lowercase().as_str() {
        "https" => true,
        "http" => false,
        _ => return None,
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, after) = rest.split_at_checked(authority_end)?;
    if authority.contains('@') || !authority.is_ascii() {
        return None;
    }
    let (host, port) = split_host_port(authority)?;
    let port = match port {
        Some(port) => u16::try_from(digits(port)?).ok()?,
        None if https => 443,
        None => 80,
    };
    Some(HttpUrl {
        origin: Origin {
            https,
            host: host.to_ascii_lowercase(),
            port,
        },
        has_query_or_fragment: after.contains(['?', '#']),
    })
}

/// Splits `host[:port]`, with `[v6]` hosts; the host must be non-empty.
fn split_host_port(authority: &str) -> Option<(&str, Option<&str>)> {
    let (host, port) = if authority.starts_with('[') {
        let close = authority.find(']')?;
        let (host, after) = authority.split_at_checked(close + 1)?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':')?),
        };
        (host, port)
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_[]:%".contains(&b));
    (port_ok && host_ok).then_some((host, port))
}

/// The validated `baseUrl`: where API requests go and what counts as its origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    /// The URL without trailing slashes; job paths are appended to it.
    text: String,
    origin: Origin,
}

impl BaseUrl {
    /// Parses `baseUrl`: an absolute http(s) URL, optionally with a path
    /// prefix, without credentials, query or fragment.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` naming `baseUrl`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let parsed = parse_http_url(text).filter(|u| !u.has_query_or_fragment);
        let parsed = parsed.ok_or_else(|| {
            Error::invalid_argument(
                "options.baseUrl must be an absolute http(s) URL without credentials, query or fragment",
            )
        })?;
        Ok(Self {
            text: text.trim_end_matches('/').to_string(),
            origin: parsed.origin,
        })
    }

    /// `{baseUrl}/job/{jobId}`, the id encoded as one path segment.
    pub fn job_url(&self, job_id: &str) -> String {
        cat(&[&self.text, "/job/", &encode_segment(job_id)])
    }

    /// `path` (already checked, e.g. by `submit::endpoint_path`) under the base.
    pub fn path_url(&self, path: &str) -> String {
        cat(&[&self.text, path])
    }

    /// The origin credentials may be sent to.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// True for an `https:` base URL.
    pub fn is_https(&self) -> bool {
        self.origin.https
    }
}

/// How to fetch a large result: its URL and whether it is on the API's origin
/// (a Pulse proxy URL, which gets the key) or elsewhere (presigned storage, which
/// must not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultUrl {
    /// The URL as the API sent it.
    pub url: String,
    /// True when the key and headers may go with the request.
    pub same_origin: bool,
}

/// Checks the `url` of an `is_url` result against the base URL.
///
/// # Errors
/// `INVALID_RESPONSE` when it is not an absolute http(s) URL, or is plain
/// http while the API is https.
pub fn result_url(base: &BaseUrl, url: &str) -> Result<ResultUrl, Error> {
    let parsed = parse_http_url(url)
        .ok_or_else(|| Error::invalid_response("result.url is not an absolute http(s) URL"))?;
    if base.is_https() && !parsed.origin.https {
        return Err(Error::invalid_response(
            "result.url is http: but the API is https:; refusing to download over plain http",
        ));
    }
    Ok(ResultUrl {
        url: url.to_string(),
        same_origin: &parsed.origin == base.origin(),
    })
}

/// Percent-encodes `segment` so it stays one path segment: everything but
/// RFC 3986's unreserved characters is encoded, UTF-8 byte by byte.
pub fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xF)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(text: &str) -> BaseUrl {
        BaseUrl::parse(text).unwrap()
    }

    #[test]
    fn job_url_keeps_the_prefix_and_one_segment() {
        assert_eq!(
            base("https://api.runpulse.com").job_url("j1"),
            "https://api.runpulse.com/job/j1"
        );
        assert_eq!(
            base("http://127.0.0.1:8080/api/").job_url("a/b?c#d"),
            "http://127.0.0.1:8080/api/job/a%2Fb%3Fc%23d"
        );
        assert_eq!(
            base("http://h/x").job_url("é %"),
            "http://h/x/job/%C3%A9%20%25"
        );
    }

    #[test]
    fn base_url_must_be_absolute_http() {
        for bad in [
            "",
            "api.runpulse.com",
            "/relative",
            "ftp://host",
            "https://",
            "https://user:pw@host",
            "https://host?x=1",
            "https://host#f",
            "https://host:99999",
            "https://host:",
            "https://ho st",
            "https://host\\x",
            "https://hö.st",
        ] {
            let err = BaseUrl::parse(bad).unwrap_err();
            assert!(err.message.contains("baseUrl"), "{bad}");
        }
        assert!(BaseUrl::parse("HTTPS://API.runpulse.com:443/v1").is_ok());
        assert!(BaseUrl::parse("http://[::1]:3000").is_ok());
    }

    #[test]
    fn origin_rule() {
        let api = base("https://api.runpulse.com/v1");
        let same = |url: &str| result_url(&api, url).unwrap().same_origin;
        assert!(same("https://api.runpulse.com/proxy/r1"));
        assert!(same("https://API.RUNPULSE.COM:443/proxy/r1?sig=x"));
        assert!(!same(
            "https://bucket.s3.amazonaws.com/r1?X-Amz-Signature=x"
        ));
        assert!(!same("https://api.runpulse.com:8443/r1"));
        assert!(!same("https://api.runpulse.com.evil.example/r1"));
        let local = base("http://127.0.0.1:4000");
        assert!(
            !result_url(&local, "http://127.0.0.1:4001/r")
                .unwrap()
                .same_origin
        );
        assert!(
            result_url(&local, "http://127.0.0.1:4000/r")
                .unwrap()
                .same_origin
        );
        assert!(
            !result_url(&local, "http://localhost:4000/r")
                .unwrap()
                .same_origin
        );
    }

    #[test]
    fn result_url_checks() {
        let api = base("https://api.runpulse.com");
        for bad in [
            "ftp://x/r",
            "/relative",
            "r1",
            "https://evil@api.runpulse.com/r",
            "https://evil.example\\@api.runpulse.com/r",
            "http://api.runpulse.com/r",
        ] {
            let err = result_url(&api, bad).unwrap_err();
            assert_eq!(err.code, crate::error::ErrorCode::InvalidResponse, "{bad}");
            assert!(!err.message.contains("api.runpulse.com"), "no URL in {bad}");
        }
        assert!(result_url(&base("http://127.0.0.1:1"), "https://x/r").is_ok());
    }

    #[test]
    fn encoding_is_one_segment() {
        assert_eq!(encode_segment("abc-123_X.~"), "abc-123_X.~");
        assert_eq!(encode_segment(".."), "..");
        assert_eq!(encode_segment("a b/c"), "a%20b%2Fc");
    }
}
