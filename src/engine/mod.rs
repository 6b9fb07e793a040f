//! The client as one sans-IO state machine: every call of a client (its
//! wait, its turn under the caps and pauses, its deadline, its abort) lives
//! in one [`Engine`], which does no I/O, keeps no clock and draws no random
//! numbers. A driver feeds it [`Event`]s with the time and a random number,
//! and carries out the [`Effect`]s it returns; it wakes the engine at
//! [`Engine::poll_timeout`]. The rules stay where they are tested: the wait's
//! in [`crate::poll::Waiter`], admission in [`crate::scheduler::Scheduler`];
//! the engine only sequences them, so every interleaving of caps, pauses,
//! aborts, deadlines and faults across thousands of calls can be run on the
//! host in virtual time (the simulator in `sim.rs`).
//!
//! # Drive loop
//!
//! One call flows through the engine like this (a driver on wasm does the
//! same with `fetch`, one timer and `Date.now()`: `src/platform/driver.rs`):
//!
//! ```
//! use pulse_jobs::engine::{CallId, Effect, Engine, Event, Op, Reply, Request};
//! use pulse_jobs::options::Options;
//! use pulse_jobs::poll::ResultAt;
//! use pulse_jobs::scheduler::Caps;
//! use pulse_jobs::status::JobStatus;
//! use pulse_jobs::url::BaseUrl;
//!
//! let mut engine = Engine::new(Caps::default());
//! let mut now = 0.0;
//! let start = Event::Start {
//!     call: CallId(1),
//!     op: Op::Wait {
//!         job_id: "job-1".into(),
//!         policy: Options::default().wait_policy().unwrap(),
//!         resume: None,
//!     },
//!     base: BaseUrl::parse("https://api.runpulse.com").unwrap(),
//!     request_timeout_ms: 30_000.0,
//! };
//! engine.handle(start, now, 0.5).unwrap();
//! let mut polls = 0;
//! loop {
//!     // Carry out every effect; answers come back as events.
//!     while let Some(effect) = engine.poll_effect() {
//!         match effect {
//!             Effect::Send { req, request: Request::Job(_), .. } => {
//!                 polls += 1; // fetch it; here: done on the second poll
//!                 let status = if polls < 2 { JobStatus::Processing } else { JobStatus::Completed };
//!                 let reply = Reply::Job { status, error: None, result: ResultAt::Inline };
//!                 let answered = Event::Answered {
//!                     req, status: 200, retry_after_ms: None, reply: Some(reply), detail: None, server: None,
//!                 };
//!                 engine.handle(answered, now, 0.5).unwrap();
//!             }
//!             Effect::Progress { .. } => {} // call onProgress
//!             Effect::Resolve { call } => {
//!                 assert_eq!((call, polls), (CallId(1), 2));
//!                 return;
//!             }
//!             other => panic!("{other:?}"),
//!         }
//!     }
//!     // Sleep until the engine's next wake-up, then tell it.
//!     now = engine.poll_timeout().expect("a sleeping wait has a wake-up");
//!     engine.handle(Event::TimerFired, now, 0.5).unwrap();
//! }
//! ```

mod call;
mod effect;
mod event;
mod id_map;
mod lean;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod sim;
mod timer;

use std::collections::VecDeque;
use std::fmt;

use call::{Call, Phase, Then, Work};
pub use effect::{Carry, Effect, Request};
pub use event::{CallId, Event, Op, Reply, ReqId, Signal};
pub(crate) use id_map::IdMap;
use timer::{Entry, Timer, Timers};

use crate::error::Error;
use crate::poll::{cancels_job, Failure, Observation, Polled, Step, WaitRequest, Waiter};
use crate::scheduler::{pause_after, Admission, Caps, Scheduler};
use crate::status::is_success;
use crate::submit::submission_error;
use crate::url::BaseUrl;

/// An event the engine cannot take. (Events about requests or calls that
/// already ended are normal, and ignored: an answer can cross an abort.)
#[derive(Debug, Clone, PartialEq)]
pub enum EngineError {
    /// `Start` with the id of a call still running.
    CallExists(CallId),
    /// A 2xx reply that does not fit its request (a driver bug); the
    /// request fails as an invalid response.
    WrongReply(ReqId),
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CallExists(call) => write!(f, "call {} is already running", call.0),
            Self::WrongReply(req) => write!(f, "request {} got a reply of another kind", req.0),
        }
    }
}

impl std::error::Error for EngineError {}

/// A request the driver was asked to send.
#[derive(Debug)]
struct InFlight {
    call: CallId,
    /// Handed to the driver by [`Engine::poll_effect`]: ending it needs an
    /// [`Effect::Abort`]; one not yet handed out is simply never sent.
    handed: bool,
    /// When it times out, unless it answers or makes progress first.
    expires_ms: f64,
}

/// How a request ended.
#[derive(Debug)]
enum Ended {
    /// A 2xx answer.
    Answer(Option<Reply>, Option<f64>),
    /// A download's body, read.
    Body,
    /// No usable answer.
    Failed(Failure),
}

/// Decorrelated random numbers from the one a `handle` is given: the k-th
/// draw is `unit_random + k × φ` mod 1 (a Weyl sequence), each uniform, so
/// many requests that time out in the same tick still spread their retries.
#[derive(Debug, Default)]
struct Draws {
    first: f64,
    n: u32,
}

impl Draws {
    fn next(&mut self) -> f64 {
        const PHI: f64 = 0.618_033_988_749_894_9;
        let draw = (self.first + f64::from(self.n) * PHI).fract();
        self.n += 1;
        draw
    }
}

/// Every call of one client (or of one top-level call), and their shared
/// caps and pause. See the [module docs](self) for the drive loop.
#[derive(Debug)]
pub struct Engine {
    scheduler: Scheduler,
    calls: IdMap<CallId, Call>,
    requests: IdMap<ReqId, InFlight>,
    /// Calls waiting for a place in flight, first come first served (ids of
    /// calls that left meanwhile are skipped).
    queue: VecDeque<CallId>,
    /// Calls holding a place with a start reserved, in the order of their
    /// reservations (ids of calls that left are skipped). They start in this
    /// order, so only the first has a wake-up: a pause or a late start then
    /// pushes one timer back, not every reservation behind it.
    reserved: VecDeque<CallId>,
    /// The wake-up armed for the first of `reserved`, if any.
    reserved_wake: Option<(CallId, f64)>,
    timers: Timers,
    effects: VecDeque<Effect>,
    next_req: u64,
    draws: Draws,
    /// The call whose [`Effect::Progress`] was handed out last: its step
    /// waits until the driver asks for more (or reports the callback threw).
    reporting: Option<CallId>,
    /// The time of the latest event.
    now_ms: f64,
}

impl Engine {
    /// An engine with nothing running, under these caps.
    pub fn new(caps: Caps) -> Self {
        Self {
            scheduler: Scheduler::new(caps),
            calls: IdMap::default(),
            requests: IdMap::default(),
            queue: VecDeque::new(),
            reserved: VecDeque::new(),
            reserved_wake: None,
            timers: Timers::default(),
            effects: VecDeque::new(),
            next_req: 0,
            draws: Draws::default(),
            reporting: None,
            now_ms: 0.0,
        }
    }

    /// Takes `event` at `now_ms` (ms since the epoch, never going back),
    /// with `unit_random` uniform in `[0, 1)`. Wake-ups due by `now_ms` are
    /// handled first, whatever the event: a deadline or a request timeout
    /// that has passed wins over an answer that comes after it.
    ///
    /// # Errors
    /// [`EngineError`] for an event that cannot be right; the engine stays
    /// consistent.
    pub fn handle(
        &mut self,
        event: Event,
        now_ms: f64,
        unit_random: f64,
    ) -> Result<(), EngineError> {
        self.draws = Draws {
            first: unit_random,
            n: 0,
        };
        if let Some(id) = self.reporting.take() {
            if event != (Event::CallbackThrew { call: id }) {
                self.reported(id);
            }
        }
        self.now_ms = now_ms;
        self.expire(now_ms);
        let outcome = match event {
            Event::Start {
                call,
                op,
                base,
                request_timeout_ms,
            } => self.start(call, op, base, request_timeout_ms, now_ms),
            Event::Answered {
                req,
                status,
                retry_after_ms,
                reply,
                detail,
                server,
            } => {
                if let Some(until) = pause_after(status, retry_after_ms, now_ms) {
                    self.scheduler.pause(until);
                }
                let ended = match is_success(status) {
                    true => Ended::Answer(reply, retry_after_ms),
                    false => Ended::Failed(Failure::Http {
                        status,
                        detail,
                        server,
                        retry_after_ms,
                    }),
                };
                self.ended(req, ended, now_ms)
            }
            Event::Progressed { req } => {
                self.extend(req, now_ms);
                Ok(())
            }
            Event::BodyRead { req } => self.ended(req, Ended::Body, now_ms),
            Event::Failed { req, failure } => self.ended(req, Ended::Failed(failure), now_ms),
            Event::Aborted { call, by } => {
                if self
                    .calls
                    .get(&call)
                    .is_some_and(|c| c.in_cancel().is_none())
                {
                    self.give_up(call, Error::aborted(), Carry::Reason(by), now_ms);
                }
                Ok(())
            }
            Event::CallbackThrew { call } => {
                if self.calls.contains_key(&call) {
                    self.leave(call);
                    self.calls.remove(&call);
                    self.effects.push_back(Effect::Throw { call });
                }
                Ok(())
            }
            Event::TimerFired => Ok(()),
        };
        self.pump(now_ms);
        self.prune();
        outcome
    }

    /// The next thing for the driver to do, in order. Carry each out before
    /// asking for the next: after an [`Effect::Progress`], a callback that
    /// threw is reported ([`Event::CallbackThrew`]) before this is called
    /// again, since what the wait does next depends on it.
    pub fn poll_effect(&mut self) -> Option<Effect> {
        if let Some(id) = self.reporting.take() {
            self.reported(id);
        }
        loop {
            let Some(effect) = self.effects.pop_front() else {
                // Drained: its block goes back (see `lean`).
                self.effects = VecDeque::new();
                return None;
            };
            match &effect {
                Effect::Send { req, .. } => match self.requests.get_mut(req) {
                    Some(in_flight) => in_flight.handed = true,
                    // Its call ended before the driver took it: never sent.
                    None => continue,
                },
                Effect::Progress { call, .. } => self.reporting = Some(*call),
                _ => {}
            }
            return Some(effect);
        }
    }

    /// A call's progress was reported and its callbacks returned: its step
    /// goes on, at the time it was decided.
    fn reported(&mut self, id: CallId) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if let Phase::Reporting { .. } = call.phase {
            if let Phase::Reporting { step } = std::mem::replace(&mut call.phase, Phase::Idle) {
                let now_ms = self.now_ms;
                self.follow(id, step, now_ms);
                self.pump(now_ms);
                self.prune();
            }
        }
    }

    /// When to wake the engine with [`Event::TimerFired`] (ms since the
    /// epoch), if anything is waiting for time.
    pub fn poll_timeout(&self) -> Option<f64> {
        self.timers.peek().map(|entry| entry.at_ms)
    }

    /// How many calls have not settled.
    pub fn calls(&self) -> usize {
        self.calls.len()
    }

    fn start(
        &mut self,
        id: CallId,
        op: Op,
        base: BaseUrl,
        request_timeout_ms: f64,
        now_ms: f64,
    ) -> Result<(), EngineError> {
        if self.calls.contains_key(&id) {
            return Err(EngineError::CallExists(id));
        }
        let (work, deadline_ms, first) = match op {
            Op::Wait {
                job_id,
                policy,
                resume,
            } => {
                let waiter = match resume {
                    Some(resume) => Waiter::resumed(job_id, policy, base, resume),
                    None => Waiter::new(job_id, policy, base, now_ms),
                };
                let step = waiter.begin(now_ms);
                let deadline = waiter.deadline_ms();
                let work = Work::Wait {
                    waiter: Box::new(waiter),
                    sent: false,
                };
                (work, deadline, step)
            }
            Op::Get { job_id } => (Work::Once(Request::Job(job_id)), None, send_now(now_ms)),
            Op::Cancel { job_id } => (Work::Once(Request::Cancel(job_id)), None, send_now(now_ms)),
            Op::Submit => (Work::Submit { then: None }, None, send_now(now_ms)),
            Op::Run { policy } => {
                let deadline = policy.timeout_ms.map(|ms| now_ms + ms);
                let then = Some(Box::new(Then {
                    policy,
                    base,
                    started_ms: now_ms,
                }));
                (Work::Submit { then }, deadline, send_now(now_ms))
            }
        };
        if let Some(at) = deadline_ms {
            self.timers.arm(at, Timer::Deadline(id));
        }
        let call = Call {
            work,
            phase: Phase::Idle,
            deadline_ms,
            request_timeout_ms,
            failed_last: None,
        };
        self.calls.insert(id, call);
        self.follow(id, first, now_ms);
        Ok(())
    }

    /// Carries out a wait's step (or a call's first request).
    fn follow(&mut self, id: CallId, step: Step, now_ms: f64) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        match step {
            Step::Send { due_at_ms, request } => {
                if due_at_ms <= now_ms {
                    let request = call.work.request(request);
                    self.ask(id, request, now_ms);
                } else {
                    call.phase = Phase::Sleeping {
                        due_ms: due_at_ms,
                        request,
                    };
                    self.timers.arm(due_at_ms, Timer::Wake(id));
                }
            }
            Step::Done => self.settle(id, Effect::Resolve { call: id }),
            Step::Fail(error) => {
                let carry = call.carry(&error);
                self.give_up(id, error, carry, now_ms);
            }
        }
    }

    /// A request is due: it takes its turn behind any call already queued.
    fn ask(&mut self, id: CallId, request: Request, now_ms: f64) {
        if self.queue.is_empty() {
            if let Err(request) = self.admit(id, request, now_ms) {
                self.queue_up(id, request);
            }
        } else {
            self.queue_up(id, request);
        }
    }

    fn queue_up(&mut self, id: CallId, request: Request) {
        if let Some(call) = self.calls.get_mut(&id) {
            call.phase = Phase::Queued { request };
            self.queue.push_back(id);
        }
    }

    /// Asks the scheduler for a place: sent now, reserved for later, or
    /// given back when every place is taken.
    fn admit(&mut self, id: CallId, request: Request, now_ms: f64) -> Result<(), Request> {
        match self.scheduler.admit(now_ms) {
            Admission::Now => self.send(id, request, now_ms),
            Admission::At(at_ms) => {
                if let Some(call) = self.calls.get_mut(&id) {
                    call.phase = Phase::Reserved { at_ms, request };
                    self.reserved.push_back(id);
                }
            }
            Admission::Queued => return Err(request),
        }
        Ok(())
    }

    /// Starts the reserved calls whose time has come, in order, and wakes
    /// the engine for the first of the rest: at its reservation, or later
    /// if a pause began or the start before it was late.
    fn start_reserved(&mut self, now_ms: f64) {
        while let Some(&id) = self.reserved.front() {
            let Some(Phase::Reserved { at_ms, .. }) = self.calls.get(&id).map(|c| &c.phase) else {
                self.reserved.pop_front();
                continue;
            };
            let start = self.scheduler.start_at(*at_ms);
            if start > now_ms {
                if self.reserved_wake != Some((id, start)) {
                    if let Some(Phase::Reserved { at_ms, .. }) =
                        self.calls.get_mut(&id).map(|c| &mut c.phase)
                    {
                        *at_ms = start;
                    }
                    self.timers.arm(start, Timer::Wake(id));
                    self.reserved_wake = Some((id, start));
                }
                return;
            }
            self.reserved.pop_front();
            let Some(call) = self.calls.get_mut(&id) else {
                continue;
            };
            if let Phase::Reserved { request, .. } = std::mem::replace(&mut call.phase, Phase::Idle)
            {
                self.scheduler.started(now_ms);
                self.send(id, request, now_ms);
            }
        }
    }

    /// Starts the reserved calls that may start, then gives the places that
    /// freed up to the queue, in order.
    fn pump(&mut self, now_ms: f64) {
        self.start_reserved(now_ms);
        self.admit_queued(now_ms);
        self.start_reserved(now_ms);
    }

    /// Gives the places that freed up to the queue, in order.
    fn admit_queued(&mut self, now_ms: f64) {
        while let Some(&id) = self.queue.front() {
            let request = match self.calls.get_mut(&id).map(|c| &mut c.phase) {
                Some(phase @ Phase::Queued { .. }) => match std::mem::replace(phase, Phase::Idle) {
                    Phase::Queued { request } => request,
                    _ => unreachable!("matched as queued"),
                },
                _ => {
                    self.queue.pop_front();
                    continue;
                }
            };
            match self.admit(id, request, now_ms) {
                Ok(()) => {
                    self.queue.pop_front();
                }
                Err(request) => {
                    if let Some(call) = self.calls.get_mut(&id) {
                        call.phase = Phase::Queued { request };
                    }
                    return;
                }
            }
        }
    }

    /// Sends `request` for a call that holds a place. A wait's request
    /// past its deadline is not sent (its timer may have fired late).
    fn send(&mut self, id: CallId, request: Request, now_ms: f64) {
        let Some(call) = self.calls.get_mut(&id) else {
            self.scheduler.finished();
            return;
        };
        if let Work::Wait { waiter, sent, .. } = &mut call.work {
            let step = match &request {
                Request::Download(url) => WaitRequest::Download(url.clone()),
                _ => WaitRequest::Poll,
            };
            if let Err(error) = waiter.count_start(&step, now_ms) {
                self.scheduler.finished();
                call.phase = Phase::Idle;
                let carry = call.carry(&error);
                self.give_up(id, error, carry, now_ms);
                return;
            }
            *sent = true;
        }
        let timeout_ms = call.request_timeout_ms;
        let req = self.issue(id, request.clone(), timeout_ms, now_ms);
        if let Some(call) = self.calls.get_mut(&id) {
            call.phase = Phase::Sending { req, request };
        }
    }

    /// A new request in flight (its place already taken), with its timeout.
    fn issue(&mut self, call: CallId, request: Request, timeout_ms: f64, now_ms: f64) -> ReqId {
        self.next_req += 1;
        let req = ReqId(self.next_req);
        let expires_ms = now_ms + timeout_ms;
        self.requests.insert(
            req,
            InFlight {
                call,
                handed: false,
                expires_ms,
            },
        );
        self.timers.arm(expires_ms, Timer::Expire(req));
        self.effects.push_back(Effect::Send {
            req,
            call,
            request,
            timeout_ms,
        });
        req
    }

    /// A download made progress: its stall limit starts again.
    fn extend(&mut self, req: ReqId, now_ms: f64) {
        let Some(in_flight) = self.requests.get_mut(&req) else {
            return;
        };
        let timeout_ms = self
            .calls
            .get(&in_flight.call)
            .map_or(0.0, |c| c.request_timeout_ms);
        in_flight.expires_ms = now_ms + timeout_ms;
        self.timers.arm(in_flight.expires_ms, Timer::Expire(req));
    }

    /// A request ended: its place frees, and its call decides what follows.
    fn ended(&mut self, req: ReqId, ended: Ended, now_ms: f64) -> Result<(), EngineError> {
        let Some(in_flight) = self.requests.get(&req) else {
            return Ok(());
        };
        let id = in_flight.call;
        let downloading = matches!(
            self.calls.get(&id).map(|c| &c.phase),
            Some(Phase::Sending {
                request: Request::Download(_),
                ..
            })
        );
        if downloading && matches!(ended, Ended::Answer(Some(Reply::Headers), _)) {
            self.extend(req, now_ms);
            return Ok(());
        }
        self.requests.remove(&req);
        self.scheduler.finished();
        let Some(call) = self.calls.get_mut(&id) else {
            return Ok(());
        };
        let phase = std::mem::replace(&mut call.phase, Phase::Idle);
        let request = match phase {
            Phase::Sending { req: sent, request } if sent == req => request,
            Phase::Cancelling {
                req: sent,
                error,
                carry,
            } if sent == req => {
                let reject = Effect::Reject {
                    call: id,
                    error,
                    carry,
                    cancel_confirmed: Some(matches!(ended, Ended::Answer(..))),
                };
                self.settle(id, reject);
                return Ok(());
            }
            other => {
                call.phase = other;
                return Ok(());
            }
        };
        let (ended, wrong) = fit(&request, ended, req);
        call.failed_last = match ended {
            Ended::Failed(_) => Some(req),
            _ => None,
        };
        match &mut call.work {
            Work::Wait { waiter, .. } => {
                let observation = match ended {
                    Ended::Answer(
                        Some(Reply::Job {
                            status,
                            error,
                            result,
                        }),
                        retry_after_ms,
                    ) => Observation::Polled(Polled {
                        status,
                        error,
                        result,
                        retry_after_ms,
                    }),
                    Ended::Failed(failure) => Observation::Failed(failure),
                    _ => Observation::Downloaded,
                };
                let decision = waiter.next(observation, now_ms, self.draws.next());
                match decision.progress {
                    Some(progress) => {
                        call.phase = Phase::Reporting {
                            step: decision.step,
                        };
                        self.effects
                            .push_back(Effect::Progress { call: id, progress });
                    }
                    None => self.follow(id, decision.step, now_ms),
                }
            }
            Work::Once(_) => match ended {
                Ended::Failed(failure) => self.settle(
                    id,
                    Effect::Reject {
                        call: id,
                        error: failure.into_error(),
                        carry: Carry::Cause(req),
                        cancel_confirmed: None,
                    },
                ),
                _ => self.settle(id, Effect::Resolve { call: id }),
            },
            Work::Submit { then } => match (ended, then.take()) {
                (Ended::Failed(failure), _) => self.settle(
                    id,
                    Effect::Reject {
                        call: id,
                        error: submission_error(failure),
                        carry: Carry::Cause(req),
                        cancel_confirmed: None,
                    },
                ),
                (Ended::Answer(Some(Reply::Created(job_id)), _), Some(then)) => {
                    self.waiting(id, job_id, *then, now_ms)
                }
                _ => self.settle(id, Effect::Resolve { call: id }),
            },
        }
        wrong.map_or(Ok(()), Err)
    }

    /// `runJob`'s job exists: its wait begins, counting from the call.
    fn waiting(&mut self, id: CallId, job_id: String, then: Then, now_ms: f64) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let Then {
            policy,
            base,
            started_ms,
        } = then;
        let waiter = Waiter::new(job_id, policy, base, started_ms);
        let step = waiter.begin(now_ms);
        call.work = Work::Wait {
            waiter: Box::new(waiter),
            sent: false,
        };
        self.follow(id, step, now_ms);
    }

    /// Wake-ups due by `now_ms`, in order.
    fn expire(&mut self, now_ms: f64) {
        while let Some(entry) = self.timers.pop_due(now_ms) {
            if !self.live(&entry) {
                continue;
            }
            match entry.timer {
                Timer::Wake(id) => self.wake(id, now_ms),
                Timer::Deadline(id) => self.deadline(id, now_ms),
                Timer::Expire(req) => {
                    let Some(&InFlight { call, handed, .. }) = self.requests.get(&req) else {
                        continue;
                    };
                    if handed {
                        self.effects.push_back(Effect::Abort { req });
                    }
                    let timeout_ms = self.calls.get(&call).map_or(0.0, |c| c.request_timeout_ms);
                    let timed_out = Ended::Failed(Failure::TimedOut(timeout_ms));
                    let _ = self.ended(req, timed_out, now_ms);
                }
            }
        }
    }

    /// Whether a timer still means something: its time is still the time
    /// of the thing it names.
    fn live(&self, entry: &Entry) -> bool {
        match entry.timer {
            Timer::Wake(id) => self.calls.get(&id).is_some_and(|c| match c.phase {
                Phase::Sleeping { due_ms, .. } => due_ms == entry.at_ms,
                Phase::Reserved { at_ms, .. } => at_ms == entry.at_ms,
                _ => false,
            }),
            Timer::Deadline(id) => self
                .calls
                .get(&id)
                .is_some_and(|c| c.deadline_ms == Some(entry.at_ms) && c.in_cancel().is_none()),
            Timer::Expire(req) => self
                .requests
                .get(&req)
                .is_some_and(|r| r.expires_ms == entry.at_ms),
        }
    }

    /// Drops stale wake-ups from the top, so that [`Engine::poll_timeout`]
    /// is exact, and from the whole heap when they outnumber the live ones.
    fn prune(&mut self) {
        while let Some(top) = self.timers.peek() {
            if self.live(&top) {
                break;
            }
            self.timers.pop();
        }
        if self.timers.len() > 64 + 4 * (self.calls.len() + self.requests.len()) {
            let mut timers = std::mem::take(&mut self.timers);
            timers.retain(|entry| self.live(entry));
            self.timers = timers;
        }
    }

    /// A call's sleep or reserved start ended.
    fn wake(&mut self, id: CallId, now_ms: f64) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        match std::mem::replace(&mut call.phase, Phase::Idle) {
            Phase::Sleeping { request, .. } => {
                let request = call.work.request(request);
                self.ask(id, request, now_ms);
            }
            other @ Phase::Reserved { .. } => {
                call.phase = other;
                self.start_reserved(now_ms);
            }
            other => call.phase = other,
        }
    }

    /// A call's `timeoutMs` passed.
    fn deadline(&mut self, id: CallId, now_ms: f64) {
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        let (error, carry) = match &call.work {
            Work::Wait { waiter, .. } => {
                let error = waiter.timeout_error();
                let carry = call.carry(&error);
                (error, carry)
            }
            Work::Submit { then } => {
                let timeout_ms = then.as_ref().and_then(|then| then.policy.timeout_ms);
                (
                    Error::submission_timeout(timeout_ms.unwrap_or(0.0)),
                    Carry::Nothing,
                )
            }
            Work::Once(_) => return,
        };
        self.give_up(id, error, carry, now_ms);
    }

    /// Ends a call with `error`; a wait given up with `cancelOnAbort`
    /// cancels its job first, at once, past the caps and any pause.
    fn give_up(&mut self, id: CallId, error: Error, carry: Carry, now_ms: f64) {
        self.leave(id);
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let cancel = match &call.work {
            Work::Wait { waiter, sent }
                if cancels_job(waiter.policy(), &error, u32::from(*sent)) =>
            {
                Some(waiter.job_id().to_string())
            }
            _ => None,
        };
        let Some(job_id) = cancel else {
            let reject = Effect::Reject {
                call: id,
                error,
                carry,
                cancel_confirmed: None,
            };
            self.settle(id, reject);
            return;
        };
        let timeout_ms = call.request_timeout_ms;
        self.scheduler.admit_now(now_ms);
        let req = self.issue(id, Request::Cancel(job_id), timeout_ms, now_ms);
        if let Some(call) = self.calls.get_mut(&id) {
            call.phase = Phase::Cancelling { req, error, carry };
        }
    }

    /// Takes a call out of wherever it is: its request aborted, its place
    /// or reservation freed, its queue entry left behind (skipped later).
    fn leave(&mut self, id: CallId) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        match std::mem::replace(&mut call.phase, Phase::Idle) {
            Phase::Sending { req, .. } | Phase::Cancelling { req, .. } => {
                if let Some(in_flight) = self.requests.remove(&req) {
                    self.scheduler.finished();
                    if in_flight.handed {
                        self.effects.push_back(Effect::Abort { req });
                    }
                }
            }
            Phase::Reserved { .. } => self.scheduler.finished(),
            Phase::Idle
            | Phase::Sleeping { .. }
            | Phase::Queued { .. }
            | Phase::Reporting { .. } => {}
        }
    }

    /// The call is over: nothing of it is left.
    fn settle(&mut self, id: CallId, effect: Effect) {
        self.leave(id);
        self.calls.remove(&id);
        self.effects.push_back(effect);
    }
}

impl Call {
    /// The cancel in flight of a given-up wait: nothing else ends it.
    fn in_cancel(&self) -> Option<ReqId> {
        match self.phase {
            Phase::Cancelling { req, .. } => Some(req),
            _ => None,
        }
    }
}

/// A call's first request, at once.
fn send_now(now_ms: f64) -> Step {
    Step::Send {
        due_at_ms: now_ms,
        request: WaitRequest::Poll,
    }
}

/// A 2xx reply checked against the request it answers: one of another kind
/// fails the request as an invalid response (and is reported).
fn fit(request: &Request, ended: Ended, req: ReqId) -> (Ended, Option<EngineError>) {
    let fits = matches!(
        (&ended, request),
        (Ended::Answer(Some(Reply::Job { .. }), _), Request::Job(_))
            | (Ended::Answer(Some(Reply::Created(_)), _), Request::Submit)
            | (Ended::Answer(_, _), Request::Cancel(_))
            | (Ended::Body, Request::Download(_))
            | (Ended::Failed(_), _)
    );
    if fits {
        return (ended, None);
    }
    let error = Error::invalid_response("the answer does not fit its request");
    (
        Ended::Failed(Failure::Fatal(error)),
        Some(EngineError::WrongReply(req)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backoff::Backoff;
    use crate::error::ErrorCode;
    use crate::options::WaitPolicy;
    use crate::poll::ResultAt;
    use crate::status::JobStatus;

    const POLICY: WaitPolicy = WaitPolicy {
        backoff: Backoff {
            initial_ms: 100.0,
            max_ms: 1_000.0,
            multiplier: 2.0,
            jitter: 0.0,
        },
        timeout_ms: Some(60_000.0),
        max_retries: 2,
        download_result: true,
        max_result_bytes: None,
        cancel_on_abort: true,
    };

    fn start(engine: &mut Engine, call: u64, op: Op, now: f64) {
        let base = BaseUrl::parse("https://api.example.com").unwrap();
        let event = Event::Start {
            call: CallId(call),
            op,
            base,
            request_timeout_ms: 5_000.0,
        };
        engine.handle(event, now, 0.0).unwrap();
    }

    fn wait(job: &str) -> Op {
        Op::Wait {
            job_id: job.into(),
            policy: POLICY,
            resume: None,
        }
    }

    fn effects(engine: &mut Engine) -> Vec<Effect> {
        std::iter::from_fn(|| engine.poll_effect()).collect()
    }

    fn sent(effects: &[Effect]) -> Vec<(ReqId, Request)> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Send { req, request, .. } => Some((*req, request.clone())),
                _ => None,
            })
            .collect()
    }

    fn job(req: ReqId, status: JobStatus) -> Event {
        Event::Answered {
            req,
            status: 200,
            retry_after_ms: None,
            reply: Some(Reply::Job {
                status,
                error: None,
                result: ResultAt::Inline,
            }),
            detail: None,
            server: None,
        }
    }

    #[test]
    fn a_given_up_wait_cancels_at_once_past_the_cap_and_the_pause() {
        let mut engine = Engine::new(Caps {
            max_in_flight: Some(1),
            per_second: None,
        });
        start(&mut engine, 1, wait("job-1"), 0.0);
        let (poll, _) = sent(&effects(&mut engine))[0].clone();
        start(&mut engine, 2, Op::Get { job_id: "x".into() }, 0.0);
        assert!(effects(&mut engine).is_empty(), "the cap holds the get");
        engine
            .handle(job(poll, JobStatus::Pending), 10.0, 0.0)
            .unwrap();
        let (get, _) = sent(&effects(&mut engine))[0].clone();
        let limited = Event::Answered {
            req: get,
            status: 429,
            retry_after_ms: Some(60_000.0),
            reply: None,
            detail: None,
            server: None,
        };
        engine.handle(limited, 20.0, 0.0).unwrap();
        effects(&mut engine);
        // the wait's next poll is held by the pause
        engine.handle(Event::TimerFired, 200.0, 0.0).unwrap();
        assert!(sent(&effects(&mut engine)).is_empty());
        let abort = Event::Aborted {
            call: CallId(1),
            by: Signal::Caller,
        };
        engine.handle(abort, 300.0, 0.0).unwrap();
        let cancel = sent(&effects(&mut engine));
        assert_eq!(cancel.len(), 1);
        assert_eq!(cancel[0].1, Request::Cancel("job-1".into()));
        let answered = Event::Answered {
            req: cancel[0].0,
            status: 200,
            retry_after_ms: None,
            reply: Some(Reply::Cancelled),
            detail: None,
            server: None,
        };
        engine.handle(answered, 350.0, 0.0).unwrap();
        match effects(&mut engine).as_slice() {
            [Effect::Reject {
                call: CallId(1),
                error,
                carry: Carry::Reason(Signal::Caller),
                cancel_confirmed,
            }] => assert_eq!(
                (error.code, *cancel_confirmed),
                (ErrorCode::Aborted, Some(true))
            ),
            other => panic!("{other:?}"),
        }
        assert_eq!(engine.calls(), 0);
        assert_eq!(engine.poll_timeout(), None, "nothing of the call is left");
    }

    #[test]
    fn a_callback_that_throws_on_the_last_poll_rejects_with_its_exception() {
        let mut engine = Engine::new(Caps::default());
        start(&mut engine, 1, wait("job-1"), 0.0);
        let (poll, _) = sent(&effects(&mut engine))[0].clone();
        engine
            .handle(job(poll, JobStatus::Completed), 5.0, 0.0)
            .unwrap();
        assert!(matches!(
            engine.poll_effect(),
            Some(Effect::Progress { .. })
        ));
        let threw = Event::CallbackThrew { call: CallId(1) };
        engine.handle(threw, 5.0, 0.0).unwrap();
        assert_eq!(effects(&mut engine), [Effect::Throw { call: CallId(1) }]);
    }

    #[test]
    fn a_hung_request_is_ended_by_its_timeout_and_retried() {
        let mut engine = Engine::new(Caps::default());
        start(&mut engine, 1, wait("job-1"), 0.0);
        let (first, _) = sent(&effects(&mut engine))[0].clone();
        assert_eq!(engine.poll_timeout(), Some(5_000.0), "requestTimeoutMs");
        engine.handle(Event::TimerFired, 5_000.0, 0.0).unwrap();
        assert_eq!(effects(&mut engine), [Effect::Abort { req: first }]);
        // the retry follows the backoff (100 ms after one poll)
        assert_eq!(engine.poll_timeout(), Some(5_100.0));
        engine.handle(Event::TimerFired, 5_100.0, 0.0).unwrap();
        let (second, _) = sent(&effects(&mut engine))[0].clone();
        // the late answer of the first is ignored
        engine
            .handle(job(first, JobStatus::Completed), 5_150.0, 0.0)
            .unwrap();
        assert!(effects(&mut engine).is_empty());
        engine
            .handle(job(second, JobStatus::Completed), 5_200.0, 0.0)
            .unwrap();
        let done = effects(&mut engine);
        assert!(
            matches!(
                done.as_slice(),
                [Effect::Progress { .. }, Effect::Resolve { call: CallId(1) }]
            ),
            "{done:?}"
        );
    }

    #[test]
    fn run_job_s_wait_counts_its_time_from_the_call() {
        let mut engine = Engine::new(Caps::default());
        let policy = WaitPolicy {
            timeout_ms: None,
            ..POLICY
        };
        start(&mut engine, 1, Op::Run { policy }, 1_000.0);
        let (submit, _) = sent(&effects(&mut engine))[0].clone();
        let created = Event::Answered {
            req: submit,
            status: 202,
            retry_after_ms: None,
            reply: Some(Reply::Created("job-9".into())),
            detail: None,
            server: None,
        };
        engine.handle(created, 1_500.0, 0.0).unwrap();
        let (poll, request) = sent(&effects(&mut engine))[0].clone();
        assert_eq!(request, Request::Job("job-9".into()));
        engine
            .handle(job(poll, JobStatus::Processing), 1_600.0, 0.0)
            .unwrap();
        match engine.poll_effect() {
            Some(Effect::Progress { progress, .. }) => {
                assert_eq!((progress.attempt, progress.elapsed_ms), (1, 600.0));
                assert_eq!(progress.state.started_at_ms, 1_000.0);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reserved_starts_keep_their_order_behind_a_pause_with_one_wake_up() {
        let mut engine = Engine::new(Caps {
            max_in_flight: None,
            per_second: Some(10.0),
        });
        for call in 1..=4 {
            start(
                &mut engine,
                call,
                Op::Get {
                    job_id: format!("j{call}"),
                },
                0.0,
            );
        }
        let first = sent(&effects(&mut engine));
        assert_eq!(first.len(), 1, "one start now, three reserved");
        let limited = Event::Answered {
            req: first[0].0,
            status: 429,
            retry_after_ms: Some(1_000.0),
            reply: None,
            detail: None,
            server: None,
        };
        engine.handle(limited, 50.0, 0.0).unwrap();
        effects(&mut engine);
        // the reservations at 100, 200 and 300 ms wait for the pause to end
        assert_eq!(engine.poll_timeout(), Some(1_050.0));
        assert_eq!(
            engine.timers.len(),
            2,
            "one wake-up for three reservations, and the answered request's stale timeout"
        );
        let mut starts = vec![];
        while let Some(at) = engine.poll_timeout() {
            engine.handle(Event::TimerFired, at, 0.0).unwrap();
            for (_, request) in sent(&effects(&mut engine)) {
                starts.push((at, request));
            }
        }
        let job = |n: u32| Request::Job(format!("j{n}"));
        assert_eq!(
            starts,
            [(1_050.0, job(2)), (1_150.0, job(3)), (1_250.0, job(4))]
        );
    }
}
