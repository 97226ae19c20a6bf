// SPDX-License-Identifier: MPL-2.0

//! `mediastream`: getUserMedia for all requested kinds at once (selection
//! before any device opens), one `mediastreamsrc` per track behind a
//! sometimes pad `video_%u` / `audio_%u`, one group id and one stream
//! collection for the stream.
//!
//! Here: the GObject glue, the state machine and the track list. The
//! rooms: imp/getusermedia.rs (constraints, selection, the tracks
//! exposed, clone), imp/joined.rs (addTrack: tracks joining through
//! `sink_%u`), uri.rs beside them (`mediastream://` URIs, plain Rust).
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

use crate::constraints::ConstraintError;
use crate::fault::Guarded;
use crate::lifeline::Gate;
use crate::mediastreamsrc::MediaStreamSrc;
use crate::track;
use crate::track::ReadyState;
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use parking_lot::Mutex;
use std::sync::LazyLock;

use super::CAT;
use super::uri::constraints_from_uri;

mod getusermedia;
mod joined;

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
    /// `display-constraints`: getDisplayMedia's DisplayMediaStreamOptions.
    display: Mutex<Option<String>>,
    /// `display-surface`: the display's deviceId, or empty.
    display_surface: Mutex<String>,
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
            display: Mutex::default(),
            display_surface: Mutex::default(),
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
                glib::ParamSpecString::builder("display-constraints")
                    .nick("Display constraints")
                    .blurb("DisplayMediaStreamOptions as JSON, e.g. {\"video\": {\"width\": {\"max\": 1280}, \"cursor\": \"never\"}}: getDisplayMedia on NULL->READY, one video track of a screen or window ({} is {\"video\": true}; min, exact and advanced are TypeErrors; constraints only downscale and decimate). Not with constraints: a stream comes from one call (docs/display.md)")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("display-surface")
                    .nick("Display surface")
                    .blurb("With display-constraints: the deviceId of the screen or window to capture (a browser asks the user; here this chooses). Empty: the first surface of the displaySurface constraint's type, else the default screen")
                    .default_value(Some(""))
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
                    "display-constraints" => self.set_display_constraints(value.get().unwrap()),
                    "display-surface" => {
                        *self.display_surface.lock() =
                            value.get::<Option<String>>().unwrap().unwrap_or_default()
                    }
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
                    "display-constraints" => self.display.lock().to_value(),
                    "display-surface" => self.display_surface.lock().to_value(),
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

impl MediaStream {
    fn post_error(&self, e: &ConstraintError) {
        track::post_error(&*self.obj(), e);
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
