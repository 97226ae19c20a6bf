// SPDX-License-Identifier: MPL-2.0

//! getUserMedia from the command line.
//!
//! ```text
//! getusermedia [--frames N] [--snapshot DIR] 'CONSTRAINTS'
//! ```
//!
//! Opens a `mediastream` with the MediaStreamConstraints, lets N buffers
//! (default 10) flow on every track into `mediastreamtracksink`s, and prints
//! `{"id": .., "tracks": [{"kind", "id", "label", "settings", "capabilities",
//! "constraints", "frames"}]}`; the settings are read from the caps that
//! flowed. `--snapshot DIR` writes one PNG per video track. On failure it
//! prints `{"error": {"name", "constraint", "message"}}` and exits 1. Real
//! devices, or the fake ones when `GST_MEDIASTREAM_FAKE_DEVICES` is set.

use gst::prelude::*;
use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: getusermedia [--frames N] [--snapshot DIR] 'CONSTRAINTS'";

fn emit(v: &Value) {
    let text = serde_json::to_string_pretty(v).expect("JSON");
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

fn fail(name: &str, constraint: Option<&str>, message: &str) -> ExitCode {
    let mut e = json!({ "name": name });
    if let Some(c) = constraint {
        e["constraint"] = json!(c);
    }
    e["message"] = json!(message);
    emit(&json!({ "error": e }));
    eprintln!("getusermedia: {name}: {message}");
    ExitCode::from(1)
}

/// A structure as JSON: ints, doubles, strings, booleans, ranges as
/// {min, max}, lists as arrays.
fn structure_json(s: &gst::StructureRef) -> Value {
    fn value(v: &glib::SendValue) -> Value {
        if let Ok(i) = v.get::<i32>() {
            json!(i)
        } else if let Ok(d) = v.get::<f64>() {
            json!(d)
        } else if let Ok(b) = v.get::<bool>() {
            json!(b)
        } else if let Ok(s) = v.get::<String>() {
            json!(s)
        } else if let Ok(r) = v.get::<gst::IntRange<i32>>() {
            json!({ "min": r.min(), "max": r.max() })
        } else if let Ok(l) = v.get::<gst::List>() {
            Value::Array(l.iter().map(value).collect())
        } else if let Ok(s) = v.serialize() {
            // A double range serializes as "[ a, b ]".
            let t = s.trim_matches(|c| c == '[' || c == ']' || c == ' ');
            let parts: Vec<f64> = t.split(',').filter_map(|x| x.trim().parse().ok()).collect();
            match parts.as_slice() {
                [a, b] => json!({ "min": a, "max": b }),
                _ => json!(s.to_string()),
            }
        } else {
            Value::Null
        }
    }
    Value::Object(s.iter().map(|(k, v)| (k.to_string(), value(v))).collect())
}

/// A `MediaTrackCapabilities` structure as a browser's getCapabilities()
/// returns it: every numeric member `{min, max}`. The structure holds a
/// one-value range as the plain value (GStreamer ranges need min < max).
fn capabilities_json(s: &gst::StructureRef) -> Value {
    let mut v = structure_json(s);
    if let Value::Object(m) = &mut v {
        for x in m.values_mut() {
            if x.is_number() {
                *x = json!({ "min": x.clone(), "max": x.clone() });
            }
        }
    }
    v
}

use gst::glib;

fn main() -> ExitCode {
    let mut frames = 10u64;
    let mut snapshot: Option<PathBuf> = None;
    let mut constraints = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--frames" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) if n > 0 => frames = n,
                _ => {
                    eprintln!("getusermedia: --frames needs a positive number\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "--snapshot" => match args.next() {
                Some(dir) => snapshot = Some(PathBuf::from(dir)),
                None => {
                    eprintln!("getusermedia: --snapshot needs a folder\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ if constraints.is_none() => constraints = Some(arg),
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let Some(constraints) = constraints else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    if let Err(e) = gst::init() {
        return fail(
            "NotReadableError",
            None,
            &format!("cannot initialize GStreamer: {e}"),
        );
    }
    gstmediastream::ensure_registered();

    let pipeline = gst::Pipeline::new();
    let stream = gst::ElementFactory::make("mediastream")
        .property("constraints", &constraints)
        .build()
        .expect("the mediastream element");
    pipeline.add(&stream).unwrap();
    let sinks: std::sync::Arc<std::sync::Mutex<Vec<(gst::Pad, gst::Element, gst::Element)>>> =
        Default::default();
    let s = sinks.clone();
    let weak = pipeline.downgrade();
    stream.connect_pad_added(move |_, pad| {
        let Some(p) = weak.upgrade() else { return };
        let queue = gst::ElementFactory::make("queue").build().unwrap();
        let appsink = gst::ElementFactory::make("appsink")
            .property("sync", false)
            .property("max-buffers", 1u32)
            .property("drop", true)
            .build()
            .unwrap();
        let track = gst::ElementFactory::make("mediastreamtracksink")
            .property("sink", &appsink)
            .build()
            .unwrap();
        p.add_many([&queue, &track]).unwrap();
        queue.link(&track).unwrap();
        queue.sync_state_with_parent().unwrap();
        track.sync_state_with_parent().unwrap();
        pad.link(&queue.static_pad("sink").unwrap()).unwrap();
        s.lock().unwrap().push((pad.clone(), track, appsink));
    });

    let bus = pipeline.bus().unwrap();
    if pipeline.set_state(gst::State::Playing).is_err() {
        let msg =
            bus.timed_pop_filtered(gst::ClockTime::from_seconds(5), &[gst::MessageType::Error]);
        let _ = pipeline.set_state(gst::State::Null);
        return match msg.as_ref().map(|m| m.view()) {
            Some(gst::MessageView::Error(e)) => {
                let details = e.details();
                let get = |k: &str| details.and_then(|d| d.get::<String>(k).ok());
                fail(
                    &get("name").unwrap_or_else(|| "NotReadableError".into()),
                    get("constraint").as_deref(),
                    &get("message").unwrap_or_else(|| e.error().to_string()),
                )
            }
            _ => fail("NotReadableError", None, "the stream did not start"),
        };
    }

    // Let N buffers flow on every track.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(msg) = bus.timed_pop_filtered(
            gst::ClockTime::from_mseconds(20),
            &[gst::MessageType::Error],
        ) {
            let gst::MessageView::Error(e) = msg.view() else {
                unreachable!()
            };
            let _ = pipeline.set_state(gst::State::Null);
            return fail("NotReadableError", None, &e.error().to_string());
        }
        let sinks = sinks.lock().unwrap();
        let done = !sinks.is_empty()
            && sinks
                .iter()
                .all(|(_, t, _)| t.property::<u64>("frames") >= frames);
        drop(sinks);
        if done {
            break;
        }
        if Instant::now() > deadline {
            let _ = pipeline.set_state(gst::State::Null);
            return fail(
                "NotReadableError",
                None,
                &format!("fewer than {frames} buffers in 30 s"),
            );
        }
    }

    let mut tracks = Vec::new();
    for (pad, track, appsink) in sinks.lock().unwrap().iter() {
        let kind = track.property::<Option<String>>("kind").unwrap_or_default();
        let id = track
            .property::<Option<String>>("track-id")
            .unwrap_or_default();
        let src = stream
            .downcast_ref::<gst::Bin>()
            .unwrap()
            .children()
            .into_iter()
            .find(|s| s.property::<String>("track-id") == id);
        let mut settings = track
            .property::<Option<gst::Structure>>("settings")
            .map(|s| structure_json(&s))
            .unwrap_or(Value::Null);
        // What flowed: the caps on the track's pad.
        if let Some(caps) = pad.current_caps()
            && let Some(s) = caps.structure(0)
        {
            for (field, key) in [
                ("width", "width"),
                ("height", "height"),
                ("rate", "sampleRate"),
                ("channels", "channelCount"),
            ] {
                if let Ok(v) = s.get::<i32>(field) {
                    settings[key] = json!(v);
                }
            }
            if let Ok(f) = s.get::<gst::Fraction>("framerate") {
                settings["frameRate"] = json!(f.numer() as f64 / f.denom().max(1) as f64);
            }
        }
        let mut t = json!({
            "kind": kind,
            "id": id,
            "label": track.property::<Option<String>>("label"),
            "settings": settings,
            "capabilities": src.as_ref().and_then(|s| s.property::<Option<gst::Structure>>("capabilities")).map(|s| capabilities_json(&s)),
            "constraints": src.as_ref().map(|s| serde_json::from_str::<Value>(&s.property::<String>("constraints")).unwrap_or(Value::Null)),
            "frames": track.property::<u64>("frames"),
        });
        if let (Some(dir), "video") = (&snapshot, kind.as_str()) {
            let sample = appsink.emit_by_name::<Option<gst::Sample>>(
                "try-pull-sample",
                &[&gst::ClockTime::from_seconds(5)],
            );
            let png = sample.and_then(|s| {
                gst_video::convert_sample(
                    &s,
                    &gst::Caps::builder("image/png").build(),
                    Some(gst::ClockTime::from_seconds(5)),
                )
                .ok()
            });
            match png
                .as_ref()
                .and_then(|s| s.buffer())
                .map(|b| b.map_readable())
            {
                Some(Ok(map)) => {
                    let _ = std::fs::create_dir_all(dir);
                    let path = dir.join(format!("{}-{}.png", pad.name(), &id[..8.min(id.len())]));
                    match std::fs::write(&path, map.as_slice()) {
                        Ok(()) => t["snapshot"] = json!(path.display().to_string()),
                        Err(e) => eprintln!("getusermedia: cannot write {}: {e}", path.display()),
                    }
                }
                _ => eprintln!("getusermedia: no snapshot of track {id}"),
            }
        }
        tracks.push(t);
    }
    let _ = pipeline.set_state(gst::State::Null);
    emit(&json!({ "id": stream.property::<String>("id"), "tracks": tracks }));
    ExitCode::SUCCESS
}
