// SPDX-License-Identifier: MPL-2.0

//! The track's mute detection while it plays (crate::track::liveness), and
//! the check that mutes a stalled device and keeps downstream moving.

use gst::prelude::*;
use gst::subclass::prelude::*;

use super::{CAT, MediaStreamSrc, MuteCheck, Phase};
use crate::fault::Guarded;
use crate::track::liveness::{Liveness, MuteClock, Verdict};

impl MediaStreamSrc {
    /// PAUSED -> PLAYING: mute checks on the pipeline clock, the first
    /// one mute-timeout from now.
    pub(super) fn start_mute_checks(&self) {
        let obj = self.obj();
        let clock = obj.clock();
        if clock.is_none() {
            gst::warning!(CAT, imp = self, "no clock: the track cannot detect a stall");
        }
        let timeout = self.mute_timeout();
        let mut state = self.state.lock();
        let Some(state) = state.as_mut().filter(|s| !s.ended()) else {
            return;
        };
        let clock = clock.map(|clock| {
            let mut mute = MuteClock::new(clock);
            let first = mute.now() + timeout;
            schedule(&mut mute, first, &obj);
            mute
        });
        state.phase = Phase::Playing(MuteCheck {
            clock,
            // A device that has not delivered yet is not stalled.
            liveness: Liveness::new(timeout, None),
        });
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
            // Only while playing (not ended, not pausing: a paused sink
            // would hold the GAP).
            let Some(state) = guard.as_mut() else {
                return;
            };
            let Phase::Playing(check) = &mut state.phase else {
                return;
            };
            let Some(mute) = check.clock.as_mut() else {
                return;
            };
            let now = mute.now();
            check.liveness.set_timeout(timeout);
            match check.liveness.check(now) {
                Verdict::Alive { next } => {
                    // Nothing yet, or media since: check again when due.
                    schedule(mute, next, &obj);
                    return;
                }
                Verdict::Silent { next } => schedule(mute, next, &obj),
            }
            let newly = !std::mem::replace(&mut state.muted, true);
            state.output.dirty = true;
            state.delivered = true;
            (newly, state.output.last_end)
        };
        if newly {
            gst::info!(CAT, imp = self, "no media for {timeout}: muted");
            self.notify_mute(true);
        }
        if let (Some(pos), Some(state)) = (gap_at, self.state.lock().as_mut()) {
            state.output.last_end = Some(pos + timeout);
        }
        if !newly && gap_at.is_none() {
            return;
        }
        // From the pool, not the clock's thread: a push waits for the pad's
        // stream lock, which a streaming thread blocked downstream (a muxer
        // waiting for another track) may hold for long, and every check on
        // this clock would wait with it.
        self.obj().call_async(move |obj| {
            obj.imp().guard(
                || (),
                |imp| {
                    if newly && !imp.srcpad.push_event(imp.track_state().to_event()) {
                        gst::debug!(
                            CAT,
                            imp = imp,
                            "muted state event not taken now: it stays sticky"
                        );
                    }
                    if let Some(pos) = gap_at {
                        gst::log!(CAT, imp = imp, "muted: GAP at {pos}");
                        let gap = gst::event::Gap::builder(pos).duration(timeout).build();
                        if !imp.srcpad.push_event(gap) {
                            gst::debug!(CAT, imp = imp, "GAP not taken downstream");
                        }
                    }
                },
            )
        });
    }
}

/// The track's `check_mute` at `at`, on the clock's thread.
fn schedule(
    mute: &mut MuteClock,
    at: gst::ClockTime,
    track: &crate::mediastreamsrc::MediaStreamSrc,
) {
    let weak = track.downgrade();
    mute.check_at(at, move || {
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
}
