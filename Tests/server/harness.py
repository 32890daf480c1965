"""Helpers the end-to-end server scripts share: pass/fail counting, a free loopback port,
and waiting (bounded) for a started `swiftlet serve` to answer /health."""
import http.client
import socket
import time

HOST = "127.0.0.1"


class Checks:
    """Counts checks and prints one line each; `summary()` is the `N passed, N failed` line."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def __call__(self, name, condition, detail=""):
        if condition:
            self.passed += 1
            print(f"ok   {name}")
        else:
            self.failed += 1
            print(f"FAIL {name} {detail}")

    def summary(self):
        return f"{self.passed} passed, {self.failed} failed"


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def get(port, path, headers=None):
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def wait_until_healthy(process, port, log_name, seconds=120, headers=None):
    """Returns once /health answers 200; raises when the process exits or time runs out."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if get(port, "/health", headers)[0] == 200:
                return
        except OSError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.2)
    raise RuntimeError(f"server did not start; see {log_name}")
