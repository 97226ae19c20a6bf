// SPDX-License-Identifier: MPL-2.0

//! Faults of a device in the middle of a recording, with fake devices
//! whose file the test rewrites: unplugged (the track ends, the other goes
//! on, the file finishes with every frame the muxer got) and caps changed
//! by the device itself (the track follows). The PipeWire camera killed
//! mid-recording is in tests/real_devices.rs.
//!
//! One device file for the binary: the tests take turns (FILE lock).

mod common;
#[path = "common/recording.rs"]
mod recording;
#[path = "common/track.rs"]
mod track;

use gst::prelude::*;
use recording::{Container, record};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{LazyLock, Mutex, MutexGuard};
use std::time::Duration;

const CAM: &str = r#"{"kind": "videoinput", "label": "Fault camera", "deviceId": "cam", "caps": "video/x-raw,format=I420,width=320,height=240,framerate=30/1"}"#;
const MIC: &str = r#"{"kind": "audioinput", "label": "Fault microphone", "deviceId": "mic", "caps": "audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=1"}"#;

struct Devices {
    dir: common::TempDir,
}

static DEVICES: LazyLock<Mutex<Devices>> = LazyLock::new(|| {
    let dir = common::TempDir::new("faults");
    let d = Devices { dir };
    d.write(&[CAM, MIC]);
    // SAFETY: set once, before GStreamer starts any thread of this binary.
    unsafe { std::env::set_var("GST_MEDIASTREAM_FAKE_DEVICES", d.path()) };
    track::init();
    Mutex::new(d)
});

impl Devices {
    fn path(&self) -> PathBuf {
        self.dir.join("devices.json")
    }

    /// Replaces the file at once (rename), as a device manager would.
    fn write(&self, devices: &[&str]) {
        let tmp = self.dir.join("devices.json.tmp");
        std::fs::write(&tmp, format!(r#"{{"devices": [{}]}}"#, devices.join(","))).unwrap();
        std::fs::rename(&tmp, self.path()).unwrap();
    }
}

fn devices() -> MutexGuard<'static, Devices> {
    let d = DEVICES.lock().unwrap_or_else(|e| e.into_inner());
    d.replug();
    d
}

impl Devices {
    /// Both devices in the file, once the device monitor lists them again
    /// as written (a test before may have changed the camera's caps: a
    /// track selected on the stale list would not negotiate).
    fn replug(&self) {
        self.write(&[CAM, MIC]);
        let media = gstmediastream::devices::monitor::MediaDevices::get();
        let cam_modes = gstmediastream::constraints::caps::modes_from_caps(
            &gst::Caps::from_str("video/x-raw,format=I420,width=320,height=240,framerate=30/1")
                .unwrap(),
        );
        track::poll::until(
            "the device monitor to list cam and mic",
            Duration::from_secs(5),
            || {
                let devices = media.devices().unwrap();
                let cam = devices
                    .iter()
                    .any(|d| d.info.device_id == "cam" && d.info.modes == cam_modes);
                let mic = devices.iter().any(|d| d.info.device_id == "mic");
                cam && mic
            },
        );
    }
}

const BOTH: &str =
    r#"{"video": {"deviceId": {"exact": "cam"}}, "audio": {"deviceId": {"exact": "mic"}}}"#;

#[test]
fn unplugged_camera_mid_recording_loses_nothing() {
    let devices = devices();
    for container in Container::ALL {
        devices.replug();
        let path = devices
            .dir
            .join(&format!("unplug.{}", container.extension()));
        let rec = record(BOTH, container, &path);
        rec.wait_muxed("video", 20);
        rec.wait_muxed("audio", 20);

        devices.write(&[MIC]);
        rec.expect_video_ended_audio_going_on();
        rec.finish_losing_nothing();
    }
}

#[test]
fn a_camera_that_changes_caps_is_followed() {
    let devices = devices();
    let t = track::track("video", r#"{"deviceId": {"exact": "cam"}}"#, "");
    t.play().unwrap();
    assert_eq!(t.settings().get::<i32>("width").unwrap(), 320);
    if t.pull().is_none() {
        panic!(
            "{:?}",
            t.pipeline
                .bus()
                .unwrap()
                .pop_filtered(&[gst::MessageType::Error])
        );
    }
    t.pull_width(320);

    // The device switches to another size on its own.
    devices.write(&[
        &CAM.replace("width=320,height=240", "width=640,height=360"),
        MIC,
    ]);
    let sample = t.pull_width(640);
    let s = sample.caps().unwrap().structure(0).unwrap().to_owned();
    assert_eq!(s.get::<i32>("height").unwrap(), 360);
    let settings = t.settings();
    assert_eq!(settings.get::<i32>("width").unwrap(), 640, "{settings}");
    assert_eq!(settings.get::<i32>("height").unwrap(), 360, "{settings}");
    // The first negotiation posted one too: the one for the new size follows.
    loop {
        let changed = t
            .wait_message("mediastream-track-settings-changed", Duration::from_secs(5))
            .expect("settings-changed posted for the new size");
        let posted = changed.get::<gst::Structure>("settings").unwrap();
        if posted.get::<i32>("width").unwrap() == 640 {
            assert_eq!(posted.get::<i32>("height").unwrap(), 360, "{changed}");
            break;
        }
    }
    t.pipeline.set_state(gst::State::Null).unwrap();
    assert!(
        t.pipeline
            .bus()
            .unwrap()
            .pop_filtered(&[gst::MessageType::Error])
            .is_none(),
        "the size change was an error"
    );
}
