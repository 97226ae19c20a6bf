// SPDX-License-Identifier: MPL-2.0

//! A MediaStream through an SFU: publishers into a Janus VideoRoom (WHIP,
//! through simple-whip-server), subscribers out of it
//! (`mediastreamjanussrc`). Janus, the WHIP server and every peer run
//! inside the test's own network namespace (tests/webrtc_common,
//! tests/common/sfu.rs).

#[path = "common/mod.rs"]
mod common;
#[path = "common/recording.rs"]
mod recording;
#[path = "common/sfu.rs"]
mod sfu;
#[path = "webrtc_common/mod.rs"]
mod webrtc_common;

use gst::glib;
use gst::prelude::*;
use gstmediastream::webrtc::whip;
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;
use webrtc_common as wc;

const TOKEN: &str = "s3cret";

fn runnable(name: &str) -> bool {
    let missing = wc::missing_network().or_else(sfu::missing);
    wc::runnable(missing) && wc::in_private_network(name)
}

/// A publisher built by hand: `mediastream` -> `mediastreamrtpenc` ->
/// `webrtcbin`, its offer (with every candidate) POSTed to `endpoint`.
struct HandPublisher {
    pipeline: gst::Pipeline,
    stream: gst::Element,
    client: whip::Client,
    session: whip::Session,
}

impl HandPublisher {
    fn start(endpoint: &str, constraints: &str, tracks: usize) -> HandPublisher {
        let (pipeline, stream, webrtc) = wc::sender(constraints);
        pipeline.set_state(gst::State::Playing).unwrap();
        wc::wait_for_sink_caps(&webrtc, tracks);
        let offer = wc::create_offer(&webrtc);
        wc::set_description(&webrtc, true, &offer);
        wc::wait_gathered(&webrtc);
        let client = whip::Client::new(endpoint, Some(TOKEN));
        let session = client.publish(&wc::local_sdp(&webrtc)).expect("published");
        let answer = wc::sdp_desc(gst_webrtc::WebRTCSDPType::Answer, &session.answer);
        wc::set_description(&webrtc, false, &answer);
        HandPublisher {
            pipeline,
            stream,
            client,
            session,
        }
    }
}

impl Drop for HandPublisher {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

/// What a subscriber's pad received.
#[derive(Default, Debug, Clone)]
struct Received {
    buffers: u64,
    caps: Option<gst::Caps>,
    eos: bool,
    track_id: Option<String>,
}

/// Each track pad's name and what it received.
type Pads = Arc<Mutex<Vec<(String, Arc<Mutex<Received>>)>>>;

/// `mediastreamjanussrc` with a fakesink per track pad, counting.
struct Subscriber {
    pipeline: gst::Pipeline,
    src: gst::Element,
    pads: Pads,
}

impl Subscriber {
    fn start(props: &[(&str, &dyn ToValue)]) -> Subscriber {
        let pipeline = gst::Pipeline::new();
        let mut b = gst::ElementFactory::make("mediastreamjanussrc")
            .property("url", sfu::JANUS_URL)
            .property("room", sfu::ROOM);
        for (k, v) in props {
            b = b.property(k, v.to_value());
        }
        let src = b.build().unwrap();
        pipeline.add(&src).unwrap();
        let pads: Pads = Default::default();
        let seen = pads.clone();
        let weak = pipeline.downgrade();
        src.connect_pad_added(move |_, pad| {
            let Some(pipeline) = weak.upgrade() else {
                return;
            };
            let sink = gst::ElementFactory::make("fakesink")
                .property("sync", false)
                .property("async", false)
                .build()
                .unwrap();
            pipeline.add(&sink).unwrap();
            sink.sync_state_with_parent().unwrap();
            let got = Arc::new(Mutex::new(Received::default()));
            let g = got.clone();
            pad.add_probe(
                gst::PadProbeType::BUFFER | gst::PadProbeType::EVENT_DOWNSTREAM,
                move |pad, info| {
                    let mut g = g.lock();
                    match &info.data {
                        Some(gst::PadProbeData::Buffer(_)) => {
                            g.buffers += 1;
                            g.caps = pad.current_caps();
                        }
                        Some(gst::PadProbeData::Event(e)) => match e.view() {
                            gst::EventView::Eos(_) => g.eos = true,
                            gst::EventView::StreamStart(s) => {
                                g.track_id = Some(s.stream_id().to_owned())
                            }
                            _ => {}
                        },
                        _ => {}
                    }
                    gst::PadProbeReturn::Ok
                },
            );
            pad.link(&sink.static_pad("sink").unwrap()).unwrap();
            seen.lock().push((pad.name().to_string(), got));
        });
        pipeline.set_state(gst::State::Playing).unwrap();
        Subscriber {
            pipeline,
            src,
            pads,
        }
    }

    fn received(&self, prefix: &str) -> Vec<Received> {
        self.pads
            .lock()
            .iter()
            .filter(|(n, _)| n.starts_with(prefix))
            .map(|(_, r)| r.lock().clone())
            .collect()
    }

    /// Whether both tracks ended (EOS) within `within`.
    fn all_ended(&self, within: Duration) -> bool {
        wc::poll::holds_within(within, || {
            let all: Vec<Received> = self
                .pads
                .lock()
                .iter()
                .map(|(_, r)| r.lock().clone())
                .collect();
            all.len() == 2 && all.iter().all(|r| r.eos)
        })
    }

    /// The remote stream has the ids of `source`, the publisher's
    /// `mediastream` (sent on the data channel).
    fn assert_ids_of(&self, source: &gst::Element) {
        let stream = self.src.property::<gst::Element>("stream");
        assert_eq!(
            stream.property::<String>("id"),
            source.property::<String>("id")
        );
        let sorted = |e: &gst::Element| {
            let mut ids: Vec<String> = e.property::<Vec<String>>("track-ids");
            ids.sort();
            ids
        };
        assert_eq!(sorted(&stream), sorted(source), "the track ids");
        // Downstream sees them too: each pad's stream-start.
        let mut started: Vec<String> = self
            .pads
            .lock()
            .iter()
            .filter_map(|(_, r)| r.lock().track_id.clone())
            .collect();
        started.sort();
        assert_eq!(started, sorted(source), "the pads' stream ids");
    }

    fn bus_error(&self) -> Option<String> {
        let bus = self.pipeline.bus().unwrap();
        bus.pop_filtered(&[gst::MessageType::Error])
            .map(|m| match m.view() {
                gst::MessageView::Error(e) => format!("{} ({:?})", e.error(), e.debug()),
                _ => unreachable!(),
            })
    }

    /// Waits until a video track decoded frames at `size` and an audio
    /// track received buffers.
    fn wait_media(&self, sfu: &sfu::Sfu, size: (i32, i32)) {
        let ok = wc::poll::holds_within(Duration::from_secs(30), || {
            let video = self.received("video");
            let audio = self.received("audio");
            let sized = video.iter().any(|r| {
                r.buffers >= 10
                    && r.caps
                        .as_ref()
                        .and_then(|c| c.structure(0))
                        .is_some_and(|s| {
                            s.get::<i32>("width").ok() == Some(size.0)
                                && s.get::<i32>("height").ok() == Some(size.1)
                        })
            });
            sized && audio.iter().any(|r| r.buffers >= 10)
        });
        assert!(
            ok,
            "the subscriber did not decode {size:?} video and audio: {:?}; error {:?}\n{}",
            self.pads.lock(),
            self.bus_error(),
            sfu.logs()
        );
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

/// A publisher built by hand (webrtcbin, WHIP) into the room; a
/// `mediastreamjanussrc` receives its video at the published size and its
/// audio, with the ids Janus carries (the stream: the feed's display name;
/// a track: its mid on the publisher's side); the publisher's DELETE ends
/// the subscriber's tracks with EOS.
#[test]
fn a_whip_publisher_reaches_a_janus_subscriber_and_its_delete_ends_the_tracks() {
    if !runnable("a_whip_publisher_reaches_a_janus_subscriber_and_its_delete_ends_the_tracks") {
        return;
    }
    let sfu = sfu::Sfu::start();
    let endpoint = sfu.create_endpoint("cam1", sfu::ROOM, TOKEN, "front-door");
    let publisher = HandPublisher::start(
        &endpoint,
        r#"{"video":{"width":{"exact":640},"height":{"exact":480}},"audio":true}"#,
        2,
    );
    let sub = Subscriber::start(&[("display", &"front-door")]);
    sub.wait_media(&sfu, (640, 480));
    let stream = sub.src.property::<gst::Element>("stream");
    assert_eq!(stream.property::<String>("id"), "front-door");
    let mut ids: Vec<String> = sub
        .pads
        .lock()
        .iter()
        .filter_map(|(_, r)| r.lock().track_id.clone())
        .collect();
    ids.sort();
    assert_eq!(ids, ["audio1", "video0"], "the publisher's mids");
    assert_ne!(sub.src.property::<u64>("feed-id"), 0);
    publisher.client.delete(&publisher.session).expect("DELETE");
    let ended = sub.all_ended(Duration::from_secs(10));
    assert!(
        ended,
        "tracks after DELETE: {:?}\n{}",
        sub.pads.lock(),
        sfu.logs()
    );
    assert_eq!(sub.bus_error(), None);
    drop(publisher.stream.clone());
}

/// A launch line publishes (`mediastream` -> `mediastreamwhipsink`): the
/// subscriber decodes its video at the published size and its audio, and
/// its stream and tracks have the publisher's ids (the data channel); the
/// publisher's EOS DELETEs the session (`resource` cleared) and ends the
/// subscriber's tracks with EOS.
#[test]
fn a_launch_line_publishes_with_whip_and_its_eos_ends_the_subscription() {
    if !runnable("a_launch_line_publishes_with_whip_and_its_eos_ends_the_subscription") {
        return;
    }
    let sfu = sfu::Sfu::start();
    let endpoint = sfu.create_endpoint("cam2", sfu::ROOM, TOKEN, "porch");
    let line = format!(
        "mediastream name=s constraints={{\"video\":{{\"width\":{{\"exact\":320}},\"height\":{{\"exact\":240}}}},\"audio\":true}} \
         s. ! w. s. ! w. mediastreamwhipsink name=w whip-endpoint={endpoint} auth-token={TOKEN}"
    );
    let publisher = gst::parse::launch(&line)
        .unwrap()
        .downcast::<gst::Pipeline>()
        .unwrap();
    publisher.set_state(gst::State::Playing).unwrap();
    let whip = publisher.by_name("w").unwrap();
    let sub = Subscriber::start(&[("display", &"porch")]);
    sub.wait_media(&sfu, (320, 240));
    // The publisher's own ids, from its data channel.
    sub.assert_ids_of(&publisher.by_name("s").unwrap());
    assert!(
        whip.property::<Option<String>>("resource")
            .is_some_and(|r| r.starts_with("http://127.0.0.1:7080/whip/resource/")),
        "{:?}",
        whip.property::<Option<String>>("resource")
    );
    let bus = publisher.bus().unwrap();
    publisher.send_event(gst::event::Eos::new());
    let msg = bus
        .timed_pop_filtered(
            gst::ClockTime::from_seconds(10),
            &[gst::MessageType::Eos, gst::MessageType::Error],
        )
        .expect("the publisher's EOS");
    assert_eq!(msg.type_(), gst::MessageType::Eos, "{msg:?}");
    assert_eq!(whip.property::<Option<String>>("resource"), None);
    let ended = sub.all_ended(Duration::from_secs(10));
    assert!(
        ended,
        "tracks after the publisher's EOS: {:?}\n{}",
        sub.pads.lock(),
        sfu.logs()
    );
    publisher.set_state(gst::State::Null).unwrap();
}

/// The first error on `pipeline`'s bus within `secs`: its domain error
/// and its message.
fn first_error(pipeline: &gst::Pipeline, secs: u64) -> (glib::Error, String) {
    let bus = pipeline.bus().unwrap();
    let msg = bus
        .timed_pop_filtered(
            gst::ClockTime::from_seconds(secs),
            &[gst::MessageType::Error],
        )
        .unwrap_or_else(|| panic!("no error within {secs} s"));
    let gst::MessageView::Error(e) = msg.view() else {
        unreachable!()
    };
    let text = e.error().message().to_owned();
    (e.error(), text)
}

fn publisher_line(endpoint: &str, token: &str) -> gst::Pipeline {
    let line = format!(
        "mediastream name=s constraints={{\"video\":true,\"audio\":true}} \
         s. ! w. s. ! w. mediastreamwhipsink name=w whip-endpoint={endpoint} auth-token={token}"
    );
    gst::parse::launch(&line)
        .unwrap()
        .downcast::<gst::Pipeline>()
        .unwrap()
}

/// What the servers refuse is an element error that says what and why,
/// never a hang: a wrong token (403), an unknown endpoint (404), a room
/// that does not exist, a room's pin missing or wrong, no publisher in
/// time, a server that is not there.
#[test]
fn refusals_are_errors_that_name_the_cause() {
    if !runnable("refusals_are_errors_that_name_the_cause") {
        return;
    }
    let sfu = sfu::Sfu::start();
    let endpoint = sfu.create_endpoint("cam3", sfu::ROOM, TOKEN, "yard");

    for (url, token, status, domain) in [
        (
            endpoint.clone(),
            "wrong",
            "403",
            gst::ResourceError::NotAuthorized,
        ),
        (
            sfu::endpoint("nosuch"),
            TOKEN,
            "404",
            gst::ResourceError::NotFound,
        ),
    ] {
        let p = publisher_line(&url, token);
        p.set_state(gst::State::Playing).unwrap();
        let (err, text) = first_error(&p, 20);
        assert!(err.matches(domain), "{url} {token}: {err:?}");
        assert!(text.contains(status), "{text}");
        assert!(!text.contains(TOKEN), "the token is never shown: {text}");
        p.set_state(gst::State::Null).unwrap();
    }

    let subscribe = |props: &[(&str, &dyn ToValue)]| {
        let sub = Subscriber::start(props);
        let (err, text) = first_error(&sub.pipeline, 20);
        (sub, err, text)
    };
    let (_s, err, text) = subscribe(&[("room", &9999u64)]);
    assert!(err.matches(gst::ResourceError::NotFound), "{err:?}");
    assert!(text.contains("No such room (9999)"), "{text}");
    let (_s, err, text) = subscribe(&[("room", &sfu::PIN_ROOM), ("feed", &123u64)]);
    assert!(err.matches(gst::ResourceError::NotAuthorized), "{err:?}");
    assert!(text.contains("pin"), "{text}");
    let (_s, err, text) = subscribe(&[
        ("room", &sfu::PIN_ROOM),
        ("feed", &123u64),
        ("pin", &"wrong"),
    ]);
    assert!(err.matches(gst::ResourceError::NotAuthorized), "{err:?}");
    assert!(text.contains("wrong pin"), "{text}");
    let (_s, err, text) = subscribe(&[("publisher-timeout", &500u32)]);
    assert!(err.matches(gst::ResourceError::NotFound), "{err:?}");
    assert!(
        text.contains("no publisher in room 1234 within 500 ms"),
        "{text}"
    );
    let (_s, err, text) = subscribe(&[("display", &"nobody"), ("publisher-timeout", &300u32)]);
    assert!(err.matches(gst::ResourceError::NotFound), "{err:?}");
    assert!(text.contains("no publisher named 'nobody'"), "{text}");
    let (_s, err, text) = subscribe(&[("url", &"ws://127.0.0.1:9")]);
    assert!(err.matches(gst::ResourceError::OpenRead), "{err:?}");
    assert!(text.contains("cannot be reached"), "{text}");
}

/// The page's subscribers' stats now (janus-peer.js `stats`).
fn page_stats(browser: &mut wc::Browser) -> Vec<serde_json::Value> {
    browser
        .call("stats", serde_json::json!([]))
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Polls the page's subscribers until `done` holds for their stats.
fn wait_page(
    browser: &mut wc::Browser,
    secs: u64,
    what: &str,
    done: impl Fn(&[serde_json::Value]) -> bool,
) -> Vec<serde_json::Value> {
    let mut stats = Vec::new();
    let happened = wc::poll::holds_within(Duration::from_secs(secs), || {
        stats = page_stats(browser);
        done(&stats)
    });
    assert!(happened, "Chromium: {what}: {stats:#?}");
    stats
}

/// One GStreamer publisher (a launch line: fake camera and microphone)
/// -> WHIP -> Janus -> four Chromium subscribers (Janus's own janus.js)
/// and one GStreamer subscriber: each decodes the video at the published
/// size and receives the audio. The GStreamer subscriber has the
/// publisher's ids; Chromium's have what Janus gives (the feed id as the
/// stream, Janus's mids as the tracks: docs/webrtc.md). The publisher's
/// end (EOS: DELETE) mutes Chromium's tracks and ends the GStreamer
/// subscriber's with EOS.
#[test]
fn one_publisher_reaches_four_chromium_subscribers_and_one_gstreamer_subscriber() {
    if !wc::runnable(wc::missing_browser().or_else(sfu::missing))
        || !wc::in_private_network(
            "one_publisher_reaches_four_chromium_subscribers_and_one_gstreamer_subscriber",
        )
    {
        return;
    }
    let sfu = sfu::Sfu::start();
    let endpoint = sfu.create_endpoint("cam4", sfu::ROOM, TOKEN, "studio");
    let publisher = publisher_line(&endpoint, TOKEN);
    publisher.set_state(gst::State::Playing).unwrap();
    let sub = Subscriber::start(&[("display", &"studio")]);
    let mut browser = wc::Browser::page("tests/webrtc/janus.html", false);
    browser.call(
        "subscribe",
        serde_json::json!([sfu::JANUS_URL, sfu::ROOM, "studio", 4]),
    );
    sub.wait_media(&sfu, (640, 480));
    let stats = wait_page(
        &mut browser,
        30,
        "4 subscribers decoding 640x480 and audio",
        |s| {
            s.len() == 4
                && s.iter().all(|v| {
                    v["video"]["framesDecoded"].as_u64().unwrap_or(0) >= 30
                        && v["video"]["width"] == 640
                        && v["video"]["height"] == 480
                        && v["audio"]["packets"].as_u64().unwrap_or(0) >= 50
                })
        },
    );
    // The GStreamer subscriber: the publisher's own ids.
    sub.assert_ids_of(&publisher.by_name("s").unwrap());
    // Chromium's: what Janus gives its subscribers.
    let feed = sub.src.property::<u64>("feed-id");
    for s in &stats {
        assert_eq!(s["feed"].as_u64(), Some(feed), "{s}");
        let mut ids: Vec<String> = s["tracks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["kind"] != "data")
            .map(|t| {
                format!(
                    "{}:{}",
                    t["mid"].as_str().unwrap(),
                    t["id"].as_str().unwrap()
                )
            })
            .collect();
        ids.sort();
        assert_eq!(ids, ["0:0", "1:1"], "Janus's mids as track ids: {s}");
    }
    // The end.
    publisher.send_event(gst::event::Eos::new());
    let ended = sub.all_ended(Duration::from_secs(10));
    assert!(
        ended,
        "the GStreamer subscriber's tracks did not end: {:?}",
        sub.pads.lock()
    );
    wait_page(&mut browser, 10, "every Chromium track muted", |s| {
        s.iter().all(|v| {
            v["events"]
                .as_array()
                .is_some_and(|e| e.len() == 2 && e.iter().all(|t| t["muted"] == true))
        })
    });
    publisher.set_state(gst::State::Null).unwrap();
}

/// A Chromium publisher (fake devices, janus.js) is received by the
/// GStreamer subscriber: video at its size, audio; the stream is the
/// feed's display name, the tracks Chromium's mids (a browser sends no
/// ids of its own through Janus).
#[test]
fn a_chromium_publisher_reaches_a_gstreamer_subscriber() {
    if !wc::runnable(wc::missing_browser().or_else(sfu::missing))
        || !wc::in_private_network("a_chromium_publisher_reaches_a_gstreamer_subscriber")
    {
        return;
    }
    let sfu = sfu::Sfu::start();
    let mut browser = wc::Browser::page("tests/webrtc/janus.html", true);
    browser.call(
        "publish",
        serde_json::json!([sfu::JANUS_URL, sfu::ROOM, "chromium"]),
    );
    let sub = Subscriber::start(&[("display", &"chromium")]);
    sub.wait_media(&sfu, (640, 480));
    let stream = sub.src.property::<gst::Element>("stream");
    assert_eq!(stream.property::<String>("id"), "chromium");
    let mut ids: Vec<String> = stream.property::<Vec<String>>("track-ids");
    ids.sort();
    assert_eq!(ids, ["0", "1"], "Chromium's mids");
}

/// How long after a publisher vanished (killed: no DELETE) the
/// subscriber's tracks end: muted after 1 s without packets, then gone
/// after `gone-timeout` (15 s) with every track muted; Janus itself may
/// take a minute or more. docs/webrtc.md gives this figure.
const PUBLISHER_GONE_WITHIN: Duration = Duration::from_secs(25);

/// The publisher's process killed: the GStreamer subscriber's tracks mute
/// at once (no packets) and end with EOS within
/// [`PUBLISHER_GONE_WITHIN`], no error; `mediarecorder` recording them
/// finishes its file, which plays to its end.
#[test]
fn a_killed_publisher_ends_the_subscription_and_its_recording_is_finished() {
    if !runnable("a_killed_publisher_ends_the_subscription_and_its_recording_is_finished") {
        return;
    }
    let sfu = sfu::Sfu::start();
    let endpoint = sfu.create_endpoint("cam5", sfu::ROOM, TOKEN, "garage");
    let mut publisher = std::process::Command::new("gst-launch-1.0")
        .args([
            "mediastream",
            "name=s",
            "constraints={\"video\":true,\"audio\":true}",
            "s.",
            "!",
            "w.",
            "s.",
            "!",
            "w.",
            "mediastreamwhipsink",
            "name=w",
            &format!("whip-endpoint={endpoint}"),
            &format!("auth-token={TOKEN}"),
        ])
        .env("GST_PLUGIN_PATH", common::plugin_dir())
        .env("GST_MEDIASTREAM_FAKE_DEVICES", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("gst-launch-1.0 starts");

    // The subscriber records what it receives.
    let file = sfu.dir.join("garage.webm");
    let pipeline = gst::Pipeline::new();
    let src = gst::ElementFactory::make("mediastreamjanussrc")
        .property("url", sfu::JANUS_URL)
        .property("room", sfu::ROOM)
        .property("display", "garage")
        .build()
        .unwrap();
    let rec = gst::ElementFactory::make("mediarecorder")
        .property("location", file.to_str().unwrap())
        .property("auto-start", false)
        .build()
        .unwrap();
    pipeline.add_many([&src, &rec]).unwrap();
    let linked = Arc::new(Mutex::new(Vec::<gst::Pad>::new()));
    let l = linked.clone();
    let r = rec.clone();
    src.connect_pad_added(move |_, pad| {
        let template = if pad.name().starts_with("audio") {
            "audio_%u"
        } else {
            "video_%u"
        };
        let sink = r.request_pad_simple(template).unwrap();
        pad.link(&sink).unwrap();
        l.lock().push(pad.clone());
    });
    pipeline.set_state(gst::State::Playing).unwrap();
    wc::poll::until("both tracks", Duration::from_secs(30), || {
        linked.lock().len() == 2
    });
    let started = rec.emit_by_name::<gst::Structure>("start", &[&0u32]);
    assert_eq!(started.get::<bool>("success"), Ok(true), "{started}");
    let stream = src.property::<gst::Element>("stream");
    // Recording for a while.
    let bus = pipeline.bus().unwrap();
    assert!(
        bus.timed_pop_filtered(gst::ClockTime::from_seconds(2), &[gst::MessageType::Error])
            .is_none()
    );

    publisher.kill().unwrap();
    publisher.wait().unwrap();
    let killed = std::time::Instant::now();
    // Muted first: nothing arrives any more.
    wc::poll::until("the tracks muted", Duration::from_secs(10), || {
        bus.pop_filtered(&[gst::MessageType::Element])
            .is_some_and(|m| {
                m.structure()
                    .is_some_and(|s| s.name() == "mediastream-track-mute")
            })
    });
    let msg = bus
        .timed_pop_filtered(
            gst::ClockTime::from_nseconds(PUBLISHER_GONE_WITHIN.as_nanos() as u64),
            &[gst::MessageType::Eos, gst::MessageType::Error],
        )
        .unwrap_or_else(|| panic!("no EOS within {PUBLISHER_GONE_WITHIN:?}\n{}", sfu.logs()));
    assert_eq!(msg.type_(), gst::MessageType::Eos, "{msg:?}");
    eprintln!("the tracks ended {:?} after the kill", killed.elapsed());
    assert_eq!(
        stream.property::<Vec<String>>("track-ids").len(),
        2,
        "the stream still holds its (ended) tracks"
    );
    pipeline.set_state(gst::State::Null).unwrap();
    let counts = recording::demuxed(&file, recording::Container::Matroska);
    assert!(
        counts.get("video").copied().unwrap_or(0) >= 30
            && counts.get("audio").copied().unwrap_or(0) >= 50,
        "the recording: {counts:?}"
    );
}

/// The track of `kind` inside a `mediastream`.
fn track_of(stream: &gst::Element, kind: &str) -> gst::Element {
    stream
        .downcast_ref::<gst::Bin>()
        .unwrap()
        .iterate_recurse()
        .into_iter()
        .flatten()
        .find(|e| {
            e.factory().is_some_and(|f| f.name() == "mediastreamsrc")
                && glib::EnumValue::from_value(&e.property_value("kind"))
                    .is_some_and(|(_, v)| v.nick() == kind)
        })
        .unwrap_or_else(|| panic!("no {kind} track in {}", stream.name()))
}

/// A publisher's video track stopped while its audio goes on (WHIP has no
/// renegotiation): the subscriber's video track mutes (no packets), is
/// not ended, and the audio keeps coming (docs/webrtc.md, "Track state
/// through the SFU").
#[test]
fn a_stopped_publisher_track_mutes_at_the_subscriber() {
    if !runnable("a_stopped_publisher_track_mutes_at_the_subscriber") {
        return;
    }
    let sfu = sfu::Sfu::start();
    let endpoint = sfu.create_endpoint("cam6", sfu::ROOM, TOKEN, "attic");
    let publisher = publisher_line(&endpoint, TOKEN);
    publisher.set_state(gst::State::Playing).unwrap();
    let sub = Subscriber::start(&[("display", &"attic")]);
    sub.wait_media(&sfu, (640, 480));
    let source = publisher.by_name("s").unwrap();
    let video = track_of(&source, "video");
    let video_id = video.property::<String>("track-id");
    let bus = sub.pipeline.bus().unwrap();
    while bus.pop().is_some() {}
    video.emit_by_name::<()>("stop", &[]);
    wc::poll::until("the video track muted", Duration::from_secs(10), || {
        bus.pop_filtered(&[gst::MessageType::Element])
            .is_some_and(|m| {
                m.structure().is_some_and(|s| {
                    s.name() == "mediastream-track-mute"
                        && s.get::<String>("track-id").ok().as_deref() == Some(video_id.as_str())
                })
            })
    });
    let audio_before = sub.received("audio")[0].buffers;
    wc::poll::until("audio going on", Duration::from_secs(10), || {
        sub.received("audio")[0].buffers >= audio_before + 50
    });
    assert!(
        !sub.received("video")[0].eos,
        "the video track is not ended"
    );
    publisher.set_state(gst::State::Null).unwrap();
}

/// examples/python/receive.py (PyGObject, no gst-python) receives a
/// remote stream from Janus: it prints the publisher's stream id and track
/// ids and the frames it counted.
#[test]
fn the_python_example_receives_a_remote_stream() {
    if !runnable("the_python_example_receives_a_remote_stream") {
        return;
    }
    let sfu = sfu::Sfu::start();
    let endpoint = sfu.create_endpoint("cam7", sfu::ROOM, TOKEN, "hall");
    let publisher = publisher_line(&endpoint, TOKEN);
    publisher.set_state(gst::State::Playing).unwrap();
    let dir = common::TempDir::new("python-receive");
    let out = std::process::Command::new("/usr/bin/python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/python/receive.py"
        ))
        .args([
            "--url",
            sfu::JANUS_URL,
            "--display",
            "hall",
            "--frames",
            "30",
        ])
        .env("GST_PLUGIN_PATH", common::plugin_dir())
        .env("GST_REGISTRY", dir.join("registry.bin"))
        .output()
        .expect("/usr/bin/python3 (python3-gi) runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}\n{}", sfu.logs());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let source = publisher.by_name("s").unwrap();
    assert_eq!(json["id"], source.property::<String>("id"), "{json}");
    let mut sent: Vec<String> = source.property::<Vec<String>>("track-ids");
    sent.sort();
    let mut got: Vec<String> = json["trackIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    got.sort();
    assert_eq!(got, sent);
    assert!(json["frames"]["video"].as_u64() >= Some(30), "{json}");
    assert!(json["frames"]["audio"].as_u64() > Some(0), "{json}");
    publisher.set_state(gst::State::Null).unwrap();
}

/// A child process killed (by its pid) and reaped when dropped, also when
/// the test fails: nothing of the test's is left running.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// CPU seconds `pid` has used (user + system), from /proc.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // After "(comm)": state ppid ... utime (14th field) stime (15th).
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    // SAFETY: sysconf has no preconditions.
    ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

/// scripts/bench sfu's helper: the same publisher built by hand, as a
/// user would write it without the plugin's elements: the same devices'
/// elements (the fake camera and microphone, so the encoders see the same
/// pictures and sound), `vp8enc` and `opusenc` with mediastreamrtpenc's
/// settings and payload types, `webrtcbin`; its offer POSTed to
/// SFU_HAND_ENDPOINT with the WHIP client; runs until killed. Does
/// nothing without that variable.
#[test]
#[ignore]
fn hand_publisher_process() {
    let Ok(endpoint) = std::env::var("SFU_HAND_ENDPOINT") else {
        return;
    };
    wc::init();
    let pipeline = gst::parse::launch(
        "webrtcbin name=w bundle-policy=max-bundle \
         mediastreamfakesrc device-id=fake-camera-front ! video/x-raw,format=I420,width=640,height=480,framerate=30/1 ! \
         videoconvert ! vp8enc deadline=1 cpu-used=-6 target-bitrate=1500000 end-usage=cbr \
         keyframe-max-dist=3000 error-resilient=default lag-in-frames=0 ! \
         rtpvp8pay pt=96 picture-id-mode=15-bit ! w. \
         mediastreamfakesrc device-id=fake-microphone ! audioconvert ! audioresample ! \
         opusenc ! rtpopuspay pt=111 ! w.",
    )
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let webrtc = pipeline.by_name("w").unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    wc::wait_for_sink_caps(&webrtc, 2);
    let offer = wc::create_offer(&webrtc);
    wc::set_description(&webrtc, true, &offer);
    wc::wait_gathered(&webrtc);
    let client = whip::Client::new(&endpoint, Some(TOKEN));
    let session = client
        .publish(&whip::with_end_of_candidates(&wc::local_sdp(&webrtc)))
        .expect("published");
    let answer = wc::sdp_desc(gst_webrtc::WebRTCSDPType::Answer, &session.answer);
    wc::set_description(&webrtc, false, &answer);
    println!("HAND_PUBLISHING");
    let bus = pipeline.bus().unwrap();
    let msg = bus.timed_pop_filtered(gst::ClockTime::NONE, &[gst::MessageType::Error]);
    panic!("the hand-built publisher failed: {msg:?}");
}

/// scripts/bench sfu's figures: per run, each publisher in turn (ours:
/// `gst-launch-1.0 mediastream ! mediastreamwhipsink`; by hand: the
/// helper above), in a process of its own, 640x480 I420 at 30 fps and a
/// microphone, into Janus; its CPU is measured first, with no subscriber;
/// then headless Chromium subscribes once (noting its first frame's age,
/// frame-age.js), then three more times. One JSON line each: the
/// publisher's CPU per frame over `secs`, the frames per second
/// each subscriber decodes with 1 and with 4 subscribers, the first
/// frame's age. `cargo test --release --test sfu -- --ignored --exact
/// sfu_figures --nocapture` (SFU_BENCH_RUNS, SFU_BENCH_SECONDS).
#[test]
#[ignore]
fn sfu_figures() {
    if !wc::runnable(wc::missing_browser().or_else(sfu::missing))
        || !wc::in_private_network("sfu_figures")
    {
        return;
    }
    let (runs, secs) = (
        wc::env_number("SFU_BENCH_RUNS", 3),
        wc::env_number("SFU_BENCH_SECONDS", 10),
    );
    let sfu = sfu::Sfu::start();
    let fps = |stats: &[serde_json::Value], before: &[serde_json::Value]| -> Vec<f64> {
        stats
            .iter()
            .zip(before)
            .map(|(a, b)| {
                let n = |v: &serde_json::Value| v["video"]["framesDecoded"].as_f64().unwrap_or(0.0);
                (n(a) - n(b)) / secs as f64
            })
            .collect()
    };
    let mut n = 0;
    for run in 0..runs {
        // Each run swaps which publisher goes first, so that neither
        // always follows the other's subscribers leaving.
        let order = if run % 2 == 0 {
            ["mediastream", "plain"]
        } else {
            ["plain", "mediastream"]
        };
        for path in order {
            n += 1;
            let id = format!("bench{n}");
            let endpoint = sfu.create_endpoint(&id, sfu::ROOM, TOKEN, &id);
            let publisher = Running(if path == "mediastream" {
                std::process::Command::new("gst-launch-1.0")
                    .args([
                        "mediastream",
                        "name=s",
                        "constraints={\"video\":{\"width\":640,\"height\":480,\"frameRate\":30},\"audio\":true}",
                        "s.", "!", "w.", "s.", "!", "w.",
                        "mediastreamwhipsink",
                        "name=w",
                        &format!("whip-endpoint={endpoint}"),
                        &format!("auth-token={TOKEN}"),
                        // SFU_BENCH_SEND_IDS=false: without the ids' data
                        // channel, for what it costs.
                        &format!(
                            "send-ids={}",
                            std::env::var("SFU_BENCH_SEND_IDS").unwrap_or("true".into())
                        ),
                    ])
                    .env("GST_PLUGIN_PATH", common::plugin_dir())
                    .env("GST_MEDIASTREAM_FAKE_DEVICES", "1")
                    .stdout(std::process::Stdio::null())
                    .spawn()
                    .expect("gst-launch-1.0 starts")
            } else {
                std::process::Command::new(std::env::current_exe().unwrap())
                    .args([
                        "hand_publisher_process",
                        "--exact",
                        "--ignored",
                        "--nocapture",
                    ])
                    .env("SFU_HAND_ENDPOINT", &endpoint)
                    .stdout(std::process::Stdio::null())
                    .spawn()
                    .expect("the hand-built publisher starts")
            });
            // The publisher's CPU first, publishing into Janus with no
            // subscriber: Chromium decoding on the same two cores would
            // make the figure noisy.
            wc::poll::holds_within(Duration::from_secs(5), || false);
            let cpu0 = cpu_seconds(publisher.0.id());
            let t0 = std::time::Instant::now();
            wc::poll::holds_within(Duration::from_secs(secs), || false);
            let cpu = cpu_seconds(publisher.0.id()) - cpu0;
            let elapsed = t0.elapsed().as_secs_f64();
            let mut browser = wc::Browser::page("tests/webrtc/janus.html", false);
            browser.call(
                "subscribe",
                serde_json::json!([sfu::JANUS_URL, sfu::ROOM, id, 1, true]),
            );
            // Settled: frames decoding for a while.
            wait_page(&mut browser, 30, "the first subscriber decoding", |s| {
                s.len() == 1 && s[0]["video"]["framesDecoded"].as_u64().unwrap_or(0) >= 90
            });
            let before = page_stats(&mut browser);
            wc::poll::holds_within(Duration::from_secs(secs), || false);
            let after = page_stats(&mut browser);
            let one = fps(&after, &before);
            let age = after[0]["firstFrameAge"].clone();
            browser.call(
                "subscribe",
                serde_json::json!([sfu::JANUS_URL, sfu::ROOM, id, 3, false]),
            );
            wait_page(&mut browser, 30, "four subscribers decoding", |s| {
                s.len() == 4
                    && s.iter()
                        .all(|v| v["video"]["framesDecoded"].as_u64().unwrap_or(0) >= 60)
            });
            let before = page_stats(&mut browser);
            wc::poll::holds_within(Duration::from_secs(secs), || false);
            let after = page_stats(&mut browser);
            let four = fps(&after, &before);
            let f = serde_json::json!({
                "path": path,
                "cpuMsPerFrame": cpu * 1000.0 / (elapsed * 30.0),
                "fps1": one[0],
                "fps4": four,
                "ageMs": age["ageMs"],
                "ageFrames": age["frames"],
            });
            println!("SFU_FIGURES {f}");
            drop(browser);
            drop(publisher);
        }
    }
}
