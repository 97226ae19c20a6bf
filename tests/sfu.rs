// SPDX-License-Identifier: MPL-2.0

//! A MediaStream through an SFU: publishers into a Janus VideoRoom (WHIP,
//! through simple-whip-server), subscribers out of it
//! (`mediastreamjanussrc`). Janus, the WHIP server and every peer run
//! inside the test's own network namespace (tests/webrtc_common,
//! tests/common/sfu.rs).

#[path = "common/sfu.rs"]
mod sfu;
#[path = "webrtc_common/mod.rs"]
mod webrtc_common;

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

/// `mediastreamjanussrc` with a fakesink per track pad, counting.
struct Subscriber {
    pipeline: gst::Pipeline,
    src: gst::Element,
    pads: Arc<Mutex<Vec<(String, Arc<Mutex<Received>>)>>>,
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
        let pads: Arc<Mutex<Vec<(String, Arc<Mutex<Received>>)>>> = Default::default();
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
    let ended = wc::poll::holds_within(Duration::from_secs(10), || {
        let all: Vec<Received> = sub
            .pads
            .lock()
            .iter()
            .map(|(_, r)| r.lock().clone())
            .collect();
        all.len() == 2 && all.iter().all(|r| r.eos)
    });
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
    let source = publisher.by_name("s").unwrap();
    let stream = sub.src.property::<gst::Element>("stream");
    assert_eq!(
        stream.property::<String>("id"),
        source.property::<String>("id")
    );
    let mut sent: Vec<String> = source
        .property::<Vec<String>>("track-ids")
        .into_iter()
        .collect();
    sent.sort();
    let mut got: Vec<String> = sub
        .pads
        .lock()
        .iter()
        .filter_map(|(_, r)| r.lock().track_id.clone())
        .collect();
    got.sort();
    assert_eq!(got, sent, "the subscriber's track ids");
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
    let ended = wc::poll::holds_within(Duration::from_secs(10), || {
        let all: Vec<Received> = sub
            .pads
            .lock()
            .iter()
            .map(|(_, r)| r.lock().clone())
            .collect();
        all.len() == 2 && all.iter().all(|r| r.eos)
    });
    assert!(
        ended,
        "tracks after the publisher's EOS: {:?}\n{}",
        sub.pads.lock(),
        sfu.logs()
    );
    publisher.set_state(gst::State::Null).unwrap();
}
