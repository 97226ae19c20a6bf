// SPDX-License-Identifier: MPL-2.0

//! Mute detection on the pipeline clock, shared by the elements that carry
//! a track (`mediastreamsrc`, `mediastreamrtpdec`): one single-shot clock
//! id at the time the track would mute if nothing came, moved on at each
//! check. No thread of its own; a test drives it with a `TestClock`.

use gst::prelude::*;

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

impl Drop for MuteClock {
    fn drop(&mut self) {
        // Does not wait: a check running now finds the track not playing.
        if let Some(id) = self.pending.take() {
            id.unschedule();
        }
    }
}
