// SPDX-License-Identifier: MPL-2.0

//! Mute detection on the pipeline clock: one single-shot clock id at the
//! time the track would mute if nothing came, moved on at each check. No
//! thread of its own; a test drives it with a `TestClock`.

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;

use crate::fault::Guarded;

/// The pipeline clock while the track plays, and the check it waits for.
pub(super) struct MuteClock {
    clock: gst::Clock,
    pending: Option<gst::SingleShotClockId>,
}

impl MuteClock {
    pub(super) fn new(clock: gst::Clock) -> MuteClock {
        MuteClock {
            clock,
            pending: None,
        }
    }

    /// The clock's time now: when media last came, when to check next.
    pub(super) fn now(&self) -> gst::ClockTime {
        self.clock.time()
    }

    /// Calls the track's `check_mute` at `at` on the clock's thread,
    /// instead of any check pending.
    pub(super) fn check_at(&mut self, at: gst::ClockTime, track: &super::MediaStreamSrc) {
        if let Some(old) = self.pending.take() {
            old.unschedule();
        }
        let id = self.clock.new_single_shot_id(at);
        let weak: glib::WeakRef<super::MediaStreamSrc> = track.downgrade();
        let waited = id.wait_async(move |_, _, _| {
            if let Some(track) = weak.upgrade() {
                track.imp().guard(
                    || (),
                    |imp| {
                        crate::fault::point("mediastreamsrc:mute");
                        imp.check_mute()
                    },
                );
            }
        });
        if waited.is_ok() {
            self.pending = Some(id);
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
