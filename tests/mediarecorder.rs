// SPDX-License-Identifier: MPL-2.0

//! mediarecorder as MediaRecorder: every supported type recorded in
//! timeslice chunks that concatenate into a file the demuxer reads with
//! every track and the recorded duration; pause/resume, request-data,
//! stop, a track ending, the errors; is-type-supported against what
//! records; the encoders get the devices' own buffers.

#[path = "common/launch_recording.rs"]
mod launch_recording;
#[path = "common/objects.rs"]
mod objects;
#[path = "common/track.rs"]
mod track;

use gst::prelude::*;
use gst_base::prelude::BaseTransformExt;
use gst_video::prelude::*;
use gstmediastream::recording::LISTED;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn init() {
    track::init_builtin();
}

#[derive(Debug, Clone, PartialEq)]
enum Ev {
    Start(String),
    Data(Vec<u8>, f64),
    Pause,
    Resume,
    Error(String, String),
    Stop,
}

/// A fake-device `mediastream` whose tracks feed a `mediarecorder`
/// (auto-start off: the test calls start).
struct Rec {
    parts: track::StreamRecorder,
    rx: mpsc::Receiver<Ev>,
    /// Every event so far, in order.
    log: Arc<Mutex<Vec<Ev>>>,
    /// What the last action returned (a `mediarecorder-result`).
    last: std::cell::RefCell<Option<gst::Structure>>,
}

/// The recorder, playing and started with `timeslice` (which succeeds).
fn started(constraints: &str, mime: &str, timeslice: u32) -> Rec {
    let r = recorder(constraints, mime);
    r.play();
    assert!(r.start(timeslice));
    r
}

/// A recorder of `mime` on a 320-wide video and an audio track.
fn av_recorder(mime: &str) -> Rec {
    recorder(r#"{"video":{"width":320},"audio":true}"#, mime)
}

fn recorder(constraints: &str, mime: &str) -> Rec {
    init();
    let parts = track::StreamRecorder::new(constraints, mime);
    let rec = &parts.rec;
    let (tx, rx) = mpsc::channel();
    let log = Arc::new(Mutex::new(Vec::new()));
    let send = move |tx: &mpsc::Sender<Ev>, log: &Arc<Mutex<Vec<Ev>>>, ev: Ev| {
        log.lock().unwrap().push(ev.clone());
        let _ = tx.send(ev);
    };
    macro_rules! on {
        ($name:expr, |$args:ident| $ev:expr) => {{
            let tx = tx.clone();
            let log = log.clone();
            rec.connect($name, false, move |$args| {
                send(&tx, &log, $ev);
                None
            });
        }};
    }
    on!("started", |a| Ev::Start(a[1].get::<String>().unwrap()));
    on!("dataavailable", |a| Ev::Data(
        a[1].get::<gst::glib::Bytes>().unwrap().to_vec(),
        a[2].get::<f64>().unwrap()
    ));
    on!("paused", |_a| Ev::Pause);
    on!("resumed", |_a| Ev::Resume);
    on!("error", |a| Ev::Error(
        a[1].get::<String>().unwrap(),
        a[2].get::<String>().unwrap()
    ));
    on!("stopped", |_a| Ev::Stop);
    Rec {
        parts,
        rx,
        log,
        last: Default::default(),
    }
}

/// The pipeline, the stream and the recorder.
impl std::ops::Deref for Rec {
    type Target = track::StreamRecorder;

    fn deref(&self) -> &track::StreamRecorder {
        &self.parts
    }
}

impl Rec {
    fn play(&self) {
        self.pipeline.set_state(gst::State::Playing).unwrap();
        let (ok, state, _) = self.pipeline.state(gst::ClockTime::from_seconds(10));
        ok.unwrap();
        assert_eq!(state, gst::State::Playing);
    }

    fn outcome(&self, result: gst::Structure) -> bool {
        assert_eq!(result.name(), "mediarecorder-result");
        let ok = result.get::<bool>("success").unwrap();
        *self.last.borrow_mut() = Some(result);
        ok
    }

    fn start(&self, timeslice: u32) -> bool {
        self.outcome(self.rec.emit_by_name("start", &[&timeslice]))
    }

    fn call(&self, action: &str) -> bool {
        self.outcome(self.rec.emit_by_name(action, &[]))
    }

    fn state(&self) -> String {
        let v = self.rec.property_value("state");
        let (_, e) = gst::glib::EnumValue::from_value(&v).unwrap();
        e.nick().to_owned()
    }

    /// The next event, within `secs`.
    fn next(&self, secs: u64) -> Ev {
        self.rx
            .recv_timeout(Duration::from_secs(secs))
            .unwrap_or_else(|_| {
                panic!(
                    "no recorder event within {secs} s; so far: {:?}",
                    self.summary()
                )
            })
    }

    /// The recorder's child made by `factory`.
    fn child(&self, factory: &str) -> gst::Element {
        self.rec
            .downcast_ref::<gst::Bin>()
            .unwrap()
            .children()
            .into_iter()
            .find(|e| e.factory().unwrap().name() == factory)
            .unwrap_or_else(|| panic!("{factory} in the recorder"))
    }

    /// Events until (and with) the first that `f` accepts, within `secs`.
    fn until(&self, secs: u64, f: impl FnMut(&Ev) -> bool) -> Vec<Ev> {
        track::events_until(&self.rx, secs, f, || self.summary())
    }

    /// Waits until `n` chunks have come since now.
    fn chunks(&self, n: usize, secs: u64) {
        let mut seen = 0;
        self.until(secs, |e| {
            if matches!(e, Ev::Data(..)) {
                seen += 1;
            }
            seen >= n
        });
    }

    fn summary(&self) -> Vec<String> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .map(|e| match e {
                Ev::Data(d, t) => format!("Data({} bytes, {t} ms)", d.len()),
                other => format!("{other:?}"),
            })
            .collect()
    }

    fn data(&self) -> Vec<(Vec<u8>, f64)> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| match e {
                Ev::Data(d, t) => Some((d.clone(), *t)),
                _ => None,
            })
            .collect()
    }

    fn file(&self) -> Vec<u8> {
        self.data().into_iter().flat_map(|(d, _)| d).collect()
    }

    fn running_time(&self) -> gst::ClockTime {
        self.pipeline.current_running_time().unwrap()
    }

    fn stop_and_wait(&self) -> Vec<Ev> {
        assert!(self.call("stop"));
        self.until(20, |e| *e == Ev::Stop)
    }

    /// The track elements of the stream.
    fn tracks(&self) -> Vec<gst::Element> {
        track::children_made_by(&self.stream, "mediastreamsrc")
    }

    /// The exception the last action threw: its W3C name (and its message
    /// starts with it). Nothing about it is on the bus.
    fn thrown(&self) -> String {
        let last = self.last.borrow();
        let result = last.as_ref().expect("an action was called");
        assert!(!result.get::<bool>("success").unwrap(), "{result}");
        let name = result.get::<String>("name").unwrap();
        let message = result.get::<String>("message").unwrap();
        assert!(message.starts_with(&name), "{message}");
        let bus = self.pipeline.bus().unwrap();
        assert!(
            bus.pop_filtered(&[gst::MessageType::Warning, gst::MessageType::Error])
                .is_none(),
            "an exception posts nothing"
        );
        name
    }
}

impl Drop for Rec {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

/// What the demuxer finds in a recording: per stream its caps name, the
/// number of buffers and its first and last timestamps.
#[derive(Debug)]
struct Demuxed {
    streams: Vec<(String, usize, gst::ClockTime, gst::ClockTime)>,
}

impl Demuxed {
    fn duration(&self) -> gst::ClockTime {
        let start = self.streams.iter().map(|s| s.2).min().unwrap();
        let end = self.streams.iter().map(|s| s.3).max().unwrap();
        end - start
    }

    fn kinds(&self) -> Vec<&str> {
        let mut k: Vec<&str> = self.streams.iter().map(|s| s.0.as_str()).collect();
        k.sort();
        k
    }
}

/// Demuxes `data` with the container's demuxer, to the end.
fn demux(data: &[u8], mime: &str) -> Demuxed {
    let demuxer = if mime.contains("mp4") {
        "qtdemux"
    } else if mime.contains("ogg") {
        "oggdemux"
    } else {
        "matroskademux"
    };
    let p = gst::Pipeline::new();
    let src = gst::ElementFactory::make("appsrc")
        .property("format", gst::Format::Bytes)
        .build()
        .unwrap();
    let d = gst::ElementFactory::make(demuxer).build().unwrap();
    p.add_many([&src, &d]).unwrap();
    src.link(&d).unwrap();
    type Stats = Arc<
        Mutex<
            Vec<(
                String,
                usize,
                Option<gst::ClockTime>,
                Option<gst::ClockTime>,
            )>,
        >,
    >;
    let stats: Stats = Arc::default();
    let s = stats.clone();
    let pw = p.downgrade();
    d.connect_pad_added(move |_, pad| {
        let p = pw.upgrade().unwrap();
        track::fakesink_for(&p, pad);
        let idx = {
            let mut v = s.lock().unwrap();
            v.push((String::new(), 0, None, None));
            v.len() - 1
        };
        let s = s.clone();
        pad.add_probe(
            gst::PadProbeType::BUFFER | gst::PadProbeType::EVENT_DOWNSTREAM,
            move |pad, info| {
                let mut v = s.lock().unwrap();
                let e = &mut v[idx];
                if let Some(caps) = pad.current_caps() {
                    e.0 = caps.structure(0).unwrap().name().to_string();
                }
                if let Some(gst::PadProbeData::Buffer(b)) = &info.data {
                    e.1 += 1;
                    if let Some(pts) = b.pts() {
                        let end = pts + b.duration().unwrap_or_default();
                        e.2 = Some(e.2.map_or(pts, |x| x.min(pts)));
                        e.3 = Some(e.3.map_or(end, |x| x.max(end)));
                    }
                }
                gst::PadProbeReturn::Ok
            },
        );
    });
    p.set_state(gst::State::Playing).unwrap();
    launch_recording::push_all(&src, data);
    let msg = launch_recording::eos_or_error(&p, 30, "the demuxer reaches the end");
    if let gst::MessageView::Error(e) = msg.view() {
        panic!(
            "{demuxer} cannot read the recording: {} ({:?})",
            e.error(),
            e.debug()
        );
    }
    p.set_state(gst::State::Null).unwrap();
    let v = stats.lock().unwrap();
    Demuxed {
        streams: v
            .iter()
            .map(|(n, c, a, b)| {
                assert!(*c > 0, "{n}: no buffers in {v:?}");
                (n.clone(), *c, a.unwrap(), b.unwrap())
            })
            .collect(),
    }
}

/// Also through gst-discoverer-1.0, as a user would check a file: every
/// track is there.
fn discover(data: &[u8], name: &str) -> String {
    let path = std::env::temp_dir().join(format!("mediarecorder-{}-{name}", std::process::id()));
    std::fs::write(&path, data).unwrap();
    let out = std::process::Command::new("gst-discoverer-1.0")
        .arg(&path)
        .output()
        .expect("gst-discoverer-1.0 runs");
    let _ = std::fs::remove_file(&path);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success() && !text.contains("error"), "{text}");
    text
}

fn expected_kinds(mime: &str) -> Vec<&'static str> {
    let mut k = Vec::new();
    if mime.starts_with("video") {
        k.push(if mime.contains("avc1") {
            "video/x-h264"
        } else if mime.contains("vp9") {
            "video/x-vp9"
        } else if mime.contains("av01") {
            "video/x-av1"
        } else {
            "video/x-vp8"
        });
    }
    k.push(if mime.contains("mp4a") {
        "audio/mpeg"
    } else {
        "audio/x-opus"
    });
    k.sort();
    k
}

/// One type recorded with timeslice 500 for about 3 s.
fn record_type(mime: &str) {
    let constraints = if mime.starts_with("audio") {
        r#"{"audio":true}"#
    } else {
        r#"{"video":{"width":320,"height":240},"audio":true}"#
    };
    let r = recorder(constraints, mime);
    r.play();
    assert_eq!(r.state(), "inactive");
    assert!(r.start(500), "start({mime})");
    let t0 = r.running_time();
    // The type as given; without codecs, completed with them.
    let Ev::Start(started) = r.next(5) else {
        panic!("{:?}", r.summary())
    };
    if mime.contains("codecs") {
        assert_eq!(started, mime);
    } else {
        assert!(started.starts_with(&format!("{mime};codecs=")), "{started}");
    }
    assert_eq!(r.state(), "recording");
    // About 3 s: six timeslices.
    r.chunks(6, 15);
    let t1 = r.running_time();
    let tail = r.stop_and_wait();
    assert!(
        matches!(tail[tail.len() - 2], Ev::Data(..)),
        "the last chunk, then stop: {:?}",
        r.summary()
    );
    assert_eq!(r.state(), "inactive");
    let data = r.data();
    assert!(
        (7..=9).contains(&data.len()),
        "{mime}: chunks {:?}",
        r.summary()
    );
    assert_eq!(data[0].1, 0.0, "the first chunk is timecode 0");
    for w in data.windows(2) {
        assert!(
            w[1].1 >= w[0].1,
            "{mime}: timecodes in order: {:?}",
            r.summary()
        );
    }
    // Timeslice chunks come about 500 ms apart on the recording's timeline.
    let last_tc = data[data.len() - 2].1;
    assert!(
        (1500.0..=3500.0).contains(&last_tc),
        "{mime}: the last timeslice chunk at {last_tc} ms: {:?}",
        r.summary()
    );
    assert!(data[..data.len() - 1].iter().all(|(d, _)| !d.is_empty()));
    let file = r.file();
    let d = demux(&file, mime);
    assert_eq!(d.kinds(), expected_kinds(mime), "{mime}: {d:?}");
    let recorded = (t1 - t0).mseconds() as i64;
    let duration = d.duration().mseconds() as i64;
    assert!(
        (duration - recorded).abs() <= 500,
        "{mime}: {duration} ms in the file for {recorded} ms recorded: {d:?}"
    );
    let text = discover(&file, "rec");
    for kind in expected_kinds(mime) {
        let word = if kind.starts_with("video") {
            "video #"
        } else {
            "audio #"
        };
        assert!(text.contains(word), "{mime}: gst-discoverer-1.0: {text}");
    }
}

#[test]
fn every_supported_type_records_in_chunks_that_concatenate() {
    init();
    let rec = gst::ElementFactory::make("mediarecorder").build().unwrap();
    let mut recorded = Vec::new();
    for mime in LISTED {
        let supported = rec.emit_by_name::<bool>("is-type-supported", &[&mime]);
        // scripts/setup installs every element these need.
        assert!(supported, "{mime} is listed but not supported here");
        record_type(mime);
        recorded.push(mime);
    }
    assert_eq!(recorded.len(), LISTED.len());
}

#[test]
fn is_type_supported_agrees_with_start() {
    init();
    let rec = gst::ElementFactory::make("mediarecorder").build().unwrap();
    let supported = |m: &str| rec.emit_by_name::<bool>("is-type-supported", &[&m]);
    // W3C isTypeSupported: an empty type is true (the user agent picks
    // one), and start records with it.
    assert!(supported(""));
    let _r = started(r#"{"video":{"width":320},"audio":true}"#, "", 0);
    for m in [
        "video/avi",
        "video/webm;codecs=h265",
        "audio/webm;codecs=vp8",
        "text/plain",
    ] {
        assert!(!supported(m), "{m}");
        let r = recorder(r#"{"video":{"width":320},"audio":true}"#, m);
        r.play();
        assert!(!r.start(0), "{m}");
        assert_eq!(r.thrown(), "NotSupportedError");
        assert_eq!(r.state(), "inactive");
    }
    // What the machine lacks is named.
    let missing = gst::ElementFactory::find("avenc_aac").is_none()
        && gst::ElementFactory::find("voaacenc").is_none()
        && gst::ElementFactory::find("fdkaacenc").is_none();
    assert_eq!(supported("video/mp4;codecs=avc1,mp4a.40.2"), !missing);
}

#[test]
fn an_empty_type_reads_back_the_full_type_once_started() {
    let r = recorder(r#"{"video":{"width":320},"audio":true}"#, "");
    assert_eq!(r.rec.property::<String>("mime-type"), "");
    r.play();
    assert!(r.start(0));
    assert_eq!(r.next(5), Ev::Start("video/webm;codecs=vp8,opus".into()));
    assert_eq!(
        r.rec.property::<String>("mime-type"),
        "video/webm;codecs=vp8,opus"
    );
    let a = recorder(r#"{"audio":true}"#, "");
    a.play();
    assert!(a.start(0));
    assert_eq!(a.next(5), Ev::Start("audio/webm;codecs=opus".into()));
    let m = av_recorder("video/x-matroska");
    m.play();
    assert!(m.start(0));
    assert_eq!(
        m.rec.property::<String>("mime-type"),
        "video/x-matroska;codecs=vp8,opus"
    );
}

#[test]
fn pause_gathers_nothing_and_the_timeline_skips_it() {
    let r = av_recorder("video/webm;codecs=vp8,opus");
    // Simulated time: the live sources make a frame each 1/30 s of this
    // clock, and the recorder's timeline is its running time.
    let clock = gst_check::TestClock::new();
    r.pipeline.use_clock(Some(&clock));
    r.play();
    // Stepping the test clock runs its callbacks on this thread: a track's
    // mute check pushing an event while the muxer holds the video thread
    // (for the audio this thread has yet to release) would wait for ever.
    // Mute is not the subject here.
    for t in r.tracks() {
        t.set_property("mute-timeout", 3_600_000u32);
    }
    // Moves the clock on by `ms` in 5 ms steps, releasing what is due.
    let run = |ms: u64| {
        for _ in 0..ms / 5 {
            clock.advance_time(5_000_000);
            while clock.process_next_clock_id().is_some() {}
            // The streaming threads take their turn with each step.
            std::thread::sleep(Duration::from_millis(1));
        }
    };
    run(100);
    assert!(r.start(0));
    assert!(matches!(r.next(5), Ev::Start(_)));
    run(1000);
    assert!(r.call("pause"));
    assert_eq!(r.next(5), Ev::Pause);
    assert_eq!(r.state(), "paused");
    assert!(r.call("pause"), "pause while paused does nothing");
    run(1500);
    assert!(r.call("resume"));
    assert_eq!(r.next(5), Ev::Resume);
    assert_eq!(r.state(), "recording");
    assert!(r.call("resume"), "resume while recording does nothing");
    run(1000);
    r.stop_and_wait();
    // 2 s recorded outside the pause (of 3.5 s).
    let d = demux(&r.file(), "video/webm");
    let duration = d.duration().mseconds() as i64;
    assert!(
        (duration - 2000).abs() <= 100,
        "{duration} ms in the file for 2000 ms recorded outside the pause: {d:?}"
    );
    // 30 fps: 60 frames, not the 105 with the pause.
    let frames = d.streams.iter().find(|s| s.0 == "video/x-vp8").unwrap().1 as i64;
    assert!((57..=63).contains(&frames), "{frames} frames: {d:?}");
}

#[test]
fn request_data_flushes_a_chunk_now_and_stop_the_last() {
    let r = started(r#"{"video":{"width":320},"audio":true}"#, "", 0);
    r.next(5);
    let clock = r.pipeline.clock().unwrap();
    let id = clock.new_single_shot_id(clock.time() + gst::ClockTime::from_mseconds(1000));
    let _ = id.wait();
    assert!(r.call("request-data"));
    let Ev::Data(first, tc) = r.next(5) else {
        panic!("{:?}", r.summary())
    };
    assert_eq!(tc, 0.0);
    // The container header first: EBML's magic.
    assert_eq!(&first[..4], &[0x1a, 0x45, 0xdf, 0xa3]);
    let _ = clock
        .new_single_shot_id(clock.time() + gst::ClockTime::from_mseconds(500))
        .wait();
    let tail = r.stop_and_wait();
    assert_eq!(tail.len(), 2, "one last chunk, then stop: {tail:?}");
    let Ev::Data(last, tc) = &tail[0] else {
        panic!("{tail:?}")
    };
    assert!(!last.is_empty());
    assert!(
        *tc >= 900.0,
        "the last chunk starts where the first ended: {tc} ms"
    );
    // Nothing lost or repeated: the two chunks are one file.
    let d = demux(&r.file(), "video/webm");
    assert_eq!(d.kinds(), ["audio/x-opus", "video/x-vp8"]);
    assert!(!r.call("request-data"), "request-data when inactive");
    assert_eq!(r.thrown(), "InvalidStateError");
    // stop when inactive does nothing.
    assert!(r.call("stop"));
    assert!(r.rx.recv_timeout(Duration::from_millis(200)).is_err());
}

/// The recording's `webmmux`.
fn webm_muxer(r: &Rec) -> gst::Element {
    r.rec
        .downcast_ref::<gst::Bin>()
        .unwrap()
        .children()
        .into_iter()
        .find(|e| e.factory().unwrap().name() == "webmmux")
        .expect("webmmux in the recorder")
}

/// Holds the recording's EOS at its muxer's output until the sender is
/// dropped: the recording stays unfinished, so what happens before its end
/// is tested without a race.
fn hold_the_end(r: &Rec) -> mpsc::Sender<()> {
    let mux = webm_muxer(r);
    let (tx, rx) = mpsc::channel::<()>();
    let rx = Mutex::new(rx);
    mux.static_pad("src").unwrap().add_probe(
        gst::PadProbeType::EVENT_DOWNSTREAM,
        move |_, info| {
            if let Some(gst::PadProbeData::Event(ev)) = &info.data
                && ev.type_() == gst::EventType::Eos
            {
                // Returns when the sender is dropped.
                let _ = rx.lock().unwrap().recv();
            }
            gst::PadProbeReturn::Ok
        },
    );
    tx
}

/// W3C stop() makes the recorder inactive at once; a start() right after
/// it (one file per segment) is a new recording, whose `start` comes after
/// the old one's last chunk and `stop`; meanwhile the state reads
/// `recording`. A stop() before it began calls it off: no events.
#[test]
fn stop_then_start_at_once_records_again_in_order() {
    let r = started(r#"{"video":{"width":320}}"#, "", 0);
    r.until(5, |e| matches!(e, Ev::Start(_)));
    let held = hold_the_end(&r);
    assert!(r.call("stop"));
    assert_eq!(r.state(), "inactive", "right after stop()");
    assert!(r.start(100));
    assert_eq!(r.state(), "recording", "right after the second start()");
    for m in ["pause", "request-data"] {
        assert!(!r.call(m), "{m} before the waiting start began");
        assert_eq!(r.thrown(), "InvalidStateError");
    }
    drop(held);
    let events = r.until(10, |e| matches!(e, Ev::Start(_)));
    let n = events.len();
    assert!(n >= 3, "{events:?}");
    assert!(matches!(events[n - 3], Ev::Data(..)), "{events:?}");
    assert_eq!(events[n - 2], Ev::Stop);
    // The new recording: chunks from its own header.
    let Ev::Data(d, _) = r.until(10, |e| matches!(e, Ev::Data(..))).pop().unwrap() else {
        unreachable!()
    };
    assert_eq!(&d[..4], &[0x1a, 0x45, 0xdf, 0xa3]);
    r.stop_and_wait();

    // Called off: stop() before the waiting start began.
    assert!(r.start(0));
    r.until(5, |e| matches!(e, Ev::Start(_)));
    let held = hold_the_end(&r);
    assert!(r.call("stop"));
    assert!(r.start(0));
    assert!(r.call("stop"));
    assert_eq!(r.state(), "inactive");
    drop(held);
    r.until(10, |e| *e == Ev::Stop);
    // An absence: nothing more comes (no `start` of the called-off one).
    if let Ok(e) = r.rx.recv_timeout(Duration::from_millis(500)) {
        panic!("an event after the called-off start: {e:?}");
    }
    assert_eq!(r.state(), "inactive");
}

/// When `stop` is heard the tracks already let go of the finished
/// recording: a start() called from the handler (or right after it) finds
/// no track pad aimed at an old encoder, whose ended branch would take the
/// track's events again and fail the new recording from the old muxer
/// (seen in CI: "caps arrived late" from the first webmmux).
#[test]
fn stop_is_heard_after_the_tracks_let_go_of_the_recording() {
    let r = started(r#"{"video":{"width":320}}"#, "", 100);
    r.until(5, |e| matches!(e, Ev::Start(_)));
    let (tx, targets) = mpsc::channel();
    let tx = Mutex::new(tx);
    r.rec.connect("stopped", false, move |args| {
        let rec = args[0].get::<gst::Element>().unwrap();
        let aimed: Vec<String> = rec
            .sink_pads()
            .into_iter()
            .filter_map(|p| p.downcast::<gst::GhostPad>().ok()?.target())
            .map(|t| t.name().to_string())
            .collect();
        let _ = tx.lock().unwrap().send(aimed);
        None
    });
    for round in 0..3 {
        r.stop_and_wait();
        let aimed = targets.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(
            aimed.is_empty(),
            "round {round}: at `stop`, still aimed at {aimed:?}"
        );
        assert!(r.start(100));
        r.until(5, |e| matches!(e, Ev::Start(_)));
        r.chunks(1, 10);
        assert_eq!(r.state(), "recording", "round {round}: {:?}", r.summary());
    }
}

#[test]
fn methods_in_the_wrong_state_throw_invalid_state_error() {
    let r = recorder(r#"{"video":{"width":320}}"#, "");
    r.play();
    for m in ["pause", "resume", "request-data"] {
        assert!(!r.call(m), "{m} when inactive");
        assert_eq!(r.thrown(), "InvalidStateError");
    }
    assert!(r.start(0));
    assert!(!r.start(0), "start while recording");
    assert_eq!(r.thrown(), "InvalidStateError");
    assert!(r.call("pause"));
    assert!(!r.start(0), "start while paused");
    assert_eq!(r.thrown(), "InvalidStateError");
    r.stop_and_wait();
    // And again after stop: a new recording, from its own header (its
    // first chunk with data: a stop before any frame came may have none).
    assert!(r.start(100));
    let events = r.until(10, |e| matches!(e, Ev::Data(d, _) if !d.is_empty()));
    let Some(Ev::Data(d, _)) = events.last() else {
        unreachable!()
    };
    assert_eq!(&d[..4], &[0x1a, 0x45, 0xdf, 0xa3]);
    assert!(
        !events.iter().any(|e| matches!(e, Ev::Error(..))),
        "{events:?}"
    );
    r.stop_and_wait();
}

#[test]
fn a_type_without_a_codec_for_a_track_is_not_supported() {
    let r = av_recorder("audio/ogg;codecs=opus");
    r.play();
    assert!(!r.start(0));
    assert_eq!(r.thrown(), "NotSupportedError");
    // With auto-start, the pipeline cannot record: an element error.
    init();
    let p = gst::parse::launch(
        "mediastream constraints={\"video\":{\"width\":320}} name=s s. ! mediarecorder mime-type=audio/ogg",
    )
    .unwrap();
    let p = p.downcast::<gst::Pipeline>().unwrap();
    p.set_state(gst::State::Playing).unwrap();
    let (err, details) = track::error_details(&p);
    assert_eq!(details.get::<String>("name").unwrap(), "NotSupportedError");
    assert!(err.to_string().contains("video track"), "{err}");
    assert!(err.matches(gst::CoreError::NotImplemented), "{err:?}");
    p.set_state(gst::State::Null).unwrap();
}

#[test]
fn tracks_that_end_finish_the_recording_cleanly() {
    let r = started(r#"{"video":{"width":320},"audio":true}"#, "", 500);
    r.chunks(2, 10);
    let tracks = r.tracks();
    assert_eq!(tracks.len(), 2);
    let video = tracks
        .iter()
        .find(|t| t.property::<gst::Structure>("settings").has_field("width"))
        .expect("the video track")
        .clone();
    // One track ends (track.stop()): the other goes on being recorded.
    video.emit_by_name::<()>("stop", &[]);
    r.chunks(2, 10);
    assert_eq!(r.state(), "recording");
    for t in &tracks {
        if t != &video {
            t.emit_by_name::<()>("stop", &[]);
        }
    }
    let tail = r.until(20, |e| *e == Ev::Stop);
    assert!(matches!(tail[tail.len() - 2], Ev::Data(..)));
    assert!(
        !r.summary().iter().any(|e| e.starts_with("Error")),
        "{:?}",
        r.summary()
    );
    assert_eq!(r.state(), "inactive");
    let d = demux(&r.file(), "video/webm");
    assert_eq!(d.kinds(), ["audio/x-opus", "video/x-vp8"]);
    // Every track ended and nothing records: the recorder's EOS.
    let bus = r.pipeline.bus().unwrap();
    bus.timed_pop_filtered(gst::ClockTime::from_seconds(10), &[gst::MessageType::Eos])
        .expect("EOS once every track ended");
}

/// The spec's order when the track set changes: error, dataavailable
/// (what was gathered is discarded), stop; and an element error.
fn check_modification(r: &Rec) {
    let tail = r.until(20, |e| *e == Ev::Stop);
    let err = tail
        .iter()
        .position(|e| matches!(e, Ev::Error(n, _) if n == "InvalidModificationError"))
        .unwrap_or_else(|| panic!("{:?}", r.summary()));
    assert!(matches!(tail[tail.len() - 2], Ev::Data(..)));
    assert!(err < tail.len() - 2);
    assert_eq!(r.state(), "inactive");
    let (e, details) = track::error_details(&r.pipeline);
    assert_eq!(
        details.get::<String>("name").unwrap(),
        "InvalidModificationError"
    );
    assert!(e.matches(gst::StreamError::Failed), "{e:?}");
}

#[test]
fn a_track_added_while_recording_stops_it_with_an_error() {
    let r = started(r#"{"audio":true}"#, "", 500);
    r.chunks(1, 10);
    // addTrack: a test pattern joins the stream; its pad reaches the recorder.
    track::add_live_source(&r.pipeline, &r.stream, "videotestsrc");
    check_modification(&r);
}

#[test]
fn a_track_removed_while_recording_stops_it_with_an_error() {
    let r = started(r#"{"video":{"width":320},"audio":true}"#, "", 500);
    r.chunks(1, 10);
    let ids: Vec<String> = r.stream.property::<Vec<String>>("track-ids");
    assert!(r.stream.emit_by_name::<bool>("remove-track", &[&ids[0]]));
    check_modification(&r);
}

#[test]
fn the_encoders_get_the_devices_own_buffers() {
    let r = started(r#"{"video":{"width":320},"audio":true}"#, "", 0);
    r.next(5);
    let bin = r.rec.downcast_ref::<gst::Bin>().unwrap();
    let children: Vec<String> = bin
        .children()
        .iter()
        .map(|e| e.factory().unwrap().name().to_string())
        .collect();
    // The video scaler that keeps the first size is always there, in
    // passthrough while the size is unchanged; nothing else converts.
    assert!(
        !children
            .iter()
            .any(|c| c.contains("queue") || c.starts_with("audio") || c == "videoconvert"),
        "native caps: no converter, no queue: {children:?}"
    );
    let devices: Vec<gst::Element> = r
        .stream
        .downcast_ref::<gst::Bin>()
        .unwrap()
        .iterate_all_by_element_factory_name("mediastreamfakesrc")
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(devices.len(), 2);
    // Both devices negotiated (bounded wait on the recorder's events).
    let deadline = Instant::now() + Duration::from_secs(10);
    while devices
        .iter()
        .any(|d| d.static_pad("src").unwrap().current_caps().is_none())
    {
        assert!(Instant::now() < deadline, "the devices never negotiated");
        r.rx.recv_timeout(Duration::from_millis(50)).ok();
    }
    let scaler = bin
        .children()
        .into_iter()
        .find(|e| e.factory().unwrap().name() == "videoconvertscale")
        .expect("the video scaler");
    let scaler = scaler.downcast::<gst_base::BaseTransform>().unwrap();
    let mut watches = Vec::new();
    for enc in ["vp8enc", "opusenc"] {
        let encoder = bin
            .children()
            .into_iter()
            .find(|e| e.factory().unwrap().name() == enc)
            .unwrap_or_else(|| panic!("{enc} in {children:?}"));
        let device = devices
            .iter()
            .find(|d| {
                let caps = d.static_pad("src").unwrap().current_caps().unwrap();
                caps.structure(0).unwrap().name().starts_with("video") == (enc == "vp8enc")
            })
            .unwrap();
        watches.push((
            enc,
            objects::watch_against(
                &encoder.static_pad("sink").unwrap(),
                &device.static_pad("src").unwrap(),
            ),
        ));
    }
    // A buffer already on its way when the watches went in is not counted.
    r.rx.recv_timeout(Duration::from_millis(200)).ok();
    for (_, w) in &watches {
        w.take();
    }
    let mut seen = vec![objects::Counts::default(); 2];
    let deadline = Instant::now() + Duration::from_secs(20);
    while seen.iter().any(|c| c.buffers < 30) {
        assert!(Instant::now() < deadline, "too few buffers: {seen:?}");
        r.rx.recv_timeout(Duration::from_millis(50)).ok();
        for (s, (_, w)) in seen.iter_mut().zip(&watches) {
            let c = w.take();
            s.buffers += c.buffers;
            s.foreign += c.foreign;
        }
    }
    for (s, (name, _)) in seen.iter().zip(&watches) {
        assert_eq!(s.foreign, 0, "{name}: every buffer is the device's: {s:?}");
    }
    // Frames went through it: it has its caps, the same in and out.
    assert!(scaler.is_passthrough(), "the scaler copies nothing");
}

#[test]
fn location_writes_the_chunks_to_a_file_from_a_launch_line() {
    init();
    let path = std::env::temp_dir().join(format!("mediarecorder-{}.webm", std::process::id()));
    let line = format!(
        "mediastream constraints={{\"video\":{{\"width\":320}},\"audio\":true}} name=s \
         s. ! identity eos-after=45 ! r.video_0 s. ! identity eos-after=75 ! r.audio_0 \
         mediarecorder name=r timeslice=500 location={}",
        path.display()
    );
    let (p, chunks) = launch_recording::record_to_eos(&line);
    p.set_state(gst::State::Null).unwrap();
    let file = std::fs::read(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(file, chunks, "the file is the chunks");
    let d = demux(&file, "video/webm");
    assert_eq!(d.kinds(), ["audio/x-opus", "video/x-vp8"]);
}

/// A fake-device audio/video `mediastream` and a `mediarecorder` (auto-start
/// off) given it as its `stream`, in a new pipeline.
fn given_the_stream() -> (gst::Pipeline, gst::Element, gst::Element) {
    init();
    let pipeline = gst::Pipeline::new();
    let stream = gst::ElementFactory::make("mediastream")
        .property("constraints", r#"{"video":{"width":320},"audio":true}"#)
        .build()
        .unwrap();
    let rec = gst::ElementFactory::make("mediarecorder")
        .property("auto-start", false)
        .build()
        .unwrap();
    pipeline.add_many([&stream, &rec]).unwrap();
    rec.set_property("stream", &stream);
    (pipeline, stream, rec)
}

/// The `stopped` events of `rec`, and every chunk's bytes, in order.
fn collect_data(rec: &gst::Element) -> (mpsc::Receiver<()>, Arc<Mutex<Vec<u8>>>) {
    let (tx, rx) = mpsc::channel();
    let data = launch_recording::collect_chunks(rec);
    rec.connect("stopped", false, move |_| {
        let _ = tx.send(());
        None
    });
    (rx, data)
}

/// start (which succeeds), `ms` of the pipeline's clock, stop, and the
/// `stopped` event on `stopped` (collect_data).
fn record_for(pipeline: &gst::Pipeline, rec: &gst::Element, stopped: &mpsc::Receiver<()>, ms: u64) {
    let started = rec.emit_by_name::<gst::Structure>("start", &[&0u32]);
    assert!(started.get::<bool>("success").unwrap(), "{started}");
    let clock = pipeline.clock().unwrap();
    let _ = clock
        .new_single_shot_id(clock.time() + gst::ClockTime::from_mseconds(ms))
        .wait();
    rec.emit_by_name::<gst::Structure>("stop", &[]);
    stopped
        .recv_timeout(Duration::from_secs(20))
        .expect("stopped");
}

/// The names of `rec`'s sink pads, sorted.
fn sorted_pad_names(rec: &gst::Element) -> Vec<String> {
    let mut pads: Vec<String> = rec.sink_pads().iter().map(|p| p.name().into()).collect();
    pads.sort();
    pads
}

#[test]
fn a_recorder_given_the_stream_links_its_tracks_itself() {
    let (pipeline, stream, rec) = given_the_stream();
    assert_eq!(
        rec.property::<Option<gst::Element>>("stream").as_ref(),
        Some(&stream)
    );
    let (rx, data) = collect_data(&rec);
    pipeline.set_state(gst::State::Playing).unwrap();
    let _ = pipeline.state(gst::ClockTime::from_seconds(10));
    let pads: Vec<String> = rec
        .sink_pads()
        .iter()
        .map(|p| p.name().to_string())
        .collect();
    assert_eq!(pads.len(), 2, "{pads:?}");
    record_for(&pipeline, &rec, &rx, 1000);
    pipeline.set_state(gst::State::Null).unwrap();
    let d = demux(&data.lock().unwrap(), "video/webm");
    assert_eq!(d.kinds(), ["audio/x-opus", "video/x-vp8"]);
}

#[test]
fn bits_per_second_reach_the_encoders() {
    let r = recorder(r#"{"video":{"width":320},"audio":true}"#, "");
    r.rec.set_property("video-bits-per-second", 300_000u32);
    r.rec.set_property("audio-bits-per-second", 24_000u32);
    r.play();
    assert!(r.start(0));
    r.next(5);
    assert_eq!(r.child("vp8enc").property::<i32>("target-bitrate"), 300_000);
    assert_eq!(r.child("opusenc").property::<i32>("bitrate"), 24_000);
    assert_eq!(
        r.child("vp8enc")
            .property_value("deadline")
            .get::<i64>()
            .unwrap(),
        1
    );
    r.stop_and_wait();
}

/// The attributes read the bitrates in use: unset, the encoders' own
/// (read back from them); `bits-per-second` split between the kinds, and
/// all of it to the one kind of a one-kind stream at start.
#[test]
fn the_bitrates_read_back_are_the_ones_the_encoders_run_at() {
    let r = recorder(r#"{"video":{"width":320},"audio":true}"#, "");
    // Before any caps: the encoders' starting values.
    assert_eq!(r.rec.property::<u32>("video-bits-per-second"), 256_000);
    assert_eq!(r.rec.property::<u32>("audio-bits-per-second"), 64_000);
    r.play();
    track::wait_until("the track's caps", || {
        r.rec.property::<u32>("video-bits-per-second") != 256_000
    });
    // With the track's caps (320x240, 30 fps): what vp8enc left alone
    // picks, bits-per-pixel 0.0434 x 320 x 240 x 30 = 99993 bits/s, which
    // it keeps in kbit/s: 99000.
    let before = (
        r.rec.property::<u32>("video-bits-per-second"),
        r.rec.property::<u32>("audio-bits-per-second"),
    );
    assert_eq!(before, (99_000, 64_000));
    assert!(r.start(100));
    // A chunk: frames went through the encoders.
    r.until(10, |e| matches!(e, Ev::Data(..)));
    // Recording: the same, and the encoders run at it.
    let vp8 = r.child("vp8enc").property::<i32>("target-bitrate");
    let opus = r.child("opusenc").property::<i32>("bitrate");
    assert_eq!((vp8 as u32, opus as u32), before);
    assert_eq!(
        (
            r.rec.property::<u32>("video-bits-per-second"),
            r.rec.property::<u32>("audio-bits-per-second")
        ),
        before
    );
    r.stop_and_wait();

    let r = recorder(r#"{"audio":true}"#, "");
    r.rec.set_property("bits-per-second", 200_000u32);
    assert_eq!(r.rec.property::<u32>("audio-bits-per-second"), 20_000);
    assert_eq!(r.rec.property::<u32>("video-bits-per-second"), 180_000);
    r.play();
    assert!(r.start(0));
    r.next(3);
    assert_eq!(r.rec.property::<u32>("audio-bits-per-second"), 200_000);
    assert_eq!(r.rec.property::<u32>("video-bits-per-second"), 0);
    assert_eq!(r.child("opusenc").property::<i32>("bitrate"), 200_000);
    r.stop_and_wait();
}

#[test]
fn the_largest_bitrates_are_clamped_to_the_encoders_and_record() {
    let r = av_recorder("video/webm;codecs=vp8,opus");
    // The properties take up to 4294967295; vp8enc's target-bitrate is an
    // int, opusenc's bitrate 4000-650000.
    r.rec.set_property("video-bits-per-second", u32::MAX);
    r.rec.set_property("audio-bits-per-second", u32::MAX);
    r.play();
    assert!(r.start(250), "{:?}", r.last.borrow());
    r.chunks(4, 15);
    let max = |e: &gst::Element, p: &str| {
        e.find_property(p)
            .unwrap()
            .downcast::<gst::glib::ParamSpecInt>()
            .unwrap()
            .maximum()
    };
    let vp8 = r.child("vp8enc");
    assert_eq!(max(&vp8, "target-bitrate"), i32::MAX);
    // vp8enc keeps kbit/s: its maximum, rounded down to a kbit.
    assert_eq!(
        vp8.property::<i32>("target-bitrate"),
        i32::MAX / 1000 * 1000
    );
    let opus = r.child("opusenc");
    assert_eq!(opus.property::<i32>("bitrate"), 650_000);
    assert_eq!(opus.property::<i32>("bitrate"), max(&opus, "bitrate"));
    let tail = r.stop_and_wait();
    assert!(
        !tail.iter().any(|e| matches!(e, Ev::Error(..))),
        "{:?}",
        r.summary()
    );
    let d = demux(&r.file(), "video/webm");
    assert_eq!(d.kinds(), ["audio/x-opus", "video/x-vp8"]);
    let frames = d.streams.iter().find(|s| s.0 == "video/x-vp8").unwrap().1;
    assert!(frames >= 15, "{frames} frames: {d:?}");
}

/// The stream's tracks recorded again after the pipeline went through
/// NULL (the stream makes new tracks and pads, the old pads are gone):
/// both kinds in the file, about the time recorded.
fn records_after_a_null_cycle(pipeline: &gst::Pipeline, rec: &gst::Element) {
    let (rx, data) = collect_data(rec);
    let play = || {
        pipeline.set_state(gst::State::Playing).unwrap();
        let (ok, state, _) = pipeline.state(gst::ClockTime::from_seconds(10));
        ok.unwrap();
        assert_eq!(state, gst::State::Playing);
    };
    play();
    assert_eq!(
        pipeline.set_state(gst::State::Null),
        Ok(gst::StateChangeSuccess::Success)
    );
    play();
    // stop (inactive: nothing), then start: the issue's sequence.
    rec.emit_by_name::<gst::Structure>("stop", &[]);
    record_for(pipeline, rec, &rx, 1500);
    let d = demux(&data.lock().unwrap(), "video/webm");
    assert_eq!(d.kinds(), ["audio/x-opus", "video/x-vp8"], "{d:?}");
    let frames = d.streams.iter().find(|s| s.0 == "video/x-vp8").unwrap().1;
    // 30 fps for 1.5 s.
    assert!(frames >= 30, "{frames} frames: {d:?}");
    assert!(d.duration() >= gst::ClockTime::from_mseconds(1000), "{d:?}");
    pipeline.set_state(gst::State::Null).unwrap();
}

#[test]
fn a_recorder_given_the_stream_records_again_after_a_null_cycle() {
    let (pipeline, _stream, rec) = given_the_stream();
    records_after_a_null_cycle(&pipeline, &rec);
    // The pads it made for the first tracks went with them.
    assert_eq!(sorted_pad_names(&rec), ["audio_0", "video_0"]);
}

#[test]
fn a_launch_line_recorder_records_again_after_a_null_cycle() {
    // Links made once (gst-launch-1.0's delayed links): the stream's new
    // pads are linked back to the recorder's pads of the first tracks.
    init();
    let pipeline = gst::parse::launch(
        r#"mediastream name=s constraints="{\"video\":{\"width\":320},\"audio\":true}"
           s.video_0 ! r.video_0 s.audio_0 ! r.audio_0 mediarecorder name=r auto-start=false"#,
    )
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let rec = pipeline.by_name("r").unwrap();
    records_after_a_null_cycle(&pipeline, &rec);
    assert_eq!(sorted_pad_names(&rec), ["audio_0", "video_0"]);
}

#[test]
fn a_recorder_fed_by_a_stream_records_again_after_a_null_cycle() {
    // The application links each new pad of the stream (recorder()): the
    // pads of the first tracks stay on the recorder, unlinked, and are no
    // tracks of the recording.
    let r = recorder(r#"{"video":{"width":320},"audio":true}"#, "");
    records_after_a_null_cycle(&r.pipeline, &r.rec);
}

/// A decoded frame: its caps and buffer.
type Frame = (gst::Caps, gst::Buffer);

/// The mean luma of rows `rows` of an I420 frame.
fn mean_luma(frame: &Frame, rows: std::ops::Range<u32>) -> f64 {
    let info = gst_video::VideoInfo::from_caps(&frame.0).unwrap();
    let f = gst_video::VideoFrameRef::from_buffer_ref_readable(&frame.1, &info).unwrap();
    let stride = f.plane_stride()[0] as usize;
    let y = f.plane_data(0).unwrap();
    let (mut sum, mut n) = (0u64, 0u64);
    for row in rows {
        let start = row as usize * stride;
        for v in &y[start..start + info.width() as usize] {
            sum += u64::from(*v);
            n += 1;
        }
    }
    sum as f64 / n as f64
}

struct Decoded {
    header: (i32, i32),
    sizes: Vec<(i32, i32)>,
    first: Frame,
    last: Frame,
}

/// What a VP8 WebM recording decodes to: the size its header gives (the
/// demuxer's caps), the size of every decoded frame, and its first and
/// last frames.
fn decoded(data: &[u8]) -> Decoded {
    let p = gst::parse::launch(
        "appsrc name=src format=bytes ! matroskademux name=demux ! vp8dec name=dec ! fakesink name=sink sync=false",
    )
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let size = |caps: &gst::CapsRef| {
        let s = caps.structure(0).unwrap();
        (
            s.get::<i32>("width").unwrap(),
            s.get::<i32>("height").unwrap(),
        )
    };
    let frames = Arc::new(Mutex::new(Vec::new()));
    let ends = Arc::new(Mutex::new(Vec::<Frame>::new()));
    let (f, e) = (frames.clone(), ends.clone());
    p.by_name("sink")
        .unwrap()
        .static_pad("sink")
        .unwrap()
        .add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
            let caps = pad.current_caps().expect("caps before a frame");
            f.lock().unwrap().push(size(&caps));
            if let Some(gst::PadProbeData::Buffer(b)) = &info.data {
                let mut e = e.lock().unwrap();
                // The first and the latest.
                e.truncate(1);
                e.push((caps, b.clone()));
            }
            gst::PadProbeReturn::Ok
        });
    let header = Arc::new(Mutex::new(None));
    let h = header.clone();
    p.by_name("dec")
        .unwrap()
        .static_pad("sink")
        .unwrap()
        .add_probe(gst::PadProbeType::EVENT_DOWNSTREAM, move |_, info| {
            if let Some(gst::PadProbeData::Event(e)) = &info.data
                && let gst::EventView::Caps(c) = e.view()
            {
                // Every caps the demuxer sends: a second one would be a size
                // change inside the file.
                let mut h = h.lock().unwrap();
                assert!(h.is_none(), "the demuxer's caps changed: {:?}", c.caps());
                *h = Some(size(c.caps()));
            }
            gst::PadProbeReturn::Ok
        });
    p.set_state(gst::State::Playing).unwrap();
    let src = p.by_name("src").unwrap();
    launch_recording::push_all(&src, data);
    let msg = launch_recording::eos_or_error(&p, 30, "the recording decodes to its end");
    p.set_state(gst::State::Null).unwrap();
    assert_eq!(msg.type_(), gst::MessageType::Eos, "{msg:?}");
    let header = header.lock().unwrap().expect("the demuxer's caps");
    let frames = frames.lock().unwrap().clone();
    let mut ends = ends.lock().unwrap().clone();
    assert_eq!(ends.len(), 2, "at least two frames");
    let last = ends.pop().unwrap();
    Decoded {
        header,
        sizes: frames,
        first: ends.pop().unwrap(),
        last,
    }
}

/// A video track recorded at `first`, then applyConstraints to `then`
/// mid-recording: the recording goes on, scaled to the first size; the
/// file's header and every frame in it have that size.
fn size_change_keeps_the_first_size(first: (i32, i32), then: (i32, i32)) -> (Frame, Frame) {
    let r = recorder(
        &format!(
            r#"{{"video":{{"width":{{"exact":{}}},"height":{{"exact":{}}}}}}}"#,
            first.0, first.1
        ),
        "video/webm;codecs=vp8",
    );
    r.play();
    assert!(r.start(250));
    r.chunks(3, 15);
    let track = r.tracks().pop().expect("the video track");
    let result = track.emit_by_name::<gst::Structure>(
        "apply-constraints",
        &[&format!(
            r#"{{"width":{{"exact":{}}},"height":{{"exact":{}}}}}"#,
            then.0, then.1
        )],
    );
    assert!(result.get::<bool>("success").unwrap(), "{result}");
    // The new size reached the recorder: its scaler's input has it.
    let bin = r.rec.downcast_ref::<gst::Bin>().unwrap();
    let scaler = bin
        .children()
        .into_iter()
        .find(|e| e.factory().unwrap().name() == "videoconvertscale")
        .expect("the video branch's scaler");
    let scaler_in = scaler.static_pad("sink").unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while scaler_in
        .current_caps()
        .is_none_or(|c| c.structure(0).unwrap().get::<i32>("width").unwrap() != then.0)
    {
        assert!(
            Instant::now() < deadline,
            "the track never reached {then:?}: {:?}",
            scaler_in.current_caps()
        );
        r.rx.recv_timeout(Duration::from_millis(50)).ok();
    }
    // The recording goes on after the change.
    r.chunks(4, 15);
    assert_eq!(r.state(), "recording");
    let tail = r.stop_and_wait();
    assert!(
        !r.summary().iter().any(|e| e.starts_with("Error")),
        "{:?}",
        r.summary()
    );
    assert!(matches!(tail[tail.len() - 2], Ev::Data(..)));
    let bus = r.pipeline.bus().unwrap();
    assert!(
        bus.pop_filtered(&[gst::MessageType::Error]).is_none(),
        "no error on the bus"
    );
    let Decoded {
        header,
        sizes: frames,
        first: first_frame,
        last: last_frame,
    } = decoded(&r.file());
    assert_eq!(header, first, "the header keeps the first size");
    // About 7 timeslices of 250 ms at 30 fps, before and after the change.
    assert!(frames.len() >= 40, "{} frames", frames.len());
    let wrong: Vec<_> = frames.iter().filter(|s| **s != header).collect();
    assert!(
        wrong.is_empty(),
        "{} of {} frames are not {header:?}: {wrong:?}",
        wrong.len(),
        frames.len()
    );
    // A new recording takes the track's size of now.
    let before = r.data().len();
    assert!(r.start(250));
    r.chunks(3, 15);
    r.stop_and_wait();
    let again: Vec<u8> = r.data()[before..]
        .iter()
        .flat_map(|(d, _)| d.iter().copied())
        .collect();
    let Decoded {
        header,
        sizes: frames,
        ..
    } = decoded(&again);
    assert_eq!(header, then, "the next recording is at the new size");
    assert!(frames.iter().all(|s| *s == then), "{frames:?}");
    (first_frame, last_frame)
}

#[test]
fn a_track_that_grows_while_recording_is_scaled_to_the_first_size() {
    size_change_keeps_the_first_size((320, 240), (640, 480));
}

#[test]
fn a_track_that_shrinks_while_recording_is_scaled_to_the_first_size() {
    size_change_keeps_the_first_size((640, 480), (320, 240));
}

#[test]
fn a_wider_track_is_letterboxed_to_the_first_size() {
    // 4:3, then 16:9: the picture keeps its aspect ratio, 640x360 between
    // black bands of 60 rows. The fake camera's SMPTE bars are bright from
    // the top row down.
    let (first, last) = size_change_keeps_the_first_size((640, 480), (1280, 720));
    let (top, bars) = (mean_luma(&first, 0..50), mean_luma(&first, 70..200));
    assert!(top > 100.0 && bars > 100.0, "before: {top} {bars}");
    let (top, bars, bottom) = (
        mean_luma(&last, 0..50),
        mean_luma(&last, 70..200),
        mean_luma(&last, 430..480),
    );
    assert!(top < 30.0, "a black band on top: {top}");
    assert!(bottom < 30.0, "a black band below: {bottom}");
    assert!(bars > 100.0, "the picture between: {bars}");
}

#[test]
fn a_stream_that_is_not_a_mediastream_is_refused() {
    init();
    let warnings = Arc::new(Mutex::new(Vec::<String>::new()));
    let w = warnings.clone();
    let handler = gst::glib::log_set_handler(
        Some("mediarecorder"),
        gst::glib::LogLevels::LEVEL_WARNING,
        false,
        false,
        move |_, _, message| w.lock().unwrap().push(message.to_owned()),
    );
    let pipeline = gst::Pipeline::new();
    let rec = gst::ElementFactory::make("mediarecorder")
        .name("rec")
        .property("auto-start", false)
        .build()
        .unwrap();
    let pattern = gst::ElementFactory::make("videotestsrc")
        .name("pattern")
        .build()
        .unwrap();
    let stream = gst::ElementFactory::make("mediastream")
        .property("constraints", r#"{"video":{"width":320}}"#)
        .build()
        .unwrap();
    pipeline.add_many([&rec, &pattern, &stream]).unwrap();
    rec.set_property("stream", &pattern);
    assert_eq!(rec.property::<Option<gst::Element>>("stream"), None);
    assert!(rec.sink_pads().is_empty(), "nothing was linked");
    assert!(pattern.static_pad("src").unwrap().peer().is_none());
    // A stream set before is kept.
    rec.set_property("stream", &stream);
    rec.set_property("stream", &pattern);
    assert_eq!(
        rec.property::<Option<gst::Element>>("stream").as_ref(),
        Some(&stream)
    );
    gst::glib::log_remove_handler(Some("mediarecorder"), handler);
    let warnings = warnings.lock().unwrap().clone();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert_eq!(
        warnings[0],
        "rec: stream must be a mediastream element, not 'pattern' (GstVideoTestSrc); the property keeps its value"
    );
}

#[test]
fn a_huge_mime_type_is_cut_in_messages() {
    let huge = format!("video/webm;codecs={}", "v".repeat(1 << 20));
    let r = recorder(r#"{"video":{"width":320}}"#, &huge);
    let supported = r.rec.emit_by_name::<bool>("is-type-supported", &[&huge]);
    assert!(!supported);
    r.play();
    assert!(!r.start(0));
    assert_eq!(r.thrown(), "NotSupportedError");
    let message = r
        .last
        .borrow()
        .as_ref()
        .unwrap()
        .get::<String>("message")
        .unwrap();
    assert!(message.len() < 500, "{} bytes", message.len());
    assert!(
        message.contains(&format!("… ({} characters)", huge.len())),
        "{message}"
    );
    // With auto-start: the element error is as short.
    init();
    let p = gst::Pipeline::new();
    let stream = gst::ElementFactory::make("mediastream")
        .property("constraints", r#"{"video":{"width":320}}"#)
        .build()
        .unwrap();
    let rec = gst::ElementFactory::make("mediarecorder")
        .property("mime-type", &huge)
        .build()
        .unwrap();
    p.add_many([&stream, &rec]).unwrap();
    rec.set_property("stream", &stream);
    p.set_state(gst::State::Playing).unwrap();
    let (err, details) = track::error_details(&p);
    assert!(err.message().len() < 500, "{} bytes", err.message().len());
    assert!(details.get::<String>("message").unwrap().len() < 500);
    p.set_state(gst::State::Null).unwrap();
}

#[test]
fn a_failing_fsync_is_an_error_before_stopped() {
    let path =
        std::env::temp_dir().join(format!("mediarecorder-fsync-{}.webm", std::process::id()));
    let r = recorder(r#"{"video":{"width":320}}"#, "video/webm;codecs=vp8");
    r.rec.set_property("location", path.to_str().unwrap());
    r.play();
    assert!(r.start(250));
    r.chunks(2, 15);
    gstmediastream::fault::inject_failure(&format!("mediarecorder:fsync:{}", path.display()));
    let tail = r.stop_and_wait();
    let _ = std::fs::remove_file(&path);
    let n = tail.len();
    assert!(n >= 3, "{tail:?}");
    assert!(matches!(tail[n - 3], Ev::Data(..)), "{:?}", r.summary());
    let Ev::Error(name, message) = &tail[n - 2] else {
        panic!("the error, then stopped: {:?}", r.summary())
    };
    assert_eq!(name, "UnknownError");
    assert!(
        message.contains("(fsync): an injected fsync failure"),
        "{message}"
    );
    let (err, details) = track::error_details(&r.pipeline);
    assert!(err.matches(gst::ResourceError::Write), "{err:?}");
    assert_eq!(details.get::<String>("name").unwrap(), "UnknownError");
    assert_eq!(r.state(), "inactive");
}

const TMPFS_ENV: &str = "MEDIARECORDER_TEST_TMPFS";

/// Runs the test `name` of this binary again in a mount namespace of its
/// own with a 256 KiB tmpfs on a fresh folder: inside, Some(that folder);
/// outside, None once the inner run passed (nothing stays mounted, even if
/// the run is killed). Needs root (CAP_SYS_ADMIN): without it the test
/// fails when CI is set and is skipped, saying why, elsewhere.
fn in_a_small_tmpfs(name: &str) -> Option<std::path::PathBuf> {
    if let Some(dir) = std::env::var_os(TMPFS_ENV) {
        return Some(dir.into());
    }
    let dir = std::env::temp_dir().join(format!("mediarecorder-tmpfs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mount = "mount -t tmpfs -o size=256k tmpfs \"$0\" && exec \"$@\"";
    let probe = std::process::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", mount])
        .arg(&dir)
        .arg("true")
        .output();
    let why = match probe {
        Err(e) => Some(format!("cannot run unshare (package util-linux): {e}")),
        Ok(o) if !o.status.success() => Some(format!(
            "cannot mount a tmpfs in a mount namespace of its own (root or CAP_SYS_ADMIN needed): {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Ok(_) => None,
    };
    if let Some(why) = why {
        let _ = std::fs::remove_dir(&dir);
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but {name} cannot run: {why}"
        );
        eprintln!("SKIPPED: {why}");
        return None;
    }
    let out = std::process::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", mount])
        .arg(&dir)
        .arg(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(TMPFS_ENV, &dir)
        .output()
        .expect("unshare runs");
    let _ = std::fs::remove_dir(&dir);
    // Indented: the inner `test result:` line is not a second test.
    for line in String::from_utf8_lossy(&out.stdout)
        .lines()
        .chain(String::from_utf8_lossy(&out.stderr).lines())
    {
        eprintln!("    [tmpfs] {line}");
    }
    assert!(
        out.status.success(),
        "{name} failed in its tmpfs (its output is above)"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("test result: ok. 1 passed"),
        "{name} did not run in its tmpfs (its output is above)"
    );
    None
}

#[test]
fn a_full_disk_is_one_error_and_the_file_ends_at_a_whole_chunk() {
    let Some(dir) = in_a_small_tmpfs("a_full_disk_is_one_error_and_the_file_ends_at_a_whole_chunk")
    else {
        return;
    };
    let path = dir.join("rec.webm");
    let r = recorder(
        r#"{"video":{"width":640,"height":480},"audio":true}"#,
        "video/webm;codecs=vp8,opus",
    );
    r.rec.set_property("location", path.to_str().unwrap());
    // About 250 kB a second: the 256 KiB fill within seconds.
    r.rec.set_property("video-bits-per-second", 2_000_000u32);
    r.play();
    assert!(r.start(250));
    r.until(30, |e| matches!(e, Ev::Error(..)));
    r.until(20, |e| *e == Ev::Stop);
    assert_eq!(r.state(), "inactive");
    let log = r.log.lock().unwrap().clone();
    let errors: Vec<usize> = log
        .iter()
        .enumerate()
        .filter_map(|(i, e)| matches!(e, Ev::Error(..)).then_some(i))
        .collect();
    assert_eq!(errors.len(), 1, "one error: {:?}", r.summary());
    let Ev::Error(name, message) = &log[errors[0]] else {
        unreachable!()
    };
    assert_eq!(name, "UnknownError");
    assert!(
        message.contains("No space left on device") && message.contains("rec.webm"),
        "{message}"
    );
    // The error comes right after the chunk that did not fit; stopped last.
    assert!(
        matches!(log[errors[0] - 1], Ev::Data(..)),
        "{:?}",
        r.summary()
    );
    assert_eq!(log.last(), Some(&Ev::Stop));
    let chunks: Vec<&Vec<u8>> = log[..errors[0] - 1]
        .iter()
        .filter_map(|e| match e {
            Ev::Data(d, _) => Some(d),
            _ => None,
        })
        .collect();
    assert!(chunks.len() >= 2, "{:?}", r.summary());
    let whole: Vec<u8> = chunks.iter().flat_map(|d| d.iter().copied()).collect();
    // One element error, in the resource domain.
    let bus = r.pipeline.bus().unwrap();
    let mut bus_errors = Vec::new();
    while let Some(m) = bus.pop_filtered(&[gst::MessageType::Error]) {
        bus_errors.push(m);
    }
    assert_eq!(bus_errors.len(), 1, "{bus_errors:?}");
    let gst::MessageView::Error(e) = bus_errors[0].view() else {
        unreachable!()
    };
    assert!(e.error().matches(gst::ResourceError::Write), "{e:?}");
    let details = e.details().unwrap();
    assert_eq!(details.get::<String>("name").unwrap(), "UnknownError");
    // Nothing is written after the failure, even while the pipeline runs
    // on and stops: the file is every chunk before it, whole.
    assert_eq!(std::fs::read(&path).unwrap(), whole);
    r.pipeline.set_state(gst::State::Null).unwrap();
    let file = std::fs::read(&path).unwrap();
    assert!(
        file == whole,
        "{} bytes, not the {} of the whole chunks",
        file.len(),
        whole.len()
    );
    // It plays to the last whole chunk: up to where the failed one began.
    let Ev::Data(_, failed_at) = &log[errors[0] - 1] else {
        unreachable!()
    };
    let d = demux(&file, "video/webm");
    assert_eq!(d.kinds(), ["audio/x-opus", "video/x-vp8"], "{d:?}");
    let end = d.duration().mseconds() as f64;
    assert!(
        (end - failed_at).abs() <= 500.0,
        "the file plays {end} ms; the chunk that failed began at {failed_at} ms"
    );
    // After NULL, with space again, the same recorder writes a new file.
    std::fs::remove_file(&path).unwrap();
    let again = dir.join("again.webm");
    r.rec.set_property("location", again.to_str().unwrap());
    r.rec.set_property("video-bits-per-second", 200_000u32);
    let before = r.log.lock().unwrap().len();
    r.play();
    assert!(r.start(250));
    r.chunks(3, 15);
    r.stop_and_wait();
    let log = r.log.lock().unwrap()[before..].to_vec();
    assert!(
        !log.iter().any(|e| matches!(e, Ev::Error(..))),
        "{:?}",
        r.summary()
    );
    let chunks: Vec<u8> = log
        .iter()
        .filter_map(|e| match e {
            Ev::Data(d, _) => Some(d.iter().copied()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(std::fs::read(&again).unwrap(), chunks);
    assert_eq!(
        demux(&chunks, "video/webm").kinds(),
        ["audio/x-opus", "video/x-vp8"]
    );
}

/// An element of the recording that fails: `error` (UnknownError) names
/// the element and says what it said, then the last chunk and `stop`.
#[test]
fn a_failing_element_of_the_recording_is_named_in_the_error() {
    let r = started(r#"{"video":{"width":320}}"#, "", 0);
    r.until(5, |e| matches!(e, Ev::Start(_)));
    let mux = webm_muxer(&r);
    let name = mux.name().to_string();
    mux.post_message(
        gst::message::Error::builder(gst::StreamError::Mux, "Could not multiplex stream.")
            .debug("Caps changes are not supported by Matroska")
            .src(&mux)
            .build(),
    )
    .unwrap();
    let events = r.until(10, |e| *e == Ev::Stop);
    let Some(Ev::Error(w3c, message)) = events.iter().find(|e| matches!(e, Ev::Error(..))) else {
        panic!("no error: {events:?}")
    };
    assert_eq!(w3c, "UnknownError");
    assert!(
        message.contains(&name) && message.contains("Caps changes are not supported"),
        "{message}"
    );
    assert_eq!(r.state(), "inactive");
}
