// SPDX-License-Identifier: MPL-2.0

//! A MediaStream to a browser and the browser's camera back, over
//! `webrtcbin` (docs/webrtc.md).
//!
//! ```text
//! webrtc [--port N] [--record FILE.mkv | --display] [--seconds N] [--constraints JSON]
//! ```
//!
//! Serves a page and its signalling (a WebSocket at `/ws`) on
//! `http://127.0.0.1:N/` (default 8080; 0 picks a free port). Each page
//! that connects gets a new session: a `mediastream` (getUserMedia with
//! `--constraints`, default `{"video":true,"audio":true}`: real devices, or
//! the fake ones when `GST_MEDIASTREAM_FAKE_DEVICES` is set) whose tracks
//! go through `mediastreamrtpenc` into `webrtcbin`; the page answers with
//! its own camera and microphone, which come back as a remote `mediastream`
//! (`webrtc::receive_streams`, `mediastreamrtpdec`). Each remote track is
//! rendered by a `mediastreamtracksink` (`--display`), recorded into a
//! Matroska file (`--record FILE`: VP8 and Opus), or by default dropped in
//! a `fakesink` (headless).
//!
//! It prints one JSON object a line: `listening` (the page's address),
//! `offer` (the stream sent: id and track ids), `connection` (webrtcbin's
//! connection state), `remoteTrack` (the first frame of each remote track:
//! its stream id, track id and kind), `recorded` and `stopped`. It runs
//! until Ctrl-C (SIGINT or SIGTERM) or `--seconds`; a recording is
//! finished (EOS through the encoders and the muxer) before it exits.
//!
//! Signalling: webrtcbin offers once its sink pads have caps (1.22 writes
//! a sender's ssrc and msid only then) and its ICE gathering completed, so
//! the candidates travel inside the SDP; the page answers the same way.

use gst::prelude::*;
use gstmediastream::webrtc::signalling;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::Scope;
use std::time::{Duration, Instant};

const USAGE: &str =
    "usage: webrtc [--port N] [--record FILE.mkv | --display] [--seconds N] [--constraints JSON]";
const PAGE: &str = include_str!("webrtc.html");
/// The connection code the page shares with tests/webrtc/peer.js.
const PEER_JS: &str = include_str!("webrtc-peer.js");

/// One JSON line on stdout.
fn say(v: Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{v}");
    let _ = out.flush();
}

#[derive(Clone, Debug)]
struct Options {
    port: u16,
    record: Option<String>,
    display: bool,
    seconds: Option<u64>,
    constraints: String,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        port: 8080,
        record: None,
        display: false,
        seconds: None,
        constraints: r#"{"video":true,"audio":true}"#.into(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--port" => o.port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--record" => o.record = Some(value()?),
            "--display" => o.display = true,
            "--seconds" => {
                o.seconds = Some(value()?.parse().map_err(|e| format!("--seconds: {e}"))?)
            }
            "--constraints" => o.constraints = value()?,
            "-h" | "--help" => return Err(String::new()),
            _ => return Err(format!("unknown argument {a}")),
        }
    }
    if o.record.is_some() && o.display {
        return Err("--record and --display exclude each other".into());
    }
    Ok(o)
}

fn wait_until(what: &str, secs: u64, done: impl Fn() -> bool) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        if Instant::now() > deadline {
            return Err(format!("{what}: not within {secs} s"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// The recording of the remote tracks: `matroskamux ! filesink`, one
/// muxer pad per kind requested before anything flows.
struct Recording {
    mux: gst::Element,
    file: String,
    /// The head (a queue's sink pad) of each branch linked to a remote track.
    heads: Mutex<Vec<gst::Pad>>,
    done: Arc<(Mutex<bool>, std::sync::Condvar)>,
}

/// One page's peer connection.
struct Session {
    pipeline: gst::Pipeline,
    webrtc: gst::Element,
    stream: gst::Element,
    recording: Option<Arc<Recording>>,
}

impl Session {
    fn new(o: &Options) -> Result<Session, String> {
        let pipeline = gst::Pipeline::new();
        let stream = gst::ElementFactory::make("mediastream")
            .property("constraints", &o.constraints)
            .build()
            .map_err(|e| format!("mediastream: {e}"))?;
        let webrtc = gst::ElementFactory::make("webrtcbin")
            .property_from_str("bundle-policy", "max-bundle")
            .build()
            .map_err(|e| format!("webrtcbin (gstreamer1.0-plugins-bad, gstreamer1.0-nice): {e}"))?;
        pipeline.add_many([&stream, &webrtc]).unwrap();

        // Send: each track of the local stream through mediastreamrtpenc.
        gstmediastream::webrtc::send_stream(&stream, &webrtc);
        webrtc.connect_notify(Some("connection-state"), |w, _| {
            let state = w.property::<gst_webrtc::WebRTCPeerConnectionState>("connection-state");
            say(json!({"connection": format!("{state:?}").to_lowercase()}));
        });

        let recording = match &o.record {
            Some(file) => {
                let mux = gst::ElementFactory::make("matroskamux")
                    .property("streamable", false)
                    .build()
                    .map_err(|e| format!("matroskamux: {e}"))?;
                let sink = gst::ElementFactory::make("filesink")
                    .property("location", file)
                    .property("async", false)
                    .build()
                    .unwrap();
                pipeline.add_many([&mux, &sink]).unwrap();
                mux.link(&sink).unwrap();
                for template in ["video_%u", "audio_%u"] {
                    mux.request_pad_simple(template).unwrap();
                }
                let done: Arc<(Mutex<bool>, std::sync::Condvar)> = Default::default();
                let d = done.clone();
                sink.static_pad("sink").unwrap().add_probe(
                    gst::PadProbeType::EVENT_DOWNSTREAM,
                    move |_, info| {
                        if let Some(gst::PadProbeData::Event(e)) = &info.data
                            && e.type_() == gst::EventType::Eos
                        {
                            *d.0.lock().unwrap() = true;
                            d.1.notify_all();
                        }
                        gst::PadProbeReturn::Ok
                    },
                );
                Some(Arc::new(Recording {
                    mux,
                    file: file.clone(),
                    heads: Mutex::new(Vec::new()),
                    done,
                }))
            }
            None => None,
        };

        // Receive: the page's stream as a remote mediastream.
        let weak = pipeline.downgrade();
        let (display, rec) = (o.display, recording.clone());
        gstmediastream::webrtc::receive_streams(&webrtc, move |remote| {
            let (weak, rec) = (weak.clone(), rec.clone());
            remote.connect_pad_added(move |remote, pad| {
                let (Some(p), gst::PadDirection::Src) = (weak.upgrade(), pad.direction()) else {
                    return;
                };
                announce_first_frame(remote, pad);
                let linked = match &rec {
                    Some(rec) => record(&p, rec, pad),
                    None => render(&p, pad, display),
                };
                if let Err(e) = linked {
                    eprintln!("webrtc: remote track {}: {e}", pad.name());
                }
            });
        });
        Ok(Session {
            pipeline,
            webrtc,
            stream,
            recording,
        })
    }

    /// Starts the stream, creates the offer and waits for its candidates.
    fn offer(&self) -> Result<String, String> {
        self.pipeline
            .set_state(gst::State::Playing)
            .map_err(|e| format!("the pipeline does not start: {e}"))?;
        let (stream, webrtc) = (&self.stream, &self.webrtc);
        wait_until("caps on every webrtcbin sink pad", 20, || {
            let tracks = stream.property::<Vec<String>>("track-ids").len();
            let sinks = webrtc.sink_pads();
            tracks > 0 && sinks.len() == tracks && sinks.iter().all(|p| p.current_caps().is_some())
        })?;
        let offer = signalling::create_offer(webrtc)?;
        signalling::set_description(webrtc, true, &offer)?;
        signalling::wait_gathered(webrtc)?;
        say(json!({"offer": {
            "streamId": stream.property::<String>("id"),
            "trackIds": stream.property::<Vec<String>>("track-ids"),
        }}));
        signalling::local_sdp(webrtc).ok_or_else(|| "no local description".to_string())
    }

    fn answered(&self, sdp: &str) -> Result<(), String> {
        let answer = signalling::description(gst_webrtc::WebRTCSDPType::Answer, sdp)
            .map_err(|e| format!("the page's answer: {e}"))?;
        signalling::set_description(&self.webrtc, false, &answer)
    }

    /// Finishes a recording (EOS through each branch and the muxer), then
    /// stops.
    fn stop(self) {
        if let Some(rec) = &self.recording {
            for head in rec.heads.lock().unwrap().iter() {
                head.send_event(gst::event::Eos::new());
            }
            // A muxer pad no track came to.
            for pad in rec.mux.sink_pads() {
                if !pad.is_linked() {
                    pad.send_event(gst::event::Eos::new());
                }
            }
            let (lock, cond) = &*rec.done;
            let done = cond
                .wait_timeout_while(lock.lock().unwrap(), Duration::from_secs(10), |d| !*d)
                .map(|(d, _)| *d)
                .unwrap_or(false);
            say(json!({"recorded": rec.file, "finished": done}));
        }
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

/// Prints `remoteTrack` at a remote track's first buffer (its stream-id,
/// the sender's track id, is set by then).
fn announce_first_frame(remote: &gst::Element, pad: &gst::Pad) {
    let remote = remote.downgrade();
    pad.add_probe(gst::PadProbeType::BUFFER, move |pad, _| {
        if let Some(remote) = remote.upgrade() {
            let kind = pad
                .current_caps()
                .and_then(|c| c.structure(0).map(|s| s.name().to_string()))
                .map(|n| {
                    if n.starts_with("video") {
                        "video"
                    } else {
                        "audio"
                    }
                });
            say(json!({"remoteTrack": {
                "streamId": remote.property::<String>("id"),
                "trackId": pad.stream_id().map(|s| s.to_string()),
                "kind": kind,
            }}));
        }
        gst::PadProbeReturn::Remove
    });
}

/// A `mediastreamtracksink` for the track: the default sink of its kind
/// (`--display`) or a `fakesink`.
fn render(p: &gst::Pipeline, pad: &gst::Pad, display: bool) -> Result<(), String> {
    let mut b = gst::ElementFactory::make("mediastreamtracksink");
    if !display {
        b = b.property(
            "sink",
            gst::ElementFactory::make("fakesink").build().unwrap(),
        );
    }
    let sink = b.build().map_err(|e| e.to_string())?;
    p.add(&sink).unwrap();
    pad.link(&sink.static_pad("sink").unwrap())
        .map_err(|e| format!("{e:?}"))?;
    sink.sync_state_with_parent().map_err(|e| e.to_string())?;
    Ok(())
}

/// `queue ! encoder ! matroskamux` for the track.
fn record(p: &gst::Pipeline, rec: &Recording, pad: &gst::Pad) -> Result<(), String> {
    let video = pad.name().starts_with("video");
    let chain = if video {
        "queue ! videoconvert ! vp8enc deadline=1 cpu-used=8"
    } else {
        "queue ! audioconvert ! audioresample ! opusenc"
    };
    let bin = gst::parse::bin_from_description(chain, true).map_err(|e| e.to_string())?;
    let target = rec
        .mux
        .sink_pads()
        .into_iter()
        .find(|m| m.name().starts_with(if video { "video" } else { "audio" }) && !m.is_linked())
        .ok_or("one recorded track per kind")?;
    p.add(&bin).unwrap();
    bin.static_pad("src")
        .unwrap()
        .link(&target)
        .map_err(|e| format!("{e:?}"))?;
    let head = bin.static_pad("sink").unwrap();
    pad.link(&head).map_err(|e| format!("{e:?}"))?;
    bin.sync_state_with_parent().map_err(|e| e.to_string())?;
    rec.heads.lock().unwrap().push(head);
    Ok(())
}

type Socket = tungstenite::WebSocket<TcpStream>;

/// One page: offer, answer, then wait for the page to go.
fn run_session(
    mut ws: Socket,
    o: &Options,
    current: &Mutex<Option<Session>>,
) -> Result<(), String> {
    // One viewer at a time: a new page replaces the previous session.
    if let Some(old) = current.lock().unwrap().take() {
        old.stop();
    }
    let session = Session::new(o)?;
    let sdp = session.offer()?;
    ws.send(tungstenite::Message::text(
        json!({"type": "offer", "sdp": sdp}).to_string(),
    ))
    .map_err(|e| e.to_string())?;
    *current.lock().unwrap() = Some(session);
    loop {
        let msg = match ws.read() {
            Ok(m) => m,
            Err(_) => break, // the page went away
        };
        let Ok(text) = msg.to_text() else { continue };
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            continue;
        };
        if v["type"] == "answer" {
            let guard = current.lock().unwrap();
            if let Some(s) = guard.as_ref() {
                s.answered(v["sdp"].as_str().unwrap_or_default())?;
            }
        }
    }
    Ok(())
}

/// The page, its script and the signalling on one listener. Its threads
/// are scoped in `main`, which joins them all before it returns.
struct Server {
    listener: TcpListener,
    /// The sessions' sockets: shut down at exit, so their reads return.
    sockets: Mutex<Vec<TcpStream>>,
    stopping: AtomicBool,
}

impl Server {
    /// Ends `serve` and the sessions' reads.
    fn shut_down(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wakes `accept`, which then sees `stopping`.
        if let Ok(addr) = self.listener.local_addr() {
            drop(TcpStream::connect(addr));
        }
        for s in self.sockets.lock().unwrap().drain(..) {
            // Already closed by the page: nothing left to end.
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

/// A request's path and its `Sec-WebSocket-Key`, from its head.
fn read_head(stream: &TcpStream) -> std::io::Result<(String, Option<String>)> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
    let mut key = None;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("sec-websocket-key")
        {
            key = Some(value.trim().to_owned());
        }
    }
    Ok((path, key))
}

fn respond(mut stream: &TcpStream, status: &str, kind: &str, body: &str) -> std::io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

fn serve<'s>(
    scope: &'s Scope<'s, '_>,
    server: &'s Server,
    o: &'s Options,
    current: &'s Mutex<Option<Session>>,
) {
    for stream in server.listener.incoming() {
        if server.stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        // A client that sends no request does not hold the others up.
        let head = stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .and_then(|()| read_head(&stream));
        let Ok((path, key)) = head else { continue };
        let sent = match (path.as_str(), key) {
            ("/" | "/index.html", _) => {
                respond(&stream, "200 OK", "text/html; charset=utf-8", PAGE)
            }
            ("/webrtc-peer.js", _) => respond(&stream, "200 OK", "text/javascript", PEER_JS),
            ("/ws", Some(key)) => {
                let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
                let upgraded = write!(
                    &stream,
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
                )
                .and_then(|()| stream.set_read_timeout(None))
                .and_then(|()| stream.try_clone());
                match upgraded {
                    Ok(clone) => {
                        server.sockets.lock().unwrap().push(clone);
                        let ws = tungstenite::WebSocket::from_raw_socket(
                            stream,
                            tungstenite::protocol::Role::Server,
                            None,
                        );
                        scope.spawn(move || {
                            if let Err(e) = run_session(ws, o, current) {
                                eprintln!("webrtc: session: {e}");
                                say(json!({"error": e}));
                            }
                        });
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
            ("/ws", None) => respond(
                &stream,
                "400 Bad Request",
                "text/plain",
                "not a WebSocket request",
            ),
            _ => respond(&stream, "404 Not Found", "text/plain", "not found"),
        };
        if let Err(e) = sent {
            eprintln!("webrtc: {path}: {e}");
        }
    }
}

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

fn main() -> ExitCode {
    let o = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("webrtc: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = gst::init() {
        eprintln!("webrtc: cannot initialize GStreamer: {e}");
        return ExitCode::from(1);
    }
    gstmediastream::ensure_registered();
    let listener = match TcpListener::bind(("127.0.0.1", o.port)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("webrtc: cannot listen on 127.0.0.1:{}: {e}", o.port);
            return ExitCode::from(1);
        }
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(o.port);
    let server = Server {
        listener,
        sockets: Mutex::default(),
        stopping: AtomicBool::new(false),
    };
    let current: Mutex<Option<Session>> = Mutex::default();
    std::thread::scope(|scope| {
        scope.spawn(|| serve(scope, &server, &o, &current));
        say(json!({"listening": format!("http://127.0.0.1:{port}/")}));
        eprintln!("webrtc: open http://127.0.0.1:{port}/ in a browser; Ctrl-C stops");

        // SIGINT and SIGTERM end the demo cleanly (a recording is finished).
        for signal in [libc::SIGINT, libc::SIGTERM] {
            // SAFETY: the handler only stores into an atomic, which is
            // async-signal-safe.
            unsafe { libc::signal(signal, on_signal as *const () as libc::sighandler_t) };
        }
        let started = Instant::now();
        // A signal handler may do no more than set a flag: this is its
        // reader.
        while !STOP.load(Ordering::SeqCst)
            && o.seconds
                .is_none_or(|s| started.elapsed() < Duration::from_secs(s))
        {
            std::thread::sleep(Duration::from_millis(50));
        }
        if let Some(session) = current.lock().unwrap().take() {
            session.stop();
        }
        // The scope joins the server and the sessions' threads.
        server.shut_down();
    });
    say(json!({"stopped": true}));
    ExitCode::SUCCESS
}
