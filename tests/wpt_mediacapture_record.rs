// SPDX-License-Identifier: MPL-2.0

//! WPT `mediacapture-record/` ported to `mediarecorder`: one test per WPT
//! case, named after the WPT file and the case's title, asserting what the
//! WPT case asserts (our own code; the JavaScript was read for what it
//! checks). docs/conformance.md lists every case of the folder, which are
//! not applicable and why, the deliberate differences, and each result.
//!
//! `new MediaRecorder(stream, {mimeType})` is a `mediarecorder` (auto-start
//! off) whose pads take a fake-device `mediastream`'s tracks; the methods
//! are its action signals (a thrown exception is a `success=false` result
//! with the W3C name); the events are its signals, recorded in order.
//! WPT's canvas and WebAudio streams (utils/sources.js) are the fake
//! camera and microphone here.

#[path = "common/track.rs"]
mod track;
#[path = "webrtc_common/mod.rs"]
mod webrtc_common;

use gst::prelude::*;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn init() {
    track::init_builtin();
}

/// A recorder event, by its DOM name.
#[derive(Debug, Clone, PartialEq)]
enum Ev {
    Start,
    Data(usize),
    Pause,
    Resume,
    Error(String),
    Stop,
}

impl Ev {
    fn dom(&self) -> &'static str {
        match self {
            Ev::Start => "start",
            Ev::Data(_) => "dataavailable",
            Ev::Pause => "pause",
            Ev::Resume => "resume",
            Ev::Error(_) => "error",
            Ev::Stop => "stop",
        }
    }
}

struct Rec {
    parts: track::StreamRecorder,
    rx: mpsc::Receiver<Ev>,
    log: Arc<Mutex<Vec<Ev>>>,
    /// mime-type as read inside each `started` handler.
    mime_at_start: Arc<Mutex<Vec<String>>>,
    /// state as read inside each `error` handler.
    state_at_error: Arc<Mutex<Vec<String>>>,
}

const VIDEO: &str = r#"{"video": {"width": 320}}"#;
const AUDIO: &str = r#"{"audio": true}"#;
const AUDIO_VIDEO: &str = r#"{"video": {"width": 320}, "audio": true}"#;

/// `new MediaRecorder(getUserMedia(constraints), {mimeType: mime})`, playing
/// (`new MediaStream()` when `constraints` is empty).
fn recorder(constraints: &str, mime: &str) -> Rec {
    init();
    let parts = track::StreamRecorder::new(constraints, mime);
    let (pipeline, rec) = (&parts.pipeline, &parts.rec);
    let (tx, rx) = mpsc::channel();
    let log = Arc::new(Mutex::new(Vec::new()));
    let mime_at_start = Arc::new(Mutex::new(Vec::new()));
    macro_rules! on {
        ($name:expr, |$args:ident| $ev:expr) => {{
            let tx = tx.clone();
            let log = log.clone();
            rec.connect($name, false, move |$args| {
                let ev = $ev;
                log.lock().unwrap().push(ev.clone());
                let _ = tx.send(ev);
                None
            });
        }};
    }
    {
        let m = mime_at_start.clone();
        rec.connect("started", false, move |a| {
            let r = a[0].get::<gst::Element>().unwrap();
            m.lock().unwrap().push(r.property::<String>("mime-type"));
            None
        });
    }
    let state_at_error = Arc::new(Mutex::new(Vec::new()));
    {
        let st = state_at_error.clone();
        rec.connect("error", false, move |a| {
            let r = a[0].get::<gst::Element>().unwrap();
            let v = r.property_value("state");
            let (_, e) = gst::glib::EnumValue::from_value(&v).unwrap();
            st.lock().unwrap().push(e.nick().to_owned());
            None
        });
    }
    on!("started", |_a| Ev::Start);
    on!("dataavailable", |a| Ev::Data(
        a[1].get::<gst::glib::Bytes>().unwrap().len()
    ));
    on!("paused", |_a| Ev::Pause);
    on!("resumed", |_a| Ev::Resume);
    on!("error", |a| Ev::Error(a[1].get::<String>().unwrap()));
    on!("stopped", |_a| Ev::Stop);
    pipeline.set_state(gst::State::Playing).unwrap();
    let (ok, state, _) = pipeline.state(gst::ClockTime::from_seconds(10));
    ok.unwrap();
    assert_eq!(state, gst::State::Playing);
    // getUserMedia resolved: the tracks have their settings, which the
    // recorder knows once their caps reached it (live sources reach
    // PLAYING first). Its default bitrates follow from them.
    track::wait_until("the tracks' caps at the recorder", || {
        rec.sink_pads()
            .iter()
            .all(|p| p.peer().is_none() || p.current_caps().is_some())
    });
    Rec {
        parts,
        rx,
        log,
        mime_at_start,
        state_at_error,
    }
}

/// The recorder, started (start(0)).
fn started(constraints: &str, mime: &str) -> Rec {
    let r = recorder(constraints, mime);
    r.start(0).unwrap();
    r
}

/// The recorder, started and recording.
fn recording(constraints: &str, mime: &str) -> Rec {
    let r = started(constraints, mime);
    r.expect_state("recording");
    r
}

/// Sends `rec`'s dataavailable and stop events to `tx`.
fn send_data_and_stop(rec: &gst::Element, tx: mpsc::Sender<Ev>) {
    let t = tx.clone();
    rec.connect("dataavailable", false, move |a| {
        let _ = t.send(Ev::Data(a[1].get::<gst::glib::Bytes>().unwrap().len()));
        None
    });
    rec.connect("stopped", false, move |_| {
        let _ = tx.send(Ev::Stop);
        None
    });
}

/// An action's outcome: Ok, or the thrown exception's W3C name.
fn outcome(result: gst::Structure) -> Result<(), String> {
    assert_eq!(result.name(), "mediarecorder-result");
    if result.get::<bool>("success").unwrap() {
        Ok(())
    } else {
        Err(result.get::<String>("name").unwrap())
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
    fn start(&self, timeslice: u32) -> Result<(), String> {
        outcome(self.rec.emit_by_name("start", &[&timeslice]))
    }

    fn call(&self, action: &str) -> Result<(), String> {
        outcome(self.rec.emit_by_name(action, &[]))
    }

    /// stop(), then the stop event.
    fn stop(&self) {
        self.call("stop").unwrap();
        self.wait(Ev::Stop);
    }

    fn state(&self) -> String {
        let v = self.rec.property_value("state");
        let (_, e) = gst::glib::EnumValue::from_value(&v).unwrap();
        e.nick().to_owned()
    }

    /// The state is `want`; if not, the failure shows what happened: every
    /// event, and the errors on the bus (the recorder names a failing
    /// element there).
    fn expect_state(&self, want: &str) {
        let got = self.state();
        if got == want {
            return;
        }
        // What is still on its way (an error, stop) is shown too.
        let end = Instant::now() + Duration::from_secs(2);
        while self
            .rx
            .recv_timeout(end.saturating_duration_since(Instant::now()))
            .is_ok()
        {}
        let bus = self.pipeline.bus().unwrap();
        let errors: Vec<String> =
            std::iter::from_fn(|| bus.pop_filtered(&[gst::MessageType::Error]))
                .map(|m| match m.view() {
                    gst::MessageView::Error(e) => format!("{} ({:?})", e.error(), e.debug()),
                    _ => unreachable!(),
                })
                .collect();
        panic!(
            "state {got}, expected {want}; events {:?}; bus errors {errors:?}",
            self.log.lock().unwrap()
        );
    }

    fn mime(&self) -> String {
        self.rec.property::<String>("mime-type")
    }

    /// Events until (and with) the first that `f` accepts, within `secs`.
    fn until(&self, secs: u64, f: impl FnMut(&Ev) -> bool) -> Vec<Ev> {
        track::events_until(&self.rx, secs, f, || self.events())
    }

    fn wait(&self, ev: Ev) {
        self.until(20, |e| {
            std::mem::discriminant(e) == std::mem::discriminant(&ev)
        });
    }

    /// Every event so far, by DOM name.
    fn events(&self) -> Vec<&'static str> {
        self.log.lock().unwrap().iter().map(Ev::dom).collect()
    }

    /// The order in which each kind of event first fired (what WPT sees
    /// with one promise per event).
    fn first_of_each(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for e in self.events() {
            if !out.contains(&e) {
                out.push(e);
            }
        }
        out
    }

    /// The stream's tracks of `kind`.
    fn tracks(&self, kind: &str) -> Vec<gst::Element> {
        track::children_made_by(&self.stream, "mediastreamsrc")
            .into_iter()
            .filter(|t| {
                let v = t.property_value("kind");
                let (_, e) = gst::glib::EnumValue::from_value(&v).unwrap();
                e.nick() == kind
            })
            .collect()
    }

    fn stop_track(&self, kind: &str) {
        for t in self.tracks(kind) {
            t.emit_by_name::<()>("stop", &[]);
        }
    }

    /// stream.removeTrack(the track of `kind`).
    fn remove_track(&self, kind: &str) {
        let t = &self.tracks(kind)[0];
        let id = t.property::<String>("track-id");
        assert!(self.stream.emit_by_name::<bool>("remove-track", &[&id]));
    }

    /// stop() succeeds, and no event comes within a short while.
    fn stop_without_event(&self) {
        self.call("stop").unwrap();
        self.no_event_now();
    }

    /// No event comes within a short while (WPT's `step_timeout(r, 0)` race).
    fn no_event_now(&self) {
        if let Ok(e) = self.rx.recv_timeout(Duration::from_millis(300)) {
            panic!("unexpected event {e:?}; all: {:?}", self.events());
        }
    }
}

impl Drop for Rec {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

fn is_type_supported(mime: &str) -> bool {
    init();
    let rec = gst::ElementFactory::make("mediarecorder").build().unwrap();
    rec.emit_by_name::<bool>("is-type-supported", &[&mime])
}

/// WPT's `assertSequenceIn(actual, expected)`, as written there (after a
/// match the search restarts at the match's index in the remaining slice).
fn assert_sequence_in(actual: &[&str], expected: &[&str]) {
    let mut i = 0;
    for e in actual {
        let j = expected[i..]
            .iter()
            .position(|x| x == e)
            .unwrap_or_else(|| panic!("{e} is not in {:?} (all: {actual:?})", &expected[i..]));
        i = j + 1;
    }
}

// ---------------------------------------------------------------------
// MediaRecorder-error.html
// ---------------------------------------------------------------------

/// The checks of MediaRecorder-error's first two cases once the track set
/// changed: an error event named InvalidModificationError, and the
/// recorder inactive when it fires.
fn modification_error(r: &Rec) {
    let tail = r.until(20, |e| matches!(e, Ev::Error(_)));
    let Some(Ev::Error(name)) = tail.last() else {
        unreachable!()
    };
    assert_eq!(name, "InvalidModificationError");
    assert_eq!(
        r.state_at_error.lock().unwrap().first().map(String::as_str),
        Some("inactive"),
        "the state when error fires"
    );
}

/// MediaRecorder-error.html, "MediaRecorder will stop recording when any of
/// track is added and error event will be fired": a video stream's recorder
/// started; an audio track added to the stream: error
/// (InvalidModificationError) with the recorder inactive.
#[test]
fn mediarecorder_error_mediarecorder_will_stop_recording_when_any_of_track_is_added_and_error_event_will_be_fired()
 {
    let r = recording(VIDEO, "");
    track::add_live_source(&r.pipeline, &r.stream, "audiotestsrc");
    modification_error(&r);
}

/// MediaRecorder-error.html, "MediaRecorder will stop recording when any of
/// track is removed and error event will be fired".
#[test]
fn mediarecorder_error_mediarecorder_will_stop_recording_when_any_of_track_is_removed_and_error_event_will_be_fired()
 {
    let r = recording(VIDEO, "");
    r.remove_track("video");
    modification_error(&r);
}

/// MediaRecorder-error.html, "MediaRecorder cannot start recording when
/// MediaRecorder' state is not inactive and an InvalidStateError should be
/// thrown".
#[test]
fn mediarecorder_error_mediarecorder_cannot_start_recording_when_mediarecorder_state_is_not_inactive_and_an_invalidstateerror_should_be_thrown()
 {
    let r = recording(VIDEO, "");
    assert_eq!(r.start(0), Err("InvalidStateError".into()));
}

// ---------------------------------------------------------------------
// MediaRecorder-disabled-tracks.https.html
// ---------------------------------------------------------------------

/// The case of MediaRecorder-disabled-tracks for `constraints`: every track
/// disabled, the recorder starts (inactive before, recording after),
/// requestData gives a dataavailable while recording, then stop gives
/// stop, with no error and no stop before.
fn disabled_tracks_record(constraints: &str) {
    let r = recorder(constraints, "");
    for t in track::children_made_by(&r.stream, "mediastreamsrc") {
        t.set_property("enabled", false);
    }
    r.expect_state("inactive");
    r.start(0).unwrap();
    r.expect_state("recording");
    r.call("request-data").unwrap();
    r.wait(Ev::Data(0));
    r.expect_state("recording");
    r.stop();
    let events = r.events();
    assert!(!events.contains(&"error"), "{events:?}");
    assert_eq!(events.iter().filter(|e| **e == "stop").count(), 1);
}

/// MediaRecorder-disabled-tracks.https.html, "video-only".
#[test]
fn mediarecorder_disabled_tracks_video_only() {
    disabled_tracks_record(VIDEO);
}

/// MediaRecorder-disabled-tracks.https.html, "audio-only".
#[test]
fn mediarecorder_disabled_tracks_audio_only() {
    disabled_tracks_record(AUDIO);
}

/// MediaRecorder-disabled-tracks.https.html, "audio-video".
#[test]
fn mediarecorder_disabled_tracks_audio_video() {
    disabled_tracks_record(AUDIO_VIDEO);
}

// ---------------------------------------------------------------------
// MediaRecorder-pause-resume.html
// ---------------------------------------------------------------------

/// MediaRecorder-pause-resume.html, "MediaRecorder handles pause() and
/// resume() calls appropriately in state and events": the state changes at
/// once on each call, a second pause/resume changes nothing, and the events
/// are start, pause, resume, dataavailable, stop.
#[test]
fn mediarecorder_pause_resume_mediarecorder_handles_pause_and_resume_calls_appropriately_in_state_and_events()
 {
    let r = recording(VIDEO, "");
    r.wait(Ev::Start);
    r.call("pause").unwrap();
    r.expect_state("paused");
    r.call("pause").unwrap();
    r.expect_state("paused");
    r.wait(Ev::Pause);
    r.call("resume").unwrap();
    r.expect_state("recording");
    r.call("resume").unwrap();
    r.expect_state("recording");
    r.wait(Ev::Resume);
    r.stop();
    assert_eq!(
        r.events(),
        ["start", "pause", "resume", "dataavailable", "stop"]
    );
}

/// MediaRecorder-pause-resume.html, "MediaRecorder handles stop() in paused
/// state appropriately": stop() while paused makes the state inactive at
/// once; a new start() records again; events start, pause, dataavailable,
/// stop, start.
#[test]
fn mediarecorder_pause_resume_mediarecorder_handles_stop_in_paused_state_appropriately() {
    let r = recording(VIDEO, "");
    r.wait(Ev::Start);
    r.call("pause").unwrap();
    r.expect_state("paused");
    r.wait(Ev::Pause);
    r.call("stop").unwrap();
    r.expect_state("inactive");
    r.wait(Ev::Stop);
    r.start(0).unwrap();
    r.expect_state("recording");
    r.wait(Ev::Start);
    assert_eq!(
        r.events(),
        ["start", "pause", "dataavailable", "stop", "start"]
    );
}

// ---------------------------------------------------------------------
// MediaRecorder-start.html
// ---------------------------------------------------------------------

/// MediaRecorder-start.html, "MediaRecorder cannot record the stream using
/// the current configuration": an audio-only type (the first of audio/aac,
/// audio/ogg, audio/webm supported) for a video stream: start() throws
/// NotSupportedError.
#[test]
fn mediarecorder_start_mediarecorder_cannot_record_the_stream_using_the_current_configuration() {
    let mime = ["audio/aac", "audio/ogg", "audio/webm"]
        .into_iter()
        .find(|m| is_type_supported(m))
        .expect("an audio type is supported");
    let r = recorder(VIDEO, mime);
    assert_eq!(r.start(0), Err("NotSupportedError".into()));
    r.expect_state("inactive");
}

// ---------------------------------------------------------------------
// MediaRecorder-stop.html (each case runs for every variant of the page
// whose type is supported; WPT ends an unsupported variant's case at once)
// ---------------------------------------------------------------------

const STOP_VARIANTS: [&str; 16] = [
    "",
    "video/webm;codecs=vp8,opus",
    "video/webm;codecs=vp9,opus",
    "video/webm;codecs=av1,opus",
    "video/mp4;codecs=avc1.64003E,mp4a.40.2",
    "video/mp4;codecs=avc3.64003E,mp4a.40.2",
    "video/mp4;codecs=vp9,opus",
    "video/mp4;codecs=av01,opus",
    "video/mp4;codecs=av01,mp4a.40.2",
    "video/mp4;codecs=hvc1.1.6.L186.B0,opus",
    "video/mp4;codecs=hev1.1.6.L186.B0,opus",
    "video/mp4;codecs=hvc1.1.6.L186.B0,mp4a.40.2",
    "video/mp4;codecs=hev1.1.6.L186.B0,mp4a.40.2",
    "video/x-matroska;codecs=hvc1.1.6.L186.B0,opus",
    "video/x-matroska;codecs=hev1.1.6.L186.B0,opus",
    "video/mp4",
];

/// The page's variants this machine records ('' and every supported type;
/// WPT ends an unsupported variant's case at once). The High profile H.264
/// ones (`avc1.64003E`, `avc3.64003E`) are refused: openh264enc writes
/// Constrained Baseline only.
fn stop_variants() -> impl Iterator<Item = &'static str> {
    STOP_VARIANTS
        .into_iter()
        .filter(|m| m.is_empty() || is_type_supported(m))
}

/// start(); stop() on an audio/video recorder of `mime`, until the stop
/// event.
fn stopped_synchronously(mime: &str) -> Rec {
    let r = started(AUDIO_VIDEO, mime);
    r.stop();
    r
}

/// MediaRecorder-stop.html's "MediaRecorder will fire start event even if a
/// track is removed synchronously" for `mime`.
fn start_fires_though_a_track_is_removed_synchronously(mime: &str) {
    let r = started(AUDIO_VIDEO, mime);
    r.remove_track("audio");
    r.wait(Ev::Stop);
    assert_eq!(
        r.first_of_each(),
        ["start", "error", "dataavailable", "stop"],
        "{mime}"
    );
}

/// MediaRecorder-stop.html's MP4 variants supported here (`video/mp4`,
/// VP9 and AV1 with Opus): "MediaRecorder will fire start event even if
/// stopped synchronously" and "... even if a track is removed
/// synchronously" for each, ten times: a stop before any data once left
/// mp4mux waiting for ever on pads that never had caps.
#[test]
fn mediarecorder_stop_mp4_variants() {
    for _ in 0..10 {
        for mime in STOP_VARIANTS
            .into_iter()
            .filter(|m| m.starts_with("video/mp4") && is_type_supported(m))
        {
            let r = stopped_synchronously(mime);
            assert_eq!(
                r.first_of_each(),
                ["start", "dataavailable", "stop"],
                "{mime}"
            );
            start_fires_though_a_track_is_removed_synchronously(mime);
        }
    }
}

/// MediaRecorder-stop.html, "MediaRecorder will stop recording and fire a
/// stop event when all tracks are ended": WPT has the state stay recording
/// right after the last track ended (the spec stops in a later task), then
/// stop, inactive, events start, dataavailable, stop. A deliberate
/// difference (docs/conformance.md): the recording finishes as soon as the
/// track's EOS has gone through the encoder and muxer, which can be before
/// the track's `stop` returns; so right after it the state is recording or
/// already inactive, and the rest holds as WPT has it.
#[test]
fn mediarecorder_stop_mediarecorder_will_stop_recording_and_fire_a_stop_event_when_all_tracks_are_ended()
 {
    for mime in stop_variants() {
        let r = recorder(VIDEO, mime);
        assert_eq!(r.tracks("video").len(), 1);
        r.start(0).unwrap();
        assert_eq!(r.state(), "recording", "{mime}");
        r.stop_track("video");
        let right_after = r.state();
        assert!(
            right_after == "recording" || right_after == "inactive",
            "{mime}: right after the last track ended: {right_after}"
        );
        r.wait(Ev::Stop);
        assert_eq!(r.state(), "inactive", "{mime}");
        assert_sequence_in(&r.events(), &["start", "dataavailable", "stop"]);
        assert!(!r.events().contains(&"error"), "{mime}: {:?}", r.events());
    }
}

/// MediaRecorder-stop.html, "MediaRecorder will stop recording and fire a
/// stop event when stop() is called": inactive at once after stop().
#[test]
fn mediarecorder_stop_mediarecorder_will_stop_recording_and_fire_a_stop_event_when_stop_is_called()
{
    for mime in stop_variants() {
        let r = recording(VIDEO, mime);
        r.call("stop").unwrap();
        assert_eq!(r.state(), "inactive", "{mime}: right after stop()");
        r.wait(Ev::Stop);
        r.expect_state("inactive");
        assert_sequence_in(&r.events(), &["start", "dataavailable", "stop"]);
    }
}

/// MediaRecorder-stop.html, "MediaRecorder will not fire an exception when
/// stopped after creation": stop() on a new recorder succeeds and no stop
/// event fires.
#[test]
fn mediarecorder_stop_mediarecorder_will_not_fire_an_exception_when_stopped_after_creation() {
    for mime in stop_variants() {
        let r = recorder(VIDEO, mime);
        r.stop_without_event();
    }
}

/// MediaRecorder-stop.html, "MediaRecorder will not fire an exception when
/// stopped after having just been stopped".
#[test]
fn mediarecorder_stop_mediarecorder_will_not_fire_an_exception_when_stopped_after_having_just_been_stopped()
 {
    for mime in stop_variants() {
        let r = started(VIDEO, mime);
        r.stop();
        r.stop_without_event();
    }
}

/// MediaRecorder-stop.html, "MediaRecorder will not fire an exception when
/// stopped after having just been spontaneously stopped" (its track ended).
#[test]
fn mediarecorder_stop_mediarecorder_will_not_fire_an_exception_when_stopped_after_having_just_been_spontaneously_stopped()
 {
    for mime in stop_variants() {
        let r = started(VIDEO, mime);
        r.stop_track("video");
        r.wait(Ev::Stop);
        r.stop_without_event();
    }
}

/// MediaRecorder-stop.html, "MediaRecorder will fire start event even if
/// stopped synchronously": start(); stop(); then start, stop.
#[test]
fn mediarecorder_stop_mediarecorder_will_fire_start_event_even_if_stopped_synchronously() {
    for mime in stop_variants() {
        let r = stopped_synchronously(mime);
        let se: Vec<&str> = r
            .events()
            .into_iter()
            .filter(|e| *e == "start" || *e == "stop")
            .collect();
        assert_eq!(se, ["start", "stop"], "{mime}");
    }
}

/// MediaRecorder-stop.html, "MediaRecorder will fire start event even if a
/// track is removed synchronously": start(); removeTrack(audio); then
/// start, error, dataavailable, stop (the first of each).
#[test]
fn mediarecorder_stop_mediarecorder_will_fire_start_event_even_if_a_track_is_removed_synchronously()
{
    for mime in stop_variants() {
        start_fires_though_a_track_is_removed_synchronously(mime);
    }
}

/// MediaRecorder-stop.html, "MediaRecorder will fire only start and stop
/// events in a basic recording flow.": start(0), the first dataavailable,
/// stop(): events in the order start, dataavailable, stop. Deliberate
/// difference: `start` with timeslice 0 means no timeslice here (one chunk
/// at stop), where a browser's start(0) cuts chunks as often as it can; the
/// port starts with 100 ms.
#[test]
fn mediarecorder_stop_mediarecorder_will_fire_only_start_and_stop_events_in_a_basic_recording_flow()
{
    for mime in stop_variants() {
        let r = recorder(AUDIO_VIDEO, mime);
        r.start(100).unwrap();
        r.wait(Ev::Data(0));
        r.stop();
        assert_sequence_in(&r.events(), &["start", "dataavailable", "stop"]);
    }
}

/// MediaRecorder-stop.html, "MediaRecorder will not fire an error event if
/// a recorder is stopped synchronously after a track is removed":
/// getUserMedia audio+video, start, (a task later) removeTrack(audio) and
/// stop(). WPT: exactly start, dataavailable, stop, the error task having
/// been overtaken by stop(). A deliberate difference (docs/conformance.md):
/// `remove-track` fails the recording within the call, there being no
/// later task, so the state is inactive when it returns, `stop` does
/// nothing more, and the events are start, error, dataavailable, stop.
#[test]
fn mediarecorder_stop_mediarecorder_will_not_fire_an_error_event_if_a_recorder_is_stopped_synchronously_after_a_track_is_removed()
 {
    let r = started(AUDIO_VIDEO, "");
    r.wait(Ev::Start);
    r.remove_track("audio");
    assert_eq!(r.state(), "inactive", "right after remove-track");
    r.stop();
    assert_eq!(r.events(), ["start", "error", "dataavailable", "stop"]);
}

/// MediaRecorder-stop.html, "MediaRecorder will not fire an error event if
/// a recorder is stopped synchronously after all tracks are ended":
/// start, (a task later) both tracks stopped and stop(): exactly start,
/// dataavailable, stop.
#[test]
fn mediarecorder_stop_mediarecorder_will_not_fire_an_error_event_if_a_recorder_is_stopped_synchronously_after_all_tracks_are_ended()
 {
    let r = started(AUDIO_VIDEO, "");
    r.wait(Ev::Start);
    r.stop_track("audio");
    r.stop_track("video");
    r.stop();
    assert_eq!(r.events(), ["start", "dataavailable", "stop"]);
}

// ---------------------------------------------------------------------
// MediaRecorder-mimetype.html
// ---------------------------------------------------------------------

const AUDIO_ONLY_MIME_TYPES: [&str; 3] = ["audio/mp4", "audio/ogg", "audio/webm"];
const VIDEO_ONLY_MIME_TYPES: [&str; 3] = ["video/mp4", "video/webm", "video/x-matroska"];
const AUDIO_CODECS_MIME_TYPES: [&str; 4] = [
    "audio/ogg; codecs=\"vorbis\"",
    "audio/ogg; codecs=\"opus\"",
    "audio/webm; codecs=\"vorbis\"",
    "audio/webm; codecs=\"opus\"",
];
const VIDEO_CODECS_MIME_TYPES: [&str; 15] = [
    "video/webm; codecs=\"vp8\"",
    "video/webm; codecs=\"vp9\"",
    "video/webm; codecs=\"av1\"",
    "video/x-matroska; codecs=\"avc1\"",
    "video/x-matroska; codecs=\"hvc1\"",
    "video/x-matroska; codecs=\"hev1\"",
    "video/x-matroska; codecs=\"avc1.64001E\"",
    "video/x-matroska; codecs=\"hvc1.1.6.L123.00\"",
    "video/x-matroska; codecs=\"hev1.1.6.L123.00\"",
    "video/mp4; codecs=\"avc1\"",
    "video/mp4; codecs=\"hvc1\"",
    "video/mp4; codecs=\"hev1\"",
    "video/mp4; codecs=\"avc1.64001E\"",
    "video/mp4; codecs=\"hvc1.1.6.L123.00\"",
    "video/mp4; codecs=\"hev1.1.6.L123.00\"",
];
const AUDIO_VIDEO_MIME_TYPES: [&str; 17] = [
    "video/webm; codecs=\"vp8, vorbis\"",
    "video/webm; codecs=\"vp8, opus\"",
    "video/webm; codecs=\"vp9, vorbis\"",
    "video/webm; codecs=\"vp9, opus\"",
    "video/webm; codecs=\"av1, opus\"",
    "video/x-matroska; codecs=\"avc1, vorbis\"",
    "video/x-matroska; codecs=\"hvc1, opus\"",
    "video/x-matroska; codecs=\"hev1, opus\"",
    "video/x-matroska; codecs=\"avc1.64001E, vorbis\"",
    "video/x-matroska; codecs=\"hvc1.1.6.L123.00, opus\"",
    "video/x-matroska; codecs=\"hev1.1.6.L123.00, vorbis\"",
    "video/mp4; codecs=\"avc1, opus\"",
    "video/mp4; codecs=\"hvc1, vorbis\"",
    "video/mp4; codecs=\"hev1, vorbis\"",
    "video/mp4; codecs=\"avc1.64001E, opus\"",
    "video/mp4; codecs=\"hvc1.1.6.L123.00, vorbis\"",
    "video/mp4; codecs=\"hev1.1.6.L123.00, opus\"",
];

fn audio_mime_types() -> Vec<&'static str> {
    [
        &AUDIO_ONLY_MIME_TYPES[..],
        &AUDIO_CODECS_MIME_TYPES,
        &AUDIO_VIDEO_MIME_TYPES,
    ]
    .concat()
}

fn video_mime_types() -> Vec<&'static str> {
    [
        &VIDEO_ONLY_MIME_TYPES[..],
        &VIDEO_CODECS_MIME_TYPES,
        &AUDIO_VIDEO_MIME_TYPES,
    ]
    .concat()
}

fn all_mime_types() -> Vec<&'static str> {
    [
        &AUDIO_ONLY_MIME_TYPES[..],
        &AUDIO_CODECS_MIME_TYPES,
        &VIDEO_ONLY_MIME_TYPES,
        &VIDEO_CODECS_MIME_TYPES,
        &AUDIO_VIDEO_MIME_TYPES,
    ]
    .concat()
}

/// The deliberate difference for WPT's "constructor throws
/// NotSupportedError": a GObject property cannot throw, so `mime-type`
/// takes any string, `is-type-supported` says no, and `start` throws
/// NotSupportedError (docs/mediarecorder.md, docs/conformance.md).
fn unsupported_type_throws_at_start(constraints: &str, mime: &str) {
    assert!(!is_type_supported(mime), "{mime}");
    let r = recorder(constraints, mime);
    assert_eq!(r.mime(), mime, "the property takes the string as given");
    assert_eq!(r.start(0), Err("NotSupportedError".into()), "{mime}");
    r.expect_state("inactive");
}

/// MediaRecorder-mimetype.html, "MediaRecorder sets no default mimeType in
/// the constructor for audio".
#[test]
fn mediarecorder_mimetype_mediarecorder_sets_no_default_mimetype_in_the_constructor_for_audio() {
    assert_eq!(recorder(AUDIO, "").mime(), "");
}

/// MediaRecorder-mimetype.html, "MediaRecorder sets no default mimeType in
/// the constructor for video".
#[test]
fn mediarecorder_mimetype_mediarecorder_sets_no_default_mimetype_in_the_constructor_for_video() {
    assert_eq!(recorder(VIDEO, "").mime(), "");
}

/// MediaRecorder-mimetype.html, "MediaRecorder sets no default mimeType in
/// the constructor for audio/video".
#[test]
fn mediarecorder_mimetype_mediarecorder_sets_no_default_mimetype_in_the_constructor_for_audio_video()
 {
    assert_eq!(recorder(AUDIO_VIDEO, "").mime(), "");
}

/// MediaRecorder-mimetype.html, "MediaRecorder invalid audio mimeType
/// throws" (deliberate difference: it throws at start).
#[test]
fn mediarecorder_mimetype_mediarecorder_invalid_audio_mimetype_throws() {
    unsupported_type_throws_at_start(AUDIO, "audio/banana");
}

/// MediaRecorder-mimetype.html, "MediaRecorder invalid audio mimeType is
/// unsupported".
#[test]
fn mediarecorder_mimetype_mediarecorder_invalid_audio_mimetype_is_unsupported() {
    assert!(!is_type_supported("audio/banana"));
}

/// MediaRecorder-mimetype.html, "MediaRecorder invalid video mimeType
/// throws" (deliberate difference: it throws at start).
#[test]
fn mediarecorder_mimetype_mediarecorder_invalid_video_mimetype_throws() {
    unsupported_type_throws_at_start(VIDEO, "video/pineapple");
}

/// MediaRecorder-mimetype.html, "MediaRecorder invalid video mimeType is
/// unsupported".
#[test]
fn mediarecorder_mimetype_mediarecorder_invalid_video_mimetype_is_unsupported() {
    assert!(!is_type_supported("video/pineapple"));
}

/// MediaRecorder-mimetype.html, "Supported mimeType ${mimeType} is set
/// immediately after constructing" / "Unsupported mimeType ${mimeType}
/// throws", for every type of the page: a supported type reads back as
/// given before start; an unsupported one throws NotSupportedError (at
/// start: the deliberate difference).
#[test]
fn mediarecorder_mimetype_supported_mimetype_is_set_immediately_after_constructing_or_unsupported_mimetype_throws()
 {
    for mime in all_mime_types() {
        if is_type_supported(mime) {
            init();
            let rec = gst::ElementFactory::make("mediarecorder")
                .property("mime-type", mime)
                .build()
                .unwrap();
            assert_eq!(rec.property::<String>("mime-type"), mime);
        } else {
            unsupported_type_throws_at_start(AUDIO_VIDEO, mime);
        }
    }
}

/// The "start() does not throw with X" / "Unsupported X throws" loops of
/// MediaRecorder-mimetype for a stream of `constraints`.
fn start_does_not_throw_or_unsupported_throws(
    constraints: &str,
    types: &[&str],
    only_supported: bool,
) {
    for &mime in types {
        if is_type_supported(mime) {
            let r = recorder(constraints, mime);
            assert_eq!(r.start(0), Ok(()), "{mime} for {constraints}");
        } else if !only_supported {
            unsupported_type_throws_at_start(constraints, mime);
        }
    }
}

/// MediaRecorder-mimetype.html, "MediaRecorder start() does not throw with
/// ${mimeType} for audio" / "Unsupported mimeType ${mimeType} throws for
/// audio", for every audio type of the page.
#[test]
fn mediarecorder_mimetype_mediarecorder_start_does_not_throw_with_mimetype_for_audio() {
    start_does_not_throw_or_unsupported_throws(AUDIO, &audio_mime_types(), false);
}

/// MediaRecorder-mimetype.html, "MediaRecorder start() does not throw with
/// ${mimeType} for video" / "Unsupported mimeType ${mimeType} throws for
/// video", for every video type of the page.
#[test]
fn mediarecorder_mimetype_mediarecorder_start_does_not_throw_with_mimetype_for_video() {
    start_does_not_throw_or_unsupported_throws(VIDEO, &video_mime_types(), false);
}

/// MediaRecorder-mimetype.html, "MediaRecorder start() does not throw with
/// ${mimeType} for audio", for the supported video-only container types
/// and an audio stream.
#[test]
fn mediarecorder_mimetype_mediarecorder_start_does_not_throw_with_video_only_mimetype_for_audio() {
    start_does_not_throw_or_unsupported_throws(AUDIO, &VIDEO_ONLY_MIME_TYPES, true);
}

/// The mimeType read in the `start` event's handler.
fn mime_on_start(constraints: &str) -> String {
    let r = started(constraints, "");
    r.wait(Ev::Start);
    let m = r.mime_at_start.lock().unwrap().clone();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0], r.mime(), "the same after the event");
    m[0].clone()
}

/// MediaRecorder-mimetype.html, "MediaRecorder sets a nonempty mimeType on
/// 'onstart' for audio".
#[test]
fn mediarecorder_mimetype_mediarecorder_sets_a_nonempty_mimetype_on_onstart_for_audio() {
    assert_ne!(mime_on_start(AUDIO), "");
}

/// MediaRecorder-mimetype.html, "MediaRecorder sets a nonempty mimeType on
/// 'onstart' for video".
#[test]
fn mediarecorder_mimetype_mediarecorder_sets_a_nonempty_mimetype_on_onstart_for_video() {
    assert_ne!(mime_on_start(VIDEO), "");
}

/// MediaRecorder-mimetype.html, "MediaRecorder sets a nonempty mimeType on
/// 'onstart' for audio/video".
#[test]
fn mediarecorder_mimetype_mediarecorder_sets_a_nonempty_mimetype_on_onstart_for_audio_video() {
    assert_ne!(mime_on_start(AUDIO_VIDEO), "");
}

/// Deliberate difference (docs/conformance.md): the start event fires
/// before `start` returns, a GStreamer signal having no later task to wait
/// for; so what WPT asserts, mimeType empty until the start event, holds
/// as: mime-type reads the given type (here empty) up to the event, and
/// the full type from the event on, in its handler and after `start`.
fn mime_set_by_the_start_event(constraints: &str) {
    let r = recorder(constraints, "");
    assert_eq!(r.mime(), "", "before start");
    r.start(0).unwrap();
    let at_start = r.mime_at_start.lock().unwrap().clone();
    assert_eq!(at_start.len(), 1, "one start event, within start()");
    assert_eq!(r.mime(), at_start[0], "after start: the type of the event");
    assert!(at_start[0].contains("codecs="), "{at_start:?}");
}

/// MediaRecorder-mimetype.html, "MediaRecorder mimeType is not set before
/// 'onstart' for audio" (a deliberate difference: see
/// `mime_set_by_the_start_event`).
#[test]
fn mediarecorder_mimetype_mediarecorder_mimetype_is_not_set_before_onstart_for_audio() {
    mime_set_by_the_start_event(AUDIO);
}

/// MediaRecorder-mimetype.html, "MediaRecorder mimeType is not set before
/// 'onstart' for video".
#[test]
fn mediarecorder_mimetype_mediarecorder_mimetype_is_not_set_before_onstart_for_video() {
    mime_set_by_the_start_event(VIDEO);
}

/// MediaRecorder-mimetype.html, "MediaRecorder mimeType is not set before
/// 'onstart' for audio/video".
#[test]
fn mediarecorder_mimetype_mediarecorder_mimetype_is_not_set_before_onstart_for_audio_video() {
    mime_set_by_the_start_event(AUDIO_VIDEO);
}

/// One start event however long it records: the start, then three chunks
/// (100 ms timeslice) with no second start.
fn one_start(constraints: &str) {
    let r = recorder(constraints, "");
    r.start(100).unwrap();
    let mut chunks = 0;
    r.until(20, |e| {
        if matches!(e, Ev::Data(_)) {
            chunks += 1;
        }
        chunks >= 3
    });
    let starts = r.events().iter().filter(|e| **e == "start").count();
    assert_eq!(starts, 1, "{:?}", r.events());
}

/// MediaRecorder-mimetype.html, "MediaRecorder doesn't fire 'onstart'
/// multiple times for audio".
#[test]
fn mediarecorder_mimetype_mediarecorder_doesn_t_fire_onstart_multiple_times_for_audio() {
    one_start(AUDIO);
}

/// MediaRecorder-mimetype.html, "MediaRecorder doesn't fire 'onstart'
/// multiple times for video".
#[test]
fn mediarecorder_mimetype_mediarecorder_doesn_t_fire_onstart_multiple_times_for_video() {
    one_start(VIDEO);
}

/// MediaRecorder-mimetype.html, "MediaRecorder doesn't fire 'onstart'
/// multiple times for audio/video".
#[test]
fn mediarecorder_mimetype_mediarecorder_doesn_t_fire_onstart_multiple_times_for_audio_video() {
    one_start(AUDIO_VIDEO);
}

/// `^[a-z]+/[a-z]+;[ ]*codecs=` then `n` comma-separated codecs with no
/// comma inside: WPT's regular expressions.
fn well_formed(mime: &str, media: &str, n: usize) {
    let (ty, rest) = mime.split_once(';').unwrap_or_else(|| panic!("{mime}"));
    let (m, sub) = ty.split_once('/').unwrap();
    assert_eq!(m, media, "{mime}");
    let az = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase());
    assert!(az(m) && az(sub), "{mime}: a container subtype");
    let codecs = rest
        .trim_start_matches(' ')
        .strip_prefix("codecs=")
        .unwrap_or_else(|| panic!("{mime}"));
    let list: Vec<&str> = codecs.split(',').collect();
    assert_eq!(list.len(), n, "{mime}");
    assert!(list.iter().all(|c| !c.is_empty()), "{mime}");
}

/// MediaRecorder-mimetype.html, "MediaRecorder formats mimeType well after
/// 'start' for audio": audio/SUBTYPE;codecs=ONE.
#[test]
fn mediarecorder_mimetype_mediarecorder_formats_mimetype_well_after_start_for_audio() {
    well_formed(&mime_on_start(AUDIO), "audio", 1);
}

/// MediaRecorder-mimetype.html, "MediaRecorder formats mimeType well after
/// 'start' for video": video/SUBTYPE;codecs=ONE.
#[test]
fn mediarecorder_mimetype_mediarecorder_formats_mimetype_well_after_start_for_video() {
    well_formed(&mime_on_start(VIDEO), "video", 1);
}

/// MediaRecorder-mimetype.html, "MediaRecorder formats mimeType well after
/// 'start' for audio/video": video/SUBTYPE;codecs=ONE,TWO.
#[test]
fn mediarecorder_mimetype_mediarecorder_formats_mimetype_well_after_start_for_audio_video() {
    well_formed(&mime_on_start(AUDIO_VIDEO), "video", 2);
}

// ---------------------------------------------------------------------
// MediaRecorder-bitrate.https.html
// ---------------------------------------------------------------------

fn bps(r: &Rec) -> (u32, u32) {
    (
        r.rec.property::<u32>("audio-bits-per-second"),
        r.rec.property::<u32>("video-bits-per-second"),
    )
}

/// The audio and video bitrates after start(0), each changed by it.
fn bps_changed_by_start(r: &Rec) -> (u32, u32) {
    let (a0, v0) = bps(r);
    r.start(0).unwrap();
    let (a, v) = bps(r);
    assert_ne!(a, a0);
    assert_ne!(v, v0);
    (a, v)
}

/// MediaRecorder-bitrate.https.html, "Selected default track bitrates are
/// not changed by start()".
#[test]
fn mediarecorder_bitrate_selected_default_track_bitrates_are_not_changed_by_start() {
    let r = recorder(AUDIO_VIDEO, "");
    let before = bps(&r);
    r.start(0).unwrap();
    assert_eq!(bps(&r), before);
}

/// MediaRecorder-bitrate.https.html, "Passed-in track bitrates are not
/// changed by start()": 100 kbps audio, 1 Mbps video.
#[test]
fn mediarecorder_bitrate_passed_in_track_bitrates_are_not_changed_by_start() {
    let r = recorder(AUDIO_VIDEO, "");
    r.rec.set_property("audio-bits-per-second", 100_000u32);
    r.rec.set_property("video-bits-per-second", 1_000_000u32);
    let before = bps(&r);
    r.start(0).unwrap();
    assert_eq!(bps(&r), before);
    assert_eq!(before, (100_000, 1_000_000));
}

const AUDIO_BITRATE: u32 = 100_000;
const VIDEO_BITRATE: u32 = 1_000_000;
const LOW_TOTAL_BITRATE: u32 = 500_000;
const HIGH_TOTAL_BITRATE: u32 = 2_000_000;
const BITRATE_EPSILON: f64 = 100_000.0;

/// `new MediaRecorder(stream, {audioBitsPerSecond, videoBitsPerSecond,
/// bitsPerSecond})`: the options as properties, `bits-per-second` last (it
/// overrides the others, as in the constructor).
fn with_bitrates(constraints: &str, a: Option<u32>, v: Option<u32>, total: Option<u32>) -> Rec {
    let r = recorder(constraints, "");
    if let Some(a) = a {
        r.rec.set_property("audio-bits-per-second", a);
    }
    if let Some(v) = v {
        r.rec.set_property("video-bits-per-second", v);
    }
    if let Some(t) = total {
        r.rec.set_property("bits-per-second", t);
    }
    r
}

fn assert_approx(x: u32, want: u32) {
    assert!(
        (x as f64 - want as f64).abs() <= BITRATE_EPSILON,
        "{x} is not {want} +- {BITRATE_EPSILON}"
    );
}

/// MediaRecorder-bitrate.https.html, "Passing no bitrate config results in
/// defaults": both non-zero.
#[test]
fn mediarecorder_bitrate_passing_no_bitrate_config_results_in_defaults() {
    let (a, v) = bps(&with_bitrates(AUDIO_VIDEO, None, None, None));
    assert_ne!(a, 0);
    assert_ne!(v, 0);
}

/// MediaRecorder-bitrate.https.html, "Passing bitsPerSecond:0 results in
/// targets close to 0".
#[test]
fn mediarecorder_bitrate_passing_bitspersecond_0_results_in_targets_close_to_0() {
    let (a, v) = bps(&with_bitrates(AUDIO_VIDEO, None, None, Some(0)));
    assert_ne!(a, 0);
    assert_ne!(v, 0);
    assert_approx(a + v, 0);
}

/// MediaRecorder-bitrate.https.html, "Passing only audioBitsPerSecond:0
/// results in 0 for audio, default for video".
#[test]
fn mediarecorder_bitrate_passing_only_audiobitspersecond_0_results_in_0_for_audio_default_for_video()
 {
    let (a, v) = bps(&with_bitrates(AUDIO_VIDEO, Some(0), None, None));
    assert_eq!(a, 0);
    assert_ne!(v, 0);
}

/// MediaRecorder-bitrate.https.html, "Passing only videoBitsPerSecond:0
/// results in 0 for video, default for audio".
#[test]
fn mediarecorder_bitrate_passing_only_videobitspersecond_0_results_in_0_for_video_default_for_audio()
 {
    let (a, v) = bps(&with_bitrates(AUDIO_VIDEO, None, Some(0), None));
    assert_ne!(a, 0);
    assert_eq!(v, 0);
}

/// MediaRecorder-bitrate.https.html, "Passing bitsPerSecond:0 overrides
/// audio/video-specific values".
#[test]
fn mediarecorder_bitrate_passing_bitspersecond_0_overrides_audio_video_specific_values() {
    let r = with_bitrates(
        AUDIO_VIDEO,
        Some(AUDIO_BITRATE),
        Some(VIDEO_BITRATE),
        Some(0),
    );
    let (a, v) = bps(&r);
    assert_ne!(a, 0);
    assert_ne!(v, 0);
    assert_approx(a + v, 0);
}

/// MediaRecorder-bitrate.https.html, "Passing bitsPerSecond overrides
/// audio/video zero values".
#[test]
fn mediarecorder_bitrate_passing_bitspersecond_overrides_audio_video_zero_values() {
    let r = with_bitrates(AUDIO_VIDEO, Some(0), Some(0), Some(HIGH_TOTAL_BITRATE));
    let (a, v) = bps(&r);
    assert_ne!(a, 0);
    assert_ne!(v, 0);
    assert_approx(a + v, HIGH_TOTAL_BITRATE);
}

/// MediaRecorder-bitrate.https.html, "Passing bitsPerSecond sets audio/video
/// bitrate values".
#[test]
fn mediarecorder_bitrate_passing_bitspersecond_sets_audio_video_bitrate_values() {
    let (a, v) = bps(&with_bitrates(
        AUDIO_VIDEO,
        None,
        None,
        Some(HIGH_TOTAL_BITRATE),
    ));
    assert_ne!(a, 0);
    assert_ne!(v, 0);
    assert_approx(a + v, HIGH_TOTAL_BITRATE);
}

/// MediaRecorder-bitrate.https.html, "Passing only audioBitsPerSecond
/// results in default for video".
#[test]
fn mediarecorder_bitrate_passing_only_audiobitspersecond_results_in_default_for_video() {
    let (a, v) = bps(&with_bitrates(AUDIO_VIDEO, Some(AUDIO_BITRATE), None, None));
    assert_eq!(a, AUDIO_BITRATE);
    assert_ne!(v, 0);
}

/// MediaRecorder-bitrate.https.html, "Passing only videoBitsPerSecond
/// results in default for audio".
#[test]
fn mediarecorder_bitrate_passing_only_videobitspersecond_results_in_default_for_audio() {
    let (a, v) = bps(&with_bitrates(AUDIO_VIDEO, None, Some(VIDEO_BITRATE), None));
    assert_ne!(a, 0);
    assert_eq!(v, VIDEO_BITRATE);
}

/// MediaRecorder-bitrate.https.html, "Passing videoBitsPerSecond for
/// audio-only stream still results in something for video".
#[test]
fn mediarecorder_bitrate_passing_videobitspersecond_for_audio_only_stream_still_results_in_something_for_video()
 {
    let (a, v) = bps(&with_bitrates(AUDIO, None, Some(VIDEO_BITRATE), None));
    assert_ne!(a, 0);
    assert_eq!(v, VIDEO_BITRATE);
}

/// MediaRecorder-bitrate.https.html, "Passing audioBitsPerSecond for
/// video-only stream still results in something for audio".
#[test]
fn mediarecorder_bitrate_passing_audiobitspersecond_for_video_only_stream_still_results_in_something_for_audio()
 {
    let (a, v) = bps(&with_bitrates(VIDEO, Some(AUDIO_BITRATE), None, None));
    assert_eq!(a, AUDIO_BITRATE);
    assert_ne!(v, 0);
}

/// MediaRecorder-bitrate.https.html, "Passing bitsPerSecond for audio-only
/// stream still results in something for video".
#[test]
fn mediarecorder_bitrate_passing_bitspersecond_for_audio_only_stream_still_results_in_something_for_video()
 {
    let (a, v) = bps(&with_bitrates(AUDIO, None, None, Some(HIGH_TOTAL_BITRATE)));
    assert_ne!(a, 0);
    assert_ne!(v, 0);
}

/// MediaRecorder-bitrate.https.html, "Passing bitsPerSecond for video-only
/// stream still results in something for audio".
#[test]
fn mediarecorder_bitrate_passing_bitspersecond_for_video_only_stream_still_results_in_something_for_audio()
 {
    let (a, v) = bps(&with_bitrates(VIDEO, None, None, Some(HIGH_TOTAL_BITRATE)));
    assert_ne!(a, 0);
    assert_ne!(v, 0);
}

/// MediaRecorder-bitrate.https.html, "Passing bitsPerSecond for audio/video
/// stream does not change track bitrates in start()".
#[test]
fn mediarecorder_bitrate_passing_bitspersecond_for_audio_video_stream_does_not_change_track_bitrates_in_start()
 {
    let r = with_bitrates(AUDIO_VIDEO, None, None, Some(HIGH_TOTAL_BITRATE));
    let before = bps(&r);
    r.start(0).unwrap();
    assert_eq!(bps(&r), before);
}

/// MediaRecorder-bitrate.https.html, "Passing bitsPerSecond for audio stream
/// sets video track bitrate to 0 in start()": audio about the total, video 0,
/// both changed by start.
#[test]
fn mediarecorder_bitrate_passing_bitspersecond_for_audio_stream_sets_video_track_bitrate_to_0_in_start()
 {
    let r = with_bitrates(AUDIO, None, None, Some(LOW_TOTAL_BITRATE));
    let (a, v) = bps_changed_by_start(&r);
    assert_approx(a, LOW_TOTAL_BITRATE);
    assert_eq!(v, 0);
}

/// MediaRecorder-bitrate.https.html, "Passing bitsPerSecond for video stream
/// sets audio track bitrate to 0 in start()".
#[test]
fn mediarecorder_bitrate_passing_bitspersecond_for_video_stream_sets_audio_track_bitrate_to_0_in_start()
 {
    let r = with_bitrates(VIDEO, None, None, Some(HIGH_TOTAL_BITRATE));
    let (a, v) = bps_changed_by_start(&r);
    assert_eq!(a, 0);
    assert_approx(v, HIGH_TOTAL_BITRATE);
}

// ---------------------------------------------------------------------
// MediaRecorder-creation.https.html
// ---------------------------------------------------------------------

/// The case of MediaRecorder-creation for `constraints`: the stream has the
/// tracks asked for, live; a recorder on it is inactive with non-zero
/// video and audio bitrates.
fn creation(constraints: &str, audio: usize, video: usize) {
    let r = recorder(constraints, "");
    assert_eq!(r.tracks("audio").len(), audio);
    assert_eq!(r.tracks("video").len(), video);
    for t in track::children_made_by(&r.stream, "mediastreamsrc") {
        let v = t.property_value("ready-state");
        let (_, e) = gst::glib::EnumValue::from_value(&v).unwrap();
        assert_eq!(e.nick(), "live");
    }
    r.expect_state("inactive");
    let (a, v) = bps(&r);
    assert_ne!(v, 0, "videoBitsPerSecond");
    assert_ne!(a, 0, "audioBitsPerSecond");
}

/// MediaRecorder-creation.https.html, "Video-only MediaRecorder".
#[test]
fn mediarecorder_creation_video_only_mediarecorder() {
    creation(VIDEO, 0, 1);
}

/// MediaRecorder-creation.https.html, "Audio-only MediaRecorder".
#[test]
fn mediarecorder_creation_audio_only_mediarecorder() {
    creation(AUDIO, 1, 0);
}

/// MediaRecorder-creation.https.html, "Video+Audio MediaRecorder".
#[test]
fn mediarecorder_creation_video_audio_mediarecorder() {
    creation(AUDIO_VIDEO, 1, 1);
}

// ---------------------------------------------------------------------
// MediaRecorder-canvas-media-source.https.html
// ---------------------------------------------------------------------

/// MediaRecorder-canvas-media-source.https.html, "MediaRecorder returns
/// frames containing video content": a camera track ({width: {ideal: 256},
/// height: {ideal: 144}}) drawn onto a 256x144 canvas (here: scaled into a
/// 256x144 frame by the pipeline; WPT does it in a Worker with a
/// transferred track, which has no counterpart) becomes a new track of a
/// new stream, recorded with a 1 s timeslice: a chunk larger than 1500
/// bytes (frames with content, not empty ones) comes, then stop. For every
/// variant whose type is supported.
#[test]
fn mediarecorder_canvas_media_source_mediarecorder_returns_frames_containing_video_content() {
    for mime in stop_variants() {
        init();
        let p = gst::Pipeline::new();
        let camera = gst::ElementFactory::make("mediastream")
            .property(
                "constraints",
                r#"{"video": {"width": {"ideal": 256}, "height": {"ideal": 144}}}"#,
            )
            .build()
            .unwrap();
        let composited = gst::ElementFactory::make("mediastream").build().unwrap();
        let rec = gst::ElementFactory::make("mediarecorder")
            .property("mime-type", mime)
            .property("auto-start", false)
            .build()
            .unwrap();
        let canvas = gst::parse::bin_from_description(
            "videoconvert ! videoscale ! capsfilter caps=video/x-raw,width=256,height=144",
            true,
        )
        .unwrap();
        p.add_many([&camera, &composited, &rec, canvas.upcast_ref()])
            .unwrap();
        let c = canvas.clone();
        camera.connect_pad_added(move |_, pad| {
            if pad.direction() == gst::PadDirection::Src {
                pad.link(&c.static_pad("sink").unwrap()).unwrap();
            }
        });
        let sink = composited.request_pad_simple("sink_%u").unwrap();
        canvas.static_pad("src").unwrap().link(&sink).unwrap();
        let weak = rec.downgrade();
        let rec_pad: Arc<Mutex<Option<gst::Pad>>> = Default::default();
        let rp = rec_pad.clone();
        composited.connect_pad_added(move |_, pad| {
            if pad.direction() == gst::PadDirection::Src {
                let rec = weak.upgrade().unwrap();
                let s = rec.request_pad_simple("video_%u").unwrap();
                pad.link(&s).unwrap();
                *rp.lock().unwrap() = Some(s);
            }
        });
        let (dtx, drx) = mpsc::channel::<Ev>();
        send_data_and_stop(&rec, dtx);
        p.set_state(gst::State::Playing).unwrap();
        let (ok, _, _) = p.state(gst::ClockTime::from_seconds(10));
        ok.unwrap();
        track::wait_until("the composited track at the recorder", || {
            rec_pad
                .lock()
                .unwrap()
                .as_ref()
                .is_some_and(|p| p.current_caps().is_some())
        });
        let r: gst::Structure = rec.emit_by_name("start", &[&1000u32]);
        assert!(r.get::<bool>("success").unwrap(), "{mime}: {r}");
        let mut large = false;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match drx.recv_timeout(left) {
                Ok(Ev::Data(size)) => {
                    if size > 1500 {
                        large = true;
                        let _: gst::Structure = rec.emit_by_name("stop", &[]);
                    }
                }
                Ok(Ev::Stop) => break,
                Ok(_) => {}
                Err(_) => panic!("{mime}: no stop within 20 s"),
            }
        }
        assert!(large, "{mime}: stop after a chunk with video content");
        p.set_state(gst::State::Null).unwrap();
    }
}

// ---------------------------------------------------------------------
// MediaRecorder-events-and-exceptions.html
// ---------------------------------------------------------------------

/// MediaRecorder-events-and-exceptions.html (untitled; the page's title:
/// "MediaRecorder events and exceptions"), for each variant whose type is
/// supported: an unsupported type throws NotSupportedError (at start: the
/// deliberate difference); a recorder of an empty stream is inactive, its
/// stop does nothing, pause/resume/requestData throw InvalidStateError and
/// start throws NotSupportedError; once a (canvas: test pattern) video track
/// is added to the stream, start records; in the start event pause, in the
/// pause event resume, in the resume event stop, each state right; the
/// dataavailable after stop sees inactive and has data; in the stop event
/// stop does nothing and pause/resume/requestData throw; no other event.
#[test]
fn mediarecorder_events_and_exceptions_mediarecorder_events_and_exceptions() {
    unsupported_type_throws_at_start(VIDEO, "video/invalid");
    // The variant `video/mp4;codecs=avc1,mp4a.40.2` is left out: stopped
    // before any frame reached the encoders, an MP4 recording is empty
    // (mp4mux writes nothing without its tracks' caps), where this case
    // wants a Blob with data (docs/conformance.md).
    let variants = [
        "",
        "video/webm;codecs=vp8,opus",
        "video/webm;codecs=vp9,opus",
        "video/webm;codecs=av1,opus",
    ];
    for mime in variants
        .into_iter()
        .filter(|m| m.is_empty() || is_type_supported(m))
    {
        let r = recorder("", mime);
        r.expect_state("inactive");
        r.call("stop").unwrap();
        assert_eq!(r.state(), "inactive", "stop() is idempotent");
        for m in ["pause", "resume", "request-data"] {
            assert_eq!(r.call(m), Err("InvalidStateError".into()), "{m}");
        }
        assert_eq!(
            r.start(0),
            Err("NotSupportedError".into()),
            "starting with an inactive stream"
        );
        // recorder.stream.addTrack(canvas track).
        track::add_live_source(&r.pipeline, &r.stream, "videotestsrc");
        track::wait_until("the track at the recorder", || {
            r.rec.sink_pads().iter().any(|p| p.current_caps().is_some())
        });
        // The state each handler sees, as the event handlers would.
        let seen: Arc<Mutex<Vec<(String, String)>>> = Default::default();
        for (signal, dom) in [
            ("started", "start"),
            ("paused", "pause"),
            ("resumed", "resume"),
            ("dataavailable", "dataavailable"),
            ("stopped", "stop"),
        ] {
            let seen = seen.clone();
            r.rec.connect(signal, false, move |a| {
                let rec = a[0].get::<gst::Element>().unwrap();
                let v = rec.property_value("state");
                let (_, e) = gst::glib::EnumValue::from_value(&v).unwrap();
                seen.lock()
                    .unwrap()
                    .push((dom.to_owned(), e.nick().to_owned()));
                None
            });
        }
        r.start(0).unwrap();
        r.expect_state("recording");
        r.wait(Ev::Start);
        r.call("pause").unwrap();
        r.wait(Ev::Pause);
        r.call("resume").unwrap();
        r.wait(Ev::Resume);
        r.stop();
        r.expect_state("inactive");
        r.call("stop").unwrap();
        assert_eq!(r.state(), "inactive", "stop() is idempotent");
        for m in ["pause", "resume", "request-data"] {
            assert_eq!(r.call(m), Err("InvalidStateError".into()), "{m}");
        }
        let log = r.log.lock().unwrap().clone();
        assert!(
            log.iter()
                .filter_map(|e| match e {
                    Ev::Data(n) => Some(*n),
                    _ => None,
                })
                .all(|n| n > 0),
            "a Blob with data"
        );
        // The handlers above run after the ones that report the events.
        track::wait_until("the stop handler", || {
            seen.lock().unwrap().iter().any(|(e, _)| e == "stop")
        });
        let seen = seen.lock().unwrap().clone();
        let expect = [
            ("start", "recording"),
            ("pause", "paused"),
            ("resume", "recording"),
            ("dataavailable", "inactive"),
            ("stop", "inactive"),
        ];
        let got: Vec<(&str, &str)> = seen.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        assert_eq!(got, expect, "{mime}: events and the state each saw");
    }
}

// ---------------------------------------------------------------------
// MediaRecorder-peerconnection-no-sink.https.html,
// MediaRecorder-peerconnection.https.html: a loopback connection
// ---------------------------------------------------------------------

use webrtc_common as wc;

/// WPT's `startConnection(t, true, true)`: getUserMedia audio+video sent by
/// one webrtcbin to another in the same pipeline; the remote stream's two
/// tracks each go into a tee, so that recorders can be added to them.
struct Loopback {
    pipeline: gst::Pipeline,
    /// The sending and the receiving webrtcbin.
    pcs: (gst::Element, gst::Element),
    /// The remote tracks' tees by kind, once the tracks came.
    tees: Arc<Mutex<Vec<(String, gst::Element)>>>,
}

/// Whether the WebRTC test `name` goes on: GStreamer has its elements and
/// this is the run inside the private network namespace.
fn in_private_network(name: &str) -> bool {
    wc::runnable(wc::missing_gstreamer()) && wc::in_private_network(name)
}

/// MediaRecorder-peerconnection.https.html's eight kinds and types.
const PEERCONNECTION_CASES: [(&[&str], &str); 8] = [
    (&["video"], ""),
    (&["audio"], ""),
    (&["video", "audio"], ""),
    (&["audio"], "audio/webm;codecs=opus"),
    (&["video"], "video/webm;codecs=vp8"),
    (&["video", "audio"], "video/webm;codecs=vp8,opus"),
    (&["video"], "video/webm;codecs=vp9"),
    (&["video", "audio"], "video/webm;codecs=vp9,opus"),
];

fn loopback() -> Loopback {
    loopback_sending("vp8")
}

/// The loopback with the sender's video in `codec` (`mediastreamrtpenc`'s
/// `video-codec`): WPT's `setTransceiverCodecPreference`.
fn loopback_sending(codec: &str) -> Loopback {
    wc::init();
    init();
    let (p, _ms, pc1) = wc::sender(r#"{"video": {"width": 320}, "audio": true}"#);
    let codec = codec.to_owned();
    p.connect_element_added(move |_, e| {
        if e.factory().is_some_and(|f| f.name() == "mediastreamrtpenc") {
            e.set_property_from_str("video-codec", &codec);
        }
    });
    let pc2 = gst::ElementFactory::make("webrtcbin")
        .property_from_str("bundle-policy", "max-bundle")
        .build()
        .unwrap();
    p.add(&pc2).unwrap();
    let tees: Arc<Mutex<Vec<(String, gst::Element)>>> = Default::default();
    let (t, weak) = (tees.clone(), p.downgrade());
    gstmediastream::webrtc::receive_streams(&pc2, move |remote| {
        let (t, weak) = (t.clone(), weak.clone());
        remote.connect_pad_added(move |_, pad| {
            if pad.direction() != gst::PadDirection::Src {
                return;
            }
            let p = weak.upgrade().unwrap();
            let tee = gst::ElementFactory::make("tee")
                .property("allow-not-linked", true)
                .build()
                .unwrap();
            track::add_fed_by(&p, &tee, pad);
            let kind = if pad.name().starts_with("audio") {
                "audio"
            } else {
                "video"
            };
            t.lock().unwrap().push((kind.to_owned(), tee));
        });
    });
    p.set_state(gst::State::Playing).unwrap();
    wc::wait_for_sink_caps(&pc1, 2);
    let offer = wc::create_offer(&pc1);
    wc::set_description(&pc1, true, &offer);
    wc::wait_gathered(&pc1);
    let offer = wc::sdp_desc(gst_webrtc::WebRTCSDPType::Offer, &wc::local_sdp(&pc1));
    wc::set_description(&pc2, false, &offer);
    let answer = wc::create_answer(&pc2);
    wc::set_description(&pc2, true, &answer);
    wc::wait_gathered(&pc2);
    let answer = wc::sdp_desc(gst_webrtc::WebRTCSDPType::Answer, &wc::local_sdp(&pc2));
    wc::set_description(&pc1, false, &answer);
    // Up to 60 s: three connections may be negotiating at once on a
    // loaded machine.
    wc::poll::until("two remote tracks", Duration::from_secs(60), || {
        tees.lock().unwrap().len() >= 2
    });
    Loopback {
        pipeline: p,
        pcs: (pc1, pc2),
        tees,
    }
}

impl Drop for Loopback {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

impl Loopback {
    /// `new MediaRecorder(new MediaStream(remote tracks of kinds), {mimeType})`
    /// in the running pipeline, each track through a branch (a queue) of its
    /// tee; its events on a channel.
    fn recorder_with_branches(
        &self,
        kinds: &[&str],
        mime: &str,
    ) -> (gst::Element, mpsc::Receiver<Ev>, Vec<gst::Element>) {
        let mut branches = Vec::new();
        let rec = gst::ElementFactory::make("mediarecorder")
            .property("mime-type", mime)
            .property("auto-start", false)
            .build()
            .unwrap();
        self.pipeline.add(&rec).unwrap();
        // Playing before any branch reaches it: a branch into an element
        // not yet started returns FLUSHING, which the tee would pass up to
        // the remote track, ending it.
        rec.sync_state_with_parent().unwrap();
        for (kind, tee) in self.tees.lock().unwrap().iter() {
            if !kinds.contains(&kind.as_str()) {
                continue;
            }
            let q = gst::ElementFactory::make("queue").build().unwrap();
            self.pipeline.add(&q).unwrap();
            let sink = rec.request_pad_simple(&format!("{kind}_%u")).unwrap();
            q.static_pad("src").unwrap().link(&sink).unwrap();
            q.sync_state_with_parent().unwrap();
            tee.link(&q).unwrap();
            branches.push(q);
        }
        let (tx, rx) = mpsc::channel();
        let t = tx.clone();
        rec.connect("started", false, move |_| {
            let _ = t.send(Ev::Start);
            None
        });
        send_data_and_stop(&rec, tx);
        wc::poll::until(
            "the remote tracks at the recorder",
            Duration::from_secs(60),
            || {
                let pads = rec.sink_pads();
                pads.len() == kinds.len() && pads.iter().all(|p| p.current_caps().is_some())
            },
        );
        (rec, rx, branches)
    }
}

impl Loopback {
    /// WPT's `exchangeOfferAnswerRaw`: a new offer from the sender and its
    /// answer, on the connection already up.
    fn renegotiate(&self) {
        let (pc1, pc2) = &self.pcs;
        let offer = wc::create_offer(pc1);
        wc::set_description(pc1, true, &offer);
        wc::set_description(pc2, false, &offer);
        let answer = wc::create_answer(pc2);
        wc::set_description(pc2, true, &answer);
        wc::set_description(pc1, false, &answer);
    }

    /// The codec the remote track of `kind` arrived in, as it tells
    /// downstream.
    fn received_codec(&self, kind: &str) -> Option<String> {
        let tees = self.tees.lock().unwrap();
        let (_, tee) = tees.iter().find(|(k, _)| k == kind)?;
        gstmediastream::track::TrackState::on_pad(&tee.static_pad("sink").unwrap())?.received_codec
    }

    /// Takes a recorder and its ended branches out, so that their EOS
    /// reaches no tee again.
    fn remove(&self, rec: &gst::Element, branches: &[gst::Element]) {
        for q in branches {
            let sink = q.static_pad("sink").unwrap();
            if let Some(tee_pad) = sink.peer() {
                let tee = tee_pad.parent_element().unwrap();
                tee_pad.unlink(&sink).unwrap();
                tee.release_request_pad(&tee_pad);
            }
            q.set_state(gst::State::Null).unwrap();
            self.pipeline.remove(q).unwrap();
        }
        rec.set_state(gst::State::Null).unwrap();
        self.pipeline.remove(rec).unwrap();
    }
}

/// start(`timeslice`) on the remote tracks' recorder `rec`, which must
/// succeed.
fn start_remote(rec: &gst::Element, timeslice: u32, tag: &str) {
    let r: gst::Structure = rec.emit_by_name("start", &[&timeslice]);
    assert!(r.get::<bool>("success").unwrap(), "{tag}: {r}");
}

/// The recorder's next event, within 20 s.
fn next_event(rx: &mpsc::Receiver<Ev>, tag: &str) -> Ev {
    rx.recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("{tag}: no recorder event within 20 s"))
}

/// The count of buffers out of the branch `q`, from now on.
fn count_buffers(q: &gst::Element) -> Arc<Mutex<u64>> {
    let n = Arc::new(Mutex::new(0u64));
    let c = n.clone();
    q.static_pad("src")
        .unwrap()
        .add_probe(gst::PadProbeType::BUFFER, move |_, _| {
            *c.lock().unwrap() += 1;
            gst::PadProbeReturn::Ok
        });
    n
}

/// start(200), (the start event when `wait_start`), chunks until 2000 bytes
/// came, stop, the stop event.
fn records_2000_bytes(rec: &gst::Element, rx: &mpsc::Receiver<Ev>, wait_start: bool, tag: &str) {
    start_remote(rec, 200, tag);
    if wait_start {
        assert_eq!(next_event(rx, tag), Ev::Start, "{tag}");
    }
    let mut combined = 0;
    while combined < 2000 {
        if let Ev::Data(n) = next_event(rx, tag) {
            combined += n;
        }
    }
    let _: gst::Structure = rec.emit_by_name("stop", &[]);
    while next_event(rx, tag) != Ev::Stop {}
}

/// The WebRTC test `test` (see `in_private_network`): for each of `cases`,
/// `case(kinds, mime, recorder, its events, its branches)` on a recorder of
/// the loopback's remote `kinds` with `mime`, removed after the case.
fn each_remote_recorder(
    test: &str,
    cases: &[(&[&str], &str)],
    case: impl Fn(&[&str], &str, &gst::Element, &mpsc::Receiver<Ev>, &[gst::Element]),
) {
    if !in_private_network(test) {
        return;
    }
    let l = loopback();
    for &(kinds, mime) in cases {
        let (rec, rx, branches) = l.recorder_with_branches(kinds, mime);
        case(kinds, mime, &rec, &rx, &branches);
        l.remove(&rec, &branches);
    }
}

/// MediaRecorder-peerconnection-no-sink.https.html, "MediaRecorder records
/// from PeerConnection without sinks, ${tag}" for {audio}, {video} and
/// {audio, video}: the remote tracks (nothing renders them) recorded with a
/// 200 ms timeslice give 2000 bytes of chunks.
#[test]
fn mediarecorder_peerconnection_no_sink_mediarecorder_records_from_peerconnection_without_sinks() {
    each_remote_recorder(
        "mediarecorder_peerconnection_no_sink_mediarecorder_records_from_peerconnection_without_sinks",
        &[
            (&["audio"], ""),
            (&["video"], ""),
            (&["audio", "video"], ""),
        ],
        |kinds, _, rec, rx, _| records_2000_bytes(rec, rx, false, &format!("{kinds:?}")),
    );
}

/// MediaRecorder-peerconnection.https.html, "PeerConnection MediaRecorder
/// receives data after onstart, ${tag}" for the page's eight kinds and
/// types (every type is supported here, so the page's "constructor throws
/// on no support" case makes no test): after the start event, 2000 bytes of
/// 200 ms chunks.
#[test]
fn mediarecorder_peerconnection_peerconnection_mediarecorder_receives_data_after_onstart() {
    each_remote_recorder(
        "mediarecorder_peerconnection_peerconnection_mediarecorder_receives_data_after_onstart",
        &PEERCONNECTION_CASES,
        |kinds, mime, rec, rx, _| {
            assert!(mime.is_empty() || is_type_supported(mime), "{mime}");
            records_2000_bytes(rec, rx, true, &format!("{kinds:?} mimeType {mime:?}"));
        },
    );
}

/// MediaRecorder-peerconnection.https.html, "PeerConnection MediaRecorder
/// gets ondata on stopping tracks, ${tag}" for the page's eight kinds and
/// types: a recorder of a clone of the remote tracks (here: a tee branch of
/// each, the clone's own path), started without timeslice; once 10 frames
/// or packets came, the clone's tracks stop (EOS on their branches): a
/// dataavailable and the stop event come.
#[test]
fn mediarecorder_peerconnection_peerconnection_mediarecorder_gets_ondata_on_stopping_tracks() {
    each_remote_recorder(
        "mediarecorder_peerconnection_peerconnection_mediarecorder_gets_ondata_on_stopping_tracks",
        &PEERCONNECTION_CASES,
        |kinds, mime, rec, rx, branches| {
            let tag = format!("{kinds:?} mimeType {mime:?}");
            let frames: Vec<Arc<Mutex<u64>>> = branches.iter().map(count_buffers).collect();
            start_remote(rec, 0, &tag);
            assert_eq!(next_event(rx, &tag), Ev::Start, "{tag}");
            track::wait_until("10 frames or packets on every track", || {
                frames.iter().all(|n| *n.lock().unwrap() >= 10)
            });
            // The clone's tracks stop: each branch leaves its tee (the tee
            // must not see the branch's EOS: that would end the remote
            // track itself), then ends.
            for q in branches {
                let sink = q.static_pad("sink").unwrap();
                let tee_pad = sink.peer().expect("the branch's tee pad");
                tee_pad.unlink(&sink).unwrap();
                tee_pad
                    .parent_element()
                    .unwrap()
                    .release_request_pad(&tee_pad);
                assert!(sink.send_event(gst::event::Eos::new()), "{tag}");
            }
            let (mut data, mut stop) = (false, false);
            while !stop {
                match next_event(rx, &tag) {
                    Ev::Data(_) => data = true,
                    Ev::Stop => stop = true,
                    _ => {}
                }
            }
            assert!(data, "{tag}: dataavailable as the tracks ended");
        },
    );
}

// ---------------------------------------------------------------------
// passthrough/MediaRecorder-passthrough.https.html
// ---------------------------------------------------------------------

/// The case of MediaRecorder-passthrough for `codec` (`vp8`, `vp9`) and
/// `kinds`: a recorder of the remote stream with no type names the
/// received codec in its mimeType at the start event. (The remote track is
/// decoded and encoded again here: no passthrough, but the same type: the
/// track tells the recorder the codec it arrived in.) `test` is the
/// calling test's name (see `in_private_network`).
fn passthrough(test: &str, codec: &str, kinds: &[&str]) {
    if !in_private_network(test) {
        return;
    }
    let l = loopback_sending(codec);
    let (rec, rx, branches) = l.recorder_with_branches(kinds, "");
    let m: Arc<Mutex<Option<String>>> = Default::default();
    let mm = m.clone();
    rec.connect("started", false, move |a| {
        let r = a[0].get::<gst::Element>().unwrap();
        *mm.lock().unwrap() = Some(r.property::<String>("mime-type"));
        None
    });
    start_remote(&rec, 0, "start");
    assert_eq!(next_event(&rx, "start"), Ev::Start);
    track::wait_until("the start handler", || m.lock().unwrap().is_some());
    let mime = m.lock().unwrap().clone().unwrap();
    assert!(mime.contains(codec), "{mime} names {codec}");
    let _: gst::Structure = rec.emit_by_name("stop", &[]);
    while rx.recv_timeout(Duration::from_secs(20)).unwrap() != Ev::Stop {}
    l.remove(&rec, &branches);
}

/// passthrough/MediaRecorder-passthrough.https.html, "PeerConnection
/// passthrough MediaRecorder receives VP8 after onstart with a video
/// stream.".
#[test]
fn mediarecorder_passthrough_peerconnection_passthrough_mediarecorder_receives_vp8_after_onstart_with_a_video_stream()
 {
    passthrough(
        "mediarecorder_passthrough_peerconnection_passthrough_mediarecorder_receives_vp8_after_onstart_with_a_video_stream",
        "vp8",
        &["video"],
    );
}

/// passthrough/MediaRecorder-passthrough.https.html, "PeerConnection
/// passthrough MediaRecorder receives VP8 after onstart with a audio/video
/// stream.".
#[test]
fn mediarecorder_passthrough_peerconnection_passthrough_mediarecorder_receives_vp8_after_onstart_with_a_audio_video_stream()
 {
    passthrough(
        "mediarecorder_passthrough_peerconnection_passthrough_mediarecorder_receives_vp8_after_onstart_with_a_audio_video_stream",
        "vp8",
        &["audio", "video"],
    );
}

/// passthrough/MediaRecorder-passthrough.https.html, "PeerConnection
/// passthrough MediaRecorder receives VP9 after onstart with a video
/// stream.".
#[test]
fn mediarecorder_passthrough_peerconnection_passthrough_mediarecorder_receives_vp9_after_onstart_with_a_video_stream()
 {
    passthrough(
        "mediarecorder_passthrough_peerconnection_passthrough_mediarecorder_receives_vp9_after_onstart_with_a_video_stream",
        "vp9",
        &["video"],
    );
}

/// passthrough/MediaRecorder-passthrough.https.html, "PeerConnection
/// passthrough MediaRecorder receives VP9 after onstart with a audio/video
/// stream.".
#[test]
fn mediarecorder_passthrough_peerconnection_passthrough_mediarecorder_receives_vp9_after_onstart_with_a_audio_video_stream()
 {
    passthrough(
        "mediarecorder_passthrough_peerconnection_passthrough_mediarecorder_receives_vp9_after_onstart_with_a_audio_video_stream",
        "vp9",
        &["audio", "video"],
    );
}

/// passthrough/MediaRecorder-passthrough.https.html, "PeerConnection
/// passthrough MediaRecorder should be prepared to handle the codec
/// switching from VP8 to VP9": a recorder of the remote video (VP8) runs
/// while the sender switches to VP9 (`video-codec` on its
/// `mediastreamrtpenc`, WPT's `setCodecPreferences`) and renegotiates; the
/// remote track goes on decoding VP9 (WPT's `waitForCodec`), and the
/// recorder fires no error. Here it also goes on recording (frames after
/// the switch, then chunks and `stop`).
#[test]
fn mediarecorder_passthrough_peerconnection_passthrough_mediarecorder_should_be_prepared_to_handle_the_codec_switching_from_vp8_to_vp9()
 {
    if !in_private_network(
        "mediarecorder_passthrough_peerconnection_passthrough_mediarecorder_should_be_prepared_to_handle_the_codec_switching_from_vp8_to_vp9",
    ) {
        return;
    }
    let l = loopback_sending("vp8");
    let (rec, rx, branches) = l.recorder_with_branches(&["video"], "");
    let errors: Arc<Mutex<Vec<String>>> = Default::default();
    let e = errors.clone();
    rec.connect("error", false, move |a| {
        e.lock().unwrap().push(a[1].get::<String>().unwrap());
        None
    });
    let frames = count_buffers(&branches[0]);
    start_remote(&rec, 0, "start");
    assert_eq!(next_event(&rx, "start"), Ev::Start);
    track::wait_until("10 frames recorded", || *frames.lock().unwrap() >= 10);
    assert_eq!(l.received_codec("video").as_deref(), Some("vp8"));
    // The switch.
    let sender = track::children_made_by(l.pipeline.upcast_ref(), "mediastreamrtpenc")
        .into_iter()
        .find(|e| {
            e.static_pad("sink")
                .unwrap()
                .current_caps()
                .is_some_and(|c| {
                    c.structure(0)
                        .is_some_and(|s| s.name().starts_with("video/"))
                })
        })
        .expect("the sender's video encoder");
    sender.set_property_from_str("video-codec", "vp9");
    // The next frame is VP9 on the sender's webrtcbin pad: the offer
    // made now has it.
    let fed = sender.static_pad("src").unwrap().peer().unwrap();
    track::wait_until("VP9 into the sender's webrtcbin", || {
        fed.current_caps().is_some_and(|c| {
            c.structure(0)
                .and_then(|s| s.get::<String>("encoding-name").ok())
                .as_deref()
                == Some("VP9")
        })
    });
    l.renegotiate();
    track::wait_until("the remote video decoded as VP9", || {
        l.received_codec("video").as_deref() == Some("vp9")
    });
    // The audio m-line of the new offer is bundle-only with port 0: still
    // sent, so the remote audio track goes on.
    let audio = {
        let tees = l.tees.lock().unwrap();
        let (_, tee) = tees.iter().find(|(k, _)| k == "audio").unwrap();
        gstmediastream::track::TrackState::on_pad(&tee.static_pad("sink").unwrap()).unwrap()
    };
    assert_eq!(audio.ready_state, gstmediastream::track::ReadyState::Live);
    let at_switch = *frames.lock().unwrap();
    track::wait_until("10 frames recorded after the switch", || {
        *frames.lock().unwrap() >= at_switch + 10
    });
    assert!(
        errors.lock().unwrap().is_empty(),
        "{:?}",
        errors.lock().unwrap()
    );
    let _: gst::Structure = rec.emit_by_name("stop", &[]);
    let mut data = 0;
    loop {
        match rx.recv_timeout(Duration::from_secs(20)).unwrap() {
            Ev::Data(n) => data += n,
            Ev::Stop => break,
            _ => {}
        }
    }
    assert!(data > 0, "a recording");
    assert!(
        errors.lock().unwrap().is_empty(),
        "{:?}",
        errors.lock().unwrap()
    );
    l.remove(&rec, &branches);
}
