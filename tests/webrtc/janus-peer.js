// SPDX-License-Identifier: MPL-2.0
// The browser side of tests/sfu.rs (and scripts/bench sfu): Janus
// VideoRoom subscribers and a publisher with Janus's own janus.js, as a
// page of a Janus deployment would use it. Every function is async and
// returns JSON-able values (browser.py passes them back).
"use strict";

// janus.js makes the RTCPeerConnections; a measuring one (subscribe's
// `measure`) is made with encoded insertable streams, and every received
// frame passes through this page, the video's arrivals noted
// (frame-age.js): then every receiver must pipe its frames, or none are
// decoded.
let measuring = false;
{
  const Native = window.RTCPeerConnection;
  const Measured = function (config, ...rest) {
    if (!measuring) return new Native(config, ...rest);
    const pc = new Native({ ...(config || {}), encodedInsertableStreams: true }, ...rest);
    pc.arrivals = [];
    pc.addEventListener("track", (e) => {
      const { readable, writable } = e.receiver.createEncodedStreams();
      const through = e.track.kind === "video" ? arrivalRecorder(pc.arrivals) : new TransformStream();
      readable.pipeThrough(through).pipeTo(writable);
    });
    return pc;
  };
  Measured.prototype = Native.prototype;
  window.RTCPeerConnection = Measured;
}

const peer = (() => {
  let janus = null;
  const subscribers = []; // {handle, pc, tracks: [], events: []}
  let publisher = null;

  function connect(server) {
    if (janus) return Promise.resolve(janus);
    return new Promise((resolve, reject) => {
      Janus.init({
        debug: false,
        dependencies: Janus.useDefaultDependencies(),
        callback: () => {
          const j = new Janus({
            server,
            success: () => { janus = j; resolve(j); },
            error: (e) => reject(new Error("janus: " + e)),
          });
        },
      });
    });
  }

  function attach() {
    return new Promise((resolve, reject) => {
      const sub = { handle: null, tracks: [], events: [], errors: [] };
      janus.attach({
        plugin: "janus.plugin.videoroom",
        success: (h) => { sub.handle = h; resolve(sub); },
        error: (e) => reject(new Error("attach: " + e)),
        onmessage: (msg, jsep) => {
          if (msg.error) sub.errors.push(msg.error_code + " " + msg.error);
          if (sub.onmessage) sub.onmessage(msg, jsep);
        },
        onremotetrack: (track, mid, on) => {
          if (!on || sub.tracks.some((t) => t.track === track)) return;
          const t = { track, mid, kind: track.kind, id: track.id, events: [] };
          for (const n of ["mute", "unmute", "ended"]) {
            track.addEventListener(n, () => t.events.push(n));
          }
          sub.tracks.push(t);
        },
        onlocaltrack: () => {},
      });
    });
  }

  // The first publisher of `room` (or the one named `display`).
  async function feedOf(handle, room, display) {
    for (let i = 0; i < 100; i++) {
      const list = await new Promise((resolve) =>
        handle.send({ message: { request: "listparticipants", room }, success: resolve }));
      const p = (list.participants || []).find((p) => p.publisher && (!display || p.display === display));
      if (p) return p.id;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("no publisher in room " + room);
  }

  // `n` subscribers of the publisher `display` (else the first). With
  // `measure`, each notes its video frames' arrivals (frame-age.js).
  async function subscribe(server, room, display, n, measure) {
    await connect(server);
    for (let i = 0; i < n; i++) {
      const sub = await attach();
      const feed = await feedOf(sub.handle, room, display);
      await new Promise((resolve, reject) => {
        sub.onmessage = (msg, jsep) => {
          if (msg.error) reject(new Error(msg.error));
          if (!jsep) return;
          measuring = !!measure;
          sub.handle.createAnswer({
            jsep,
            // Receive what is offered; a data channel of ours too.
            tracks: [{ type: "data" }],
            success: (answer) => {
              sub.handle.send({ message: { request: "start" }, jsep: answer });
              resolve();
            },
            error: (e) => reject(new Error("createAnswer: " + JSON.stringify(e))),
          });
        };
        sub.handle.send({
          message: { request: "join", ptype: "subscriber", room, use_msid: true, streams: [{ feed }] },
        });
      });
      sub.feed = feed;
      subscribers.push(sub);
    }
    return subscribers.length;
  }

  // Per subscriber: the decoded video (frames, size), the audio received,
  // its tracks' ids as Chromium's ontrack gives them, and their events.
  async function stats() {
    const out = [];
    for (const sub of subscribers) {
      const pc = sub.handle.webrtcStuff.pc;
      const s = { video: null, audio: null, state: pc ? pc.connectionState : "none", errors: sub.errors };
      if (pc) {
        (await pc.getStats()).forEach((r) => {
          if (r.type !== "inbound-rtp") return;
          if (r.kind === "video") {
            s.video = { framesDecoded: r.framesDecoded || 0, width: r.frameWidth, height: r.frameHeight };
          }
          if (r.kind === "audio") s.audio = { packets: r.packetsReceived || 0 };
        });
        s.tracks = pc.getTransceivers()
          .filter((t) => t.receiver && t.receiver.track && t.mid !== null && t.receiver.track.kind !== undefined)
          .map((t) => ({ mid: t.mid, kind: t.receiver.track.kind, id: t.receiver.track.id }));
      }
      s.events = sub.tracks.map((t) => ({ kind: t.kind, mid: t.mid, events: t.events, muted: t.track.muted }));
      if (pc && pc.arrivals) s.firstFrameAge = firstFrameAge(pc.arrivals);
      s.feed = sub.feed;
      out.push(s);
    }
    return out;
  }

  // A publisher of Chromium's fake camera and microphone, named `display`.
  async function publish(server, room, display) {
    await connect(server);
    publisher = await attach();
    await new Promise((resolve, reject) => {
      publisher.onmessage = (msg, jsep) => {
        if (msg.error) reject(new Error(msg.error));
        if (msg.videoroom === "joined") {
          publisher.handle.createOffer({
            tracks: [
              { type: "audio", capture: true, recv: false },
              { type: "video", capture: { width: 640, height: 480 }, recv: false },
            ],
            success: (offer) => publisher.handle.send({ message: { request: "configure", audio: true, video: true }, jsep: offer }),
            error: (e) => reject(new Error("createOffer: " + JSON.stringify(e))),
          });
        }
        if (jsep) {
          publisher.handle.handleRemoteJsep({ jsep });
          resolve();
        }
      };
      publisher.handle.send({ message: { request: "join", ptype: "publisher", room, display } });
    });
    return true;
  }

  return { subscribe, stats, publish };
})();
