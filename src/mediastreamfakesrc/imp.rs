// SPDX-License-Identifier: MPL-2.0

//! `mediastreamfakesrc`: the GObject glue and the state (a file watched
//! for the device's changes, unplug); imp/device.rs builds the device's
//! pipeline.
//!
//! Lock order: `settings` before `state`; neither is held while posting
//! messages or changing children's states.

use crate::devices::fake::FileWatcher;
use crate::fault::Guarded;
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use parking_lot::Mutex;
use std::sync::LazyLock;

use super::CAT;

mod device;
use device::split;

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

impl MediaStreamFakeSrc {
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

impl Guarded for MediaStreamFakeSrc {
    fn failed(&self) -> &std::sync::atomic::AtomicBool {
        &self.failed
    }
}
