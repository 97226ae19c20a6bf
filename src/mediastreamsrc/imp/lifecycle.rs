// SPDX-License-Identifier: MPL-2.0

//! A track's chain from start to teardown: getUserMedia at NULL->READY
//! (selection, the device opened alone or from a shared capture), the
//! chain built and linked to the track's pad, and taken apart again, at
//! READY->NULL or when the track ends.

use super::{CAT, CapturePlan, Elements, MediaStreamSrc, Output, Source, State};
use crate::constraints::{ConstraintError, SelectOptions, Settings, TrackConstraints};
use crate::devices::monitor::{DeviceChange, MediaDevice, MediaDevices};
use crate::fault::Guarded;
use crate::mediastreamsrc::capture::Capture;
use crate::mediastreamsrc::chain::Chain;
use crate::mediastreamsrc::shared_capture;
use crate::track::audio_processing;
use gst::prelude::*;
use gst::subclass::prelude::*;

impl MediaStreamSrc {
    /// NULL -> READY: getUserMedia for one track (or the `mediastream`'s
    /// preselection). The state is made here, with the chain built.
    pub(super) fn start(&self) -> Result<(), gst::StateChangeError> {
        if self.is_ended_clone() {
            // Ended at birth: no selection, no device; it keeps reading its
            // source's device and settings.
            gst::debug!(CAT, imp = self, "a clone of an ended track: no device");
            return Ok(());
        }
        // From now on the track reads its own selection.
        self.inherited.lock().take();
        let (device, constraints, settings, mode, output) =
            if let Some(p) = self.preselection.lock().take() {
                gst::debug!(
                    CAT,
                    imp = self,
                    "starting the stream's selection: {}",
                    p.settings.to_json()
                );
                let output = Output {
                    dirty: true,
                    stream: Some(p.stream),
                    group_id: Some(p.group_id),
                    unsent_collection: Some(p.collection),
                    ..Default::default()
                };
                (p.device, p.constraints, p.settings, p.mode_index, output)
            } else {
                let props = self.settings.lock().clone();
                let kind = self.kind();
                let result = if props.capture == crate::mediastreamsrc::Capture::Display {
                    self.select_display(kind, &props.constraints, &props.display_surface)
                } else {
                    TrackConstraints::parse(&props.constraints).and_then(|c| {
                        let opts = SelectOptions {
                            audio_processing: audio_processing(),
                            explain: false,
                        };
                        let (sel, device) = MediaDevices::get().select_track(kind, &c, &opts)?;
                        Ok((c, sel, device))
                    })
                };
                let (constraints, sel, device) = result.map_err(|e| {
                    gst::info!(CAT, imp = self, "getUserMedia failed: {e}");
                    self.post_error(&e);
                    gst::StateChangeError
                })?;
                gst::info!(
                    CAT,
                    imp = self,
                    "selected {} on '{}' (mode {})",
                    sel.settings.to_json(),
                    device.info.label,
                    sel.mode_index
                );
                let output = Output {
                    dirty: true,
                    ..Default::default()
                };
                (device, constraints, sel.settings, sel.mode_index, output)
            };
        let (plan, settings, mode) =
            self.plan(&device, &constraints, settings, mode)
                .map_err(|e| {
                    gst::info!(CAT, imp = self, "getUserMedia failed: {e}");
                    self.post_error(&e);
                    gst::StateChangeError
                })?;
        self.open(&device, constraints, &settings, mode, plan, output)
    }

    /// getDisplayMedia for one track: `constraints` are the video member
    /// of DisplayMediaStreamOptions (its TypeErrors), `surface` the
    /// display's deviceId or empty.
    fn select_display(
        &self,
        kind: crate::constraints::Kind,
        constraints: &str,
        surface: &str,
    ) -> Result<(TrackConstraints, crate::constraints::Selection, MediaDevice), ConstraintError>
    {
        use crate::constraints::display::DisplayOptions;
        if kind == crate::constraints::Kind::Audio {
            // The system's sound, selected as a microphone is (no
            // Screen Capture rules apply to it here).
            let c = TrackConstraints::parse(constraints)?;
            let opts = SelectOptions {
                audio_processing: audio_processing(),
                explain: false,
            };
            let (sel, device) = MediaDevices::get()
                .select_system_audio(&c, &opts)
                .ok_or_else(|| {
                    ConstraintError::not_found(
                        "capture=display kind=audio: no system sound to capture (no monitor of an output; docs/display.md)",
                    )
                })??;
            gst::debug!(
                CAT,
                imp = self,
                "getDisplayMedia audio: '{}'",
                device.info.label
            );
            return Ok((c, sel, device));
        }
        let video: serde_json::Value = serde_json::from_str(constraints).map_err(|e| {
            ConstraintError::type_error(format!(
                "constraints: malformed JSON at line {}, column {}",
                e.line(),
                e.column()
            ))
        })?;
        let options = DisplayOptions::from_value(&serde_json::json!({ "video": video }))?;
        let (sel, device) = MediaDevices::get().select_display(&options, surface)?;
        gst::debug!(CAT, imp = self, "getDisplayMedia: '{}'", device.info.label);
        Ok((options.video, sel, device))
    }

    /// Builds the chain for the selection, makes the state and follows the
    /// device's removal.
    pub(super) fn open(
        &self,
        device: &MediaDevice,
        constraints: TrackConstraints,
        settings: &Settings,
        mode: usize,
        plan: CapturePlan,
        output: Output,
    ) -> Result<(), gst::StateChangeError> {
        // A switcher of an earlier run may still be on its way out.
        let chain = self.chain_lock.lock();
        let elements = self.build(device, settings, mode, plan).map_err(|e| {
            self.post_error(&e);
            gst::StateChangeError
        })?;
        let mut state = State::new(device, constraints, settings, elements);
        state.output = output;
        *self.state.lock() = Some(state);
        self.unlock_elements();
        drop(chain);
        let weak = self.obj().downgrade();
        let id = device.info.device_id.clone();
        let subscription = MediaDevices::get().subscribe(move |change| {
            if let (DeviceChange::Removed(d), Some(obj)) = (change, weak.upgrade())
                && d.info.device_id == id
            {
                obj.imp()
                    .guard(|| (), |imp| imp.end("the device was removed"));
            }
        });
        if let Some(state) = self.state.lock().as_mut() {
            state.subscription = Some(subscription);
        }
        // A shared capture moved between the tap's making and the state:
        // the move found no state to follow.
        let stale = self
            .state
            .lock()
            .as_ref()
            .and_then(|s| s.elements.as_ref())
            .is_some_and(|e| matches!(&e.source, Source::Shared(tap) if tap.is_stale()));
        if stale {
            self.follow_capture();
        }
        self.obj().notify("device-id");
        self.obj().notify("label");
        self.obj().notify("settings");
        Ok(())
    }

    /// The source (the device capture, or a tap of a shared one) and the
    /// track's chain for `settings`, in the bin, linked to `src`, locked
    /// until the caller stored them in the state (`unlock_elements`).
    pub(super) fn build(
        &self,
        device: &MediaDevice,
        settings: &Settings,
        mode: usize,
        plan: CapturePlan,
    ) -> Result<Elements, ConstraintError> {
        let (source, head, native) = match plan {
            CapturePlan::Own => {
                let capture = Capture::new(device, settings, mode)?;
                let head = capture.elements().to_vec();
                (
                    Source::Own(Box::new(capture)),
                    head,
                    device.info.modes[mode].clone(),
                )
            }
            CapturePlan::Shared(tap) => {
                let head = vec![tap.element()];
                let mode = tap.mode();
                (Source::Shared(tap), head, mode)
            }
        };
        let mut chain = Chain::new(settings, &native)?;
        let linked: Vec<gst::Element> = head.iter().chain(chain.elements()).cloned().collect();
        gst::debug!(
            CAT,
            imp = self,
            "chain for {} from '{}' mode {native}: {}",
            settings.to_json(),
            device.info.label,
            linked
                .iter()
                .map(|e| e
                    .factory()
                    .map_or_else(|| e.name().to_string(), |f| f.name().to_string()))
                .collect::<Vec<_>>()
                .join(" ! ")
        );
        // Locked until linked: the pipeline may be changing state in
        // another thread (a sink added, lost state), and a device started
        // before it is linked fails with not-linked.
        for e in &linked {
            e.set_locked_state(true);
        }
        let obj = self.obj();
        obj.add_many(&linked).map_err(|e| {
            ConstraintError::abort(format!(
                "cannot add the elements of '{}' to {}: {e}",
                device.info.label,
                obj.name()
            ))
        })?;
        let result = (|| {
            if crate::fault::fails("mediastreamsrc:link") {
                return Err(ConstraintError::abort("cannot link (injected failure)"));
            }
            gst::Element::link_many(&linked).map_err(|e| {
                ConstraintError::abort(format!(
                    "cannot link the elements of '{}': {e}",
                    device.info.label
                ))
            })?;
            chain.add_echo_reference(&*obj, &self.track_id, settings)?;
            let last = linked.last().unwrap().static_pad("src").unwrap();
            if let Err(e) = self.srcpad.set_target(Some(&last)) {
                self.remove_elements(chain.reference());
                return Err(ConstraintError::abort(format!(
                    "cannot target the track's pad at '{}': {e}",
                    device.info.label
                )));
            }
            Ok(last)
        })();
        let last = result.inspect_err(|_| self.remove_elements(&linked))?;
        if let Source::Own(capture) = &source
            && capture.is_bare()
            && let Some(filter) = chain.only_filter()
        {
            capture.follow_device_caps(&self.obj(), filter);
        }
        self.install_probe(&last);
        Ok(Elements {
            source,
            head,
            chain,
        })
    }

    /// The built elements, stored in the state, may start.
    pub(super) fn unlock_elements(&self) {
        if let Some(elements) = self.state.lock().as_ref().and_then(|s| s.elements.as_ref()) {
            elements.set_locked(false);
        }
    }

    /// Elements stopped and taken out of the bin.
    pub(super) fn remove_elements(&self, elements: &[gst::Element]) {
        crate::plumbing::discard_all(*CAT, &*self.obj(), elements, &[]);
    }

    /// Takes the elements out of the state and apart (the device released).
    pub(super) fn unbuild(&self) {
        let elements = self.state.lock().as_mut().and_then(|s| s.elements.take());
        if let Some(elements) = elements {
            self.dismantle(elements);
        }
    }

    pub(super) fn dismantle(&self, elements: Elements) {
        match &elements.source {
            Source::Own(c) => gst::debug!(
                CAT,
                imp = self,
                "taking the chain apart: '{}' (mode {}) released",
                c.device().info.label,
                c.mode()
            ),
            Source::Shared(_) => {
                gst::debug!(
                    CAT,
                    imp = self,
                    "taking the chain apart: leaving the shared capture"
                )
            }
        }
        // Locked, so a state change of the pipeline in another thread
        // cannot restart them while they are taken apart.
        elements.set_locked(true);
        self.remove_elements(elements.chain.reference());
        // Stopped first, so the old device never pushes into an unlinked pad.
        let linked: Vec<gst::Element> = elements.linked().cloned().collect();
        crate::plumbing::discard_all(*CAT, &*self.obj(), &linked, &[&self.srcpad]);
    }

    /// READY -> NULL (or a failed start): the state dropped, the device
    /// released.
    pub(super) fn teardown(&self) {
        self.teardown_chain();
        // Not under `chain_lock` (lock order).
        self.release_hold();
    }

    /// The device this track held alone is free (for the next track to
    /// hold or share).
    pub(super) fn release_hold(&self) {
        let held = self.held.lock().take();
        if let Some(id) = held {
            shared_capture::release_hold(&self.obj(), &id);
        }
    }

    pub(super) fn teardown_chain(&self) {
        let _chain = self.chain_lock.lock();
        let Some(mut state) = self.state.lock().take() else {
            return;
        };
        gst::debug!(CAT, imp = self, "teardown: the device is released");
        // Unsubscribed without our lock: the device layer may be calling
        // `end` meanwhile.
        drop(state.subscription.take());
        if let Some(elements) = state.elements.take() {
            self.dismantle(elements);
        }
    }
}
