// SPDX-License-Identifier: MPL-2.0

//! The recording's timeline: which buffers a recording takes (none while
//! paused, none late from a pause), "now" in running time, and pause and
//! resume moving the tracks' offsets so the file has no gap.

use super::outbox::Event;
use super::{MediaRecorder, Recording};
use crate::constraints::ConstraintError;
use crate::mediarecorder::{CAT, RecorderState};
use gst::prelude::*;
use gst::subclass::prelude::*;

impl MediaRecorder {
    pub(super) fn pass_buffer(&self, pad: &gst::GhostPad, pts: Option<gst::ClockTime>) -> bool {
        let segment = self
            .tracks
            .lock()
            .iter()
            .find(|t| &t.pad == pad)
            .and_then(|t| t.segment.clone());
        let rt = pts.and_then(|pts| segment.as_ref().and_then(|s| s.to_running_time(pts)));
        let mut state = self.state.lock();
        let Some(rec) = state.as_mut() else {
            return false;
        };
        if rec.stopping {
            return false;
        }
        if let Some(p) = rec.paused_at
            && rt.is_none_or(|rt| rt >= p)
        {
            return false;
        }
        if let (Some(rt), Some((p, r))) = (rt, rec.cut)
            && rt >= p
            && rt < r
        {
            return false;
        }
        let want = -(rec.paused_total.nseconds() as i64);
        let after_cut = match (rt, rec.cut) {
            (Some(rt), Some((_, r))) => rt >= r,
            _ => true,
        };
        if let Some(rt) = rt {
            rec.last_rt = Some(rec.last_rt.map_or(rt, |l| l.max(rt)));
        }
        let Some(branch) = rec.branch_mut(pad) else {
            return false;
        };
        if branch.ended {
            return false;
        }
        if branch.offset != want && after_cut {
            gst::debug!(
                CAT,
                imp = self,
                "{}: offset {want} ns from {rt:?}",
                pad.name()
            );
            // The internal pad re-sends the segment with the new offset
            // before this buffer.
            if let Some(internal) = pad.internal() {
                internal.set_offset(want);
            }
            branch.offset = want;
        }
        branch.fed = true;
        true
    }

    /// Running time now: the pipeline clock's, or the last buffer's.
    pub(super) fn now(&self, rec: &Recording) -> gst::ClockTime {
        let obj = self.obj();
        if obj.current_state() == gst::State::Playing
            && let (Some(clock), Some(base)) = (obj.clock(), obj.base_time())
        {
            return clock.time().saturating_sub(base);
        }
        rec.last_rt.unwrap_or(gst::ClockTime::ZERO)
    }

    pub(super) fn pause(&self) -> Result<(), ConstraintError> {
        {
            let mut state = self.state.lock();
            let rec = self.active(&mut state)?;
            if rec.state == RecorderState::Paused {
                return Ok(());
            }
            let now = self.now(rec);
            gst::debug!(CAT, imp = self, "pause at {now}");
            rec.paused_at = Some(now);
            rec.state = RecorderState::Paused;
            self.push(Event::Pause);
        }
        self.obj().notify("state");
        self.drain();
        Ok(())
    }

    pub(super) fn resume(&self) -> Result<(), ConstraintError> {
        {
            let mut state = self.state.lock();
            let rec = self.active(&mut state)?;
            let Some(p) = rec.paused_at.take() else {
                return Ok(());
            };
            let r = self.now(rec).max(p);
            rec.paused_total += r - p;
            rec.cut = Some((p, r));
            rec.state = RecorderState::Recording;
            gst::debug!(
                CAT,
                imp = self,
                "resume at {r}: {} paused in all",
                rec.paused_total
            );
            self.push(Event::Resume);
        }
        self.obj().notify("state");
        self.drain();
        Ok(())
    }
}
