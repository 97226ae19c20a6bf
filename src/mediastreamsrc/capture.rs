// SPDX-License-Identifier: MPL-2.0

//! The device capture: the device's element and what it needs to reach the
//! native mode the selection chose (a capsfilter that pins the mode, a
//! decoder for an encoded one).

use super::CAT;
use super::chain::make;
use crate::constraints::caps::modes_from_caps;
use crate::constraints::share::{device_rate, running_mode};
use crate::constraints::{ConstraintError, NativeMode, ResizeMode, Settings};
use crate::devices::monitor::MediaDevice;
use crate::fault::Guarded;
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;

/// A device opened for a track: its element and what follows it to reach
/// the chosen native mode, in link order. Not in a bin until the track
/// adds it; the device opens when the element starts.
#[derive(Clone)]
pub(super) struct Capture {
    device: MediaDevice,
    mode: usize,
    /// What the capture delivers, as one fixed raw mode (what other tracks
    /// on a shared capture are adapted from).
    running: NativeMode,
    elements: Vec<gst::Element>,
}

impl Capture {
    /// The device's element for `settings` from its native mode `mode`.
    pub(super) fn new(
        device: &MediaDevice,
        settings: &Settings,
        mode: usize,
    ) -> Result<Capture, ConstraintError> {
        let native = &device.info.modes[mode];
        let element = device.create_element(None).map_err(|e| {
            ConstraintError::not_readable(format!("cannot open '{}': {e}", device.info.label))
        })?;
        // A capture frame without a timestamp (pipewiresrc leaves all but
        // the first without one) cannot be recorded or synced: the device's
        // source stamps those with the clock when they are captured, as
        // browsers do. Timestamps the driver set are kept.
        if element.is::<gst_base::BaseSrc>() && element.find_property("do-timestamp").is_some() {
            element.set_property("do-timestamp", true);
        }
        // A display's cursor setting is its capture's pointer option.
        if let Settings::Video(v) = settings
            && let Some(d) = &v.display
            && element.find_property("cursor").is_some()
        {
            element.set_property_from_str("cursor", d.cursor.as_str());
        }
        let mut elements = vec![element];
        if let Some(caps) = device_caps(settings, native) {
            let pin = make("capsfilter")?;
            pin.set_property("caps", caps);
            elements.push(pin);
        }
        if let NativeMode::Video(m) = native
            && m.is_encoded()
        {
            elements.push(make(if m.media_type == "image/jpeg" {
                "jpegdec"
            } else {
                "decodebin"
            })?);
        }
        Ok(Capture {
            device: device.clone(),
            mode,
            running: running_mode(settings, native),
            elements,
        })
    }

    pub(super) fn device(&self) -> &MediaDevice {
        &self.device
    }

    /// The index of the native mode the device runs.
    pub(super) fn mode(&self) -> usize {
        self.mode
    }

    /// What the capture delivers: the caps it negotiated, else what the
    /// selection makes it run.
    pub(super) fn running_mode(&self) -> NativeMode {
        self.elements
            .last()
            .and_then(|e| e.static_pad("src"))
            .and_then(|p| p.current_caps())
            .and_then(|caps| modes_from_caps(&caps).into_iter().next())
            .unwrap_or_else(|| self.running.clone())
    }

    /// The device's own element.
    pub(super) fn element(&self) -> &gst::Element {
        &self.elements[0]
    }

    /// The device's element and what pins and decodes its mode, in order.
    pub(super) fn elements(&self) -> &[gst::Element] {
        &self.elements
    }

    /// Whether the device's element is the bare element (no pin, no
    /// decoder): the native raw path.
    pub(super) fn is_bare(&self) -> bool {
        self.elements.len() == 1
    }

    /// Whether `obj` is the device's element or inside it (a message's
    /// source).
    pub(super) fn is_source_of(&self, obj: &gst::Object) -> bool {
        let element = self.element().upcast_ref::<gst::Object>();
        obj == element || obj.has_as_ancestor(element)
    }
}

/// The caps that pin the device to the native mode the selection chose,
/// where the settings' own caps do not: an encoded mode (the decoder's
/// output says nothing of its input) and crop-and-scale (the scaler would
/// otherwise let the device run any mode, such as its first, and stretch
/// it). `None` on the native raw path, which the settings' caps pin.
fn device_caps(settings: &Settings, mode: &NativeMode) -> Option<gst::Caps> {
    let (Settings::Video(v), NativeMode::Video(m)) = (settings, mode) else {
        return None;
    };
    if v.resize_mode == ResizeMode::None && !m.is_encoded() {
        return None;
    }
    let (width, height) = match v.resize_mode {
        ResizeMode::None => (v.width, v.height),
        ResizeMode::CropAndScale => (m.width.max, m.height.max),
    };
    let rate = device_rate(v, m);
    let mut b = gst::Structure::builder(m.media_type.as_str())
        .field("width", width as i32)
        .field("height", height as i32)
        .field("framerate", gst::Fraction::new(rate.num, rate.den));
    if !m.is_encoded() && !m.formats.is_empty() {
        b = b.field(
            "format",
            gst::List::new(m.formats.iter().map(|f| f.as_str())),
        );
    }
    Some(gst::Caps::builder_full().structure(b.build()).build())
}

/// On the native path (the device, then the settings' capsfilter), caps
/// the device switches to on its own pass: the track follows the device
/// and its settings become what flows, instead of failing negotiation.
impl Capture {
    pub(super) fn follow_device_caps(&self, track: &super::MediaStreamSrc, filter: &gst::Element) {
        let Some(pad) = self.element().static_pad("src") else {
            return;
        };
        let filter = filter.downgrade();
        let track = track.downgrade();
        pad.add_probe(gst::PadProbeType::EVENT_DOWNSTREAM, move |pad, info| {
            let Some(track) = track.upgrade() else {
                return gst::PadProbeReturn::Remove;
            };
            // Moved to a shared capture: the track's filter is no longer
            // after it (and a failed track must not drop its events there).
            let in_track = pad
                .parent()
                .and_then(|device| device.parent())
                .is_some_and(|bin| &bin == track.upcast_ref::<gst::Object>());
            if !in_track {
                return gst::PadProbeReturn::Remove;
            }
            match track.imp().guard(|| None, |_| Some(follow(&filter, info))) {
                Some(ret) => ret,
                None => crate::fault::drop_item(info),
            }
        });
    }
}

fn follow(filter: &glib::WeakRef<gst::Element>, info: &gst::PadProbeInfo) -> gst::PadProbeReturn {
    {
        if let (Some(gst::PadProbeData::Event(ev)), Some(filter)) = (&info.data, filter.upgrade())
            && let gst::EventView::Caps(c) = ev.view()
        {
            let held = filter.property::<Option<gst::Caps>>("caps");
            if held.is_some_and(|held| !c.caps().can_intersect(&held)) {
                gst::info!(
                    CAT,
                    obj = filter,
                    "the device switched to {}: following",
                    c.caps()
                );
                filter.set_property("caps", c.caps_owned());
            }
        }
        gst::PadProbeReturn::Ok
    }
}
