// SPDX-License-Identifier: MPL-2.0

//! MediaDevices over `GstDeviceMonitor`: one process-wide device list,
//! started on first use and kept up to date from the monitor's bus (a sync
//! handler, so no thread and no polling), so a second getUserMedia does not
//! probe again.
//!
//! With `GST_MEDIASTREAM_FAKE_DEVICES` set, the list holds only the fake
//! devices (from `mediastreamfakedeviceprovider`), so results are
//! deterministic whatever hardware or daemons the machine has.
//!
//! Lock order: `MediaDevices::devices`, then `subscribers`; callbacks run
//! with neither held, on the thread that posted the change.

use crate::constraints::caps::modes_from_caps;
use crate::constraints::display::{Cursor, DisplayTraits, SurfaceType};
use crate::constraints::{
    ConstraintError, DeviceInfo, DeviceKind, ErrorName, Kind, SelectOptions, Selection,
    StreamConstraints, StreamSelection, TrackConstraints, select_stream, select_track,
};
use crate::devices::fake::FakeSource;
use crate::devices::file::DEFAULT_LATENCY;
use crate::display::{surface, x11};
use crate::displaydeviceprovider::DisplayDevice;
use gst::prelude::*;
use parking_lot::Mutex;
use sha2::{Digest, Sha256};
use std::sync::{Arc, LazyLock, OnceLock};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "mediastreamdevices",
        gst::DebugColorFlags::empty(),
        Some("gst-mediastream device layer"),
    )
});

/// `device.api` of the fake provider's devices.
const FAKE_API: &str = "mediastream-fake";
const FAKE_PROVIDER: &str = "mediastreamfakedeviceprovider";

/// A MediaDeviceInfo with what the plugin needs to use the device.
#[derive(Debug, Clone)]
pub struct MediaDevice {
    /// Identity, kind, label, caps as native modes: what selection uses.
    pub info: DeviceInfo,
    /// The GStreamer device: `create_element` gives its capture element.
    pub device: gst::Device,
    /// Position among the fake devices of a file (file order), else `None`.
    fake_index: Option<u32>,
}

/// Device APIs whose devices one process opens once at a time (a second
/// open is busy): their tracks share one capture.
const EXCLUSIVE_APIS: [&str; 2] = ["v4l2", "libcamera"];

impl MediaDevice {
    /// Whether the device can be opened only once at a time (a V4L2 or
    /// libcamera camera, a fake device marked `exclusive`): tracks on it
    /// share one capture. PipeWire and PulseAudio devices are shared by
    /// their daemon, and each track opens its own stream.
    pub fn is_exclusive(&self) -> bool {
        let props = self.device.properties();
        let props = props.as_deref();
        if self.fake_index.is_some() {
            return props
                .and_then(|p| p.get::<bool>("mediastream.exclusive").ok())
                .unwrap_or(false);
        }
        prop_str(props, "device.api").is_some_and(|api| EXCLUSIVE_APIS.contains(&api.as_str()))
    }

    /// The capture (or, for outputs, rendering) element of the device.
    pub fn create_element(&self, name: Option<&str>) -> Result<gst::Element, glib::BoolError> {
        self.device.create_element(name)
    }
}

use gst::glib;

/// A devicechange: a device was plugged in or removed.
#[derive(Debug, Clone)]
pub enum DeviceChange {
    Added(MediaDevice),
    Removed(MediaDevice),
}

type Callback = Arc<dyn Fn(&DeviceChange) + Send + Sync>;

/// The process-wide device list. Get it with [`MediaDevices::get`].
///
/// No thread of its own: the device monitor's bus (or, with fake devices,
/// the fake provider's bus) hands each change over synchronously on the
/// thread that found it, and `MediaDevices::on_message` applies it.
pub struct MediaDevices {
    /// Keeps the monitor (real devices) or the provider (fake ones)
    /// started; the error says why there are no devices.
    source: OnceLock<Result<gst::Object, String>>,
    devices: Mutex<Vec<MediaDevice>>,
    subscribers: Mutex<Vec<(u64, Callback)>>,
    next_id: Mutex<u64>,
}

/// Unsubscribes when dropped.
pub struct Subscription {
    id: u64,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        MediaDevices::get()
            .subscribers
            .lock()
            .retain(|(id, _)| *id != self.id);
    }
}

static DEVICES: MediaDevices = MediaDevices {
    source: OnceLock::new(),
    devices: Mutex::new(Vec::new()),
    subscribers: Mutex::new(Vec::new()),
    next_id: Mutex::new(0),
};

impl MediaDevices {
    pub fn get() -> &'static MediaDevices {
        &DEVICES
    }

    /// The device list, once the monitor or provider has started.
    fn started(&self) -> Result<&Mutex<Vec<MediaDevice>>, String> {
        match self.source.get_or_init(|| start(MediaDevices::get())) {
            Ok(_) => Ok(&self.devices),
            Err(e) => Err(e.clone()),
        }
    }

    /// enumerateDevices(): audioinput, videoinput, audiooutput; within a
    /// kind the default first, then a stable order (a fake file's order, or
    /// label and deviceId). Starts the monitor on first use.
    /// Display surfaces are not listed (a browser lists none): see
    /// [`MediaDevices::displays`].
    pub fn devices(&self) -> Result<Vec<MediaDevice>, String> {
        let mut devices = self.all()?;
        devices.retain(|d| d.info.kind != DeviceKind::Display);
        Ok(devices)
    }

    /// The display surfaces getDisplayMedia chooses from, the default
    /// first: the fake ones with fake devices, else the screens of
    /// `$DISPLAY` as they are now (a display may come and go between two
    /// calls, as a browser asks the system each time).
    pub fn displays(&self) -> Result<Vec<MediaDevice>, String> {
        if FakeSource::from_env().is_some() {
            let mut devices = self.all()?;
            devices.retain(|d| d.info.kind == DeviceKind::Display);
            return Ok(devices);
        }
        // The system's sound: the monitors of outputs the device monitor
        // lists, the default output's first.
        let mut sound = self.all()?;
        sound.retain(|d| d.info.is_system_audio());
        let outputs = self.devices()?;
        let default_output = outputs
            .iter()
            .find(|d| d.info.kind == DeviceKind::AudioOutput && d.info.is_default)
            .map(|d| d.info.label.clone());
        sound.sort_by_key(|d| {
            !default_output
                .as_ref()
                .is_some_and(|label| d.info.label.contains(label.as_str()))
        });
        let screens = match x11::screens(None) {
            Ok(s) => s,
            Err(e) => {
                gst::debug!(CAT, "no X11 screens: {e}");
                return Ok(sound);
            }
        };
        let mut devices: Vec<MediaDevice> = screens
            .iter()
            .filter_map(|s| {
                let target = x11::Target {
                    display: Some(s.display.clone()),
                    screen: Some(s.index),
                    window: None,
                };
                let id = surface::screen_id(&s.display, s.index);
                let label = format!("Screen {} of {}", s.index, s.display);
                let device = DisplayDevice::new(&target, (s.width, s.height), &id, &label);
                let mut d = media_device(device.upcast_ref())?;
                d.info.is_default = s.is_default;
                Some(d)
            })
            .collect();
        sort(&mut devices);
        devices.extend(sound);
        Ok(devices)
    }

    /// The X11 surface a deviceId names (`x11::99.0`, `x11::99.0/0x400001`,
    /// a window id): `None` when the id is not an X11 one.
    fn x11_surface(&self, id: &str) -> Option<Result<MediaDevice, ConstraintError>> {
        let target = surface::parse(id)?;
        let not_found =
            |e: x11::GrabError| ConstraintError::not_found(format!("display surface '{id}': {e}"));
        let made = (|| {
            let display = target.display.as_deref();
            let name = x11::display_name(display);
            let screen = target.screen.unwrap_or(0);
            let (size, label) = match target.window {
                Some(w) => (
                    x11::window_size(display, w).map_err(not_found)?,
                    format!("Window 0x{w:x} of {name}"),
                ),
                None => {
                    let screens = x11::screens(display).map_err(not_found)?;
                    let s = screens.get(screen).ok_or_else(|| {
                        ConstraintError::not_found(format!(
                            "display surface '{id}': {name} has no screen {screen}"
                        ))
                    })?;
                    ((s.width, s.height), format!("Screen {screen} of {name}"))
                }
            };
            let device_id = match target.window {
                Some(w) => surface::window_id(&name, screen, w),
                None => surface::screen_id(&name, screen),
            };
            let device = DisplayDevice::new(&target, size, &device_id, &label);
            media_device(device.upcast_ref()).ok_or_else(|| {
                ConstraintError::not_readable(format!("display surface '{id}' is not usable"))
            })
        })();
        Some(made)
    }

    fn all(&self) -> Result<Vec<MediaDevice>, String> {
        let mut devices = self.started()?.lock().clone();
        sort(&mut devices);
        Ok(devices)
    }

    /// The device with this deviceId, if it is plugged in.
    pub fn find(&self, device_id: &str) -> Option<MediaDevice> {
        self.all()
            .ok()?
            .into_iter()
            .find(|d| d.info.device_id == device_id)
    }

    /// getUserMedia's selection over the current devices. When there is no
    /// device because the fake-device file is broken, the NotFoundError
    /// carries the file's error.
    pub fn select_stream(
        &self,
        constraints: &StreamConstraints,
        opts: &SelectOptions,
    ) -> Result<(StreamSelection, Vec<MediaDevice>), ConstraintError> {
        let devices = self.devices().map_err(ConstraintError::not_readable)?;
        let infos: Vec<DeviceInfo> = devices.iter().map(|d| d.info.clone()).collect();
        let sel = select_stream(constraints, &infos, opts).map_err(|e| self.explained(e))?;
        Ok((sel, devices))
    }

    /// One track's selection (a `mediastreamsrc`): the selection and the
    /// device it chose.
    pub fn select_track(
        &self,
        kind: Kind,
        constraints: &TrackConstraints,
        opts: &SelectOptions,
    ) -> Result<(Selection, MediaDevice), ConstraintError> {
        let devices = self.devices().map_err(ConstraintError::not_readable)?;
        let infos: Vec<DeviceInfo> = devices.iter().map(|d| d.info.clone()).collect();
        let sel = select_track(kind, constraints, &infos, opts).map_err(|e| self.explained(e))?;
        let device = devices[sel.device_index].clone();
        Ok((sel, device))
    }

    /// getDisplayMedia's choice of surface and settings
    /// ([`crate::constraints::display::select_display`]).
    pub fn select_display(
        &self,
        options: &crate::constraints::display::DisplayOptions,
        named: &str,
    ) -> Result<(Selection, MediaDevice), ConstraintError> {
        let (devices, named) = match self.x11_surface(named) {
            Some(device) => {
                let device = device?;
                let id = device.info.device_id.clone();
                (vec![device], id)
            }
            None => (
                self.displays().map_err(ConstraintError::not_readable)?,
                named.to_owned(),
            ),
        };
        let infos: Vec<DeviceInfo> = devices.iter().map(|d| d.info.clone()).collect();
        let sel = crate::constraints::display::select_display(options, &infos, Some(&named))
            .map_err(|e| self.explained(e))?;
        let device = devices[sel.device_index].clone();
        Ok((sel, device))
    }

    /// getDisplayMedia's audio track: the system's sound
    /// ([`crate::constraints::display::select_system_audio`]); `None` where
    /// there is none.
    pub fn select_system_audio(
        &self,
        constraints: &TrackConstraints,
        opts: &SelectOptions,
    ) -> Option<Result<(Selection, MediaDevice), ConstraintError>> {
        let devices = match self.displays() {
            Ok(d) => d,
            Err(e) => return Some(Err(ConstraintError::not_readable(e))),
        };
        let infos: Vec<DeviceInfo> = devices.iter().map(|d| d.info.clone()).collect();
        let sel = crate::constraints::display::select_system_audio(constraints, &infos, opts)?;
        Some(sel.map(|sel| {
            let device = devices[sel.device_index].clone();
            (sel, device)
        }))
    }

    /// A NotFoundError with the fake-device file's error, when there is one.
    fn explained(&self, e: ConstraintError) -> ConstraintError {
        if e.error_name() != ErrorName::NotFoundError {
            return e;
        }
        match self.problem() {
            Some(p) => ConstraintError::not_found(format!("{}: {p}", e.message())),
            None => e,
        }
    }

    /// Why the fake devices are missing: the device file's error (file,
    /// device index and field), for NotFoundError messages.
    pub fn problem(&self) -> Option<String> {
        let source = FakeSource::from_env()?;
        let specs = match source.load() {
            Ok(specs) => specs,
            Err(e) => return Some(e.to_string()),
        };
        // Checking a file needs caps parsing; if GStreamer cannot start,
        // device_infos fails too and says so.
        if let Err(e) = gst::init() {
            return Some(format!("cannot initialize GStreamer: {e}"));
        }
        crate::devices::file::device_infos(&specs, &source.origin())
            .err()
            .map(|e| e.to_string())
    }

    /// Calls `f` on every device added or removed until the subscription is
    /// dropped. Calls come from the thread that noticed the change (a
    /// device provider's, or the fake device file's watcher), with no lock
    /// of the device layer held: `f` must be quick and hand longer work
    /// off (as `mediastreamsrc` does with `call_async`).
    pub fn subscribe(&self, f: impl Fn(&DeviceChange) + Send + Sync + 'static) -> Subscription {
        self.devices_and_subscribe(f).1
    }

    /// The devices now (enumerateDevices' list, as [`MediaDevices::devices`])
    /// and a subscription to what changes after, displays and the system's
    /// sound included (kind [`DeviceKind::Display`]): no change falls
    /// between the two, and none is in both.
    pub fn devices_and_subscribe(
        &self,
        f: impl Fn(&DeviceChange) + Send + Sync + 'static,
    ) -> (Result<Vec<MediaDevice>, String>, Subscription) {
        let mut next = self.next_id.lock();
        *next += 1;
        let id = *next;
        drop(next);
        let devices = self.started().map(|devices| {
            let devices = devices.lock();
            self.subscribers.lock().push((id, Arc::new(f)));
            let mut devices = devices.clone();
            // As `devices`: what enumerateDevices lists (the callback
            // hears of displays too).
            devices.retain(|d| d.info.kind != DeviceKind::Display);
            sort(&mut devices);
            devices
        });
        (devices, Subscription { id })
    }

    /// The callbacks to call for a change; taken under the `devices` lock,
    /// so a subscription sees a change exactly when its device list did not.
    fn subscribers(&self) -> Vec<Callback> {
        self.subscribers
            .lock()
            .iter()
            .map(|(_, f)| f.clone())
            .collect()
    }

    /// Applies a device message to the list and tells the subscribers, on
    /// the thread that posted it. Never calls `started()`: it runs while
    /// the monitor starts, inside the `source` initialisation.
    fn on_message(&self, msg: &gst::Message) {
        let (change, subscribers) = {
            let mut devices = self.devices.lock();
            match msg.view() {
                gst::MessageView::DeviceAdded(m) => {
                    let Some(d) = media_device(&m.device()) else {
                        gst::debug!(CAT, "ignoring added {}", m.device().display_name());
                        return;
                    };
                    if devices.iter().any(|x| x.device == d.device) {
                        gst::debug!(CAT, "already listed: {}", d.info.label);
                        return;
                    }
                    devices.push(d.clone());
                    (DeviceChange::Added(d), self.subscribers())
                }
                gst::MessageView::DeviceRemoved(m) => {
                    let device = m.device();
                    let Some(pos) = devices.iter().position(|x| x.device == device) else {
                        gst::debug!(CAT, "not listed, removed: {}", device.display_name());
                        return;
                    };
                    (
                        DeviceChange::Removed(devices.remove(pos)),
                        self.subscribers(),
                    )
                }
                gst::MessageView::DeviceChanged(m) => {
                    // Same device, new details (e.g. now the default): no
                    // devicechange.
                    let (new, old) = m.device_changed();
                    let Some(d) = media_device(&new) else {
                        return;
                    };
                    if let Some(slot) = devices.iter_mut().find(|x| x.device == old) {
                        gst::info!(CAT, "device changed: {}", d.info.label);
                        *slot = d;
                    }
                    return;
                }
                _ => return,
            }
        };
        gst::info!(
            CAT,
            "{change:?}: telling {} subscribers on thread {:?}",
            subscribers.len(),
            std::thread::current().name()
        );
        for f in subscribers {
            // One subscriber's panic must not stop the others' news, nor
            // unwind into the provider that posted the message.
            let f = std::panic::AssertUnwindSafe(|| f(&change));
            if std::panic::catch_unwind(f).is_err() {
                gst::error!(CAT, "a devicechange subscriber panicked on {change:?}");
            }
        }
    }
}

fn is_device_message(msg: &gst::Message) -> bool {
    matches!(
        msg.type_(),
        gst::MessageType::DeviceAdded
            | gst::MessageType::DeviceRemoved
            | gst::MessageType::DeviceChanged
    )
}

/// Starts the fake provider or a device monitor, following its changes from
/// before it starts, and lists its devices.
fn start(this: &'static MediaDevices) -> Result<gst::Object, String> {
    gst::init().map_err(|e| format!("cannot initialize GStreamer: {e}"))?;
    let (source, list) = if FakeSource::from_env().is_some() {
        crate::ensure_registered();
        let provider = gst::DeviceProviderFactory::by_name(FAKE_PROVIDER).ok_or_else(|| {
            format!("{FAKE_PROVIDER} is not available: is the mediastream plugin installed?")
        })?;
        // The provider is a process-wide singleton whose bus any
        // GstDeviceMonitor also follows, by the same sync-message signal; a
        // sync handler of ours would take its messages from them.
        let bus = provider.bus();
        bus.enable_sync_message_emission();
        bus.connect_sync_message(None, move |bus, msg| {
            if is_device_message(msg) {
                this.on_message(msg);
                // Nobody pops this bus (a monitor forwards from the
                // signal too): drop what was queued before, so it does
                // not grow with every change.
                while bus
                    .pop_filtered(&[
                        gst::MessageType::DeviceAdded,
                        gst::MessageType::DeviceRemoved,
                        gst::MessageType::DeviceChanged,
                    ])
                    .is_some()
                {}
            }
        });
        provider
            .start()
            .map_err(|e| format!("{FAKE_PROVIDER} did not start: {e}"))?;
        gst::debug!(CAT, "following {FAKE_PROVIDER}");
        let list: Box<dyn Fn() -> Vec<gst::Device>> = Box::new({
            let provider = provider.clone();
            move || provider.devices().into_iter().collect()
        });
        (provider.upcast::<gst::Object>(), list)
    } else {
        let monitor = gst::DeviceMonitor::new();
        for class in ["Video/Source", "Audio/Source", "Audio/Sink"] {
            monitor.add_filter(Some(class), None);
        }
        // The monitor's bus is ours alone: apply each change on the
        // provider's thread and drop it, so nothing queues.
        monitor.bus().set_sync_handler(move |_, msg| {
            if is_device_message(msg) {
                this.on_message(msg);
                gst::BusSyncReply::Drop
            } else {
                gst::BusSyncReply::Pass
            }
        });
        monitor
            .start()
            .map_err(|e| format!("the device monitor did not start: {e}"))?;
        gst::debug!(CAT, "device monitor started: {:?}", monitor.providers());
        let list: Box<dyn Fn() -> Vec<gst::Device>> = Box::new({
            let monitor = monitor.clone();
            move || monitor.devices().into_iter().collect()
        });
        (monitor.upcast::<gst::Object>(), list)
    };
    // A provider started before (by another monitor) announces nothing:
    // add what it lists that the messages did not. Listed without our lock:
    // a provider may post (and so call `on_message`, which takes it) with
    // its own lock held, which listing takes (PipeWire's thread loop).
    let listed: Vec<MediaDevice> = list().iter().filter_map(media_device).collect();
    let mut devices = this.devices.lock();
    for d in listed {
        if !devices.iter().any(|x| x.device == d.device) {
            gst::debug!(CAT, "listed without a message: {}", d.info.label);
            devices.push(d);
        }
    }
    gst::debug!(CAT, "{} devices at start", devices.len());
    Ok(source)
}

fn sort(devices: &mut [MediaDevice]) {
    let kind_rank = |k: DeviceKind| match k {
        DeviceKind::AudioInput => 0,
        DeviceKind::VideoInput => 1,
        DeviceKind::AudioOutput => 2,
        DeviceKind::Display => 3,
    };
    devices.sort_by(|a, b| {
        kind_rank(a.info.kind)
            .cmp(&kind_rank(b.info.kind))
            .then(b.info.is_default.cmp(&a.info.is_default))
            .then(a.fake_index.cmp(&b.fake_index))
            .then(a.info.label.cmp(&b.info.label))
            .then(a.info.device_id.cmp(&b.info.device_id))
    });
}

/// A fixed-length id from a persistent identity (64 hex digits).
pub fn hashed_id(namespace: &str, identity: &str) -> String {
    let digest = Sha256::digest(format!("gst-mediastream:{namespace}:{identity}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn prop_str(props: Option<&gst::StructureRef>, key: &str) -> Option<String> {
    let v = props?.value(key).ok()?;
    v.get::<String>()
        .ok()
        .or_else(|| v.serialize().ok().map(|s| s.to_string()))
        .filter(|s| !s.is_empty())
}

/// The provider's persistent identity of a device (docs/devices.md, Identity).
fn identity(device: &gst::Device, props: Option<&gst::StructureRef>) -> String {
    // Pulse devices name their source/sink in a GObject property.
    if device.find_property("internal-name").is_some()
        && let Some(name) = device.property::<Option<String>>("internal-name")
        && !name.is_empty()
    {
        return format!("pulse:{name}");
    }
    for key in [
        "object.path",
        "api.v4l2.path",
        "device.path",
        "api.alsa.path",
    ] {
        if let Some(v) = prop_str(props, key) {
            return format!("{key}={v}");
        }
    }
    if let Some(name) = prop_str(props, "node.name") {
        let desc = prop_str(props, "node.description").unwrap_or_default();
        return format!("node={name}|{desc}");
    }
    if let Some(v) = prop_str(props, "device.string") {
        return format!("device.string={v}");
    }
    format!("name={}", device.display_name())
}

/// What the parts of one physical product share (bus path, card, serial).
fn group_identity(props: Option<&gst::StructureRef>) -> Option<String> {
    [
        "device.bus-path",
        "device.bus_path",
        "api.v4l2.cap.bus_info",
        "api.alsa.card",
        "alsa.card",
        "device.serial",
    ]
    .iter()
    .find_map(|k| prop_str(props, k).map(|v| format!("{k}={v}")))
}

fn facing_mode(props: Option<&gst::StructureRef>) -> Option<String> {
    let location = [
        "api.libcamera.location",
        "camera.location",
        "device.location",
    ]
    .iter()
    .find_map(|k| prop_str(props, k))?;
    match location.as_str() {
        "front" => Some("user".into()),
        "back" => Some("environment".into()),
        _ => None,
    }
}

fn is_monitor_source(props: Option<&gst::StructureRef>) -> bool {
    prop_str(props, "device.class").as_deref() == Some("monitor")
        || prop_str(props, "node.name").is_some_and(|n| n.ends_with(".monitor"))
}

/// The display traits of a fake display device (from its spec).
fn fake_display_traits(device: &gst::Device) -> Option<crate::constraints::display::DisplayTraits> {
    use gst::subclass::prelude::*;
    let fake = device.downcast_ref::<crate::fakedeviceprovider::FakeDevice>()?;
    fake.imp().spec().display_traits()
}

/// A GStreamer device as a MediaDevice; `None` for what is not a camera,
/// microphone or speaker (and for monitors of speakers).
pub fn media_device(device: &gst::Device) -> Option<MediaDevice> {
    let class = device.device_class();
    let kind = if class.split('/').any(|c| c == "Display") {
        DeviceKind::Display
    } else if class.contains("Video/Source") {
        DeviceKind::VideoInput
    } else if class.contains("Audio/Source") {
        DeviceKind::AudioInput
    } else if class.contains("Audio/Sink") {
        DeviceKind::AudioOutput
    } else {
        return None;
    };
    let props = device.properties();
    let props = props.as_deref();
    let modes = device
        .caps()
        .map(|c| modes_from_caps(&c))
        .unwrap_or_default();
    let is_default = props
        .and_then(|p| p.get::<bool>("is-default").ok())
        .unwrap_or(false);
    let label = device.display_name().to_string();

    if prop_str(props, "device.api").as_deref() == Some(DisplayDevice::API) {
        let p = props?;
        let surface = match p.get::<&str>("mediastream.display-surface").ok()? {
            "window" => SurfaceType::Window,
            _ => SurfaceType::Monitor,
        };
        return Some(MediaDevice {
            info: DeviceInfo {
                kind: DeviceKind::Display,
                label,
                device_id: p.get::<String>("mediastream.device-id").ok()?,
                group_id: String::new(),
                facing_mode: None,
                is_default,
                latency: DEFAULT_LATENCY,
                modes,
                display: Some(DisplayTraits {
                    surface,
                    logical_surface: surface == SurfaceType::Monitor,
                    cursors: Cursor::ALL.to_vec(),
                }),
            },
            device: device.clone(),
            fake_index: None,
        });
    }
    if prop_str(props, "device.api").as_deref() == Some(FAKE_API) {
        let p = props?;
        return Some(MediaDevice {
            info: DeviceInfo {
                kind,
                label,
                device_id: p.get::<String>("mediastream.device-id").ok()?,
                group_id: p.get::<String>("mediastream.group-id").ok()?,
                facing_mode: p.get::<String>("mediastream.facing-mode").ok(),
                is_default,
                latency: p
                    .get::<f64>("mediastream.latency")
                    .unwrap_or(DEFAULT_LATENCY),
                modes,
                display: fake_display_traits(device),
            },
            device: device.clone(),
            fake_index: p.get::<u32>("mediastream.index").ok(),
        });
    }
    // A monitor of an output is the system's sound: getDisplayMedia's
    // audio, not a microphone.
    let kind = if kind == DeviceKind::AudioInput && is_monitor_source(props) {
        DeviceKind::Display
    } else {
        kind
    };
    let identity = identity(device, props);
    let group = group_identity(props).unwrap_or_else(|| identity.clone());
    Some(MediaDevice {
        info: DeviceInfo {
            kind,
            label,
            device_id: hashed_id(kind.as_str(), &identity),
            group_id: hashed_id("group", &group),
            facing_mode: facing_mode(props),
            is_default,
            latency: DEFAULT_LATENCY,
            modes,
            display: None,
        },
        device: device.clone(),
        fake_index: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_fixed_length_hex_and_stable() {
        let a = hashed_id("videoinput", "object.path=v4l2:/dev/video0");
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(a, hashed_id("videoinput", "object.path=v4l2:/dev/video0"));
        assert_ne!(a, hashed_id("audioinput", "object.path=v4l2:/dev/video0"));
        // Pinned: a change of hashing would change every user's deviceIds.
        assert_eq!(
            hashed_id("videoinput", "x"),
            "c5caca2db60e921e213b128b9bd9b43116569b775ab5c4234ec3050fe7b78598"
        );
    }
}
