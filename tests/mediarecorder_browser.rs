// SPDX-License-Identifier: MPL-2.0

//! A real player reads the recording: mediarecorder's chunks, concatenated,
//! play in a `<video>` element of headless Chromium (the WebRTC tests'
//! setup, in a network namespace of its own): metadata loads, the video's
//! size is the track's settings, frames are presented.

#[path = "common/launch_recording.rs"]
mod launch_recording;
#[path = "webrtc_common/mod.rs"]
mod webrtc_common;

use gst::prelude::*;
use serde_json::json;
use webrtc_common as wc;

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// About 2 s of a 640x480 camera and a microphone as chunks of `mime`,
/// and the track's settings.
fn record(mime: &str) -> (Vec<u8>, i32, i32) {
    wc::init();
    let line = format!(
        "mediastream constraints={{\"video\":{{\"width\":640,\"height\":480}},\"audio\":true}} name=s \
         s. ! identity eos-after=60 ! r.video_0 s. ! identity eos-after=100 ! r.audio_0 \
         mediarecorder name=r timeslice=500 mime-type=\"{mime}\""
    );
    let (p, data) = launch_recording::record_to_eos(&line);
    let track = p
        .by_name("s")
        .unwrap()
        .downcast::<gst::Bin>()
        .unwrap()
        .iterate_all_by_element_factory_name("mediastreamsrc")
        .into_iter()
        .map(Result::unwrap)
        .map(|t| t.property::<gst::Structure>("settings"))
        .find(|s| s.has_field("width"))
        .expect("the video track");
    let settings = track;
    let (w, h) = (
        settings.get::<i32>("width").unwrap(),
        settings.get::<i32>("height").unwrap(),
    );
    p.set_state(gst::State::Null).unwrap();
    (data, w, h)
}

/// A recording of `mime`, its chunks concatenated, played by Chromium: the
/// metadata loads, the size is the track's, 15 frames are presented.
fn chromium_plays(test: &str, mime: &str) {
    if !wc::runnable(wc::missing_browser()) {
        return;
    }
    if !wc::in_private_network(test) {
        return;
    }
    let (data, width, height) = record(mime);
    assert!(data.len() > 10_000, "{mime}: {} bytes", data.len());
    assert_eq!((width, height), (640, 480));
    let page = wc::root().join("tests/mediarecorder/player.html");
    let mut browser = wc::Browser::open(Some(&format!("file://{}", page.display())), false);
    let r = browser.call("play", json!([base64(&data), mime, 15]));
    eprintln!("Chromium, {mime}: {r}");
    assert_eq!(r["error"], serde_json::Value::Null, "{mime}: {r}");
    assert!(
        r["readyState"].as_i64().unwrap() >= 1,
        "{mime}: metadata loaded: {r}"
    );
    assert_eq!(r["width"], width, "{mime}: {r}");
    assert_eq!(r["height"], height, "{mime}: {r}");
    assert!(
        r["presented"].as_i64().unwrap() >= 15,
        "{mime}: frames presented: {r}"
    );
}

#[test]
fn chromium_plays_the_concatenated_webm() {
    chromium_plays(
        "chromium_plays_the_concatenated_webm",
        "video/webm;codecs=vp8,opus",
    );
}

/// The types Chromium's own MediaRecorder also writes (issue 27 item 9).
#[test]
fn chromium_plays_mp4_with_vp9_and_opus() {
    chromium_plays(
        "chromium_plays_mp4_with_vp9_and_opus",
        "video/mp4;codecs=vp9,opus",
    );
}

#[test]
fn chromium_plays_mp4_with_av1_and_opus() {
    chromium_plays(
        "chromium_plays_mp4_with_av1_and_opus",
        "video/mp4;codecs=av01,opus",
    );
}

#[test]
fn chromium_plays_webm_with_av1_and_opus() {
    chromium_plays(
        "chromium_plays_webm_with_av1_and_opus",
        "video/webm;codecs=av01,opus",
    );
}

#[test]
fn base64_encodes_as_the_browser_decodes() {
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foo"), "Zm9v");
    assert_eq!(base64(b"foobar"), "Zm9vYmFy");
}
