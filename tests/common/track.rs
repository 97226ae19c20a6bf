// SPDX-License-Identifier: MPL-2.0

//! Pipelines around `mediastreamsrc` for the track tests.
#![allow(dead_code)]

#[allow(clippy::duplicate_mod)]
#[path = "poll.rs"]
pub mod poll;

use gst::prelude::*;
use std::time::Duration;

/// `mediastreamsrc ! DOWNSTREAM ! appsink`.
pub struct Track {
    pub pipeline: gst::Pipeline,
    pub src: gst::Element,
    pub sink: gst::Element,
}

pub fn init() {
    gst::init().unwrap();
    gstmediastream::ensure_registered();
}

/// For a test binary over the built-in fake devices: the variable is set
/// once, before GStreamer starts any thread; other tests wait here.
pub fn init_builtin() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: the first thing any test of the binary does.
        unsafe { std::env::set_var("GST_MEDIASTREAM_FAKE_DEVICES", "1") };
        init();
    });
}

/// A receiver of the emissions of a parameterless signal.
pub fn signal_channel(element: &gst::Element, name: &str) -> std::sync::mpsc::Receiver<()> {
    let (tx, rx) = std::sync::mpsc::channel();
    element.connect(name, false, move |_| {
        let _ = tx.send(());
        None
    });
    rx
}

/// The children of `bin` made by the element factory `factory`.
pub fn children_made_by(bin: &gst::Element, factory: &str) -> Vec<gst::Element> {
    bin.downcast_ref::<gst::Bin>()
        .expect("a bin")
        .children()
        .into_iter()
        .filter(|e| e.factory().is_some_and(|f| f.name() == factory))
        .collect()
}

/// The `width` of the first structure of `caps`.
pub fn width_of(caps: Option<&gst::CapsRef>) -> i32 {
    caps.expect("caps")
        .structure(0)
        .expect("a structure")
        .get::<i32>("width")
        .expect("a width")
}

/// The factory names of `bin`'s children.
pub fn child_factories(bin: &gst::Element) -> Vec<String> {
    bin.downcast_ref::<gst::Bin>()
        .expect("a bin")
        .children()
        .iter()
        .map(|e| e.factory().unwrap().name().to_string())
        .collect()
}

/// A `fakesink sync=false async=false` in `p` for a new pad, started and linked.
pub fn fakesink_for(p: &gst::Pipeline, pad: &gst::Pad) -> gst::Element {
    // Not async: a sink added to a running (live) pipeline need not
    // preroll; an async one once stayed in PAUSED on its preroll buffer
    // (a_new_track_never_takes_the_name_of_a_pad_still_there, rarely).
    let sink = gst::ElementFactory::make("fakesink")
        .property("sync", false)
        .property("async", false)
        .build()
        .unwrap();
    add_fed_by(p, &sink, pad);
    sink
}

pub fn track(kind: &str, constraints: &str, downstream: &str) -> Track {
    let pipeline = gst::Pipeline::new();
    let src = gst::ElementFactory::make("mediastreamsrc")
        .property_from_str("kind", kind)
        .property("constraints", constraints)
        .build()
        .unwrap();
    let sink = gst::ElementFactory::make("appsink")
        .property("sync", false)
        .property("max-buffers", 4u32)
        .property("drop", true)
        .build()
        .unwrap();
    pipeline.add_many([&src, &sink]).unwrap();
    if downstream.is_empty() {
        src.link(&sink).unwrap();
    } else {
        let bin = gst::parse::bin_from_description(downstream, true).unwrap();
        pipeline.add(&bin).unwrap();
        gst::Element::link_many([&src, bin.upcast_ref(), &sink]).unwrap();
    }
    Track {
        pipeline,
        src,
        sink,
    }
}

impl Track {
    /// Pulls until EOS, `max` samples at most: whether EOS reached the sink.
    pub fn pull_until_eos(&self, max: usize) -> bool {
        for _ in 0..max {
            if self.pull().is_none() {
                return self.sink.property::<bool>("eos");
            }
        }
        false
    }

    pub fn play(&self) -> Result<(), gst::StateChangeError> {
        self.pipeline.set_state(gst::State::Playing).map(|_| ())
    }

    pub fn pull(&self) -> Option<gst::Sample> {
        self.sink.emit_by_name::<Option<gst::Sample>>(
            "try-pull-sample",
            &[&gst::ClockTime::from_seconds(10)],
        )
    }

    /// The first sample whose caps have `width` (after a renegotiation).
    pub fn pull_width(&self, width: i32) -> gst::Sample {
        for _ in 0..200 {
            let s = self.pull().expect("a sample within 10 s");
            if s.caps()
                .unwrap()
                .structure(0)
                .unwrap()
                .get::<i32>("width")
                .ok()
                == Some(width)
            {
                return s;
            }
        }
        panic!("no {width}-wide sample");
    }

    pub fn settings(&self) -> gst::Structure {
        self.src
            .property::<Option<gst::Structure>>("settings")
            .expect("settings after selection")
    }

    /// The device's element inside the track.
    pub fn device_element(&self) -> gst::Element {
        children_made_by(&self.src, "mediastreamfakesrc")
            .into_iter()
            .next()
            .expect("the fake device's element")
    }

    /// The next element message named `name` on the bus.
    pub fn wait_message(&self, name: &str, timeout: Duration) -> Option<gst::Structure> {
        let bus = self.pipeline.bus().unwrap();
        let deadline = std::time::Instant::now() + timeout;
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            let msg = bus.timed_pop_filtered(
                gst::ClockTime::from_nseconds(left.as_nanos() as u64),
                &[gst::MessageType::Element, gst::MessageType::Error],
            )?;
            if let gst::MessageView::Error(e) = msg.view() {
                panic!("error on the bus: {} ({:?})", e.error(), e.debug());
            }
            if let Some(s) = msg.structure()
                && s.name() == name
            {
                return Some(s.to_owned());
            }
        }
        None
    }
}

impl Drop for Track {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

/// The first error message on the bus after a failed state change.
pub fn error_of(pipeline: &gst::Pipeline) -> gst::glib::Error {
    error_message(pipeline).0
}

/// The error and its details structure (section 7 of the design).
pub fn error_details(pipeline: &gst::Pipeline) -> (gst::glib::Error, gst::Structure) {
    let (e, details) = error_message(pipeline);
    (e, details.expect("a details structure"))
}

fn error_message(pipeline: &gst::Pipeline) -> (gst::glib::Error, Option<gst::Structure>) {
    let bus = pipeline.bus().unwrap();
    let msg = bus
        .timed_pop_filtered(gst::ClockTime::from_seconds(5), &[gst::MessageType::Error])
        .expect("an error message");
    let gst::MessageView::Error(e) = msg.view() else {
        unreachable!()
    };
    (e.error(), e.details().map(|d| d.to_owned()))
}

/// `f` on a thread of its own, and its result. If it does not return
/// within `timeout`, the call hangs: the test binary fails at once, naming
/// `what` (unwinding would only hang again, in the pipeline's teardown).
pub fn within<T: Send + 'static>(
    what: &str,
    timeout: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(timeout).unwrap_or_else(|_| {
        // Straight to stderr: the harness' capture dies with the process.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "HANG: {what} did not return within {timeout:?}"
        );
        std::process::exit(101)
    })
}

/// Polls `done` for up to 10 s (poll::until).
pub fn wait_until(what: &str, done: impl Fn() -> bool) {
    poll::until(what, Duration::from_secs(10), done);
}

/// Links each src pad `stream` (a `mediastream`) adds to a request pad of
/// `rec` (a `mediarecorder`) of the same kind.
pub fn link_to_recorder(stream: &gst::Element, rec: &gst::Element) {
    let weak = rec.downgrade();
    stream.connect_pad_added(move |_, pad| {
        if pad.direction() != gst::PadDirection::Src {
            return;
        }
        let rec = weak.upgrade().unwrap();
        let templ = if pad.name().starts_with("audio") {
            "audio_%u"
        } else {
            "video_%u"
        };
        let sink = rec.request_pad_simple(templ).unwrap();
        pad.link(&sink).unwrap();
    });
}

/// stream.addTrack: a live `factory` (`videotestsrc`, `audiotestsrc`) in
/// `pipeline` linked to a new sink pad of `stream` (a `mediastream`).
pub fn add_live_source(pipeline: &gst::Pipeline, stream: &gst::Element, factory: &str) {
    let src = gst::ElementFactory::make(factory)
        .property("is-live", true)
        .build()
        .unwrap();
    pipeline.add(&src).unwrap();
    let sink = stream.request_pad_simple("sink_%u").unwrap();
    src.static_pad("src").unwrap().link(&sink).unwrap();
    src.sync_state_with_parent().unwrap();
}

/// A `mediastream` whose tracks feed a `mediarecorder`, in a pipeline.
pub struct StreamRecorder {
    pub pipeline: gst::Pipeline,
    pub stream: gst::Element,
    pub rec: gst::Element,
}

impl StreamRecorder {
    /// A `mediastream` of `constraints` (none when empty: `new
    /// MediaStream()`) whose tracks feed a `mediarecorder` of `mime` with
    /// auto-start off, both in a new pipeline.
    pub fn new(constraints: &str, mime: &str) -> Self {
        let pipeline = gst::Pipeline::new();
        let mut stream = gst::ElementFactory::make("mediastream");
        if !constraints.is_empty() {
            stream = stream.property("constraints", constraints);
        }
        let stream = stream.build().unwrap();
        let rec = gst::ElementFactory::make("mediarecorder")
            .property("mime-type", mime)
            .property("auto-start", false)
            .build()
            .unwrap();
        pipeline.add_many([&stream, &rec]).unwrap();
        link_to_recorder(&stream, &rec);
        Self {
            pipeline,
            stream,
            rec,
        }
    }
}

/// Events from `rx` until (and with) the first that `done` accepts, within
/// `secs`; if none does, a panic that shows `so_far()`.
pub fn events_until<E, S: std::fmt::Debug>(
    rx: &std::sync::mpsc::Receiver<E>,
    secs: u64,
    mut done: impl FnMut(&E) -> bool,
    so_far: impl Fn() -> S,
) -> Vec<E> {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    let mut out = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let ev = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("not seen within {secs} s; so far: {:?}", so_far()));
        let stop = done(&ev);
        out.push(ev);
        if stop {
            return out;
        }
    }
}

/// `element` added to `p`, started, and fed by `pad`.
pub fn add_fed_by(p: &gst::Pipeline, element: &gst::Element, pad: &gst::Pad) {
    p.add(element).unwrap();
    element.sync_state_with_parent().unwrap();
    pad.link(&element.static_pad("sink").unwrap()).unwrap();
}

/// A `mediastream` of `constraints` in `p`.
pub fn stream_in(p: &gst::Pipeline, constraints: &str) -> gst::Element {
    let stream = gst::ElementFactory::make("mediastream")
        .property("constraints", constraints)
        .build()
        .unwrap();
    p.add(&stream).unwrap();
    stream
}

/// An appsink (`sync=false max-buffers=2 drop=true`, named `sink_` and the
/// pad's name) in `p` for each src pad `stream` adds, in order.
pub fn appsink_per_pad(
    p: &gst::Pipeline,
    stream: &gst::Element,
) -> std::sync::Arc<std::sync::Mutex<Vec<gst::Element>>> {
    let sinks = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let s = sinks.clone();
    let weak = p.downgrade();
    stream.connect_pad_added(move |_, pad| {
        if pad.direction() != gst::PadDirection::Src {
            return;
        }
        let p = weak.upgrade().unwrap();
        let sink = gst::ElementFactory::make("appsink")
            .name(format!("sink_{}", pad.name()))
            .property("sync", false)
            .property("max-buffers", 2u32)
            .property("drop", true)
            .build()
            .unwrap();
        add_fed_by(&p, &sink, pad);
        s.lock().unwrap().push(sink);
    });
    sinks
}

/// A live `factory` (`videotestsrc`, `audiotestsrc`).
pub fn live_source(factory: &str) -> gst::Element {
    gst::ElementFactory::make(factory)
        .property("is-live", true)
        .build()
        .unwrap()
}
