//! Timing of a track against the device's own element (for scripts/bench):
//! time to first frame (getUserMedia latency), cold and with the device
//! monitor warm, the latency a live pipeline reports, the share of buffers
//! at the track's pad that are the device's own, and the new memories per
//! buffer of a disabled track.
//!
//! ```text
//! GST_MEDIASTREAM_FAKE_DEVICES=1 track_timing
//! ```
//!
//! Prints one JSON object; times in milliseconds.

use gst::prelude::*;
use serde_json::json;
use std::time::Instant;

/// NULL -> first buffer at the sink; and the pipeline's latency once
/// playing.
fn first_frame(desc: &str) -> (f64, Option<gst::ClockTime>) {
    let pipeline = gst::parse::launch(desc)
        .expect("the pipeline parses")
        .downcast::<gst::Pipeline>()
        .unwrap();
    let sink = pipeline.by_name("sink").expect("a sink named sink");
    let t0 = Instant::now();
    pipeline
        .set_state(gst::State::Playing)
        .expect("the pipeline plays");
    let sample = sink.emit_by_name::<Option<gst::Sample>>(
        "try-pull-sample",
        &[&gst::ClockTime::from_seconds(10)],
    );
    let ms = t0.elapsed().as_secs_f64() * 1e3;
    assert!(sample.is_some(), "no frame from {desc}");
    let mut q = gst::query::Latency::new();
    let latency = pipeline.query(&mut q).then(|| q.result().1);
    pipeline.set_state(gst::State::Null).unwrap();
    (ms, latency)
}

/// Over 100 buffers of a native track: the share whose memory the device
/// element produced; then, disabled, the new memories per buffer after the
/// first.
fn zero_copy() -> (f64, f64) {
    use std::sync::{Arc, Mutex};
    let pipeline = gst::parse::launch(r#"mediastreamsrc name=t constraints="{}" ! appsink name=sink sync=false max-buffers=1 drop=true"#)
        .unwrap()
        .downcast::<gst::Pipeline>()
        .unwrap();
    let track = pipeline.by_name("t").unwrap();
    let sink = pipeline.by_name("sink").unwrap();
    pipeline.set_state(gst::State::Ready).unwrap();
    let device = track
        .downcast_ref::<gst::Bin>()
        .unwrap()
        .children()
        .into_iter()
        .find(|e| {
            e.factory()
                .is_some_and(|f| f.name() == "mediastreamfakesrc")
        })
        .expect("a fake device (GST_MEDIASTREAM_FAKE_DEVICES)");
    let produced = Arc::new(Mutex::new(std::collections::HashSet::<usize>::new()));
    let p = produced.clone();
    device
        .static_pad("src")
        .unwrap()
        .add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            if let Some(gst::PadProbeData::Buffer(b)) = &info.data {
                p.lock().unwrap().insert(b.peek_memory(0).as_ptr() as usize);
            }
            gst::PadProbeReturn::Ok
        });
    pipeline.set_state(gst::State::Playing).unwrap();
    let pull = || {
        sink.emit_by_name::<Option<gst::Sample>>(
            "try-pull-sample",
            &[&gst::ClockTime::from_seconds(10)],
        )
        .expect("a frame")
    };
    let mut own = 0;
    for _ in 0..100 {
        let mem = pull().buffer().unwrap().peek_memory(0).as_ptr() as usize;
        if produced.lock().unwrap().contains(&mem) {
            own += 1;
        }
    }
    track.set_property("enabled", false);
    // Let the switch reach the sink, then count memories.
    for _ in 0..5 {
        pull();
    }
    let mut seen = std::collections::HashSet::new();
    for _ in 0..100 {
        let m = pull().buffer().unwrap().peek_memory(0).as_ptr() as usize;
        seen.insert(m);
    }
    pipeline.set_state(gst::State::Null).unwrap();
    (own as f64 / 100.0, (seen.len() - 1) as f64 / 100.0)
}

fn main() {
    gst::init().unwrap();
    gstmediastream::ensure_registered();
    let sink = "appsink name=sink sync=false";
    // The device's own element, as a user would write it by hand; the first
    // run loads the plugins both pipelines use, so it is not counted.
    let plain = format!(
        "mediastreamfakesrc device-id=fake-camera-front ! video/x-raw,width=640,height=480,framerate=30/1 ! {sink}"
    );
    first_frame(&plain);
    let (plain_ms, plain_latency) = first_frame(&plain);
    let (cold_ms, track_latency) =
        first_frame(&format!(r#"mediastreamsrc constraints="{{}}" ! {sink}"#));
    let (warm_ms, _) = first_frame(&format!(r#"mediastreamsrc constraints="{{}}" ! {sink}"#));
    let (_, crop_latency) = first_frame(&format!(
        r#"mediastreamsrc constraints="{{\"width\":{{\"exact\":320}},\"height\":{{\"exact\":180}}}}" ! {sink}"#
    ));
    let (zero_copy, blank_allocs) = zero_copy();
    let ns = |l: Option<gst::ClockTime>| l.map(|l| l.nseconds());
    println!(
        "{}",
        json!({
            "plainFirstFrameMs": plain_ms,
            "trackFirstFrameMs": cold_ms,
            "trackFirstFrameWarmMs": warm_ms,
            "plainLatencyNs": ns(plain_latency),
            "trackLatencyNs": ns(track_latency),
            "cropLatencyNs": ns(crop_latency),
            "zeroCopyShare": zero_copy,
            "disabledNewMemoriesPerBuffer": blank_allocs,
        })
    );
}
