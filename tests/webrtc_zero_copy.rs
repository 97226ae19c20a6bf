// SPDX-License-Identifier: MPL-2.0

//! A track sent to webrtcbin reaches its encoder as the device's own
//! buffers: no queue and no copy between the device and `vp8enc` /
//! `opusenc` inside `mediastreamrtpenc` (docs/webrtc.md). No network: the
//! webrtcbin is never connected, so mediastreamrtpenc drops the encoded
//! frames before the payloader, but the encoder gets every frame.

#[path = "common/objects.rs"]
mod objects;
#[path = "common/track.rs"]
mod track;
#[path = "webrtc_common/mod.rs"]
mod webrtc_common;

use gst::prelude::*;
use std::time::Duration;
use webrtc_common as wc;

#[test]
fn the_encoder_gets_the_devices_own_buffers() {
    if !wc::runnable(wc::missing_gstreamer()) {
        return;
    }
    let (p, ms, webrtc) = wc::sender(r#"{"video":true,"audio":true}"#);
    p.set_state(gst::State::Playing).unwrap();
    wc::wait_for_sink_caps(&webrtc, 2);

    let bin = ms.downcast_ref::<gst::Bin>().unwrap();
    let devices: Vec<gst::Element> = bin
        .iterate_all_by_element_factory_name("mediastreamfakesrc")
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(devices.len(), 2, "a fake camera and a fake microphone");
    let encs: Vec<gst::Element> = p
        .iterate_all_by_element_factory_name("mediastreamrtpenc")
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(encs.len(), 2);

    let mut watches = Vec::new();
    for enc in &encs {
        let children = track::child_factories(enc);
        assert!(
            !children.iter().any(|c| c.contains("queue")),
            "no queue in mediastreamrtpenc: {children:?}"
        );
        let encoder = enc
            .downcast_ref::<gst::Bin>()
            .unwrap()
            .children()
            .into_iter()
            .find(|e| {
                let f = e.factory().unwrap();
                f.name() == "vp8enc" || f.name() == "opusenc"
            })
            .unwrap_or_else(|| panic!("an encoder in {children:?}"));
        // The device this encoder's track comes from: by kind.
        let video = encoder.factory().unwrap().name() == "vp8enc";
        let device = devices
            .iter()
            .find(|d| {
                let caps = d.static_pad("src").unwrap().current_caps().unwrap();
                caps.structure(0).unwrap().name().starts_with("video") == video
            })
            .unwrap();
        watches.push((
            encoder.name(),
            objects::watch_against(
                &encoder.static_pad("sink").unwrap(),
                &device.static_pad("src").unwrap(),
            ),
        ));
    }
    // No queue anywhere in the pipeline between a device and its encoder.
    let queues: Vec<String> = p
        .iterate_recurse()
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.factory().is_some_and(|f| f.name().contains("queue")))
        .map(|e| e.name().to_string())
        .collect();
    assert!(queues.is_empty(), "queues in the pipeline: {queues:?}");

    let mut seen = vec![objects::Counts::default(); watches.len()];
    let enough = track::poll::holds_within(Duration::from_secs(20), || {
        for (s, (_, w)) in seen.iter_mut().zip(&watches) {
            let c = w.take();
            s.buffers += c.buffers;
            s.foreign += c.foreign;
        }
        seen.iter().all(|c| c.buffers >= 30)
    });
    assert!(enough, "too few buffers: {seen:?}");
    for (s, (name, _)) in seen.iter().zip(&watches) {
        assert_eq!(
            s.foreign, 0,
            "{name}: every buffer is the one the device pushed: {s:?}"
        );
    }
    p.set_state(gst::State::Null).unwrap();
}
