// SPDX-License-Identifier: MPL-2.0

//! What `mediastream` and MediaStreamTrack.clone() ask of a track: the
//! stream's preselection, its collection, a clone (and a clone of an
//! ended track, which plays its end at once).

use super::{CAT, EndedClone, MediaStreamSrc, Preselection};
use crate::track::{self, ReadyState};
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;

impl MediaStreamSrc {
    /// MediaStreamTrack.clone(): the same kind, constraints (on this
    /// track's device), enabled and mute-timeout.
    pub(super) fn clone_track(&self) -> crate::mediastreamsrc::MediaStreamSrc {
        let props = self.settings.lock().clone();
        let source = self.selected(|d, s| (d.clone(), s.clone()));
        let ended = self.ready_state() == ReadyState::Ended;
        let constraints = match &source {
            Some((d, _)) => pin_device(&props.constraints, &d.info.device_id),
            None => props.constraints.clone(),
        };
        let clone = glib::Object::builder::<crate::mediastreamsrc::MediaStreamSrc>()
            .property("kind", props.kind)
            .property("constraints", &constraints)
            .property("enabled", props.enabled)
            .property("mute-timeout", props.mute_timeout_ms)
            .build();
        *clone.imp().inherited.lock() = source;
        if ended {
            *clone.imp().ended_clone.lock() = Some(EndedClone::default());
        }
        gst::info!(
            CAT,
            imp = self,
            "clone(): {} with {constraints} (ended: {ended})",
            clone.name()
        );
        clone
    }

    /// `mediastream` selects for all tracks before any device opens, then
    /// hands each track its part.
    pub(crate) fn preselect(&self, p: Preselection) {
        gst::debug!(
            CAT,
            imp = self,
            "preselected by the stream: {}",
            p.settings.to_json()
        );
        self.settings.lock().constraints = p.constraints_json.clone();
        *self.preselection.lock() = Some(p);
    }

    pub(super) fn is_ended_clone(&self) -> bool {
        self.ended_clone.lock().is_some()
    }

    /// A `mediastream` holds this clone of an ended track: its stream-start
    /// carries the stream's GstStream and group id, then the collection.
    pub(crate) fn join_stream_ended(
        &self,
        stream: gst::Stream,
        group_id: gst::GroupId,
        collection: gst::StreamCollection,
    ) {
        if let Some(e) = self.ended_clone.lock().as_mut() {
            e.stream = Some(stream);
            e.group_id = Some(group_id);
            e.collection = Some(collection);
        }
    }

    /// A clone of an ended track plays: its stream-start, a segment, the
    /// stream's collection, its state (ended) and EOS, on GStreamer's
    /// async pool (a prerolling sink holds an EOS until PLAYING). No
    /// device, no caps: nothing will flow.
    pub(super) fn announce_ended(&self) {
        let (stream, group_id, collection) = {
            let e = self.ended_clone.lock();
            let Some(e) = e.as_ref() else { return };
            (e.stream.clone(), e.group_id, e.collection.clone())
        };
        let stream = stream.unwrap_or_else(|| {
            let label = self.device_label();
            track::new_stream(&self.track_id, Some(self.kind()), None, label.as_deref())
        });
        let start = gst::event::StreamStart::builder(&self.track_id)
            .group_id(group_id.unwrap_or_else(gst::GroupId::next))
            .stream(stream)
            .build();
        let mut events = vec![
            start,
            gst::event::Segment::new(&gst::FormattedSegment::<gst::ClockTime>::new()),
        ];
        events.extend(collection.map(|c| gst::event::StreamCollection::new(&c)));
        events.push(self.track_state().to_event());
        events.push(gst::event::Eos::new());
        gst::debug!(
            CAT,
            imp = self,
            "a clone of an ended track: stream-start, its state and EOS"
        );
        self.obj().call_async(move |obj| {
            for ev in events {
                // Sticky: kept on the pad if downstream is not linked yet.
                if !obj.imp().srcpad.push_event(ev) {
                    gst::debug!(CAT, obj = obj, "an event of the ended clone not taken");
                }
            }
        });
    }

    /// A new collection of the track's `mediastream`: sent before the next
    /// buffer, on the streaming thread.
    pub(crate) fn update_collection(&self, collection: gst::StreamCollection) {
        if let Some(e) = self.ended_clone.lock().as_mut() {
            e.collection = Some(collection.clone());
        }
        if let Some(p) = self.preselection.lock().as_mut() {
            p.collection = collection.clone();
        }
        if let Some(state) = self.state.lock().as_mut() {
            state.output.unsent_collection = Some(collection);
        }
    }
}
/// `constraints` (a track's JSON, valid once it started) with `deviceId`
/// required to be `device_id`.
fn pin_device(constraints: &str, device_id: &str) -> String {
    let mut v: serde_json::Value =
        serde_json::from_str(constraints).unwrap_or_else(|_| serde_json::json!({}));
    if let Some(map) = v.as_object_mut() {
        map.insert("deviceId".into(), serde_json::json!({ "exact": device_id }));
    }
    v.to_string()
}
