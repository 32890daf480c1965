#!/usr/bin/env python3
"""Acceptance checks of the Batch API: `swiftlet batch` on OpenAI Batch files and the
`/v1/files` + `/v1/batches` endpoints of `swiftlet serve`, with the official `openai` client.

1. The openai client's whole flow: files.create -> batches.create -> poll batches.retrieve
   until completed -> files.content of the output (and error) file; every line is parsed and
   checked against its custom_id.
2. A 500-line OpenAI Batch file of mixed completion and chat lines, some invalid, through
   `swiftlet batch`: exactly one output line per input line in input order, error records for
   the invalid ones, and every valid line's text equal to the server's answer to the same
   body at temperature 0.
3. The same run killed halfway and restarted with --resume: exactly 500 lines, none
   duplicated, the same texts.
4. A server killed (SIGKILL) in the middle of a batch and restarted on the same --data-dir:
   the batch completes, no finished line is lost or rerun, no line is duplicated.

Loopback only; every wait is bounded. Prints `N passed, N failed`.
Usage: batch_api_test.py SWIFTLET_BINARY MODEL.gguf
"""
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time

import openai

from harness import HOST, Checks, free_port, wait_until_healthy

LINES = 500
check = Checks()


class Server:
    def __init__(self, binary, model, data_dir, port=None):
        self.port = port or free_port()
        self.log = open(f"/tmp/swiftlet-batch-serve-{self.port}.log", "a")
        self.process = subprocess.Popen(
            [binary, "serve", "--model", model, "--host", HOST, "--port", str(self.port), "--context", "256",
             "--max-sequences", "8", "--data-dir", data_dir],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_until_healthy(self.process, self.port, self.log.name)

    @property
    def base_url(self):
        return f"http://{HOST}:{self.port}/v1"

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


def batch_lines(count, seed=7):
    """`count` OpenAI Batch lines: completions (text and token prompts) and chat, about one
    in ten invalid in a different way each."""
    rng = random.Random(seed)
    words = ["ROMEO:", "JULIET:", "To be", "the king", "my lord", "O, what", "Good night", "I pray you"]
    lines = []
    for i in range(count):
        custom = f"req-{i}"
        kind = i % 10
        max_tokens = rng.randint(1, 6)
        if kind == 7:
            bad = i % 5
            if bad == 0:
                lines.append('{"custom_id": "%s", "method": "POST", "url": "/v1/completions", "body": {' % custom)
            elif bad == 1:
                lines.append(json.dumps({"custom_id": custom, "method": "POST", "url": "/v1/embeddings", "body": {"input": "x"}}))
            elif bad == 2:
                lines.append(json.dumps({"custom_id": custom, "method": "POST", "url": "/v1/completions",
                                         "body": {"prompt": "hi", "temperature": 7}}))
            elif bad == 3:
                lines.append(json.dumps({"custom_id": custom, "method": "GET", "url": "/v1/chat/completions", "body": {}}))
            else:
                lines.append(json.dumps({"custom_id": custom, "method": "POST", "url": "/v1/chat/completions",
                                         "body": {"messages": []}}))
            continue
        if kind % 2 == 0:
            body = {"model": "m", "prompt": rng.choice(words) + " " + rng.choice(words), "max_tokens": max_tokens, "temperature": 0}
            if kind == 4:
                body["prompt"] = [rng.randint(3, 60) for _ in range(rng.randint(2, 8))]
            url = "/v1/completions"
        else:
            body = {"model": "m", "messages": [{"role": "user", "content": rng.choice(words)}], "max_tokens": max_tokens,
                    "temperature": 0}
            url = "/v1/chat/completions"
        lines.append(json.dumps({"custom_id": custom, "method": "POST", "url": url, "body": body}))
    return lines


def text_of(body):
    choice = body["choices"][0]
    return choice["text"] if "text" in choice else choice["message"]["content"]


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def test_client_flow(server, lines):
    client = openai.OpenAI(base_url=server.base_url, api_key="unused", max_retries=0, timeout=120)
    small = [line for line in lines[:40] if "/v1/completions" in line]
    content = ("\n".join(small) + "\n").encode()
    uploaded = client.files.create(file=("requests.jsonl", io.BytesIO(content)), purpose="batch")
    check("files.create: an id and the byte count", uploaded.id.startswith("file-") and uploaded.bytes == len(content), str(uploaded))
    check("files.retrieve", client.files.retrieve(uploaded.id).filename == "requests.jsonl")
    batch = client.batches.create(input_file_id=uploaded.id, endpoint="/v1/completions", completion_window="24h")
    check("batches.create: validating or in progress", batch.status in ("validating", "in_progress"), batch.status)
    deadline = time.time() + 300
    while batch.status not in ("completed", "failed", "cancelled") and time.time() < deadline:
        time.sleep(0.5)
        batch = client.batches.retrieve(batch.id)
    check("batches.retrieve: completed", batch.status == "completed", batch.status)
    counts = batch.request_counts
    invalid = sum(1 for line in small if '"temperature": 7' in line or line.endswith("{"))
    check("request_counts", counts.total == len(small) and counts.failed == invalid and counts.completed == len(small) - invalid,
          str(counts))
    records = [json.loads(line) for line in client.files.content(batch.output_file_id).text.splitlines()]
    if batch.error_file_id:
        records += [json.loads(line) for line in client.files.content(batch.error_file_id).text.splitlines()]
    by_id = {record["custom_id"]: record for record in records}
    check("every line answered once", len(records) == len(small) and len(by_id) == len(small))
    good = 0
    for line in small:
        try:
            request = json.loads(line)
        except json.JSONDecodeError:
            continue
        record = by_id.get(request["custom_id"], {})
        if '"temperature": 7' in line:
            good += record.get("error", {}).get("message", "").find("temperature") >= 0
            continue
        body = record.get("response", {}).get("body", {})
        direct = client.completions.create(**request["body"])
        good += record["response"]["status_code"] == 200 and text_of(body) == direct.choices[0].text
    check("lines answered as the server answers them", good == len(small) - sum(1 for l in small if l.endswith("{")),
          f"{good} of {len(small)}")
    listed = client.batches.list(limit=5)
    check("batches.list", any(item.id == batch.id for item in listed.data))
    # A cancelled batch ends cancelled.
    again = client.batches.create(input_file_id=uploaded.id, endpoint="/v1/completions", completion_window="24h")
    cancelled = client.batches.cancel(again.id)
    deadline = time.time() + 120
    while cancelled.status not in ("cancelled", "completed") and time.time() < deadline:
        time.sleep(0.2)
        cancelled = client.batches.retrieve(again.id)
    check("batches.cancel", cancelled.status in ("cancelled", "completed"), cancelled.status)
    # Bad input is a 4xx through the client.
    for name, call in [("unknown file", lambda: client.batches.create(input_file_id="file-" + "0" * 32, endpoint="/v1/completions",
                                                                       completion_window="24h")),
                       ("unknown batch", lambda: client.batches.retrieve("batch_" + "0" * 32)),
                       ("bad window", lambda: client.batches.create(input_file_id=uploaded.id, endpoint="/v1/completions",
                                                                    completion_window="1h"))]:
        try:
            call()
            check(f"error: {name}", False, "accepted")
        except openai.APIStatusError as error:
            check(f"error: {name}", 400 <= error.status_code < 500, str(error.status_code))


def run_batch(binary, model, input_path, output_path, *extra):
    return subprocess.run([binary, "batch", "--model", model, "--input", input_path, "--output", output_path, "--context", "256",
                           *extra], capture_output=True, text=True, timeout=900)


def test_offline(binary, model, server, lines, directory):
    input_path = os.path.join(directory, "mixed.jsonl")
    with open(input_path, "w") as f:
        f.write("\n".join(lines) + "\n")
    output_path = os.path.join(directory, "out.jsonl")
    result = run_batch(binary, model, input_path, output_path)
    check("swiftlet batch exits 0", result.returncode == 0, result.stderr[-500:])
    check("the summary has token totals and system tok/s", "prompt tokens" in result.stderr and "tok/s system" in result.stderr,
          result.stderr[-300:])
    records = read_jsonl(output_path)
    check(f"{LINES} output lines in input order", [r["custom_id"] for r in records] == [f"req-{i}" for i in range(LINES)]
          or (len(records) == LINES and all(r["custom_id"] in (f"req-{i}", None) for i, r in enumerate(records))),
          str(len(records)))
    client = openai.OpenAI(base_url=server.base_url, api_key="unused", max_retries=0, timeout=120)
    errors = same = valid = 0
    for line, record in zip(lines, records):
        if record.get("error"):
            errors += 1
            continue
        request = json.loads(line)
        valid += 1
        if request["url"] == "/v1/completions":
            direct = client.completions.create(**request["body"]).choices[0].text
        else:
            direct = client.chat.completions.create(**request["body"]).choices[0].message.content
        same += text_of(record["response"]["body"]) == direct
    check("invalid lines get error records", errors == LINES // 10, f"{errors} errors")
    check("valid lines give the server's temperature-0 text", valid > 0 and same == valid, f"{same} of {valid}")

    # Killed halfway, then resumed.
    resumed_path = os.path.join(directory, "resumed.jsonl")
    process = subprocess.Popen([binary, "batch", "--model", model, "--input", input_path, "--output", resumed_path,
                                "--context", "256", "--max-sequences", "4"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    while time.time() < deadline and process.poll() is None:
        try:
            with open(resumed_path) as f:
                if sum(1 for _ in f) >= LINES // 2:
                    break
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    process.kill()
    process.wait(timeout=30)
    with open(resumed_path) as f:
        kept = sum(1 for _ in f)
    check("the run was killed halfway", 0 < kept < LINES, str(kept))
    result = run_batch(binary, model, input_path, resumed_path, "--resume")
    check("--resume exits 0", result.returncode == 0, result.stderr[-500:])
    again = read_jsonl(resumed_path)
    ids = [r["custom_id"] for r in again]
    check(f"--resume ends with exactly {LINES} lines", len(again) == LINES, str(len(again)))
    check("no line duplicated", len(set(ids)) == len(ids) == LINES)
    check("resumed texts equal the uninterrupted run's",
          [text_of(r["response"]["body"]) if r.get("response") else r["error"]["message"] for r in again]
          == [text_of(r["response"]["body"]) if r.get("response") else r["error"]["message"] for r in records])


def test_restart(binary, model, lines, directory):
    data_dir = os.path.join(directory, "data")
    server = Server(binary, model, data_dir)
    client = openai.OpenAI(base_url=server.base_url, api_key="unused", max_retries=0, timeout=120)
    completions = [line for line in lines if '"/v1/completions"' in line]
    content = ("\n".join(completions) + "\n").encode()
    uploaded = client.files.create(file=("big.jsonl", io.BytesIO(content)), purpose="batch")
    batch = client.batches.create(input_file_id=uploaded.id, endpoint="/v1/completions", completion_window="24h")
    results = os.path.join(data_dir, "batches", batch.id + ".results.jsonl")
    deadline = time.time() + 300
    while time.time() < deadline:
        batch = client.batches.retrieve(batch.id)
        if batch.request_counts.completed + batch.request_counts.failed >= len(completions) // 3 or batch.status == "completed":
            break
        time.sleep(0.05)
    server.kill()
    with open(results) as f:
        before = [json.loads(line) for line in f.read().splitlines() if line.endswith("}")]
    check("the server was killed mid-batch", 0 < len(before) < len(completions), f"{len(before)} of {len(completions)}")
    server = Server(binary, model, data_dir, port=server.port)
    try:
        client = openai.OpenAI(base_url=server.base_url, api_key="unused", max_retries=0, timeout=120)
        deadline = time.time() + 600
        while time.time() < deadline:
            batch = client.batches.retrieve(batch.id)
            if batch.status in ("completed", "failed", "cancelled"):
                break
            time.sleep(0.2)
        check("after the restart the batch completes", batch.status == "completed", batch.status)
        records = [json.loads(line) for line in client.files.content(batch.output_file_id).text.splitlines()]
        if batch.error_file_id:
            records += [json.loads(line) for line in client.files.content(batch.error_file_id).text.splitlines()]
        ids = [r["custom_id"] for r in records]
        check("every line once after the restart", len(records) == len(completions) and len(set(ids)) == len(ids), str(len(records)))
        by_line_id = {r["id"] for r in records}
        check("no finished line lost or rerun", all(r["id"] in by_line_id for r in before))
    finally:
        server.kill()


def main():
    binary, model = sys.argv[1], sys.argv[2]
    lines = batch_lines(LINES)
    with tempfile.TemporaryDirectory() as directory:
        server = Server(binary, model, os.path.join(directory, "flow"))
        try:
            for test in (lambda: test_client_flow(server, lines), lambda: test_offline(binary, model, server, lines, directory)):
                try:
                    test()
                except Exception as error:  # noqa: BLE001
                    check("test ran", False, repr(error))
        finally:
            server.kill()
        try:
            test_restart(binary, model, lines, directory)
        except Exception as error:  # noqa: BLE001
            check("restart test ran", False, repr(error))
    print(check.summary())
    sys.exit(1 if check.failed else 0)


if __name__ == "__main__":
    main()
