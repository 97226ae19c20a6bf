// SPDX-License-Identifier: MPL-2.0

//! Lock order: `settings` before `state`; neither is held while posting
//! messages or changing children's states.

use super::square;
use crate::devices::fake::{self, FakeSource, FileWatcher};
use crate::fault::Guarded;
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use parking_lot::Mutex;
use std::path::PathBuf;
use std::sync::LazyLock;

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "mediastreamfakesrc",
        gst::DebugColorFlags::empty(),
        Some("Fake capture device source"),
    )
});

#[derive(Debug, Clone)]
struct Settings {
    /// `None`: looked up by `device-id` among the current fake devices.
    caps: Option<gst::Caps>,
    pattern: String,
    frequency: f64,
    /// Set by the application: kept when the rest comes from the device.
    pattern_set: bool,
    frequency_set: bool,
    is_live: bool,
    num_buffers: i32,
    device_id: String,
    file: String,
    broken: bool,
    exclusive: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            caps: None,
            pattern: "smpte".into(),
            frequency: 440.0,
            pattern_set: false,
            frequency_set: false,
            is_live: true,
            num_buffers: -1,
            device_id: String::new(),
            file: String::new(),
            broken: false,
            exclusive: false,
        }
    }
}

#[derive(Default)]
struct State {
    /// The device held open (counted; an exclusive one refuses a second).
    open: Option<crate::devices::opened::Open>,
    source: Option<gst::Element>,
    watcher: Option<FileWatcher>,
    /// The capsfilter that holds the device's raw caps, and those caps.
    filter: Option<gst::Element>,
    caps: Option<gst::Caps>,
    /// Caps the device switched to on its own (its file changed): offered
    /// whatever downstream says, as a camera that changes mode does.
    forced: Option<gst::Caps>,
}

pub struct MediaStreamFakeSrc {
    /// A panic happened (crate::fault): no more data until NULL.
    failed: std::sync::atomic::AtomicBool,
    srcpad: gst::GhostPad,
    settings: Mutex<Settings>,
    state: Mutex<State>,
}

#[glib::object_subclass]
impl ObjectSubclass for MediaStreamFakeSrc {
    const NAME: &'static str = "GstMediaStreamFakeSrc";
    type Type = super::MediaStreamFakeSrc;
    type ParentType = gst::Bin;

    fn with_class(klass: &Self::Class) -> Self {
        let templ = klass.pad_template("src").unwrap();
        let srcpad = gst::GhostPad::builder_from_template(&templ).build();
        MediaStreamFakeSrc {
            srcpad,
            settings: Mutex::default(),
            failed: Default::default(),
            state: Mutex::default(),
        }
    }
}

impl ObjectImpl for MediaStreamFakeSrc {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPS: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecBoxed::builder::<gst::Caps>("caps")
                    .nick("Caps")
                    .blurb("The device's caps: the only caps the source produces (audio/* caps make an audio device; image/jpeg structures are encoded with jpegenc). Unset: taken, with pattern, tone, liveness and file, from the fake device named by device-id")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("pattern")
                    .nick("Pattern")
                    .blurb("What the camera shows: a videotestsrc pattern nick (smpte, ball, ...) or \"square\" (a white square, side half the frame height, centred on black, drawn in any raw format: known geometry for measuring crop-and-scale). Unset with device-id: the device's own (its file's \"pattern\", else one per device so devices can be told apart)")
                    .default_value(Some("smpte"))
                    .mutable_ready()
                    .build(),
                glib::ParamSpecDouble::builder("frequency")
                    .nick("Frequency")
                    .blurb("audiotestsrc tone of this device, in Hz. Unset with device-id: the device's own (one per device)")
                    .minimum(0.0)
                    .maximum(20000.0)
                    .default_value(440.0)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecBoolean::builder("is-live")
                    .nick("Is live")
                    .blurb("Produce in real time like a camera; false produces as fast as downstream takes (benchmarks)")
                    .default_value(true)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecInt::builder("num-buffers")
                    .nick("Number of buffers")
                    .blurb("Buffers to produce before EOS, counted from each start (READY->PAUSED), as basesrc's num-buffers; -1 = unlimited")
                    .minimum(-1)
                    .default_value(-1)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("device-id")
                    .nick("Device id")
                    .blurb("deviceId of the fake device this element captures from")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecBoolean::builder("broken")
                    .nick("Broken")
                    .blurb("Fail to open, like a camera another program holds (a device file's \"broken\": true)")
                    .default_value(false)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("file")
                    .nick("Device file")
                    .blurb("Fake-device file the device comes from; when the device leaves the file, the element fails as an unplugged camera does. Empty for the built-in set")
                    .mutable_ready()
                    .build(),
            ]
        });
        PROPS.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        self.guard(
            || (),
            |_| {
                crate::fault::point("mediastreamfakesrc:set-property");
                let mut s = self.settings.lock();
                match pspec.name() {
                    "caps" => {
                        s.caps = value.get::<Option<gst::Caps>>().unwrap();
                    }
                    "pattern" => {
                        s.pattern = value.get::<Option<String>>().unwrap().unwrap_or_default();
                        s.pattern_set = true;
                    }
                    "frequency" => {
                        s.frequency = value.get().unwrap();
                        s.frequency_set = true;
                    }
                    "is-live" => s.is_live = value.get().unwrap(),
                    "num-buffers" => s.num_buffers = value.get().unwrap(),
                    "device-id" => {
                        s.device_id = value.get::<Option<String>>().unwrap().unwrap_or_default()
                    }
                    "file" => s.file = value.get::<Option<String>>().unwrap().unwrap_or_default(),
                    "broken" => s.broken = value.get().unwrap(),
                    _ => unimplemented!(),
                }
            },
        )
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        self.guard(
            || pspec.default_value().clone(),
            |_| {
                crate::fault::point("mediastreamfakesrc:property");
                let s = self.settings.lock();
                match pspec.name() {
                    "caps" => s.caps.to_value(),
                    "pattern" => s.pattern.to_value(),
                    "frequency" => s.frequency.to_value(),
                    "is-live" => s.is_live.to_value(),
                    "num-buffers" => s.num_buffers.to_value(),
                    "device-id" => s.device_id.to_value(),
                    "file" => s.file.to_value(),
                    "broken" => s.broken.to_value(),
                    _ => unimplemented!(),
                }
            },
        )
    }

    fn constructed(&self) {
        self.parent_constructed();
        self.obj().add_pad(&self.srcpad).unwrap();
        self.obj()
            .set_suppressed_flags(gst::ElementFlags::SOURCE | gst::ElementFlags::SINK);
        self.obj().set_element_flags(gst::ElementFlags::SOURCE);
        // Downstream's caps and accept-caps queries leave through the ghost
        // pad (also those its proxy makes for a caps event).
        let weak = self.obj().downgrade();
        self.srcpad
            .add_probe(gst::PadProbeType::QUERY_DOWNSTREAM, move |_, info| {
                let Some(obj) = weak.upgrade() else {
                    return gst::PadProbeReturn::Ok;
                };
                match obj
                    .imp()
                    .guard(|| None, |imp| Some(imp.answer_forced(info)))
                {
                    Some(ret) => ret,
                    None => crate::fault::drop_item(info),
                }
            });
    }
}

impl GstObjectImpl for MediaStreamFakeSrc {}

impl ElementImpl for MediaStreamFakeSrc {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static META: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "MediaStream fake device source",
                "Source/Video;Source/Audio",
                "The capture element of a fake device (GST_MEDIASTREAM_FAKE_DEVICES): test media with exactly the device's caps",
                "gst-mediastream developers",
            )
        });
        Some(&*META)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            vec![
                gst::PadTemplate::new(
                    "src",
                    gst::PadDirection::Src,
                    gst::PadPresence::Always,
                    &gst::Caps::new_any(),
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
        gst::debug!(CAT, imp = self, "{transition:?}");
        if transition == gst::StateChange::ReadyToNull {
            self.reset_failed();
        }
        if transition == gst::StateChange::NullToReady {
            let broken = self.settings.lock().broken;
            self.build().map_err(|e| {
                // Not opened after all.
                self.state.lock().open = None;
                // A broken device posted its own error, as a driver would.
                if !broken {
                    self.post_error_message(e);
                }
                gst::StateChangeError
            })?;
        }
        let ret = self.parent_change_state(transition)?;
        if transition == gst::StateChange::ReadyToNull {
            self.teardown();
        }
        Ok(ret)
    }
}

impl BinImpl for MediaStreamFakeSrc {}

fn make(factory: &str) -> Result<gst::Element, gst::ErrorMessage> {
    gst::ElementFactory::make(factory).build().map_err(|_| {
        gst::error_msg!(
            gst::CoreError::MissingPlugin,
            ("the element '{factory}' is missing (install gst-plugins-base/good)")
        )
    })
}

/// The device a `device-id` names cannot be found or read.
fn not_found(msg: String) -> gst::ErrorMessage {
    gst::error_msg!(gst::ResourceError::NotFound, ("{}", msg))
}

/// A property value (caps, pattern) the element cannot use.
fn bad_setting(msg: String) -> gst::ErrorMessage {
    gst::error_msg!(gst::ResourceError::Settings, ("{}", msg))
}

impl MediaStreamFakeSrc {
    /// The settings, completed from the fake device named by `device-id`
    /// when no caps were given (`gst-launch-1.0 mediastreamfakesrc device-id=..`).
    fn resolved_settings(&self) -> Result<(Settings, gst::Caps), gst::ErrorMessage> {
        let mut settings = self.settings.lock().clone();
        if let Some(caps) = settings.caps.clone() {
            return Ok((settings, caps));
        }
        let source = FakeSource::from_env().ok_or_else(|| {
            bad_setting(format!(
                "no caps set, and {} is not set to look up device-id",
                fake::ENV
            ))
        })?;
        let specs = source.load().map_err(|e| not_found(e.to_string()))?;
        let (index, spec) = specs
            .iter()
            .enumerate()
            .find(|(_, s)| s.device_id == settings.device_id)
            .ok_or_else(|| {
                not_found(format!(
                    "no fake device '{}' in {}",
                    crate::excerpt::excerpt(&settings.device_id),
                    source.origin()
                ))
            })?;
        let caps = spec
            .parsed_caps(&source.origin(), index)
            .map_err(|e| bad_setting(e.to_string()))?;
        if !settings.pattern_set {
            settings.pattern = fake::pattern_of(spec, index);
        }
        if !settings.frequency_set {
            settings.frequency = fake::frequency_for(index);
        }
        settings.is_live = spec.live;
        settings.broken = spec.broken;
        settings.exclusive = spec.exclusive;
        if let FakeSource::File(p) = &source {
            settings.file = p.display().to_string();
        }
        Ok((settings, caps))
    }

    /// Builds the source chain for the caps downstream asked for.
    fn build(&self) -> Result<(), gst::ErrorMessage> {
        let (settings, caps) = self.resolved_settings()?;
        if settings.broken {
            gst::element_imp_error!(
                self,
                gst::ResourceError::OpenRead,
                (
                    "Could not open device '{}': it is busy or broken",
                    settings.device_id
                ),
                ["the fake device is marked \"broken\""]
            );
            return Err(gst::error_msg!(
                gst::ResourceError::OpenRead,
                ("device '{}' is broken", settings.device_id)
            ));
        }
        let open = crate::devices::opened::open(&settings.device_id, settings.exclusive)
            .map_err(|busy| gst::error_msg!(gst::ResourceError::Busy, ("{}", busy)))?;
        gst::debug!(CAT, imp = self, "device '{}' opened", settings.device_id);
        self.state.lock().open = Some(open);
        let audio = caps
            .structure(0)
            .is_some_and(|s| s.name().starts_with("audio/"));
        let (raw, encoded) = split(&caps);
        // Encode only when downstream cannot take a raw mode.
        let peer = self.srcpad.peer_query_caps(None);
        let jpeg = !encoded.is_empty() && (raw.is_empty() || !peer.can_intersect(&raw));
        gst::debug!(
            CAT,
            imp = self,
            "building for {caps} (peer {peer}, jpeg {jpeg})"
        );

        let source = if audio {
            let s = make("audiotestsrc")?;
            s.set_property("freq", settings.frequency);
            s
        } else {
            let s = make("videotestsrc")?;
            self.set_pattern(&s, &settings.pattern)
                .map_err(bad_setting)?;
            s
        };
        source.set_property("is-live", settings.is_live);
        source.set_property("num-buffers", settings.num_buffers);
        // Stamp with the clock, as capture drivers do, so a source restarted
        // in a running pipeline (applyConstraints) continues in time.
        source.set_property("do-timestamp", settings.is_live);
        let filter = make("capsfilter")?;
        let mut chain = vec![source.clone(), filter.clone()];
        if jpeg {
            filter.set_property("caps", raw_for(&encoded));
            let enc = make("jpegenc")?;
            let out = make("capsfilter")?;
            out.set_property("caps", &encoded);
            chain.extend([enc, out]);
        } else {
            filter.set_property("caps", if raw.is_empty() { &caps } else { &raw });
        }
        let obj = self.obj();
        obj.add_many(&chain)
            .map_err(|e| gst::error_msg!(gst::CoreError::Failed, ("{}", e)))?;
        let last = chain.last().unwrap().static_pad("src").unwrap();
        let linked = gst::Element::link_many(&chain)
            .map_err(|e| gst::error_msg!(gst::CoreError::Pad, ("{}", e)))
            .and_then(|()| {
                self.srcpad
                    .set_target(Some(&last))
                    .map_err(|e| gst::error_msg!(gst::CoreError::Pad, ("{}", e)))
            });
        if let Err(e) = linked {
            // Not left in the bin to pile up with each retry.
            for e in &chain {
                crate::plumbing::discard(*CAT, &*obj, e);
            }
            return Err(e);
        }

        let mut state = self.state.lock();
        state.source = Some(source);
        state.filter = (!jpeg).then_some(filter);
        state.caps = Some(caps);
        state.forced = None;
        if !settings.file.is_empty() && !settings.device_id.is_empty() {
            let weak = obj.downgrade();
            let id = settings.device_id.clone();
            let file = settings.file.clone();
            state.watcher = Some(FileWatcher::new(PathBuf::from(&settings.file), move |r| {
                let (Some(obj), Ok(specs)) = (weak.upgrade(), r) else {
                    return;
                };
                obj.imp().guard(
                    || (),
                    |imp| {
                        crate::fault::point("mediastreamfakesrc:file-changed");
                        match specs.iter().enumerate().find(|(_, s)| s.device_id == id) {
                            None => imp.unplugged(),
                            Some((i, spec)) => {
                                if let Ok(caps) = spec.parsed_caps(&file, i) {
                                    imp.caps_changed(caps);
                                }
                            }
                        }
                    },
                );
            }));
        }
        Ok(())
    }

    /// Sets videotestsrc's pattern; `square` is its black plus the square
    /// drawn in a probe. Other patterns push videotestsrc's own buffers.
    fn set_pattern(&self, source: &gst::Element, pattern: &str) -> Result<(), String> {
        let nick = if pattern == square::NAME {
            "black"
        } else {
            pattern
        };
        let value = source
            .find_property("pattern")
            .and_then(|p| glib::EnumClass::with_type(p.value_type()))
            .and_then(|c| c.to_value_by_nick(nick))
            .ok_or_else(|| {
                format!(
                    "pattern '{}' is neither a videotestsrc pattern (gst-inspect-1.0 videotestsrc) nor '{}'",
                    crate::excerpt::excerpt(pattern),
                    square::NAME
                )
            })?;
        source.set_property_from_value("pattern", &value);
        gst::debug!(CAT, imp = self, "pattern {pattern}");
        if pattern == square::NAME {
            let weak = self.obj().downgrade();
            let painter = square::Painter::default();
            let pad = source.static_pad("src").unwrap();
            pad.add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
                let Some(obj) = weak.upgrade() else {
                    return gst::PadProbeReturn::Ok;
                };
                let painted = obj.imp().guard(
                    || None,
                    |imp| {
                        crate::fault::point("mediastreamfakesrc:square");
                        if let Some(e) = painter.paint(pad, info) {
                            gst::element_imp_warning!(imp, gst::StreamError::Format, ("{}", e));
                        }
                        Some(())
                    },
                );
                match painted {
                    Some(()) => gst::PadProbeReturn::Ok,
                    None => crate::fault::drop_item(info),
                }
            });
        }
        Ok(())
    }

    /// While the device forces its caps, it answers downstream's caps
    /// queries itself, so the test source switches whatever downstream
    /// holds (as hardware does; the track then follows).
    fn answer_forced(&self, info: &mut gst::PadProbeInfo) -> gst::PadProbeReturn {
        let Some(forced) = self.state.lock().forced.clone() else {
            return gst::PadProbeReturn::Ok;
        };
        let Some(gst::PadProbeData::Query(q)) = info.data.as_mut() else {
            return gst::PadProbeReturn::Ok;
        };

        match q.view_mut() {
            gst::QueryViewMut::Caps(c) => {
                let caps = match c.filter() {
                    Some(f) => f.intersect_with_mode(&forced, gst::CapsIntersectMode::First),
                    None => forced,
                };
                c.set_result(&caps);
                gst::PadProbeReturn::Handled
            }
            gst::QueryViewMut::AcceptCaps(a) => {
                let ok = a.caps().can_intersect(&forced);
                a.set_result(ok);
                gst::PadProbeReturn::Handled
            }
            _ => gst::PadProbeReturn::Ok,
        }
    }

    /// The device's caps changed in its file: it switches to them on its own.
    fn caps_changed(&self, caps: gst::Caps) {
        let (filter, raw) = {
            let mut state = self.state.lock();
            if state.caps.as_ref() == Some(&caps) {
                return;
            }
            let Some(filter) = state.filter.clone() else {
                return;
            };
            let (raw, _) = split(&caps);
            if raw.is_empty() {
                return;
            }
            state.caps = Some(caps);
            state.forced = Some(raw.clone());
            (filter, raw)
        };
        gst::info!(CAT, imp = self, "the device switches to {raw}");
        // Setting the caps makes the source renegotiate.
        filter.set_property("caps", &raw);
    }

    fn teardown(&self) {
        let watcher = self.state.lock().watcher.take();
        drop(watcher);
        let obj = self.obj();
        crate::plumbing::discard_all(*CAT, &*obj, &obj.children(), &[&self.srcpad]);
        let mut state = self.state.lock();
        state.source = None;
        state.filter = None;
        // The device closes.
        state.open = None;
    }

    /// The device left its file: fail the way an unplugged camera does.
    fn unplugged(&self) {
        let (id, file) = {
            let s = self.settings.lock();
            (s.device_id.clone(), s.file.clone())
        };
        gst::info!(CAT, imp = self, "device {id} was removed from {file}");
        gst::element_imp_error!(
            self,
            gst::ResourceError::NotFound,
            ("Device '{}' was removed", id),
            ["{}: the device is no longer in the file", file]
        );
        let source = self.state.lock().source.clone();
        if let Some(source) = source {
            source.send_event(gst::event::Eos::new());
        }
    }
}

/// The raw (`video/x-raw`, `audio/x-raw`) and the encoded structures of caps.
fn split(caps: &gst::Caps) -> (gst::Caps, gst::Caps) {
    let mut raw = gst::Caps::new_empty();
    let mut encoded = gst::Caps::new_empty();
    for s in caps.iter() {
        let target = if s.name().ends_with("/x-raw") {
            &mut raw
        } else {
            &mut encoded
        };
        target.get_mut().unwrap().append_structure(s.to_owned());
    }
    (raw, encoded)
}

/// I420 at the sizes and rates of encoded structures: what jpegenc is fed.
fn raw_for(encoded: &gst::Caps) -> gst::Caps {
    let mut raw = gst::Caps::new_empty();
    for s in encoded.iter() {
        let mut r = s.to_owned();
        r.set_name("video/x-raw");
        r.set("format", "I420");
        raw.get_mut().unwrap().append_structure(r);
    }
    raw
}

impl Guarded for MediaStreamFakeSrc {
    fn failed(&self) -> &std::sync::atomic::AtomicBool {
        &self.failed
    }
}
