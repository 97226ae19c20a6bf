// SPDX-License-Identifier: MPL-2.0

//! examples/webrtc serves its own page only (issue 22, docs/webrtc.md
//! "Who may connect"): a page from another site, a client without the
//! run's secret or a second page gets no session. The example runs as a
//! child process on a free port of 127.0.0.1 with the fake devices; the
//! requests are written by hand, so each refused one differs from the
//! accepted one in one thing. No browser is needed, and no packet leaves
//! loopback: the offer gathers host candidates only (no STUN or TURN
//! server) and nobody answers it, so no connectivity check is sent.

#[path = "webrtc_common/mod.rs"]
mod webrtc_common;

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use tungstenite::client::IntoClientRequest;
use webrtc_common as wc;

/// A request that never gets an answer fails the test instead of hanging it.
const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// A valid `Sec-WebSocket-Key` (RFC 6455's example).
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// The running example and what its `listening` line says.
struct Running {
    demo: wc::Demo,
    port: u16,
    secret: String,
}

impl Running {
    fn start() -> Running {
        let mut demo = wc::Demo::start(&["--port", "0"]);
        let url = demo.wait("listening", 1, 30)[0]
            .as_str()
            .expect("`listening` is a URL")
            .to_owned();
        let (port, secret) = url
            .strip_prefix("http://127.0.0.1:")
            .and_then(|rest| rest.split_once("/?secret="))
            .unwrap_or_else(|| panic!("{url} is not http://127.0.0.1:PORT/?secret=SECRET"));
        let port = port.parse().unwrap();
        assert!(
            secret.len() == 32 && secret.bytes().all(|b| b.is_ascii_hexdigit()),
            "the secret of {url} is not 32 hex digits (a UUID v4)"
        );
        Running {
            demo,
            port,
            secret: secret.to_owned(),
        }
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The secret with its last digit changed: the same length, so only
    /// the comparison can refuse it.
    fn wrong_secret(&self) -> String {
        let mut wrong = self.secret.clone();
        let last = wrong.pop().unwrap();
        wrong.push(if last == '0' { '1' } else { '0' });
        wrong
    }

    /// `GET target` with `headers`; the response's status code and body
    /// (none after a 101, which the demo answers without one).
    fn get(&self, target: &str, headers: &[(&str, &str)]) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        let mut head = format!("GET {target} HTTP/1.1\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).unwrap();
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("GET {target}: no HTTP status line: {line:?}"));
        let mut length = 0;
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            if line.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        if status != 101 {
            reader.read_exact(&mut body).unwrap();
        }
        (status, String::from_utf8(body).unwrap())
    }

    /// The page's WebSocket handshake with `secret` and `origin` (none
    /// when `None`), else as the page makes it.
    fn handshake(&self, secret: Option<&str>, origin: Option<&str>) -> (u16, String) {
        let target = match secret {
            Some(s) => format!("/ws?secret={s}"),
            None => "/ws".to_owned(),
        };
        let host = self.host();
        let mut headers = vec![
            ("Host", host.as_str()),
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", KEY),
        ];
        if let Some(origin) = origin {
            headers.push(("Origin", origin));
        }
        self.get(&target, &headers)
    }

    /// A WebSocket as the demo's page opens it, through tungstenite's
    /// client, and the first message it gets (the offer).
    fn connect(&self) -> (tungstenite::WebSocket<TcpStream>, Value) {
        let mut request = format!("ws://{}/ws?secret={}", self.host(), self.secret)
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert("Origin", self.origin().parse().unwrap());
        let stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        let (mut ws, response) = match tungstenite::client(request, stream) {
            Ok(connected) => connected,
            Err(e) => panic!("the page's own handshake is refused: {e}"),
        };
        assert_eq!(response.status(), 101);
        let offer = loop {
            match ws.read().expect("the offer") {
                tungstenite::Message::Text(text) => break serde_json::from_str(&text).unwrap(),
                tungstenite::Message::Ping(_) | tungstenite::Message::Pong(_) => {}
                other => panic!("a session's first message is its offer, not {other:?}"),
            }
        };
        (ws, offer)
    }
}

#[track_caller]
fn assert_refused(what: &str, (status, body): (u16, String), code: u16, reason: &str) {
    assert_eq!(status, code, "{what}: {body}");
    assert!(
        body.contains(reason),
        "{what}: the refusal does not say `{reason}`: {body}"
    );
}

#[test]
fn other_pages_and_clients_without_the_secret_are_refused() {
    let demo = Running::start();
    let (host, origin, secret) = (demo.host(), demo.origin(), demo.secret.clone());
    let wrong = demo.wrong_secret();

    // The page: with the secret of the URL printed, at its own address.
    let (status, page) = demo.get(&format!("/?secret={secret}"), &[("Host", &host)]);
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("webrtc-peer.js"),
        "not the demo's page: {page}"
    );
    let page_without = |target: &str| demo.get(target, &[("Host", &host)]);
    assert_refused("the page, no secret", page_without("/"), 403, "no secret");
    assert_refused(
        "the page, a wrong secret",
        page_without(&format!("/?secret={wrong}")),
        403,
        "wrong secret",
    );
    // DNS rebinding: another name that resolves to 127.0.0.1.
    let evil_host = format!("evil.example:{}", demo.port);
    assert_refused(
        "the page, under another name",
        demo.get(&format!("/?secret={secret}"), &[("Host", &evil_host)]),
        403,
        "Host",
    );

    // The WebSocket: what a page of another site, or a client that is no
    // browser, can send.
    assert_refused(
        "a foreign Origin",
        demo.handshake(Some(&secret), Some("http://evil.example")),
        403,
        "Origin",
    );
    assert_refused(
        "the same address by another name",
        demo.handshake(
            Some(&secret),
            Some(&format!("http://localhost:{}", demo.port)),
        ),
        403,
        "Origin",
    );
    assert_refused(
        "no Origin",
        demo.handshake(Some(&secret), None),
        403,
        "no Origin",
    );
    assert_refused(
        "a wrong secret",
        demo.handshake(Some(&wrong), Some(&origin)),
        403,
        "wrong secret",
    );
    assert_refused(
        "no secret",
        demo.handshake(None, Some(&origin)),
        403,
        "no secret",
    );
    assert_refused(
        "the WebSocket under another name",
        demo.get(
            &format!("/ws?secret={secret}"),
            &[
                ("Host", &evil_host),
                ("Upgrade", "websocket"),
                ("Connection", "Upgrade"),
                ("Sec-WebSocket-Version", "13"),
                ("Sec-WebSocket-Key", KEY),
                ("Origin", &origin),
            ],
        ),
        403,
        "Host",
    );
}

#[test]
fn one_page_at_a_time() {
    if !wc::runnable(wc::missing_gstreamer()) {
        return;
    }
    let mut demo = Running::start();
    let origin = demo.origin();

    // The page's own handshake gets a session: the offer of the stream.
    let (mut first, offer) = demo.connect();
    assert_eq!(offer["type"], "offer", "{offer}");
    let sdp = offer["sdp"].as_str().unwrap();
    assert!(sdp.contains("m=video") && sdp.contains("m=audio"), "{sdp}");
    let stream_id = demo.demo.wait("offer", 1, 60)[0]["streamId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(sdp.contains(&stream_id), "the offer is not of {stream_id}");

    // A second page, valid in every other way, is refused; the first
    // keeps its session and its connection.
    assert_refused(
        "a second page",
        demo.handshake(Some(&demo.secret), Some(&origin)),
        409,
        "another page has the session",
    );
    first
        .send(tungstenite::Message::Ping(tungstenite::Bytes::from_static(
            b"first",
        )))
        .unwrap();
    loop {
        match first.read().expect("the first page's connection is open") {
            tungstenite::Message::Pong(p) if p.as_ref() == b"first" => break,
            tungstenite::Message::Close(c) => panic!("the first page was closed: {c:?}"),
            _ => {}
        }
    }

    // The first page goes: its session ends, and a new page gets one.
    first.close(None).unwrap();
    while first.read().is_ok() {}
    let ended = demo.demo.wait("sessionEnded", 1, 30);
    assert_eq!(ended[0]["streamId"], stream_id.as_str(), "{ended:?}");
    let (_second, offer) = demo.connect();
    let second_id = demo.demo.wait("offer", 2, 60)[1]["streamId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(second_id, stream_id, "a new session, a new stream");
    assert!(
        offer["sdp"].as_str().unwrap().contains(&second_id),
        "{offer}"
    );
}
