//! Timing of a track against the device's own element (for scripts/bench):
//! time to first frame (getUserMedia latency), cold and with the device
//! monitor warm, and the latency a live pipeline reports.
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
        })
    );
}
