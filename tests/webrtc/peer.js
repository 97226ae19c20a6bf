// SPDX-License-Identifier: MPL-2.0
// The browser side of tests/webrtc.rs (and scripts/bench): one
// RTCPeerConnection, as a page would use it. Every function is async and
// returns JSON-able values (browser.py passes them back).
"use strict";

const peer = (() => {
  let pc = null;
  let local = null; // the MediaStream sent (send())
  const senders = {}; // kind -> {sender, track}
  const received = []; // what ontrack saw, with the track's events
  const t0 = performance.now();
  const now = () => performance.now() - t0;

  function gathered() {
    return new Promise((resolve) => {
      if (pc.iceGatheringState === "complete") return resolve();
      pc.addEventListener("icegatheringstatechange", () => {
        if (pc.iceGatheringState === "complete") resolve();
      });
    });
  }

  function newPc() {
    pc = new RTCPeerConnection({ iceServers: [] });
    pc.ontrack = (e) => {
      const r = {
        kind: e.track.kind,
        trackId: e.track.id,
        streamIds: e.streams.map((s) => s.id),
        events: [],
        at: now(),
        firstFrame: null,
      };
      for (const ev of ["mute", "unmute", "ended"]) {
        e.track.addEventListener(ev, () => r.events.push(ev));
      }
      received.push(r);
      const el = document.createElement(e.track.kind);
      el.muted = true;
      el.autoplay = true;
      el.srcObject = new MediaStream([e.track]);
      document.body.appendChild(el);
      el.play().catch(() => {});
      if (e.track.kind === "video") {
        el.requestVideoFrameCallback((t, meta) => {
          r.firstFrame = { at: now(), width: meta.width, height: meta.height, presentedFrames: meta.presentedFrames };
        });
      }
    };
  }

  return {
    // GStreamer offers: answer it; returns the answer's SDP (with candidates).
    async receive(offer) {
      newPc();
      await pc.setRemoteDescription({ type: "offer", sdp: offer });
      await pc.setLocalDescription(await pc.createAnswer());
      await gathered();
      return { sdp: pc.localDescription.sdp, at: now() };
    },

    // What ontrack delivered, with inbound-rtp statistics per kind.
    async stats() {
      const inbound = {};
      if (pc) {
        (await pc.getStats()).forEach((s) => {
          if (s.type === "inbound-rtp") {
            inbound[s.kind] = {
              packetsReceived: s.packetsReceived,
              framesDecoded: s.framesDecoded,
              frameWidth: s.frameWidth,
              frameHeight: s.frameHeight,
              framesPerSecond: s.framesPerSecond,
            };
          }
        });
      }
      const tracks = received.map((r) => ({
        ...r,
        readyState: null,
      }));
      return {
        now: now(),
        connectionState: pc && pc.connectionState,
        tracks,
        inbound,
      };
    },

    // getUserMedia (Chromium's fake camera and microphone) sent to
    // GStreamer: returns the offer and the stream's identity.
    async send(constraints) {
      newPc();
      local = await navigator.mediaDevices.getUserMedia(constraints || { video: true, audio: true });
      for (const track of local.getTracks()) {
        senders[track.kind] = { sender: pc.addTrack(track, local), track };
      }
      await pc.setLocalDescription(await pc.createOffer());
      await gathered();
      return {
        sdp: pc.localDescription.sdp,
        streamId: local.id,
        tracks: local.getTracks().map((t) => ({ id: t.id, kind: t.kind, settings: t.getSettings() })),
      };
    },

    async accept(answer) {
      await pc.setRemoteDescription({ type: "answer", sdp: answer });
      return pc.connectionState;
    },

    // sender.replaceTrack(null) (on = false) or back to the track.
    async replace(kind, on) {
      const s = senders[kind];
      await s.sender.replaceTrack(on ? s.track : null);
      return true;
    },

    // pc.removeTrack: the new offer to send to GStreamer.
    async removeTrack(kind) {
      pc.removeTrack(senders[kind].sender);
      await pc.setLocalDescription(await pc.createOffer());
      return { sdp: pc.localDescription.sdp };
    },

    async close() {
      if (pc) pc.close();
      return true;
    },
  };
})();
