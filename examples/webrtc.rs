// SPDX-License-Identifier: MPL-2.0

//! A MediaStream to a browser and the browser's camera back, over
//! `webrtcbin` (docs/webrtc.md).
//!
//! ```text
//! webrtc [--port N] [--record FILE.mkv | --display] [--seconds N] [--constraints JSON]
//! ```
//!
//! Serves a page and its signalling (a WebSocket at `/ws`) on
//! `http://127.0.0.1:N/` (default 8080; 0 picks a free port), to its own
//! page only: every request must name `127.0.0.1:N` as its `Host`, the
//! page and the WebSocket need this run's secret (in the URL printed with
//! `listening`), and the WebSocket's `Origin` must be the page's; one page
//! at a time, a second is refused until the first goes (docs/webrtc.md,
//! "Who may connect"). The page that connects gets a session: a
//! `mediastream` (getUserMedia with
//! `--constraints`, default `{"video":true,"audio":true}`: real devices, or
//! the fake ones when `GST_MEDIASTREAM_FAKE_DEVICES` is set) whose tracks
//! go through `mediastreamrtpenc` into `webrtcbin`; the page answers with
//! its own camera and microphone, which come back as a remote `mediastream`
//! (`webrtc::receive_streams`, `mediastreamrtpdec`). Each remote track is
//! rendered by a `mediastreamtracksink` (`--display`), recorded into a
//! Matroska file (`--record FILE`: VP8 and Opus), or by default dropped in
//! a `fakesink` (headless).
//!
//! It prints one JSON object a line: `listening` (the page's URL, with the
//! secret), `offer` (the stream sent: id and track ids), `connection`
//! (webrtcbin's connection state), `remoteTrack` (the first frame of each
//! remote track: its stream id, track id and kind), `recorded`,
//! `sessionEnded` (the page went away and its session stopped: another
//! page may connect) and `stopped`; refusals go to stderr with why. It runs
//! until Ctrl-C (SIGINT or SIGTERM) or `--seconds`; a recording is
//! finished (EOS through the encoders and the muxer) before it exits.
//!
//! Signalling: webrtcbin offers once its sink pads have caps (1.22 writes
//! a sender's ssrc and msid only then) and its ICE gathering completed, so
//! the candidates travel inside the SDP; the page answers the same way.

use gst::prelude::*;
use gstmediastream::webrtc::signalling;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
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

/// One page: offer, answer, then wait for the page to go; its session
/// ends with it. Returns the id of the stream it sent.
fn run_session(
    mut ws: Socket,
    o: &Options,
    current: &Mutex<Option<Session>>,
) -> Result<String, String> {
    let session = Session::new(o)?;
    let offered = session.offer().and_then(|sdp| {
        ws.send(tungstenite::Message::text(
            json!({"type": "offer", "sdp": sdp}).to_string(),
        ))
        .map_err(|e| format!("sending the offer: {e}"))
    });
    if let Err(e) = offered {
        session.stop();
        return Err(e);
    }
    let stream_id = session.stream.property::<String>("id");
    *current.lock().unwrap() = Some(session);
    let result = loop {
        let msg = match ws.read() {
            Ok(m) => m,
            Err(_) => break Ok(stream_id), // the page went away
        };
        let Ok(text) = msg.to_text() else { continue };
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            continue;
        };
        if v["type"] == "answer" {
            let guard = current.lock().unwrap();
            if let Some(s) = guard.as_ref()
                && let Err(e) = s.answered(v["sdp"].as_str().unwrap_or_default())
            {
                break Err(e);
            }
        }
    };
    // Already taken when main stops the demo.
    if let Some(session) = current.lock().unwrap().take() {
        session.stop();
    }
    result
}

/// What a request must show (docs/webrtc.md, "Who may connect"): the
/// page's own address, and this run's secret, which only the person who
/// started the demo has (it is in the URL printed with `listening`).
struct Access {
    /// `127.0.0.1:PORT`, the `Host` of every request (a DNS-rebinding
    /// page sends its own name); the port is left out at 80, as browsers do.
    host: String,
    /// `http://` and the host: the page's origin, the only `Origin` the
    /// WebSocket accepts.
    origin: String,
    /// A UUID v4 in hex: 122 bits from the system's random source.
    secret: String,
}

impl Access {
    fn new(port: u16) -> Access {
        let host = match port {
            80 => "127.0.0.1".to_string(),
            _ => format!("127.0.0.1:{port}"),
        };
        Access {
            origin: format!("http://{host}"),
            host,
            secret: uuid::Uuid::new_v4().simple().to_string(),
        }
    }

    fn page_url(&self) -> String {
        format!("{}/?secret={}", self.origin, self.secret)
    }

    fn check_host(&self, req: &Request) -> Result<(), Refusal> {
        match req.header("host")? {
            Some(h) if h == self.host => Ok(()),
            Some(h) => Err(Refusal::forbidden(format!(
                "Host {h:?} is not {}: only the demo's own address is served",
                self.host
            ))),
            None => Err(Refusal::forbidden(format!(
                "no Host header (expected {})",
                self.host
            ))),
        }
    }

    fn check_origin(&self, req: &Request) -> Result<(), Refusal> {
        match req.header("origin")? {
            Some(o) if o == self.origin => Ok(()),
            Some(o) => Err(Refusal::forbidden(format!(
                "Origin {o:?} is not {}: only the demo's own page may connect",
                self.origin
            ))),
            // Browsers always send one on a WebSocket handshake: a client
            // without one is not the demo's page.
            None => Err(Refusal::forbidden(format!(
                "no Origin header: only the demo's own page ({}) may connect",
                self.origin
            ))),
        }
    }

    fn check_secret(&self, req: &Request) -> Result<(), Refusal> {
        match req.params("secret").as_slice() {
            [given] if same_secret(given, &self.secret) => Ok(()),
            [_] => Err(Refusal::forbidden(
                "wrong secret: open the URL the demo printed with `listening`".into(),
            )),
            [] => Err(Refusal::forbidden(
                "no secret: open the URL the demo printed with `listening`".into(),
            )),
            _ => Err(Refusal::forbidden("more than one secret".into())),
        }
    }
}

/// Whether `given` is the secret, in a time that does not depend on
/// where they first differ (a refusal's timing tells nothing of it).
fn same_secret(given: &str, secret: &str) -> bool {
    given.len() == secret.len()
        && given
            .bytes()
            .zip(secret.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

/// A response other than the page, the script or the WebSocket.
struct Refusal {
    status: &'static str,
    reason: String,
}

impl Refusal {
    fn forbidden(reason: String) -> Refusal {
        Refusal {
            status: "403 Forbidden",
            reason,
        }
    }

    fn bad_request(reason: String) -> Refusal {
        Refusal {
            status: "400 Bad Request",
            reason,
        }
    }
}

/// The head of an HTTP request.
struct Request {
    method: String,
    path: String,
    query: String,
    /// Names in lower case.
    headers: Vec<(String, String)>,
}

impl Request {
    /// At most this much head is read: a client cannot make the server
    /// buffer without end.
    const MAX_HEAD: u64 = 16 * 1024;

    /// `None` for a connection closed before its first byte (a browser
    /// opens some ahead of need).
    fn read(stream: &TcpStream) -> std::io::Result<Option<Request>> {
        let mut reader = BufReader::new(stream.take(Self::MAX_HEAD));
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_owned();
        let target = parts.next().unwrap_or("");
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let (path, query) = (path.to_owned(), query.to_owned());
        let mut headers = Vec::new();
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "the request head is cut short or over 16 KiB",
                ));
            }
            if line.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
            }
        }
        Ok(Some(Request {
            method,
            path,
            query,
            headers,
        }))
    }

    /// A header's value; refused when repeated (which one would count is
    /// a guess).
    fn header(&self, name: &str) -> Result<Option<&str>, Refusal> {
        let mut values = self.headers.iter().filter(|(n, _)| n == name);
        match (values.next(), values.next()) {
            (first, None) => Ok(first.map(|(_, v)| v.as_str())),
            _ => Err(Refusal::bad_request(format!("more than one {name} header"))),
        }
    }

    /// The values of a query parameter (no percent-decoding: the secret
    /// is hex).
    fn params(&self, name: &str) -> Vec<&str> {
        self.query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| v)
            .collect()
    }

    fn is_websocket(&self) -> Result<&str, Refusal> {
        let upgrade = self.header("upgrade")?;
        let version = self.header("sec-websocket-version")?;
        match (upgrade, version, self.header("sec-websocket-key")?) {
            (Some(u), Some("13"), Some(key)) if u.eq_ignore_ascii_case("websocket") => Ok(key),
            _ => Err(Refusal::bad_request(
                "not a WebSocket request (version 13)".into(),
            )),
        }
    }
}

/// The page, its script and the signalling on one listener. Its threads
/// are scoped in `main`, which joins them all before it returns.
struct Server {
    listener: TcpListener,
    access: Access,
    /// The socket of the one session, while there is one: a second page
    /// is refused meanwhile; shut down at exit, so the session's read
    /// returns.
    session: Mutex<Option<TcpStream>>,
    /// Set under `session`'s lock, so no session starts after `shut_down`.
    stopping: AtomicBool,
}

impl Server {
    /// Ends `serve` and the session's reads.
    fn shut_down(&self) {
        {
            let session = self.session.lock().unwrap();
            self.stopping.store(true, Ordering::SeqCst);
            if let Some(s) = session.as_ref() {
                // Already closed by the page: nothing left to end.
                let _ = s.shutdown(Shutdown::Both);
            }
        }
        // Wakes `accept`, which then sees `stopping`.
        if let Ok(addr) = self.listener.local_addr() {
            drop(TcpStream::connect(addr));
        }
    }

    /// Takes the session's place for `stream`, or says why not.
    fn claim(&self, stream: &TcpStream) -> Result<(), Refusal> {
        let mut session = self.session.lock().unwrap();
        if self.stopping.load(Ordering::SeqCst) {
            return Err(Refusal {
                status: "503 Service Unavailable",
                reason: "the demo is stopping".into(),
            });
        }
        if session.is_some() {
            // Not a replacement: the page that has the session keeps it.
            return Err(Refusal {
                status: "409 Conflict",
                reason: "another page has the session: close it first (one session at a time)"
                    .into(),
            });
        }
        let clone = stream.try_clone().map_err(|e| Refusal {
            status: "500 Internal Server Error",
            reason: e.to_string(),
        })?;
        *session = Some(clone);
        Ok(())
    }
}

/// Frees the session's place when its thread ends, however it ends.
struct Claimed<'s>(&'s Server);

impl Drop for Claimed<'_> {
    fn drop(&mut self) {
        *self.0.session.lock().unwrap() = None;
    }
}

fn respond(mut stream: &TcpStream, status: &str, headers: &str, body: &str) -> std::io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// What `req` gets: the page, the script, a refusal, or, for the page's
/// WebSocket, `Ok(Some(key))` (the handshake is then the caller's).
fn route<'r>(server: &Server, req: &'r Request) -> Result<Option<&'r str>, Refusal> {
    let access = &server.access;
    access.check_host(req)?;
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/" | "/index.html") => {
            // The page holds no secret, but without one it could not
            // connect: a wrong URL is told at once.
            access.check_secret(req)?;
            Ok(None)
        }
        // Code only; the page asks for it without the secret.
        ("GET", "/webrtc-peer.js") => Ok(None),
        ("GET", "/ws") => {
            access.check_origin(req)?;
            access.check_secret(req)?;
            req.is_websocket().map(Some)
        }
        (_, "/" | "/index.html" | "/webrtc-peer.js" | "/ws") => Err(Refusal {
            status: "405 Method Not Allowed",
            reason: "GET only".into(),
        }),
        _ => Err(Refusal {
            status: "404 Not Found",
            reason: "not found".into(),
        }),
    }
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
        let peer = stream
            .peer_addr()
            .map_or_else(|_| "?".into(), |a| a.to_string());
        // A client that sends no request does not hold the others up.
        let head = stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .and_then(|()| Request::read(&stream));
        let req = match head {
            Ok(Some(req)) => req,
            Ok(None) => continue,
            Err(e) => {
                eprintln!("webrtc: no request read from {peer}: {e}");
                continue;
            }
        };
        let routed = route(server, &req).and_then(|key| match key {
            Some(key) => server.claim(&stream).map(|()| Some(key)),
            None => Ok(None),
        });
        let sent = match (routed, req.path.as_str()) {
            (Err(refusal), _) => {
                // The query is not logged: it may hold the secret. A
                // missing favicon is no refusal worth a line.
                if !refusal.status.starts_with("404") {
                    eprintln!(
                        "webrtc: refused {} {} from {peer}: {}: {}",
                        req.method, req.path, refusal.status, refusal.reason
                    );
                }
                respond(
                    &stream,
                    refusal.status,
                    "Content-Type: text/plain; charset=utf-8\r\n",
                    &format!("{}\n", refusal.reason),
                )
            }
            (Ok(Some(key)), _) => {
                let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
                let upgraded = write!(
                    &stream,
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
                )
                .and_then(|()| stream.set_read_timeout(None));
                let claimed = Claimed(server);
                if upgraded.is_ok() {
                    let ws = tungstenite::WebSocket::from_raw_socket(
                        stream,
                        tungstenite::protocol::Role::Server,
                        None,
                    );
                    scope.spawn(move || {
                        let ended = run_session(ws, o, current);
                        // Another page may connect from here on.
                        drop(claimed);
                        match ended {
                            Ok(id) => say(json!({"sessionEnded": {"streamId": id}})),
                            Err(e) => {
                                eprintln!("webrtc: session: {e}");
                                say(json!({"error": e}));
                            }
                        }
                    });
                }
                upgraded
            }
            (Ok(None), "/webrtc-peer.js") => respond(
                &stream,
                "200 OK",
                "Content-Type: text/javascript; charset=utf-8\r\n",
                PEER_JS,
            ),
            (Ok(None), _) => respond(
                &stream,
                "200 OK",
                // Its URL holds the secret: never sent on as a Referer.
                "Content-Type: text/html; charset=utf-8\r\nReferrer-Policy: no-referrer\r\n",
                PAGE,
            ),
        };
        if let Err(e) = sent {
            eprintln!("webrtc: {} {}: {e}", req.method, req.path);
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
        access: Access::new(port),
        session: Mutex::default(),
        stopping: AtomicBool::new(false),
    };
    let current: Mutex<Option<Session>> = Mutex::default();
    std::thread::scope(|scope| {
        scope.spawn(|| serve(scope, &server, &o, &current));
        let url = server.access.page_url();
        say(json!({ "listening": url }));
        eprintln!(
            "webrtc: open {url} in a browser (the secret in it is this run's; other pages are refused); Ctrl-C stops"
        );

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
