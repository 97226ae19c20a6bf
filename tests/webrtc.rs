// SPDX-License-Identifier: MPL-2.0

//! A `mediastream` over the network, against headless Chromium: every
//! packet stays inside a network namespace the test creates (a veth pair,
//! tests/webrtc_common). Without Chromium, chromedriver, selenium, libnice
//! or the permission for a namespace the tests say so and skip; with CI
//! set they fail (scripts/setup installs the packages).

#[path = "webrtc_common/mod.rs"]
mod webrtc_common;
#[path = "common/xvfb.rs"]
mod xvfb;

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
    let mut stats = Value::Null;
    let happened = wc::poll::holds_within(Duration::from_secs(secs), || {
        stats = browser.call("stats", json!([]));
        done(&stats)
    });
    assert!(happened, "Chromium: {what} did not happen: {stats:#}");
    stats
}

#[test]
fn gstreamer_to_chromium() {
    if !wc::runnable(wc::missing_browser()) || !wc::in_private_network("gstreamer_to_chromium") {
        return;
    }
    let (p, ms, webrtc) = wc::sender(r#"{"video":true,"audio":true}"#);
    let mut browser = wc::Browser::start(false);
    play_to_chromium(&mut browser, &p, &webrtc, 2);

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
    let track_ids = sorted_track_ids(&ms);
    let tracks = stats["tracks"].as_array().unwrap();
    let seen = sorted_strings(tracks, "trackId");
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
    // No stale frames: the first video frame Chromium receives is a key
    // frame at most one frame interval older than the frames after it
    // (tests/webrtc/peer.js, firstFrameAge; docs/webrtc.md).
    let stats = wait_stats(&mut browser, 20, "30 video frames measured", |s| {
        s["tracks"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["firstFrameAge"].is_object()))
    });
    let age = stats["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|t| t["firstFrameAge"].as_object())
        .unwrap();
    eprintln!("first video frame: {age:?}");
    assert_eq!(age["firstIsKey"], json!(true), "{age:?}");
    assert!(
        age["frames"].as_f64().unwrap() < 2.0,
        "the first frame Chromium received is more than one frame old: {age:?}"
    );

    // enabled=false: Chromium shows black frames, still decoding; back on:
    // the picture again.
    let camera = tracks_of(&ms)
        .find(|e| {
            e.static_pad("src")
                .and_then(|p| p.current_caps())
                .is_some_and(|c| c.structure(0).unwrap().name().starts_with("video"))
        })
        .unwrap();
    let brightness = |b: &mut wc::Browser| b.call("brightness", json!([])).as_f64().unwrap_or(-1.0);
    let wait_brightness = |b: &mut wc::Browser, what: &str, ok: &dyn Fn(f64) -> bool| {
        let mut v = -1.0;
        let seen = wc::poll::holds_within(Duration::from_secs(10), || {
            v = brightness(b);
            ok(v)
        });
        assert!(seen, "Chromium: {what}: brightness {v}");
        v
    };
    let lit = wait_brightness(&mut browser, "the camera's picture", &|v| v > 40.0);
    camera.set_property("enabled", false);
    let dark = wait_brightness(&mut browser, "black frames", &|v| (0.0..8.0).contains(&v));
    let decoded = |s: &Value| s["inbound"]["video"]["framesDecoded"].as_u64().unwrap_or(0);
    let before = decoded(&browser.call("stats", json!([])));
    wait_stats(&mut browser, 5, "black frames still decoded", |s| {
        decoded(s) >= before + 15
    });
    camera.set_property("enabled", true);
    wait_brightness(&mut browser, "the picture back", &|v| v > 40.0);
    eprintln!("brightness: {lit:.1} enabled, {dark:.1} disabled");

    // stop(): the track ends (its EOS stays out of webrtcbin, whose bundle
    // it would end); Chromium decodes no more frames. Its remote track
    // stays live and unmuted (Chromium mutes a remote track only when a new
    // description stops its media).
    camera.emit_by_name::<()>("stop", &[]);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = decoded(&browser.call("stats", json!([])));
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let stats = browser.call("stats", json!([]));
        let now = decoded(&stats);
        if now == last {
            let video = stats["tracks"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["kind"] == "video")
                .unwrap();
            assert!(
                !video["events"]
                    .as_array()
                    .unwrap()
                    .contains(&json!("ended")),
                "{stats:#}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Chromium still decodes frames after stop: {stats:#}"
        );
        last = now;
    }
    browser.call("close", json!([]));
    p.set_state(gst::State::Null).unwrap();
}

/// getDisplayMedia sent to Chromium: a `mediastream display-constraints`
/// of an Xvfb screen (a red root) through mediastreamrtpenc; Chromium
/// decodes it at the screen's size, and its picture is the screen's.
#[test]
fn a_screen_to_chromium() {
    if !wc::runnable(wc::missing_browser()) || !wc::in_private_network("a_screen_to_chromium") {
        return;
    }
    wc::init();
    // Started inside the test's namespace: its abstract socket is there.
    let x = xvfb::Xvfb::start(640, 360);
    let painter = x.client();
    painter.paint_root(0xff0000);
    let p = gst::Pipeline::new();
    let ms = gst::ElementFactory::make("mediastream")
        .property("display-constraints", r#"{"video": {"frameRate": 15}}"#)
        .property("display-surface", x.screen_id())
        .build()
        .unwrap();
    let webrtc = max_bundle_webrtcbin(&p);
    p.add(&ms).unwrap();
    gstmediastream::webrtc::send_stream(&ms, &webrtc);
    let mut browser = wc::Browser::start(false);
    play_to_chromium(&mut browser, &p, &webrtc, 1);
    let stats = wait_stats(&mut browser, 30, "the screen's frames decoded", |s| {
        s["inbound"]["video"]["framesDecoded"].as_u64().unwrap_or(0) >= 10
    });
    assert_eq!(
        stats["inbound"]["video"]["frameWidth"],
        json!(640),
        "{stats:#}"
    );
    assert_eq!(
        stats["inbound"]["video"]["frameHeight"],
        json!(360),
        "{stats:#}"
    );
    assert_eq!(
        sorted_strings(stats["tracks"].as_array().unwrap(), "trackId"),
        sorted_track_ids(&ms)
    );
    // Red: the mean of R, G and B is 255 / 3 = 85 (black 0, white 255).
    let mut v = -1.0;
    let red = wc::poll::holds_within(Duration::from_secs(10), || {
        v = browser
            .call("brightness", json!([]))
            .as_f64()
            .unwrap_or(-1.0);
        (70.0..100.0).contains(&v)
    });
    assert!(red, "Chromium shows the red screen: brightness {v}");
    browser.call("close", json!([]));
    p.set_state(gst::State::Null).unwrap();
}

/// Plays `p` and connects its `webrtc` (fed `tracks` tracks) to the page:
/// our offer once every track has caps, with every candidate; its answer.
/// The page's reply (the answer and when it was made).
fn play_to_chromium(
    browser: &mut wc::Browser,
    p: &gst::Pipeline,
    webrtc: &gst::Element,
    tracks: usize,
) -> Value {
    p.set_state(gst::State::Playing).unwrap();
    wc::wait_for_sink_caps(webrtc, tracks);
    let offer = wc::create_offer(webrtc);
    wc::set_description(webrtc, true, &offer);
    wc::wait_gathered(webrtc);
    let reply = browser.call("receive", json!([wc::local_sdp(webrtc)]));
    let answer = wc::sdp_desc(
        gst_webrtc::WebRTCSDPType::Answer,
        reply["sdp"].as_str().unwrap(),
    );
    wc::set_description(webrtc, false, &answer);
    reply
}

fn wait_for(secs: u64, what: &str, done: impl Fn() -> bool) {
    wc::poll::until(
        &format!("GStreamer: {what}"),
        Duration::from_secs(secs),
        done,
    );
}

/// A `webrtcbin` with bundle-policy max-bundle, in `p`.
fn max_bundle_webrtcbin(p: &gst::Pipeline) -> gst::Element {
    let webrtc = gst::ElementFactory::make("webrtcbin")
        .property_from_str("bundle-policy", "max-bundle")
        .build()
        .unwrap();
    p.add(&webrtc).unwrap();
    webrtc
}

/// A `mediastreamtracksink` into a `fakesink sync=false`.
fn track_sink() -> gst::Element {
    gst::ElementFactory::make("mediastreamtracksink")
        .property(
            "sink",
            gst::ElementFactory::make("fakesink")
                .property("sync", false)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap()
}

/// Each track `stream` (a remote `mediastream`) adds into a `track_sink`
/// in the pipeline, pushed to `sinks`.
fn sink_each_track(
    stream: &gst::Element,
    pipeline: gst::glib::WeakRef<gst::Pipeline>,
    sinks: std::sync::Arc<std::sync::Mutex<Vec<gst::Element>>>,
) {
    stream.connect_pad_added(move |_, pad| {
        if pad.direction() != gst::PadDirection::Src {
            return;
        }
        let p = pipeline.upgrade().unwrap();
        let sink = track_sink();
        p.add(&sink).unwrap();
        pad.link(&sink.static_pad("sink").unwrap()).unwrap();
        sink.sync_state_with_parent().unwrap();
        sinks.lock().unwrap().push(sink);
    });
}

/// Chromium sends its camera (320x240) and microphone in an offer that
/// `webrtc` answers; returns what `send` returned.
fn chromium_sends_camera_and_microphone(browser: &mut wc::Browser, webrtc: &gst::Element) -> Value {
    let sent = browser.call(
        "send",
        json!([{"video": {"width": 320, "height": 240}, "audio": true}]),
    );
    let ans = answer(webrtc, sent["sdp"].as_str().unwrap());
    browser.call("accept", json!([ans]));
    sent
}

/// The tracks (`mediastreamsrc`) of the `mediastream` `ms`.
fn tracks_of(ms: &gst::Element) -> impl Iterator<Item = gst::Element> {
    ms.downcast_ref::<gst::Bin>()
        .unwrap()
        .iterate_all_by_element_factory_name("mediastreamsrc")
        .into_iter()
        .map(Result::unwrap)
}

/// `key` of each of `items`, sorted.
fn sorted_strings(items: &[Value], key: &str) -> Vec<String> {
    let mut out: Vec<String> = items
        .iter()
        .map(|t| t[key].as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

/// The `track-ids` of the `mediastream` `ms`, sorted.
fn sorted_track_ids(ms: &gst::Element) -> Vec<String> {
    let mut ids = ms.property::<Vec<String>>("track-ids");
    ids.sort();
    ids
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
    let webrtc = max_bundle_webrtcbin(&p);
    type Shared<T> = std::sync::Arc<std::sync::Mutex<Vec<T>>>;
    let streams: Shared<gst::Element> = Default::default();
    let sinks: Shared<gst::Element> = Default::default();
    // W3C: the peer's tracks joining a remote stream fire `addtrack`.
    let added: Shared<String> = Default::default();
    let (s, k, a) = (streams.clone(), sinks.clone(), added.clone());
    let weak = p.downgrade();
    gstmediastream::webrtc::receive_streams(&webrtc, move |ms| {
        s.lock().unwrap().push(ms.clone());
        assert!(ms.property::<bool>("remote"));
        let a = a.clone();
        ms.connect("addtrack", false, move |args| {
            a.lock().unwrap().push(args[1].get::<String>().unwrap());
            None
        });
        let (k, weak) = (k.clone(), weak.clone());
        sink_each_track(ms, weak, k);
    });
    p.set_state(gst::State::Playing).unwrap();
    let sent = chromium_sends_camera_and_microphone(&mut browser, &webrtc);

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
    let ids = sorted_track_ids(&ms);
    let tracks = sent["tracks"].as_array().unwrap();
    let want = sorted_strings(tracks, "id");
    assert_eq!(ids, want, "remote track ids = Chromium's track ids");
    let mut added = added.lock().unwrap().clone();
    added.sort();
    assert_eq!(added, want, "addtrack for each of the peer's tracks");

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
        dec.property::<gstmediastream::track::ReadyState>("ready-state")
            == gstmediastream::track::ReadyState::Ended
            && video_sink.property::<gstmediastream::track::ReadyState>("ready-state")
                == gstmediastream::track::ReadyState::Ended
    });
    // No error on the bus.
    let bus = p.bus().unwrap();
    if let Some(msg) = bus.pop_filtered(&[gst::MessageType::Error]) {
        panic!("error on the bus: {msg:?}");
    }
    browser.call("close", json!([]));
    p.set_state(gst::State::Null).unwrap();
}

/// Chromium SIGKILLed mid-call: `webrtcbin` stays `connected`, but
/// nothing arrives from the peer any more, so `mediastreamrtpdec`'s
/// peer-timeout (default 15 s) ends both remote tracks with EOS, and the
/// video track's Matroska recording finishes by itself into a decodable
/// file. Before that, Chromium's senders replaced by `null` (no RTP at
/// all) for twice a shortened peer-timeout: muted, not gone, as Chromium
/// still sends RTCP.
#[test]
fn a_vanished_chromium_ends_the_remote_tracks() {
    if !wc::runnable(wc::missing_browser())
        || !wc::in_private_network("a_vanished_chromium_ends_the_remote_tracks")
    {
        return;
    }
    use gstmediastream::track::ReadyState;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    wc::init();
    let dir = std::env::temp_dir().join(format!("webrtc-vanish-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("remote.mkv");
    let mut browser = wc::Browser::start(true);
    let p = gst::Pipeline::new();
    let webrtc = max_bundle_webrtcbin(&p);
    // The video track into a recording, the audio track into a track sink.
    let recorded = Arc::new(AtomicU64::new(0));
    let finished = Arc::new(AtomicBool::new(false));
    let audio_eos = Arc::new(AtomicBool::new(false));
    let audio_sink: Arc<std::sync::Mutex<Option<gst::Element>>> = Default::default();
    {
        let (recorded, finished, audio_sink, audio_eos) = (
            recorded.clone(),
            finished.clone(),
            audio_sink.clone(),
            audio_eos.clone(),
        );
        let file = file.clone();
        let weak = p.downgrade();
        gstmediastream::webrtc::receive_streams(&webrtc, move |ms| {
            let (recorded, finished, audio_sink, audio_eos) = (
                recorded.clone(),
                finished.clone(),
                audio_sink.clone(),
                audio_eos.clone(),
            );
            let (file, weak) = (file.clone(), weak.clone());
            ms.connect_pad_added(move |_, pad| {
                if pad.direction() != gst::PadDirection::Src {
                    return;
                }
                let p = weak.upgrade().unwrap();
                let sink = if pad.name().starts_with("video_") {
                    let bin = gst::parse::bin_from_description(
                        &format!(
                            "queue ! videoconvert ! vp8enc deadline=1 ! matroskamux \
                             ! filesink name=file location={}",
                            file.display()
                        ),
                        true,
                    )
                    .unwrap();
                    let counted = recorded.clone();
                    bin.static_pad("sink").unwrap().add_probe(
                        gst::PadProbeType::BUFFER,
                        move |_, _| {
                            counted.fetch_add(1, Ordering::Relaxed);
                            gst::PadProbeReturn::Ok
                        },
                    );
                    let done = finished.clone();
                    bin.by_name("file")
                        .unwrap()
                        .static_pad("sink")
                        .unwrap()
                        .add_probe(gst::PadProbeType::EVENT_DOWNSTREAM, move |_, info| {
                            if let Some(gst::PadProbeData::Event(ev)) = &info.data
                                && ev.type_() == gst::EventType::Eos
                            {
                                done.store(true, Ordering::Release);
                            }
                            gst::PadProbeReturn::Ok
                        });
                    bin.upcast::<gst::Element>()
                } else {
                    let sink = track_sink();
                    *audio_sink.lock().unwrap() = Some(sink.clone());
                    // The audio track's EOS, as it leaves the remote stream.
                    let done = audio_eos.clone();
                    pad.add_probe(gst::PadProbeType::EVENT_DOWNSTREAM, move |_, info| {
                        if let Some(gst::PadProbeData::Event(ev)) = &info.data
                            && ev.type_() == gst::EventType::Eos
                        {
                            done.store(true, Ordering::Release);
                        }
                        gst::PadProbeReturn::Ok
                    });
                    sink
                };
                p.add(&sink).unwrap();
                pad.link(&sink.static_pad("sink").unwrap()).unwrap();
                sink.sync_state_with_parent().unwrap();
            });
        });
    }
    p.set_state(gst::State::Playing).unwrap();
    chromium_sends_camera_and_microphone(&mut browser, &webrtc);
    wait_for(30, "video frames recorded and audio received", || {
        recorded.load(Ordering::Relaxed) >= 30
            && audio_sink
                .lock()
                .unwrap()
                .as_ref()
                .is_some_and(|s| s.property::<u64>("frames") >= 10)
    });
    let decs: Vec<gst::Element> = p
        .children()
        .into_iter()
        .filter(|e| e.factory().is_some_and(|f| f.name() == "mediastreamrtpdec"))
        .collect();
    assert_eq!(decs.len(), 2, "two remote tracks");
    let default_timeout = decs[0]
        .find_property("peer-timeout")
        .unwrap()
        .default_value()
        .get::<u32>()
        .unwrap();
    assert_eq!(default_timeout, 15_000, "the documented default");
    let ready = |d: &gst::Element| d.property::<ReadyState>("ready-state");
    // mediastreamrtpdec turned on the agent's STUN-request keepalives.
    let agent = webrtc
        .property::<gst::glib::Object>("ice-agent")
        .property::<gst::glib::Object>("agent");
    assert!(agent.property::<bool>("keepalive-conncheck"));

    // No media at all, RTCP only: muted, not gone, even after twice a
    // peer-timeout of 3 s.
    for d in &decs {
        d.set_property("peer-timeout", 3000u32);
    }
    browser.call("replace", json!(["video", false]));
    browser.call("replace", json!(["audio", false]));
    wait_for(10, "both remote tracks muted", || {
        decs.iter().all(|d| d.property::<bool>("muted"))
    });
    std::thread::sleep(Duration::from_secs(6));
    for d in &decs {
        assert_eq!(ready(d), ReadyState::Live, "a muted peer is not gone");
    }
    browser.call("replace", json!(["video", true]));
    browser.call("replace", json!(["audio", true]));
    wait_for(10, "both remote tracks unmuted", || {
        decs.iter().all(|d| !d.property::<bool>("muted"))
    });
    for d in &decs {
        d.set_property("peer-timeout", default_timeout);
    }

    // Chromium's browser process SIGKILLed: no BYE, no DTLS close.
    let (driver, chromium) = browser.pids();
    let processes = wc::process_tree(chromium);
    assert!(!processes.is_empty(), "Chromium's process {chromium}");
    // SAFETY: kill(2) of the browser process this test started.
    assert_eq!(unsafe { libc::kill(chromium as i32, libc::SIGKILL) }, 0);
    let killed = Instant::now();
    wait_for(10, "both remote tracks muted", || {
        decs.iter().all(|d| d.property::<bool>("muted"))
    });
    // The documented bound: peer-timeout, well under RFC 7675's 30 s.
    wait_for(
        30,
        "both remote tracks ended with EOS, the recording finished",
        || {
            decs.iter().all(|d| ready(d) == ReadyState::Ended)
                && finished.load(Ordering::Acquire)
                && audio_eos.load(Ordering::Acquire)
        },
    );
    let took = killed.elapsed();
    let state = webrtc.property::<gst_webrtc::WebRTCPeerConnectionState>("connection-state");
    eprintln!("ended {took:?} after the kill; webrtcbin connection-state then: {state:?}");
    let audio = audio_sink.lock().unwrap().clone().unwrap();
    wait_for(10, "the audio track sink ended", || {
        audio.property::<ReadyState>("ready-state") == ReadyState::Ended
    });

    // On the bus: a mediastream-peer-gone and a warning per track, no
    // error.
    let bus = p.bus().unwrap();
    let (mut gone, mut warnings) = (Vec::new(), 0);
    while let Some(msg) = bus.pop() {
        match msg.view() {
            gst::MessageView::Error(e) => panic!("error on the bus: {e:?}"),
            gst::MessageView::Warning(w) if w.error().matches(gst::ResourceError::Read) => {
                warnings += 1
            }
            gst::MessageView::Element(e)
                if e.structure()
                    .is_some_and(|s| s.name() == "mediastream-peer-gone") =>
            {
                gone.push(e.structure().unwrap().to_owned())
            }
            _ => {}
        }
    }
    assert_eq!((gone.len(), warnings), (2, 2), "{gone:?}");
    // Ended by the watchdog, after peer-timeout of the pipeline clock
    // without anything from the peer.
    for s in &gone {
        assert!(s.get::<u64>("silence-ms").unwrap() >= 15_000, "{s}");
        assert_eq!(s.get::<u32>("peer-timeout").unwrap(), 15_000, "{s}");
    }
    p.set_state(gst::State::Null).unwrap();

    // The recording is a whole file: it decodes to the end.
    let check = gst::parse::launch(&format!(
        "filesrc location={} ! matroskademux ! vp8dec ! appsink name=out sync=false",
        file.display()
    ))
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let out = check.by_name("out").unwrap();
    check.set_state(gst::State::Playing).unwrap();
    let mut frames = 0;
    while out
        .emit_by_name::<Option<gst::Sample>>(
            "try-pull-sample",
            &[&gst::ClockTime::from_seconds(10)],
        )
        .is_some()
    {
        frames += 1;
    }
    let eos = out.property::<bool>("eos");
    check.set_state(gst::State::Null).unwrap();
    assert!(
        eos && frames >= 30,
        "{}: {frames} frames, eos {eos}",
        file.display()
    );
    eprintln!("recording: {frames} frames decoded");

    drop(browser);
    let mut left = processes;
    left.push((driver, "chromedriver".into()));
    wc::kill_leftovers(&left);
    let _ = std::fs::remove_dir_all(&dir);
}

/// GStreamer to GStreamer: a sender whose track stopped still sends RTCP
/// (measured: gaps up to 7.3 s), so the remote track mutes but stays live
/// past the default peer-timeout; when the network goes away (the veth
/// taken down: nothing arrives any more, nothing closes), the remote track
/// ends by peer-timeout, while webrtcbin still says connected.
#[test]
fn gstreamer_peer_silent_then_gone() {
    if !wc::runnable(wc::missing_network())
        || !wc::in_private_network("gstreamer_peer_silent_then_gone")
    {
        return;
    }
    use gstmediastream::track::ReadyState;
    let (sender, ms, send_webrtc) = wc::sender(r#"{"video":{"width":320,"height":240}}"#);
    let receiver = gst::Pipeline::new();
    let webrtc = max_bundle_webrtcbin(&receiver);
    let sinks: std::sync::Arc<std::sync::Mutex<Vec<gst::Element>>> = Default::default();
    let k = sinks.clone();
    let weak = receiver.downgrade();
    gstmediastream::webrtc::receive_streams(&webrtc, move |stream| {
        let (k, weak) = (k.clone(), weak.clone());
        sink_each_track(stream, weak, k);
    });
    receiver.set_state(gst::State::Playing).unwrap();
    sender.set_state(gst::State::Playing).unwrap();
    wc::wait_for_sink_caps(&send_webrtc, 1);
    let offer = wc::create_offer(&send_webrtc);
    wc::set_description(&send_webrtc, true, &offer);
    wc::wait_gathered(&send_webrtc);
    let ans = answer(&webrtc, &wc::local_sdp(&send_webrtc));
    wc::set_description(
        &send_webrtc,
        false,
        &wc::sdp_desc(gst_webrtc::WebRTCSDPType::Answer, &ans),
    );
    wait_for(30, "frames from the GStreamer peer", || {
        let sinks = sinks.lock().unwrap();
        sinks.len() == 1 && sinks[0].property::<u64>("frames") >= 10
    });
    let dec = receiver
        .children()
        .into_iter()
        .find(|e| e.factory().is_some_and(|f| f.name() == "mediastreamrtpdec"))
        .unwrap();
    let timeout = dec.property::<u32>("peer-timeout");
    assert_eq!(timeout, 15_000);

    // The sender's track stops (EOS into its webrtcbin): no RTP, RTCP
    // only. Muted, and still live one peer-timeout and a second later.
    let camera = tracks_of(&ms).next().unwrap();
    camera.emit_by_name::<()>("stop", &[]);
    wait_for(10, "muted", || dec.property::<bool>("muted"));
    std::thread::sleep(Duration::from_millis(timeout as u64 + 1000));
    assert_eq!(
        dec.property::<ReadyState>("ready-state"),
        ReadyState::Live,
        "a GStreamer peer that sends only RTCP is not gone"
    );

    // The network goes away: nothing closes, nothing arrives.
    let down = std::process::Command::new("ip")
        .args(["link", "set", "v0", "down"])
        .status()
        .unwrap();
    assert!(down.success(), "ip link set v0 down");
    let gone = Instant::now();
    wait_for(30, "the remote track ended", || {
        dec.property::<ReadyState>("ready-state") == ReadyState::Ended
            && sinks.lock().unwrap()[0].property::<ReadyState>("ready-state") == ReadyState::Ended
    });
    let state = webrtc.property::<gst_webrtc::WebRTCPeerConnectionState>("connection-state");
    eprintln!(
        "ended {:?} after the link went down; webrtcbin connection-state then: {state:?}",
        gone.elapsed()
    );
    let bus = receiver.bus().unwrap();
    let mut silence = None;
    while let Some(msg) = bus.pop() {
        match msg.view() {
            gst::MessageView::Error(e) => panic!("error on the bus: {e:?}"),
            gst::MessageView::Element(e) => {
                if let Some(s) = e.structure()
                    && s.name() == "mediastream-peer-gone"
                {
                    silence = s.get::<u64>("silence-ms").ok();
                }
            }
            _ => {}
        }
    }
    assert!(
        silence.is_some_and(|ms| ms >= 15_000),
        "mediastream-peer-gone with its silence: {silence:?}"
    );
    receiver.set_state(gst::State::Null).unwrap();
    sender.set_state(gst::State::Null).unwrap();
}

#[test]
fn demo_both_ways() {
    if !wc::runnable(wc::missing_browser()) || !wc::in_private_network("demo_both_ways") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("webrtc-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("remote.mkv");
    let mut demo = wc::Demo::start(&["--port", "0", "--record", file.to_str().unwrap()]);
    let url = demo.wait("listening", 1, 20)[0]
        .as_str()
        .unwrap()
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let mut browser = wc::Browser::open(Some(&url), true);

    // GStreamer -> Chromium: frames decoded, the stream's identity.
    let stats = wait_stats(&mut browser, 30, "frames decoded from the demo", |s| {
        s["inbound"]["video"]["framesDecoded"].as_u64().unwrap_or(0) >= 10
            && s["inbound"]["audio"]["packetsReceived"]
                .as_u64()
                .unwrap_or(0)
                >= 10
    });
    let offer = demo.wait("offer", 1, 5)[0].clone();
    let mut sent: Vec<&str> = offer["trackIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    sent.sort();
    let received = stats["received"].as_array().unwrap();
    let mut got: Vec<&str> = received
        .iter()
        .map(|t| t["trackId"].as_str().unwrap())
        .collect();
    got.sort();
    assert_eq!(got, sent, "the page's ontrack: {stats:#}");
    for t in received {
        assert_eq!(t["streamIds"], json!([offer["streamId"]]), "{stats:#}");
    }

    // Chromium -> GStreamer: the page's camera and microphone as a remote
    // mediastream with the page's ids, recorded.
    let remote = demo.wait("remoteTrack", 2, 30);
    let local = &stats["local"];
    for t in &remote {
        assert_eq!(t["streamId"], local["streamId"], "{remote:?}");
        let msid = format!(
            "{} {}",
            local["streamId"].as_str().unwrap(),
            t["trackId"].as_str().unwrap()
        );
        assert!(
            stats["answerMsids"]
                .as_array()
                .unwrap()
                .contains(&json!(msid)),
            "remote track {t} in the page's answer: {stats:#}"
        );
    }
    let kinds: std::collections::BTreeSet<&str> =
        remote.iter().map(|t| t["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["audio", "video"].into(), "{remote:?}");

    // Stop: the recording is finished.
    let pid = demo.child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let recorded = demo.wait("recorded", 1, 20)[0].clone();
    assert_eq!(recorded, json!(file.to_str().unwrap()));
    let finished = demo.seen.iter().find_map(|v| v.get("finished").cloned());
    assert_eq!(finished, Some(json!(true)), "{:?}", demo.seen);
    demo.wait("stopped", 1, 20);
    assert!(demo.child.wait().unwrap().success());
    let bytes = std::fs::read(&file).unwrap();
    assert!(
        bytes.len() > 1000 && bytes.starts_with(&[0x1a, 0x45, 0xdf, 0xa3]),
        "{} is no Matroska file ({} bytes)",
        file.display(),
        bytes.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
    browser.call("stats", json!([]));
}

/// One connection to Chromium for `scripts/bench`: the time from the
/// page's answer to its first video frame shown (requestVideoFrameCallback,
/// both in the page's clock), the frames per second Chromium decodes over
/// `secs` seconds once the first frame showed, and the first frame's age
/// (peer.js, firstFrameAge).
fn figures(
    browser: &mut wc::Browser,
    p: &gst::Pipeline,
    webrtc: &gst::Element,
    secs: u64,
) -> Value {
    let answer = play_to_chromium(browser, p, webrtc, 2);
    let video = |s: &Value| {
        s["tracks"]
            .as_array()
            .and_then(|t| t.iter().find(|t| t["kind"] == "video"))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let first = wait_stats(browser, 30, "first frame shown and measured", |s| {
        let v = video(s);
        v["firstFrame"].is_object() && v["firstFrameAge"].is_object()
    });
    let v = video(&first);
    let decoded = |s: &Value| {
        s["inbound"]["video"]["framesDecoded"]
            .as_f64()
            .unwrap_or(0.0)
    };
    let start = browser.call("stats", json!([]));
    std::thread::sleep(Duration::from_secs(secs));
    let end = browser.call("stats", json!([]));
    let fps = (decoded(&end) - decoded(&start))
        / ((end["now"].as_f64().unwrap() - start["now"].as_f64().unwrap()) / 1000.0);
    browser.call("close", json!([]));
    p.set_state(gst::State::Null).unwrap();
    json!({
        "firstFrameMs": v["firstFrame"]["at"].as_f64().unwrap() - answer["at"].as_f64().unwrap(),
        "fps": fps,
        "ageMs": v["firstFrameAge"]["ageMs"],
        "ageFrames": v["firstFrameAge"]["frames"],
        "burst": v["firstFrameAge"]["burst"],
    })
}

/// scripts/bench's WebRTC figures: `runs` connections of each path, in
/// alternation, one JSON line each (`{"path": "mediastream"|"plain", ...}`).
/// Ignored by `cargo test`: `cargo test --release --test webrtc --
/// --ignored --exact webrtc_figures --nocapture` (WEBRTC_BENCH_RUNS,
/// WEBRTC_BENCH_SECONDS).
#[test]
#[ignore]
fn webrtc_figures() {
    if !wc::runnable(wc::missing_browser()) || !wc::in_private_network("webrtc_figures") {
        return;
    }
    let (runs, secs) = (
        wc::env_number("WEBRTC_BENCH_RUNS", 3),
        wc::env_number("WEBRTC_BENCH_SECONDS", 10),
    );
    let mut browser = wc::Browser::start(false);
    for _ in 0..runs {
        let (p, _ms, webrtc) =
            wc::sender(r#"{"video":{"width":640,"height":480,"frameRate":30},"audio":true}"#);
        let mut f = figures(&mut browser, &p, &webrtc, secs);
        f["path"] = json!("mediastream");
        println!("WEBRTC_FIGURES {f}");
        let (p, webrtc) = wc::plain_sender();
        let mut f = figures(&mut browser, &p, &webrtc, secs);
        f["path"] = json!("plain");
        println!("WEBRTC_FIGURES {f}");
    }
}
