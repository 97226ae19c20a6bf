// SPDX-License-Identifier: MPL-2.0

//! MediaStreamTrack.muted, detected the same way by every element that
//! carries a track (`mediastreamsrc`, `mediastreamrtpdec`): [`Liveness`]
//! decides (pure: clock times in, a verdict out), [`MuteClock`] waits on
//! the pipeline clock for the next check (one single-shot clock id, moved
//! on at each check; no thread of its own, so a test drives it with a
//! `TestClock`).

use gst::prelude::*;

/// `mute-timeout` of the elements that carry a track, in milliseconds: the
/// default, and the least (below it the pipeline clock would wake for
/// every frame).
pub const DEFAULT_MUTE_TIMEOUT_MS: u32 = 1000;
pub const MIN_MUTE_TIMEOUT_MS: u32 = 10;

/// The pipeline clock while the track plays, and the check it waits for.
pub struct MuteClock {
    clock: gst::Clock,
    pending: Option<gst::SingleShotClockId>,
    /// The id replaced last, kept referenced until the next replacement:
    /// a check re-arms from inside its own id's callback, and the clock
    /// still reads that id after the callback returns (`GstTestClock`
    /// does); unscheduled and dropped there, it would be freed under it.
    retired: Option<gst::SingleShotClockId>,
}

impl MuteClock {
    pub fn new(clock: gst::Clock) -> MuteClock {
        MuteClock {
            clock,
            pending: None,
            retired: None,
        }
    }

    /// The clock's time now: when media last came, when to check next.
    pub fn now(&self) -> gst::ClockTime {
        self.clock.time()
    }

    /// Calls `check` at `at` on the clock's thread, instead of any check
    /// pending. The caller's check decides whether the track mutes and
    /// schedules the next one.
    pub fn check_at(&mut self, at: gst::ClockTime, check: impl Fn() + Send + Sync + 'static) {
        if let Some(old) = self.pending.take() {
            old.unschedule();
            self.retired = Some(old);
        }
        let id = self.clock.new_single_shot_id(at);
        match id.wait_async(move |_, _, _| check()) {
            Ok(_) => self.pending = Some(id),
            // Only an id of another clock, or one unscheduled, fails here.
            Err(e) => gst::warning!(gst::CAT_DEFAULT, "cannot wait for the mute check: {e:?}"),
        }
    }
}

/// When a track mutes: no media for `timeout` of the pipeline clock.
#[derive(Debug, Clone)]
pub struct Liveness {
    timeout: gst::ClockTime,
    /// The last media, or where the silence is counted from.
    last_media: Option<gst::ClockTime>,
}

/// What a check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Media within the timeout (or none yet, when counting from the first
    /// media): check again then.
    Alive { next: gst::ClockTime },
    /// No media for the timeout: the track is muted (or stays muted). The
    /// silence is counted anew from now: the next check, at `next`, finds
    /// it silent again unless media came.
    Silent { next: gst::ClockTime },
}

impl Liveness {
    /// Silence counted from `since`; with `None`, only from the first
    /// media on (a device that has not started yet is not muted).
    pub fn new(timeout: gst::ClockTime, since: Option<gst::ClockTime>) -> Liveness {
        Liveness {
            timeout,
            last_media: since,
        }
    }

    /// A new timeout (the element's `mute-timeout` changed), from the next
    /// check on.
    pub fn set_timeout(&mut self, timeout: gst::ClockTime) {
        self.timeout = timeout;
    }

    /// Media arrived at `now`.
    pub fn media(&mut self, now: gst::ClockTime) {
        self.last_media = Some(now);
    }

    /// The check at `now`.
    pub fn check(&mut self, now: gst::ClockTime) -> Verdict {
        match self.last_media.map(|last| last + self.timeout) {
            None => Verdict::Alive {
                next: now + self.timeout,
            },
            Some(due) if now < due => Verdict::Alive { next: due },
            Some(_) => {
                self.last_media = Some(now);
                Verdict::Silent {
                    next: now + self.timeout,
                }
            }
        }
    }
}

impl Drop for MuteClock {
    fn drop(&mut self) {
        // Does not wait: a check running now finds the track not playing.
        if let Some(id) = self.pending.take() {
            id.unschedule();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> gst::ClockTime {
        gst::ClockTime::from_mseconds(v)
    }

    #[test]
    fn silence_mutes_after_the_timeout_and_media_keeps_it_alive() {
        let mut l = Liveness::new(ms(100), Some(ms(0)));
        assert_eq!(l.check(ms(50)), Verdict::Alive { next: ms(100) });
        l.media(ms(80));
        assert_eq!(l.check(ms(100)), Verdict::Alive { next: ms(180) });
        assert_eq!(l.check(ms(180)), Verdict::Silent { next: ms(280) });
        // Still nothing: silent again a timeout later.
        assert_eq!(l.check(ms(280)), Verdict::Silent { next: ms(380) });
        l.media(ms(300));
        assert_eq!(l.check(ms(380)), Verdict::Alive { next: ms(400) });
    }

    #[test]
    fn counting_from_the_first_media_never_mutes_before_it() {
        let mut l = Liveness::new(ms(100), None);
        assert_eq!(l.check(ms(0)), Verdict::Alive { next: ms(100) });
        assert_eq!(l.check(ms(5000)), Verdict::Alive { next: ms(5100) });
        l.media(ms(5050));
        assert_eq!(l.check(ms(5150)), Verdict::Silent { next: ms(5250) });
    }

    #[test]
    fn a_late_check_mutes_at_once() {
        let mut l = Liveness::new(ms(10), Some(ms(0)));
        assert_eq!(l.check(ms(1000)), Verdict::Silent { next: ms(1010) });
    }
}
