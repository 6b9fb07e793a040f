//! Messages built without `core::fmt`: `format!` would bring the formatting
//! machinery (padding, `Display` dispatch, the panic paths it carries) into
//! the wasm, for sentences that are only ever strings and integers.

/// The parts joined into one string.
pub fn cat(parts: &[&str]) -> String {
    join(parts.iter().copied(), "")
}

/// The parts with `sep` between them. (One loop for every join: std's
/// `concat` and `join` are generic copies per element type.)
pub fn join<'a>(parts: impl IntoIterator<Item = &'a str>, sep: &str) -> String {
    let mut out = String::new();
    for (i, part) in parts.into_iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(part);
    }
    out
}

/// A non-empty run of ASCII digits as a number; `None` for anything else
/// (signs, spaces) or on overflow. What HTTP headers, ports and dates carry,
/// and one routine instead of `str::parse` copied per integer type.
pub fn digits(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.bytes().try_fold(0u64, |n, b| {
        let digit = b.is_ascii_digit().then(|| u64::from(b - b'0'))?;
        n.checked_mul(10)?.checked_add(digit)
    })
}

/// `n` in decimal.
pub fn decimal(mut n: u64) -> String {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // `skip`, not slicing: no index-out-of-range panic path.
    digits.iter().skip(start).map(|&d| char::from(d)).collect()
}

/// `n` in decimal, with a `-` when negative.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub fn signed_decimal(n: i64) -> String {
    let digits = decimal(n.unsigned_abs());
    if n < 0 {
        cat(&["-", &digits])
    } else {
        digits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_reads_only_plain_decimals() {
        assert_eq!(digits("0"), Some(0));
        assert_eq!(digits("0042"), Some(42));
        assert_eq!(digits("18446744073709551615"), Some(u64::MAX));
        for bad in [
            "",
            "+1",
            "-1",
            " 1",
            "1 ",
            "1.5",
            "18446744073709551616",
            "١",
        ] {
            assert_eq!(digits(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn join_puts_sep_only_between() {
        assert_eq!(join([], ", "), "");
        assert_eq!(join(["a"], ", "), "a");
        assert_eq!(join(["a", "", "b"], "-"), "a--b");
        assert_eq!(cat(&["x", "y", "z"]), "xyz");
    }

    #[test]
    fn decimal_matches_display() {
        for n in [0, 1, 9, 10, 99, 100, 12_345, u64::MAX] {
            assert_eq!(decimal(n), n.to_string());
        }
        for n in [0, -1, 7, -42, i64::MIN, i64::MAX] {
            assert_eq!(signed_decimal(n), n.to_string());
        }
    }
}
