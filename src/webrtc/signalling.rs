// SPDX-License-Identifier: MPL-2.0

//! The offer/answer steps with `webrtcbin`, for an application's own
//! signalling (examples/webrtc.rs, tests/webrtc*.rs): its promises as
//! results, and the end of ICE gathering waited for on its notify signal,
//! so the candidates travel inside the description (no trickle ICE).

use gst::prelude::*;
use gst_webrtc::{WebRTCICEGatheringState, WebRTCSDPType, WebRTCSessionDescription};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long webrtcbin is given to answer a promise or gather candidates.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// Calls `call` with a promise and waits (up to [`TIMEOUT`]) for its reply;
/// `None` for an empty one (a `set-*-description` that succeeded).
pub fn promise_reply(call: impl FnOnce(gst::Promise)) -> Result<Option<gst::Structure>, String> {
    let (tx, rx) = mpsc::channel();
    let promise = gst::Promise::with_change_func(move |reply| {
        // The waiter may have given up already.
        let _ = tx.send(reply.ok().flatten().map(|s| s.to_owned()));
    });
    call(promise);
    rx.recv_timeout(TIMEOUT)
        .map_err(|_| format!("webrtcbin did not answer its promise within {TIMEOUT:?}"))
}

fn create(webrtc: &gst::Element, what: &str) -> Result<WebRTCSessionDescription, String> {
    let signal = format!("create-{what}");
    let reply = promise_reply(|p| {
        webrtc.emit_by_name::<()>(&signal, &[&None::<gst::Structure>, &p]);
    })?
    .ok_or_else(|| format!("{signal}: empty reply"))?;
    reply
        .get::<WebRTCSessionDescription>(what)
        .map_err(|_| format!("{signal}: no {what} in {reply}"))
}

/// webrtcbin's offer (`create-offer`).
pub fn create_offer(webrtc: &gst::Element) -> Result<WebRTCSessionDescription, String> {
    create(webrtc, "offer")
}

/// webrtcbin's answer to the remote offer (`create-answer`).
pub fn create_answer(webrtc: &gst::Element) -> Result<WebRTCSessionDescription, String> {
    create(webrtc, "answer")
}

/// `set-local-description` or `set-remote-description`.
pub fn set_description(
    webrtc: &gst::Element,
    local: bool,
    desc: &WebRTCSessionDescription,
) -> Result<(), String> {
    let signal = if local {
        "set-local-description"
    } else {
        "set-remote-description"
    };
    match promise_reply(|p| webrtc.emit_by_name::<()>(signal, &[desc, &p]))? {
        Some(r) if r.has_field("error") => Err(format!("{signal}: {r}")),
        _ => Ok(()),
    }
}

/// A description from SDP text.
pub fn description(kind: WebRTCSDPType, sdp: &str) -> Result<WebRTCSessionDescription, String> {
    let sdp =
        gst_sdp::SDPMessage::parse_buffer(sdp.as_bytes()).map_err(|e| format!("not SDP: {e}"))?;
    Ok(WebRTCSessionDescription::new(kind, sdp))
}

/// Waits (up to [`TIMEOUT`]) until webrtcbin gathered all its ICE
/// candidates: they are then in its local description.
pub fn wait_gathered(webrtc: &gst::Element) -> Result<(), String> {
    let (tx, rx) = mpsc::channel();
    let id = webrtc.connect_notify(Some("ice-gathering-state"), move |_, _| {
        // Only a wake-up; the state is read below.
        let _ = tx.send(());
    });
    let deadline = Instant::now() + TIMEOUT;
    let result = loop {
        if webrtc.property::<WebRTCICEGatheringState>("ice-gathering-state")
            == WebRTCICEGatheringState::Complete
        {
            break Ok(());
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if rx.recv_timeout(left).is_err() {
            break Err(format!("ICE gathering did not complete within {TIMEOUT:?}"));
        }
    };
    webrtc.disconnect(id);
    result
}

/// The local description's SDP text, once there is one.
pub fn local_sdp(webrtc: &gst::Element) -> Option<String> {
    webrtc
        .property::<Option<WebRTCSessionDescription>>("local-description")?
        .sdp()
        .as_text()
        .ok()
}
