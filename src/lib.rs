// SPDX-License-Identifier: MPL-2.0

// The elements document their signals in hotdoc blocks (`/** Type::signal: */`)
// on the builder expressions, as gst-plugins-rs does.
#![allow(unused_doc_comments)]

//! gst-mediastream: the W3C Media Capture and Streams model for GStreamer.
//!
//! The plugin's elements (`mediastream`, `mediastreamsrc`,
//! `mediastreamtracksink`, `mediarecorder`, `mediastreamrtpenc`,
//! `mediastreamrtpdec`, `mediastreamfakesrc`) are used through GStreamer:
//! `gst::ElementFactory::make("mediastream")`, launch lines, properties and
//! signals. What a Rust program may use besides:
//!
//! - [`constraints`]: the pure W3C constraints engine (parsing,
//!   SelectSettings, fitness distance, capabilities); it needs no running
//!   GStreamer except at its caps edge ([`constraints::caps`]).
//! - [`devices`]: MediaDevices over GstDeviceMonitor (enumerateDevices,
//!   devicechange) and the fake-device files.
//! - [`track`]: the track layer: kinds, ready state, the track-state event
//!   any element downstream of a track can read.
//! - [`webrtc`]: sending a stream through `webrtcbin` and receiving the
//!   peer's streams as remote `mediastream`s.
//! - [`recording`]: MediaRecorder's MIME types (isTypeSupported's answer).
//! - [`constraints_from_uri`], [`VideoCodec`], [`ensure_registered`].
//!
//! The crate in layers (docs/architecture.md): the constraints engine and
//! the device layer at the bottom, the track layer on them, the elements
//! on top; an element module imports nothing from another element but
//! what `mediastream` composes.

pub mod constraints;
pub mod devices;
pub mod display;
mod displaydeviceprovider;
pub(crate) mod excerpt;
mod fakedeviceprovider;
#[doc(hidden)]
pub mod fault;
mod lifeline;
mod mediarecorder;
mod mediastream;
mod mediastreamdisplaysrc;
mod mediastreamfakesrc;
mod mediastreamjanussrc;
mod mediastreamrtpdec;
mod mediastreamrtpenc;
mod mediastreamsrc;
mod mediastreamtracksink;
mod mediastreamwhipsink;
mod plumbing;
pub mod track;
pub mod webrtc;

pub use mediastream::constraints_from_uri;
pub use mediastreamrtpenc::VideoCodec;

/// MediaRecorder's MIME types: what `is-type-supported` answers, and the
/// container and codecs a type records with.
pub mod recording {
    pub use crate::mediarecorder::mime::*;
}

use gst::glib;

/// Makes the plugin's elements and device provider available when this
/// crate is used as a Rust library. Inside the plugin loaded by GStreamer
/// it does nothing; otherwise it registers this code's own types, so a stale
/// `mediastream` plugin in the registry cache (an older build on
/// GST_PLUGIN_PATH) never stands in for it. Needs `gst::init()` first.
pub fn ensure_registered() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let loaded = gst::Registry::get()
            .find_plugin("mediastream")
            .is_some_and(|p| p.is_loaded());
        if !loaded && let Err(e) = plugin_register_static() {
            // The elements are then missing, and creating one says so.
            gst::warning!(
                gst::CAT_DEFAULT,
                "cannot register the mediastream plugin: {e}"
            );
        }
    });
}

fn plugin_init(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    mediastreamfakesrc::register(plugin)?;
    mediastreamdisplaysrc::register(plugin)?;
    fakedeviceprovider::register(plugin)?;
    displaydeviceprovider::register(plugin)?;
    mediastreamsrc::register(plugin)?;
    mediastreamtracksink::register(plugin)?;
    mediastream::register(plugin)?;
    mediastreamrtpenc::register(plugin)?;
    mediastreamrtpdec::register(plugin)?;
    mediarecorder::register(plugin)?;
    mediastreamjanussrc::register(plugin)?;
    mediastreamwhipsink::register(plugin)?;
    Ok(())
}

gst::plugin_define!(
    mediastream,
    env!("CARGO_PKG_DESCRIPTION"),
    plugin_init,
    concat!(env!("CARGO_PKG_VERSION"), "-", env!("COMMIT_ID")),
    "MPL",
    env!("CARGO_PKG_NAME"),
    env!("CARGO_PKG_NAME"),
    "gst-mediastream",
    env!("BUILD_REL_DATE")
);
