// SPDX-License-Identifier: MPL-2.0

//! How a track captures from an exclusive device another track may run:
//! alone (it holds the device), or tapping the capture another track runs,
//! which may move (still running) into a pipeline of its own and to another
//! mode (crate::mediastreamsrc::shared_capture). Decided under the
//! device's entry in the registry of shared captures.

use super::{CAT, CapturePlan, MediaStreamSrc, Source};
use crate::constraints::{
    ConstraintError, SelectOptions, Settings, TrackConstraints, select_on_device, share,
};
use crate::devices::monitor::MediaDevice;
use crate::fault::Guarded;
use crate::mediastreamsrc::shared_capture::{self, Holders, Running, SharedCapture};
use crate::track::audio_processing;
use gst::prelude::*;
use gst::subclass::prelude::*;
use std::sync::Arc;

impl MediaStreamSrc {
    /// How the track captures from `device`: alone (it holds the device
    /// from now on), or from the capture another track runs, adapted from
    /// the mode the device runs (re-selected on that mode only).
    pub(super) fn plan(
        &self,
        device: &MediaDevice,
        constraints: &TrackConstraints,
        settings: Settings,
        mode: usize,
    ) -> Result<(CapturePlan, Settings, usize), ConstraintError> {
        if !device.is_exclusive() {
            // Its provider shares it (PipeWire, PulseAudio): a capture each.
            return Ok((CapturePlan::Own, settings, mode));
        }
        let obj = self.obj();
        let id = &device.info.device_id;
        let mut holders = Holders::lock(id);
        let Some(running) = holders.running(&obj) else {
            gst::debug!(CAT, imp = self, "'{}' is ours alone", device.info.label);
            holders.hold(&obj);
            *self.held.lock() = Some(id.clone());
            return Ok((CapturePlan::Own, settings, mode));
        };
        let (running_mode, native) = match &running {
            Running::Shared(c) => Some((c.mode(), c.native_mode())),
            Running::Track(t) => t.imp().capture_mode(),
        }
        .ok_or_else(|| {
            ConstraintError::not_readable(format!(
                "'{}' is busy: another track on it is ending",
                device.info.label
            ))
        })?;
        let others: Vec<Settings> = match &running {
            Running::Shared(c) => c.others_settings(&obj),
            Running::Track(t) => t.imp().live_settings().into_iter().collect(),
        };
        // The modes the running capture was chosen from, as this selection
        // knows them (else no move: the indexes would differ).
        let same_modes = match &running {
            Running::Shared(c) => c.has_modes(&device.info.modes),
            Running::Track(t) => t.imp().has_modes(&device.info.modes),
        };
        // What the track would get alone, if a mode gives it and keeps the
        // others; else adapted from the running mode, or refused.
        let target = share::move_for(
            &settings,
            mode,
            &device.info,
            native,
            &running_mode,
            &others,
        )
        .filter(|_| same_modes);
        let runs = target.clone().unwrap_or_else(|| running_mode.clone());
        let on = shared_capture::running_device(device, &runs);
        let opts = SelectOptions {
            audio_processing: audio_processing(),
            explain: false,
        };
        let sel = select_on_device(self.kind(), constraints, &on.info, &opts)?;
        gst::info!(
            CAT,
            imp = self,
            "'{}' runs {running_mode} for {} other track(s): {} from {runs}",
            device.info.label,
            others.len(),
            sel.settings.to_json()
        );
        let capture = match running {
            Running::Shared(c) => c,
            Running::Track(t) => {
                let c = t.imp().share_capture()?;
                holders.share(&c);
                c
            }
        };
        if let Some(target) = target {
            move_capture(&capture, target, mode, &obj);
        }
        // Tapped now, under `HOLDERS`: a move from here on keeps its settings.
        let tap = capture.tap(&obj, &sel.settings);
        Ok((CapturePlan::Shared(tap), sel.settings, sel.mode_index))
    }

    /// The capture this track runs or taps, as the mode it delivers and
    /// the device's native mode it comes from.
    pub(in crate::mediastreamsrc) fn capture_mode(
        &self,
    ) -> Option<(crate::constraints::NativeMode, usize)> {
        let state = self.state.lock();
        let el = state.as_ref().filter(|s| !s.ended())?.elements.as_ref()?;
        match &el.source {
            Source::Own(c) => Some((c.running_mode(), c.mode())),
            Source::Shared(tap) => tap.capture().map(|c| (c.mode(), c.native_mode())),
        }
    }

    /// Whether the track's device has `modes`.
    pub(in crate::mediastreamsrc) fn has_modes(
        &self,
        modes: &[crate::constraints::NativeMode],
    ) -> bool {
        self.state
            .lock()
            .as_ref()
            .is_some_and(|s| s.device.info.modes == modes)
    }

    /// The track's settings while it is live.
    pub(in crate::mediastreamsrc) fn live_settings(&self) -> Option<Settings> {
        let state = self.state.lock();
        state
            .as_ref()
            .filter(|s| !s.ended())
            .map(|s| s.settings.clone())
    }

    /// The shared capture moved to another mode: the chain is rebuilt for
    /// it with the same settings (nothing the track reports changes); until
    /// then the tap gets no frames.
    pub(in crate::mediastreamsrc) fn follow_capture(&self) {
        let spawn = {
            let mut state = self.state.lock();
            let Some(state) = state.as_mut().filter(|s| !s.ended()) else {
                return;
            };
            if state.switch.pending.is_none() {
                // The mode index is the capture's on a shared one.
                state.switch.pending = Some((state.settings.clone(), 0));
            }
            state.claim_switcher()
        };
        gst::debug!(
            CAT,
            imp = self,
            "the shared capture moved: the chain follows"
        );
        if spawn {
            self.spawn_switcher();
        }
    }

    /// Another track wants this track's device: the capture moves, still
    /// running, into a pipeline of its own, and this track taps it.
    pub(in crate::mediastreamsrc) fn share_capture(
        &self,
    ) -> Result<Arc<SharedCapture>, ConstraintError> {
        let busy = |why: &str| {
            ConstraintError::not_readable(format!("the device is busy and cannot be shared: {why}"))
        };
        let _chain = self.chain_lock.lock();
        let (capture, downstream, settings) = {
            let state = self.state.lock();
            let state = state
                .as_ref()
                .filter(|s| !s.ended())
                .ok_or_else(|| busy("its track is ending"))?;
            let el = state
                .elements
                .as_ref()
                .ok_or_else(|| busy("its track is ending"))?;
            // Settings applied and not yet running would be built from the
            // shared capture's mode, which may not give them.
            if state.switch.pending.is_some() {
                return Err(busy("its track is applying constraints (try again)"));
            }
            match &el.source {
                Source::Shared(tap) => {
                    return tap
                        .capture()
                        .cloned()
                        .ok_or_else(|| busy("its track is ending"));
                }
                Source::Own(c) => (c.clone(), el.chain.sink_pad(), state.settings.clone()),
            }
        };
        gst::debug!(
            CAT,
            imp = self,
            "sharing the capture of '{}'",
            capture.device().info.label
        );
        let shared = SharedCapture::new(&capture).map_err(|e| busy(&e))?;
        let tap = shared.tap(&self.obj(), &settings);
        let input = tap.element();
        input.set_locked_state(true);
        let obj = self.obj();
        obj.add(&input).map_err(|e| busy(&e.to_string()))?;
        if let Err(e) = shared.adopt(&capture, obj.upcast_ref(), &downstream, &input) {
            self.remove_elements(&[input]);
            return Err(busy(&e));
        }
        input.set_locked_state(false);
        if input.sync_state_with_parent().is_err() {
            gst::warning!(CAT, imp = self, "the shared capture's input cannot start");
        }
        if let Some(el) = self.state.lock().as_mut().and_then(|s| s.elements.as_mut()) {
            el.source = Source::Shared(tap);
            el.head = vec![input];
        }
        Ok(shared)
    }

    /// A shared capture's device failed or ended.
    pub(in crate::mediastreamsrc) fn device_lost(&self, why: &str) {
        self.guard(|| (), |imp| imp.end(why));
    }
}

/// Moves a shared capture to `running` (from the device's native mode
/// `native`) for `by`; every other track on it rebuilds its chain for the
/// new mode. Under `HOLDERS`, so two moves do not cross.
pub(super) fn move_capture(
    capture: &Arc<SharedCapture>,
    running: crate::constraints::NativeMode,
    native: usize,
    by: &crate::mediastreamsrc::MediaStreamSrc,
) {
    capture.move_to(running, native);
    for track in capture.tracks(by) {
        track.imp().follow_capture();
    }
}
