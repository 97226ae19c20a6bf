// SPDX-License-Identifier: MPL-2.0

//! Concurrency: while a two-track `mediastream` plays, four application
//! threads call `apply-constraints`, toggle `enabled`, read `settings` and
//! add and remove tracks for ten seconds (MEDIASTREAM_CONCURRENCY_SECS).
//! No deadlock, no panic, no error, and at the end each track's `settings`
//! match the caps flowing on its pad.

#[path = "common/track.rs"]
mod track;

use gst::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn seconds() -> u64 {
    std::env::var("MEDIASTREAM_CONCURRENCY_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10)
}

/// Whether the settings describe the caps (the W3C names of the fields).
fn settings_match(settings: &gst::Structure, caps: &gst::CapsRef) -> Result<(), String> {
    let s = caps.structure(0).ok_or("empty caps")?;
    let pairs: &[(&str, &str)] = if s.name() == "video/x-raw" {
        &[("width", "width"), ("height", "height")]
    } else {
        &[("sampleRate", "rate"), ("channelCount", "channels")]
    };
    for (w3c, field) in pairs {
        let want = settings
            .get::<i32>(*w3c)
            .map_err(|e| format!("{w3c}: {e}"))?;
        let got = s.get::<i32>(*field).map_err(|e| format!("{field}: {e}"))?;
        if want != got {
            return Err(format!("{w3c} {want} but {field} {got} in {caps}"));
        }
    }
    Ok(())
}

#[test]
fn four_threads_against_a_playing_stream() {
    track::init_builtin();
    let pipeline = gst::Pipeline::new();
    let ms = gst::ElementFactory::make("mediastream")
        .property("constraints", r#"{"video":true,"audio":true}"#)
        .build()
        .unwrap();
    pipeline.add(&ms).unwrap();
    let weak = pipeline.downgrade();
    ms.connect_pad_added(move |_, pad| {
        let (Some(p), gst::PadDirection::Src) = (weak.upgrade(), pad.direction()) else {
            return;
        };
        track::fakesink_for(&p, pad);
    });
    pipeline.set_state(gst::State::Playing).unwrap();
    // The sinks linked at pad-added finish their preroll asynchronously.
    let (reached, state, _) = pipeline.state(gst::ClockTime::from_seconds(10));
    assert!(
        reached.is_ok() && state == gst::State::Playing,
        "{reached:?} {state:?}"
    );
    let tracks = track::children_made_by(&ms, "mediastreamsrc");
    assert_eq!(tracks.len(), 2);
    let video = tracks
        .iter()
        .find(|t| {
            t.static_pad("src").unwrap().name() == "src"
                && t.property::<Option<gst::Structure>>("settings")
                    .is_some_and(|s| s.has_field("width"))
        })
        .expect("the video track")
        .clone();
    let audio = tracks.iter().find(|t| **t != video).unwrap().clone();

    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds());
    let mut threads = Vec::new();
    let spawn = |name: &str, mut f: Box<dyn FnMut(u64) + Send>| {
        let stop = stop.clone();
        let calls = calls.clone();
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    f(i);
                    i += 1;
                    calls.fetch_add(1, Ordering::Relaxed);
                }
            })
            .unwrap()
    };

    // applyConstraints: sizes the fake camera has natively and one it needs
    // to crop for, and an impossible one (OverconstrainedError).
    let (v, a) = (video.clone(), audio.clone());
    threads.push(spawn(
        "apply",
        Box::new(move |i| {
            let c = [
                r#"{"width":320,"height":240}"#,
                r#"{"width":{"exact":640}}"#,
                r#"{"width":1280,"height":720}"#,
                r#"{"width":{"exact":12345}}"#,
            ][i as usize % 4];
            let r = v.emit_by_name::<gst::Structure>("apply-constraints", &[&c]);
            assert!(r.has_field("success"), "{r}");
            let r = a.emit_by_name::<gst::Structure>(
                "apply-constraints",
                &[&[r#"{"channelCount":1}"#, r#"{"sampleRate":48000}"#][i as usize % 2]],
            );
            assert!(r.has_field("success"), "{r}");
        }),
    ));
    let (v, a) = (video.clone(), audio.clone());
    threads.push(spawn(
        "enabled",
        Box::new(move |i| {
            v.set_property("enabled", i % 2 == 1);
            a.set_property("enabled", i % 3 != 0);
            std::thread::sleep(Duration::from_millis(5));
        }),
    ));
    let (v, a) = (video.clone(), audio.clone());
    threads.push(spawn(
        "settings",
        Box::new(move |_| {
            for t in [&v, &a] {
                let s = t.property::<Option<gst::Structure>>("settings");
                assert!(s.is_some(), "a live track has settings");
                let _ = t.property::<Option<gst::Structure>>("capabilities");
                let _ = t.property::<bool>("muted");
            }
        }),
    ));
    let (p, m) = (pipeline.clone(), ms.clone());
    let added = Arc::new(Mutex::new(0u64));
    let n = added.clone();
    threads.push(spawn(
        "add-remove",
        Box::new(move |i| {
            let src = gst::ElementFactory::make(if i % 2 == 0 {
                "videotestsrc"
            } else {
                "audiotestsrc"
            })
            .property("is-live", true)
            .build()
            .unwrap();
            // Locked until linked, as a GStreamer application must: the
            // pipeline may be finishing a state change in another thread,
            // which would start an unlinked source (not-linked).
            src.set_locked_state(true);
            p.add(&src).unwrap();
            let before: Vec<String> = m.property::<Vec<String>>("track-ids");
            let pad = m.request_pad_simple("sink_%u").unwrap();
            src.static_pad("src").unwrap().link(&pad).unwrap();
            src.set_locked_state(false);
            src.sync_state_with_parent().unwrap();
            std::thread::sleep(Duration::from_millis(50));
            let after: Vec<String> = m.property::<Vec<String>>("track-ids");
            let new = after.iter().find(|id| !before.contains(id)).cloned();
            // removeTrack by id, or by releasing the pad; the application
            // stops its own source before it lets go of the pad.
            if let Some(id) = new.filter(|_| i % 4 < 2) {
                assert!(m.emit_by_name::<bool>("remove-track", &[&id]));
            }
            src.set_state(gst::State::Null).unwrap();
            m.release_request_pad(&pad);
            p.remove(&src).unwrap();
            *n.lock().unwrap() += 1;
        }),
    ));

    // A deadlock shows as a thread that does not come back.
    let give_up = deadline + Duration::from_secs(30);
    for t in threads {
        let left = give_up.saturating_duration_since(Instant::now());
        track::poll::until("every thread back (else: a deadlock)", left, || {
            t.is_finished()
        });
        if let Err(e) = t.join() {
            std::panic::resume_unwind(e);
        }
    }
    eprintln!(
        "{} calls, {} tracks added and removed in {} s",
        calls.load(Ordering::Relaxed),
        added.lock().unwrap(),
        seconds()
    );
    assert!(*added.lock().unwrap() > 0);

    // The tracks still play, and say what flows.
    for t in [&video, &audio] {
        t.set_property("enabled", true);
        let pad = t.static_pad("src").unwrap();
        let mut last = Err(String::from("no caps"));
        track::poll::holds_within(Duration::from_secs(2), || {
            let settings = t.property::<Option<gst::Structure>>("settings").unwrap();
            last = pad
                .current_caps()
                .ok_or_else(|| "no caps".to_string())
                .and_then(|caps| settings_match(&settings, &caps));
            last.is_ok()
        });
        assert_eq!(last, Ok(()), "{}", t.name());
    }
    let bus = pipeline.bus().unwrap();
    if let Some(msg) = bus.pop_filtered(&[gst::MessageType::Error]) {
        panic!("error on the bus: {msg:?}");
    }
    assert_eq!(
        pipeline.set_state(gst::State::Null),
        Ok(gst::StateChangeSuccess::Success)
    );
}
