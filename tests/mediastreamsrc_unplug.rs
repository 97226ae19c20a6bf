// SPDX-License-Identifier: MPL-2.0

//! Unplugging: a fake device removed from its file ends its track with
//! `ended` and EOS, not an error, while another track keeps flowing; and a
//! kind with no device is a NotFoundError. One process, one device file.

#[path = "common/track.rs"]
mod track;

use gst::prelude::*;
use std::path::Path;
use std::time::Duration;

fn write_devices(path: &Path, ids: &[&str]) {
    let devices: Vec<String> = ids
        .iter()
        .map(|id| {
            format!(
                r#"{{"kind": "videoinput", "label": "Camera {id}", "deviceId": "{id}", "broken": {}, "caps": "video/x-raw,format=I420,width=320,height=240,framerate=30/1"}}"#,
                *id == "broken"
            )
        })
        .collect();
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, format!(r#"{{"devices": [{}]}}"#, devices.join(","))).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[test]
fn unplugged_device_ends_its_track_only() {
    let dir = std::env::temp_dir().join(format!("gst-mediastream-unplug-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("devices.json");
    write_devices(&path, &["a", "b", "broken"]);
    // SAFETY: the only test of this binary, before any other thread exists.
    unsafe { std::env::set_var("GST_MEDIASTREAM_FAKE_DEVICES", &path) };
    track::init();

    // No microphone in the file.
    let t = track::track("audio", "{}", "");
    assert!(t.pipeline.set_state(gst::State::Ready).is_err());
    let (err, details) = track::error_details(&t.pipeline);
    assert!(err.matches(gst::ResourceError::NotFound), "{err}");
    assert_eq!(details.get::<&str>("name").unwrap(), "NotFoundError");
    drop(t);

    // A device that is listed but cannot be opened.
    let t = track::track("video", r#"{"deviceId":{"exact":"broken"}}"#, "");
    assert!(t.pipeline.set_state(gst::State::Ready).is_err());
    let (err, details) = track::error_details(&t.pipeline);
    assert_eq!(details.get::<&str>("name").unwrap(), "NotReadableError");
    assert_eq!(
        err.message(),
        "NotReadableError: could not start the device 'Camera broken': Could not open device 'broken': it is busy or broken"
    );
    drop(t);

    let a = track::track("video", r#"{"deviceId":{"exact":"a"}}"#, "");
    let b = track::track("video", r#"{"deviceId":{"exact":"b"}}"#, "");
    let rx = track::signal_channel(&a.src, "ended");
    a.play().unwrap();
    b.play().unwrap();
    a.pull().unwrap();
    b.pull().unwrap();

    write_devices(&path, &["b", "broken"]);
    rx.recv_timeout(Duration::from_secs(5))
        .expect("ended within 5 s of the unplug");
    assert!(
        a.wait_message("mediastream-track-ended", Duration::from_secs(2))
            .is_some()
    );
    let mut eos = false;
    for _ in 0..100 {
        if a.pull().is_none() {
            eos = a.sink.property::<bool>("eos");
            break;
        }
    }
    assert!(eos, "the ended track's sink got EOS");
    // No error reached the application.
    let bus = a.pipeline.bus().unwrap();
    assert!(bus.pop_filtered(&[gst::MessageType::Error]).is_none());
    // The other track keeps flowing.
    for _ in 0..10 {
        assert!(b.pull().is_some());
    }
    assert_eq!(
        b.src
            .property_value("ready-state")
            .get::<gstmediastream::track::ReadyState>()
            .unwrap(),
        gstmediastream::track::ReadyState::Live
    );
    let _ = std::fs::remove_dir_all(&dir);
}
