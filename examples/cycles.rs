// SPDX-License-Identifier: MPL-2.0

//! Stress: NULL→PLAYING→NULL cycles of one `mediastream` with an audio and a
//! video track.
//!
//! ```text
//! cycles [N] [--json] [--rebuild] [--warmup W] [--timeout S] [--settle S]
//! ```
//!
//! Builds `mediastream constraints={"audio":true,"video":true}` with
//! `video_0 ! fakesink` and `audio_0 ! fakesink` (sync=false), then N times
//! (default 100): PLAYING, waits until both sinks got a buffer, NULL. After
//! every cycle it samples VmRSS and the thread count (/proc/self/status) and
//! the open file descriptors (/proc/self/fd). It prints one line per cycle,
//! or with `--json` one summary:
//!
//! `{"cycles", "warmup", "rebuild", "rss_kib_first", "rss_kib_after_warmup",
//! "rss_kib_end", "rss_growth_kib", "rss_kib_max", "rss_slope_kib_per_cycle",
//! "fds_after_warmup", "fds_end", "threads_after_warmup", "threads_end",
//! "threads_max", "seconds", "slowest_cycle_seconds", "thread_names_end",
//! "samples": {"rss_kib", "fds", "threads"}}`
//!
//! "After warm-up" is after cycle W (default N/10, but 20 for 40 to 200
//! cycles and N/2 below 40): the first cycles fill GStreamer's and malloc's
//! one-time state (types, caps caches, thread pools, per-thread arenas).
//! `rss_slope_kib_per_cycle` is the least-squares slope of RSS over the
//! cycles after warm-up, less sensitive to one noisy sample than the
//! difference of two.
//!
//! The fds and threads compared (`fds_after_warmup`, `threads_end`...) are
//! sampled `--settle S` seconds (default 1) after cycle W/2 (halfway through
//! warm-up: glibc releases the stacks of threads that end while settling,
//! and RSS needs some cycles to level again) and after the last cycle; RSS
//! and the per-cycle samples are taken right after NULL, while cycles follow
//! each other. A streaming thread goes back to
//! GStreamer's task pool (a GLib thread pool) just after its task was
//! joined, so a cycle can start its tasks before the previous cycle's
//! threads are free: the pool then holds a third thread, kept while cycles
//! follow each other. GLib lets a pool's idle threads go after half a
//! second (keeping at most two unused ones), so a settled count compares
//! like with like; `thread_names_end` names the threads left at the end.
//!
//! `--rebuild` builds and drops a new pipeline every cycle instead of cycling
//! one. `--timeout S` (default 10) bounds the wait for the first buffers and
//! for the state change to NULL; a watchdog thread aborts the process with
//! "cycle K hung" when one step takes more than twice that (a deadlock).
//! Under valgrind, pass a larger timeout.
//!
//! On failure (no buffer, an error message, a slow or failed state change)
//! it says which cycle failed on stderr (and as `{"error": ..}` with
//! `--json`) and exits 1. The built-in fake devices are used unless
//! `GST_MEDIASTREAM_FAKE_DEVICES` is already set.

use gst::prelude::*;
use serde_json::json;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

const USAGE: &str =
    "usage: cycles [N] [--json] [--rebuild] [--warmup W] [--timeout S] [--settle S]";
const CONSTRAINTS: &str = r#"{"audio":true,"video":true}"#;

struct Opts {
    cycles: u32,
    json: bool,
    rebuild: bool,
    warmup: Option<u32>,
    timeout: Duration,
    settle: Duration,
}

fn parse_args() -> Result<Opts, String> {
    let mut opts = Opts {
        cycles: 100,
        json: false,
        rebuild: false,
        warmup: None,
        timeout: Duration::from_secs(10),
        settle: Duration::from_secs(1),
    };
    let mut cycles_seen = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--json" => opts.json = true,
            "--rebuild" => opts.rebuild = true,
            "--warmup" => {
                opts.warmup = Some(
                    args.next()
                        .and_then(|w| w.parse().ok())
                        .ok_or("--warmup needs a number of cycles")?,
                )
            }
            "--timeout" => {
                let s: f64 = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .filter(|s: &f64| *s > 0.0)
                    .ok_or("--timeout needs a positive number of seconds")?;
                opts.timeout = Duration::from_secs_f64(s);
            }
            "--settle" => {
                let s: f64 = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .filter(|s: &f64| *s >= 0.0 && *s < 60.0)
                    .ok_or("--settle needs a number of seconds")?;
                opts.settle = Duration::from_secs_f64(s);
            }
            "-h" | "--help" => return Err(String::new()),
            n if !cycles_seen => {
                opts.cycles = n
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| format!("not a positive number of cycles: {n}"))?;
                cycles_seen = true;
            }
            other => return Err(format!("unexpected argument {other}")),
        }
    }
    Ok(opts)
}

/// What the process holds after a cycle.
#[derive(Clone, Copy)]
struct Sample {
    rss_kib: u64,
    fds: u64,
    threads: u64,
}

/// The names of the process's threads, with counts: what a thread count
/// that moved is made of ("videotestsrc12" and the like are GStreamer's
/// pooled streaming threads, named after their last element).
fn thread_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir("/proc/self/task")
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
                .map(|n| n.trim().to_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn sample() -> Sample {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // Less the descriptor read_dir itself holds open on /proc/self/fd.
    let fds = std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count() as u64)
        .unwrap_or(1)
        .saturating_sub(1);
    Sample {
        rss_kib: field("VmRSS:"),
        fds,
        threads: field("Threads:"),
    }
}

/// Where the cycles are, for the watchdog: cycle, step, since when.
struct Progress(Mutex<(u32, &'static str, Instant)>);

impl Progress {
    fn set(&self, cycle: u32, step: &'static str) {
        *self.0.lock().unwrap() = (cycle, step, Instant::now());
    }
}

/// Aborts the process when one step takes longer than `limit`: a deadlock
/// must fail the run, not hang it. The thread sleeps until the current
/// step's deadline (no polling) and is stopped and joined when dropped.
struct Watchdog {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watchdog {
    fn start(progress: Arc<Progress>, limit: Duration, json: bool) -> Watchdog {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("cycles-watchdog".into())
            .spawn(move || {
                loop {
                    let (cycle, step, since) = *progress.0.lock().unwrap();
                    let stuck = since.elapsed();
                    if stuck > limit {
                        let msg = format!(
                            "cycle {cycle} hung: {step} did not return in {:.1} s",
                            stuck.as_secs_f64()
                        );
                        if json {
                            println!("{}", json!({ "error": msg, "cycle": cycle }));
                        }
                        eprintln!("cycles: {msg}");
                        std::process::abort();
                    }
                    // Until this step's deadline (then read the step again),
                    // or stopped.
                    match stopped.recv_timeout(limit - stuck + Duration::from_millis(1)) {
                        Err(mpsc::RecvTimeoutError::Timeout) => {}
                        _ => return,
                    }
                }
            })
            .expect("the watchdog thread");
        Watchdog {
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take()
            && t.join().is_err()
        {
            eprintln!("cycles: the watchdog panicked");
        }
    }
}

/// The pipeline and the buffer counts of its two sinks.
struct Stream {
    pipeline: gst::Pipeline,
    video: Arc<AtomicU64>,
    audio: Arc<AtomicU64>,
}

fn build() -> Result<Stream, String> {
    let pipeline = gst::Pipeline::with_name("cycles");
    let ms = gst::ElementFactory::make("mediastream")
        .name("s")
        .property("constraints", CONSTRAINTS)
        .build()
        .map_err(|e| format!("no mediastream element: {e}"))?;
    let fakesink = |name: &str| {
        gst::ElementFactory::make("fakesink")
            .name(name)
            .property("sync", false)
            .property("async", false)
            .build()
            .map_err(|e| format!("no fakesink element: {e}"))
    };
    let vsink = fakesink("video")?;
    let asink = fakesink("audio")?;
    pipeline
        .add_many([&ms, &vsink, &asink])
        .map_err(|e| e.to_string())?;
    let count = |sink: &gst::Element| {
        let n = Arc::new(AtomicU64::new(0));
        let c = n.clone();
        sink.static_pad("sink").unwrap().add_probe(
            gst::PadProbeType::BUFFER | gst::PadProbeType::BUFFER_LIST,
            move |_, _| {
                c.fetch_add(1, Ordering::Relaxed);
                gst::PadProbeReturn::Ok
            },
        );
        n
    };
    let video = count(&vsink);
    let audio = count(&asink);
    // The pads come anew on every READY→PAUSED (getUserMedia runs on
    // NULL→READY): link each one to its kind's sink.
    let (vweak, aweak) = (vsink.downgrade(), asink.downgrade());
    ms.connect_pad_added(move |_, pad| {
        let name = pad.name();
        let sink = if name.starts_with("video_") {
            vweak.upgrade()
        } else if name.starts_with("audio_") {
            aweak.upgrade()
        } else {
            None
        };
        let Some(sink) = sink else {
            eprintln!("cycles: unexpected pad {name}");
            return;
        };
        let sinkpad = sink.static_pad("sink").unwrap();
        if let Err(e) = pad.link(&sinkpad) {
            eprintln!("cycles: cannot link {name} to {}: {e:?}", sink.name());
        }
    });
    Ok(Stream {
        pipeline,
        video,
        audio,
    })
}

/// An error message as text: the error, its source, its debug string.
fn error_text(msg: &gst::Message) -> Option<String> {
    let gst::MessageView::Error(e) = msg.view() else {
        return None;
    };
    let src = msg.src().map(|s| s.path_string().to_string());
    Some(format!(
        "{} (from {}; {})",
        e.error(),
        src.as_deref().unwrap_or("?"),
        e.debug().as_deref().unwrap_or("")
    ))
}

/// Empties the bus (nothing else reads it: messages would pile up), and
/// returns the first error on it.
fn drain_bus(bus: &gst::Bus) -> Option<String> {
    let mut error = None;
    while let Some(msg) = bus.pop() {
        if error.is_none() {
            error = error_text(&msg);
        }
    }
    error
}

/// One cycle NULL→PLAYING→NULL; Err says what went wrong.
fn cycle(s: &Stream, k: u32, timeout: Duration, progress: &Progress) -> Result<(), String> {
    let bus = s.pipeline.bus().unwrap();
    let (v0, a0) = (
        s.video.load(Ordering::Relaxed),
        s.audio.load(Ordering::Relaxed),
    );
    progress.set(k, "set_state(PLAYING)");
    if let Err(e) = s.pipeline.set_state(gst::State::Playing) {
        let why = drain_bus(&bus).unwrap_or_else(|| e.to_string());
        let _ = s.pipeline.set_state(gst::State::Null);
        return Err(format!("cycle {k}: PLAYING failed: {why}"));
    }
    progress.set(k, "waiting for the first buffers");
    let deadline = Instant::now() + timeout;
    loop {
        let v = s.video.load(Ordering::Relaxed) > v0;
        let a = s.audio.load(Ordering::Relaxed) > a0;
        if v && a {
            break;
        }
        let error = bus
            .timed_pop_filtered(gst::ClockTime::from_mseconds(5), &[gst::MessageType::Error])
            .and_then(|msg| error_text(&msg));
        if let Some(err) = error {
            let _ = s.pipeline.set_state(gst::State::Null);
            return Err(format!("cycle {k}: error while PLAYING: {err}"));
        }
        if Instant::now() > deadline {
            let missing: Vec<&str> = [(v, "video"), (a, "audio")]
                .iter()
                .filter(|(got, _)| !got)
                .map(|(_, kind)| *kind)
                .collect();
            progress.set(k, "set_state(NULL) after a timeout");
            let _ = s.pipeline.set_state(gst::State::Null);
            return Err(format!(
                "cycle {k}: no {} buffer within {} s of PLAYING",
                missing.join(" and no "),
                timeout.as_secs_f64()
            ));
        }
    }
    progress.set(k, "set_state(NULL)");
    let t = Instant::now();
    let ret = s.pipeline.set_state(gst::State::Null);
    let took = t.elapsed();
    progress.set(k, "after set_state(NULL)");
    if let Err(e) = ret {
        return Err(format!("cycle {k}: NULL failed: {e}"));
    }
    if took > timeout {
        return Err(format!(
            "cycle {k}: PLAYING→NULL took {:.1} s (limit {:.0} s)",
            took.as_secs_f64(),
            timeout.as_secs_f64()
        ));
    }
    if let Some(err) = drain_bus(&bus) {
        return Err(format!("cycle {k}: error on the bus: {err}"));
    }
    Ok(())
}

/// Least-squares slope of `ys` against their index.
fn slope(ys: &[u64]) -> f64 {
    let n = ys.len() as f64;
    if ys.len() < 2 {
        return 0.0;
    }
    let mx = (n - 1.0) / 2.0;
    let my = ys.iter().sum::<u64>() as f64 / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, &y) in ys.iter().enumerate() {
        let dx = i as f64 - mx;
        sxy += dx * (y as f64 - my);
        sxx += dx * dx;
    }
    sxy / sxx
}

fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(o) => o,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("cycles: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if std::env::var_os("GST_MEDIASTREAM_FAKE_DEVICES").is_none() {
        // SAFETY: no other thread runs yet.
        unsafe { std::env::set_var("GST_MEDIASTREAM_FAKE_DEVICES", "1") };
    }
    let fail = |msg: String| {
        if opts.json {
            println!("{}", json!({ "error": msg }));
        }
        eprintln!("cycles: {msg}");
        ExitCode::from(1)
    };
    if let Err(e) = gst::init() {
        return fail(format!("cannot initialize GStreamer: {e}"));
    }
    gstmediastream::ensure_registered();

    let n = opts.cycles;
    let warmup = opts
        .warmup
        .unwrap_or((n / 10).max(n.min(40) / 2))
        .clamp(1, n);
    let progress = Arc::new(Progress(Mutex::new((0, "start", Instant::now()))));
    let _watchdog = Watchdog::start(progress.clone(), opts.timeout * 2, opts.json);

    let start = Instant::now();
    let mut stream = None;
    let mut samples: Vec<Sample> = Vec::with_capacity(n as usize);
    let mut settled: Vec<Sample> = Vec::with_capacity(2);
    // Settling lets pooled threads go (glibc releases their stacks), and
    // RSS takes some cycles to level again: done halfway through warm-up,
    // it leaves the RSS after warm-up undisturbed.
    let settle_at = (warmup / 2).max(1);
    let mut slowest = Duration::ZERO;
    for k in 1..=n {
        let t = Instant::now();
        if stream.is_none() {
            progress.set(k, "building the pipeline");
            match build() {
                Ok(s) => stream = Some(s),
                Err(e) => return fail(format!("cycle {k}: {e}")),
            }
        }
        if let Err(e) = cycle(stream.as_ref().unwrap(), k, opts.timeout, &progress) {
            return fail(e);
        }
        if opts.rebuild {
            progress.set(k, "dropping the pipeline");
            stream = None;
        }
        let took = t.elapsed();
        slowest = slowest.max(took);
        let s = sample();
        samples.push(s);
        if k == settle_at || k == n {
            // The fds and threads compared: once GStreamer's pooled
            // streaming threads went back to GLib's thread pool (--settle).
            progress.set(k, "settling");
            std::thread::sleep(opts.settle);
            settled.push(sample());
        }
        if !opts.json {
            println!(
                "cycle {k}: rss {} KiB, fds {}, threads {}, {:.3} s",
                s.rss_kib,
                s.fds,
                s.threads,
                took.as_secs_f64()
            );
        }
    }
    progress.set(n, "done");
    let thread_names = thread_names();
    drop(stream);
    let seconds = start.elapsed().as_secs_f64();

    let after = samples[warmup as usize - 1];
    let end = samples[n as usize - 1];
    let (settled_after, settled_end) = (settled[0], *settled.last().unwrap());
    let steady: Vec<u64> = samples[warmup as usize - 1..]
        .iter()
        .map(|s| s.rss_kib)
        .collect();
    let rss_max = steady.iter().copied().max().unwrap_or(0);
    let summary = json!({
        "cycles": n,
        "warmup": warmup,
        "rebuild": opts.rebuild,
        "rss_kib_first": samples[0].rss_kib,
        "rss_kib_after_warmup": after.rss_kib,
        "rss_kib_end": end.rss_kib,
        "rss_growth_kib": end.rss_kib as i64 - after.rss_kib as i64,
        "rss_kib_max": rss_max,
        "rss_slope_kib_per_cycle": (slope(&steady) * 100.0).round() / 100.0,
        "fds_after_warmup": settled_after.fds,
        "fds_end": settled_end.fds,
        "threads_after_warmup": settled_after.threads,
        "threads_end": settled_end.threads,
        "threads_max": samples.iter().map(|s| s.threads).max(),
        "seconds": (seconds * 100.0).round() / 100.0,
        "slowest_cycle_seconds": (slowest.as_secs_f64() * 1000.0).round() / 1000.0,
        "thread_names_end": thread_names,
        "samples": {
            "rss_kib": samples.iter().map(|s| s.rss_kib).collect::<Vec<_>>(),
            "fds": samples.iter().map(|s| s.fds).collect::<Vec<_>>(),
            "threads": samples.iter().map(|s| s.threads).collect::<Vec<_>>(),
        },
    });
    if opts.json {
        println!("{summary}");
    } else {
        println!(
            "{n} cycles in {seconds:.1} s: rss {} -> {} KiB after {warmup} warm-up cycles ({:+} KiB, {:.2} KiB/cycle), fds {} -> {}, threads {} -> {}",
            after.rss_kib,
            end.rss_kib,
            end.rss_kib as i64 - after.rss_kib as i64,
            summary["rss_slope_kib_per_cycle"].as_f64().unwrap_or(0.0),
            settled_after.fds,
            settled_end.fds,
            settled_after.threads,
            settled_end.threads
        );
    }
    ExitCode::SUCCESS
}
