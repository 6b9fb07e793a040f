//! Text that a server (or a platform error) wrote, made fit for an error
//! message: secrets it echoed are redacted, terminal escapes and control
//! characters removed, and its length bounded. A message may then be logged
//! as it is.

use crate::text::{cat, join};

/// Longest server text kept in a message, in characters.
pub const MAX_CHARS: usize = 500;
/// What a secret is replaced with.
pub const REDACTED: &str = "[redacted]";
/// Secrets shorter than this are not redacted: replacing every "1" or "ok"
/// in a message would garble it while hiding nothing.
const MIN_SECRET_CHARS: usize = 4;

/// Pulse's own fields of an error body, `{ "error": { "code", "message",
/// "details" } }`: `PulseError.serverCode` and `serverDetails`, for callers
/// that branch on the server's code. Built by [`ServerError::redacted`], so
/// neither can carry a secret.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerError {
    /// `error.code`, cleaned as a message is.
    pub code: Option<String>,
    /// `error.details` as JSON text, kept only when it holds no secret.
    pub details: Option<String>,
}

impl ServerError {
    /// The body's `code` and `details` (as `JSON.stringify` wrote it) fit for
    /// a `PulseError`: the code cleaned like server text (see [`clean`]);
    /// the details dropped whole when a secret appears in their JSON, as it
    /// stands or as JSON escapes it. Dropping, not redacting: a value cannot
    /// be cut as a sentence can, and no secret-bearing part is worth keeping.
    /// `None` when the body had neither.
    pub fn redacted(
        code: Option<&str>,
        details: Option<String>,
        secrets: &[&str],
    ) -> Option<Box<Self>> {
        let holds_secret = |json: &String| {
            secrets
                .iter()
                .filter(|s| is_secret(s))
                .any(|s| contains(json, s) || contains(json, &json_escaped(s)))
        };
        let details = details.filter(|json| !holds_secret(json));
        (code.is_some() || details.is_some()).then(|| {
            let code = code.map(|code| clean(code, secrets));
            Box::new(Self { code, details })
        })
    }
}

/// Whether a header value is long enough to redact ([`MIN_SECRET_CHARS`]).
fn is_secret(value: &str) -> bool {
    value.chars().nth(MIN_SECRET_CHARS - 1).is_some()
}

/// Whether `needle` (not empty) occurs in `hay`, by bytes (see [`replace_all`]).
fn contains(hay: &str, needle: &str) -> bool {
    let needle = needle.as_bytes();
    hay.as_bytes()
        .windows(needle.len().max(1))
        .any(|window| window == needle)
}

/// `text` as `JSON.stringify` writes it inside a string: `"` and `\`
/// escaped, control characters as `\n`-style or `\u00XX` escapes.
fn json_escaped(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                out.push_str("\\u00");
                out.push(char::from(HEX[(c as usize) >> 4]));
                out.push(char::from(HEX[(c as usize) & 15]));
            }
            c => out.push(c),
        }
    }
    out
}

/// FastAPI-style validation errors (`detail: [{ loc, msg }, ...]`) written
/// as one line, `body.file_url: field required; bad`, as they are read: no
/// list of issues and of their paths is built first.
#[derive(Debug, Default)]
pub struct IssueLine {
    line: String,
    issues: usize,
    parts: usize,
}

impl IssueLine {
    /// Starts an issue.
    pub fn issue(&mut self) {
        if self.issues > 0 {
            self.line.push_str("; ");
        }
        self.issues += 1;
        self.parts = 0;
    }

    /// The next part of the issue's `loc` (a field name or an index).
    pub fn loc(&mut self, part: &str) {
        if self.parts > 0 {
            self.line.push('.');
        }
        self.line.push_str(part);
        self.parts += 1;
    }

    /// Ends the issue with the validator's message.
    pub fn msg(&mut self, msg: &str) {
        if self.parts > 0 {
            self.line.push_str(": ");
        }
        self.line.push_str(msg);
    }

    /// The line; `None` when no issue was written.
    pub fn done(self) -> Option<String> {
        (self.issues > 0).then_some(self.line)
    }
}

/// Cleans `text` for a message: terminal escape sequences removed, other
/// control characters turned into spaces, each of `secrets` replaced by
/// [`REDACTED`], white space collapsed, and the result cut to [`MAX_CHARS`]
/// with an ellipsis. Escapes go first, so a secret split by one is still found.
pub fn clean(text: &str, secrets: &[&str]) -> String {
    let mut text = strip_controls(text);
    for secret in secrets.iter().filter(|s| is_secret(s)) {
        text = replace_all(&text, secret, REDACTED);
    }
    let collapsed = join(text.split_whitespace(), " ");
    truncate(&collapsed, MAX_CHARS)
}

/// `text.replace(needle, with)` for a non-empty `needle`, by bytes: a match
/// of a whole UTF-8 string starts and ends on character boundaries, so the
/// cuts are always valid. (`str::replace` runs core's substring searcher,
/// whose panic paths bring `core::fmt` into the wasm.)
fn replace_all(text: &str, needle: &str, with: &str) -> String {
    let (hay, pat) = (text.as_bytes(), needle.as_bytes());
    if pat.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let (mut copied, mut at) = (0, 0);
    while at + pat.len() <= hay.len() {
        if hay[at..].starts_with(pat) {
            out.push_str(text.get(copied..at).unwrap_or_default());
            out.push_str(with);
            at += pat.len();
            copied = at;
        } else {
            at += 1;
        }
    }
    out.push_str(text.get(copied..).unwrap_or_default());
    out
}

/// Removes ANSI escape sequences (CSI `ESC [ ... final`, OSC `ESC ] ... BEL`
/// or `ESC \`, and two-character `ESC x`); other control characters
/// (C0, DEL, C1) become spaces.
fn strip_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                Some('[') => {
                    // Parameters and intermediates, up to a final byte in @..~.
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                Some(']') => {
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' || (c == '\u{1b}' && chars.next_if_eq(&'\\').is_some()) {
                            break;
                        }
                    }
                }
                _ => {}
            },
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => cat(&[text.get(..cut).unwrap_or(text), "…"]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_even_when_split_by_an_escape() {
        let key = "sk-live-SECRET-1234";
        let echoed = format!("invalid api key {key} for tenant acme-secret");
        assert_eq!(
            clean(&echoed, &[key, "acme-secret"]),
            "invalid api key [redacted] for tenant [redacted]"
        );
        assert_eq!(
            clean("key sk-live-\u{1b}[0mSECRET-1234", &[key]),
            "key [redacted]"
        );
    }

    #[test]
    fn short_secrets_are_left_alone() {
        assert_eq!(clean("page 1 of 2", &["1", "abc"]), "page 1 of 2");
    }

    #[test]
    fn escapes_and_controls_are_removed() {
        let raw = "\u{1b}[31mred\u{1b}[0m text\u{7} with\nnewline\u{1b}]0;title\u{7}\u{9b}";
        assert_eq!(clean(raw, &[]), "red text with newline");
        assert_eq!(
            clean("a\u{1b}]8;;http://x\u{1b}\\link\u{1b}c", &[]),
            "alink"
        );
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis() {
        let long = "é".repeat(5000);
        let cut = clean(&long, &[]);
        assert_eq!(cut.chars().count(), MAX_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(clean("short", &[]), "short");
    }

    #[test]
    fn server_codes_are_cleaned_and_details_with_a_secret_dropped() {
        let key = "sk-live-SECRET-1234";
        let quoted = "ab\"c\\d\u{1}e";
        let secrets = [key, quoted, "ok"];
        let server = |code: Option<&str>, details: &str| {
            ServerError::redacted(code, Some(details.to_string()), &secrets)
        };
        let kept = server(Some("invalid_pages"), r#"{"field":"pages","ok":1}"#).unwrap();
        assert_eq!(kept.code.as_deref(), Some("invalid_pages"));
        assert_eq!(kept.details.as_deref(), Some(r#"{"field":"pages","ok":1}"#));
        let echoed = server(
            Some("bad_key_sk-live-SECRET-1234\n"),
            r#"{"key":"sk-live-SECRET-1234"}"#,
        );
        let echoed = echoed.unwrap();
        assert_eq!(echoed.code.as_deref(), Some("bad_key_[redacted]"));
        assert_eq!(echoed.details, None);
        // As JSON.stringify writes a string holding the secret, and as it stands.
        assert_eq!(server(None, r#"["ab\"c\\d\u0001e"]"#), None);
        assert_eq!(server(None, "{\"ab\"c\\d\u{1}e\":0}"), None);
        assert_eq!(server(None, "[1]").unwrap().details.as_deref(), Some("[1]"));
        assert_eq!(ServerError::redacted(None, None, &secrets), None);
    }

    #[test]
    fn json_escapes_match_json_stringify() {
        assert_eq!(
            json_escaped("a\"b\\c\n\t\u{1f}\u{8}é"),
            r#"a\"b\\c\n\t\u001f\bé"#
        );
    }

    #[test]
    fn validation_errors_render_on_one_line() {
        let mut line = IssueLine::default();
        line.issue();
        line.loc("body");
        line.loc("file_url");
        line.msg("field required");
        line.issue();
        line.msg("bad");
        assert_eq!(
            line.done().as_deref(),
            Some("body.file_url: field required; bad")
        );
        assert_eq!(IssueLine::default().done(), None);
        let mut empty = IssueLine::default();
        empty.issue();
        empty.msg("");
        assert_eq!(empty.done().as_deref(), Some(""));
    }
}
