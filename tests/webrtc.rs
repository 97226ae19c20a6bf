//! A `mediastream` over the network, against headless Chromium: every
//! packet stays inside a network namespace the test creates (a veth pair,
//! tests/webrtc_common). Without Chromium, chromedriver, selenium, libnice
//! or the permission for a namespace the tests say so and skip; with CI
//! set they fail (scripts/setup installs the packages).

#[path = "webrtc_common/mod.rs"]
mod webrtc_common;

use gst::prelude::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use webrtc_common as wc;

/// Polls Chromium's `peer.stats()` until `done` holds (or fails after
/// `secs`).
fn wait_stats(
    browser: &mut wc::Browser,
    secs: u64,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let stats = browser.call("stats", json!([]));
        if done(&stats) {
            return stats;
        }
        assert!(
            Instant::now() < deadline,
            "Chromium: {what} did not happen: {stats:#}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn gstreamer_to_chromium() {
    if !wc::runnable(wc::missing_browser()) || !wc::in_private_network("gstreamer_to_chromium") {
        return;
    }
    let (p, ms, webrtc) = wc::sender(r#"{"video":true,"audio":true}"#);
    let mut browser = wc::Browser::start(false);
    p.set_state(gst::State::Playing).unwrap();
    wc::wait_for_sink_caps(&webrtc, 2);
    let offer = wc::create_offer(&webrtc);
    wc::set_description(&webrtc, true, &offer);
    wc::wait_gathered(&webrtc);
    let answer = browser.call("receive", json!([wc::local_sdp(&webrtc)]));
    let answer = wc::sdp_desc(
        gst_webrtc::WebRTCSDPType::Answer,
        answer["sdp"].as_str().unwrap(),
    );
    wc::set_description(&webrtc, false, &answer);

    let stats = wait_stats(
        &mut browser,
        30,
        "video frames decoded and audio received",
        |s| {
            s["inbound"]["video"]["framesDecoded"].as_u64().unwrap_or(0) >= 10
                && s["inbound"]["audio"]["packetsReceived"]
                    .as_u64()
                    .unwrap_or(0)
                    >= 10
        },
    );
    let stream_id = ms.property::<String>("id");
    let mut track_ids = ms.property::<Vec<String>>("track-ids");
    track_ids.sort();
    let tracks = stats["tracks"].as_array().unwrap();
    let mut seen: Vec<String> = tracks
        .iter()
        .map(|t| t["trackId"].as_str().unwrap().to_string())
        .collect();
    seen.sort();
    assert_eq!(seen, track_ids, "ontrack's track ids: {stats:#}");
    for t in tracks {
        assert_eq!(t["streamIds"], json!([stream_id]), "ontrack's stream: {t}");
    }
    // Frames at the track's own size.
    let video = ms
        .src_pads()
        .into_iter()
        .find(|p| p.name().starts_with("video_"))
        .unwrap();
    let caps = video.current_caps().unwrap();
    let s = caps.structure(0).unwrap();
    let (w, h) = (
        s.get::<i32>("width").unwrap(),
        s.get::<i32>("height").unwrap(),
    );
    assert_eq!(
        stats["inbound"]["video"]["frameWidth"],
        json!(w),
        "{stats:#}"
    );
    assert_eq!(
        stats["inbound"]["video"]["frameHeight"],
        json!(h),
        "{stats:#}"
    );
    browser.call("close", json!([]));
    p.set_state(gst::State::Null).unwrap();
}
