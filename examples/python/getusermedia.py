#!/usr/bin/env python3
"""getUserMedia from Python (PyGObject), with the mediastream plugin.

    getusermedia.py [--frames N] 'CONSTRAINTS'

Opens a `mediastream` with the MediaStreamConstraints, lets N buffers
(default 10) flow on every track into `mediastreamtracksink`s, and prints
{"id": ..., "trackIds": [...], "tracks": [{"kind", "id", "label", "settings",
"frames"}]} as JSON (trackIds: the stream's `track-ids`, a string array that
PyGObject reads as a list of str); on failure {"error": {"name", "constraint", "message"}} and exit 1.
Uses the installed plugin, or the one on GST_PLUGIN_PATH; the fake devices
when GST_MEDIASTREAM_FAKE_DEVICES is set.
"""

import json
import sys
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402


def structure_to_dict(s):
    if s is None:
        return None
    out = {}
    for i in range(s.n_fields()):
        name = s.nth_field_name(i)
        value = s.get_value(name)
        out[name] = value if isinstance(value, (int, float, str, bool)) else str(value)
    return out


def fail(name, constraint, message):
    error = {"name": name}
    if constraint:
        error["constraint"] = constraint
    error["message"] = message
    print(json.dumps({"error": error}, indent=2))
    return 1


def main(argv):
    frames = 10
    args = argv[1:]
    if len(args) >= 2 and args[0] == "--frames":
        frames = int(args[1])
        args = args[2:]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    Gst.init(None)
    if Gst.ElementFactory.find("mediastream") is None:
        return fail("NotReadableError", None, "the mediastream plugin is not installed (set GST_PLUGIN_PATH)")

    pipeline = Gst.Pipeline.new("gum")
    stream = Gst.ElementFactory.make("mediastream")
    stream.set_property("constraints", args[0])
    pipeline.add(stream)
    tracks = []

    def on_pad_added(_, pad):
        queue = Gst.ElementFactory.make("queue")
        sink = Gst.ElementFactory.make("mediastreamtracksink")
        sink.set_property("sink", Gst.ElementFactory.make("fakesink"))
        pipeline.add(queue)
        pipeline.add(sink)
        queue.link(sink)
        queue.sync_state_with_parent()
        sink.sync_state_with_parent()
        pad.link(queue.get_static_pad("sink"))
        tracks.append((pad, sink))

    stream.connect("pad-added", on_pad_added)
    bus = pipeline.get_bus()
    if pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
        msg = bus.timed_pop_filtered(5 * Gst.SECOND, Gst.MessageType.ERROR)
        pipeline.set_state(Gst.State.NULL)
        if msg is None:
            return fail("NotReadableError", None, "the stream did not start")
        err, _debug = msg.parse_error()
        details = msg.parse_error_details()
        if details is not None and details.get_name() == "mediastream-error":
            return fail(details.get_string("name"), details.get_string("constraint"), details.get_string("message"))
        return fail("NotReadableError", None, err.message)

    deadline = time.monotonic() + 30
    while not tracks or any(sink.get_property("frames") < frames for _, sink in tracks):
        msg = bus.timed_pop_filtered(20 * Gst.MSECOND, Gst.MessageType.ERROR)
        if msg is not None:
            pipeline.set_state(Gst.State.NULL)
            return fail("NotReadableError", None, msg.parse_error()[0].message)
        if time.monotonic() > deadline:
            pipeline.set_state(Gst.State.NULL)
            return fail("NotReadableError", None, f"fewer than {frames} buffers in 30 s")

    result = {
        "id": stream.get_property("id"),
        "trackIds": list(stream.get_property("track-ids")),
        "tracks": [],
    }
    for pad, sink in tracks:
        settings = structure_to_dict(sink.get_property("settings")) or {}
        caps = pad.get_current_caps()
        if caps is not None:
            s = caps.get_structure(0)
            for field, key in (("width", "width"), ("height", "height"), ("rate", "sampleRate"), ("channels", "channelCount")):
                ok, value = s.get_int(field)
                if ok:
                    settings[key] = value
        result["tracks"].append({
            "kind": sink.get_property("kind"),
            "id": sink.get_property("track-id"),
            "label": sink.get_property("label"),
            "settings": settings,
            "frames": sink.get_property("frames"),
        })
    pipeline.set_state(Gst.State.NULL)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
