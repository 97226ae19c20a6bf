// SPDX-License-Identifier: MPL-2.0

//! `mediastream`: getUserMedia for all requested kinds at once (selection
//! before any device opens), one `mediastreamsrc` per track behind a
//! sometimes pad `video_%u` / `audio_%u`, one group id and one stream
//! collection for the stream.
//!
//! Lock order: `state`, then a track's own state (taken only to hand it a
//! stream collection); `id`, `constraints`, `uri`, `remote` and `ended`
//! are taken alone (or `id` under `state`). No lock is held while posting
//! a message, emitting a signal, notifying or changing a child's state.
//!
//! W3C events: `addtrack` / `removetrack` are for the user agent's changes
//! only, never for addTrack / removeTrack. Here the user agent is the
//! remote side of a `remote` stream (crate::webrtc): its tracks joining
//! and its released `sink_%u` pads. The application's changes (a branch
//! linked to `sink_%u`, `remove-track`, a release on a local stream) give
//! only `pad-added` / `pad-removed`.

use crate::constraints::{ConstraintError, Kind, SelectOptions, StreamConstraints};
use crate::devices::monitor::MediaDevices;
use crate::excerpt::excerpt;
use crate::fault::Guarded;
use crate::lifeline::Gate;
use crate::mediastreamsrc::{MediaStreamSrc, Preselection};
use crate::track::{self, TrackState};
use crate::track::{ReadyState, TrackKind};
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use parking_lot::Mutex;
use std::sync::LazyLock;

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "mediastream",
        gst::DebugColorFlags::empty(),
        Some("MediaStream bin"),
    )
});

struct Track {
    id: String,
    /// The track's element: a `mediastreamsrc` (getUserMedia), or the
    /// pass-through of a track added on a `sink_%u` pad.
    element: gst::Element,
    /// The track's src pad (for an added track: once its caps are known).
    pad: Option<gst::GhostPad>,
    /// addTrack: the request pad the track comes in on.
    sinkpad: Option<gst::GhostPad>,
    /// An added track is live until EOS.
    live: bool,
    /// The track's stream in the stream's collection.
    stream: Option<gst::Stream>,
    /// An added track: a collection to send before its next buffer.
    pending_collection: Option<gst::StreamCollection>,
    /// An ended track linked in: the sticky events of its branch (ending
    /// with EOS), sent through to its pad once the stream is PAUSED, and
    /// again after each READY -> PAUSED (which cleared them), as nothing
    /// else will ever flow.
    replay: Vec<gst::Event>,
    /// `replay` is to be sent.
    replay_due: bool,
    /// An added track that is a local track: our handler of its
    /// `notify::ready-state` (crate::track::local_track).
    origin: Option<Following>,
}

/// A handler on a track element, disconnected when dropped.
struct Following {
    element: glib::WeakRef<gst::Element>,
    handler: Option<glib::SignalHandlerId>,
}

impl Drop for Following {
    fn drop(&mut self) {
        if let (Some(e), Some(h)) = (self.element.upgrade(), self.handler.take()) {
            e.disconnect(h);
        }
    }
}

impl Track {
    fn is_live(&self) -> bool {
        if self.sinkpad.is_some() {
            // A member once it has its pad (a branch that has not started
            // is not in the set yet).
            return self.live && self.pad.is_some();
        }
        self.element
            .property_value("ready-state")
            .get::<ReadyState>()
            .ok()
            == Some(ReadyState::Live)
    }
}

#[derive(Default)]
struct State {
    tracks: Vec<Track>,
    active: bool,
    /// The tracks' pads are exposed on READY -> PAUSED, so that elements an
    /// application links in `pad-added` start with the stream.
    exposed: bool,
    /// `sink_%u` pads handed out, for their names.
    added_pads: usize,
    collection: Option<gst::StreamCollection>,
    /// The stream's group id, shared by every track's stream-start.
    group_id: Option<gst::GroupId>,
    /// Request pads of added tracks that `remove-track` took out of the
    /// stream: they keep taking (and discarding) data, so the application's
    /// source never sees not-linked, until the application releases them.
    detached: Vec<(gst::GhostPad, gst::Element)>,
}

pub struct MediaStream {
    /// A panic happened (crate::fault): no more data until NULL.
    failed: std::sync::atomic::AtomicBool,
    /// MediaStream.id: a UUID, or given at construction (a remote stream
    /// takes its sender's id, crate::webrtc).
    id: Mutex<String>,
    constraints: Mutex<Option<String>>,
    uri: Mutex<Option<String>>,
    /// A remote stream: the tracks that join and leave on `sink_%u` are the
    /// user agent's changes (`addtrack` / `removetrack`).
    remote: Mutex<bool>,
    /// A clone's tracks cloned from ended ones (W3C: the clone of an ended
    /// track is ended): in the stream from NULL -> READY on, never selected.
    ended: Mutex<Vec<MediaStreamSrc>>,
    state: Mutex<State>,
    /// Closed by `dispose`: the closures on streaming threads and GStreamer's
    /// async pool reach the bin only through it (crate::lifeline).
    gate: Gate,
}

#[glib::object_subclass]
impl ObjectSubclass for MediaStream {
    const NAME: &'static str = "GstMediaStream";
    type Type = super::MediaStream;
    type ParentType = gst::Bin;
    type Interfaces = (gst::URIHandler,);

    fn new() -> Self {
        MediaStream {
            id: Mutex::new(uuid::Uuid::new_v4().to_string()),
            constraints: Mutex::default(),
            uri: Mutex::default(),
            remote: Mutex::default(),
            ended: Mutex::default(),
            failed: Default::default(),
            state: Mutex::default(),
            gate: Gate::default(),
        }
    }
}

impl ObjectImpl for MediaStream {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPS: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecString::builder("constraints")
                    .nick("Constraints")
                    .blurb("MediaStreamConstraints as JSON, e.g. {\"video\": {\"width\": 1280}, \"audio\": true}: getUserMedia on NULL->READY, one track per requested kind, all selected before any device opens")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("id")
                    .nick("Id")
                    .blurb("MediaStream.id: a UUID made at construction, or the id given at construction (a remote stream's: the sender's stream id); also the stream collection's upstream id")
                    .construct_only()
                    .build(),
                glib::ParamSpecBoolean::builder("remote")
                    .nick("Remote")
                    .blurb("A remote stream (a peer's: crate::webrtc's receive_streams makes them): tracks joining on sink_%u and sink_%u pads released are the user agent's changes and fire addtrack / removetrack. A local stream's tracks are the application's (addTrack / removeTrack): pad-added / pad-removed only")
                    .default_value(false)
                    .construct_only()
                    .build(),
                glib::ParamSpecBoolean::builder("active")
                    .nick("Active")
                    .blurb("MediaStream.active: true while any track is live (notified when it changes)")
                    .default_value(false)
                    .read_only()
                    .build(),
                glib::ParamSpecBoxed::builder::<glib::StrV>("track-ids")
                    .nick("Track ids")
                    .blurb("The ids of the stream's tracks, in pad order (a string array, GStrv: a list of str in Python); notified when a track is added or removed")
                    .read_only()
                    .build(),
            ]
        });
        PROPS.as_ref()
    }

    fn signals() -> &'static [glib::subclass::Signal] {
        static SIGNALS: LazyLock<Vec<glib::subclass::Signal>> = LazyLock::new(|| {
            vec![
                /**
                 * GstMediaStream::addtrack:
                 *
                 * A remote stream's peer added a track: (track id, its src
                 * pad). Never for the application's own addTrack (a branch
                 * linked to `sink_%u`): that is `pad-added` only.
                 */
                glib::subclass::Signal::builder("addtrack")
                    .param_types([String::static_type(), gst::Pad::static_type()])
                    .build(),
                /**
                 * GstMediaStream::removetrack:
                 *
                 * A remote stream's peer removed a track (its `sink_%u` pad
                 * released): (track id, its src pad). Never for
                 * `remove-track` nor on a local stream.
                 */
                glib::subclass::Signal::builder("removetrack")
                    .param_types([String::static_type(), gst::Pad::static_type()])
                    .build(),
                /**
                 * GstMediaStream::remove-track:
                 *
                 * Action: MediaStream.removeTrack(track id) -> whether it was there.
                 */
                glib::subclass::Signal::builder("remove-track")
                    .action()
                    .param_types([String::static_type()])
                    .return_type::<bool>()
                    .class_handler(|args| {
                        let obj = args[0].get::<super::MediaStream>().unwrap();
                        let id = args[1].get::<String>().unwrap_or_default();
                        let removed = obj.imp().guard(
                            || false,
                            |imp| {
                                crate::fault::point("mediastream:remove-track");
                                // A track has its id once its stream starts.
                                !id.is_empty() && imp.remove_track(|t| t.id == id, false)
                            },
                        );
                        Some(removed.to_value())
                    })
                    .build(),
                /**
                 * GstMediaStream::get-track-by-id:
                 *
                 * Action: MediaStream.getTrackById(track id) -> its src pad, or NULL.
                 */
                glib::subclass::Signal::builder("get-track-by-id")
                    .action()
                    .param_types([String::static_type()])
                    .return_type::<Option<gst::Pad>>()
                    .class_handler(|args| {
                        let obj = args[0].get::<super::MediaStream>().unwrap();
                        let id = args[1].get::<String>().unwrap_or_default();
                        let pad = obj.imp().guard(
                            || None,
                            |imp| {
                                imp.state
                                    .lock()
                                    .tracks
                                    .iter()
                                    .find(|t| t.id == id)
                                    .and_then(|t| t.pad.clone())
                                    .map(|p| p.upcast::<gst::Pad>())
                            },
                        );
                        Some(pad.to_value())
                    })
                    .build(),
                /**
                 * GstMediaStream::clone:
                 *
                 * Action: MediaStream.clone() -> a new `mediastream` whose
                 * getUserMedia gives clones of this stream's tracks: the
                 * same constraints, on the devices this stream's tracks
                 * run (a track on a device that cannot be opened twice
                 * shares its capture). Tracks added on `sink_%u` pads are
                 * the application's and are not cloned.
                 */
                glib::subclass::Signal::builder("clone")
                    .action()
                    .return_type::<super::MediaStream>()
                    .class_handler(|args| {
                        let obj = args[0].get::<super::MediaStream>().unwrap();
                        let clone = obj.imp().guard(|| None, |imp| Some(imp.clone_stream()));
                        clone.map(|c| c.to_value())
                    })
                    .build(),
            ]
        });
        SIGNALS.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        self.guard(
            || (),
            |_| {
                crate::fault::point("mediastream:set-property");
                match pspec.name() {
                    "constraints" => self.set_constraints(value.get().unwrap()),
                    "id" => {
                        if let Some(id) = value.get::<Option<String>>().unwrap()
                            && !id.is_empty()
                        {
                            *self.id.lock() = id;
                        }
                    }
                    "remote" => *self.remote.lock() = value.get().unwrap(),
                    _ => unimplemented!(),
                }
            },
        )
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        self.guard(
            || pspec.default_value().clone(),
            |_| {
                crate::fault::point("mediastream:property");
                match pspec.name() {
                    "constraints" => self.constraints.lock().to_value(),
                    "id" => self.id.lock().to_value(),
                    "remote" => self.remote.lock().to_value(),
                    "active" => self.state.lock().active.to_value(),
                    "track-ids" => self
                        .state
                        .lock()
                        .tracks
                        .iter()
                        .filter(|t| !t.id.is_empty())
                        .map(|t| t.id.clone())
                        .collect::<Vec<String>>()
                        .to_value(),
                    _ => unimplemented!(),
                }
            },
        )
    }

    fn dispose(&self) {
        self.gate.close();
    }

    fn constructed(&self) {
        self.parent_constructed();
        let obj = self.obj();
        obj.set_suppressed_flags(gst::ElementFlags::SOURCE | gst::ElementFlags::SINK);
        obj.set_element_flags(gst::ElementFlags::SOURCE);
    }
}

impl GstObjectImpl for MediaStream {}

impl ElementImpl for MediaStream {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static META: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "MediaStream",
                "Source/Video;Source/Audio",
                "A MediaStream: getUserMedia in one element (one track per requested kind, pads video_%u / audio_%u)",
                "gst-mediastream developers",
            )
        });
        Some(&*META)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let video = gst::Caps::builder("video/x-raw").build();
            let audio = gst::Caps::builder("audio/x-raw").build();
            vec![
                gst::PadTemplate::new(
                    "video_%u",
                    gst::PadDirection::Src,
                    gst::PadPresence::Sometimes,
                    &video,
                )
                .unwrap(),
                gst::PadTemplate::new(
                    "audio_%u",
                    gst::PadDirection::Src,
                    gst::PadPresence::Sometimes,
                    &audio,
                )
                .unwrap(),
                // addTrack: any upstream branch becomes a track of the stream.
                gst::PadTemplate::new(
                    "sink_%u",
                    gst::PadDirection::Sink,
                    gst::PadPresence::Request,
                    &gst::Caps::new_any(),
                )
                .unwrap(),
            ]
        });
        TEMPLATES.as_ref()
    }

    fn request_new_pad(
        &self,
        templ: &gst::PadTemplate,
        _name: Option<&str>,
        _caps: Option<&gst::Caps>,
    ) -> Option<gst::Pad> {
        if templ.name_template() != "sink_%u" {
            return None;
        }
        self.add_track_pad(templ)
    }

    fn release_pad(&self, pad: &gst::Pad) {
        // By its pad: ids are not unique before stream-start (empty), nor
        // across tracks teed from one source.
        let ours = |t: &Track| {
            t.sinkpad
                .as_ref()
                .is_some_and(|s| s.upcast_ref::<gst::Pad>() == pad)
        };
        if self.remove_track(ours, true) {
            return;
        }
        let detached = {
            let mut state = self.state.lock();
            let i = state
                .detached
                .iter()
                .position(|(s, _)| s.upcast_ref::<gst::Pad>() == pad);
            i.map(|i| state.detached.remove(i))
        };
        if let Some((sinkpad, element)) = detached {
            let obj = self.obj();
            if obj.remove_pad(&sinkpad).is_err() {
                gst::debug!(CAT, imp = self, "{} was already removed", sinkpad.name());
            }
            retire(&obj, element);
        }
    }

    fn change_state(
        &self,
        transition: gst::StateChange,
    ) -> Result<gst::StateChangeSuccess, gst::StateChangeError> {
        gst::debug!(CAT, imp = self, "{transition:?}");
        if transition == gst::StateChange::ReadyToNull {
            self.reset_failed();
        }
        if transition == gst::StateChange::NullToReady {
            self.get_user_media()?;
        }
        if transition == gst::StateChange::ReadyToPaused {
            self.expose().map_err(|_| gst::StateChangeError)?;
        }
        let ret = self.parent_change_state(transition);
        if ret.is_err() && transition == gst::StateChange::NullToReady
            || transition == gst::StateChange::ReadyToNull
        {
            self.remove_tracks();
        }
        let ret = ret?;
        if transition == gst::StateChange::ReadyToPaused {
            // Ended tracks linked in: their events go through (again).
            let due = {
                let mut state = self.state.lock();
                let mut due = false;
                for t in state.tracks.iter_mut().filter(|t| !t.replay.is_empty()) {
                    t.replay_due = true;
                    due = true;
                }
                due
            };
            if due {
                self.schedule_replay();
            }
        }
        if matches!(
            transition,
            gst::StateChange::ReadyToPaused | gst::StateChange::PlayingToPaused
        ) {
            return Ok(gst::StateChangeSuccess::NoPreroll);
        }
        Ok(ret)
    }
}

impl BinImpl for MediaStream {}

impl MediaStream {
    /// addTrack: a `sink_%u` pad whose branch becomes a track with its own
    /// src pad, once its caps say its kind.
    fn add_track_pad(&self, templ: &gst::PadTemplate) -> Option<gst::Pad> {
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
                // The pass-through too only inside the gate: it goes with
                // the bin's dispose.
                let passed = life.with(|obj| {
                    let pass = pass_weak.upgrade()?;
                    Some(obj.imp().guard(
                        || false,
                        |imp| {
                            crate::fault::point("mediastream:added-track-event");
                            if let Some(start) = imp.restamp(ev) {
                                *ev = start;
                            }
                            imp.on_added_event(&pass, ev);
                            true
                        },
                    ))
                });
                if passed == Some(Some(false)) {
                    return crate::fault::drop_item(info);
                }
                gst::PadProbeReturn::Ok
            });
        let life = self.gate.lifeline(&*obj);
        let pass_weak = pass.downgrade();
        pass.static_pad("src")?
            .add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
                let passed = life.with(|obj| {
                    let pass = pass_weak.upgrade()?;
                    Some(obj.imp().guard(
                        || false,
                        |imp| {
                            crate::fault::point("mediastream:added-track-buffer");
                            let pending = imp
                                .state
                                .lock()
                                .tracks
                                .iter_mut()
                                .find(|t| t.element == pass)
                                .and_then(|t| t.pending_collection.take());
                            if let Some(collection) = pending
                                && !pad.push_event(gst::event::StreamCollection::new(&collection))
                            {
                                gst::debug!(CAT, "stream collection not taken downstream");
                            }
                            true
                        },
                    ))
                });
                if passed == Some(Some(false)) {
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
    fn restamp(&self, ev: &gst::Event) -> Option<gst::Event> {
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
    fn on_added_event(&self, pass: &gst::Element, ev: &gst::Event) {
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
            }
            gst::EventView::Eos(_) => {
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
            _ => {}
        }
    }

    /// An added track's id (its stream-start's stream-id), unless a track
    /// with that id is in the stream already (W3C addTrack: not added
    /// again). Checked until the branch has its pad (a joined track's new
    /// stream-start only renames it).
    fn take_id(&self, pass: &gst::Element, id: &str, upstream: Option<gst::Stream>) {
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
    fn follow_local(&self, pass: &gst::Element, id: &str) {
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

    fn origin_changed(&self, pass: &gst::Element, src: &gst::Element) {
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
    fn expose_added(&self, pass: &gst::Element, kind: TrackKind, caps: Option<gst::Caps>) {
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
    fn refuse_duplicate(
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
    fn join_from_peer(&self, pass: &gst::Element, peer: &gst::Pad) {
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
            .or_else(|| track::local_track(&id).map(|t| t.property::<TrackKind>("kind")))
            .unwrap_or(TrackKind::Video);
        self.expose_added(pass, kind, caps);
        if ended {
            self.schedule_replay();
        }
    }

    /// Sends the ended tracks' events through, off the caller's thread (a
    /// prerolling sink holds an EOS until PLAYING).
    fn schedule_replay(&self) {
        self.obj().call_async(|obj| {
            obj.imp().guard(|| (), |imp| imp.replay());
        });
    }

    fn replay(&self) {
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

    /// The `addtrack` / `removetrack` signal and message, with no lock held
    /// (a remote stream only: module doc).
    fn announce(&self, what: &str, id: &str, pad: &gst::Pad) {
        gst::debug!(CAT, imp = self, "{what}: track {id} on {}", pad.name());
        let obj = self.obj();
        obj.emit_by_name::<()>(what, &[&id.to_owned(), pad]);
        let s = gst::Structure::builder(format!("mediastream-{what}"))
            .field("track-id", id)
            .field("stream-id", &*self.id.lock())
            .build();
        track::post(&*obj, s);
    }

    /// removeTrack: an added track loses its pads; a getUserMedia track is
    /// stopped and its pad removed.
    /// MediaStream.removeTrack; `release`: the application released the
    /// track's request pad (else the pad stays, see `State::detached`).
    fn remove_track(&self, which: impl Fn(&Track) -> bool, release: bool) -> bool {
        let track = {
            let mut state = self.state.lock();
            let Some(i) = state.tracks.iter().position(which) else {
                return false;
            };
            let track = state.tracks.remove(i);
            // Listed at once, so a release of its pad meanwhile finds it.
            if let (Some(sinkpad), false) = (&track.sinkpad, release) {
                state
                    .detached
                    .push((sinkpad.clone(), track.element.clone()));
            }
            track
        };
        let id = track.id.as_str();
        gst::debug!(CAT, imp = self, "removeTrack: {id} (release: {release})");
        let obj = self.obj();
        if track.sinkpad.is_none() {
            // Removed, not ended: downstream (a recorder) learns it before
            // the EOS that stopping the track sends.
            if let Some(pad) = &track.pad
                && !pad.push_event(track::removed_event(id))
            {
                gst::debug!(CAT, imp = self, "{}: the removal was not taken", pad.name());
            }
            track.element.emit_by_name::<()>("stop", &[]);
        }
        match &track.sinkpad {
            Some(_) if !release => {
                // The pass-through's output drops what still comes (in the
                // push, so also a buffer already through the element), and
                // the pad goes once no buffer is on its way to it: else the
                // application's source gets not-linked. Usually at once; a
                // sink holding the last buffer while paused delays it, and
                // the caller must not wait for PLAYING.
                let output = track.element.static_pad("src").unwrap();
                output.add_probe(
                    gst::PadProbeType::BUFFER | gst::PadProbeType::BUFFER_LIST,
                    |_, info| crate::fault::drop_item(info),
                );
                if let Some(pad) = track.pad.clone() {
                    // Runs at once when no buffer is on its way (the usual
                    // case), else from the streaming thread right after it;
                    // the caller never waits for it.
                    let bin = self.gate.lifeline(&*obj);
                    output.add_probe(gst::PadProbeType::IDLE, move |_, _| {
                        bin.with(|bin| {
                            gst::debug!(CAT, obj = bin, "removing {}", pad.name());
                            remove_own_pad(bin, &pad);
                        });
                        gst::PadProbeReturn::Remove
                    });
                }
            }
            _ => {
                if let Some(pad) = &track.pad {
                    remove_own_pad(&obj, pad);
                }
                if let Some(sinkpad) = &track.sinkpad
                    && obj.remove_pad(sinkpad).is_err()
                {
                    gst::debug!(CAT, imp = self, "{} was already removed", sinkpad.name());
                }
                retire(&obj, track.element.clone());
            }
        }
        obj.notify("track-ids");
        self.update_active();
        // The peer of a remote stream removed it (its pad released); never
        // for `remove-track` (removeTrack).
        if let (Some(pad), true) = (&track.pad, release && *self.remote.lock()) {
            self.announce("removetrack", id, pad.upcast_ref());
        }
        self.post_collection();
        true
    }

    /// The stream collection of the tracks now in the stream, posted when
    /// tracks come and go.
    fn post_collection(&self) {
        // Built and handed to the tracks in one step under the lock, so two
        // tracks added at once never leave the older collection last.
        let collection = {
            let mut state = self.state.lock();
            let streams: Vec<gst::Stream> = state
                .tracks
                .iter()
                .filter(|t| t.pad.is_some())
                .filter_map(|t| t.stream.clone())
                .collect();
            let collection = gst::StreamCollection::builder(Some(&self.id.lock().clone()))
                .streams(streams)
                .build();
            state.collection = Some(collection.clone());
            for t in state.tracks.iter_mut() {
                match t.element.downcast_ref::<MediaStreamSrc>() {
                    // Downstream too, each track on its own streaming thread.
                    Some(src) => src.imp().update_collection(collection.clone()),
                    None => t.pending_collection = Some(collection.clone()),
                }
            }
            collection
        };
        let obj = self.obj();
        // Fails only without a bus (no parent yet): no one to tell.
        let _ = obj.post_message(
            gst::message::StreamCollection::builder(&collection)
                .src(&*obj)
                .build(),
        );
    }
}

impl URIHandlerImpl for MediaStream {
    const URI_TYPE: gst::URIType = gst::URIType::Src;

    fn protocols() -> &'static [&'static str] {
        &["mediastream"]
    }

    fn uri(&self) -> Option<String> {
        self.uri.lock().clone()
    }

    /// `mediastream://?video=true&audio=true`, `mediastream://?video={"width":1280}`
    /// or `mediastream://?constraints=<percent-encoded MediaStreamConstraints>`.
    fn set_uri(&self, uri: &str) -> Result<(), glib::Error> {
        let constraints = constraints_from_uri(uri)
            .map_err(|msg| glib::Error::new(gst::URIError::BadUri, &format!("{uri}: {msg}")))?;
        gst::debug!(CAT, imp = self, "uri {uri}: constraints {constraints}");
        *self.uri.lock() = Some(uri.to_owned());
        *self.constraints.lock() = Some(constraints);
        self.obj().notify("constraints");
        Ok(())
    }
}

/// The MediaStreamConstraints JSON a `mediastream://` URI stands for. The
/// scheme is read in any case (`MEDIASTREAM://`, as URI schemes are); each
/// query key may be given once.
pub fn constraints_from_uri(uri: &str) -> Result<String, String> {
    const SCHEME: &str = "mediastream://";
    let rest = uri
        .get(..SCHEME.len())
        .filter(|scheme| scheme.eq_ignore_ascii_case(SCHEME))
        .map(|_| &uri[SCHEME.len()..])
        .ok_or("not a mediastream:// URI")?;
    let query = rest
        .strip_prefix('?')
        .or_else(|| rest.strip_prefix("/?"))
        .ok_or("expected ?video=..., ?audio=... or ?constraints=... after mediastream://")?;
    let mut map = serde_json::Map::new();
    let mut whole = None;
    let mut seen = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("'{}' has no value", excerpt(pair)))?;
        if seen.contains(&key) {
            return Err(format!(
                "'{}' is given twice: give each of video, audio and constraints once",
                excerpt(key)
            ));
        }
        seen.push(key);
        let value = percent_encoding::percent_decode_str(value)
            .decode_utf8()
            .map_err(|_| format!("the value of '{}' is not UTF-8 once decoded", excerpt(key)))?;
        match key {
            "video" | "audio" => {
                let v: serde_json::Value = serde_json::from_str(&value).map_err(|e| {
                    format!(
                        "{key}: '{}' is not true, false or a JSON object ({e})",
                        excerpt(&value)
                    )
                })?;
                map.insert(key.to_owned(), v);
            }
            "constraints" => whole = Some(value.into_owned()),
            other => {
                return Err(format!(
                    "unknown parameter '{}' (use video, audio or constraints)",
                    excerpt(other)
                ));
            }
        }
    }
    let json = match whole {
        Some(_) if !map.is_empty() => {
            return Err("use either constraints= or video=/audio=, not both".into());
        }
        Some(json) => json,
        None => serde_json::Value::Object(map).to_string(),
    };
    StreamConstraints::parse(&json).map_err(|e| e.to_string())?;
    Ok(json)
}

impl MediaStream {
    fn post_error(&self, e: &ConstraintError) {
        track::post_error(&*self.obj(), e);
    }

    /// `constraints`: read by getUserMedia on NULL -> READY. In READY the
    /// tracks are selected but their pads not yet exposed, so the stream
    /// selects again; from PAUSED on the pads are out and the value is
    /// refused (apply-constraints on a track changes its settings).
    /// MediaStream.clone(): the same constraints, each kind on the device
    /// this stream's track of that kind runs.
    fn clone_stream(&self) -> super::MediaStream {
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
        let clone = glib::Object::builder::<super::MediaStream>()
            .property("constraints", &constraints)
            .build();
        *clone.imp().ended.lock() = ended;
        clone
    }

    fn set_constraints(&self, json: Option<String>) {
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
        *self.constraints.lock() = json;
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
    fn get_user_media(&self) -> Result<(), gst::StateChangeError> {
        let json = self.constraints.lock().clone();
        let Some(json) = json else {
            // A stream without constraints starts empty (tracks come by addTrack).
            return Ok(());
        };
        let opts = SelectOptions {
            audio_processing: track::audio_processing(),
            explain: false,
        };
        // A clone's ended tracks: their kinds are not selected.
        let ended = self.ended.lock().clone();
        let selected = StreamConstraints::parse(&json).and_then(|mut c| {
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
        });
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
            .map(|(kind, ..)| {
                let src = glib::Object::new::<MediaStreamSrc>();
                src.set_property("kind", *kind);
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
    fn expose(&self) -> Result<(), glib::BoolError> {
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

    fn update_active(&self) {
        let changed = {
            let mut state = self.state.lock();
            let active = state.tracks.iter().any(Track::is_live);
            gst::debug!(CAT, imp = self, "active: {active}");
            std::mem::replace(&mut state.active, active) != active
        };
        if changed {
            self.obj().notify("active");
        }
    }

    /// Removes the getUserMedia tracks (added tracks stay with their pads).
    fn remove_tracks(&self) {
        let tracks = {
            let mut state = self.state.lock();
            let (added, own): (Vec<Track>, Vec<Track>) = std::mem::take(&mut state.tracks)
                .into_iter()
                .partition(|t| t.sinkpad.is_some());
            state.tracks = added;
            own
        };
        let obj = self.obj();
        for t in tracks {
            crate::plumbing::discard(*CAT, &*obj, &t.element);
            if let Some(pad) = &t.pad {
                remove_own_pad(&obj, pad);
            }
        }
        self.state.lock().exposed = false;
        let was = std::mem::replace(&mut self.state.lock().active, false);
        if was {
            obj.notify("active");
        }
    }
}

/// Stops a track's element and takes it out of the bin, off the caller's
/// thread: the element may be streaming. Not while the bin is being
/// disposed (its request pads are released then): nothing streams any
/// more, and a reference the async pool took now would race the last one
/// (crate::lifeline).
fn retire(obj: &super::MediaStream, element: gst::Element) {
    element.set_locked_state(true);
    let name = element.name();
    let stop = move |bin: &super::MediaStream| {
        crate::plumbing::discard(*CAT, bin, &element);
    };
    if obj.imp().gate.is_closed() {
        gst::debug!(CAT, obj = obj, "disposing: retiring {name} now");
        stop(obj);
        return;
    }
    gst::debug!(CAT, obj = obj, "retiring {name} on the async pool");
    obj.call_async(move |bin| stop(bin));
}

/// The first `KIND_N` that names neither a pad of the bin (a removed
/// track's pad stays until no buffer is on its way to it) nor a track's pad
/// about to be added: counting tracks would reuse a name still taken.
impl MediaStream {
    /// The src pad of a getUserMedia track: a ghost of `src`'s pad named
    /// after its kind, on no name a track still has (`made`: those made
    /// in this call, not yet in the state).
    fn track_pad(
        &self,
        src: &MediaStreamSrc,
        kind: &str,
        made: &[Track],
    ) -> Result<gst::GhostPad, gst::StateChangeError> {
        let obj = self.obj();
        let name = {
            let state = self.state.lock();
            free_pad_name(&obj, made.iter().chain(state.tracks.iter()), kind)
        };
        let templ = obj.pad_template(&format!("{kind}_%u")).unwrap();
        Ok(gst::GhostPad::builder_from_template_with_target(
            &templ,
            &src.static_pad("src").unwrap(),
        )
        .map_err(|_| gst::StateChangeError)?
        .name(name)
        .build())
    }
}

fn free_pad_name<'a>(
    obj: &super::MediaStream,
    tracks: impl Iterator<Item = &'a Track> + Clone,
    kind: &str,
) -> String {
    (0..)
        .map(|i| format!("{kind}_{i}"))
        .find(|name| {
            obj.static_pad(name).is_none()
                && !tracks
                    .clone()
                    .filter_map(|t| t.pad.as_ref())
                    .any(|p| p.name() == name.as_str())
        })
        .unwrap()
}

/// Removes a track's pad if it was exposed (a getUserMedia that failed
/// before READY -> PAUSED never added it: removing it is a CRITICAL).
fn remove_own_pad(obj: &super::MediaStream, pad: &impl IsA<gst::Pad>) {
    let pad = pad.upcast_ref::<gst::Pad>();
    if pad
        .parent()
        .is_some_and(|p| &p == obj.upcast_ref::<gst::Object>())
        && obj.remove_pad(pad).is_err()
    {
        gst::debug!(CAT, obj = obj, "{} was already removed", pad.name());
    }
}

impl Guarded for MediaStream {
    fn failed(&self) -> &std::sync::atomic::AtomicBool {
        &self.failed
    }
}
