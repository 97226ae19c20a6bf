#!/usr/bin/env python3
"""A remote MediaStream from a Janus VideoRoom, in Python (PyGObject).

    receive.py [--url ws://127.0.0.1:8188] [--room 1234] [--display NAME] [--frames N]

Subscribes with `mediastreamjanussrc` to the publisher named NAME (else the
first in the room), counts the frames of each track until the video has N
(default 30), and prints {"id": ..., "trackIds": [...], "frames": {"video":
..., "audio": ...}} as JSON: the remote stream's id and track ids (a
`mediastreamwhipsink` publisher's own ids). On an error (no server, no such
room, no publisher) {"error": "..."} and exit 1. Uses the installed plugin,
or the one on GST_PLUGIN_PATH. No gst-python needed: only GObject
introspection (python3-gi).
"""

import argparse
import json
import sys
import threading

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="ws://127.0.0.1:8188")
    parser.add_argument("--room", type=int, default=1234)
    parser.add_argument("--display")
    parser.add_argument("--frames", type=int, default=30)
    args = parser.parse_args()

    Gst.init(None)
    pipeline = Gst.Pipeline.new("receive")
    src = Gst.ElementFactory.make("mediastreamjanussrc")
    if src is None:
        print(json.dumps({"error": "no mediastreamjanussrc: is the mediastream plugin installed?"}))
        return 1
    src.set_property("url", args.url)
    src.set_property("room", args.room)
    if args.display:
        src.set_property("display", args.display)
    pipeline.add(src)

    frames = {"video": 0, "audio": 0}
    lock = threading.Lock()
    loop = GLib.MainLoop()

    def on_buffer(_pad, _info, kind):
        with lock:
            frames[kind] += 1
            if kind == "video" and frames[kind] == args.frames:
                GLib.idle_add(loop.quit)
        return Gst.PadProbeReturn.OK

    def on_pad(_src, pad):
        kind = "audio" if pad.get_name().startswith("audio") else "video"
        sink = Gst.ElementFactory.make("fakesink")
        sink.set_property("async", False)
        pipeline.add(sink)
        sink.sync_state_with_parent()
        pad.link(sink.get_static_pad("sink"))
        pad.add_probe(Gst.PadProbeType.BUFFER, on_buffer, kind)

    src.connect("pad-added", on_pad)
    error = []

    def on_message(_bus, msg):
        if msg.type == Gst.MessageType.ERROR:
            err, _debug = msg.parse_error()
            error.append(err.message)
            loop.quit()
        elif msg.type == Gst.MessageType.EOS:
            loop.quit()

    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)
    pipeline.set_state(Gst.State.PLAYING)
    loop.run()
    stream = src.get_property("stream")
    out = {"error": error[0]} if error else {
        "id": stream.get_property("id") if stream else None,
        "trackIds": list(stream.get_property("track-ids")) if stream else [],
        "frames": dict(frames),
    }
    pipeline.set_state(Gst.State.NULL)
    print(json.dumps(out))
    return 1 if error else 0


if __name__ == "__main__":
    sys.exit(main())
