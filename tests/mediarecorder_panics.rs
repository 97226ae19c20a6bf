// SPDX-License-Identifier: MPL-2.0

//! A recorder that panicked while starting (as `video-bits-per-second`
//! above 2^31 once did, in the state change of auto-start): the panic is
//! an element error, NULL succeeds and clears it, the same recorder
//! records again, and the pipeline is freed (it used to spin for ever in
//! the bin's dispose).
//!
//! One test: an injected panic is process-wide.

#[path = "common/launch_recording.rs"]
mod launch_recording;
#[path = "common/track.rs"]
mod track;

use gst::prelude::*;
use gstmediastream::fault::inject_panic;
use std::sync::{Arc, Mutex};

#[test]
fn a_recorder_that_panicked_records_again_after_null() {
    track::init_builtin();
    let pipeline = gst::parse::launch(
        r#"mediastream name=s constraints="{\"video\":{\"width\":320},\"audio\":true}"
           s.video_0 ! r.video_0 s.audio_0 ! r.audio_0 mediarecorder name=r timeslice=250"#,
    )
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let rec = pipeline.by_name("r").unwrap();
    let data = launch_recording::collect_chunks(&rec);
    let stopped = track::signal_channel(&rec, "stopped");
    let bus = pipeline.bus().unwrap();

    // auto-start runs in the state change to PLAYING.
    inject_panic("mediarecorder:encoder");
    let _ = pipeline.set_state(gst::State::Playing);
    let msg = bus
        .timed_pop_filtered(gst::ClockTime::from_seconds(10), &[gst::MessageType::Error])
        .expect("the panic on the bus");
    let gst::MessageView::Error(e) = msg.view() else {
        unreachable!()
    };
    assert!(e.error().matches(gst::LibraryError::Failed), "{e:?}");
    assert_eq!(
        e.error().message(),
        "Panicked: panic injected at mediarecorder:encoder"
    );
    assert_eq!(msg.src().unwrap(), rec.upcast_ref::<gst::Object>());
    assert_eq!(
        pipeline.set_state(gst::State::Null),
        Ok(gst::StateChangeSuccess::Success)
    );
    assert!(
        rec.downcast_ref::<gst::Bin>()
            .unwrap()
            .children()
            .is_empty(),
        "nothing of the broken start is left in the recorder"
    );

    // The same recorder, after NULL: it records.
    pipeline.set_state(gst::State::Playing).unwrap();
    let (ok, state, _) = pipeline.state(gst::ClockTime::from_seconds(10));
    ok.unwrap();
    assert_eq!(state, gst::State::Playing);
    let clock = pipeline.clock().unwrap();
    let _ = clock
        .new_single_shot_id(clock.time() + gst::ClockTime::from_mseconds(1500))
        .wait();
    let result = rec.emit_by_name::<gst::Structure>("stop", &[]);
    assert!(result.get::<bool>("success").unwrap(), "{result}");
    stopped
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("stopped");
    assert!(
        bus.pop_filtered(&[gst::MessageType::Error]).is_none(),
        "no error the second time"
    );
    assert_eq!(
        pipeline.set_state(gst::State::Null),
        Ok(gst::StateChangeSuccess::Success)
    );
    let data = data.lock().unwrap().clone();
    // The recording demuxes with both tracks.
    let p = gst::parse::launch(
        "appsrc name=src format=bytes ! matroskademux name=d d.video_0 ! fakesink name=v sync=false async=false d.audio_0 ! fakesink sync=false async=false",
    )
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let frames = Arc::new(Mutex::new(0u32));
    let f = frames.clone();
    p.by_name("v")
        .unwrap()
        .static_pad("sink")
        .unwrap()
        .add_probe(gst::PadProbeType::BUFFER, move |_, _| {
            *f.lock().unwrap() += 1;
            gst::PadProbeReturn::Ok
        });
    p.set_state(gst::State::Playing).unwrap();
    let src = p.by_name("src").unwrap();
    launch_recording::push_all(&src, &data);
    let end = launch_recording::eos_or_error(&p, 30, "the recording demuxes to its end");
    p.set_state(gst::State::Null).unwrap();
    assert_eq!(end.type_(), gst::MessageType::Eos, "{end:?}");
    let frames = *frames.lock().unwrap();
    assert!(frames >= 30, "{frames} video frames in 1.5 s");
    // Freed: the bin's dispose removes its children (it used to loop for
    // ever on a recorder that refused to let them go).
    drop(pipeline);
}
