// SPDX-License-Identifier: MPL-2.0

//! Lock order: the provider's `state` only; it is never held while calling
//! `device_add` / `device_remove` (they post on the provider's bus).

use crate::constraints::{DeviceKind, Kind};
use crate::devices::fake::{self, FakeSource, FileWatcher};
use crate::devices::file::{DeviceFileError, DeviceSpec};
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use parking_lot::Mutex;
use std::sync::{LazyLock, OnceLock};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "mediastreamfakedeviceprovider",
        gst::DebugColorFlags::empty(),
        Some("Fake capture devices for gst-mediastream"),
    )
});

#[derive(Default)]
struct State {
    devices: Vec<super::FakeDevice>,
    watcher: Option<FileWatcher>,
}

#[derive(Default)]
pub struct FakeDeviceProvider {
    state: Mutex<State>,
}

#[glib::object_subclass]
impl ObjectSubclass for FakeDeviceProvider {
    const NAME: &'static str = "GstMediaStreamFakeDeviceProvider";
    type Type = super::FakeDeviceProvider;
    type ParentType = gst::DeviceProvider;
}

impl ObjectImpl for FakeDeviceProvider {}
impl GstObjectImpl for FakeDeviceProvider {}

impl DeviceProviderImpl for FakeDeviceProvider {
    fn metadata() -> Option<&'static gst::subclass::DeviceProviderMetadata> {
        static META: LazyLock<gst::subclass::DeviceProviderMetadata> = LazyLock::new(|| {
            gst::subclass::DeviceProviderMetadata::new(
                "MediaStream fake device provider",
                "Source/Sink/Video/Audio/Display",
                "Fake cameras, microphones, speakers and displays from GST_MEDIASTREAM_FAKE_DEVICES (1 for the built-in set, or a device file)",
                "gst-mediastream developers",
            )
        });
        Some(&*META)
    }

    fn probe(&self) -> Vec<gst::Device> {
        match FakeSource::from_env() {
            None => Vec::new(),
            Some(source) => load(&source).into_iter().map(|d| d.upcast()).collect(),
        }
    }

    fn start(&self) -> Result<(), gst::LoggableError> {
        let Some(source) = FakeSource::from_env() else {
            gst::debug!(CAT, imp = self, "{} is not set: no fake devices", fake::ENV);
            return Ok(());
        };
        let devices = load(&source);
        let watcher = match &source {
            FakeSource::File(path) => {
                let weak = self.obj().downgrade();
                let origin = source.origin();
                Some(FileWatcher::new(path.clone(), move |result| {
                    if let Some(obj) = weak.upgrade() {
                        let call = std::panic::AssertUnwindSafe(|| {
                            crate::fault::point("fakedeviceprovider:file-changed");
                            obj.imp().file_changed(&origin, result)
                        });
                        if std::panic::catch_unwind(call).is_err() {
                            gst::error!(
                                CAT,
                                obj = obj,
                                "{origin}: reading the changed file panicked"
                            );
                        }
                    }
                }))
            }
            FakeSource::Builtin => None,
        };
        {
            let mut state = self.state.lock();
            state.devices = devices.clone();
            state.watcher = watcher;
        }
        for d in &devices {
            self.obj().device_add(d);
        }
        Ok(())
    }

    fn stop(&self) {
        let (devices, watcher) = {
            let mut state = self.state.lock();
            (std::mem::take(&mut state.devices), state.watcher.take())
        };
        drop(watcher);
        for d in &devices {
            self.obj().device_remove(d);
        }
    }
}

impl FakeDeviceProvider {
    /// The file changed: remove the devices that left or changed, add the new.
    fn file_changed(&self, origin: &str, result: Result<Vec<DeviceSpec>, DeviceFileError>) {
        let specs = match result {
            Ok(specs) => specs,
            Err(e) => {
                gst::error!(CAT, imp = self, "{e}; keeping the devices listed before");
                return;
            }
        };
        let new = devices_from(&specs, origin);
        // A device is its kind and deviceId: a new default, label or set of
        // caps (a camera switching modes) is a device-changed, not an unplug.
        let same = |a: &DeviceSpec, b: &DeviceSpec| a.kind == b.kind && a.device_id == b.device_id;
        let (removed, added, changed) = {
            let mut state = self.state.lock();
            let removed: Vec<_> = state
                .devices
                .iter()
                .filter(|d| !specs.iter().any(|s| same(s, d.imp().spec())))
                .cloned()
                .collect();
            let mut next = Vec::new();
            let mut added = Vec::new();
            let mut changed = Vec::new();
            for d in new {
                match state
                    .devices
                    .iter()
                    .find(|o| same(o.imp().spec(), d.imp().spec()))
                {
                    Some(old) if old.imp().spec() == d.imp().spec() => next.push(old.clone()),
                    Some(old) => {
                        changed.push((d.clone(), old.clone()));
                        next.push(d);
                    }
                    None => {
                        added.push(d.clone());
                        next.push(d);
                    }
                }
            }
            gst::info!(
                CAT,
                imp = self,
                "{origin} changed: {} removed, {} added, {} changed",
                removed.len(),
                added.len(),
                changed.len()
            );
            state.devices = next;
            (removed, added, changed)
        };
        for d in &removed {
            self.obj().device_remove(d);
        }
        for d in &added {
            self.obj().device_add(d);
        }
        for (new, old) in &changed {
            self.obj().device_changed(new, old);
        }
    }
}

/// The devices of a source; on error, none (the error is logged and kept).
fn load(source: &FakeSource) -> Vec<super::FakeDevice> {
    match source.load() {
        Ok(specs) => devices_from(&specs, &source.origin()),
        Err(e) => {
            gst::error!(CAT, "{e}");
            Vec::new()
        }
    }
}

fn devices_from(specs: &[DeviceSpec], origin: &str) -> Vec<super::FakeDevice> {
    let file = match FakeSource::from_env() {
        Some(FakeSource::File(p)) => p.display().to_string(),
        _ => String::new(),
    };
    let mut out = Vec::new();
    for (index, spec) in specs.iter().enumerate() {
        match spec.parsed_caps(origin, index) {
            Ok(caps) => out.push(super::FakeDevice::new(spec, index, caps, &file)),
            Err(e) => {
                // One broken device makes the file unusable, as docs/devices.md says.
                gst::error!(CAT, "{e}");
                return Vec::new();
            }
        }
    }
    out
}

impl super::FakeDevice {
    fn new(spec: &DeviceSpec, index: usize, caps: gst::Caps, file: &str) -> super::FakeDevice {
        let class = match spec.kind {
            DeviceKind::VideoInput => "Video/Source",
            DeviceKind::AudioInput => "Audio/Source",
            DeviceKind::AudioOutput => "Audio/Sink",
            // A source, so that it shows with the cameras and microphones
            // in gst-device-monitor-1.0; Display tells it apart.
            DeviceKind::Display if Kind::of_caps(&caps) == Some(Kind::Audio) => {
                "Audio/Source/Display"
            }
            DeviceKind::Display => "Video/Source/Display",
        };
        let mut props = gst::Structure::builder("mediastream-fake-device")
            .field("device.api", super::DEVICE_API)
            .field("mediastream.device-id", &spec.device_id)
            .field("mediastream.group-id", &spec.group_id)
            .field("is-default", spec.is_default)
            .field("mediastream.latency", spec.latency)
            .field("mediastream.live", spec.live)
            .field("mediastream.exclusive", spec.exclusive)
            .field("mediastream.file", file)
            .field("mediastream.index", index as u32)
            .build();
        if let Some(f) = &spec.facing_mode {
            props.set("mediastream.facing-mode", f);
        }
        let device: super::FakeDevice = glib::Object::builder()
            .property("display-name", &spec.label)
            .property("device-class", class)
            .property("caps", &caps)
            .property("properties", &props)
            .build();
        // The device was built just above: its spec cannot be set yet.
        let _ = device
            .imp()
            .spec
            .set((spec.clone(), index, file.to_owned()));
        device
    }
}

#[derive(Default)]
pub struct FakeDevice {
    spec: OnceLock<(DeviceSpec, usize, String)>,
}

impl FakeDevice {
    pub(crate) fn spec(&self) -> &DeviceSpec {
        &self.spec.get().expect("set at construction").0
    }
}

#[glib::object_subclass]
impl ObjectSubclass for FakeDevice {
    const NAME: &'static str = "GstMediaStreamFakeDevice";
    type Type = super::FakeDevice;
    type ParentType = gst::Device;
}

impl ObjectImpl for FakeDevice {}
impl GstObjectImpl for FakeDevice {}

impl DeviceImpl for FakeDevice {
    /// A camera or microphone is `mediastreamfakesrc device-id=ID` alone:
    /// the element looks the rest (caps, pattern or tone, liveness, file)
    /// up among the current fake devices, so the line gst-device-monitor-1.0
    /// prints from it sets nothing that does not apply to the device.
    fn create_element(&self, name: Option<&str>) -> Result<gst::Element, gst::LoggableError> {
        let spec = &self.spec.get().expect("set at construction").0;
        gst::debug!(
            CAT,
            imp = self,
            "element for {} ({:?})",
            spec.device_id,
            spec.kind
        );
        let element = match spec.kind {
            // A fake speaker plays in real time into nothing.
            DeviceKind::AudioOutput => gst::ElementFactory::make("fakesink")
                .property("sync", true)
                .build(),
            _ => gst::ElementFactory::make("mediastreamfakesrc")
                .property("device-id", &spec.device_id)
                .build(),
        }
        .map_err(|e| {
            gst::loggable_error!(CAT, "cannot create the element of {}: {e}", spec.label)
        })?;
        if let Some(name) = name {
            element.set_property("name", name);
        }
        Ok(element)
    }
}
