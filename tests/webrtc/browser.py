#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""Headless Chromium for the WebRTC tests, driven by selenium.

Serves the repository on 127.0.0.1 (a secure context for getUserMedia:
peer.html loads examples/webrtc-peer.js too) to its own page only: under a
per-run secret path, with its own Host and, when sent, Origin (the rule of
docs/webrtc.md, "Who may connect"). Opens tests/webrtc/peer.html, prints
{"ready": true}, then reads one JSON request a line on
stdin: {"call": NAME, "args": [...]} runs the async function peer[NAME] in
the page and prints {"result": ...} or {"error": "..."}; {"pids": true}
prints {"result": {"chromedriver": PID, "browser": PID}} (the browser's
main process, a child of chromedriver: a test kills it to make the peer
vanish); {"quit": true} ends. With --url URL it opens that page instead (examples/webrtc.rs's
page, whose global `peer` has the functions called); with --page PATH the
repository's page at PATH (tests/webrtc/janus.html, whose janus.js and
webrtc-adapter are Debian's, served from /usr/share/javascript). Run it inside the
test's own network namespace (tests/webrtc.rs): Chromium and chromedriver
then reach only that namespace.
"""
import functools
import http.server
import json
import secrets
import sys
import os
import threading

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

HERE = __file__.rsplit("/", 1)[0]
ROOT = f"{HERE}/../.."


def browser_pid(driver_pid):
    """The chromium process whose parent is chromedriver."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces.
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        if ppid == driver_pid and comm.startswith("chrom"):
            return int(entry)
    return None


def open_page(driver, url, served):
    """Loads the page until its global `peer` is defined: {"ready": true},
    else {"ready": false, "error": what the page loaded and its console}.
    One more load when the first came up without it: a script lost on the
    way (seen once in CI, under load) is not what the tests test."""
    report = []
    for attempt in (1, 2):
        served.clear()
        driver.get(url)
        try:
            WebDriverWait(driver, 10, poll_frequency=0.1).until(
                lambda d: d.execute_script("return typeof peer !== 'undefined'")
            )
            if report:
                print(f"browser.py: the page came up on load {attempt}: {report}", file=sys.stderr)
            return {"ready": True}
        except TimeoutException:
            pass
        console = [f"{e.get('level')}: {e.get('message')}" for e in driver.get_log("browser")]
        state = driver.execute_script("return document.readyState")
        report.append(
            f"load {attempt}: no global `peer` 10 s after load (readyState {state}); "
            f"served {list(served)}; console {console}"
        )
        print(f"browser.py: {report[-1]}", file=sys.stderr)
    return {"ready": False, "error": " / ".join(report)}


def main():
    # Relative URLs keep the secret prefix, so the page's own scripts
    # carry it without being told.
    prefix = f"/{secrets.token_hex(16)}/"
    # What the page asked for and got, shown should it not come up.
    served = []

    class Own(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def log_request(self, code="-", size="-"):
            # do_GET took the secret prefix off what it serves; a refused
            # request may still carry it.
            path = self.path[len(prefix) - 1 :] if self.path.startswith(prefix) else self.path
            served.append(f"{path} {code}")

        def do_GET(self):
            host = f"127.0.0.1:{self.server.server_address[1]}"
            origin = self.headers.get("Origin")
            if (
                self.headers.get("Host") != host
                or origin not in (None, f"http://{host}")
                or not secrets.compare_digest(self.path[: len(prefix)], prefix)
            ):
                self.send_error(403, "only this test's own page is served")
                return
            self.path = self.path[len(prefix) - 1 :]
            # Debian's JavaScript libraries (janus.js, webrtc-adapter) for
            # the SFU page, read-only, under javascript/.
            js = "/tests/webrtc/javascript/"
            if self.path.startswith(js):
                rel = os.path.normpath(self.path[len(js) :]).lstrip("/")
                path = os.path.join("/usr/share/javascript", rel)
                if rel.startswith("..") or not path.endswith(".js") or not os.path.isfile(path):
                    self.send_error(404)
                    return
                with open(path, "rb") as f:
                    body = f.read()
                self.send_response(200)
                self.send_header("Content-Type", "text/javascript")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            super().do_GET()

        def do_HEAD(self):
            self.send_error(405)

    handler = functools.partial(Own, directory=ROOT)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/lib/chromium/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--use-fake-ui-for-media-stream",
        "--autoplay-policy=no-user-gesture-required",
        "--disable-features=WebRtcHideLocalIpsWithMdns",
    ):
        options.add_argument(flag)
    # The console (a script that failed to load or to run) for the
    # report below.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if "--fake-devices" in sys.argv:
        options.add_argument("--use-fake-device-for-media-stream")
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.set_script_timeout(60)
        page = "tests/webrtc/peer.html"
        if "--page" in sys.argv:
            page = sys.argv[sys.argv.index("--page") + 1]
        url = f"http://127.0.0.1:{server.server_address[1]}{prefix}{page}"
        if "--url" in sys.argv:
            url = sys.argv[sys.argv.index("--url") + 1]
        ready = open_page(driver, url, served)
        print(json.dumps(ready), flush=True)
        if not ready["ready"]:
            return
        for line in sys.stdin:
            req = json.loads(line)
            if req.get("quit"):
                break
            if req.get("pids"):
                pid = driver.service.process.pid
                result = {"chromedriver": pid, "browser": browser_pid(pid)}
                print(json.dumps({"result": result}), flush=True)
                continue
            try:
                reply = driver.execute_async_script(
                    "const done = arguments[arguments.length - 1];"
                    "peer[arguments[0]](...arguments[1]).then("
                    "  r => done({result: r === undefined ? null : r}),"
                    "  e => done({error: String(e && e.stack || e)}));",
                    req["call"],
                    req.get("args", []),
                )
            except Exception as e:  # selenium's own errors: report, go on
                reply = {"error": f"{type(e).__name__}: {e}"}
            print(json.dumps(reply), flush=True)
    finally:
        driver.quit()
        server.shutdown()


if __name__ == "__main__":
    main()
