// SPDX-License-Identifier: MPL-2.0

//! getUserMedia in one element: the constraints, the selection for every
//! kind before any device opens, one `mediastreamsrc` per track exposed
//! behind its pad; and MediaStream.clone().

use super::{MediaStream, Track};
use crate::constraints::display::DisplayOptions;
use crate::constraints::{
    ConstraintError, Kind, SelectOptions, StreamConstraints, StreamSelection,
};
use crate::devices::monitor::{MediaDevice, MediaDevices};
use crate::fault::Guarded;
use crate::mediastream::CAT;
use crate::mediastreamsrc::{MediaStreamSrc, Preselection};
use crate::track::{self, ReadyState, TrackKind};
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;

impl MediaStream {
    /// getDisplayMedia: the options' video track on the chosen surface;
    /// no audio track (the system's sound is not captured: a browser's
    /// answer when the user does not share it).
    fn select_display(
        &self,
        json: &str,
        ended: &[MediaStreamSrc],
    ) -> Result<(StreamConstraints, (StreamSelection, Vec<MediaDevice>)), ConstraintError> {
        let options = DisplayOptions::parse(json)?;
        let ended_kind = |k: Kind| ended.iter().any(|t| t.property::<TrackKind>("kind") == k);
        let mut parsed = StreamConstraints::default();
        let mut selection = StreamSelection::default();
        let mut devices = Vec::new();
        if !ended_kind(Kind::Video) {
            let surface = self.display_surface.lock().clone();
            let (sel, device) = MediaDevices::get().select_display(&options, &surface)?;
            selection.video = Some(crate::constraints::Selection {
                device_index: devices.len(),
                ..sel
            });
            devices.push(device);
            parsed.video = Some(options.video.clone());
        }
        if let Some(audio) = options.audio.as_ref().filter(|_| !ended_kind(Kind::Audio)) {
            let opts = SelectOptions {
                audio_processing: track::audio_processing(),
                explain: false,
            };
            match MediaDevices::get().select_system_audio(audio, &opts) {
                Some(found) => {
                    let (sel, device) = found?;
                    selection.audio = Some(crate::constraints::Selection {
                        device_index: devices.len(),
                        ..sel
                    });
                    devices.push(device);
                    parsed.audio = Some(audio.clone());
                }
                // As a browser whose user shares no sound: video only.
                None => gst::info!(
                    CAT,
                    imp = self,
                    "getDisplayMedia: no system sound, video only"
                ),
            }
        }
        Ok((parsed, (selection, devices)))
    }

    pub(super) fn set_constraints(&self, json: Option<String>) {
        self.set_request(json, false)
    }

    pub(super) fn set_display_constraints(&self, json: Option<String>) {
        self.set_request(json, true)
    }

    /// getUserMedia's constraints, or getDisplayMedia's options
    /// (`display`): taken in NULL, selected again in READY.
    fn set_request(&self, json: Option<String>, display: bool) {
        let obj = self.obj();
        let state = obj.current_state().max(obj.pending_state());
        if state > gst::State::Ready {
            gst::warning!(CAT, imp = self, "constraints refused in {state:?}");
            glib::g_warning!(
                "mediastream",
                "{}: constraints cannot change in {state:?}: the stream's tracks are out; set them in NULL or READY, or use apply-constraints on a track",
                obj.name()
            );
            return;
        }
        if display {
            *self.display.lock() = json;
        } else {
            *self.constraints.lock() = json;
        }
        if state == gst::State::Ready {
            gst::debug!(
                CAT,
                imp = self,
                "constraints changed in READY: selecting again"
            );
            self.remove_tracks();
            if self.get_user_media().is_ok() {
                let tracks: Vec<gst::Element> = {
                    let state = self.state.lock();
                    state.tracks.iter().map(|t| t.element.clone()).collect()
                };
                for t in tracks {
                    if t.sync_state_with_parent().is_err() {
                        gst::warning!(
                            CAT,
                            imp = self,
                            "{} cannot follow the bin's state",
                            t.name()
                        );
                    }
                }
            }
        }
    }

    /// Selection for every requested kind before any device opens, then one
    /// track per kind.
    pub(super) fn get_user_media(&self) -> Result<(), gst::StateChangeError> {
        let json = self.constraints.lock().clone();
        let display = self.display.lock().clone();
        let (json, display) = match (json, display) {
            // A stream without constraints starts empty (tracks come by addTrack).
            (None, None) => return Ok(()),
            (Some(_), Some(_)) => {
                self.post_error(&ConstraintError::type_error(
                    "constraints (getUserMedia) and display-constraints (getDisplayMedia) are both set: a stream comes from one call; give the other's tracks to this stream's sink pads",
                ));
                return Err(gst::StateChangeError);
            }
            (Some(json), None) => (json, false),
            (None, Some(json)) => (json, true),
        };
        let opts = SelectOptions {
            audio_processing: track::audio_processing(),
            explain: false,
        };
        // A clone's ended tracks: their kinds are not selected.
        let ended = self.ended.lock().clone();
        let selected = if display {
            self.select_display(&json, &ended)
        } else {
            StreamConstraints::parse(&json).and_then(|mut c| {
                for t in &ended {
                    match t.property::<TrackKind>("kind") {
                        Kind::Video => c.video = None,
                        Kind::Audio => c.audio = None,
                    }
                }
                if c.video.is_none() && c.audio.is_none() {
                    return Ok((c, Default::default()));
                }
                MediaDevices::get().select_stream(&c, &opts).map(|r| (c, r))
            })
        };
        let (mut parsed, (selection, devices)) = selected.map_err(|e| {
            self.post_error(&e);
            gst::StateChangeError
        })?;
        // Each track's own constraints, for its `constraints` property
        // (`true` is `{}`); parsed once above.
        let document: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
        let group_id = *self
            .state
            .lock()
            .group_id
            .get_or_insert_with(gst::GroupId::next);
        let mut planned = Vec::new();
        for (kind, sel) in [
            (Kind::Video, &selection.video),
            (Kind::Audio, &selection.audio),
        ] {
            let Some(sel) = sel else { continue };
            let track_json = document
                .get(kind.as_str())
                .filter(|v| v.is_object())
                .map_or_else(|| "{}".to_owned(), |v| v.to_string());
            let constraints = match kind {
                Kind::Video => parsed.video.take(),
                Kind::Audio => parsed.audio.take(),
            }
            .unwrap_or_default();
            planned.push((
                kind,
                sel.clone(),
                devices[sel.device_index].clone(),
                (track_json, constraints),
            ));
        }
        let srcs: Vec<MediaStreamSrc> = planned
            .iter()
            .map(|(kind, _, device, _)| {
                let src = glib::Object::new::<MediaStreamSrc>();
                src.set_property("kind", *kind);
                if display {
                    src.set_property("capture", crate::mediastreamsrc::Capture::Display);
                    src.set_property("display-surface", &device.info.device_id);
                }
                src
            })
            .collect();
        let streams: Vec<gst::Stream> = planned
            .iter()
            .zip(&srcs)
            .map(|((kind, _, device, _), src)| {
                let id = src.property::<String>("track-id");
                track::new_stream(&id, Some(*kind), None, Some(&device.info.label))
            })
            .collect();
        let ended_streams: Vec<gst::Stream> = ended
            .iter()
            .map(|src| {
                let id = src.property::<String>("track-id");
                let kind = src.property::<TrackKind>("kind");
                let label = src.property::<Option<String>>("label");
                track::new_stream(&id, Some(kind), None, label.as_deref())
            })
            .collect();
        let collection = gst::StreamCollection::builder(Some(&self.id.lock().clone()))
            .streams(streams.iter().chain(&ended_streams).cloned())
            .build();

        let obj = self.obj();
        let mut tracks = Vec::new();
        for (((kind, sel, device, (track_json, constraints)), src), stream) in
            planned.into_iter().zip(srcs).zip(streams)
        {
            src.imp().preselect(Preselection {
                device,
                settings: sel.settings.clone(),
                mode_index: sel.mode_index,
                constraints_json: track_json,
                constraints,
                stream: stream.clone(),
                group_id,
                collection: collection.clone(),
            });
            obj.add(&src).map_err(|_| gst::StateChangeError)?;
            let pad = self.track_pad(&src, kind.as_str(), &tracks)?;
            let life = self.gate.lifeline(&*obj);
            src.connect_notify(Some("ready-state"), move |_, _| {
                life.with(|obj| obj.imp().guard(|| (), |imp| imp.update_active()));
            });
            tracks.push(Track {
                id: src.property::<String>("track-id"),
                element: src.upcast(),
                pad: Some(pad),
                sinkpad: None,
                live: true,
                stream: Some(stream),
                pending_collection: None,
                replay: Vec::new(),
                replay_due: false,
                origin: None,
            });
        }
        for (src, stream) in ended.into_iter().zip(ended_streams) {
            src.imp()
                .join_stream_ended(stream.clone(), group_id, collection.clone());
            obj.add(&src).map_err(|_| gst::StateChangeError)?;
            let pad = self.track_pad(&src, src.property::<TrackKind>("kind").as_str(), &tracks)?;
            tracks.push(Track {
                id: src.property::<String>("track-id"),
                element: src.upcast(),
                pad: Some(pad),
                sinkpad: None,
                live: false,
                stream: Some(stream),
                pending_collection: None,
                replay: Vec::new(),
                replay_due: false,
                origin: None,
            });
        }
        gst::info!(CAT, imp = self, "getUserMedia: {} tracks", tracks.len());
        {
            let mut state = self.state.lock();
            // Ended tracks (a clone's) do not make it active.
            let active = tracks
                .iter()
                .chain(state.tracks.iter().filter(|t| t.sinkpad.is_some()))
                .any(Track::is_live);
            state.active = active;
            // Tracks added on sink pads stay.
            state.tracks.retain(|t| t.sinkpad.is_some());
            state.tracks.extend(tracks);
            state.exposed = false;
            state.collection = Some(collection);
        }
        obj.notify("active");
        obj.notify("track-ids");
        Ok(())
    }

    /// Adds the tracks' pads and posts the stream collection.
    pub(super) fn expose(&self) -> Result<(), glib::BoolError> {
        let (pads, collection) = {
            let mut state = self.state.lock();
            if std::mem::replace(&mut state.exposed, true) {
                return Ok(());
            }
            let pads: Vec<gst::GhostPad> = state
                .tracks
                .iter()
                .filter(|t| t.sinkpad.is_none())
                .filter_map(|t| t.pad.clone())
                .collect();
            (pads, state.collection.clone())
        };
        let obj = self.obj();
        for pad in &pads {
            pad.set_active(true)?;
            obj.add_pad(pad)?;
        }
        // No more getUserMedia pads; a stream without constraints waits for
        // addTrack, so it does not say so.
        if !pads.is_empty() {
            obj.no_more_pads();
        }
        if let Some(collection) = collection {
            // Fails only without a bus (no parent yet): no one to tell.
            let _ = obj.post_message(
                gst::message::StreamCollection::builder(&collection)
                    .src(&*obj)
                    .build(),
            );
        }
        Ok(())
    }

    /// `constraints`: read by getUserMedia on NULL -> READY. In READY the
    /// tracks are selected but their pads not yet exposed, so the stream
    /// selects again; from PAUSED on the pads are out and the value is
    /// refused (apply-constraints on a track changes its settings).
    /// MediaStream.clone(): the same constraints, each kind on the device
    /// this stream's track of that kind runs.
    pub(super) fn clone_stream(&self) -> crate::mediastream::MediaStream {
        let json = self
            .constraints
            .lock()
            .clone()
            .unwrap_or_else(|| "{}".into());
        let mut constraints: serde_json::Value =
            serde_json::from_str(&json).unwrap_or_else(|_| serde_json::json!({}));
        let own: Vec<MediaStreamSrc> = self
            .state
            .lock()
            .tracks
            .iter()
            .filter(|t| t.sinkpad.is_none())
            .filter_map(|t| t.element.downcast_ref::<MediaStreamSrc>().cloned())
            .collect();
        let devices: Vec<(String, String)> = own
            .iter()
            .filter_map(|t| {
                let kind = t.property::<TrackKind>("kind").as_str().to_owned();
                let id = t.property::<Option<String>>("device-id")?;
                Some((kind, id))
            })
            .collect();
        // W3C: the clone of an ended track is ended. Its kind stays in the
        // clone's constraints (they read as the source's) and is not
        // selected.
        let ended: Vec<MediaStreamSrc> = own
            .iter()
            .filter(|t| t.property::<ReadyState>("ready-state") == ReadyState::Ended)
            .map(|t| t.emit_by_name::<MediaStreamSrc>("clone", &[]))
            .collect();
        if let Some(map) = constraints.as_object_mut() {
            for (kind, id) in devices {
                let mut track = match map.remove(&kind) {
                    Some(serde_json::Value::Object(o)) => o,
                    _ => serde_json::Map::new(),
                };
                track.insert("deviceId".into(), serde_json::json!({ "exact": id }));
                map.insert(kind, serde_json::Value::Object(track));
            }
        }
        let constraints = constraints.to_string();
        gst::info!(
            CAT,
            imp = self,
            "clone(): {constraints}, {} ended track(s)",
            ended.len()
        );
        let clone = glib::Object::builder::<crate::mediastream::MediaStream>()
            .property("constraints", &constraints)
            .build();
        *clone.imp().ended.lock() = ended;
        clone
    }
}
