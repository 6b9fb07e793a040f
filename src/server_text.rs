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

/// The message part of a JSON error body, in the shapes APIs commonly send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorDetail {
    /// `"error": "..."`, or an object with a string `message`.
    Text(String),
    /// FastAPI-style validation errors: `detail: [{ loc, msg }, ...]`.
    Validation(Vec<Issue>),
}

/// One validation error: where (`loc`, e.g. `["body", "file_url"]`) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// The path to the offending field.
    pub loc: Vec<String>,
    /// The validator's message.
    pub msg: String,
}

impl ErrorDetail {
    /// One line: the text, or `body.file_url: field required; query.x: bad`.
    pub fn render(&self) -> String {
        match self {
            Self::Text(text) => text.clone(),
            Self::Validation(issues) => {
                let lines: Vec<String> = issues
                    .iter()
                    .map(|issue| match issue.loc.is_empty() {
                        true => issue.msg.clone(),
                        false => {
                            let loc = join(issue.loc.iter().map(String::as_str), ".");
                            cat(&[&loc, ": ", &issue.msg])
                        }
                    })
                    .collect();
                join(lines.iter().map(String::as_str), "; ")
            }
        }
    }
}

/// Cleans `text` for a message: terminal escape sequences removed, other
/// control characters turned into spaces, each of `secrets` replaced by
/// [`REDACTED`], white space collapsed, and the result cut to [`MAX_CHARS`]
/// with an ellipsis. Escapes go first, so a secret split by one is still found.
pub fn clean<'a>(text: &str, secrets: impl IntoIterator<Item = &'a str>) -> String {
    let mut text = strip_controls(text);
    for secret in secrets {
        if secret.chars().count() >= MIN_SECRET_CHARS {
            text = replace_all(&text, secret, REDACTED);
        }
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
            clean(&echoed, [key, "acme-secret"]),
            "invalid api key [redacted] for tenant [redacted]"
        );
        assert_eq!(
            clean("key sk-live-\u{1b}[0mSECRET-1234", [key]),
            "key [redacted]"
        );
    }

    #[test]
    fn short_secrets_are_left_alone() {
        assert_eq!(clean("page 1 of 2", ["1", "abc"]), "page 1 of 2");
    }

    #[test]
    fn escapes_and_controls_are_removed() {
        let raw = "\u{1b}[31mred\u{1b}[0m text\u{7} with\nnewline\u{1b}]0;title\u{7}\u{9b}";
        assert_eq!(clean(raw, []), "red text with newline");
        assert_eq!(clean("a\u{1b}]8;;http://x\u{1b}\\link\u{1b}c", []), "alink");
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis() {
        let long = "é".repeat(5000);
        let cut = clean(&long, []);
        assert_eq!(cut.chars().count(), MAX_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(clean("short", []), "short");
    }

    #[test]
    fn validation_errors_render_on_one_line() {
        let detail = ErrorDetail::Validation(vec![
            Issue {
                loc: vec!["body".into(), "file_url".into()],
                msg: "field required".into(),
            },
            Issue {
                loc: vec![],
                msg: "bad".into(),
            },
        ]);
        assert_eq!(detail.render(), "body.file_url: field required; bad");
        assert_eq!(ErrorDetail::Text("x".into()).render(), "x");
    }
}
