// SPDX-License-Identifier: MPL-2.0

//! Every value a property accepts is safe. The test walks every property
//! of every element of the plugin through GObject introspection (a new
//! property, or a new element, is covered without editing this file: an
//! element without a small pipeline below fails the test) and sets each
//! writable one to the edges of its type: numbers to their minimum,
//! maximum, 0 and past the i32 range where the type allows it, strings to
//! empty, 1 MB and odd bytes, enums to every value, objects to elements
//! that are and are not what the property wants. Each value is set once
//! before the pipeline plays and once while it plays, and the pipeline
//! runs until a buffer passes the element (or an error, or EOS). Never a
//! panic, never a hang, never an error message that repeats the input;
//! and after an error, NULL clears it: the same element, back to its
//! usual value, plays again and passes buffers.
//!
//! One test: the fake devices are process-wide, and the location values
//! write into a temporary working directory. `mediastreamdisplaysrc`
//! captures an Xvfb the test starts (and stops).

#[path = "common/track.rs"]
mod track;
#[path = "common/xvfb.rs"]
mod xvfb;

use gst::glib;
use gst::prelude::*;
use std::sync::{OnceLock, mpsc};
use std::time::{Duration, Instant};

/// The longest one case (play, wait, NULL) may take before it counts as
/// a hang: far above a healthy case's few hundred milliseconds.
const HANG: Duration = Duration::from_secs(60);
/// How long a case waits for the first buffer through the element.
const MOMENT: Duration = Duration::from_secs(5);
/// An error message longer than this repeats its input.
const LONGEST_MESSAGE: usize = 2000;

/// A small pipeline around one element of the plugin: the element with
/// its usual property values, and the pads whose buffers show it works.
struct Small {
    pipeline: gst::Pipeline,
    element: gst::Element,
    seen: mpsc::Receiver<()>,
}

/// Sends on `tx` when a buffer passes `pad`.
fn watch(pad: &gst::Pad, tx: &mpsc::Sender<()>) {
    let tx = tx.clone();
    pad.add_probe(
        gst::PadProbeType::BUFFER | gst::PadProbeType::BUFFER_LIST,
        move |_, _| {
            let _ = tx.send(());
            gst::PadProbeReturn::Ok
        },
    );
}

fn make(factory: &str) -> gst::Element {
    gst::ElementFactory::make(factory)
        .build()
        .unwrap_or_else(|e| panic!("{factory}: {e}"))
}

fn launch(pipeline: &gst::Pipeline, description: &str) -> gst::Element {
    let bin = gst::parse::bin_from_description(description, true)
        .unwrap_or_else(|e| panic!("{description}: {e}"));
    pipeline.add(&bin).unwrap();
    bin.upcast()
}

/// The X display `mediastreamdisplaysrc` captures: an Xvfb of the test's own.
static DISPLAY: OnceLock<String> = OnceLock::new();

/// The properties each element runs with in its small pipeline, set
/// before the walked one (which may replace them), and set again to
/// bring the element back after an error.
fn usual(factory: &str) -> Vec<(&'static str, glib::Value)> {
    match factory {
        "mediastream" => vec![("constraints", r#"{"video":true}"#.to_value())],
        "mediastreamfakesrc" => vec![("device-id", "fake-camera-front".to_value())],
        "mediastreamtracksink" => vec![("sink", make("fakesink").to_value())],
        // Where nothing listens: see `works`.
        "mediastreamjanussrc" => vec![("url", "ws://127.0.0.1:9".to_value())],
        "mediastreamwhipsink" => vec![("whip-endpoint", "http://127.0.0.1:9/whip".to_value())],
        "mediastreamdisplaysrc" => vec![(
            "display",
            DISPLAY.get().expect("the test's Xvfb").to_value(),
        )],
        _ => vec![],
    }
}

/// `element` in the smallest pipeline that makes it work.
fn small(factory: &str, element: gst::Element) -> Small {
    let pipeline = gst::Pipeline::new();
    let (tx, seen) = mpsc::channel();
    pipeline.add(&element).unwrap();
    match factory {
        "mediastreamsrc" | "mediastreamfakesrc" | "mediastreamdisplaysrc" => {
            let sink = make("fakesink");
            pipeline.add(&sink).unwrap();
            element.link(&sink).unwrap();
            watch(&element.static_pad("src").unwrap(), &tx);
        }
        "mediastream" => {
            let p = pipeline.downgrade();
            element.connect_pad_added(move |_, pad| {
                let Some(p) = p.upgrade() else { return };
                let sink = make("fakesink");
                sink.set_property("async", false);
                p.add(&sink).unwrap();
                pad.link(&sink.static_pad("sink").unwrap()).unwrap();
                watch(pad, &tx);
                let _ = sink.sync_state_with_parent();
            });
        }
        "mediastreamtracksink" => {
            let src = make("mediastreamsrc");
            pipeline.add(&src).unwrap();
            src.link(&element).unwrap();
            watch(&element.static_pad("sink").unwrap(), &tx);
        }
        "mediastreamwhipsink" => {
            let src = make("mediastreamsrc");
            pipeline.add(&src).unwrap();
            let pad = element.request_pad_simple("video_%u").unwrap();
            src.static_pad("src").unwrap().link(&pad).unwrap();
            watch(&pad, &tx);
        }
        "mediastreamjanussrc" => {
            let p = pipeline.downgrade();
            element.connect_pad_added(move |_, pad| {
                let Some(p) = p.upgrade() else { return };
                let sink = make("fakesink");
                p.add(&sink).unwrap();
                let _ = pad.link(&sink.static_pad("sink").unwrap());
                watch(pad, &tx);
                let _ = sink.sync_state_with_parent();
            });
        }
        "mediarecorder" => {
            let src = make("mediastreamsrc");
            pipeline.add(&src).unwrap();
            let pad = element.request_pad_simple("video_%u").unwrap();
            src.static_pad("src").unwrap().link(&pad).unwrap();
            watch(&pad, &tx);
        }
        "mediastreamrtpenc" => {
            let src = make("mediastreamsrc");
            let sink = make("fakesink");
            pipeline.add_many([&src, &sink]).unwrap();
            gst::Element::link_many([&src, &element, &sink]).unwrap();
            watch(&element.static_pad("src").unwrap(), &tx);
        }
        "mediastreamrtpdec" => {
            let up = launch(
                &pipeline,
                "videotestsrc is-live=true ! video/x-raw,width=64,height=48,framerate=30/1 \
                 ! vp8enc deadline=1 ! rtpvp8pay",
            );
            let sink = make("fakesink");
            pipeline.add(&sink).unwrap();
            gst::Element::link_many([&up, &element, &sink]).unwrap();
            watch(&element.static_pad("src").unwrap(), &tx);
        }
        other => panic!(
            "{other}: an element of the plugin with no small pipeline in tests/property_values.rs: add one"
        ),
    }
    Small {
        pipeline,
        element,
        seen,
    }
}

/// The values to try for one property: the edges of its type.
fn values(pspec: &glib::ParamSpec) -> Vec<(String, glib::Value)> {
    let mut out: Vec<(String, glib::Value)> = Vec::new();
    let mut add = |label: String, v: glib::Value| {
        if !out.iter().any(|(l, _)| *l == label) {
            out.push((label, v));
        }
    };
    macro_rules! numbers {
        ($p:expr, $t:ty, $extra:expr) => {{
            let (min, max) = ($p.minimum(), $p.maximum());
            let mut vals: Vec<$t> = vec![min, max];
            vals.extend($extra);
            for v in vals {
                if (min..=max).contains(&v) {
                    add(v.to_string(), v.to_value());
                }
            }
        }};
    }
    const PAST_I32: i64 = i32::MAX as i64 + 1;
    if let Some(p) = pspec.downcast_ref::<glib::ParamSpecInt>() {
        numbers!(p, i32, [0, -1, 1]);
    } else if let Some(p) = pspec.downcast_ref::<glib::ParamSpecUInt>() {
        numbers!(p, u32, [0, 1, PAST_I32 as u32]);
    } else if let Some(p) = pspec.downcast_ref::<glib::ParamSpecInt64>() {
        numbers!(p, i64, [0, -1, 1, PAST_I32, -PAST_I32 - 1]);
    } else if let Some(p) = pspec.downcast_ref::<glib::ParamSpecUInt64>() {
        numbers!(p, u64, [0, 1, PAST_I32 as u64, u32::MAX as u64 + 1]);
    } else if let Some(p) = pspec.downcast_ref::<glib::ParamSpecLong>() {
        numbers!(p, glib::ffi::glong, [0, -1, 1]);
    } else if let Some(p) = pspec.downcast_ref::<glib::ParamSpecULong>() {
        numbers!(p, glib::ffi::gulong, [0, 1]);
    } else if let Some(p) = pspec.downcast_ref::<glib::ParamSpecDouble>() {
        for v in [p.minimum(), p.maximum(), 0.0, -1.0, 1e300, f64::NAN] {
            if v.is_nan() || (p.minimum()..=p.maximum()).contains(&v) {
                add(format!("{v}"), v.to_value());
            }
        }
    } else if let Some(p) = pspec.downcast_ref::<glib::ParamSpecFloat>() {
        for v in [p.minimum(), p.maximum(), 0.0, -1.0] {
            if (p.minimum()..=p.maximum()).contains(&v) {
                add(format!("{v}"), v.to_value());
            }
        }
    } else if pspec.downcast_ref::<glib::ParamSpecBoolean>().is_some() {
        add("true".into(), true.to_value());
        add("false".into(), false.to_value());
    } else if pspec.downcast_ref::<glib::ParamSpecString>().is_some() {
        add("NULL".into(), None::<&str>.to_value());
        add("\"\"".into(), "".to_value());
        add("1 MB".into(), "{".repeat(1 << 20).to_value());
        add("1 MB of 'a'".into(), "a".repeat(1 << 20).to_value());
        for odd in [
            "\u{1}\u{1b}[31m\u{7f}\t\r\n",
            "ü€😀\u{feff}\u{202e}",
            "\"'\\{}[]<>;,=%00/../..",
            "{\"video\":{\"width\":1e309}}",
            "video/webm;codecs=\"vp8,opus",
            "mediastream://",
            "-1",
            "/",
        ] {
            add(format!("{odd:?}"), odd.to_value());
        }
    } else if let Some(p) = pspec.downcast_ref::<glib::ParamSpecEnum>() {
        let class = p.enum_class();
        for v in class.values() {
            add(
                v.nick().to_string(),
                class.to_value(v.value()).expect("an enum value"),
            );
        }
    } else if let Some(p) = pspec.downcast_ref::<glib::ParamSpecFlags>() {
        let class = p.flags_class();
        let mut all = 0;
        for v in class.values() {
            all |= v.value();
            add(
                v.nick().to_string(),
                class.to_value(v.value()).expect("a flags value"),
            );
        }
        add("all".into(), class.to_value(all).expect("a flags value"));
        add("none".into(), class.to_value(0).expect("a flags value"));
    } else if pspec.value_type().is_a(gst::Element::static_type()) {
        add("NULL".into(), None::<gst::Element>.to_value());
        for f in [
            "fakesink",
            "identity",
            "videotestsrc",
            "capsfilter",
            "mediastream",
        ] {
            add(f.into(), make(f).to_value());
        }
    } else if pspec.value_type() == gst::Caps::static_type() {
        add("NULL".into(), None::<gst::Caps>.to_value());
        for caps in [
            "ANY",
            "EMPTY",
            "video/x-raw",
            "video/x-raw,format=I420,width=1,height=1,framerate=0/1",
            "image/jpeg,width=16,height=16,framerate=30/1",
            "audio/x-raw,format=S16LE,layout=interleaved,rate=1,channels=1",
            "application/x-nothing",
        ] {
            add(caps.into(), caps.parse::<gst::Caps>().unwrap().to_value());
        }
    } else if pspec.value_type() == gst::Structure::static_type() {
        add("NULL".into(), None::<gst::Structure>.to_value());
        add(
            "empty".into(),
            gst::Structure::new_empty("nothing").to_value(),
        );
    } else if pspec.value_type() == <Vec<String>>::static_type() {
        add("NULL".into(), glib::Value::from_type(pspec.value_type()));
        add("[\"\"]".into(), glib::StrV::from(vec![""]).to_value());
    } else {
        panic!(
            "{}: no values for properties of type {} in tests/property_values.rs: add them",
            pspec.name(),
            pspec.value_type().name()
        );
    }
    // Only what the property accepts (GObject refuses the rest, NaN for a
    // double among them).
    out.retain(|(_, v)| accepts(pspec, v));
    out
}

/// Whether GObject takes `value` for `pspec` as it is (it would change it
/// otherwise, and the binding refuses it).
fn accepts(pspec: &glib::ParamSpec, value: &glib::Value) -> bool {
    use glib::translate::{ToGlibPtr, ToGlibPtrMut};
    let mut copy = value.clone();
    // SAFETY: validates a copy of our own of a value of the pspec's type.
    let changed = unsafe {
        glib::gobject_ffi::g_param_value_validate(pspec.to_glib_none().0, copy.to_glib_none_mut().0)
    };
    changed == glib::ffi::GFALSE
}

/// What one case saw.
#[derive(Debug, Default)]
struct Outcome {
    errors: Vec<String>,
    flowed: bool,
}

/// Collects the bus's errors and waits for a buffer, EOS or an error.
fn run(s: &Small, when: &str) -> Outcome {
    let mut outcome = Outcome::default();
    let bus = s.pipeline.bus().unwrap();
    let deadline = Instant::now() + MOMENT;
    let _ = s.pipeline.set_state(gst::State::Playing);
    loop {
        if s.seen.try_recv().is_ok() {
            outcome.flowed = true;
        }
        let mut done = outcome.flowed;
        while let Some(msg) = bus.pop() {
            match msg.view() {
                gst::MessageView::Error(e) => {
                    let src = msg.src().map(|s| s.path_string()).unwrap_or_default();
                    let text = e.error().message().to_owned();
                    assert!(
                        !text.contains("Panicked"),
                        "{when}: a panic from {src}: {text} ({:?})",
                        e.debug()
                    );
                    let debug = e.debug().map(|d| d.to_string()).unwrap_or_default();
                    assert!(
                        text.len() <= LONGEST_MESSAGE && debug.len() <= LONGEST_MESSAGE * 4,
                        "{when}: an error from {src} of {} bytes (debug {} bytes) repeats its input: {}…",
                        text.len(),
                        debug.len(),
                        text.chars().take(200).collect::<String>()
                    );
                    assert!(
                        !text.trim().is_empty(),
                        "{when}: an error without a message from {src}"
                    );
                    outcome.errors.push(format!("{src}: {text}"));
                    done = true;
                }
                gst::MessageView::Eos(_) => done = true,
                _ => {}
            }
        }
        if done || Instant::now() > deadline {
            break;
        }
        let _ = s.seen.recv_timeout(Duration::from_millis(20)).map(|_| {
            outcome.flowed = true;
        });
    }
    outcome
}

/// Whether the element did its usual work. The elements that talk to a
/// server point at a port where nothing listens (tests/sfu.rs runs them
/// against Janus): the subscriber's work there is to say so, one error
/// naming the server; the publisher takes the track's buffers (and says
/// so in its turn, once it offers).
fn works(factory: &str, outcome: &Outcome) -> bool {
    match factory {
        "mediastreamjanussrc" => {
            matches!(&outcome.errors[..], [e] if e.contains("cannot be reached"))
        }
        _ => outcome.errors.is_empty() && outcome.flowed,
    }
}

/// The usual value of a property in its small pipeline.
fn usual_value(factory: &str, pspec: &glib::ParamSpec) -> glib::Value {
    usual(factory)
        .into_iter()
        .find(|(n, _)| *n == pspec.name())
        .map(|(_, v)| v)
        .unwrap_or_else(|| pspec.default_value().clone())
}

/// The case's name in the report: the element, the property, the value's
/// label, and when it is set.
fn case_name(factory: &str, pspec: &glib::ParamSpec, label: &str, live: bool) -> String {
    format!(
        "{factory} {}={label} ({})",
        pspec.name(),
        if live {
            "while playing"
        } else {
            "before playing"
        }
    )
}

/// One value of one property, set before playing or while playing. What
/// happened, for the report; panics on a panic, a hang or a long error.
fn case(
    factory: &str,
    pspec: &glib::ParamSpec,
    label: &str,
    value: &glib::Value,
    live: bool,
) -> String {
    let when = case_name(factory, pspec, label, live);
    let construct_only = pspec.flags().contains(glib::ParamFlags::CONSTRUCT_ONLY);
    let mut builder = gst::ElementFactory::make(factory);
    for (name, v) in usual(factory) {
        builder = builder.property(name, v);
    }
    if construct_only {
        builder = builder.property(pspec.name(), value.clone());
    }
    let element = builder.build().unwrap();
    if !construct_only && !live {
        element.set_property_from_value(pspec.name(), value);
    }
    let s = small(factory, element);
    let mut outcome = if live && !construct_only {
        let first = run(&s, &when);
        s.element.set_property_from_value(pspec.name(), value);
        let mut second = run(&s, &when);
        second.errors.splice(0..0, first.errors);
        second
    } else {
        run(&s, &when)
    };
    assert!(
        s.pipeline.set_state(gst::State::Null).is_ok(),
        "{when}: the pipeline refused NULL"
    );
    let mut report = match (&outcome.errors[..], outcome.flowed) {
        ([], true) => "ok".to_string(),
        ([], false) => "no buffer, no error".to_string(),
        (errors, _) => format!("error: {}", errors.join(" | ")),
    };
    // NULL cleared the error: back to the usual value, it works again.
    if !outcome.errors.is_empty() && !construct_only {
        s.element
            .set_property_from_value(pspec.name(), &usual_value(factory, pspec));
        outcome = run(&s, &format!("{when}, then NULL and the usual value"));
        assert!(
            works(factory, &outcome),
            "{when}: after NULL and back to its usual value the element does not work again: {outcome:?}"
        );
        assert!(s.pipeline.set_state(gst::State::Null).is_ok());
        report.push_str("; works again after NULL");
    }
    report
}

#[test]
fn every_value_every_property_accepts_is_safe() {
    // `mediastreamtracksink` without `sink` renders with autovideosink,
    // which tries dfbvideosink (gst-plugins-bad), and that crashes on a
    // machine without a framebuffer: `videotestsrc ! autovideosink` does
    // too, here. Not ours to fix; docs/mediastream.md says how
    // to avoid it.
    // SAFETY: before GStreamer starts and before any other thread.
    unsafe { std::env::set_var("GST_PLUGIN_FEATURE_RANK", "dfbvideosink:NONE") };
    track::init_builtin();
    // mediastreamdisplaysrc's screen (scripts/setup installs Xvfb).
    let x = xvfb::Xvfb::start(64, 48);
    DISPLAY.set(x.display.clone()).unwrap();
    let dir = std::env::temp_dir().join(format!("property-values-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Relative `location` values land here, not in the repository.
    std::env::set_current_dir(&dir).unwrap();

    let mut factories: Vec<String> = gst::Registry::get()
        .features_by_plugin("mediastream")
        .into_iter()
        .filter_map(|f| f.downcast::<gst::ElementFactory>().ok())
        .map(|f| f.name().to_string())
        .collect();
    factories.sort();
    assert!(factories.len() >= 7, "the plugin's elements: {factories:?}");

    let mut cases = 0;
    let mut problems: Vec<String> = Vec::new();
    for factory in &factories {
        let probe = make(factory);
        let own = probe.type_();
        let pspecs: Vec<glib::ParamSpec> = probe
            .list_properties()
            .iter()
            .filter(|p| p.owner_type() == own && p.flags().contains(glib::ParamFlags::WRITABLE))
            .cloned()
            .collect();
        drop(probe);
        for pspec in &pspecs {
            for (index, (label, _)) in values(pspec).into_iter().enumerate() {
                for live in [false, true] {
                    let (tx, rx) = mpsc::channel();
                    let (f, p) = (factory.clone(), pspec.clone());
                    // The values are made again on the worker: a
                    // glib::Value is not Send.
                    let worker = std::thread::spawn(move || {
                        let (l, v) = values(&p).swap_remove(index);
                        let report = case(&f, &p, &l, &v, live);
                        let _ = tx.send(report);
                    });
                    let name = case_name(factory, pspec, &label, live);
                    match rx.recv_timeout(HANG) {
                        Ok(report) => {
                            println!("{name}: {report}");
                            worker.join().unwrap();
                        }
                        // The worker panicked: its message says why.
                        Err(mpsc::RecvTimeoutError::Disconnected) => {
                            let e = worker.join().unwrap_err();
                            let why = e
                                .downcast_ref::<String>()
                                .cloned()
                                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                                .unwrap_or_default();
                            println!("{name}: FAILED: {why}");
                            problems.push(why);
                        }
                        Err(mpsc::RecvTimeoutError::Timeout) => {
                            println!("{name}: FAILED: a hang");
                            problems.push(format!("{name}: a hang: no result within {HANG:?}"));
                        }
                    }
                    cases += 1;
                }
            }
        }
    }
    println!("{cases} cases");
    drop(x);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        problems.is_empty(),
        "{} of {cases} cases failed:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
