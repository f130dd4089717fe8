//! A watch on a running program: a controller that still answers but no longer moves or
//! advances (LinuxCNC whose task has stopped keeps reporting the last status through
//! linuxcncrsh; a GRBL stuck in `Run`) must be said, and after a limit stopped, instead of
//! waited on for ever.
//!
//! Time is passed in, so the watch is tested without waiting.

use std::time::{Duration, Instant};

use crate::grbl::{MachineState, Status};

/// What the watch asks its owner to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Stall {
    /// Nothing has changed for this long: say so once (it may be a dwell or a tool change).
    Warn { seconds: f64 },
    /// Nothing has changed for the limit: stop the machine and end the run.
    GiveUp { seconds: f64 },
}

/// Watches progress (line numbers, positions) while the machine is in `Run`.
#[derive(Clone, Debug)]
pub struct StallWatch {
    warn_after: Duration,
    give_up_after: Option<Duration>,
    since: Instant,
    last_pos: Option<[f64; 3]>,
    last_line: usize,
    warned: bool,
    given_up: bool,
}

impl StallWatch {
    /// `give_up_after: None` only warns.
    pub fn new(now: Instant, warn_after: Duration, give_up_after: Option<Duration>) -> Self {
        StallWatch {
            warn_after,
            give_up_after,
            since: now,
            last_pos: None,
            last_line: 0,
            warned: false,
            given_up: false,
        }
    }

    fn moved(&mut self, now: Instant) {
        self.since = now;
        self.warned = false;
    }

    /// A line was answered or reached.
    pub fn on_line(&mut self, line: usize, now: Instant) {
        if line != self.last_line {
            self.last_line = line;
            self.moved(now);
        }
    }

    /// A status report: a move, or any state but `Run` (held, paused, idle: waiting is
    /// expected there), restarts the clock.
    pub fn on_status(&mut self, s: &Status, now: Instant) {
        let pos = s.mpos.or(s.wpos);
        if s.state != MachineState::Run {
            self.last_pos = pos;
            self.moved(now);
            return;
        }
        let changed = match (pos, self.last_pos) {
            (Some(a), Some(b)) => a.iter().zip(b).any(|(x, y)| (x - y).abs() > 1e-6),
            (Some(_), None) => true,
            _ => false,
        };
        if changed {
            self.last_pos = pos;
            self.moved(now);
        }
    }

    /// What to do now, at most once per stall for each kind.
    pub fn check(&mut self, now: Instant) -> Option<Stall> {
        let idle = now.saturating_duration_since(self.since);
        let seconds = idle.as_secs_f64();
        if let Some(limit) = self.give_up_after
            && idle >= limit
            && !self.given_up
        {
            self.given_up = true;
            return Some(Stall::GiveUp { seconds });
        }
        if idle >= self.warn_after && !self.warned {
            self.warned = true;
            return Some(Stall::Warn { seconds });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_at(p: [f64; 3]) -> Status {
        Status {
            state: MachineState::Run,
            mpos: Some(p),
            ..Status::default()
        }
    }

    #[test]
    fn a_machine_that_stops_moving_is_warned_once_then_given_up() {
        let t0 = Instant::now();
        let s = |secs: u64| t0 + Duration::from_secs(secs);
        let mut w = StallWatch::new(t0, Duration::from_secs(30), Some(Duration::from_mins(2)));
        w.on_status(&run_at([0.0, 0.0, 1.0]), s(1));
        assert_eq!(w.check(s(20)), None);
        w.on_status(&run_at([0.0, 0.0, 1.0]), s(25));
        assert_eq!(w.check(s(31)), Some(Stall::Warn { seconds: 30.0 }));
        assert_eq!(w.check(s(40)), None, "the warning is said once");
        assert_eq!(w.check(s(121)), Some(Stall::GiveUp { seconds: 120.0 }));
        assert_eq!(w.check(s(200)), None);
    }

    #[test]
    fn moves_lines_and_pauses_restart_the_clock() {
        let t0 = Instant::now();
        let s = |secs: u64| t0 + Duration::from_secs(secs);
        let mut w = StallWatch::new(t0, Duration::from_secs(30), Some(Duration::from_mins(1)));
        w.on_status(&run_at([0.0, 0.0, 1.0]), s(0));
        w.on_status(&run_at([0.0, 0.0, 0.9]), s(25));
        assert_eq!(w.check(s(50)), None, "it moved at 25 s");
        w.on_line(7, s(50));
        assert_eq!(w.check(s(79)), None, "a line was reached at 50 s");
        // A paused program (tool change, M0) waits for the user as long as it takes.
        let held = Status {
            state: MachineState::Hold,
            mpos: Some([0.0, 0.0, 0.9]),
            ..Status::default()
        };
        w.on_status(&held, s(79));
        w.on_status(&held, s(500));
        assert_eq!(w.check(s(501)), None);
        assert_eq!(w.check(s(531)), Some(Stall::Warn { seconds: 31.0 }));
        let mut only_warn = StallWatch::new(t0, Duration::from_secs(30), None);
        assert_eq!(only_warn.check(s(31)), Some(Stall::Warn { seconds: 31.0 }));
        assert_eq!(only_warn.check(s(10_000)), None);
    }
}
