// SPDX-License-Identifier: MPL-2.0

//! addTrack: tracks that join the stream through its `sink_%u` pads (a
//! branch linked by the application, or a remote peer's tracks), their
//! ids, the local track followed, the stream's events restamped, and the
//! replay of what a late downstream missed.

use super::{Following, MediaStream, Track, free_pad_name, remove_own_pad};
use crate::fault::Guarded;
use crate::lifeline::Lifeline;
use crate::mediastream::CAT;
use crate::mediastreamsrc::MediaStreamSrc;
use crate::track::{self, ReadyState, TrackKind, TrackState};
use gst::prelude::*;
use gst::subclass::prelude::*;

/// What a pass-through's probe does with the stream: `f` only inside the
/// gate, the pass-through too (it goes with the bin's dispose), under the
/// panic guard at the fault point `point`. False after a panic: the probe
/// drops the item.
fn in_gate(
    life: &Lifeline<crate::mediastream::MediaStream>,
    pass: &gst::glib::WeakRef<gst::Element>,
    point: &'static str,
    f: impl FnOnce(&MediaStream, &gst::Element),
) -> bool {
    let passed = life.with(|obj| {
        let pass = pass.upgrade()?;
        Some(obj.imp().guard(
            || false,
            |imp| {
                crate::fault::point(point);
                f(imp, &pass);
                true
            },
        ))
    });
    passed != Some(Some(false))
}

impl MediaStream {
    /// addTrack: a `sink_%u` pad whose branch becomes a track with its own
    /// src pad, once its caps say its kind.
    pub(super) fn add_track_pad(&self, templ: &gst::PadTemplate) -> Option<gst::Pad> {
        gst::debug!(
            CAT,
            imp = self,
            "addTrack: a {} pad requested",
            templ.name_template()
        );
        let obj = self.obj();
        let pass = gst::ElementFactory::make("identity")
            .property("silent", true)
            .build()
            .ok()?;
        obj.add(&pass).ok()?;
        let n = {
            let mut state = self.state.lock();
            state.added_pads += 1;
            state.added_pads - 1
        };
        let sinkpad =
            gst::GhostPad::builder_from_template_with_target(templ, &pass.static_pad("sink")?)
                .ok()?
                .name(format!("sink_{n}"))
                .build();
        let life = self.gate.lifeline(&*obj);
        let pass_weak = pass.downgrade();
        // On the way in: the src pad must exist (and be linked by
        // `pad-added`) before the first buffer leaves.
        pass.static_pad("sink")?
            .add_probe(gst::PadProbeType::EVENT_DOWNSTREAM, move |_, info| {
                let Some(gst::PadProbeData::Event(ev)) = &mut info.data else {
                    return gst::PadProbeReturn::Ok;
                };
                let passed = in_gate(
                    &life,
                    &pass_weak,
                    "mediastream:added-track-event",
                    |imp, pass| {
                        if let Some(start) = imp.restamp(ev) {
                            *ev = start;
                        }
                        imp.on_added_event(pass, ev);
                    },
                );
                if !passed {
                    return crate::fault::drop_item(info);
                }
                gst::PadProbeReturn::Ok
            });
        let life = self.gate.lifeline(&*obj);
        let pass_weak = pass.downgrade();
        pass.static_pad("src")?
            .add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
                let passed = in_gate(
                    &life,
                    &pass_weak,
                    "mediastream:added-track-buffer",
                    |imp, pass| {
                        let pending = imp
                            .state
                            .lock()
                            .tracks
                            .iter_mut()
                            .find(|t| t.element == *pass)
                            .and_then(|t| t.pending_collection.take());
                        if let Some(collection) = pending
                            && !pad.push_event(gst::event::StreamCollection::new(&collection))
                        {
                            gst::debug!(CAT, "stream collection not taken downstream");
                        }
                    },
                );
                if !passed {
                    return crate::fault::drop_item(info);
                }
                gst::PadProbeReturn::Ok
            });
        // A branch that already started joins when it is linked.
        let life = self.gate.lifeline(&*obj);
        let pass_weak = pass.downgrade();
        sinkpad.connect_linked(move |_, peer| {
            life.with(|obj| {
                let Some(pass) = pass_weak.upgrade() else {
                    return;
                };
                obj.imp().guard(
                    || (),
                    |imp| {
                        crate::fault::point("mediastream:linked");
                        imp.join_from_peer(&pass, peer)
                    },
                )
            });
        });
        self.state.lock().tracks.push(Track {
            id: String::new(),
            element: pass.clone(),
            pad: None,
            sinkpad: Some(sinkpad.clone()),
            live: true,
            stream: None,
            pending_collection: None,
            replay: Vec::new(),
            replay_due: false,
            origin: None,
        });
        if pass.sync_state_with_parent().is_err() {
            gst::warning!(
                CAT,
                imp = self,
                "{} cannot follow the bin's state",
                pass.name()
            );
        }
        sinkpad.set_active(true).ok()?;
        obj.add_pad(&sinkpad).ok()?;
        Some(sinkpad.upcast())
    }

    /// An added track's stream-start, with the stream's group id (as every
    /// track of a stream has) and a GstStream when upstream gave none.
    pub(super) fn restamp(&self, ev: &gst::Event) -> Option<gst::Event> {
        let gst::EventView::StreamStart(s) = ev.view() else {
            return None;
        };
        let group = *self
            .state
            .lock()
            .group_id
            .get_or_insert_with(gst::GroupId::next);
        if s.group_id() == Some(group) {
            return None;
        }
        let stream = s
            .stream()
            .unwrap_or_else(|| track::new_stream(s.stream_id(), None, None, None));
        Some(
            gst::event::StreamStart::builder(s.stream_id())
                .group_id(group)
                .stream(stream)
                .flags(s.stream_flags())
                .build(),
        )
    }

    /// An added track's stream-start gives its id (or shows a second
    /// branch of a track in the stream); its caps its kind and src pad; its
    /// state event saying ended, or EOS, ends it.
    pub(super) fn on_added_event(&self, pass: &gst::Element, ev: &gst::Event) {
        match ev.view() {
            gst::EventView::StreamStart(s) => self.take_id(pass, s.stream_id(), s.stream()),
            gst::EventView::Caps(c) => {
                let kind = TrackKind::of_caps(c.caps()).unwrap_or(TrackKind::Video);
                self.expose_added(pass, kind, Some(c.caps_owned()));
            }
            gst::EventView::CustomDownstreamSticky(_) => {
                // A `mediastreamsrc` upstream says it ended (before its EOS).
                if let Some(ts) = TrackState::from_event(ev)
                    && ts.ready_state == ReadyState::Ended
                {
                    self.added_track_ended(pass);
                }
            }
            gst::EventView::Eos(_) => self.added_track_ended(pass),
            _ => {}
        }
    }

    /// The joined track of the pass-through `pass` ended (its EOS, or its
    /// source said so): no longer live.
    fn added_track_ended(&self, pass: &gst::Element) {
        if let Some(t) = self
            .state
            .lock()
            .tracks
            .iter_mut()
            .find(|t| &t.element == pass)
        {
            t.live = false;
        }
        self.update_active();
    }

    /// An added track's id (its stream-start's stream-id), unless a track
    /// with that id is in the stream already (W3C addTrack: not added
    /// again). Checked until the branch has its pad (a joined track's new
    /// stream-start only renames it).
    pub(super) fn take_id(&self, pass: &gst::Element, id: &str, upstream: Option<gst::Stream>) {
        let duplicate = {
            let mut state = self.state.lock();
            let other = state
                .tracks
                .iter()
                .filter(|t| &t.element != pass && t.id == id)
                .find_map(|t| t.sinkpad.as_ref().or(t.pad.as_ref()))
                .map(|p| p.name().to_string());
            let Some(i) = state.tracks.iter().position(|t| &t.element == pass) else {
                return;
            };
            match other {
                Some(other) if state.tracks[i].pad.is_none() => {
                    let t = state.tracks.remove(i);
                    let sinkpad = t.sinkpad.clone();
                    if let Some(sinkpad) = &sinkpad {
                        state.detached.push((sinkpad.clone(), t.element.clone()));
                    }
                    sinkpad.map(|p| (p, other))
                }
                _ => {
                    let t = &mut state.tracks[i];
                    t.id = id.to_owned();
                    t.stream = upstream;
                    None
                }
            }
        };
        if let Some((sinkpad, other)) = duplicate {
            self.refuse_duplicate(pass, &sinkpad, id, &other);
        } else {
            self.follow_local(pass, id);
        }
    }

    /// An added track that is a local track: its end makes the stream
    /// inactive at once (W3C: `stop()` ends the track object every stream
    /// holds), not only when its EOS arrives.
    pub(super) fn follow_local(&self, pass: &gst::Element, id: &str) {
        // A remote stream's tracks are the peer's, whatever their ids: a
        // local track of the same id in this process (a publisher whose
        // ids came back through an SFU) is another track.
        if *self.remote.lock() {
            return;
        }
        let Some(src) = track::local_track(id) else {
            return;
        };
        if self
            .state
            .lock()
            .tracks
            .iter()
            .any(|t| &t.element == pass && t.origin.is_some())
        {
            return;
        }
        gst::debug!(
            CAT,
            imp = self,
            "{}: follows the local track {id}",
            pass.name()
        );
        let life = self.gate.lifeline(&*self.obj());
        let pass_weak = pass.downgrade();
        let handler = src.connect_notify(Some("ready-state"), move |src, _| {
            life.with(|obj| {
                obj.imp().guard(
                    || (),
                    |imp| {
                        if let Some(pass) = pass_weak.upgrade() {
                            imp.origin_changed(&pass, src);
                        }
                    },
                )
            });
        });
        let following = Following {
            element: src.downgrade(),
            handler: Some(handler),
        };
        {
            let mut state = self.state.lock();
            let Some(t) = state.tracks.iter_mut().find(|t| &t.element == pass) else {
                return;
            };
            t.origin = Some(following);
        }
        // Ended already (linked after its `stop()`).
        self.origin_changed(pass, &src);
    }

    pub(super) fn origin_changed(&self, pass: &gst::Element, src: &gst::Element) {
        let ended =
            src.property_value("ready-state").get::<ReadyState>().ok() == Some(ReadyState::Ended);
        if !ended {
            return;
        }
        {
            let mut state = self.state.lock();
            let Some(t) = state.tracks.iter_mut().find(|t| &t.element == pass) else {
                return;
            };
            if !t.live {
                return;
            }
            gst::debug!(CAT, imp = self, "{}: the local track ended", pass.name());
            t.live = false;
        }
        self.update_active();
    }

    /// The added track's src pad (kind `kind`): it joins the stream.
    pub(super) fn expose_added(
        &self,
        pass: &gst::Element,
        kind: TrackKind,
        caps: Option<gst::Caps>,
    ) {
        let obj = self.obj();
        let pad = {
            let mut state = self.state.lock();
            let name = free_pad_name(&obj, state.tracks.iter(), kind.as_str());
            let Some(t) = state.tracks.iter_mut().find(|t| &t.element == pass) else {
                return;
            };
            if t.pad.is_some() {
                return;
            }
            let templ = obj.pad_template(&format!("{}_%u", kind.as_str())).unwrap();
            let Some(target) = pass.static_pad("src") else {
                return;
            };
            // Under the lock, so two tracks never take one name.
            // Linking it posts a structure-change, which this bin
            // passes up without locking.
            let Ok(b) = gst::GhostPad::builder_from_template_with_target(&templ, &target) else {
                return;
            };
            let pad = b.name(name).build();
            t.pad = Some(pad.clone());
            if t.id.is_empty() {
                t.id = pad.name().to_string();
            }
            if t.stream.is_none() {
                t.stream = Some(track::new_stream(&t.id, Some(kind), caps.as_ref(), None));
            }
            (t.id.clone(), pad)
        };
        let (id, pad) = pad;
        gst::debug!(CAT, imp = self, "track {id} joins on {}", pad.name());
        if pad.set_active(true).is_err() {
            gst::warning!(CAT, imp = self, "cannot activate {}", pad.name());
        }
        if let Err(e) = obj.add_pad(&pad) {
            gst::error!(CAT, imp = self, "cannot add {}: {e}", pad.name());
        }
        // remove-track may have taken the track out between the lock and
        // add_pad (it found no pad of ours to remove then).
        let kept = self
            .state
            .lock()
            .tracks
            .iter()
            .any(|t| t.pad.as_ref() == Some(&pad));
        if !kept {
            gst::debug!(CAT, imp = self, "{} was removed while joining", pad.name());
            remove_own_pad(&obj, &pad);
            return;
        }
        obj.notify("track-ids");
        self.update_active();
        if *self.remote.lock() {
            self.announce("addtrack", &id, pad.upcast_ref());
        }
        self.post_collection();
    }

    /// A second branch of a track already in the stream (W3C addTrack: not
    /// added again): its pad stays and takes what comes, dropping it, so
    /// the application's source (a `tee`) never sees not-linked; a warning
    /// names the track.
    pub(super) fn refuse_duplicate(
        &self,
        pass: &gst::Element,
        sinkpad: &gst::GhostPad,
        id: &str,
        other: &str,
    ) {
        gst::warning!(
            CAT,
            imp = self,
            "{}: track {id} is already in the stream ({other}): not added again",
            sinkpad.name()
        );
        if let Some(output) = pass.static_pad("src") {
            output.add_probe(
                gst::PadProbeType::BUFFER | gst::PadProbeType::BUFFER_LIST,
                |_, info| crate::fault::drop_item(info),
            );
        }
        gst::element_imp_warning!(
            self,
            gst::CoreError::Pad,
            (
                "{}: the track '{id}' is already in the stream (on {other}): it is not added again, and this branch's data is dropped",
                sinkpad.name()
            ),
            [
                "MediaStream.addTrack of a track already in the set does nothing; release {} or link another track",
                sinkpad.name()
            ]
        );
    }

    /// A branch linked to `sink_%u` after its stream started (its sticky
    /// events are on `peer`) joins at once, as addTrack does, not at its
    /// next data. An ended track joins too (W3C: ended tracks are in the
    /// set, and the stream is active only with a live one): nothing will
    /// flow from it, so its sticky events (stream-start, caps, its state,
    /// EOS) are sent through to its new pad once the stream is PAUSED.
    pub(super) fn join_from_peer(&self, pass: &gst::Element, peer: &gst::Pad) {
        let mut events = Vec::new();
        peer.sticky_events_foreach(|ev| {
            events.push(ev.clone());
            std::ops::ControlFlow::Continue(gst::EventForeachAction::Keep)
        });
        let mut told = events.iter().find_map(|e| TrackState::from_event(e));
        let start = events.iter().find_map(|e| match e.view() {
            gst::EventView::StreamStart(s) => Some((s.stream_id().to_owned(), s.stream())),
            _ => None,
        });
        if start.is_none() && told.is_none() {
            // A local track that ended before anything reached this pad
            // (a tee's pad requested meanwhile may get none of its events):
            // it joins as ended all the same, told by the track itself.
            if let Some(src) = track::local_track_upstream(peer)
                .and_then(|e| e.downcast::<MediaStreamSrc>().ok())
                .filter(|s| s.property::<ReadyState>("ready-state") == ReadyState::Ended)
            {
                let state = src.track_state();
                gst::debug!(
                    CAT,
                    imp = self,
                    "{}: the ended local track {} upstream",
                    peer.name(),
                    state.track_id
                );
                events = vec![state.to_event(), gst::event::Eos::new()];
                told = Some(state);
            }
        }
        // A `mediastreamsrc` stopped before it started says who it is in
        // its state event only.
        let Some((id, upstream)) =
            start.or_else(|| told.as_ref().map(|s| (s.track_id.clone(), None)))
        else {
            gst::debug!(
                CAT,
                imp = self,
                "{} not started: joins when it starts",
                peer.name()
            );
            return;
        };
        let ended = events.iter().any(|e| e.type_() == gst::EventType::Eos)
            || told
                .as_ref()
                .is_some_and(|s| s.ready_state == ReadyState::Ended);
        gst::debug!(
            CAT,
            imp = self,
            "{} linked with its stream started: track {id} (ended: {ended})",
            peer.name()
        );
        self.take_id(pass, &id, upstream);
        if ended
            && !events
                .iter()
                .any(|e| e.type_() == gst::EventType::StreamStart)
        {
            // Its pad says who it is before it ends.
            events.insert(0, gst::event::StreamStart::new(&id));
        }
        let caps = events.iter().find_map(|e| match e.view() {
            gst::EventView::Caps(c) => Some(c.caps_owned()),
            _ => None,
        });
        {
            let mut state = self.state.lock();
            // Not there: a second branch of a track in the stream.
            let Some(t) = state.tracks.iter_mut().find(|t| &t.element == pass) else {
                return;
            };
            if ended {
                t.live = false;
                t.replay = events;
                t.replay_due = true;
            }
        }
        // A local track stopped before its first caps, whose state event is
        // still on its way: its element says its kind.
        let kind = caps
            .as_ref()
            .and_then(|c| TrackKind::of_caps(c))
            .or(told.map(|s| s.kind))
            .or_else(|| {
                let local = !*self.remote.lock();
                local
                    .then(|| track::local_track(&id))
                    .flatten()
                    .map(|t| t.property::<TrackKind>("kind"))
            })
            .unwrap_or(TrackKind::Video);
        self.expose_added(pass, kind, caps);
        if ended {
            self.schedule_replay();
        }
    }

    /// Sends the ended tracks' events through, off the caller's thread (a
    /// prerolling sink holds an EOS until PLAYING).
    pub(super) fn schedule_replay(&self) {
        self.obj().call_async(|obj| {
            obj.imp().guard(|| (), |imp| imp.replay());
        });
    }

    pub(super) fn replay(&self) {
        let pending: Vec<(gst::Pad, Vec<gst::Event>)> = {
            let mut state = self.state.lock();
            state
                .tracks
                .iter_mut()
                .filter(|t| t.replay_due)
                .filter_map(|t| {
                    // Below PAUSED its pads are flushing: at READY -> PAUSED.
                    let input = t.element.static_pad("sink").filter(|p| p.is_active())?;
                    t.replay_due = false;
                    Some((input, t.replay.clone()))
                })
                .collect()
        };
        for (input, events) in pending {
            gst::debug!(
                CAT,
                imp = self,
                "an ended track's events through {}",
                input.name()
            );
            for ev in events {
                if !input.send_event(ev) {
                    gst::debug!(CAT, imp = self, "an event of an ended track not taken");
                }
            }
        }
    }
}
