#!/usr/bin/env python3
"""End-to-end checks of `swiftlet serve` with the official `openai` Python client.

Starts `swiftlet serve` on 127.0.0.1 with the shipped model and checks, in order:
completions and chat (streaming and not: text, usage, finish_reason), errors through the
client (400, 401), an overload run (10x more concurrent requests than --max-queue plus the
running slots: every request ends 200 or 429, none hangs, no KV block left in use), a
disconnect storm (200 streaming requests cut at random points: no block leaked), and
SIGTERM (running requests finish, exit code 0). Every loop is bounded; only loopback
addresses are used. Prints `N passed, N failed` and exits non-zero on any failure.

Usage: openai_client_test.py SWIFTLET_BINARY MODEL.gguf
"""
import asyncio
import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import openai

from harness import Checks, free_port, wait_until_healthy

HOST = "127.0.0.1"
API_KEY = "test-key"
RUNNING_SLOTS = 4
MAX_QUEUE = 4

check = Checks()


class Server:
    def __init__(self, binary, model, *extra):
        self.port = free_port()
        self.log = open(f"/tmp/swiftlet-serve-{self.port}.log", "w")
        self.process = subprocess.Popen(
            [binary, "serve", "--model", model, "--host", HOST, "--port", str(self.port),
             "--api-key", API_KEY, "--max-sequences", str(RUNNING_SLOTS), "--max-queue", str(MAX_QUEUE),
             "--context", "256", "--shutdown-deadline", "20", *extra],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_until_healthy(self.process, self.port, self.log.name, headers={"Authorization": f"Bearer {API_KEY}"})

    @property
    def base_url(self):
        return f"http://{HOST}:{self.port}/v1"

    def get(self, path):
        connection = http.client.HTTPConnection(HOST, self.port, timeout=30)
        try:
            connection.request("GET", path, headers={"Authorization": f"Bearer {API_KEY}"})
            response = connection.getresponse()
            return response.status, response.read().decode()
        finally:
            connection.close()

    def metric(self, name):
        _, text = self.get("/metrics")
        for line in text.splitlines():
            if line.startswith(name + "{") or line.startswith(name + " "):
                return float(line.rsplit(" ", 1)[1])
        return None

    def wait_idle(self, seconds=60):
        """Polls /metrics (bounded) until nothing runs or waits and no KV block is in use."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            running = self.metric("swiftlet:num_requests_running")
            waiting = self.metric("swiftlet:num_requests_waiting")
            used = self.metric("swiftlet:kv_cache_blocks_used")
            if running == 0 and waiting == 0 and used == 0:
                return True
            time.sleep(0.1)
        return False

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


def test_completions(server, client):
    extra = {"ignore_eos": True}
    whole = client.completions.create(model="swiftlet", prompt="ROMEO:", max_tokens=16, temperature=0, extra_body=extra)
    choice = whole.choices[0]
    check("completion has text", len(choice.text) > 0, repr(choice.text))
    check("completion finish_reason length", choice.finish_reason == "length", choice.finish_reason)
    check("completion usage", whole.usage.completion_tokens == 16 and whole.usage.prompt_tokens > 0
          and whole.usage.total_tokens == whole.usage.prompt_tokens + 16, str(whole.usage))

    text, finish, usage, chunks = "", None, None, 0
    for chunk in client.completions.create(model="swiftlet", prompt="ROMEO:", max_tokens=16, temperature=0, stream=True,
                                           stream_options={"include_usage": True}, extra_body=extra):
        if chunk.choices:
            chunks += 1
            text += chunk.choices[0].text
            finish = chunk.choices[0].finish_reason or finish
        if chunk.usage:
            usage = chunk.usage
    check("streamed completion equals the whole one", text == choice.text, f"{text!r} vs {choice.text!r}")
    check("streamed completion arrives in chunks", chunks > 2, str(chunks))
    check("streamed completion finish_reason", finish == "length", str(finish))
    check("streamed completion usage", usage is not None and usage.completion_tokens == 16, str(usage))

    seeded = [client.completions.create(model="swiftlet", prompt="KING:", max_tokens=12, temperature=0.9, seed=5).choices[0].text
              for _ in range(2)]
    check("seeded completions repeat", seeded[0] == seeded[1], str(seeded))

    stop = client.completions.create(model="swiftlet", prompt="ROMEO:", max_tokens=16, temperature=0, stop=[choice.text[3:6]],
                                     extra_body=extra)
    check("stop sequence ends with stop", stop.choices[0].finish_reason == "stop" and choice.text.startswith(stop.choices[0].text),
          repr(stop.choices[0]))


def test_chat(server, client):
    messages = [{"role": "user", "content": "Speak, friend."}]
    whole = client.chat.completions.create(model="swiftlet", messages=messages, max_tokens=24, temperature=0)
    choice = whole.choices[0]
    check("chat has an assistant message", choice.message.role == "assistant" and choice.message.content is not None,
          str(choice.message))
    check("chat finish_reason", choice.finish_reason in ("stop", "length"), str(choice.finish_reason))
    check("chat usage", whole.usage.prompt_tokens > 0 and whole.usage.completion_tokens >= 1, str(whole.usage))

    text, finish, usage, role = "", None, None, None
    for chunk in client.chat.completions.create(model="swiftlet", messages=messages, max_tokens=24, temperature=0, stream=True,
                                                stream_options={"include_usage": True}):
        if chunk.choices:
            delta = chunk.choices[0].delta
            role = role or delta.role
            text += delta.content or ""
            finish = chunk.choices[0].finish_reason or finish
        if chunk.usage:
            usage = chunk.usage
    check("streamed chat equals the whole one", text == (choice.message.content or ""), f"{text!r} vs {choice.message.content!r}")
    check("streamed chat role and finish", role == "assistant" and finish == choice.finish_reason, f"{role} {finish}")
    check("streamed chat usage", usage is not None and usage.completion_tokens == whole.usage.completion_tokens, str(usage))


def test_errors(server, client):
    try:
        client.completions.create(model="swiftlet", prompt="a", temperature=5)
        check("bad temperature is 400", False, "accepted")
    except openai.BadRequestError as error:
        check("bad temperature is 400", "temperature" in str(error), str(error))
    try:
        client.completions.create(model="swiftlet", prompt="a", max_tokens=100000)
        check("over-long request is 400", False, "accepted")
    except openai.BadRequestError as error:
        check("over-long request is 400 with the numbers", "256" in str(error) and "100000" in str(error), str(error))
    wrong = openai.OpenAI(base_url=server.base_url, api_key="wrong", max_retries=0)
    try:
        wrong.models.list()
        check("wrong key is 401", False, "accepted")
    except openai.AuthenticationError:
        check("wrong key is 401", True)
    models = client.models.list()
    check("models lists the model", len(models.data) == 1 and models.data[0].object == "model", str(models))


def test_overload(server):
    """10x (running slots + queue) concurrent requests: each ends 200 or 429, none hangs."""
    count = 10 * (RUNNING_SLOTS + MAX_QUEUE)

    async def run():
        client = openai.AsyncOpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=0, timeout=120)

        async def one(i):
            try:
                if i % 2:
                    stream = await client.completions.create(model="swiftlet", prompt=f"KING {i}:", max_tokens=32, stream=True,
                                                             extra_body={"ignore_eos": True})
                    async for _ in stream:
                        pass
                else:
                    await client.completions.create(model="swiftlet", prompt=f"KING {i}:", max_tokens=32, extra_body={"ignore_eos": True})
                return 200
            except openai.RateLimitError as error:
                return 429 if error.response.headers.get("retry-after") else -429
            except Exception as error:  # noqa: BLE001 - any other outcome is a failure
                return repr(error)

        return await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(count))), timeout=300)

    outcomes = asyncio.run(run())
    others = [o for o in outcomes if o not in (200, 429)]
    check(f"overload: {count} requests end 200 or 429 (Retry-After)", not others, str(others[:5]))
    check("overload: some admitted, some refused", outcomes.count(200) >= RUNNING_SLOTS + MAX_QUEUE and outcomes.count(429) > 0,
          f"{outcomes.count(200)} ok, {outcomes.count(429)} refused")
    check("overload: no KV block in use afterwards", server.wait_idle(), server.get("/metrics")[1][-400:])


def test_disconnect_storm(server, total=200, workers=6):
    """Streaming requests each dropped after a random number of chunks (or before any)."""
    rng = random.Random(7)
    cuts = [rng.randint(0, 40) for _ in range(total)]
    lock = threading.Lock()
    outcomes = {"cut": 0, "refused": 0, "error": 0}

    def one(i):
        sock = socket.create_connection((HOST, server.port), timeout=30)
        try:
            body = json.dumps({"prompt": f"Enter {i}:", "max_tokens": 200, "stream": True, "ignore_eos": True,
                               "temperature": 0.8}).encode()
            sock.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         + f"Authorization: Bearer {API_KEY}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
            seen = b""
            while seen.count(b"data: ") < cuts[i]:
                data = sock.recv(4096)
                if not data:
                    break
                seen += data
                if seen.startswith(b"HTTP/1.1 429"):
                    with lock:
                        outcomes["refused"] += 1
                    return
            with lock:
                outcomes["cut"] += 1
        except OSError:
            with lock:
                outcomes["error"] += 1
        finally:
            sock.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, range(total)))
    # A cut stream's slot comes back once the engine has processed the cancellation, so some
    # requests of the storm meet a full queue (429); those count as refused, not as errors.
    print(f"     storm outcomes: {outcomes}")
    check(f"disconnect storm: {total} requests cut or refused, none failed", outcomes["error"] == 0 and outcomes["cut"] > 0, str(outcomes))
    check("disconnect storm: no leaked KV block", server.wait_idle(), server.get("/metrics")[1][-400:])
    status, _ = server.get("/health")
    check("disconnect storm: server still healthy", status == 200)


def test_sigterm(server, client):
    """SIGTERM: the running stream finishes, new connections are refused, exit code 0."""
    result = {}

    def stream():
        text, finish = "", None
        for chunk in client.completions.create(model="swiftlet", prompt="ROMEO:", max_tokens=120, stream=True,
                                               extra_body={"ignore_eos": True}):
            if chunk.choices:
                text += chunk.choices[0].text
                finish = chunk.choices[0].finish_reason or finish
        result["finish"] = finish

    thread = threading.Thread(target=stream)
    thread.start()
    time.sleep(0.3)
    server.process.send_signal(signal.SIGTERM)
    thread.join(timeout=60)
    try:
        code = server.process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        code = None
    check("SIGTERM: the running request finished", result.get("finish") == "length", str(result))
    check("SIGTERM: exit code 0", code == 0, str(code))


def main():
    binary, model = sys.argv[1], sys.argv[2]
    server = Server(binary, model)
    try:
        client = openai.OpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=0, timeout=120)
        for test in (test_completions, test_chat, test_errors):
            try:
                test(server, client)
            except Exception as error:  # noqa: BLE001
                check(test.__name__, False, repr(error))
        for test in (test_overload, test_disconnect_storm):
            try:
                test(server)
            except Exception as error:  # noqa: BLE001
                check(test.__name__, False, repr(error))
        test_sigterm(server, client)
    finally:
        server.stop()
    print(check.summary())
    sys.exit(1 if check.failed else 0)


if __name__ == "__main__":
    main()
