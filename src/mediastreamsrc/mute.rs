// SPDX-License-Identifier: MPL-2.0

//! Mute detection on the pipeline clock: one single-shot clock id at the
//! time the track would mute if nothing came, moved on at each check. No
//! thread of its own; a test drives it with a `TestClock`.

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;

use super::{CAT, MediaStreamSrc, ReadyState};
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
    pub(super) fn check_at(
        &mut self,
        at: gst::ClockTime,
        track: &crate::mediastreamsrc::MediaStreamSrc,
    ) {
        if let Some(old) = self.pending.take() {
            old.unschedule();
        }
        let id = self.clock.new_single_shot_id(at);
        let weak: glib::WeakRef<crate::mediastreamsrc::MediaStreamSrc> = track.downgrade();
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

impl MediaStreamSrc {
    /// PAUSED -> PLAYING: mute checks on the pipeline clock, the first
    /// one mute-timeout from now.
    pub(super) fn start_mute_checks(&self) {
        let obj = self.obj();
        let Some(clock) = obj.clock() else {
            gst::warning!(CAT, imp = self, "no clock: the track cannot detect a stall");
            return;
        };
        let timeout = self.mute_timeout();
        let mut state = self.state.lock();
        let mut mute = MuteClock::new(clock);
        mute.check_at(mute.now() + timeout, &obj);
        state.last_media = None;
        state.mute = Some(mute);
        gst::debug!(CAT, imp = self, "mute checks every {timeout} without media");
    }

    pub(super) fn mute_timeout(&self) -> gst::ClockTime {
        gst::ClockTime::from_mseconds(self.settings.lock().mute_timeout_ms as u64)
    }

    /// On the clock's thread: mutes a track whose live device delivered
    /// nothing for mute-timeout, and keeps downstream moving with GAP
    /// events while it is muted.
    pub(super) fn check_mute(&self) {
        let timeout = self.mute_timeout();
        let obj = self.obj();
        let (newly, gap_at) = {
            let mut guard = self.state.lock();
            let state = &mut *guard;
            // Not while pausing either: a paused sink would hold the GAP.
            if !state.playing || state.finished || state.ready_state == ReadyState::Ended {
                return;
            }
            let Some(mute) = state.mute.as_mut() else {
                return;
            };
            let now = mute.now();
            let due = state.last_media.map(|last| last + timeout);
            if due.is_none_or(|due| now < due) {
                // Nothing yet, or media since: check again when it would be due.
                mute.check_at(due.filter(|d| *d > now).unwrap_or(now + timeout), &obj);
                return;
            }
            mute.check_at(now + timeout, &obj);
            let newly = !state.muted;
            state.muted = true;
            state.state_dirty = true;
            state.last_media = Some(now);
            state.delivered = true;
            (newly, state.last_end)
        };
        if newly {
            gst::info!(CAT, imp = self, "no media for {timeout}: muted");
            self.notify_mute(true);
            let _ = self.srcpad.push_event(self.track_state().to_event());
        }
        if let Some(pos) = gap_at {
            gst::log!(CAT, imp = self, "muted: GAP at {pos}");
            let gap = gst::event::Gap::builder(pos).duration(timeout).build();
            let _ = self.srcpad.push_event(gap);
            self.state.lock().last_end = Some(pos + timeout);
        }
    }
}
