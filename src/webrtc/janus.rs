// SPDX-License-Identifier: MPL-2.0

//! A Janus client (the `janus-protocol` over WebSocket) for a VideoRoom
//! subscriber: a session, a handle on `janus.plugin.videoroom`, requests
//! matched to their replies by transaction, keepalives, and the events
//! Janus sends on its own (a renegotiation, a feed gone, a hangup, the
//! session timed out, the socket closed).
//!
//! One thread owns the socket (tungstenite is blocking and not split in a
//! reader and a writer): it reads with a short timeout, writes what the
//! callers queue, and sends a keepalive every [`KEEPALIVE`]. The thread is
//! owned by [`Connection`] and joined when it is dropped (never detached).
//! Requests wait for their reply at most [`TIMEOUT`].

use crate::excerpt::excerpt;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a request waits for its reply.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Janus drops a session after 60 s without a request (its default
/// `session_timeout`); janus.js sends one every 25 s.
pub const KEEPALIVE: Duration = Duration::from_secs(25);
/// How long the socket thread blocks in a read before it looks at the
/// requests queued: the latency a request may wait before it is sent.
const POLL: Duration = Duration::from_millis(20);

/// Why a Janus exchange failed, with what the server said.
#[derive(Debug, Clone, PartialEq)]
pub enum JanusError {
    /// No WebSocket to the server.
    Unreachable { url: String, detail: String },
    /// Janus refused the request: its error code and reason (`code` 458:
    /// no such session, 459: no such handle, 460: no such plugin, …).
    Janus { code: i64, reason: String },
    /// The VideoRoom refused it: 426 no such room, 428 no such feed,
    /// 429 pin missing, 433 unauthorized (wrong pin or secret), …
    VideoRoom { code: i64, reason: String },
    /// No reply within [`TIMEOUT`].
    Timeout { what: String },
    /// The socket closed (the server went away), or the session expired.
    Closed { detail: String },
    /// A reply that is not what the protocol says.
    Protocol { detail: String },
}

impl std::fmt::Display for JanusError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JanusError::Unreachable { url, detail } => {
                write!(
                    f,
                    "the Janus server at {} cannot be reached: {}",
                    excerpt(url),
                    excerpt(detail)
                )
            }
            JanusError::Janus { code, reason } => {
                write!(f, "Janus refused: {} (error {code})", excerpt(reason))
            }
            JanusError::VideoRoom { code, reason } => {
                let hint = match code {
                    426 => " (check room)",
                    428 => " (the publisher is gone or not yet up: check feed)",
                    429 | 433 => " (check pin)",
                    _ => "",
                };
                write!(
                    f,
                    "the VideoRoom refused: {} (error {code}){hint}",
                    excerpt(reason)
                )
            }
            JanusError::Timeout { what } => {
                write!(f, "Janus did not answer {what} within {TIMEOUT:?}")
            }
            JanusError::Closed { detail } => {
                write!(f, "the Janus session ended: {}", excerpt(detail))
            }
            JanusError::Protocol { detail } => {
                write!(f, "unexpected answer from Janus: {}", excerpt(detail))
            }
        }
    }
}

impl std::error::Error for JanusError {}

/// What Janus sends unasked.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A VideoRoom event with no transaction: `data` is the plugin's
    /// `plugindata.data` (`videoroom`: `updated`, `event`, …), `jsep` a
    /// renegotiation offer if one came.
    Plugin { data: Value, jsep: Option<Value> },
    /// The PeerConnection is up (`webrtcup`).
    WebrtcUp,
    /// Janus hung up the PeerConnection, with its reason.
    Hangup { reason: String },
    /// Janus stopped or resumed receiving a medium (`media`).
    Media { mid: String, receiving: bool },
    /// The session ended: the socket closed, or Janus timed it out.
    Closed { detail: String },
}

type Reply = Result<Value, JanusError>;

enum Cmd {
    Send {
        msg: Value,
        /// Wait for the plugin's `event` after the `ack`.
        asynchronous: bool,
        reply: mpsc::Sender<Reply>,
    },
    Close,
}

/// A connection to Janus: one session and one VideoRoom handle.
pub struct Connection {
    url: String,
    session: u64,
    handle: u64,
    cmds: mpsc::Sender<Cmd>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("url", &self.url)
            .field("session", &self.session)
            .field("handle", &self.handle)
            .finish()
    }
}

impl Connection {
    /// Connects to `url` (`ws://` or `wss://`), creates a session and
    /// attaches a VideoRoom handle. `on_event` gets what Janus sends
    /// unasked, on the connection's thread.
    pub fn open(
        url: &str,
        on_event: impl Fn(Event) + Send + 'static,
    ) -> Result<Connection, JanusError> {
        let ws = connect(url)?;
        let (cmds, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("janus-signalling".into())
            .spawn(move || Socket::new(ws, rx, Box::new(on_event)).run())
            .map_err(|e| JanusError::Unreachable {
                url: url.to_owned(),
                detail: format!("no thread for the socket: {e}"),
            })?;
        let mut conn = Connection {
            url: url.to_owned(),
            session: 0,
            handle: 0,
            cmds,
            thread: Some(thread),
        };
        let created = conn.request(json!({"janus": "create"}), false, "create")?;
        conn.session = id_of(&created)?;
        let attached = conn.request(
            json!({"janus": "attach", "plugin": "janus.plugin.videoroom"}),
            false,
            "attach",
        )?;
        conn.handle = id_of(&attached)?;
        Ok(conn)
    }

    pub fn session(&self) -> u64 {
        self.session
    }

    fn request(&self, mut msg: Value, asynchronous: bool, what: &str) -> Reply {
        if self.session != 0 {
            msg["session_id"] = json!(self.session);
        }
        let (tx, rx) = mpsc::channel();
        self.cmds
            .send(Cmd::Send {
                msg,
                asynchronous,
                reply: tx,
            })
            .map_err(|_| JanusError::Closed {
                detail: "the connection's thread ended".into(),
            })?;
        match rx.recv_timeout(TIMEOUT) {
            Ok(r) => r,
            Err(mpsc::RecvTimeoutError::Timeout) => Err(JanusError::Timeout { what: what.into() }),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(JanusError::Closed {
                detail: "the connection's thread ended".into(),
            }),
        }
    }

    /// A VideoRoom request on the handle: `body`, with `jsep` if given.
    /// Returns `plugindata.data` and the reply's jsep; a VideoRoom error
    /// (`error_code`) is an `Err`.
    pub fn message(
        &self,
        body: Value,
        jsep: Option<Value>,
        asynchronous: bool,
    ) -> Result<(Value, Option<Value>), JanusError> {
        let what = body["request"].as_str().unwrap_or("message").to_owned();
        let mut msg = json!({"janus": "message", "handle_id": self.handle, "body": body});
        if let Some(j) = jsep {
            msg["jsep"] = j;
        }
        let reply = self.request(msg, asynchronous, &what)?;
        let data = reply["plugindata"]["data"].clone();
        if let Some(code) = data["error_code"].as_i64() {
            return Err(JanusError::VideoRoom {
                code,
                reason: data["error"].as_str().unwrap_or_default().to_owned(),
            });
        }
        if data.is_null() {
            return Err(JanusError::Protocol {
                detail: format!("no plugindata in the reply to {what}: {}", brief(&reply)),
            });
        }
        Ok((data, reply.get("jsep").cloned()))
    }

    /// The room's participants that publish: (feed id, display).
    pub fn publishers(&self, room: u64) -> Result<Vec<(u64, String)>, JanusError> {
        let (data, _) = self.message(
            json!({"request": "listparticipants", "room": room}),
            None,
            false,
        )?;
        Ok(data["participants"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["publisher"].as_bool() == Some(true))
            .filter_map(|p| {
                Some((
                    p["id"].as_u64()?,
                    p["display"].as_str().unwrap_or_default().to_owned(),
                ))
            })
            .collect())
    }

    /// Joins `room` as a subscriber to `feed` (with the msid Janus can
    /// give: the feed id and its own mids): the `attached` data (its
    /// `streams`) and the offer's SDP.
    pub fn subscribe(
        &self,
        room: u64,
        feed: u64,
        pin: Option<&str>,
    ) -> Result<(Value, String), JanusError> {
        let mut body = json!({
            "request": "join",
            "ptype": "subscriber",
            "room": room,
            "use_msid": true,
            "streams": [{"feed": feed}],
        });
        if let Some(pin) = pin.filter(|p| !p.is_empty()) {
            body["pin"] = json!(pin);
        }
        let (data, jsep) = self.message(body, None, true)?;
        let sdp = jsep
            .as_ref()
            .and_then(|j| j["sdp"].as_str())
            .ok_or_else(|| JanusError::Protocol {
                detail: format!("the join's answer has no offer: {}", brief(&data)),
            })?;
        Ok((data, sdp.to_owned()))
    }

    /// Starts the subscription with our answer.
    pub fn start(&self, answer: &str) -> Result<(), JanusError> {
        self.message(
            json!({"request": "start"}),
            Some(json!({"type": "answer", "sdp": answer})),
            true,
        )
        .map(|_| ())
    }

    /// Leaves the room and ends the session (best effort: the server may
    /// be gone already).
    pub fn close(&mut self) {
        if self.thread.is_none() {
            return;
        }
        if self.handle != 0 {
            let _ = self.message(json!({"request": "leave"}), None, true);
        }
        if self.session != 0 {
            let _ = self.request(json!({"janus": "destroy"}), false, "destroy");
        }
        let _ = self.cmds.send(Cmd::Close);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.close();
    }
}

fn id_of(reply: &Value) -> Result<u64, JanusError> {
    reply["data"]["id"]
        .as_u64()
        .ok_or_else(|| JanusError::Protocol {
            detail: format!("no id in {}", brief(reply)),
        })
}

/// A message as a log line shows it: the SDP left out.
fn brief(v: &Value) -> String {
    let mut v = v.clone();
    if let Some(sdp) = v.pointer_mut("/jsep/sdp") {
        *sdp = json!("…");
    }
    excerpt(&v.to_string()).into_owned()
}

type Ws = tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<TcpStream>>;

/// Opens the WebSocket with the `janus-protocol` subprotocol (Janus drops
/// a socket without it), connecting within [`TIMEOUT`].
fn connect(url: &str) -> Result<Ws, JanusError> {
    use tungstenite::client::IntoClientRequest;
    let unreachable = |detail: String| JanusError::Unreachable {
        url: url.to_owned(),
        detail,
    };
    let mut request = url
        .into_client_request()
        .map_err(|e| unreachable(format!("not a WebSocket URL: {e}")))?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        tungstenite::http::HeaderValue::from_static("janus-protocol"),
    );
    let uri = request.uri();
    let host = uri.host().unwrap_or_default().trim_matches(['[', ']']);
    let port = uri
        .port_u16()
        .unwrap_or(if uri.scheme_str() == Some("wss") {
            443
        } else {
            80
        });
    let addrs: Vec<_> = (host, port)
        .to_socket_addrs()
        .map_err(|e| unreachable(e.to_string()))?
        .collect();
    let mut last = String::from("no address");
    let tcp = addrs
        .iter()
        .find_map(|a| match TcpStream::connect_timeout(a, TIMEOUT) {
            Ok(s) => Some(s),
            Err(e) => {
                last = e.to_string();
                None
            }
        })
        .ok_or_else(|| unreachable(last))?;
    tcp.set_read_timeout(Some(TIMEOUT))
        .and_then(|_| tcp.set_nodelay(true))
        .map_err(|e| unreachable(e.to_string()))?;
    let (ws, _) = tungstenite::client_tls(request, tcp).map_err(|e| unreachable(e.to_string()))?;
    let sock = match ws.get_ref() {
        tungstenite::stream::MaybeTlsStream::Plain(s) => s,
        tungstenite::stream::MaybeTlsStream::Rustls(s) => &s.sock,
        _ => return Err(unreachable("unknown stream type".into())),
    };
    sock.set_read_timeout(Some(POLL))
        .map_err(|e| unreachable(e.to_string()))?;
    Ok(ws)
}

struct Pending {
    reply: mpsc::Sender<Reply>,
    asynchronous: bool,
}

/// The socket's thread.
struct Socket {
    ws: Ws,
    cmds: mpsc::Receiver<Cmd>,
    on_event: Box<dyn Fn(Event) + Send>,
    pending: HashMap<String, Pending>,
    next: u64,
    session: Option<u64>,
    last_sent: Instant,
}

impl Socket {
    fn new(ws: Ws, cmds: mpsc::Receiver<Cmd>, on_event: Box<dyn Fn(Event) + Send>) -> Socket {
        Socket {
            ws,
            cmds,
            on_event,
            pending: HashMap::new(),
            next: 0,
            session: None,
            last_sent: Instant::now(),
        }
    }

    fn run(mut self) {
        let end = loop {
            match self.step() {
                Ok(true) => continue,
                Ok(false) => break None,
                Err(detail) => break Some(detail),
            }
        };
        let detail = end.unwrap_or_else(|| "closed".into());
        for (_, p) in self.pending.drain() {
            let _ = p.reply.send(Err(JanusError::Closed {
                detail: detail.clone(),
            }));
        }
        let _ = self.ws.close(None);
        let _ = self.ws.flush();
        (self.on_event)(Event::Closed { detail });
    }

    /// One round: the queued requests, a keepalive if due, one read.
    /// `Ok(false)`: closed by us.
    fn step(&mut self) -> Result<bool, String> {
        loop {
            match self.cmds.try_recv() {
                Ok(Cmd::Send {
                    mut msg,
                    asynchronous,
                    reply,
                }) => {
                    self.next += 1;
                    let t = format!("t{}", self.next);
                    msg["transaction"] = json!(t);
                    if let Some(s) = msg["session_id"].as_u64() {
                        self.session = Some(s);
                    }
                    self.send(&msg)?;
                    self.pending.insert(
                        t,
                        Pending {
                            reply,
                            asynchronous,
                        },
                    );
                }
                Ok(Cmd::Close) | Err(mpsc::TryRecvError::Disconnected) => return Ok(false),
                Err(mpsc::TryRecvError::Empty) => break,
            }
        }
        if let Some(s) = self.session
            && self.last_sent.elapsed() >= KEEPALIVE
        {
            self.next += 1;
            let t = format!("k{}", self.next);
            self.send(&json!({"janus": "keepalive", "session_id": s, "transaction": t}))?;
        }
        match self.ws.read() {
            Ok(tungstenite::Message::Text(text)) => {
                match serde_json::from_str::<Value>(text.as_str()) {
                    Ok(v) => self.dispatch(v)?,
                    Err(e) => return Err(format!("not JSON from Janus ({e})")),
                }
                Ok(true)
            }
            Ok(tungstenite::Message::Close(frame)) => Err(match frame {
                Some(f) => format!("the server closed the socket ({} {})", f.code, f.reason),
                None => "the server closed the socket".into(),
            }),
            Ok(_) => Ok(true),
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                Ok(true)
            }
            Err(e) => Err(format!("the socket failed: {e}")),
        }
    }

    fn send(&mut self, msg: &Value) -> Result<(), String> {
        self.last_sent = Instant::now();
        self.ws
            .send(tungstenite::Message::text(msg.to_string()))
            .map_err(|e| format!("cannot send to Janus: {e}"))
    }

    fn dispatch(&mut self, v: Value) -> Result<(), String> {
        let kind = v["janus"].as_str().unwrap_or_default().to_owned();
        let transaction = v["transaction"].as_str().map(str::to_owned);
        if let Some(t) = transaction
            && let Some(p) = self.pending.get(&t)
        {
            let done = match kind.as_str() {
                // A keepalive's ack, or the ack before an async reply.
                "ack" => !p.asynchronous,
                _ => true,
            };
            if done {
                let p = self.pending.remove(&t).unwrap();
                let reply = if kind == "error" {
                    Err(JanusError::Janus {
                        code: v["error"]["code"].as_i64().unwrap_or_default(),
                        reason: v["error"]["reason"].as_str().unwrap_or_default().to_owned(),
                    })
                } else {
                    Ok(v)
                };
                let _ = p.reply.send(reply);
            }
            return Ok(());
        }
        let event = match kind.as_str() {
            "event" => Event::Plugin {
                data: v["plugindata"]["data"].clone(),
                jsep: v.get("jsep").cloned(),
            },
            "webrtcup" => Event::WebrtcUp,
            "hangup" => Event::Hangup {
                reason: v["reason"].as_str().unwrap_or_default().to_owned(),
            },
            "media" => Event::Media {
                mid: v["mid"].as_str().unwrap_or_default().to_owned(),
                receiving: v["receiving"].as_bool().unwrap_or(false),
            },
            "timeout" => return Err("Janus timed the session out (no keepalive)".into()),
            // ack of a keepalive, slowlink, detached, trickle, …
            _ => return Ok(()),
        };
        (self.on_event)(event);
        Ok(())
    }
}

/// The ids of one subscribed stream from an `attached` / `updated` data:
/// (subscriber mid, publisher mid, kind, active).
pub fn streams_of(data: &Value) -> Vec<(String, Option<String>, String, bool)> {
    data["streams"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            (
                s["mid"].as_str().unwrap_or_default().to_owned(),
                s["feed_mid"].as_str().map(str::to_owned),
                s["type"].as_str().unwrap_or_default().to_owned(),
                s["active"].as_bool().unwrap_or(true),
            )
        })
        .collect()
}

/// The offer with the ids the subscriber's tracks get: for each media
/// section whose `a=mid` `ids` maps to `(stream id, track id)`, its
/// `a=msid` and an `a=ssrc:N msid:` line per SSRC (webrtcbin 1.22 reads a
/// src pad's `msid` only from the ssrc-level line; Janus writes only the
/// media-level one). Other sections are left as they are.
pub fn offer_with_ids(sdp: &str, ids: impl Fn(&str) -> Option<(String, String)>) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut section: Vec<&str> = Vec::new();
    let flush = |section: &mut Vec<&str>, out: &mut Vec<String>| {
        let mid = section
            .iter()
            .find_map(|l| l.strip_prefix("a=mid:"))
            .map(str::trim);
        let Some((stream, track)) = mid.and_then(&ids) else {
            out.extend(section.drain(..).map(str::to_owned));
            return;
        };
        let mut ssrcs: Vec<&str> = Vec::new();
        for line in section.drain(..) {
            if line.starts_with("a=msid:") {
                continue;
            }
            if let Some(rest) = line.strip_prefix("a=ssrc:") {
                let (ssrc, attr) = rest.split_once(' ').unwrap_or((rest, ""));
                if attr.starts_with("msid:") {
                    continue;
                }
                if !ssrcs.contains(&ssrc) {
                    ssrcs.push(ssrc);
                }
            }
            out.push(line.to_owned());
            if line.starts_with("a=mid:") {
                out.push(format!("a=msid:{stream} {track}"));
            }
        }
        for ssrc in ssrcs {
            out.push(format!("a=ssrc:{ssrc} msid:{stream} {track}"));
        }
    };
    for line in sdp.lines() {
        if line.starts_with("m=") {
            flush(&mut section, &mut out);
        }
        if line.starts_with("m=") || !section.is_empty() {
            section.push(line);
        } else {
            out.push(line.to_owned());
        }
    }
    flush(&mut section, &mut out);
    let mut text = out.join("\r\n");
    text.push_str("\r\n");
    text
}

/// The offer with every media section `a=inactive`: what Janus sends its
/// subscribers when the feed is gone, made here when the session ends
/// without it (a hangup, the server gone), so the tracks end the same way.
pub fn all_inactive(sdp: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut in_media = false;
    for line in sdp.lines() {
        if line.starts_with("m=") {
            in_media = true;
            out.push(line.to_owned());
            out.push("a=inactive".to_owned());
            continue;
        }
        let direction = matches!(
            line,
            "a=sendonly" | "a=recvonly" | "a=sendrecv" | "a=inactive"
        );
        if in_media && (direction || line.starts_with("a=msid:") || line.starts_with("a=ssrc")) {
            continue;
        }
        out.push(line.to_owned());
    }
    let mut text = out.join("\r\n");
    text.push_str("\r\n");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=VideoRoom\r\nt=0 0\r\na=group:BUNDLE 0 1\r\nm=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=sendonly\r\na=mid:0\r\na=ssrc-group:FID 11 12\r\na=msid:77 0\r\na=ssrc:11 cname:janus\r\na=ssrc:12 cname:janus\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendonly\r\na=mid:1\r\na=msid:77 1\r\na=ssrc:13 cname:janus\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:2\r\n";

    #[test]
    fn the_offer_carries_the_ids_at_media_and_ssrc_level() {
        let sdp = offer_with_ids(OFFER, |mid| match mid {
            "0" => Some(("cam".into(), "v-track".into())),
            "1" => Some(("cam".into(), "a-track".into())),
            _ => None,
        });
        let lines: Vec<&str> = sdp.lines().collect();
        for want in [
            "a=msid:cam v-track",
            "a=ssrc:11 msid:cam v-track",
            "a=ssrc:12 msid:cam v-track",
            "a=msid:cam a-track",
            "a=ssrc:13 msid:cam a-track",
            "a=ssrc:11 cname:janus",
            "a=mid:2",
        ] {
            assert!(lines.contains(&want), "{want} in {sdp}");
        }
        assert!(!sdp.contains("msid:77"), "{sdp}");
        assert!(sdp.ends_with("\r\n"));
        gst::init().unwrap();
        gst_sdp::SDPMessage::parse_buffer(sdp.as_bytes()).unwrap();
    }

    #[test]
    fn an_ended_session_makes_every_section_inactive() {
        let sdp = all_inactive(OFFER);
        let sections: Vec<&str> = sdp.split("m=").skip(1).collect();
        assert_eq!(sections.len(), 3);
        for s in sections {
            assert!(s.contains("a=inactive"), "{s}");
            assert!(!s.contains("a=sendonly") && !s.contains("msid"), "{s}");
        }
        assert!(sdp.contains("a=group:BUNDLE 0 1"));
    }

    #[test]
    fn videoroom_errors_name_the_cause() {
        let e = JanusError::VideoRoom {
            code: 426,
            reason: "No such room (9999)".into(),
        };
        assert_eq!(
            e.to_string(),
            "the VideoRoom refused: No such room (9999) (error 426) (check room)"
        );
        let e = JanusError::VideoRoom {
            code: 433,
            reason: "Unauthorized (wrong pin)".into(),
        };
        assert!(e.to_string().contains("check pin"), "{e}");
    }

    #[test]
    fn an_unreachable_server_is_an_error_at_once() {
        // Nothing listens on a port just bound and dropped.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("ws://127.0.0.1:{port}");
        let err = Connection::open(&url, |_| {}).unwrap_err();
        assert!(
            matches!(&err, JanusError::Unreachable { url: u, .. } if *u == url),
            "{err:?}"
        );
        let err = Connection::open("http://127.0.0.1:1", |_| {}).unwrap_err();
        assert!(err.to_string().contains("cannot be reached"), "{err}");
    }

    #[test]
    fn streams_read_the_ids_janus_gives() {
        let data = json!({"videoroom": "attached", "streams": [
            {"type": "video", "active": true, "mindex": 0, "mid": "0", "feed_id": 7, "feed_mid": "video0"},
            {"type": "audio", "active": false, "mindex": 1, "mid": "1"}
        ]});
        assert_eq!(
            streams_of(&data),
            [
                ("0".into(), Some("video0".into()), "video".into(), true),
                ("1".into(), None, "audio".into(), false)
            ]
        );
    }
}
