// SPDX-License-Identifier: MPL-2.0

//! N tracks on one camera, for `scripts/bench shared`: either N
//! `mediastreamsrc` tracks (mixed sizes) on an exclusive fake camera, each
//! in a pipeline of its own (one shared capture), or the plain pipeline a
//! user would write: one `videotestsrc` and a `tee` with a `queue` and a
//! `videoconvertscale` per size. Prints one JSON line: CPU seconds of the
//! process over the measured window, peak resident memory, and each
//! track's frames per second.
//!
//!   shared_tracks (tracks|plain) N SECONDS

use gst::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The sizes the tracks ask for, in turn: the camera's own, then scaled.
const SIZES: [(u32, u32); 4] = [(1280, 720), (640, 360), (320, 180), (960, 540)];
const RATE: u32 = 30;

fn cpu_seconds() -> f64 {
    // SAFETY: getrusage writes the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

fn peak_rss_kib() -> i64 {
    // SAFETY: as above.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    u.ru_maxrss
}

/// A counting sink: `fakesink` whose buffers are counted on its pad.
fn counting_sink(counter: &Arc<AtomicU64>) -> gst::Element {
    let sink = gst::ElementFactory::make("fakesink")
        .property("sync", false)
        .build()
        .unwrap();
    let counter = counter.clone();
    sink.static_pad("sink")
        .unwrap()
        .add_probe(gst::PadProbeType::BUFFER, move |_, _| {
            counter.fetch_add(1, Ordering::Relaxed);
            gst::PadProbeReturn::Ok
        });
    sink
}

fn caps(w: u32, h: u32) -> gst::Caps {
    gst::Caps::builder("video/x-raw")
        .field("format", "I420")
        .field("width", w as i32)
        .field("height", h as i32)
        .field("framerate", gst::Fraction::new(RATE as i32, 1))
        .build()
}

fn tracks(n: usize, counters: &[Arc<AtomicU64>]) -> Vec<gst::Pipeline> {
    (0..n)
        .map(|i| {
            let (w, h) = SIZES[i % SIZES.len()];
            let constraints = if (w, h) == SIZES[0] {
                format!(r#"{{"deviceId": {{"exact": "cam"}}, "width": {w}, "height": {h}}}"#)
            } else {
                format!(
                    r#"{{"deviceId": {{"exact": "cam"}}, "width": {{"exact": {w}}}, "height": {{"exact": {h}}}, "resizeMode": "crop-and-scale"}}"#
                )
            };
            let pipeline = gst::Pipeline::new();
            let src = gst::ElementFactory::make("mediastreamsrc")
                .property("constraints", constraints)
                .build()
                .unwrap();
            let sink = counting_sink(&counters[i]);
            pipeline.add_many([&src, &sink]).unwrap();
            src.link(&sink).unwrap();
            // One after the other: the first (the camera's own size) sets the mode.
            pipeline.set_state(gst::State::Playing).unwrap();
            pipeline.state(gst::ClockTime::from_seconds(5)).0.unwrap();
            pipeline
        })
        .collect()
}

fn plain(n: usize, counters: &[Arc<AtomicU64>]) -> Vec<gst::Pipeline> {
    let pipeline = gst::Pipeline::new();
    let src = gst::ElementFactory::make("videotestsrc")
        .property("is-live", true)
        .property_from_str("pattern", "smpte")
        .build()
        .unwrap();
    let filter = gst::ElementFactory::make("capsfilter")
        .property("caps", caps(SIZES[0].0, SIZES[0].1))
        .build()
        .unwrap();
    let tee = gst::ElementFactory::make("tee").build().unwrap();
    pipeline.add_many([&src, &filter, &tee]).unwrap();
    gst::Element::link_many([&src, &filter, &tee]).unwrap();
    for (i, counter) in counters.iter().enumerate().take(n) {
        let (w, h) = SIZES[i % SIZES.len()];
        let queue = gst::ElementFactory::make("queue")
            .property("max-size-buffers", 1u32)
            .property_from_str("leaky", "downstream")
            .build()
            .unwrap();
        let mut branch = vec![queue];
        if (w, h) != SIZES[0] {
            branch.push(
                gst::ElementFactory::make("videoconvertscale")
                    .build()
                    .unwrap(),
            );
            branch.push(
                gst::ElementFactory::make("capsfilter")
                    .property("caps", caps(w, h))
                    .build()
                    .unwrap(),
            );
        }
        branch.push(counting_sink(counter));
        pipeline.add_many(&branch).unwrap();
        gst::Element::link_many(&branch).unwrap();
        tee.link(&branch[0]).unwrap();
    }
    pipeline.set_state(gst::State::Playing).unwrap();
    vec![pipeline]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (mode, n, seconds) = match &args[1..] {
        [m, n, s] => (
            m.clone(),
            n.parse::<usize>().unwrap(),
            s.parse::<f64>().unwrap(),
        ),
        _ => {
            eprintln!("usage: shared_tracks (tracks|plain) N SECONDS");
            std::process::exit(2);
        }
    };
    let dir = std::env::temp_dir().join(format!("gst-mediastream-shared-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("devices.json");
    std::fs::write(
        &file,
        format!(
            r#"{{"devices": [{{"kind": "videoinput", "label": "Bench camera", "deviceId": "cam",
  "exclusive": true, "pattern": "smpte",
  "caps": "video/x-raw,format=I420,width={},height={},framerate={RATE}/1"}}]}}"#,
            SIZES[0].0, SIZES[0].1
        ),
    )
    .unwrap();
    // SAFETY: before GStreamer starts any thread.
    unsafe { std::env::set_var("GST_MEDIASTREAM_FAKE_DEVICES", &file) };
    gst::init().unwrap();
    gstmediastream::ensure_registered();

    let counters: Vec<Arc<AtomicU64>> = (0..n).map(|_| Arc::default()).collect();
    let pipelines = match mode.as_str() {
        "tracks" => tracks(n, &counters),
        "plain" => plain(n, &counters),
        other => panic!("unknown mode {other}"),
    };
    // Warm-up: negotiation, the capture shared.
    std::thread::sleep(Duration::from_secs(1));
    let start: Vec<u64> = counters.iter().map(|c| c.load(Ordering::Relaxed)).collect();
    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    let cpu = cpu_seconds() - cpu0;
    let wall = t0.elapsed().as_secs_f64();
    let fps: Vec<String> = counters
        .iter()
        .zip(&start)
        .map(|(c, s)| format!("{:.2}", (c.load(Ordering::Relaxed) - s) as f64 / wall))
        .collect();
    for p in pipelines.iter().rev() {
        p.set_state(gst::State::Null).unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        r#"{{"mode": "{mode}", "n": {n}, "cpu": {cpu:.3}, "wall": {wall:.3}, "rssKiB": {}, "fps": [{}]}}"#,
        peak_rss_kib(),
        fps.join(", ")
    );
}
