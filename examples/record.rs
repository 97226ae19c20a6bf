// SPDX-License-Identifier: MPL-2.0

//! MediaRecorder from the command line: getUserMedia, then `mediarecorder`
//! records N seconds in timeslice chunks, printing one JSON line per chunk
//! (`dataavailable`) and writing the chunks, concatenated, to a file.
//!
//!   record [--seconds N] [--timeslice MS] [--mime TYPE] [--out FILE] ['CONSTRAINTS']
//!
//! Defaults: 3 s, 1000 ms, the default type, rec.webm (or .mkv, .ogg, .mp4
//! by the type), `{"video":true,"audio":true}`. With
//! GST_MEDIASTREAM_FAKE_DEVICES=1 it records the fake devices.

use gst::prelude::*;
use std::io::Write;
use std::sync::mpsc;

fn main() {
    let mut seconds = 3u64;
    let mut timeslice = 1000u32;
    let mut mime = String::new();
    let mut out: Option<String> = None;
    let mut constraints = r#"{"video":true,"audio":true}"#.to_string();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .unwrap_or_else(|| fail(&format!("{name} needs a value")))
        };
        match a.as_str() {
            "--seconds" => {
                seconds = value("--seconds")
                    .parse()
                    .unwrap_or_else(|_| fail("--seconds: a number"))
            }
            "--timeslice" => {
                timeslice = value("--timeslice")
                    .parse()
                    .unwrap_or_else(|_| fail("--timeslice: a number"))
            }
            "--mime" => mime = value("--mime"),
            "--out" => out = Some(value("--out")),
            "-h" | "--help" => {
                println!(
                    "record [--seconds N] [--timeslice MS] [--mime TYPE] [--out FILE] ['CONSTRAINTS']"
                );
                return;
            }
            other => constraints = other.to_owned(),
        }
    }
    gst::init().unwrap();
    gstmediastream::ensure_registered();

    let pipeline = gst::Pipeline::new();
    let stream = gst::ElementFactory::make("mediastream")
        .property("constraints", &constraints)
        .build()
        .unwrap();
    let recorder = gst::ElementFactory::make("mediarecorder")
        .property("mime-type", &mime)
        .property("auto-start", false)
        .build()
        .unwrap();
    if !recorder.emit_by_name::<bool>("is-type-supported", &[&mime]) && !mime.is_empty() {
        fail(&format!(
            "NotSupportedError: {mime} cannot be recorded here"
        ));
    }
    pipeline.add_many([&stream, &recorder]).unwrap();
    let weak = recorder.downgrade();
    stream.connect_pad_added(move |_, pad| {
        let Some(recorder) = weak.upgrade() else {
            return;
        };
        let templ = if pad.name().starts_with("audio") {
            "audio_%u"
        } else {
            "video_%u"
        };
        let sink = recorder.request_pad_simple(templ).unwrap();
        pad.link(&sink).unwrap();
    });

    let (tx, rx) = mpsc::channel::<Option<(glib::Bytes, f64)>>();
    let t = tx.clone();
    recorder.connect("dataavailable", false, move |a| {
        let _ = t.send(Some((a[1].get().unwrap(), a[2].get().unwrap())));
        None
    });
    recorder.connect("stopped", false, move |_| {
        let _ = tx.send(None);
        None
    });

    if let Err(e) = pipeline.set_state(gst::State::Playing) {
        let msg = pipeline
            .bus()
            .unwrap()
            .pop_filtered(&[gst::MessageType::Error])
            .map(|m| format!("{m:?}"))
            .unwrap_or_else(|| e.to_string());
        fail(&msg);
    }
    let started = recorder.emit_by_name::<gst::Structure>("start", &[&timeslice]);
    if !started.get::<bool>("success").unwrap_or(false) {
        fail(&started.get::<String>("message").unwrap_or_default());
    }
    let mime = recorder.property::<String>("mime-type");
    let path = out.unwrap_or_else(|| {
        let ext = if mime.contains("matroska") {
            "mkv"
        } else if mime.contains("ogg") {
            "ogg"
        } else if mime.contains("mp4") {
            "mp4"
        } else {
            "webm"
        };
        format!("rec.{ext}")
    });
    let mut file = std::fs::File::create(&path).unwrap_or_else(|e| fail(&format!("{path}: {e}")));
    eprintln!("recording {mime} for {seconds} s into {path}");

    // Stop after N seconds of the pipeline's clock.
    let clock = pipeline.clock().unwrap();
    let deadline = clock.time() + gst::ClockTime::from_seconds(seconds);
    let rec = recorder.clone();
    let id = clock.new_single_shot_id(deadline);
    id.wait_async(move |_, _, _| {
        rec.call_async(|r| {
            r.emit_by_name::<gst::Structure>("stop", &[]);
        });
    })
    .unwrap();

    let (mut n, mut total) = (0, 0);
    while let Ok(Some((bytes, timecode))) =
        rx.recv_timeout(std::time::Duration::from_secs(seconds + 30))
    {
        file.write_all(&bytes).unwrap();
        total += bytes.len();
        println!(
            r#"{{"chunk": {n}, "bytes": {}, "timecode": {timecode}}}"#,
            bytes.len()
        );
        n += 1;
    }
    let _ = pipeline.set_state(gst::State::Null);
    println!(r#"{{"file": "{path}", "mimeType": "{mime}", "chunks": {n}, "bytes": {total}}}"#);
}

use gst::glib;

fn fail(msg: &str) -> ! {
    eprintln!("record: {msg}");
    std::process::exit(1)
}
