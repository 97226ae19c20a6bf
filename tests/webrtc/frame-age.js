// SPDX-License-Identifier: MPL-2.0
// The first video frame's age, for the test pages (peer.js, janus-peer.js)
// and scripts/bench: docs/webrtc.md, "No stale frames".
"use strict";

// The age of the first video frame received, from every encoded frame's
// arrival time (this page's clock) and RTP timestamp (the sender's
// capture clock, 90 kHz): a frame's delay is its arrival minus its
// capture, up to one constant; the steady delay is the median over the
// frames after the first 10; the first frame's age is how much longer it
// took than that. A backlog flushed at connection (frames captured before
// it, sent in a burst) makes the first frame older by as many frame
// intervals as frames were held.
function firstFrameAge(arrivals) {
  if (arrivals.length < 30) return null;
  const base = arrivals[0];
  const capture = (a) => ((a.rtp - base.rtp) >>> 0) / 90; // ms since the first frame's capture
  const delays = arrivals.map((a) => a.at - base.at - capture(a));
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const steady = median(delays.slice(10));
  const intervals = arrivals.slice(1).map((a, i) => capture(a) - capture(arrivals[i])).filter((d) => d > 0);
  const frameMs = median(intervals);
  return {
    ageMs: delays[0] - steady,
    frameMs,
    frames: (delays[0] - steady) / frameMs,
    firstIsKey: base.key,
    // Frames that arrived within one frame interval of the first one.
    burst: arrivals.filter((a) => a.at - base.at < frameMs / 2).length,
  };
}

// A receiver transform that notes each encoded frame's arrival (this
// page's clock) and RTP timestamp into `arrivals` (at most 120).
function arrivalRecorder(arrivals) {
  return new TransformStream({
    transform(frame, out) {
      if (arrivals.length < 120) {
        const meta = frame.getMetadata();
        arrivals.push({ rtp: meta.rtpTimestamp ?? frame.timestamp, at: performance.now(), key: frame.type === "key" });
      }
      out.enqueue(frame);
    },
  });
}
