// SPDX-License-Identifier: MPL-2.0

//! applyConstraints: the selection on the track's own device, decided at
//! once, and the switch that restarts the device with the new settings on
//! GStreamer's async pool.

use super::{
    CAT, CapturePlan, Holders, MediaStreamSrc, State, move_capture, select_on_device,
    shared_capture,
};
use crate::constraints::caps::error_details;
use crate::constraints::{
    ConstraintError, ErrorName, SelectOptions, Settings, TrackConstraints, share,
};
use crate::devices::monitor::MediaDevice;
use crate::fault::Guarded;
use crate::mediastreamsrc::blank::Blank;
use crate::track::{self, audio_processing, track_message};
use gst::prelude::*;
use gst::subclass::prelude::*;
use std::sync::atomic::Ordering;

/// applyConstraints' settings on their way to the device.
#[derive(Default)]
pub(super) struct Switch {
    /// Settings applied and not yet running: the switcher (or the next
    /// state change up) restarts the device with them (see `try_apply`).
    pub(super) pending: Option<(Settings, usize)>,
    /// A switcher runs on the async pool.
    pub(super) running: bool,
}

impl MediaStreamSrc {
    /// applyConstraints: reselect on the track's own device.
    /// Every failure is `apply-constraints-error` (the rejected promise,
    /// with the error's name); an OverconstrainedError is also the
    /// `overconstrained` event. Each with its bus message.
    pub(super) fn apply_constraints(&self, json: &str) -> Result<(), ConstraintError> {
        let result = self.try_apply(json);
        if let Err(e) = &result {
            gst::debug!(CAT, imp = self, "applyConstraints failed: {e}");
            let constraint = e.constraint().unwrap_or_default().to_owned();
            let obj = self.obj();
            let message = |event: &str| {
                track_message(event, &self.track_id)
                    .field("name", e.name())
                    .field("constraint", &constraint)
                    .field("message", e.message())
                    .build()
            };
            obj.emit_by_name::<()>(
                "apply-constraints-error",
                &[&e.name(), &constraint, &e.message()],
            );
            track::post(&*obj, message("apply-constraints-error"));
            if e.error_name() == ErrorName::OverconstrainedError {
                obj.emit_by_name::<()>("overconstrained", &[&constraint, &e.message()]);
                track::post(&*obj, message("overconstrained"));
            }
        }
        result
    }

    pub(super) fn try_apply(&self, json: &str) -> Result<(), ConstraintError> {
        let constraints = TrackConstraints::parse(json)?;
        let (device, ended, shared) = match self.state.lock().as_ref() {
            Some(s) => (Some(s.device.clone()), s.ended(), s.shared_capture()),
            None => (None, self.is_ended_clone(), None),
        };
        if ended {
            return Err(ConstraintError::invalid_state(
                "the track has ended (stopped, or its device is gone): it has no device to reconfigure",
            ));
        }
        let device = device.ok_or_else(|| {
            ConstraintError::invalid_state(
                "the track is not started: set the constraints property, or apply once it is READY or above",
            )
        })?;
        let opts = SelectOptions {
            audio_processing: audio_processing(),
            explain: false,
        };
        // On a shared capture, the mode the device runs for every track,
        // or the one it moves to: the mode this track would run alone, if
        // it keeps every other track's settings. Decided and stored under
        // `HOLDERS` on a device others may share, so two moves do not
        // cross and no track shares this one's capture in between (read
        // again under it).
        let holders = device
            .is_exclusive()
            .then(|| Holders::lock(&device.info.device_id));
        let shared = match &holders {
            Some(_) => self.state.lock().as_ref().and_then(State::shared_capture),
            None => shared,
        };
        let (on, target) = match &shared {
            None => (device.clone(), None),
            Some(c) => {
                let others = c.others_settings(&self.obj());
                let target = select_on_device(self.kind(), &constraints, &device.info, &opts)
                    .ok()
                    .filter(|_| c.has_modes(&device.info.modes))
                    .and_then(|alone| {
                        share::move_for(
                            &alone.settings,
                            alone.mode_index,
                            &device.info,
                            c.native_mode(),
                            &c.mode(),
                            &others,
                        )
                        .map(|to| (to, alone.mode_index))
                    });
                match &target {
                    Some((to, _)) => (shared_capture::running_device(&device, to), target),
                    None => (c.as_device(), None),
                }
            }
        };
        let sel = select_on_device(self.kind(), &constraints, &on.info, &opts)?;
        // The device moves before this track's switch can run: the switch
        // builds from the mode the capture runs then.
        if let (Some(c), Some((to, native))) = (&shared, target) {
            move_capture(c, to, native, &self.obj());
        }
        // What a later move must keep, before the switch runs.
        if let Some(c) = &shared {
            c.set_settings(&self.obj(), &sel.settings);
        }
        // Decided here, applied by `run_switches`: restarting the device
        // waits for its streaming thread, which a paused sink, a full
        // appsink the caller itself drains, or the caller being that
        // thread can hold; and a camera cannot be opened twice to start the
        // new one first.
        let (changed, spawn) = {
            let mut state = self.state.lock();
            // Torn down or restarted meanwhile: the selection was for a
            // device (and its mode list) the track no longer has.
            let Some(state) = state
                .as_mut()
                .filter(|s| s.device.info.device_id == device.info.device_id)
            else {
                return Err(ConstraintError::not_found(
                    "the track stopped or restarted during applyConstraints",
                ));
            };
            // An ended track has no device to reconfigure.
            let changed = !state.ended()
                && (state.switch.pending.is_some() || state.settings != sel.settings);
            if changed {
                let (settings, mode) = (sel.settings.to_json(), sel.mode_index);
                gst::debug!(
                    CAT,
                    imp = self,
                    "applyConstraints: {settings} (mode {mode}), the device restarts"
                );
                state.switch.pending = Some((sel.settings.clone(), sel.mode_index));
                state.settings = sel.settings.clone();
                state.output.announce = true;
            } else {
                gst::debug!(CAT, imp = self, "applyConstraints: the settings stay");
            }
            state.constraints = constraints;
            (changed, state.claim_switcher())
        };
        drop(holders);
        self.settings.lock().constraints = json.to_owned();
        if spawn {
            self.spawn_switcher();
        }
        let obj = self.obj();
        obj.notify("constraints");
        if changed {
            // `mediastream-track-settings-changed` follows with the new caps.
            obj.notify("settings");
        }
        Ok(())
    }

    /// New settings while running: restart the device element inside the
    /// bin with the new chain; `src` stays, with the same stream.
    pub(super) fn switch(
        &self,
        device: &MediaDevice,
        settings: &Settings,
        mode: usize,
    ) -> Result<(), ConstraintError> {
        let obj = self.obj();
        let running = obj.current_state() > gst::State::Null;
        // A track on a shared capture changes its chain only: the capture
        // is kept across (this reference), the device keeps its mode.
        let plan = match self.state.lock().as_ref().and_then(State::shared_capture) {
            Some(capture) => CapturePlan::Shared(capture.tap(&obj, settings)),
            None => CapturePlan::Own,
        };
        self.unbuild();
        let elements = self.build(device, settings, mode, plan)?;
        let stored = {
            let mut state = self.state.lock();
            match state.as_mut() {
                Some(state) => {
                    state.elements = Some(elements);
                    state.output.dirty = true;
                    state.output.blank = Blank::default();
                    None
                }
                // Torn down meanwhile (it waits for `chain_lock`, held
                // here, so this is a panic's aftermath): nothing to run.
                None => Some(elements),
            }
        };
        if let Some(orphan) = stored {
            self.dismantle(orphan);
            return Ok(());
        }
        self.unlock_elements();
        if running {
            let elements: Vec<gst::Element> = self
                .state
                .lock()
                .as_ref()
                .and_then(|s| s.elements.as_ref())
                .map(|e| e.all().cloned().collect())
                .unwrap_or_default();
            for e in elements.iter().rev() {
                e.sync_state_with_parent().map_err(|_| {
                    ConstraintError::not_readable(format!("cannot restart '{}'", device.info.label))
                })?;
            }
        }
        gst::debug!(CAT, imp = self, "switched to {}", settings.to_json());
        Ok(())
    }

    /// PAUSED -> PLAYING: settings applied while paused go to the
    /// switcher, so the state change does not wait for the device.
    pub(super) fn resume_switches(&self) {
        let spawn = self
            .state
            .lock()
            .as_mut()
            .is_some_and(State::claim_switcher);
        if spawn {
            self.spawn_switcher();
        }
    }

    /// Restarts the device with the pending settings, if there are any and
    /// the track has not ended (and, with `playing_only`, is playing: else
    /// PAUSED -> PLAYING takes them up). Whether it switched.
    pub(super) fn apply_next_switch(&self, playing_only: bool) -> bool {
        let chain = self.chain_lock.lock();
        let next = {
            let mut state = self.state.lock();
            let Some(state) = state.as_mut() else {
                return false;
            };
            if playing_only && !state.playing() {
                return false;
            }
            let Some((settings, mode)) = state.switch.pending.take() else {
                return false;
            };
            (!state.ended()).then(|| (state.device.clone(), settings, mode))
        };
        let Some((device, settings, mode)) = next else {
            return false;
        };
        if let Err(e) = self.switch(&device, &settings, mode) {
            drop(chain);
            self.end(&format!("the device could not restart: {e}"));
            return false;
        }
        true
    }

    /// The switcher runs on GStreamer's async pool: restarting the device
    /// waits for its streaming thread, which the caller may be.
    pub(super) fn spawn_switcher(&self) {
        gst::debug!(CAT, imp = self, "switching the device on the async pool");
        self.obj().call_async(|obj| obj.imp().run_switches());
    }

    /// The switcher: applies the newest pending settings until there are
    /// none left, or the track is paused, ended or torn down.
    pub(super) fn run_switches(&self) {
        loop {
            if self.guard(|| false, |imp| imp.apply_next_switch(true)) {
                continue;
            }
            // Done only if nothing came in meanwhile (checked under the
            // lock `try_apply` sets it under).
            let mut state = self.state.lock();
            let Some(state) = state.as_mut() else {
                return;
            };
            if state.switch.pending.is_none()
                || !state.playing()
                || self.failed.load(Ordering::Acquire)
            {
                state.switch.running = false;
                return;
            }
        }
    }

    pub(super) fn apply_constraints_result(&self, json: &str) -> gst::Structure {
        match self.apply_constraints(json) {
            Ok(()) => gst::Structure::builder("mediastream-apply-result")
                .field("success", true)
                .build(),
            Err(e) => {
                let mut s = error_details(&e);
                s.set_name("mediastream-apply-result");
                s.set("success", false);
                s
            }
        }
    }
}

/// What `apply-constraints` returns once the element has panicked.
pub(super) fn panicked_result() -> gst::Structure {
    gst::Structure::builder("mediastream-apply-result")
        .field("success", false)
        .field("name", "NotReadableError")
        .field(
            "message",
            "the track failed with an internal error (see the Panicked error on the bus)",
        )
        .build()
}
