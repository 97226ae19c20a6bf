// SPDX-License-Identifier: MPL-2.0

//! What leaves the track's pad: its identity (stream-start with the track
//! id and a GstStream, the stream collection), the state event, settings
//! that follow the caps, a disabled track's blank frames, unmute on media,
//! and the device ending on its own.

use super::{CAT, MediaStreamSrc, Phase, State};
use crate::constraints::Settings;
use crate::constraints::caps::settings_structure;
use crate::fault::Guarded;
use crate::mediastreamsrc::blank::Blank;
use crate::track::{self, ReadyState, TrackState, track_message};
use gst::prelude::*;
use gst::subclass::prelude::*;

impl MediaStreamSrc {
    pub(super) fn install_probe(&self, pad: &gst::Pad) {
        let weak = self.obj().downgrade();
        pad.add_probe(
            gst::PadProbeType::BUFFER | gst::PadProbeType::EVENT_DOWNSTREAM,
            move |pad, info| match weak.upgrade() {
                // After a panic nothing passes: a disabled track must never
                // leak the device's frames.
                Some(obj) => {
                    let ret = obj.imp().guard(
                        || None,
                        |imp| {
                            crate::fault::point("mediastreamsrc:probe");
                            Some(imp.probe(pad, info))
                        },
                    );
                    match ret {
                        Some(gst::PadProbeReturn::Drop) | None => crate::fault::drop_item(info),
                        Some(ret) => ret,
                    }
                }
                None => gst::PadProbeReturn::Ok,
            },
        );
    }

    /// What the sticky state event says now.
    pub(crate) fn track_state(&self) -> TrackState {
        let enabled = self.settings.lock().enabled;
        if self.is_ended_clone() {
            // No state: the source's device and settings, ended.
            let (device, settings) = self
                .selected(|d, s| (d.info.clone(), settings_structure(s)))
                .unzip();
            return TrackState {
                track_id: self.track_id.clone(),
                kind: self.kind(),
                label: device.as_ref().map(|d| d.label.clone()).unwrap_or_default(),
                enabled,
                muted: false,
                ready_state: ReadyState::Ended,
                settings,
                device_id: device.map(|d| d.device_id).unwrap_or_default(),
                received_codec: None,
            };
        }
        let state = self.state.lock();
        let state = state.as_ref();
        let device = state.map(|s| &s.device.info);
        TrackState {
            track_id: self.track_id.clone(),
            kind: state.map_or_else(|| self.kind(), |s| s.settings.kind()),
            label: device.map(|d| d.label.clone()).unwrap_or_default(),
            enabled,
            muted: state.is_some_and(|s| s.muted),
            ready_state: state.map_or(ReadyState::Live, State::ready_state),
            settings: state.map(|s| settings_structure(&s.settings)),
            device_id: device.map(|d| d.device_id.clone()).unwrap_or_default(),
            received_codec: None,
        }
    }

    pub(super) fn probe(
        &self,
        pad: &gst::Pad,
        info: &mut gst::PadProbeInfo,
    ) -> gst::PadProbeReturn {
        match &mut info.data {
            Some(gst::PadProbeData::Event(ev)) => self.on_event(ev),
            Some(gst::PadProbeData::Buffer(buf)) => self.on_buffer(pad, buf),
            _ => gst::PadProbeReturn::Ok,
        }
    }

    pub(super) fn on_event(&self, ev: &mut gst::Event) -> gst::PadProbeReturn {
        match ev.view() {
            gst::EventView::StreamStart(s) => {
                // The track's identity: stream-id = track id, one GstStream.
                let mut state = self.state.lock();
                let Some(st) = state.as_mut() else {
                    return gst::PadProbeReturn::Ok;
                };
                let group = *st
                    .output
                    .group_id
                    .get_or_insert_with(|| s.group_id().unwrap_or_else(gst::GroupId::next));
                let stream = st.output.stream.clone();
                let kind = st.settings.kind();
                let label = st.device.info.label.clone();
                drop(state);
                let stream = match stream {
                    Some(stream) => stream,
                    None => {
                        // Built without our lock: GstStream notifies on set_tags.
                        let made =
                            track::new_stream(&self.track_id, Some(kind), None, Some(&label));
                        let mut state = self.state.lock();
                        match state.as_mut() {
                            Some(st) => st.output.stream.get_or_insert(made).clone(),
                            None => made,
                        }
                    }
                };
                gst::debug!(
                    CAT,
                    imp = self,
                    "stream-start: track {} group {group:?}",
                    self.track_id
                );
                *ev = gst::event::StreamStart::builder(&self.track_id)
                    .group_id(group)
                    .stream(stream)
                    .build();
                gst::PadProbeReturn::Ok
            }
            gst::EventView::Caps(c) => {
                let caps = c.caps_owned();
                // GstStream notifies on set_caps: never under our lock.
                let stream = self
                    .state
                    .lock()
                    .as_ref()
                    .and_then(|s| s.output.stream.clone());
                if let Some(stream) = stream {
                    stream.set_caps(Some(&caps));
                }
                let mut state = self.state.lock();
                let Some(st) = state.as_mut() else {
                    return gst::PadProbeReturn::Ok;
                };
                let before = st.settings.clone();
                // The settings describe what flows (e.g. the negotiated rate).
                if let Some(s) = caps.structure(0) {
                    track::settings_follow_caps(&mut st.settings, s);
                }
                gst::debug!(
                    CAT,
                    imp = self,
                    "caps {caps}: settings {}",
                    st.settings.to_json()
                );
                // Told on the first caps, after applyConstraints, and when
                // what flows changes the settings; not when a chain is
                // rebuilt for a shared capture's new mode (the same
                // settings, perhaps another format).
                let quiet = st.output.caps.is_some()
                    && !std::mem::take(&mut st.output.announce)
                    && st.settings == before;
                st.output.caps = Some(caps);
                st.output.blank = Blank::default();
                st.output.dirty = true;
                let settings = st.settings.clone();
                drop(state);
                if quiet {
                    gst::debug!(CAT, imp = self, "the settings stay");
                    return gst::PadProbeReturn::Ok;
                }
                // The settings now describe what flows: first negotiation,
                // or a switch after applyConstraints.
                let obj = self.obj();
                obj.notify("settings");
                let s = track_message("settings-changed", &self.track_id)
                    .field("settings", settings_structure(&settings))
                    .build();
                track::post(&*obj, s);
                gst::PadProbeReturn::Ok
            }
            gst::EventView::Eos(_) => {
                let (stopped, app_eos) = match self.state.lock().as_ref() {
                    Some(s) => (s.ended(), s.app_eos),
                    None => (true, false),
                };
                // EOS after downstream returned EOS (it asked for the end)
                // is not the device ending.
                // (The internal pad already holds EOS here; the ghost pad
                // still has downstream's last answer.)
                let asked = self.srcpad.last_flow_result() == Err(gst::FlowError::Eos);
                if !stopped && !asked && !app_eos {
                    // The device ended on its own: the track ends.
                    gst::info!(CAT, imp = self, "the device ended its stream");
                    self.mark_ended(true);
                }
                gst::PadProbeReturn::Ok
            }
            _ => gst::PadProbeReturn::Ok,
        }
    }

    pub(super) fn on_buffer(&self, pad: &gst::Pad, buf: &mut gst::Buffer) -> gst::PadProbeReturn {
        let enabled = self.settings.lock().enabled;
        let (dirty, unmuted, collection) = {
            let mut state = self.state.lock();
            // A panic here unwinds with the state lock held.
            crate::fault::point("mediastreamsrc:buffer-locked");
            let Some(state) = state.as_mut().filter(|s| !s.ended()) else {
                return gst::PadProbeReturn::Drop;
            };
            if let Phase::Playing(check) = &mut state.phase
                && let Some(clock) = &check.clock
            {
                check.liveness.media(clock.now());
            }
            state.delivered = true;
            if let (Some(pts), Some(d)) = (buf.pts(), buf.duration()) {
                state.output.last_end = Some(pts + d);
            }
            let unmuted = std::mem::replace(&mut state.muted, false);
            let dirty = std::mem::replace(&mut state.output.dirty, false) || unmuted;
            (dirty, unmuted, state.output.unsent_collection.take())
        };
        if unmuted {
            self.notify_mute(false);
        }
        if let Some(collection) = collection {
            // The stream's collection (a `mediastream`), after stream-start,
            // caps and segment, as decodebin3 sources send it.
            if !pad.push_event(gst::event::StreamCollection::new(&collection)) {
                gst::debug!(
                    CAT,
                    imp = self,
                    "the stream collection was not taken downstream"
                );
            }
        }
        // A sticky event: if downstream refuses it now, it goes with the
        // next serialized item anyway.
        if dirty && !pad.push_event(self.track_state().to_event()) {
            gst::debug!(
                CAT,
                imp = self,
                "state event not taken now: it stays sticky"
            );
        }
        if !enabled {
            self.blank_out(buf);
        }
        gst::PadProbeReturn::Ok
    }

    /// Replaces the device's media with black or silence of the same caps
    /// and timing.
    pub(super) fn blank_out(&self, buf: &mut gst::Buffer) {
        let mut guard = self.state.lock();
        let Some(state) = guard.as_mut() else {
            return;
        };
        let video = matches!(state.settings, Settings::Video(_));
        if let Some(caps) = state.output.caps.as_ref() {
            state.output.blank.fill(buf, caps, video);
        }
    }

    pub(super) fn notify_mute(&self, muted: bool) {
        let obj = self.obj();
        obj.notify("muted");
        track::announce(&*obj, track::TrackEvent::muted(muted), &self.track_id);
    }
}
