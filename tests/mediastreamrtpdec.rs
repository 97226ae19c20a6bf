// SPDX-License-Identifier: MPL-2.0

//! mediastreamrtpdec's mute detection on the pipeline clock, driven by a
//! `TestClock` through a `Harness`: no real time passes, and packets are
//! pushed on the test's own thread, so every step is deterministic.

use gst::prelude::*;
use gst_check::Harness;
use std::sync::mpsc;

const MS: u64 = 1_000_000;

fn init() {
    gst::init().unwrap();
    gstmediastream::ensure_registered();
}

/// A few VP8 frames as RTP packets, made by a non-live pipeline.
fn vp8_packets() -> (gst::Caps, Vec<gst::Buffer>) {
    let p = gst::parse::launch(
        "videotestsrc num-buffers=5 ! video/x-raw,width=64,height=48,framerate=30/1 \
         ! vp8enc deadline=1 ! rtpvp8pay ! appsink name=out sync=false",
    )
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let sink = p.by_name("out").unwrap();
    p.set_state(gst::State::Playing).unwrap();
    let mut caps = None;
    let mut packets = Vec::new();
    while let Some(s) = sink.emit_by_name::<Option<gst::Sample>>(
        "try-pull-sample",
        &[&gst::ClockTime::from_seconds(10)],
    ) {
        caps = s.caps_owned();
        let mut b = s.buffer_owned().unwrap();
        // The harness timestamps nothing: the check reads the clock.
        let m = b.make_mut();
        m.set_pts(gst::ClockTime::NONE);
        m.set_dts(gst::ClockTime::NONE);
        packets.push(b);
    }
    p.set_state(gst::State::Null).unwrap();
    assert!(!packets.is_empty(), "vp8enc and rtpvp8pay made packets");
    (caps.unwrap(), packets)
}

/// A `mediastreamrtpdec` with the properties `props` (its timeouts, in ms).
fn rtpdec(props: &[(&str, u32)]) -> gst::Element {
    let mut dec = gst::ElementFactory::make("mediastreamrtpdec");
    for (name, value) in props {
        dec = dec.property(name, value);
    }
    dec.build().unwrap()
}

/// Moves the harness's test clock on by `ms` in 5 ms steps, running the
/// checks due.
fn advance(clock: &gst_check::TestClock, ms: u64) {
    for _ in 0..ms / 5 {
        clock.advance_time(5 * MS as i64);
        while clock.process_next_clock_id().is_some() {}
    }
}

fn ready_state(dec: &gst::Element) -> gstmediastream::track::ReadyState {
    dec.property("ready-state")
}

#[test]
fn mute_and_unmute_on_the_pipeline_clock() {
    init();
    let (caps, packets) = vp8_packets();
    let mut packets = packets.into_iter().cycle();
    // No peer check: the mute check is the only clock id.
    let dec = rtpdec(&[("mute-timeout", 200u32), ("peer-timeout", 0u32)]);
    let mut h = Harness::with_element(&dec, Some("sink"), Some("src"));
    let clock = h.testclock().expect("the harness's test clock");
    // Each signal with the `muted` property as it reads when emitted, and
    // the clock time then.
    let (tx, rx) = mpsc::channel();
    for name in ["mute", "unmute"] {
        let tx = tx.clone();
        let clock = clock.clone();
        dec.connect(name, false, move |args| {
            let e = args[0].get::<gst::Element>().unwrap();
            tx.send((name, e.property::<bool>("muted"), clock.time()))
                .unwrap();
            None
        });
    }
    h.set_src_caps(caps);
    h.play();
    let run = |ms: u64| advance(&clock, ms);
    let mut push = |h: &mut Harness| h.push(packets.next().unwrap()).unwrap();

    // Packets every 100 ms of clock time: never muted, and one pending
    // clock id at a time (no periodic wake-up).
    for _ in 0..5 {
        push(&mut h);
        run(100);
        assert_eq!(clock.peek_id_count(), 1, "one single-shot check pending");
    }
    assert!(rx.try_recv().is_err(), "no mute while packets come");
    assert!(!dec.property::<bool>("muted"));
    let last = clock.time();
    push(&mut h);

    // No packet: muted mute-timeout after the last one, to the clock step.
    run(195);
    assert!(rx.try_recv().is_err(), "not muted before mute-timeout");
    run(10);
    let (name, muted, at) = rx.try_recv().expect("muted at mute-timeout");
    assert_eq!((name, muted), ("mute", true));
    let stalled = at - last;
    assert!(
        stalled >= gst::ClockTime::from_mseconds(200)
            && stalled <= gst::ClockTime::from_mseconds(205),
        "muted {stalled} after the last packet"
    );
    assert!(dec.property::<bool>("muted"));
    // Muted, nothing is scheduled until a packet comes.
    run(500);
    assert!(rx.try_recv().is_err(), "mute is announced once");
    assert_eq!(clock.peek_id_count(), 0, "no check while muted");

    // A packet unmutes at once, on the thread that pushed it.
    push(&mut h);
    let (name, muted, _) = rx.try_recv().expect("unmuted by the packet");
    assert_eq!((name, muted), ("unmute", false));
    // And the check is armed again: muted again after mute-timeout.
    run(195);
    assert!(rx.try_recv().is_err());
    run(10);
    assert_eq!(rx.try_recv().map(|(n, m, _)| (n, m)), Ok(("mute", true)));

    // The state event downstream says muted too (pushed from GStreamer's
    // pool, not the clock's thread: pull_event waits for it).
    let mut seen = Vec::new();
    while seen.last() != Some(&true) {
        let ev = h
            .pull_event()
            .unwrap_or_else(|_| panic!("no muted state event; state events: {seen:?}"));
        if let Some(s) = ev.structure()
            && s.name() == "mediastream-track-state"
        {
            seen.push(s.get::<bool>("muted").unwrap());
        }
    }
}

#[test]
fn an_encoding_it_cannot_decode_is_a_stream_error() {
    init();
    let p = gst::parse::launch(
        "appsrc name=src is-live=true format=time \
         caps=application/x-rtp,media=video,encoding-name=FOO,clock-rate=90000,payload=96 \
         ! mediastreamrtpdec ! fakesink",
    )
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    p.set_state(gst::State::Playing).unwrap();
    let src = p.by_name("src").unwrap();
    let pushed =
        src.emit_by_name::<gst::FlowReturn>("push-buffer", &[&gst::Buffer::with_size(12).unwrap()]);
    assert_eq!(pushed, gst::FlowReturn::Ok, "queued in appsrc");
    let msg = p
        .bus()
        .unwrap()
        .timed_pop_filtered(gst::ClockTime::from_seconds(5), &[gst::MessageType::Error])
        .expect("an error");
    let gst::MessageView::Error(e) = msg.view() else {
        unreachable!()
    };
    // Not a missing plugin: no element decodes it.
    assert!(
        e.error().matches(gst::StreamError::CodecNotFound),
        "{:?}",
        e.error()
    );
    assert!(e.error().message().contains("'FOO'"), "{}", e.error());
    p.set_state(gst::State::Null).unwrap();
}

/// The peer watchdog on the pipeline clock: a track whose peer sends
/// nothing for peer-timeout ends (message, warning, ended, EOS), after
/// muting at mute-timeout; packets in time keep it alive. Not linked to
/// webrtcbin, the track's own packets are what arrives from the peer
/// (tests/webrtc.rs checks webrtcbin's transports with Chromium).
#[test]
fn a_peer_that_sends_nothing_for_peer_timeout_is_gone() {
    init();
    let (caps, packets) = vp8_packets();
    let mut packets = packets.into_iter().cycle();
    let dec = rtpdec(&[("mute-timeout", 200u32), ("peer-timeout", 1000u32)]);
    let mut h = Harness::with_element(&dec, Some("sink"), Some("src"));
    let bus = gst::Bus::new();
    dec.set_bus(Some(&bus));
    let clock = h.testclock().expect("the harness's test clock");
    let (tx, rx) = mpsc::channel();
    for name in ["mute", "unmute", "ended"] {
        let tx = tx.clone();
        let clock = clock.clone();
        dec.connect(name, false, move |_| {
            tx.send((name, clock.time())).unwrap();
            None
        });
    }
    h.set_src_caps(caps);
    h.play();
    let run = |ms: u64| advance(&clock, ms);
    let mut push = |h: &mut Harness| h.push(packets.next().unwrap()).unwrap();
    let live = gstmediastream::track::ReadyState::Live;

    // Gaps of 900 ms: muted each time (mute-timeout 200), never gone.
    for _ in 0..4 {
        push(&mut h);
        run(900);
    }
    let events: Vec<_> = rx.try_iter().map(|(n, _)| n).collect();
    assert_eq!(
        events.iter().filter(|n| **n == "mute").count(),
        4,
        "{events:?}"
    );
    assert!(!events.contains(&"ended"), "{events:?}");
    assert_eq!(ready_state(&dec), live);

    // Silence: gone peer-timeout after the last packet, to the clock step.
    push(&mut h);
    let last = clock.time();
    run(995);
    let events: Vec<_> = rx.try_iter().map(|(n, _)| n).collect();
    assert_eq!(events, ["unmute", "mute"], "muted, not yet gone");
    assert_eq!(ready_state(&dec), live);
    run(10);
    // `ended` is emitted from GStreamer's async pool: wait for it (real
    // time only for that thread; the clock does not move).
    let (name, at) = rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("ended after peer-timeout");
    assert_eq!(name, "ended");
    let silence = at - last;
    assert!(
        silence >= gst::ClockTime::from_mseconds(1000)
            && silence <= gst::ClockTime::from_mseconds(1005),
        "gone {silence} after the last packet"
    );
    assert_eq!(ready_state(&dec), gstmediastream::track::ReadyState::Ended);

    // The message and the warning say so; the track's ended message
    // follows them.
    let mut messages = Vec::new();
    let mut warnings = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !messages
        .iter()
        .any(|s: &gst::Structure| s.name() == "mediastream-track-ended")
    {
        assert!(std::time::Instant::now() < deadline, "{messages:?}");
        let Some(m) = bus.timed_pop(gst::ClockTime::from_mseconds(100)) else {
            continue;
        };
        match m.view() {
            gst::MessageView::Element(_) => messages.push(m.structure().unwrap().to_owned()),
            gst::MessageView::Warning(w) => warnings.push(w.error()),
            _ => {}
        }
    }
    let names: Vec<_> = messages.iter().map(|s| s.name().as_str()).collect();
    let gone = names.iter().position(|n| *n == "mediastream-peer-gone");
    let ended = names.iter().position(|n| *n == "mediastream-track-ended");
    assert!(gone.is_some() && gone < ended, "{names:?}");
    let s = &messages[gone.unwrap()];
    assert_eq!(s.get::<u32>("peer-timeout").unwrap(), 1000, "{s}");
    let ms = s.get::<u64>("silence-ms").unwrap();
    assert!((1000..=1005).contains(&ms), "{s}");
    let [w] = warnings.as_slice() else {
        panic!("one warning: {warnings:?}");
    };
    assert!(w.matches(gst::ResourceError::Read), "{w:?}");
    assert!(w.message().contains("the peer is gone"), "{w}");

    // Downstream: the state event says ended, then EOS (pull_event waits
    // for each, up to the harness's 60 s).
    let mut states = Vec::new();
    loop {
        let ev = h.pull_event().expect("EOS downstream");
        if ev.type_() == gst::EventType::Eos {
            break;
        }
        if let Some(s) = ev.structure()
            && s.name() == "mediastream-track-state"
        {
            states.push(s.get::<String>("ready-state").unwrap_or_default());
        }
    }
    assert_eq!(
        states.last().map(String::as_str),
        Some("ended"),
        "{states:?}"
    );
    // Nothing more is scheduled for the peer once it is gone.
    run(2000);
    assert!(rx.try_recv().is_err(), "announced once");
}

/// peer-timeout changed while playing: 0 turns the check off, a new value
/// counts from the last arrival (so a peer already silent for longer is
/// gone at once).
#[test]
fn peer_timeout_changes_while_playing() {
    init();
    let (caps, packets) = vp8_packets();
    let dec = rtpdec(&[("peer-timeout", 0u32)]);
    let mut h = Harness::with_element(&dec, Some("sink"), Some("src"));
    let clock = h.testclock().expect("the harness's test clock");
    let (tx, rx) = mpsc::channel();
    dec.connect("ended", false, move |_| {
        tx.send(()).unwrap();
        None
    });
    h.set_src_caps(caps);
    h.play();
    let run = |ms: u64| advance(&clock, ms);
    h.push(packets[0].clone()).unwrap();
    run(3000);
    assert_eq!(ready_state(&dec), gstmediastream::track::ReadyState::Live);
    assert!(rx.try_recv().is_err(), "peer-timeout 0: never gone");
    dec.set_property("peer-timeout", 10_000u32);
    run(1000);
    assert!(rx.try_recv().is_err(), "4 s of silence: not yet");
    dec.set_property("peer-timeout", 2000u32);
    run(5);
    rx.recv_timeout(std::time::Duration::from_secs(10))
        .expect("silent for 4 s with peer-timeout 2000: gone");
    assert_eq!(ready_state(&dec), gstmediastream::track::ReadyState::Ended);
}

/// A panic on the clock's thread (the mute check) is an element error
/// like one anywhere else (crate::fault): `Panicked`, nothing more passes,
/// and after NULL the element works again.
#[test]
fn a_panic_in_the_mute_check_is_an_element_error() {
    init();
    let (caps, packets) = vp8_packets();
    let dec = rtpdec(&[("mute-timeout", 200u32)]);
    for round in 0..2 {
        let mut h = Harness::with_element(&dec, Some("sink"), Some("src"));
        let bus = gst::Bus::new();
        dec.set_bus(Some(&bus));
        let clock = h.testclock().expect("the harness's test clock");
        h.set_src_caps(caps.clone());
        h.play();
        h.push(packets[0].clone()).unwrap();
        if round == 0 {
            gstmediastream::fault::inject_panic("mediastreamrtpdec:mute");
        }
        for _ in 0..60 {
            clock.advance_time(5 * MS as i64);
            while clock.process_next_clock_id().is_some() {}
        }
        let error = bus.pop_filtered(&[gst::MessageType::Error]);
        if round == 0 {
            let msg = error.expect("the panic on the bus");
            let gst::MessageView::Error(e) = msg.view() else {
                unreachable!()
            };
            assert_eq!(
                e.error().message(),
                "Panicked: panic injected at mediastreamrtpdec:mute"
            );
            assert!(!dec.property::<bool>("muted"), "the check did not run");
        } else {
            assert!(error.is_none(), "{error:?}");
            assert!(dec.property::<bool>("muted"), "after NULL it mutes again");
        }
        drop(h);
        dec.set_state(gst::State::Null).unwrap();
    }
}
