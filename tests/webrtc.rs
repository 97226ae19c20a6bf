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

fn wait_for(secs: u64, what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "GStreamer: {what} did not happen"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// GStreamer answers Chromium's offer `sdp`; returns the answer's SDP.
fn answer(webrtc: &gst::Element, sdp: &str) -> String {
    let offer = wc::sdp_desc(gst_webrtc::WebRTCSDPType::Offer, sdp);
    wc::set_description(webrtc, false, &offer);
    let answer = wc::create_answer(webrtc);
    wc::set_description(webrtc, true, &answer);
    wc::wait_gathered(webrtc);
    wc::local_sdp(webrtc)
}

#[test]
fn chromium_to_gstreamer() {
    if !wc::runnable(wc::missing_browser()) || !wc::in_private_network("chromium_to_gstreamer") {
        return;
    }
    wc::init();
    let mut browser = wc::Browser::start(true);
    let p = gst::Pipeline::new();
    let webrtc = gst::ElementFactory::make("webrtcbin")
        .property_from_str("bundle-policy", "max-bundle")
        .build()
        .unwrap();
    p.add(&webrtc).unwrap();
    type Shared<T> = std::sync::Arc<std::sync::Mutex<Vec<T>>>;
    let streams: Shared<gst::Element> = Default::default();
    let sinks: Shared<gst::Element> = Default::default();
    let (s, k) = (streams.clone(), sinks.clone());
    let weak = p.downgrade();
    gstmediastream::webrtc::receive_streams(&webrtc, move |ms| {
        s.lock().unwrap().push(ms.clone());
        let (k, weak) = (k.clone(), weak.clone());
        ms.connect_pad_added(move |_, pad| {
            if pad.direction() != gst::PadDirection::Src {
                return;
            }
            let p = weak.upgrade().unwrap();
            let sink = gst::ElementFactory::make("mediastreamtracksink")
                .property(
                    "sink",
                    gst::ElementFactory::make("fakesink")
                        .property("sync", false)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap();
            p.add(&sink).unwrap();
            pad.link(&sink.static_pad("sink").unwrap()).unwrap();
            sink.sync_state_with_parent().unwrap();
            k.lock().unwrap().push(sink);
        });
    });
    p.set_state(gst::State::Playing).unwrap();

    let sent = browser.call(
        "send",
        json!([{"video": {"width": 320, "height": 240}, "audio": true}]),
    );
    let ans = answer(&webrtc, sent["sdp"].as_str().unwrap());
    browser.call("accept", json!([ans]));

    wait_for(30, "two remote tracks with frames", || {
        let sinks = sinks.lock().unwrap();
        sinks.len() == 2 && sinks.iter().all(|s| s.property::<u64>("frames") >= 10)
    });
    let ms = streams.lock().unwrap()[0].clone();
    assert_eq!(streams.lock().unwrap().len(), 1, "one remote stream");
    assert_eq!(
        ms.property::<String>("id"),
        sent["streamId"].as_str().unwrap()
    );
    let mut ids = ms.property::<Vec<String>>("track-ids");
    ids.sort();
    let tracks = sent["tracks"].as_array().unwrap();
    let mut want: Vec<String> = tracks
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    want.sort();
    assert_eq!(ids, want, "remote track ids = Chromium's track ids");

    // Frames at Chromium's settings.
    let vsettings = &tracks.iter().find(|t| t["kind"] == "video").unwrap()["settings"];
    let video_sink = sinks
        .lock()
        .unwrap()
        .iter()
        .find(|s| {
            s.property::<String>("track-id")
                == tracks.iter().find(|t| t["kind"] == "video").unwrap()["id"]
                    .as_str()
                    .unwrap()
        })
        .cloned()
        .expect("the video track's sink has the track's id");
    let settings = video_sink.property::<gst::Structure>("settings");
    assert_eq!(
        settings.get::<i32>("width").unwrap() as i64,
        vsettings["width"].as_i64().unwrap(),
        "{settings}"
    );
    assert_eq!(
        settings.get::<i32>("height").unwrap() as i64,
        vsettings["height"].as_i64().unwrap(),
        "{settings}"
    );

    // replaceTrack(null): muted; the track back: unmuted.
    let dec = p
        .children()
        .into_iter()
        .find(|e| {
            e.factory().is_some_and(|f| f.name() == "mediastreamrtpdec")
                && e.property::<Option<String>>("track-id").as_deref()
                    == video_sink.property::<Option<String>>("track-id").as_deref()
        })
        .expect("the video track's mediastreamrtpdec");
    browser.call("replace", json!(["video", false]));
    wait_for(10, "mute", || {
        dec.property::<bool>("muted") && video_sink.property::<bool>("muted")
    });
    browser.call("replace", json!(["video", true]));
    wait_for(10, "unmute", || {
        !dec.property::<bool>("muted") && !video_sink.property::<bool>("muted")
    });

    // removeTrack + renegotiation: ended and EOS.
    let offer = browser.call("removeTrack", json!(["video"]));
    let ans = answer(&webrtc, offer["sdp"].as_str().unwrap());
    browser.call("accept", json!([ans]));
    wait_for(10, "ended", || {
        dec.property::<gstmediastream::mediastreamsrc::ReadyState>("ready-state")
            == gstmediastream::mediastreamsrc::ReadyState::Ended
            && video_sink.property::<gstmediastream::mediastreamsrc::ReadyState>("ready-state")
                == gstmediastream::mediastreamsrc::ReadyState::Ended
    });
    // No error on the bus.
    let bus = p.bus().unwrap();
    if let Some(msg) = bus.pop_filtered(&[gst::MessageType::Error]) {
        panic!("error on the bus: {msg:?}");
    }
    browser.call("close", json!([]));
    p.set_state(gst::State::Null).unwrap();
}
