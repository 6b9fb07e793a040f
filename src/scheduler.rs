//! Which request of a client may start, and when: the client's caps on
//! requests in flight and per second, and the pause a rate limit imposes on
//! all of them (a rate limit is the key's, not one job's). Times are passed
//! in, so the rules are tested as plain numbers.

use crate::error::Error;
use crate::options::wrong_type;
use crate::status::rate_limit_delay;

/// A client's limits; `None` is no limit.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Caps {
    /// `maxConcurrentRequests`.
    pub max_in_flight: Option<u32>,
    /// `maxRequestsPerSecond`: starts are spaced `1000 / rate` ms apart.
    pub per_second: Option<f64>,
}

/// A `PulseClient`'s defaults: 8 requests in flight, no rate limit.
pub const CLIENT_MAX_IN_FLIGHT: u32 = 8;

impl Caps {
    /// Checks `maxConcurrentRequests` (a whole number from 1) and
    /// `maxRequestsPerSecond` (a finite number above 0).
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` naming the option.
    pub fn check(max_in_flight: Option<f64>, per_second: Option<f64>) -> Result<Self, Error> {
        let max_in_flight = match max_in_flight {
            Some(n) if n >= 1.0 && n.fract() == 0.0 && n <= f64::from(u32::MAX) => Some(n as u32),
            Some(_) => {
                return Err(wrong_type(
                    "maxConcurrentRequests",
                    "a whole number of at least 1",
                ))
            }
            None => None,
        };
        match per_second {
            Some(rate) if !(rate.is_finite() && rate > 0.0) => {
                Err(wrong_type("maxRequestsPerSecond", "a number above 0"))
            }
            _ => Ok(Self {
                max_in_flight,
                per_second,
            }),
        }
    }
}

/// When a request may start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Admission {
    /// Now; it counts as in flight until [`Scheduler::finished`].
    Now,
    /// At this time (ms since the epoch), reserved for it; it counts as in
    /// flight from now on.
    At(f64),
    /// Once a request in flight finishes: ask again then.
    Queued,
}

/// The admission state of one client (or of one top-level call).
#[derive(Debug, Default)]
pub struct Scheduler {
    caps: Caps,
    in_flight: u32,
    /// The earliest start the rate allows for the next request to be admitted.
    next_start_ms: f64,
    /// When the latest request really started: a start whose timer fired
    /// late pushes the ones reserved after it back, never closer.
    last_start_ms: Option<f64>,
    /// No request starts before this (a 429's `Retry-After`).
    paused_until_ms: f64,
}

impl Scheduler {
    /// A scheduler with these caps and nothing in flight.
    pub fn new(caps: Caps) -> Self {
        Self {
            caps,
            ..Self::default()
        }
    }

    /// Admits a request at `now_ms`, or says how long it must wait.
    pub fn admit(&mut self, now_ms: f64) -> Admission {
        if self
            .caps
            .max_in_flight
            .is_some_and(|max| self.in_flight >= max)
        {
            return Admission::Queued;
        }
        self.in_flight += 1;
        let start = self.start_at(now_ms.max(self.next_start_ms));
        if let Some(interval) = self.interval_ms() {
            self.next_start_ms = start + interval;
        }
        if start <= now_ms {
            self.started(now_ms);
            Admission::Now
        } else {
            Admission::At(start)
        }
    }

    /// When an admitted request whose reserved time has come may really
    /// start: later than reserved if a pause began meanwhile, or if the
    /// request before it started late (its timer fired late).
    pub fn start_at(&self, reserved_ms: f64) -> f64 {
        let spaced = match (self.last_start_ms, self.interval_ms()) {
            (Some(last), Some(interval)) => last + interval,
            _ => reserved_ms,
        };
        reserved_ms.max(spaced).max(self.paused_until_ms)
    }

    /// A request really starts at `now_ms` (its turn came): the next one is
    /// spaced from this start, not from the slot it had reserved.
    pub fn started(&mut self, now_ms: f64) {
        self.last_start_ms = Some(self.last_start_ms.map_or(now_ms, |last| last.max(now_ms)));
    }

    /// Admits a request at once, past the caps and any pause: the cancel of
    /// a wait that was given up, which must be bounded by `requestTimeoutMs`
    /// alone. It counts as in flight and as a start, so the requests after it
    /// are still spaced and capped.
    pub fn admit_now(&mut self, now_ms: f64) {
        self.in_flight += 1;
        self.started(now_ms);
        if let Some(interval) = self.interval_ms() {
            self.next_start_ms = self.next_start_ms.max(now_ms + interval);
        }
    }

    fn interval_ms(&self) -> Option<f64> {
        self.caps.per_second.map(|rate| 1000.0 / rate)
    }

    /// An admitted request finished (or was dropped): its place is free.
    pub fn finished(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
    }

    /// A rate limit answered: no request starts before `until_ms`.
    pub fn pause(&mut self, until_ms: f64) {
        self.paused_until_ms = self.paused_until_ms.max(until_ms);
    }
}

/// The pause an answer imposes on its client: a 429, or a 503 with
/// `Retry-After`, until its `Retry-After` has passed.
pub fn pause_after(status: u16, retry_after_ms: Option<f64>, now_ms: f64) -> Option<f64> {
    rate_limit_delay(status, retry_after_ms)
        .filter(|ms| *ms > 0.0)
        .map(|ms| now_ms + ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(max: Option<u32>, rate: Option<f64>) -> Scheduler {
        Scheduler::new(Caps {
            max_in_flight: max,
            per_second: rate,
        })
    }

    #[test]
    fn requests_in_flight_never_pass_the_cap() {
        let mut s = caps(Some(2), None);
        assert_eq!(s.admit(0.0), Admission::Now);
        assert_eq!(s.admit(0.0), Admission::Now);
        assert_eq!(s.admit(0.0), Admission::Queued);
        s.finished();
        assert_eq!(s.admit(1.0), Admission::Now);
        assert_eq!(s.admit(1.0), Admission::Queued);
    }

    #[test]
    fn the_rate_spaces_starts_and_reserves_each_its_own() {
        let mut s = caps(None, Some(4.0));
        assert_eq!(s.admit(0.0), Admission::Now);
        assert_eq!(s.admit(0.0), Admission::At(250.0));
        assert_eq!(s.admit(10.0), Admission::At(500.0));
        // later than the reservations: at once again
        assert_eq!(s.admit(2_000.0), Admission::Now);
    }

    #[test]
    fn a_start_that_fired_late_pushes_the_next_back() {
        let mut s = caps(None, Some(20.0));
        assert_eq!(s.admit(0.0), Admission::Now);
        assert_eq!(s.admit(0.0), Admission::At(50.0));
        assert_eq!(s.admit(0.0), Admission::At(100.0));
        // the second's timer fires 7 ms late: it starts at 57
        assert_eq!(s.start_at(50.0), 50.0);
        s.started(57.0);
        // the third, reserved for 100, may not start before 107
        assert_eq!(s.start_at(100.0), 107.0);
        s.started(107.0);
        // a new request is spaced from that real start too
        assert_eq!(s.admit(110.0), Admission::At(157.0));
    }

    #[test]
    fn starts_are_spaced_whatever_the_timers_do() {
        // Timers fire 0 to 9 ms late (a fixed pseudo-random sequence): every
        // gap between real starts is at least the interval.
        let mut s = caps(None, Some(20.0));
        let mut reserved = Vec::new();
        for _ in 0..40 {
            match s.admit(0.0) {
                Admission::Now => reserved.push(None),
                Admission::At(at) => reserved.push(Some(at)),
                Admission::Queued => unreachable!(),
            }
        }
        let mut starts = vec![0.0];
        let mut late = 3u32;
        for at in reserved.into_iter().flatten() {
            let mut due = at;
            let start = loop {
                late = (late * 7 + 5) % 10;
                let fired = due + f64::from(late);
                let allowed = s.start_at(due);
                if allowed <= fired {
                    break fired;
                }
                due = allowed;
            };
            s.started(start);
            starts.push(start);
        }
        for pair in starts.windows(2) {
            assert!(pair[1] - pair[0] >= 50.0, "{starts:?}");
        }
    }

    #[test]
    fn a_cancel_is_admitted_at_once_past_caps_and_pause() {
        let mut s = caps(Some(1), Some(2.0));
        assert_eq!(s.admit(0.0), Admission::Now);
        s.pause(60_000.0);
        s.admit_now(10.0);
        s.finished();
        s.finished();
        // the requests after it keep the pause and the spacing
        assert_eq!(s.admit(20.0), Admission::At(60_000.0));
        let mut r = caps(None, Some(2.0));
        r.admit_now(0.0);
        assert_eq!(r.admit(1.0), Admission::At(500.0));
    }

    #[test]
    fn a_pause_holds_every_new_request_and_delays_reserved_ones() {
        let mut s = caps(None, None);
        s.pause(5_000.0);
        assert_eq!(s.admit(1_000.0), Admission::At(5_000.0));
        assert_eq!(s.start_at(2_000.0), 5_000.0);
        assert_eq!(s.admit(6_000.0), Admission::Now);
        s.pause(4_000.0); // an earlier end does not shorten it
        assert_eq!(s.start_at(4_500.0), 5_000.0);
    }

    #[test]
    fn only_a_rate_limit_pauses_the_client() {
        assert_eq!(pause_after(429, Some(2_000.0), 100.0), Some(2_100.0));
        assert_eq!(pause_after(503, Some(1_000.0), 0.0), Some(1_000.0));
        assert_eq!(pause_after(503, None, 0.0), None);
        assert_eq!(pause_after(429, None, 0.0), None);
        assert_eq!(pause_after(200, Some(1_000.0), 0.0), None);
        assert_eq!(pause_after(500, Some(1_000.0), 0.0), None);
    }

    #[test]
    fn caps_are_checked() {
        assert!(Caps::check(Some(1.0), Some(0.5)).is_ok());
        assert!(Caps::check(None, None).is_ok());
        for (max, rate) in [
            (Some(0.0), None),
            (Some(2.5), None),
            (Some(-1.0), None),
            (None, Some(0.0)),
            (None, Some(f64::INFINITY)),
            (None, Some(-3.0)),
        ] {
            let error = Caps::check(max, rate).unwrap_err();
            assert_eq!(error.code, crate::error::ErrorCode::InvalidArgument);
        }
    }
}
