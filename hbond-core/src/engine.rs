// SPDX-License-Identifier: GPL-2.0

//! The life of one lookaside request, in one place: what the return value
//! of `crypto_aead_encrypt`/`decrypt` means, what a completion callback's
//! status means, what then happens to the packet, and the engine's load
//! (requests and bytes in flight and completed).
//!
//! The kernel issues every request through one function that calls
//! [`EngineLoad::issue`], submits, and passes the return value to
//! [`on_submit`]; every completion (the callback, or a synchronous return)
//! goes through one function that passes the status to [`on_callback`] and
//! then [`finish`] and [`EngineLoad::complete`].

use super::path::{Dir, DropReason};
use super::sa::Outcome;

/// `-EINPROGRESS`: the request was queued; the callback will report it.
pub const EINPROGRESS: i32 = 115;
/// `-EBUSY`: queue full; with `CRYPTO_TFM_REQ_MAY_BACKLOG` the request was
/// put on the backlog instead.
pub const EBUSY: i32 = 16;
/// `-ENOSPC`: queue full, request not taken (no backlog).
pub const ENOSPC: i32 = 28;
/// `-EBADMSG`: authentication (ICV) failed on decrypt.
pub const EBADMSG: i32 = 74;

/// How a finished request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Completion {
    /// Encrypted, or decrypted and authenticated.
    Ok,
    /// The ICV did not match (decrypt).
    BadIcv,
    /// Any other error of the engine.
    Failed,
}

impl Completion {
    /// From a final status (0 or a negative errno).
    pub fn from_status(status: i32) -> Self {
        match status {
            0 => Self::Ok,
            s if s == -EBADMSG => Self::BadIcv,
            _ => Self::Failed,
        }
    }
}

/// What submitting a request came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Submit {
    /// In flight: the callback will complete it.
    Pending,
    /// Done synchronously; the callback will not be called.
    Done(Completion),
    /// Not taken (queue full): nothing was done to the packet.
    Rejected,
}

/// Interprets the return value of `crypto_aead_encrypt`/`decrypt`;
/// `backlog` says whether the request had `CRYPTO_TFM_REQ_MAY_BACKLOG`.
pub fn on_submit(ret: i32, backlog: bool) -> Submit {
    match ret {
        r if r == -EINPROGRESS => Submit::Pending,
        r if r == -EBUSY && backlog => Submit::Pending,
        r if r == -EBUSY || r == -ENOSPC => Submit::Rejected,
        r => Submit::Done(Completion::from_status(r)),
    }
}

/// What a completion callback's status means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Callback {
    /// `-EINPROGRESS`: a backlogged request moved to the queue; not the
    /// end, nothing to do.
    Notify,
    /// The request is finished.
    Done(Completion),
}

/// Interprets a completion callback's status.
pub fn on_callback(status: i32) -> Callback {
    if status == -EINPROGRESS {
        Callback::Notify
    } else {
        Callback::Done(Completion::from_status(status))
    }
}

/// What happens to a packet whose ESP work is over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Transmit the finished ESP packet on the member.
    Transmit,
    /// Deliver the decrypted packet to the stack on the team device,
    /// marked `CRYPTO_DONE`/`CRYPTO_SUCCESS`.
    Deliver,
    /// Hand the intact packet to the stack, which decrypts it in software.
    HostSoftware,
    /// Free it.
    Drop(DropReason),
}

/// The packet's fate and its accounting once its request finished.
pub fn finish(dir: Dir, c: Completion) -> (Action, Outcome) {
    match (dir, c) {
        (Dir::Out, Completion::Ok) => (Action::Transmit, Outcome::Engine),
        (Dir::In, Completion::Ok) => (Action::Deliver, Outcome::Engine),
        (Dir::In, Completion::BadIcv) => (
            Action::Drop(DropReason::IcvFailure),
            Outcome::Dropped(DropReason::IcvFailure),
        ),
        // Encryption reports no ICV failure: an engine error.
        (_, _) => (
            Action::Drop(DropReason::EngineError),
            Outcome::Dropped(DropReason::EngineError),
        ),
    }
}

/// The packet's fate when its request was not taken: a transmitted packet
/// is dropped (never sent in clear, never sent again with its sequence
/// number); a received one is intact and goes to host software.
pub fn rejected(dir: Dir) -> (Action, Outcome) {
    match dir {
        Dir::Out => (
            Action::Drop(DropReason::QueueFull),
            Outcome::Dropped(DropReason::QueueFull),
        ),
        Dir::In => (Action::HostSoftware, Outcome::Host),
    }
}

/// An engine's load and history (the kernel keeps the same fields as
/// atomics, updated by the same rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct EngineLoad {
    /// Requests the engine took (issued and not withdrawn).
    pub requests: u64,
    /// Their bytes.
    pub request_bytes: u64,
    /// Requests issued and not completed.
    pub in_flight: u32,
    /// Their bytes.
    pub in_flight_bytes: u64,
    /// Requests completed (successfully or not).
    pub completed: u64,
    /// Their bytes.
    pub completed_bytes: u64,
    /// Requests that failed (not counting ICV failures, which are the
    /// peer's or the wire's fault).
    pub errors: u64,
    /// Failures since the last success; part 2 marks an engine faulty from
    /// this.
    pub consecutive_errors: u32,
}

impl EngineLoad {
    /// Requests the engine can still take with a queue of `capacity`.
    pub fn room(&self, capacity: u32) -> u32 {
        capacity.saturating_sub(self.in_flight)
    }

    /// A request of `bytes` is about to be submitted.
    pub fn issue(&mut self, bytes: u64) {
        self.requests = self.requests.wrapping_add(1);
        self.request_bytes = self.request_bytes.wrapping_add(bytes);
        self.in_flight = self.in_flight.saturating_add(1);
        self.in_flight_bytes = self.in_flight_bytes.saturating_add(bytes);
    }

    /// A request of `bytes` left the engine.
    fn land(&mut self, bytes: u64) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.in_flight_bytes = self.in_flight_bytes.saturating_sub(bytes);
    }

    /// The request of `bytes` just issued was not taken.
    pub fn withdraw(&mut self, bytes: u64) {
        self.requests = self.requests.wrapping_sub(1);
        self.request_bytes = self.request_bytes.wrapping_sub(bytes);
        self.land(bytes);
    }

    /// A request of `bytes` finished with `c`.
    pub fn complete(&mut self, bytes: u64, c: Completion) {
        self.land(bytes);
        self.completed = self.completed.wrapping_add(1);
        self.completed_bytes = self.completed_bytes.wrapping_add(bytes);
        match c {
            Completion::Failed => {
                self.errors = self.errors.wrapping_add(1);
                self.consecutive_errors = self.consecutive_errors.saturating_add(1);
            }
            Completion::Ok | Completion::BadIcv => self.consecutive_errors = 0,
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::sa::{Counter, Counters};
    use proptest::prelude::*;
    use std::vec::Vec;

    #[test]
    fn submit_return_values() {
        assert_eq!(on_submit(0, false), Submit::Done(Completion::Ok));
        assert_eq!(on_submit(-EINPROGRESS, false), Submit::Pending);
        assert_eq!(on_submit(-EBUSY, true), Submit::Pending);
        assert_eq!(on_submit(-EBUSY, false), Submit::Rejected);
        assert_eq!(on_submit(-ENOSPC, true), Submit::Rejected);
        assert_eq!(on_submit(-EBADMSG, false), Submit::Done(Completion::BadIcv));
        assert_eq!(on_submit(-22, false), Submit::Done(Completion::Failed));
    }

    #[test]
    fn callback_statuses() {
        assert_eq!(on_callback(-EINPROGRESS), Callback::Notify);
        assert_eq!(on_callback(0), Callback::Done(Completion::Ok));
        assert_eq!(on_callback(-EBADMSG), Callback::Done(Completion::BadIcv));
        assert_eq!(on_callback(-5), Callback::Done(Completion::Failed));
    }

    #[test]
    fn fates() {
        assert_eq!(finish(Dir::Out, Completion::Ok).0, Action::Transmit);
        assert_eq!(finish(Dir::In, Completion::Ok).0, Action::Deliver);
        assert_eq!(
            finish(Dir::In, Completion::BadIcv).0,
            Action::Drop(DropReason::IcvFailure)
        );
        assert_eq!(
            finish(Dir::Out, Completion::BadIcv).0,
            Action::Drop(DropReason::EngineError)
        );
        assert_eq!(
            finish(Dir::In, Completion::Failed).0,
            Action::Drop(DropReason::EngineError)
        );
        assert_eq!(rejected(Dir::Out).0, Action::Drop(DropReason::QueueFull));
        assert_eq!(rejected(Dir::In).0, Action::HostSoftware);
    }

    #[test]
    fn load_accounting() {
        let mut l = EngineLoad::default();
        l.issue(100);
        l.issue(50);
        assert_eq!((l.in_flight, l.in_flight_bytes, l.room(4)), (2, 150, 2));
        l.complete(100, Completion::Failed);
        l.complete(50, Completion::Failed);
        assert_eq!((l.errors, l.consecutive_errors), (2, 2));
        l.issue(10);
        l.complete(10, Completion::Ok);
        assert_eq!(l.consecutive_errors, 0);
        assert_eq!((l.in_flight, l.in_flight_bytes), (0, 0));
        assert_eq!((l.completed, l.completed_bytes), (3, 160));
        assert_eq!((l.requests, l.request_bytes), (3, 160));
        assert_eq!(l.room(0), 0);
        l.issue(40);
        l.withdraw(40);
        assert_eq!((l.requests, l.request_bytes, l.in_flight), (3, 160, 0));
    }

    /// What the engine does with a request in the model.
    #[derive(Clone, Copy, Debug)]
    enum Behaviour {
        Sync(i32),
        Async(i32),
        Backlog(i32),
        Full,
    }

    fn arb_status() -> impl Strategy<Value = i32> {
        prop_oneof![Just(0), Just(-EBADMSG), Just(-5)]
    }

    fn arb_behaviour() -> impl Strategy<Value = Behaviour> {
        prop_oneof![
            arb_status().prop_map(Behaviour::Sync),
            arb_status().prop_map(Behaviour::Async),
            arb_status().prop_map(Behaviour::Backlog),
            Just(Behaviour::Full),
        ]
    }

    proptest! {
        /// Packets through one issue/complete path with an engine that
        /// answers synchronously, asynchronously (completions in any
        /// order), from its backlog (with the extra -EINPROGRESS notice) or
        /// not at all: each packet meets exactly one fate, is counted
        /// once, a transmit is never sent without a successful encryption,
        /// and the engine's load returns to zero.
        #[test]
        fn every_request_ends_once(
            reqs in proptest::collection::vec((any::<bool>(), 1u64..1500, arb_behaviour()), 1..60),
            order in any::<u64>(),
        ) {
            let mut load = EngineLoad::default();
            let mut counters = Counters::default();
            let mut fates = std::vec![0u32; reqs.len()];
            // Pending callbacks: (request, statuses still to come).
            let mut pending: Vec<(usize, Vec<i32>)> = Vec::new();
            let end = |i: usize, dir: Dir, bytes: u64, f: (Action, Outcome),
                           counters: &mut Counters, fates: &mut [u32]| {
                if f.0 == Action::Transmit {
                    assert_eq!(dir, Dir::Out);
                }
                counters.record(f.1, bytes);
                fates[i] += 1;
            };
            for (i, &(out, bytes, b)) in reqs.iter().enumerate() {
                let dir = if out { Dir::Out } else { Dir::In };
                load.issue(bytes);
                let (ret, backlog, later) = match b {
                    Behaviour::Sync(s) => (s, false, Vec::new()),
                    Behaviour::Async(s) => (-EINPROGRESS, false, std::vec![s]),
                    Behaviour::Backlog(s) => (-EBUSY, true, std::vec![-EINPROGRESS, s]),
                    Behaviour::Full => (-ENOSPC, false, Vec::new()),
                };
                match on_submit(ret, backlog) {
                    Submit::Pending => pending.push((i, later)),
                    Submit::Done(c) => {
                        load.complete(bytes, c);
                        end(i, dir, bytes, finish(dir, c), &mut counters, &mut fates);
                    }
                    Submit::Rejected => {
                        load.withdraw(bytes);
                        end(i, dir, bytes, rejected(dir), &mut counters, &mut fates);
                    }
                }
            }
            // Deliver callbacks in a scrambled order.
            let mut x = order | 1;
            while !pending.is_empty() {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                let k = (x % pending.len() as u64) as usize;
                let (i, mut statuses) = pending.swap_remove(k);
                let s = statuses.remove(0);
                let (out, bytes, _) = reqs[i];
                let dir = if out { Dir::Out } else { Dir::In };
                match on_callback(s) {
                    Callback::Notify => {
                        prop_assert!(!statuses.is_empty());
                        pending.push((i, statuses));
                    }
                    Callback::Done(c) => {
                        prop_assert!(statuses.is_empty());
                        load.complete(bytes, c);
                        end(i, dir, bytes, finish(dir, c), &mut counters, &mut fates);
                    }
                }
            }
            prop_assert!(fates.iter().all(|&f| f == 1));
            prop_assert_eq!((load.in_flight, load.in_flight_bytes), (0, 0));
            // Every request the engine took finished; the rejected ones
            // were never its requests.
            let taken: Vec<_> = reqs.iter().filter(|r| !matches!(r.2, Behaviour::Full)).collect();
            prop_assert_eq!(load.requests, taken.len() as u64);
            prop_assert_eq!(load.completed, load.requests);
            prop_assert_eq!(load.request_bytes, taken.iter().map(|r| r.1).sum::<u64>());
            prop_assert_eq!(load.completed_bytes, load.request_bytes);
            let failed = taken.iter().filter(|r| matches!(r.2,
                Behaviour::Sync(-5) | Behaviour::Async(-5) | Behaviour::Backlog(-5))).count();
            prop_assert_eq!(load.errors, failed as u64);
            let total: u64 = reqs.iter().map(|r| r.1).sum();
            let counted = counters.get(Counter::EngineBytes)
                + counters.get(Counter::HostBytes)
                + counters.get(Counter::DroppedBytes);
            prop_assert_eq!(counted, total);
            prop_assert_eq!(counters.get(Counter::InlinePackets), 0);
        }
    }
}
