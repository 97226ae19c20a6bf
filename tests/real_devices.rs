// SPDX-License-Identifier: MPL-2.0

//! Real device providers: PipeWire (a virtual camera) and PulseAudio (a
//! microphone and a speaker) started by `scripts/media-daemons`, as
//! `scripts/test` does. Without them these tests fail when `CI` is set and
//! skip with a message otherwise.

mod common;

use serde_json::Value;
use std::process::Command;
use std::time::Duration;

fn daemons_running() -> bool {
    if std::env::var_os("MEDIASTREAM_TEST_DAEMONS").is_some() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but PipeWire and PulseAudio are not running: run the tests through \
         scripts/media-daemons (scripts/test does)"
    );
    eprintln!(
        "SKIPPED: PipeWire and PulseAudio are not running; run \
         `scripts/media-daemons cargo test --test real_devices`"
    );
    false
}

fn enumerate() -> Value {
    common::json_output(
        Command::new(common::example("enumerate_devices"))
            .env_remove("GST_MEDIASTREAM_FAKE_DEVICES"),
    )
}

fn by_label<'a>(list: &'a Value, label: &str) -> Option<&'a Value> {
    list.as_array()
        .unwrap()
        .iter()
        .find(|d| d["label"] == label)
}

#[test]
fn virtual_camera_microphone_and_speaker_are_listed() {
    if !daemons_running() {
        return;
    }
    let list = enumerate();
    let camera = by_label(&list, "TestCamera").unwrap_or_else(|| panic!("no TestCamera in {list}"));
    assert_eq!(camera["kind"], "videoinput");
    let caps = &camera["capabilities"];
    assert_eq!(caps["width"], serde_json::json!({"min": 1, "max": 640}));
    assert_eq!(caps["height"], serde_json::json!({"min": 1, "max": 480}));
    assert_eq!(
        caps["frameRate"],
        serde_json::json!({"min": 0.0, "max": 30.0})
    );
    let id = camera["deviceId"].as_str().unwrap();
    assert!(
        id.len() == 64 && id.chars().all(|c| c.is_ascii_hexdigit()),
        "{id}"
    );

    let mic = by_label(&list, "PipeMic").unwrap_or_else(|| panic!("no PipeMic in {list}"));
    assert_eq!(mic["kind"], "audioinput");
    // Pulse offers the source at any rate and channel count.
    assert_eq!(
        mic["capabilities"]["sampleRate"],
        serde_json::json!({"min": 1, "max": 384000})
    );
    assert_eq!(
        mic["capabilities"]["channelCount"],
        serde_json::json!({"min": 1, "max": 32})
    );

    let speaker =
        by_label(&list, "NullSpeaker").unwrap_or_else(|| panic!("no NullSpeaker in {list}"));
    assert_eq!(speaker["kind"], "audiooutput");
    // The speaker's monitor is an Audio/Source, but not a microphone.
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|d| !d["label"].as_str().unwrap().starts_with("Monitor of")),
        "{list}"
    );
    // Spec order: audioinput, videoinput, audiooutput.
    let kinds: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    let mut sorted = kinds.clone();
    sorted.sort_by_key(|k| {
        ["audioinput", "videoinput", "audiooutput"]
            .iter()
            .position(|x| x == k)
    });
    assert_eq!(kinds, sorted);
}

#[test]
fn device_ids_are_the_same_in_two_processes() {
    if !daemons_running() {
        return;
    }
    let ids = |list: &Value| -> Vec<(String, String, String)> {
        let mut v: Vec<_> = list
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| {
                ["TestCamera", "PipeMic", "NullSpeaker"].contains(&d["label"].as_str().unwrap())
            })
            .map(|d| {
                (
                    d["label"].as_str().unwrap().to_owned(),
                    d["deviceId"].as_str().unwrap().to_owned(),
                    d["groupId"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        v.sort();
        v
    };
    // The daemons' devices (another test plugs a camera in and out).
    let first = ids(&enumerate());
    assert_eq!(first.len(), 3, "{first:?}");
    assert_eq!(first, ids(&enumerate()));
}

#[test]
fn killing_a_camera_process_is_a_removal() {
    if !daemons_running() {
        return;
    }
    let camera = common::virtual_camera("SecondCamera");
    let (watch, initial) = common::Watch::spawn(&[]);
    if by_label(&initial, "SecondCamera").is_none() {
        loop {
            let (change, device) = watch.next_change();
            if change == "added" && device["label"] == "SecondCamera" {
                break;
            }
        }
    }
    drop(camera);
    loop {
        let (change, device) = watch.next_change();
        if change == "removed" {
            assert_eq!(device["label"], "SecondCamera", "{device}");
            assert_eq!(device["kind"], "videoinput");
            break;
        }
    }
}

#[path = "common/recording.rs"]
mod recording;
#[path = "common/track.rs"]
mod track;

/// The device id of the PipeWire camera labelled `label`, once listed:
/// the list now, then the device layer's devicechange, up to 10 s.
fn camera_id(label: &str) -> String {
    use gstmediastream::devices::monitor::{DeviceChange, MediaDevices};
    let (tx, added) = std::sync::mpsc::channel();
    let (devices, _subscription) = MediaDevices::get().devices_and_subscribe(move |change| {
        if let DeviceChange::Added(d) = change {
            // The test may be done listening.
            let _ = tx.send(d.clone());
        }
    });
    let labelled = |d: &gstmediastream::devices::monitor::MediaDevice| d.info.label == label;
    if let Some(d) = devices.unwrap().into_iter().find(labelled) {
        return d.info.device_id;
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match added.recv_timeout(left) {
            Ok(d) if labelled(&d) => return d.info.device_id,
            Ok(_) => {}
            Err(_) => panic!("{label} not listed within 10 s"),
        }
    }
}

/// The PipeWire camera's process killed in the middle of a Matroska and an
/// MP4 recording: the video track ends, the microphone goes on until the
/// recording stops, and the file holds every frame the muxer got.
#[test]
fn killing_the_camera_mid_recording_loses_nothing() {
    use recording::{Container, record};
    if !daemons_running() {
        return;
    }
    track::init();
    let dir = common::TempDir::new("pw-record");
    for container in Container::ALL {
        let label = format!("RecordedCamera{}", container.extension());
        let camera = common::virtual_camera(&label);
        let id = camera_id(&label);
        let path = dir.join(&format!("kill.{}", container.extension()));
        let rec = record(
            &format!(r#"{{"video":{{"deviceId":{{"exact":"{id}"}}}},"audio":true}}"#),
            container,
            &path,
        );
        rec.wait_muxed("video", 10);
        rec.wait_muxed("audio", 10);
        drop(camera);
        rec.expect_video_ended_audio_going_on();
        rec.finish_losing_nothing();
    }
}

/// A camera process that dies ends its track (`ended` + EOS), not with an
/// error: a real provider's device going away mid-capture.
#[test]
fn killing_a_camera_process_ends_its_track() {
    use gst::prelude::*;
    if !daemons_running() {
        return;
    }
    let camera = common::virtual_camera("TrackCamera");
    track::init();
    let id = camera_id("TrackCamera");
    let t = track::track(
        "video",
        &format!(r#"{{"deviceId":{{"exact":"{id}"}}}}"#),
        "",
    );
    let rx = track::signal_channel(&t.src, "ended");
    t.play().unwrap();
    let first = t.pull().expect("frames from the PipeWire camera");
    assert_eq!(track::width_of(first.caps()), 320);
    drop(camera);
    rx.recv_timeout(Duration::from_secs(10))
        .expect("ended within 10 s of the kill");
    assert!(t.pull_until_eos(200), "EOS after the camera died");
    assert!(
        t.pipeline
            .bus()
            .unwrap()
            .pop_filtered(&[gst::MessageType::Error])
            .is_none()
    );
}

/// getDisplayMedia's audio on real devices: the system's sound is the
/// monitor of an output (PulseAudio's `NullSpeaker.monitor`), never a
/// microphone of enumerateDevices.
#[test]
fn the_speaker_s_monitor_is_the_system_s_sound() {
    use gst::prelude::*;
    if !daemons_running() {
        return;
    }
    track::init();
    let t = track::track("audio", "{}", "");
    t.src.set_property_from_str("capture", "display");
    t.play().unwrap();
    let sample = t.pull().expect("the system's sound");
    assert!(sample.buffer().is_some_and(|b| b.size() > 0));
    let label = t.src.property::<String>("label");
    assert!(label.starts_with("Monitor of"), "{label}");
    let settings = t.settings();
    assert!(settings.get::<i32>("sampleRate").unwrap() > 0, "{settings}");
    // Not among the microphones.
    let id = settings.get::<String>("deviceId").unwrap();
    let list = enumerate();
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|d| d["deviceId"] != id.as_str()),
        "{list}"
    );
}
