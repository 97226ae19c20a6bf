// SPDX-License-Identifier: MPL-2.0
// Plays a recording given as base64 in a <video> element and reports what
// Chromium saw: metadata, the video's size, frames presented.
"use strict";

const peer = {
  async play(b64, mime, minFrames) {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const video = document.getElementById("v");
    const url = URL.createObjectURL(new Blob([bytes], { type: mime }));
    let frames = 0;
    const counting = () => {
      frames += 1;
      video.requestVideoFrameCallback(counting);
    };
    video.requestVideoFrameCallback(counting);
    const loaded = new Promise((resolve, reject) => {
      video.onloadedmetadata = resolve;
      video.onerror = () => reject(new Error("media error " + (video.error && video.error.message)));
    });
    video.src = url;
    await loaded;
    await video.play();
    const deadline = Date.now() + 20000;
    while (frames < minFrames && !video.ended && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const quality = video.getVideoPlaybackQuality();
    return {
      width: video.videoWidth,
      height: video.videoHeight,
      readyState: video.readyState,
      presented: frames,
      decoded: quality.totalVideoFrames,
      canPlay: video.canPlayType(mime),
      error: video.error ? video.error.message : null,
    };
  },
};
window.peer = peer;
