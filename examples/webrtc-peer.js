// SPDX-License-Identifier: MPL-2.0
// The connection code of a browser peer of gst-mediastream, shared by
// examples/webrtc.html (served by examples/webrtc.rs) and the tests' page
// (tests/webrtc/peer.js). No trickle ICE: each side waits for its
// candidates, which then travel inside its description.
"use strict";

const rtc = {
  // Resolves once `pc` gathered all its ICE candidates.
  gathered(pc) {
    return new Promise((resolve) => {
      if (pc.iceGatheringState === "complete") return resolve();
      pc.addEventListener("icegatheringstatechange", () => {
        if (pc.iceGatheringState === "complete") resolve();
      });
    });
  },

  // Answers GStreamer's offer: the remote description, then `beforeAnswer`
  // (e.g. addTrack of what goes back), the answer and its candidates.
  // Returns the answer's SDP.
  async answer(pc, offer, beforeAnswer) {
    await pc.setRemoteDescription({ type: "offer", sdp: offer });
    if (beforeAnswer) beforeAnswer(pc);
    await pc.setLocalDescription(await pc.createAnswer());
    await rtc.gathered(pc);
    return pc.localDescription.sdp;
  },

  // What ontrack tells of a received track.
  received(e) {
    return { kind: e.track.kind, trackId: e.track.id, streamIds: e.streams.map((s) => s.id) };
  },

  // inbound-rtp statistics per kind.
  async inbound(pc) {
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
    return inbound;
  },
};
