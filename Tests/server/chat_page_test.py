#!/usr/bin/env python3
"""The chat page at `/` in a real headless browser (Debian's chromium), over the DevTools
protocol: load the page, type a message, press Send, wait for streamed text and the tok/s
readout, and save a screenshot (path in argv[3], default /tmp/swiftlet-chat.png).
Prints `N passed, N failed`.

Usage: chat_page_test.py SWIFTLET_BINARY MODEL.gguf [SCREENSHOT.png]
"""
import base64
import http.client
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import websocket

HOST = "127.0.0.1"
passed = failed = 0


def check(name, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def get(port, path):
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def wait_until(predicate, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.2)
    return None


class DevTools:
    def __init__(self, url):
        self.socket = websocket.create_connection(url, timeout=30)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(str(message["error"]))
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result.get("result", {}).get("value")


def main():
    binary, model = sys.argv[1], sys.argv[2]
    screenshot = sys.argv[3] if len(sys.argv) > 3 else "/tmp/swiftlet-chat.png"
    browser_binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser_binary is None:
        print("chromium not found (apt-get install chromium)")
        sys.exit(1)
    port, debug_port = free_port(), free_port()
    profile = tempfile.mkdtemp(prefix="swiftlet-chromium-")
    server = subprocess.Popen([binary, "serve", "--model", model, "--host", HOST, "--port", str(port), "--context", "512"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    browser = None
    try:
        check("server is healthy", wait_until(lambda: get(port, "/health")[0] == 200, 120))
        browser = subprocess.Popen(
            [browser_binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
             "--disable-dev-shm-usage", f"--remote-debugging-port={debug_port}", "--remote-debugging-address=127.0.0.1",
             f"--user-data-dir={profile}", "--window-size=1000,700", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        targets = wait_until(lambda: [t for t in json.loads(get(debug_port, "/json/list")[1]) if t.get("type") == "page"], 60)
        check("chromium started", bool(targets))
        tools = DevTools(targets[0]["webSocketDebuggerUrl"])
        tools.call("Page.enable")
        tools.call("Page.navigate", url=f"http://{HOST}:{port}/")
        loaded = wait_until(lambda: tools.evaluate("document.readyState === 'complete' && document.getElementById('model').textContent !== '…'"), 30)
        check("page loads and lists the model", bool(loaded), tools.evaluate("document.body.innerText"))
        tools.evaluate("document.getElementById('temperature').value = '0.5'; document.getElementById('temperature').dispatchEvent(new Event('input'))")
        check("temperature control", tools.evaluate("document.getElementById('temperatureValue').textContent") == "0.50")
        tools.evaluate("document.getElementById('input').value = 'Speak, good friend.'; document.getElementById('send').click()")
        streamed = wait_until(lambda: tools.evaluate("(document.querySelector('.assistant') || {}).textContent || ''"), 60)
        check("streamed text appears", bool(streamed), str(streamed))
        done = wait_until(lambda: tools.evaluate("document.querySelector('.assistant[data-done]') !== null"), 120)
        check("the reply finishes", bool(done), tools.evaluate("document.body.innerText"))
        stats = tools.evaluate("document.getElementById('stats').textContent")
        check("tok/s is shown", "tok/s" in (stats or "") and any(ch.isdigit() for ch in stats), str(stats))
        check("no error bubble", tools.evaluate("document.querySelector('.error') === null"), tools.evaluate("document.body.innerText"))
        image = tools.call("Page.captureScreenshot", format="png")["data"]
        with open(screenshot, "wb") as file:
            file.write(base64.b64decode(image))
        print(f"screenshot: {screenshot}")
        check("screenshot saved", len(image) > 1000)
    finally:
        if browser is not None:
            browser.kill()
            browser.wait(timeout=30)
        server.kill()
        server.wait(timeout=30)
        shutil.rmtree(profile, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
