//! Messages built without `core::fmt`: `format!` would bring the formatting
//! machinery (padding, `Display` dispatch, the panic paths it carries) into
//! the wasm, for sentences that are only ever strings and integers.

/// The parts joined into one string.
pub fn cat(parts: &[&str]) -> String {
    parts.concat()
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
    fn decimal_matches_display() {
        for n in [0, 1, 9, 10, 99, 100, 12_345, u64::MAX] {
            assert_eq!(decimal(n), n.to_string());
        }
        for n in [0, -1, 7, -42, i64::MIN, i64::MAX] {
            assert_eq!(signed_decimal(n), n.to_string());
        }
    }
}
