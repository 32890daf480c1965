#!/usr/bin/env python3
"""Two `swiftlet serve` replicas behind HAProxy (deploy/haproxy.cfg), on loopback.

Runs a bounded load through HAProxy and checks that requests with the same leading prompt
text always reach the same replica (each replica answers with its own model name), then
kills one replica and checks that every later request still succeeds. Prints
`N passed, N failed`; exits non-zero on a failure.

Usage: haproxy_test.py SWIFTLET_BINARY MODEL.gguf
"""
import http.client
import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

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


def request(port, method, path, body=None, timeout=60):
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        data = json.dumps(body).encode() if body is not None else None
        connection.request(method, path, body=data, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def wait_until(predicate, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if predicate():
                return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def complete(port, prompt):
    status, text = request(port, "POST", "/v1/completions", {"prompt": prompt, "max_tokens": 8, "temperature": 0})
    model = json.loads(text).get("model") if status == 200 else None
    return status, model


def main():
    binary, model = sys.argv[1], sys.argv[2]
    ports = {"a": free_port(), "b": free_port()}
    listen = free_port()
    processes = {}
    logs = []
    try:
        for name, port in ports.items():
            log = open(f"/tmp/swiftlet-replica-{name}.log", "w")
            logs.append(log)
            processes[name] = subprocess.Popen(
                [binary, "serve", "--model", model, "--host", HOST, "--port", str(port), "--served-model-name", f"replica-{name}",
                 "--threads", "1", "--context", "256", "--kv-cache-mb", "64"], stdout=log, stderr=subprocess.STDOUT)
        for name, port in ports.items():
            check(f"replica {name} is healthy", wait_until(lambda: request(port, "GET", "/health")[0] == 200, 120))
        environment = dict(os.environ, LISTEN=f"{HOST}:{listen}", REPLICA_A=f"{HOST}:{ports['a']}", REPLICA_B=f"{HOST}:{ports['b']}")
        config = os.path.join(os.path.dirname(os.path.abspath(__file__)), "haproxy.cfg")
        haproxy_log = open("/tmp/swiftlet-haproxy.log", "w")
        logs.append(haproxy_log)
        processes["haproxy"] = subprocess.Popen(["haproxy", "-db", "-f", config], env=environment, stdout=haproxy_log,
                                                stderr=subprocess.STDOUT)
        check("haproxy routes", wait_until(lambda: request(listen, "GET", "/health")[0] == 200, 30))
        time.sleep(1.5)  # both replicas pass their first health checks

        # Each group shares a leading text longer than the 64 bytes HAProxy hashes, as
        # requests with a common system prompt or document do.
        shared = " speaks now to the lords assembled in the great hall of the castle, and says:"
        prompts = [speaker + shared for speaker in ("ROMEO", "JULIET", "KING", "QUEEN", "HAMLET", "OPHELIA", "MACBETH", "PORTIA")]
        load = [(prompt + suffix) for prompt in prompts for suffix in (" What", " Say", " Hark")]
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(lambda p: (p, complete(listen, p)), load * 2))
        check("load through haproxy: every request 200", all(status == 200 for _, (status, _) in results),
              str([r for r in results if r[1][0] != 200][:3]))
        by_prefix = {}
        for prompt, (_, served) in results:
            by_prefix.setdefault(prompt.split(" ")[0], set()).add(served)
        check("same leading text, same replica", all(len(served) == 1 for served in by_prefix.values()), str(by_prefix))
        used = set().union(*by_prefix.values())
        check("both replicas serve", used == {"replica-a", "replica-b"}, str(used))

        processes["a"].kill()
        processes["a"].wait(timeout=30)
        with ThreadPoolExecutor(max_workers=4) as pool:
            after = list(pool.map(lambda p: complete(listen, p), load))
        check("after a replica dies: every request succeeds", all(status == 200 for status, _ in after), str(after[:6]))
        check("after a replica dies: the survivor serves", {served for _, served in after} == {"replica-b"}, str(after[:6]))
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
        for log in logs:
            log.close()
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
