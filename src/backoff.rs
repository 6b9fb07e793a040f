//! The delay between requests: exponential backoff with jitter, and the
//! server's `Retry-After`. No clock or RNG inside: callers pass `now_ms` and a
//! uniform random number, so the schedule is testable as plain numbers.

use crate::text::digits;

/// The backoff settings of one wait (validated by `options`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// Delay after the first request, in ms.
    pub initial_ms: f64,
    /// Cap of the exponential part, in ms (`Retry-After` may exceed it).
    pub max_ms: f64,
    /// Growth per request, at least 1.
    pub multiplier: f64,
    /// Fraction of the delay that is randomised, in `0..=1`.
    pub jitter: f64,
}

impl Backoff {
    /// The delay before request `n + 1` after `n >= 1` requests:
    /// `base = min(max, initial * multiplier^(n-1))`, drawn from
    /// `[base * (1 - jitter), base]` by `unit_random` in `[0, 1)`.
    ///
    /// Total: for every `n` and every `unit_random` (NaN and values outside
    /// `[0, 1]` are clamped) the delay is finite and in `[0, max_ms]`.
    pub fn delay_ms(&self, n: u32, unit_random: f64) -> f64 {
        let exponent = n.saturating_sub(1).min(i32::MAX as u32) as i32;
        // `multiplier^exponent` overflows to infinity after enough polls; a zero
        // initial delay must stay 0 then (0 × ∞ is NaN, which `min` would turn
        // into `max_ms`), and a positive one saturates at `max_ms`.
        let base = if self.initial_ms > 0.0 {
            (self.initial_ms * self.multiplier.powi(exponent)).min(self.max_ms)
        } else {
            0.0
        };
        let random = if unit_random.is_nan() {
            0.0
        } else {
            unit_random.clamp(0.0, 1.0)
        };
        let delay = base * (1.0 - self.jitter * random);
        // Already in range for a valid `Backoff`; `max`/`min` also map a NaN to a bound.
        delay.max(0.0).min(self.max_ms)
    }
}

/// Parses a `Retry-After` value (delta-seconds or an HTTP-date) into a delay
/// in ms from `now_ms` (ms since the Unix epoch). Dates in the past give 0;
/// anything unparseable gives `None`, as if the header were absent.
pub fn parse_retry_after(value: &str, now_ms: f64) -> Option<f64> {
    let value = value.trim();
    if let Some(seconds) = digits(value) {
        return Some(seconds as f64 * 1000.0);
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        // All digits but too many for a u64: unparseable, not a date.
        return None;
    }
    http_date_ms(value).map(|at| (at - now_ms).max(0.0))
}

/// Milliseconds since the epoch of an HTTP-date in any of the three forms
/// RFC 9110 accepts: IMF-fixdate, RFC 850 and asctime.
fn http_date_ms(value: &str) -> Option<f64> {
    let tokens: Vec<&str> = value
        .split([' ', ',', '-'])
        .filter(|t| !t.is_empty())
        .collect();
    // Every form starts with a weekday name, which carries no information.
    let rest = tokens.get(1..)?;
    let (day, month, year, time) = match rest {
        // asctime: "Sun Nov  6 08:49:37 1994"
        [month, day, time, year] if month_number(month).is_some() => (day, month, year, time),
        // IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT"
        [day, month, year, time, "GMT"] => (day, month, year, time),
        _ => return None,
    };
    let day = u32::try_from(digits(day)?).ok()?;
    let month = month_number(month)?;
    let year = match (year.len(), i64::try_from(digits(year)?).ok()?) {
        (2, y) if y < 70 => 2000 + y,
        (2, y) => 1900 + y,
        (4, y) => y,
        _ => return None,
    };
    let seconds_of_day = parse_time(time)?;
    if !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some((days * 86_400 + seconds_of_day) as f64 * 1000.0)
}

fn month_number(name: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    MONTHS.iter().position(|m| *m == name).map(|i| i as u32 + 1)
}

/// `hh:mm:ss` as seconds since midnight.
fn parse_time(time: &str) -> Option<i64> {
    let field = |p| digits(p).and_then(|n| i64::try_from(n).ok());
    let mut parts = time.split(':').map(field);
    let (h, m, s) = (parts.next()??, parts.next()??, parts.next()??);
    let valid = parts.next().is_none() && h < 24 && m < 60 && s <= 60;
    // `then`, not `then_some`: the sum must not be computed (and overflow) for
    // out-of-range fields such as an hour of 9999999999999999.
    valid.then(|| h * 3600 + m * 60 + s)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: Backoff = Backoff {
        initial_ms: 1000.0,
        max_ms: 15000.0,
        multiplier: 1.5,
        jitter: 0.2,
    };

    #[test]
    fn grows_by_the_multiplier_up_to_the_cap() {
        let no_jitter = Backoff { jitter: 0.0, ..B };
        let delays: Vec<f64> = (1..=9).map(|n| no_jitter.delay_ms(n, 0.5)).collect();
        assert_eq!(&delays[..4], &[1000.0, 1500.0, 2250.0, 3375.0]);
        assert_eq!(delays[8], 15000.0);
        assert_eq!(no_jitter.delay_ms(u32::MAX, 0.0), 15000.0);
    }

    #[test]
    fn jitter_draws_from_the_lower_band() {
        assert_eq!(B.delay_ms(1, 0.0), 1000.0);
        assert_eq!(B.delay_ms(1, 1.0), 800.0);
        assert_eq!(B.delay_ms(1, 0.5), 900.0);
        let full = Backoff { jitter: 1.0, ..B };
        assert_eq!(full.delay_ms(2, 1.0), 0.0);
    }

    #[test]
    fn zero_initial_delay_polls_back_to_back() {
        let zero = Backoff {
            initial_ms: 0.0,
            ..B
        };
        assert_eq!(zero.delay_ms(5, 0.3), 0.0);
    }

    #[test]
    fn delay_is_total_for_huge_attempt_numbers() {
        // 0 × 2^1099 used to be NaN here, which `min` turned into `max_ms`.
        let zero = Backoff {
            initial_ms: 0.0,
            max_ms: 15000.0,
            multiplier: 2.0,
            jitter: 0.0,
        };
        assert_eq!(zero.delay_ms(1100, 0.5), 0.0);
        assert_eq!(zero.delay_ms(u32::MAX, 0.5), 0.0);
        let fast = Backoff {
            initial_ms: 1.0,
            max_ms: 15000.0,
            multiplier: 10.0,
            jitter: 0.0,
        };
        assert_eq!(fast.delay_ms(400, 0.0), 15000.0);
        assert_eq!(fast.delay_ms(u32::MAX, 0.0), 15000.0);
        // Randoms outside [0, 1) are clamped, NaN counts as 0.
        assert_eq!(B.delay_ms(1, f64::NAN), 1000.0);
        assert_eq!(B.delay_ms(1, -3.0), 1000.0);
        assert_eq!(B.delay_ms(1, 7.0), 800.0);
        assert_eq!(B.delay_ms(1, f64::INFINITY), 800.0);
    }

    #[test]
    fn retry_after_with_huge_time_fields_is_ignored() {
        for bad in [
            "Sun, 06 Nov 1994 9999999999999999:00:00 GMT",
            "Sun, 06 Nov 1994 00:9999999999999999999:00 GMT",
            "Sun Nov  6 08:49:9223372036854775807 1994",
        ] {
            assert_eq!(parse_retry_after(bad, 0.0), None, "{bad}");
        }
    }

    #[test]
    fn retry_after_in_seconds() {
        assert_eq!(parse_retry_after("3", 0.0), Some(3000.0));
        assert_eq!(parse_retry_after(" 0 ", 0.0), Some(0.0));
        assert_eq!(parse_retry_after("-1", 0.0), None);
        assert_eq!(parse_retry_after("1.5", 0.0), None);
        assert_eq!(parse_retry_after("", 0.0), None);
        assert_eq!(parse_retry_after("soon", 0.0), None);
    }

    #[test]
    fn retry_after_as_an_http_date() {
        // 1994-11-06T08:49:37Z
        let at = 784_111_777_000.0;
        for form in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(parse_retry_after(form, at - 2500.0), Some(2500.0), "{form}");
        }
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", at + 1.0),
            Some(0.0)
        );
        assert_eq!(
            parse_retry_after("Wed, 01 Jan 2025 00:00:00 GMT", 1_735_689_600_000.0),
            Some(0.0)
        );
        assert_eq!(
            parse_retry_after("Sat, 29 Feb 2020 00:00:01 GMT", 1_582_934_400_000.0),
            Some(1000.0)
        );
    }

    #[test]
    fn malformed_dates_are_ignored() {
        for bad in [
            "Sun, 06 Nov 1994 08:49:37 PST",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 25:49:37 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "06 Nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(parse_retry_after(bad, 0.0), None, "{bad}");
        }
    }
}
