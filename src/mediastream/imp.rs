//! `mediastream`: getUserMedia for all requested kinds at once (selection
//! before any device opens), one `mediastreamsrc` per track behind a
//! sometimes pad `video_%u` / `audio_%u`, one group id and one stream
//! collection for the stream.
//!
//! Lock order: `settings` before `state`. No lock is held while posting a
//! message, emitting a signal, notifying or changing a child's state.

use crate::constraints::{ConstraintError, Kind, SelectOptions, StreamConstraints};
use crate::devices::monitor::MediaDevices;
use crate::mediastreamsrc::{MediaStreamSrc, Preselection, ReadyState};
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use std::sync::{LazyLock, Mutex};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "mediastream",
        gst::DebugColorFlags::empty(),
        Some("MediaStream bin"),
    )
});

struct Track {
    id: String,
    src: MediaStreamSrc,
    pad: gst::GhostPad,
}

#[derive(Default)]
struct State {
    tracks: Vec<Track>,
    active: bool,
    /// The tracks' pads are exposed on READY -> PAUSED, so that elements an
    /// application links in `pad-added` start with the stream.
    exposed: bool,
    collection: Option<gst::StreamCollection>,
}

pub struct MediaStream {
    id: String,
    constraints: Mutex<Option<String>>,
    uri: Mutex<Option<String>>,
    state: Mutex<State>,
}

#[glib::object_subclass]
impl ObjectSubclass for MediaStream {
    const NAME: &'static str = "GstMediaStream";
    type Type = super::MediaStream;
    type ParentType = gst::Bin;
    type Interfaces = (gst::URIHandler,);

    fn new() -> Self {
        MediaStream {
            id: uuid::Uuid::new_v4().to_string(),
            constraints: Mutex::default(),
            uri: Mutex::default(),
            state: Mutex::default(),
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
                    .blurb("MediaStream.id: a UUID made at construction; also the stream collection's upstream id")
                    .read_only()
                    .build(),
                glib::ParamSpecBoolean::builder("active")
                    .nick("Active")
                    .blurb("MediaStream.active: true while any track is live (notified when it changes)")
                    .default_value(false)
                    .read_only()
                    .build(),
                gst::ParamSpecArray::builder("track-ids")
                    .nick("Track ids")
                    .blurb("The ids of the stream's tracks, in pad order")
                    .element_spec(&glib::ParamSpecString::builder("track-id").build())
                    .read_only()
                    .build(),
            ]
        });
        PROPS.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        match pspec.name() {
            "constraints" => *self.constraints.lock().unwrap() = value.get().unwrap(),
            _ => unimplemented!(),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        match pspec.name() {
            "constraints" => self.constraints.lock().unwrap().to_value(),
            "id" => self.id.to_value(),
            "active" => self.state.lock().unwrap().active.to_value(),
            "track-ids" => gst::Array::new(
                self.state
                    .lock()
                    .unwrap()
                    .tracks
                    .iter()
                    .map(|t| t.id.clone()),
            )
            .to_value(),
            _ => unimplemented!(),
        }
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
            ]
        });
        TEMPLATES.as_ref()
    }

    fn change_state(
        &self,
        transition: gst::StateChange,
    ) -> Result<gst::StateChangeSuccess, gst::StateChangeError> {
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

impl URIHandlerImpl for MediaStream {
    const URI_TYPE: gst::URIType = gst::URIType::Src;

    fn protocols() -> &'static [&'static str] {
        &["mediastream"]
    }

    fn uri(&self) -> Option<String> {
        self.uri.lock().unwrap().clone()
    }

    /// `mediastream://?video=true&audio=true`, `mediastream://?video={"width":1280}`
    /// or `mediastream://?constraints=<percent-encoded MediaStreamConstraints>`.
    fn set_uri(&self, uri: &str) -> Result<(), glib::Error> {
        let constraints = constraints_from_uri(uri)
            .map_err(|msg| glib::Error::new(gst::URIError::BadUri, &format!("{uri}: {msg}")))?;
        *self.uri.lock().unwrap() = Some(uri.to_owned());
        *self.constraints.lock().unwrap() = Some(constraints);
        self.obj().notify("constraints");
        Ok(())
    }
}

/// The MediaStreamConstraints JSON a `mediastream://` URI stands for.
pub fn constraints_from_uri(uri: &str) -> Result<String, String> {
    let rest = uri
        .strip_prefix("mediastream://")
        .ok_or("not a mediastream:// URI")?;
    let query = rest
        .strip_prefix('?')
        .or_else(|| rest.strip_prefix("/?"))
        .ok_or("expected ?video=..., ?audio=... or ?constraints=... after mediastream://")?;
    let mut map = serde_json::Map::new();
    let mut whole = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("'{pair}' has no value"))?;
        let value = percent_encoding::percent_decode_str(value)
            .decode_utf8()
            .map_err(|_| format!("the value of '{key}' is not UTF-8 once decoded"))?;
        match key {
            "video" | "audio" => {
                let v: serde_json::Value = serde_json::from_str(&value).map_err(|e| {
                    format!("{key}: '{value}' is not true, false or a JSON object ({e})")
                })?;
                map.insert(key.to_owned(), v);
            }
            "constraints" => whole = Some(value.into_owned()),
            other => {
                return Err(format!(
                    "unknown parameter '{other}' (use video, audio or constraints)"
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
        let mut details = gst::Structure::builder("mediastream-error")
            .field("name", e.name())
            .field("message", e.message())
            .build();
        if let Some(c) = e.constraint() {
            details.set("constraint", c);
        }
        let domain = match e.name() {
            "NotFoundError" => gst::ResourceError::NotFound,
            "NotReadableError" => gst::ResourceError::OpenRead,
            _ => gst::ResourceError::Settings,
        };
        gst::element_imp_error!(self, domain, ("{}", e), details: details);
    }

    /// Selection for every requested kind before any device opens, then one
    /// track per kind.
    fn get_user_media(&self) -> Result<(), gst::StateChangeError> {
        let json = self.constraints.lock().unwrap().clone();
        let Some(json) = json else {
            // A stream without constraints starts empty (tracks come by addTrack).
            return Ok(());
        };
        let opts = SelectOptions {
            audio_processing: gst::ElementFactory::find("webrtcdsp").is_some(),
            explain: false,
        };
        let selected = StreamConstraints::parse(&json)
            .and_then(|c| MediaDevices::get().select_stream(&c, &opts).map(|r| (c, r)));
        let (_, (selection, devices)) = selected.map_err(|e| {
            self.post_error(&e);
            gst::StateChangeError
        })?;
        let group_id = gst::GroupId::next();
        let mut planned = Vec::new();
        for (kind, sel) in [
            (Kind::Video, &selection.video),
            (Kind::Audio, &selection.audio),
        ] {
            let Some(sel) = sel else { continue };
            let track_json = serde_json::to_string(
                &serde_json::from_str::<serde_json::Value>(&json)
                    .ok()
                    .and_then(|v| v.get(kind.as_str()).cloned())
                    .filter(|v| v.is_object())
                    .unwrap_or_else(|| serde_json::json!({})),
            )
            .unwrap_or_else(|_| "{}".into());
            planned.push((
                kind,
                sel.clone(),
                devices[sel.device_index].clone(),
                track_json,
            ));
        }
        let srcs: Vec<MediaStreamSrc> = planned
            .iter()
            .map(|(kind, ..)| {
                let src = glib::Object::new::<MediaStreamSrc>();
                src.set_property_from_str("kind", kind.as_str());
                src
            })
            .collect();
        let streams: Vec<gst::Stream> = planned
            .iter()
            .zip(&srcs)
            .map(|((kind, _, device, _), src)| {
                let stream_type = match kind {
                    Kind::Video => gst::StreamType::VIDEO,
                    Kind::Audio => gst::StreamType::AUDIO,
                };
                let id = src.property::<String>("track-id");
                let stream =
                    gst::Stream::new(Some(&id), None, stream_type, gst::StreamFlags::empty());
                let mut tags = gst::TagList::new();
                tags.get_mut().unwrap().add::<gst::tags::Title>(
                    &device.info.label.as_str(),
                    gst::TagMergeMode::Replace,
                );
                stream.set_tags(Some(&tags));
                stream
            })
            .collect();
        let collection = gst::StreamCollection::builder(Some(&self.id))
            .streams(streams.iter().cloned())
            .build();

        let obj = self.obj();
        let mut tracks = Vec::new();
        for (((kind, sel, device, track_json), src), stream) in
            planned.into_iter().zip(srcs).zip(streams)
        {
            src.imp().preselect(Preselection {
                device,
                settings: sel.settings.clone(),
                mode_index: sel.mode_index,
                constraints_json: track_json,
                stream,
                group_id,
                collection: collection.clone(),
            });
            obj.add(&src).map_err(|_| gst::StateChangeError)?;
            let index = tracks
                .iter()
                .filter(|t: &&Track| t.pad.name().starts_with(kind.as_str()))
                .count();
            let name = format!("{}_{index}", kind.as_str());
            let templ = obj.pad_template(&format!("{}_%u", kind.as_str())).unwrap();
            let pad = gst::GhostPad::builder_from_template_with_target(
                &templ,
                &src.static_pad("src").unwrap(),
            )
            .map_err(|_| gst::StateChangeError)?
            .name(name)
            .build();
            let weak = obj.downgrade();
            src.connect_notify(Some("ready-state"), move |_, _| {
                if let Some(obj) = weak.upgrade() {
                    obj.imp().update_active();
                }
            });
            tracks.push(Track {
                id: src.property::<String>("track-id"),
                src,
                pad,
            });
        }
        gst::info!(CAT, imp = self, "getUserMedia: {} tracks", tracks.len());
        {
            let mut state = self.state.lock().unwrap();
            state.active = !tracks.is_empty();
            state.tracks = tracks;
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
            let mut state = self.state.lock().unwrap();
            if std::mem::replace(&mut state.exposed, true) {
                return Ok(());
            }
            let pads: Vec<gst::GhostPad> = state.tracks.iter().map(|t| t.pad.clone()).collect();
            (pads, state.collection.clone())
        };
        let obj = self.obj();
        for pad in &pads {
            pad.set_active(true)?;
            obj.add_pad(pad)?;
        }
        obj.no_more_pads();
        if let Some(collection) = collection {
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
            let mut state = self.state.lock().unwrap();
            let active = state.tracks.iter().any(|t| {
                t.src.property_value("ready-state").get::<ReadyState>().ok()
                    == Some(ReadyState::Live)
            });
            std::mem::replace(&mut state.active, active) != active
        };
        if changed {
            self.obj().notify("active");
        }
    }

    fn remove_tracks(&self) {
        let tracks = std::mem::take(&mut self.state.lock().unwrap().tracks);
        let obj = self.obj();
        for t in tracks {
            let _ = t.src.set_state(gst::State::Null);
            let _ = obj.remove_pad(&t.pad);
            let _ = obj.remove(&t.src);
        }
        self.state.lock().unwrap().exposed = false;
        let was = std::mem::replace(&mut self.state.lock().unwrap().active, false);
        if was {
            obj.notify("active");
        }
    }
}
