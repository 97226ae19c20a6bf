// SPDX-License-Identifier: MPL-2.0
// The browser side of tests/webrtc.rs (and scripts/bench): one
// RTCPeerConnection, as a page would use it, with the example page's
// connection code (examples/webrtc-peer.js, loaded first). Every function
// is async and returns JSON-able values (browser.py passes them back).
"use strict";

const peer = (() => {
  let pc = null;
  let local = null; // the MediaStream sent (send())
  const senders = {}; // kind -> {sender, track}
  const received = []; // what ontrack saw, with the track's events
  const t0 = performance.now();
  const now = () => performance.now() - t0;


  function newPc(measure) {
    // encodedInsertableStreams: each received encoded frame passes through
    // this page, which notes its arrival (every receiver must then pipe
    // its frames through, or none are decoded).
    received.length = 0; // one connection at a time (scripts/bench makes several)
    pc = new RTCPeerConnection(measure ? { iceServers: [], encodedInsertableStreams: true } : { iceServers: [] });
    pc.ontrack = (e) => {
      const r = {
        ...rtc.received(e),
        events: [],
        at: now(),
        firstFrame: null,
      };
      for (const ev of ["mute", "unmute", "ended"]) {
        e.track.addEventListener(ev, () => r.events.push(ev));
      }
      received.push(r);
      if (measure) {
        const arrivals = (r.arrivals = []);
        const { readable, writable } = e.receiver.createEncodedStreams();
        readable.pipeThrough(arrivalRecorder(arrivals)).pipeTo(writable);
      }
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
      newPc(true);
      const sdp = await rtc.answer(pc, offer);
      return { sdp, at: now() };
    },

    // What ontrack delivered, with inbound-rtp statistics per kind.
    async stats() {
      const inbound = await rtc.inbound(pc);
      const tracks = received.map(({ arrivals, ...r }) => ({
        ...r,
        readyState: null,
        firstFrameAge: arrivals && r.kind === "video" ? firstFrameAge(arrivals) : undefined,
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
      newPc(false);
      local = await navigator.mediaDevices.getUserMedia(constraints || { video: true, audio: true });
      for (const track of local.getTracks()) {
        senders[track.kind] = { sender: pc.addTrack(track, local), track };
      }
      await pc.setLocalDescription(await pc.createOffer());
      await rtc.gathered(pc);
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

    // The mean of R, G and B (0-255) over the received video's current
    // frame, drawn into a canvas.
    async brightness() {
      const v = document.querySelector("video");
      if (!v || !v.videoWidth) return null;
      const c = document.createElement("canvas");
      c.width = v.videoWidth;
      c.height = v.videoHeight;
      const g = c.getContext("2d", { willReadFrequently: true });
      g.drawImage(v, 0, 0);
      const d = g.getImageData(0, 0, c.width, c.height).data;
      let sum = 0;
      for (let i = 0; i < d.length; i += 4) sum += d[i] + d[i + 1] + d[i + 2];
      return sum / (3 * (d.length / 4));
    },

    async close() {
      if (pc) pc.close();
      return true;
    },
  };
})();
