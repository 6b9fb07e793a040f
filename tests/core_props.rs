//! Property tests of the pure core (backoff, Retry-After, options, job URLs,
//! the origin rule, statuses) through the crate's public API, on the host.
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use proptest::test_runner::Config;
use pulse_jobs::backoff::{parse_retry_after, Backoff};
use pulse_jobs::error::{Error, ErrorCode};
use pulse_jobs::options::{validate_job_id, Options};
use pulse_jobs::status::{is_expired_url, is_success, is_transient_http, reported, JobStatus};
use pulse_jobs::url::{result_url, BaseUrl};

/// 256 cases per property (`PROPTEST_CASES` overrides), and no regression
/// files written into the tree.
fn config() -> Config {
    Config {
        failure_persistence: None,
        ..Config::default()
    }
}

// ---------------------------------------------------------------- strategies

/// Every finite f64 >= 0 (zero, subnormals, normals up to `f64::MAX`), with
/// the usual sizes of a delay well represented.
fn non_negative() -> impl Strategy<Value = f64> {
    use proptest::num::f64::{NORMAL, POSITIVE, SUBNORMAL, ZERO};
    prop_oneof![
        2 => Just(0.0),
        4 => 0.0..100_000.0f64,
        2 => POSITIVE | NORMAL | SUBNORMAL | ZERO,
    ]
}

/// Valid backoff settings: `initial >= 0`, `max >= initial`, `multiplier >= 1`,
/// `jitter` in `0..=1`, all finite.
fn backoff() -> impl Strategy<Value = Backoff> {
    let multiplier = prop_oneof![
        2 => Just(1.0),
        1 => (1u64..64).prop_map(|ulps| f64::from_bits(1.0f64.to_bits() + ulps)),
        4 => 1.0..3.0f64,
        1 => 1.0..1e6f64,
        1 => non_negative().prop_map(|x| (1.0 + x).min(f64::MAX)),
    ];
    let jitter = prop_oneof![Just(0.0), Just(1.0), 0.0..=1.0f64];
    (non_negative(), non_negative(), multiplier, jitter).prop_map(
        |(initial_ms, extra, multiplier, jitter)| Backoff {
            initial_ms,
            max_ms: (initial_ms + extra).min(f64::MAX),
            multiplier,
            jitter,
        },
    )
}

/// Attempt numbers: small ones, the ~1000 polls of a long wait, any u32, the ends.
fn attempt() -> impl Strategy<Value = u32> {
    prop_oneof![
        3 => 0u32..20,
        2 => 900u32..5000,
        3 => any::<u32>(),
        1 => Just(u32::MAX),
        1 => Just(0u32),
    ]
}

/// What `Math.random()` gives, plus what a broken source could give.
fn unit_random() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => 0.0..1.0f64,
        1 => Just(0.0),
        1 => Just(1.0 - f64::EPSILON / 2.0),
        2 => proptest::num::f64::ANY,
    ]
}

/// Characters that stress validation: printable ASCII, C0/C1 controls, DEL,
/// Latin-1, the BMP above U+00FF, astral planes, URL delimiters, Unicode spaces.
fn wild_char() -> impl Strategy<Value = char> {
    prop_oneof![
        6 => proptest::char::range(' ', '~'),
        1 => proptest::char::range('\0', '\u{1f}'),
        1 => Just('\u{7f}'),
        1 => proptest::char::range('\u{80}', '\u{9f}'),
        1 => proptest::char::range('\u{a0}', '\u{ff}'),
        1 => proptest::char::range('\u{100}', '\u{d7ff}'),
        1 => proptest::char::range('\u{e000}', '\u{10ffff}'),
        2 => prop::sample::select(vec![
            '/', '?', '#', '%', '.', '\\', '@', ':', ' ', '\t', '\n', '\u{a0}', '\u{2028}',
            '\u{3000}', '\u{feff}', '\u{200b}', 'é', 'ß', '😀', '[', ']',
        ]),
    ]
}

fn wild_string(len: std::ops::Range<usize>) -> impl Strategy<Value = String> {
    prop::collection::vec(wild_char(), len).prop_map(|chars| chars.into_iter().collect())
}

/// A number option as `Options` may hold it: finite, non-finite, or absent.
fn number_option() -> impl Strategy<Value = Option<f64>> {
    prop::option::of(prop_oneof![
        3 => -10.0..100_000.0f64,
        1 => (-3i32..10).prop_map(f64::from),
        1 => 0.0..=1.0f64,
        1 => prop::sample::select(vec![
            0.0, -0.0, 1.0, 1.5, -1.0, f64::MAX, f64::MIN_POSITIVE, f64::INFINITY,
            f64::NEG_INFINITY, f64::NAN, 4_294_967_295.0, 4_294_967_296.0, 1e300,
        ]),
        1 => proptest::num::f64::ANY,
    ])
}

// ---------------------------------------------------------------- backoff

proptest! {
    #![proptest_config(config())]

    /// Total: finite, >= 0, <= max for any attempt number and any random.
    #[test]
    fn delay_is_finite_and_within_0_and_max(b in backoff(), n in attempt(), r in unit_random()) {
        let d = b.delay_ms(n, r);
        prop_assert!(d.is_finite(), "{b:?} n={n} r={r}: {d}");
        prop_assert!(d >= 0.0, "{b:?} n={n} r={r}: {d}");
        prop_assert!(d <= b.max_ms, "{b:?} n={n} r={r}: {d}");
    }

    /// The documented schedule: base = min(max, initial * multiplier^(n-1)),
    /// delay drawn from [base * (1 - jitter), base]; attempt 0 counts as 1.
    #[test]
    fn delay_follows_the_schedule(b in backoff(), n in 0u32..200, r in 0.0..1.0f64) {
        let base = Backoff { jitter: 0.0, ..b }.delay_ms(n, r);
        let exponent = f64::from(n.max(1) - 1);
        // initial × multiplier^k, where 0 × anything (even an overflowed ∞) is 0.
        let expected = if b.initial_ms == 0.0 {
            0.0
        } else {
            (b.initial_ms * b.multiplier.powf(exponent)).min(b.max_ms)
        };
        // Both products may round differently (or overflow at different n).
        let tolerance = 1e-9 * expected.max(base) + 1e-300;
        prop_assert!((base - expected).abs() <= tolerance, "{b:?} n={n}: {base} vs {expected}");
        let d = b.delay_ms(n, r);
        prop_assert!(d <= base, "{b:?} n={n} r={r}: {d} > base {base}");
        let low = base * (1.0 - b.jitter);
        prop_assert!(d >= low - 1e-9 * base, "{b:?} n={n} r={r}: {d} < {low}");
        prop_assert_eq!(b.delay_ms(0, r), b.delay_ms(1, r));
    }

    /// Without jitter the delay never shrinks as the attempts go up.
    #[test]
    fn base_is_monotone(b in backoff(), n1 in attempt(), n2 in attempt(), r in unit_random()) {
        let b = Backoff { jitter: 0.0, ..b };
        let (lo, hi) = (n1.min(n2), n1.max(n2));
        let (d_lo, d_hi) = (b.delay_ms(lo, r), b.delay_ms(hi, r));
        prop_assert!(d_lo <= d_hi, "{b:?}: n={lo} gives {d_lo} > n={hi} gives {d_hi}");
        let next = b.delay_ms(lo.saturating_add(1), r);
        prop_assert!(d_lo <= next, "{b:?}: n={lo} gives {d_lo} > next {next}");
    }
}

// ---------------------------------------------------------------- Retry-After

/// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const WEEKDAYS_LONG: [&str; 7] = [
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The three HTTP-date forms of a time in whole seconds since the epoch.
fn http_dates(seconds: i64) -> [String; 3] {
    let days = seconds.div_euclid(86_400);
    let sod = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let weekday = days.rem_euclid(7) as usize;
    let (h, m, s) = (sod / 3600, sod / 60 % 60, sod % 60);
    let mon = MONTHS[month as usize - 1];
    [
        format!(
            "{}, {day:02} {mon} {year:04} {h:02}:{m:02}:{s:02} GMT",
            WEEKDAYS[weekday]
        ),
        format!(
            "{}, {day:02}-{mon}-{:02} {h:02}:{m:02}:{s:02} GMT",
            WEEKDAYS_LONG[weekday],
            year % 100
        ),
        format!(
            "{} {mon} {day:>2} {h:02}:{m:02}:{s:02} {year:04}",
            WEEKDAYS[weekday]
        ),
    ]
}

/// A numeric field of a date: mostly plausible, sometimes any digit string
/// (far past i64), sometimes signed.
fn date_field(plausible: std::ops::Range<u32>, width: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        4 => plausible.prop_map(move |v| format!("{v:0width$}")),
        2 => "[0-9]{1,25}",
        1 => "[+-]?[0-9]{1,20}",
        1 => wild_string(0..4),
    ]
}

/// Strings shaped like the three date forms with hostile fields.
fn date_like() -> impl Strategy<Value = String> {
    let month = prop_oneof![
        4 => prop::sample::select(MONTHS.to_vec()).prop_map(String::from),
        1 => wild_string(0..4),
    ];
    (
        0usize..3,
        prop::sample::select(WEEKDAYS.to_vec()),
        date_field(1..32, 2),
        month,
        prop_oneof![date_field(1000..10000, 4), date_field(0..100, 2)],
        date_field(0..24, 2),
        date_field(0..60, 2),
        date_field(0..61, 2),
        prop_oneof![4 => Just("GMT".to_string()), 1 => wild_string(0..4)],
    )
        .prop_map(|(form, wd, d, mon, y, h, m, s, zone)| match form {
            0 => format!("{wd}, {d} {mon} {y} {h}:{m}:{s} {zone}"),
            1 => format!("{wd}day, {d}-{mon}-{y} {h}:{m}:{s} {zone}"),
            _ => format!("{wd} {mon} {d} {h}:{m}:{s} {y}"),
        })
}

fn now_ms() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => 0.0..253_402_300_800_000.0f64,
        1 => 1_600_000_000_000.0..1_900_000_000_000.0f64,
        1 => Just(0.0),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// Never panics; whatever it returns is a finite delay >= 0.
    #[test]
    fn retry_after_never_panics(
        value in prop_oneof![any::<String>(), wild_string(0..40), date_like()],
        now in prop_oneof![now_ms(), proptest::num::f64::ANY],
    ) {
        if let Some(ms) = parse_retry_after(&value, now) {
            // Unless `now` itself is NaN/infinite, the delay is a real number.
            if now.is_finite() {
                prop_assert!(ms.is_finite() && ms >= 0.0, "{value:?} at {now}: {ms}");
            }
            // Never negative, and never NaN (even with a NaN `now`).
            prop_assert!(ms >= 0.0, "{value:?} at {now}: {ms}");
        }
    }

    /// Dates with hostile numeric fields: no panic (no overflow), and an
    /// accepted one is a finite delay >= 0.
    #[test]
    fn retry_after_dates_with_hostile_fields(value in date_like(), now in now_ms()) {
        if let Some(ms) = parse_retry_after(&value, now) {
            prop_assert!(ms.is_finite() && ms >= 0.0, "{value:?} at {now}: {ms}");
        }
    }

    /// delta-seconds: any digit string is seconds * 1000, or None past u64.
    #[test]
    fn retry_after_digits_are_seconds(
        digits in "[0-9]{1,30}",
        pad in prop::sample::select(vec![("", ""), (" ", ""), ("", "  "), ("\t", " ")]),
        now in now_ms(),
    ) {
        let value = format!("{}{digits}{}", pad.0, pad.1);
        let seconds: u128 = digits.parse().unwrap();
        let expected = u64::try_from(seconds).ok().map(|s| s as f64 * 1000.0);
        let got = parse_retry_after(&value, now);
        prop_assert_eq!(got, expected, "{:?}", value);
        if let Some(ms) = got {
            prop_assert!(ms >= 0.0 && ms.is_finite());
        }
    }

    /// An IMF-fixdate of a random time gives (t - now).max(0), within the
    /// second the date format drops. The two obsolete forms agree with it.
    #[test]
    fn retry_after_http_date_round_trips(
        t_ms in -62_135_596_800_000i64..253_402_300_800_000,
        now in now_ms(),
    ) {
        let seconds = t_ms.div_euclid(1000);
        let [imf, rfc850, asctime] = http_dates(seconds);
        let got = parse_retry_after(&imf, now);
        let whole = (seconds as f64 * 1000.0 - now).max(0.0);
        prop_assert_eq!(got, Some(whole), "{}", imf);
        let exact = (t_ms as f64 - now).max(0.0);
        prop_assert!((whole - exact).abs() <= 1000.0, "{imf}: {whole} vs {exact}");
        prop_assert_eq!(parse_retry_after(&asctime, now), Some(whole), "{}", asctime);
        // RFC 850's two-digit year means 1970..=2069.
        if (0..3_155_760_000).contains(&seconds) {
            prop_assert_eq!(parse_retry_after(&rfc850, now), Some(whole), "{}", rfc850);
        }
    }
}

// ---------------------------------------------------------------- options

fn options_with_numbers() -> impl Strategy<Value = Options> {
    (
        (number_option(), number_option(), number_option()),
        (number_option(), number_option(), number_option()),
        (
            number_option(),
            number_option(),
            prop::option::of(any::<bool>()),
        ),
    )
        .prop_map(
            |((rt, initial, max), (mult, jitter, timeout), (retries, bytes, dl))| Options {
                request_timeout_ms: rt,
                initial_delay_ms: initial,
                max_delay_ms: max,
                multiplier: mult,
                jitter,
                timeout_ms: timeout,
                max_retries: retries,
                max_result_bytes: bytes,
                download_result: dl,
                ..Options::default()
            },
        )
}

/// The field `wait_policy` must name, from docs/contract.md's rules (finite numbers
/// only: `bindings` already refuses non-finite ones, the core must too), in
/// the order the fields are checked; `None` when all are valid.
fn first_invalid_wait_field(o: &Options) -> Option<&'static str> {
    let initial = o.initial_delay_ms.unwrap_or(1000.0);
    if !(initial.is_finite() && initial >= 0.0) {
        return Some("initialDelayMs");
    }
    let max = o.max_delay_ms.unwrap_or(initial.max(15000.0));
    if !(max.is_finite() && max >= initial) {
        return Some("maxDelayMs");
    }
    let mult = o.multiplier.unwrap_or(1.5);
    if !(mult.is_finite() && mult >= 1.0) {
        return Some("multiplier");
    }
    let jitter = o.jitter.unwrap_or(0.2);
    if !(0.0..=1.0).contains(&jitter) {
        return Some("jitter");
    }
    let timeout = o.timeout_ms.unwrap_or(1_800_000.0);
    if !(timeout.is_finite() && timeout >= 0.0) {
        return Some("timeoutMs");
    }
    let retries = o.max_retries.unwrap_or(5.0);
    if !(retries.is_finite() && retries >= 0.0 && retries.trunc() == retries) {
        return Some("maxRetries");
    }
    match o.max_result_bytes {
        Some(bytes) if !(bytes.is_finite() && bytes > 0.0) => Some("maxResultBytes"),
        _ => None,
    }
}

fn assert_invalid_argument(err: &Error, field: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(err.code, ErrorCode::InvalidArgument, "{}", err.message);
    let named = format!("options.{field}");
    prop_assert!(
        err.message.contains(&named),
        "expected {named} in {:?}",
        err.message
    );
    Ok(())
}

/// Header names: valid tokens (x-api-key in any case among them) and invalid ones.
fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}",
        1 => prop::sample::select(vec!["x-api-key", "X-Api-Key", "X-API-KEY"]).prop_map(String::from),
        1 => wild_string(0..8),
    ]
}

/// Secret values: valid Latin-1 text or text with controls / chars above U+00FF.
fn secret() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => "[ -~\u{a0}-\u{ff}]{4,16}",
        3 => wild_string(4..16),
    ]
}

fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn is_field_value(value: &str) -> bool {
    value
        .chars()
        .all(|c| u32::from(c) <= 0xFF && !c.is_control())
}

proptest! {
    #![proptest_config(config())]

    /// A returned policy is valid (and so gives a total backoff); an error is
    /// INVALID_ARGUMENT naming the first field out of range.
    #[test]
    fn wait_policy_is_valid_or_names_the_field(o in options_with_numbers(), n in attempt(), r in unit_random()) {
        match (o.wait_policy(), first_invalid_wait_field(&o)) {
            (Ok(p), None) => {
                let b = p.backoff;
                prop_assert!(b.initial_ms.is_finite() && b.initial_ms >= 0.0, "{p:?}");
                prop_assert!(b.max_ms.is_finite() && b.max_ms >= b.initial_ms, "{p:?}");
                prop_assert!(b.multiplier.is_finite() && b.multiplier >= 1.0, "{p:?}");
                prop_assert!((0.0..=1.0).contains(&b.jitter), "{p:?}");
                prop_assert!(p.timeout_ms.is_none_or(|t| t.is_finite() && t > 0.0), "{p:?}");
                prop_assert!(p.max_result_bytes.is_none_or(|m| m.is_finite() && m > 0.0), "{p:?}");
                prop_assert_eq!(p.timeout_ms.is_none(), o.timeout_ms == Some(0.0));
                prop_assert_eq!(p.download_result, o.download_result.unwrap_or(true));
                let retries = o.max_retries.unwrap_or(5.0);
                prop_assert_eq!(f64::from(p.max_retries), retries.min(f64::from(u32::MAX)));
                for (given, used) in [
                    (o.initial_delay_ms, b.initial_ms),
                    (o.max_delay_ms, b.max_ms),
                    (o.multiplier, b.multiplier),
                    (o.jitter, b.jitter),
                ] {
                    if let Some(given) = given {
                        prop_assert_eq!(given, used);
                    }
                }
                let d = b.delay_ms(n, r);
                prop_assert!(d.is_finite() && d >= 0.0 && d <= b.max_ms, "{p:?} n={n}: {d}");
            }
            (Err(e), Some(field)) => assert_invalid_argument(&e, field)?,
            (got, expected) => prop_assert!(false, "{o:?}: got {got:?}, expected error on {expected:?}"),
        }
    }

    /// requestTimeoutMs: a finite number above 0, default 30000.
    #[test]
    fn request_timeout_is_positive_or_named(o in options_with_numbers()) {
        match o.request_timeout_ms() {
            Ok(ms) => {
                prop_assert!(ms.is_finite() && ms > 0.0, "{o:?}: {ms}");
                prop_assert_eq!(ms, o.request_timeout_ms.unwrap_or(30_000.0));
            }
            Err(e) => {
                let given = o.request_timeout_ms.unwrap();
                prop_assert!(!(given.is_finite() && given > 0.0), "{given} refused");
                assert_invalid_argument(&e, "requestTimeoutMs")?;
            }
        }
    }

    /// `endpoint()` accepts exactly valid names/values/keys, puts the key last
    /// as the only x-api-key, and no error message ever shows a key or a value.
    #[test]
    fn endpoint_never_leaks_secrets(
        api_key in prop::option::of(prop_oneof![5 => secret(), 1 => Just(String::new())]),
        headers in prop::collection::vec((header_name(), secret()), 0..4),
        base_url in prop::option::of(prop::sample::select(vec![
            "https://api.runpulse.com", "http://127.0.0.1:8080/api/", "not a url",
            "https://user@api.runpulse.com",
        ])),
    ) {
        let o = Options {
            api_key: api_key.clone(),
            headers: headers.clone(),
            base_url: base_url.map(String::from),
            ..Options::default()
        };
        let base_ok = !matches!(base_url, Some("not a url" | "https://user@api.runpulse.com"));
        let key_ok = api_key.as_deref().is_none_or(|k| !k.is_empty() && is_field_value(k));
        let headers_ok = headers.iter().all(|(n, v)| is_token(n) && is_field_value(v));
        match o.endpoint() {
            Ok(ep) => {
                prop_assert!(base_ok && key_ok && headers_ok, "{o:?} accepted");
                for (name, value) in &ep.headers {
                    prop_assert!(is_token(name) && is_field_value(value), "{name:?}: {value:?}");
                }
                let keys: Vec<_> = ep.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("x-api-key")).collect();
                if let Some(key) = &api_key {
                    prop_assert_eq!(keys.len(), 1);
                    prop_assert_eq!(ep.headers.last(), Some(&("x-api-key".to_string(), key.clone())));
                }
            }
            Err(e) => {
                prop_assert!(!(base_ok && key_ok && headers_ok), "{o:?} refused: {e:?}");
                prop_assert_eq!(e.code, ErrorCode::InvalidArgument);
                prop_assert!(
                    ["options.baseUrl", "options.headers", "options.apiKey"]
                        .iter()
                        .any(|f| e.message.contains(f)),
                    "{}", e.message
                );
                let names: Vec<&str> = headers.iter().map(|(n, _)| n.as_str()).collect();
                let secrets = api_key.iter().chain(headers.iter().map(|(_, v)| v));
                for s in secrets {
                    // A value that is also part of a (public) header name may show.
                    if s.is_empty() || names.iter().any(|n| n.contains(s.as_str())) {
                        continue;
                    }
                    prop_assert!(!e.message.contains(s.as_str()), "{s:?} leaked in {:?}", e.message);
                }
            }
        }
    }
}

// ---------------------------------------------------------------- job ids

fn job_id() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => wild_string(0..40),
        2 => any::<String>(),
        2 => "[A-Za-z0-9._~-]{1,20}",
        1 => prop::sample::select(vec![".", "..", "...", "%", "%2e", "%2E%2e", "a/../b", " "]).prop_map(String::from),
        1 => (250usize..=260).prop_map(|n| "x".repeat(n)),
        1 => (126usize..=130, any::<bool>()).prop_map(|(n, end)| {
            let mut id = "😀".repeat(n);
            if end { id.push('é') }
            id
        }),
    ]
}

/// Percent-decoding; None on a malformed escape or invalid UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

proptest! {
    #![proptest_config(config())]

    /// Accepted ids are exactly the documented ones, and each becomes exactly
    /// one path segment after `/job/` that decodes back to the id.
    #[test]
    fn job_id_is_one_segment(
        id in job_id(),
        base in prop::sample::select(vec![
            "https://api.runpulse.com", "http://127.0.0.1:8080/api/", "https://h/x//",
        ]),
    ) {
        let expected_ok = !id.is_empty()
            && id.encode_utf16().count() <= 256
            && !id.chars().any(char::is_control)
            && id != "."
            && id != "..";
        match validate_job_id(&id) {
            Err(e) => {
                prop_assert!(!expected_ok, "{id:?} refused: {e:?}");
                prop_assert_eq!(e.code, ErrorCode::InvalidArgument);
                prop_assert!(e.message.starts_with("jobId "), "{}", e.message);
            }
            Ok(()) => {
                prop_assert!(expected_ok, "{id:?} accepted");
                let url = BaseUrl::parse(base).unwrap().job_url(&id);
                let prefix = format!("{}/job/", base.trim_end_matches('/'));
                prop_assert!(url.starts_with(&prefix), "{url}");
                let segment = &url[prefix.len()..];
                prop_assert!(!segment.is_empty() && segment != "." && segment != "..", "{segment}");
                for (i, c) in segment.char_indices() {
                    prop_assert!(!matches!(c, '/' | '?' | '#' | '\\'), "{c:?} in {segment}");
                    prop_assert!(!c.is_control() && !c.is_whitespace(), "{c:?} in {segment}");
                    prop_assert!(c.is_ascii(), "{c:?} in {segment}");
                    if c == '%' {
                        let hex = segment.get(i + 1..i + 3).unwrap_or("");
                        prop_assert!(
                            hex.len() == 2 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
                            "bad escape at {i} in {segment}"
                        );
                    }
                }
                prop_assert_eq!(percent_decode(segment), Some(id.clone()));
            }
        }
    }
}

// ---------------------------------------------------------------- URLs

/// The origin a browser computes for the URLs built below: (https, host, port).
type ModelOrigin = (bool, String, u16);

const HOSTS: [&str; 5] = [
    "api.runpulse.com",
    "127.0.0.1",
    "[::1]",
    "api.runpulse.com.evil.example",
    "bucket.s3.amazonaws.com",
];

/// Clean absolute http(s) URLs over a few hosts (random case, explicit or
/// default ports, leading zeros), with the origin they have.
fn clean_url(query: bool) -> impl Strategy<Value = (String, ModelOrigin)> {
    let tail = if query {
        "(/[A-Za-z0-9._~%!$&'()*+,;=:@-]{0,10}){0,3}(\\?[A-Za-z0-9=&%@:/?.]{0,12})?(#[A-Za-z0-9@/?#:]{0,8})?"
    } else {
        "(/[A-Za-z0-9._~%!$&'()*+,;=:@-]{0,10}){0,3}"
    };
    (
        prop::sample::select(vec!["http", "https", "HTTP", "HTTPS", "hTTps", "Http"]),
        prop::sample::select(HOSTS.to_vec()),
        any::<u64>(),
        prop::option::of((
            prop::sample::select(vec![0u16, 80, 443, 4000, 8443, 65535]),
            0usize..3,
        )),
        tail,
    )
        .prop_map(|(scheme, host, mask, port, tail)| {
            let cased: String = host
                .chars()
                .enumerate()
                .map(|(i, c)| {
                    if mask >> (i % 64) & 1 == 1 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect();
            let https = scheme.eq_ignore_ascii_case("https");
            let (port_text, port) = match port {
                Some((p, zeros)) => (format!(":{}{p}", "0".repeat(zeros)), p),
                None => (String::new(), if https { 443 } else { 80 }),
            };
            (
                format!("{scheme}://{cased}{port_text}{tail}"),
                (https, host.to_string(), port),
            )
        })
}

/// Userinfo, a backslash, white space or a control character put into a URL.
fn tainted(url: String, kind: usize, at: usize, c: char) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    match kind {
        0 => format!("{scheme}://user@{rest}"),
        1 => format!("{scheme}://user:pw@{rest}"),
        2 => {
            // "@" right after the host: "https://api.runpulse.com@evil.example/"
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            format!("{scheme}://{}@evil.example{}", &rest[..end], &rest[end..])
        }
        _ => {
            let mut chars: Vec<char> = url.chars().collect();
            let at = at % (chars.len() + 1);
            chars.insert(at, c);
            chars.into_iter().collect()
        }
    }
}

fn bad_char() -> impl Strategy<Value = char> {
    prop_oneof![
        Just('\\'),
        prop::sample::select(vec![
            ' ', '\t', '\n', '\r', '\u{b}', '\u{c}', '\u{a0}', '\u{85}', '\u{2028}', '\u{3000}',
            '\u{2003}'
        ]),
        proptest::char::range('\0', '\u{1f}'),
        Just('\u{7f}'),
    ]
}

/// Fragments that make parser-confusing strings more likely than chance.
fn url_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            prop::sample::select(vec![
                "http",
                "https",
                "HTTPS",
                "://",
                ":/",
                "//",
                "/",
                "\\",
                "@",
                ":",
                "[",
                "]",
                "::1",
                "?",
                "#",
                "%",
                "%40",
                "443",
                "80",
                "0",
                "api.runpulse.com",
                "127.0.0.1",
                ".",
                "evil.example",
                " ",
                "\t",
                "é",
                "user",
                "",
                "\u{ff0f}",
                "\u{3002}",
            ])
            .prop_map(String::from),
            wild_string(0..3),
        ],
        0..10,
    )
    .prop_map(|parts| parts.concat())
}

/// Whether `url` is, by an independent reading, on the origin `base`: same
/// scheme, no userinfo, and an authority that is the host (any case) plus
/// the port, written or default.
fn plainly_same_origin(url: &str, base: &ModelOrigin) -> bool {
    if url
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return false;
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    if scheme.eq_ignore_ascii_case("https") != base.0
        || !(scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http"))
    {
        return false;
    }
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let authority = authority.to_ascii_lowercase();
    let Some(after_host) = authority.strip_prefix(&base.1) else {
        return false;
    };
    let default = if base.0 { 443 } else { 80 };
    match after_host.strip_prefix(':') {
        None => after_host.is_empty() && base.2 == default,
        Some(port) => {
            !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
                && port.parse::<u16>().ok() == Some(base.2)
        }
    }
}

proptest! {
    #![proptest_config(config())]

    /// Clean URLs: same_origin exactly when scheme, host (any case) and port
    /// (defaults applied) match; an http URL under an https base is refused.
    #[test]
    fn origin_rule_on_clean_urls((base_text, base_origin) in clean_url(false), (url, origin) in clean_url(true)) {
        let base = BaseUrl::parse(&base_text).unwrap();
        prop_assert_eq!(base.is_https(), base_origin.0);
        match result_url(&base, &url) {
            Ok(r) => {
                // Accepted: not an http URL under an https base.
                prop_assert!(!base_origin.0 || origin.0, "{url} under {base_text} accepted");
                prop_assert_eq!(&r.url, &url);
                prop_assert_eq!(r.same_origin, origin == base_origin, "{} under {}", url, base_text);
            }
            Err(e) => {
                prop_assert!(base_origin.0 && !origin.0, "{url} under {base_text}: {e:?}");
                prop_assert_eq!(e.code, ErrorCode::InvalidResponse);
                prop_assert!(!e.message.contains("://"), "URL in {:?}", e.message);
            }
        }
        // Base URLs compare the same way.
        let has_query = url.contains(['?', '#']);
        match BaseUrl::parse(&url) {
            Ok(other) => {
                prop_assert!(!has_query, "{url} accepted as a base");
                prop_assert_eq!(other.origin() == base.origin(), origin == base_origin);
            }
            Err(e) => {
                prop_assert!(has_query, "{url} refused as a base: {e:?}");
                prop_assert_eq!(e.code, ErrorCode::InvalidArgument);
            }
        }
    }

    /// The same origin written differently (scheme/host case, explicit default
    /// port, leading zeros) is still the same origin; the API's own
    /// `{baseUrl}/large_results/{id}` link always is.
    #[test]
    fn same_origin_spellings((base_text, base_origin) in clean_url(false), upper in any::<u64>(), explicit in any::<bool>(), zeros in 0usize..3, path in "(/[a-z0-9._-]{0,8}){0,2}") {
        let base = BaseUrl::parse(&base_text).unwrap();
        let (https, host, port) = &base_origin;
        let scheme: String = (if *https { "https" } else { "http" })
            .chars().enumerate()
            .map(|(i, c)| if upper >> i & 1 == 1 { c.to_ascii_uppercase() } else { c })
            .collect();
        let host: String = host.chars().enumerate()
            .map(|(i, c)| if upper >> (i + 8) & 1 == 1 { c.to_ascii_uppercase() } else { c })
            .collect();
        let default = if *https { 443 } else { 80 };
        let port_text = if explicit || *port != default {
            format!(":{}{port}", "0".repeat(zeros))
        } else {
            String::new()
        };
        let url = format!("{scheme}://{host}{port_text}{path}?sig=x");
        let r = result_url(&base, &url).unwrap();
        prop_assert!(r.same_origin, "{url} under {base_text}");
        let link = format!("{}/large_results/j1", base_text.trim_end_matches('/'));
        prop_assert!(result_url(&base, &link).unwrap().same_origin, "{link}");
    }

    /// Userinfo, backslashes, white space and control characters: never the
    /// same origin, never a base URL.
    #[test]
    fn tainted_urls_are_never_same_origin(
        (base_text, _) in clean_url(false),
        (url, _) in clean_url(true),
        kind in 0usize..6,
        at in any::<usize>(),
        c in bad_char(),
    ) {
        let base = BaseUrl::parse(&base_text).unwrap();
        let url = tainted(url, kind, at, c);
        match result_url(&base, &url) {
            Ok(r) => prop_assert!(!r.same_origin, "{url:?} same origin as {base_text}"),
            Err(e) => prop_assert_eq!(e.code, ErrorCode::InvalidResponse),
        }
        prop_assert!(BaseUrl::parse(&url).is_err(), "{url:?} accepted as a base");
        // The same taint in the base URL itself.
        prop_assert!(BaseUrl::parse(&tainted(base_text, kind, at, c)).is_err());
    }

    /// With an https base, anything that starts with http:// is refused.
    #[test]
    fn https_base_refuses_http(
        (base_text, _) in clean_url(false),
        scheme in prop::sample::select(vec!["http", "HTTP", "Http", "hTTP"]),
        rest in prop_oneof![wild_string(0..30), url_soup(), any::<String>()],
    ) {
        // The same clean URLs, made https.
        let base_text = format!("https://{}", base_text.split_once("://").unwrap().1);
        let base = BaseUrl::parse(&base_text).unwrap();
        prop_assert!(base.is_https());
        let url = format!("{scheme}://{rest}");
        let err = result_url(&base, &url).unwrap_err();
        prop_assert_eq!(err.code, ErrorCode::InvalidResponse);
    }

    /// Arbitrary input: no panic; errors have the right code; whatever is
    /// called same-origin is so by an independent reading; an accepted base
    /// gives job URLs under itself.
    #[test]
    fn urls_never_panic(
        (base_text, base_origin) in clean_url(false),
        text in prop_oneof![url_soup(), wild_string(0..40), any::<String>()],
        prefix in prop::sample::select(vec!["", "https://", "http://", "HTTPS://api.runpulse.com", "http://127.0.0.1"]),
    ) {
        let text = format!("{prefix}{text}");
        match BaseUrl::parse(&text) {
            Ok(parsed) => {
                let job = parsed.job_url("j1");
                prop_assert_eq!(job, format!("{}/job/j1", text.trim_end_matches('/')));
                let link = format!("{}/large_results/j1", text.trim_end_matches('/'));
                prop_assert!(result_url(&parsed, &link).is_ok_and(|r| r.same_origin), "{link:?}");
            }
            Err(e) => {
                prop_assert_eq!(e.code, ErrorCode::InvalidArgument);
                prop_assert!(e.message.contains("options.baseUrl"));
            }
        }
        let base = BaseUrl::parse(&base_text).unwrap();
        match result_url(&base, &text) {
            Ok(r) => {
                if r.same_origin {
                    prop_assert!(plainly_same_origin(&text, &base_origin), "{text:?} same origin as {base_text}");
                }
            }
            Err(e) => prop_assert_eq!(e.code, ErrorCode::InvalidResponse),
        }
    }
}

// ---------------------------------------------------------------- statuses

proptest! {
    #![proptest_config(config())]

    /// Only the documented spellings are known; `reported` only renames
    /// `cancelled`; unknown statuses are never terminal.
    #[test]
    fn job_status_spellings(s in prop_oneof![
        any::<String>(),
        "[a-z]{0,10}",
        prop::sample::select(vec!["pending", "processing", "completed", "failed", "canceled",
            "cancelled", "expired", "Completed", "completed ", "CANCELLED"]).prop_map(String::from),
    ]) {
        let known = ["pending", "processing", "completed", "failed", "canceled", "cancelled", "expired"];
        prop_assert_eq!(JobStatus::parse(&s) != JobStatus::Unknown, known.contains(&s.as_str()));
        let shown = reported(&s);
        prop_assert_eq!(shown, if s == "cancelled" { "canceled" } else { s.as_str() });
        prop_assert_eq!(JobStatus::parse(shown), JobStatus::parse(&s));
    }

    /// HTTP status classes do not overlap.
    #[test]
    fn http_status_classes(status in any::<u16>()) {
        prop_assert_eq!(is_success(status), (200..=299).contains(&status));
        prop_assert!(!(is_success(status) && (is_transient_http(status) || is_expired_url(status))));
        prop_assert!(!(is_transient_http(status) && is_expired_url(status)));
    }
}
