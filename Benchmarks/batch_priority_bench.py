#!/usr/bin/env python3
"""What batch priority buys: interactive time to first token while a batch runs on the server,
and the batch's throughput, with priorities on and with first come, first served (--fcfs).

Phases, each on a fresh `swiftlet serve` (loopback):
  idle      interactive requests at a steady rate, nothing else: the TTFT baseline;
  alone     a LINES-line batch through /v1/batches with no interactive load: batch tok/s;
  mixed     the same batch, and interactive requests at the same rate while it runs;
  mixed-fcfs  the same with --fcfs (no priorities);
and `swiftlet batch` offline on the same file: the throughput the batch should reach.

Targets (issue 16): mixed TTFT p50 <= 1.5x idle; alone tok/s >= 0.9x offline.
Standard library only. Usage:
  batch_priority_bench.py SWIFTLET_BINARY MODEL.gguf [--lines 500] [--rate 2] [--max-tokens 16] [--repeat 3]
"""
import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import uuid

HOST = "127.0.0.1"


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary, model, data_dir, *extra):
        self.port = free_port()
        self.process = subprocess.Popen([binary, "serve", "--model", model, "--host", HOST, "--port", str(self.port),
                                         "--data-dir", data_dir, *extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if self.call("GET", "/health")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("server did not start")

    def call(self, method, path, body=None, headers=None):
        connection = http.client.HTTPConnection(HOST, self.port, timeout=600)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def json(self, method, path, value=None):
        status, body = self.call(method, path, json.dumps(value) if value is not None else None,
                                 {"Content-Type": "application/json"})
        return json.loads(body)

    def ttft(self, prompt, max_tokens):
        """Seconds to the first streamed text chunk of one interactive completion."""
        connection = http.client.HTTPConnection(HOST, self.port, timeout=600)
        start = time.perf_counter()
        connection.request("POST", "/v1/completions", json.dumps({"prompt": prompt, "max_tokens": max_tokens, "temperature": 0,
                                                                   "stream": True, "ignore_eos": True}),
                           {"Content-Type": "application/json"})
        response = connection.getresponse()
        first = None
        for line in response:
            if line.startswith(b"data: {") and first is None and b'"text":""' not in line:
                first = time.perf_counter() - start
        connection.close()
        return first

    def upload(self, content):
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n"
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bench.jsonl\"\r\n\r\n").encode()
        body += content + f"\r\n--{boundary}--\r\n".encode()
        status, reply = self.call("POST", "/v1/files", body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})
        return json.loads(reply)["id"]

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()


def interactive_load(server, rate, stop, ttfts, max_tokens):
    """Starts one interactive request every 1/rate seconds until `stop` is set."""
    threads = []
    i = 0
    while not stop.is_set():
        t = threading.Thread(target=lambda n=i: ttfts.append(server.ttft(f"ROMEO {n}: what say you", max_tokens)))
        t.start()
        threads.append(t)
        i += 1
        stop.wait(1 / rate)
    for t in threads:
        t.join()


def run_batch(server, content):
    """Runs the batch through /v1/batches; returns (seconds, generated tokens)."""
    file_id = server.upload(content)
    start = time.perf_counter()
    batch = server.json("POST", "/v1/batches", {"input_file_id": file_id, "endpoint": "/v1/completions", "completion_window": "24h"})
    while batch["status"] not in ("completed", "failed", "cancelled"):
        time.sleep(0.1)
        batch = server.json("GET", f"/v1/batches/{batch['id']}")
    seconds = time.perf_counter() - start
    _, output = server.call("GET", f"/v1/files/{batch['output_file_id']}/content")
    tokens = sum(json.loads(line)["response"]["body"]["usage"]["completion_tokens"] for line in output.decode().splitlines())
    return seconds, tokens


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("model")
    parser.add_argument("--lines", type=int, default=500)
    parser.add_argument("--rate", type=float, default=2.0, help="interactive requests per second")
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--idle-seconds", type=float, default=15)
    parser.add_argument("--repeat", type=int, default=3, help="batch runs per phase (tok/s: median; TTFT: p50 of all samples)")
    args = parser.parse_args()
    lines = [json.dumps({"custom_id": f"b{i}", "method": "POST", "url": "/v1/completions",
                         "body": {"prompt": f"JULIET {i}: my lord", "max_tokens": args.max_tokens, "temperature": 0, "ignore_eos": True}})
             for i in range(args.lines)]
    content = ("\n".join(lines) + "\n").encode()
    results = {}
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "batch.jsonl")
        with open(path, "wb") as f:
            f.write(content)
        offline = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            done = subprocess.run([args.binary, "batch", "--model", args.model, "--input", path, "--output", path + ".out",
                                   "--no-progress"], capture_output=True, text=True)
            offline_seconds = time.perf_counter() - start
            offline_tokens = sum(json.loads(line)["response"]["body"]["usage"]["completion_tokens"] for line in open(path + ".out"))
            offline.append(offline_tokens / offline_seconds)
            print(done.stderr.strip().splitlines()[-1])
        results["offline tok/s"] = statistics.median(offline)

        for name, extra in [("priority", []), ("fcfs", ["--fcfs"])]:
            server = Server(args.binary, args.model, os.path.join(directory, name), *extra)
            try:
                alone, mixed, mixed_ttfts = [], [], []
                if name == "priority":
                    ttfts, stop = [], threading.Event()
                    timer = threading.Timer(args.idle_seconds, stop.set)
                    timer.start()
                    interactive_load(server, args.rate, stop, ttfts, args.max_tokens)
                    results["idle TTFT p50 ms"] = 1000 * statistics.median(t for t in ttfts if t is not None)
                    results["idle TTFT samples"] = len(ttfts)
                for _ in range(args.repeat):
                    if name == "priority":
                        # Batch work stays capped for the server's interactive window (1 s by
                        # default) after the last interactive request: let it pass first.
                        time.sleep(2)
                        seconds, tokens = run_batch(server, content)
                        alone.append(tokens / seconds)
                    ttfts, stop = [], threading.Event()
                    load = threading.Thread(target=interactive_load, args=(server, args.rate, stop, ttfts, args.max_tokens))
                    load.start()
                    seconds, tokens = run_batch(server, content)
                    stop.set()
                    load.join()
                    mixed_ttfts += [t for t in ttfts if t is not None]
                    mixed.append(tokens / seconds)
                if alone:
                    results["batch alone tok/s"] = statistics.median(alone)
                results[f"{name}: TTFT p50 ms during the batch"] = 1000 * statistics.median(mixed_ttfts)
                results[f"{name}: TTFT samples during the batch"] = len(mixed_ttfts)
                results[f"{name}: batch tok/s with interactive load"] = statistics.median(mixed)
            finally:
                server.stop()
    idle = results["idle TTFT p50 ms"]
    results["priority TTFT / idle"] = results["priority: TTFT p50 ms during the batch"] / idle
    results["fcfs TTFT / idle"] = results["fcfs: TTFT p50 ms during the batch"] / idle
    results["batch alone / offline"] = results["batch alone tok/s"] / results["offline tok/s"]
    for key, value in results.items():
        print(f"{key:45s} {value:10.2f}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
