// SPDX-License-Identifier: MPL-2.0

//! The provider's probe and the device's element.

use crate::display::surface;
use crate::display::x11::{self, Target};
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use std::sync::{LazyLock, OnceLock};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "mediastreamdisplaydeviceprovider",
        gst::DebugColorFlags::empty(),
        Some("X11 screens as devices"),
    )
});

/// The rate getDisplayMedia offers an X11 surface at most (X11 has no
/// refresh rate to read on Xvfb; 30 is a browser's default too).
pub const SURFACE_RATE: i32 = 30;

#[derive(Default)]
pub struct DisplayDeviceProvider;

#[glib::object_subclass]
impl ObjectSubclass for DisplayDeviceProvider {
    const NAME: &'static str = "GstMediaStreamDisplayDeviceProvider";
    type Type = super::DisplayDeviceProvider;
    type ParentType = gst::DeviceProvider;
}

impl ObjectImpl for DisplayDeviceProvider {}
impl GstObjectImpl for DisplayDeviceProvider {}

impl DeviceProviderImpl for DisplayDeviceProvider {
    fn metadata() -> Option<&'static gst::subclass::DeviceProviderMetadata> {
        static META: LazyLock<gst::subclass::DeviceProviderMetadata> = LazyLock::new(|| {
            gst::subclass::DeviceProviderMetadata::new(
                "MediaStream display device provider",
                "Source/Video/Display",
                "The screens of the X display $DISPLAY names, for getDisplayMedia",
                "gst-mediastream developers",
            )
        });
        Some(&*META)
    }

    fn probe(&self) -> Vec<gst::Device> {
        match x11::screens(None) {
            Ok(screens) => screens
                .iter()
                .map(|s| {
                    let target = Target {
                        display: Some(s.display.clone()),
                        screen: Some(s.index),
                        window: None,
                    };
                    super::DisplayDevice::new(
                        &target,
                        (s.width, s.height),
                        &surface::screen_id(&s.display, s.index),
                        &format!("Screen {} of {}", s.index, s.display),
                    )
                    .upcast()
                })
                .collect(),
            Err(e) => {
                gst::debug!(CAT, imp = self, "no X11 screens: {e}");
                Vec::new()
            }
        }
    }
}

#[derive(Default)]
pub struct DisplayDevice {
    target: OnceLock<Target>,
}

impl DisplayDevice {
    pub(super) fn make(
        target: &Target,
        (width, height): (u32, u32),
        device_id: &str,
        label: &str,
    ) -> super::DisplayDevice {
        let caps = gst::Caps::builder("video/x-raw")
            .field("format", "BGRx")
            .field("width", width as i32)
            .field("height", height as i32)
            .field(
                "framerate",
                gst::FractionRange::new(
                    gst::Fraction::new(1, 1),
                    gst::Fraction::new(SURFACE_RATE, 1),
                ),
            )
            .build();
        let surface = if target.window.is_some() {
            "window"
        } else {
            "monitor"
        };
        let props = gst::Structure::builder("mediastream-display-device")
            .field("device.api", super::DisplayDevice::API)
            .field("mediastream.device-id", device_id)
            .field("mediastream.display-surface", surface)
            .field("x11.display", target.display.clone().unwrap_or_default())
            .field("x11.screen", target.screen.unwrap_or(0) as i32)
            .field("x11.window", target.window.unwrap_or(0))
            .field(
                "is-default",
                target.window.is_none() && target.screen == Some(0),
            )
            .build();
        let device: super::DisplayDevice = glib::Object::builder()
            .property("display-name", label)
            .property("device-class", "Video/Source/Display")
            .property("caps", &caps)
            .property("properties", &props)
            .build();
        // Just built: nothing set it yet.
        let _ = device.imp().target.set(target.clone());
        device
    }

    pub(super) fn target(&self) -> Target {
        self.target.get().cloned().unwrap_or_default()
    }
}

#[glib::object_subclass]
impl ObjectSubclass for DisplayDevice {
    const NAME: &'static str = "GstMediaStreamDisplayDevice";
    type Type = super::DisplayDevice;
    type ParentType = gst::Device;
}

impl ObjectImpl for DisplayDevice {}
impl GstObjectImpl for DisplayDevice {}

impl DeviceImpl for DisplayDevice {
    fn create_element(&self, name: Option<&str>) -> Result<gst::Element, gst::LoggableError> {
        let target = self.target();
        gst::debug!(CAT, imp = self, "element for {target}");
        let mut b = gst::ElementFactory::make("mediastreamdisplaysrc")
            .property("display", target.display.clone().unwrap_or_default())
            .property("screen", target.screen.map_or(-1, |s| s as i32))
            .property("window", target.window.unwrap_or(0));
        if let Some(name) = name {
            b = b.name(name);
        }
        b.build()
            .map_err(|e| gst::loggable_error!(CAT, "cannot make mediastreamdisplaysrc: {e}"))
    }
}
