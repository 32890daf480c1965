#!/usr/bin/env python3
"""Load an OpenAI-compatible server with concurrent streaming clients and report system
throughput and time to first token (for `swiftlet serve` vs `llama-server`, side by side).

Each client sends `--requests` streaming /v1/completions requests one after another
(prompt of `--prompt-words` words, `--max-tokens` generated, ignore_eos so every request
generates the same length) and records time to first text chunk and the usage counts.
Stdlib only; loopback servers only.

  python3 Benchmarks/serve_bench.py --url http://127.0.0.1:8080 --clients 32 --max-tokens 128
  python3 Benchmarks/serve_bench.py --url http://127.0.0.1:8081 --clients 32 --max-tokens 128 --json

Start llama-server with `-np 32 --cache-prompt` (and the same context per slot) for the
issue's comparison; start both on the same model file and thread count.
"""
import argparse
import http.client
import json
import statistics
import sys
import threading
import time
from urllib.parse import urlparse

WORDS = ("the king shall speak of love and honour while the night falls upon the castle walls "
         "and all the lords attend him in the hall with torches burning bright").split()


def one_request(host, port, prompt, max_tokens, api_key):
    connection = http.client.HTTPConnection(host, port, timeout=600)
    body = json.dumps({"prompt": prompt, "max_tokens": max_tokens, "temperature": 0, "stream": True,
                       "stream_options": {"include_usage": True}, "ignore_eos": True, "n_predict": max_tokens})
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    start = time.perf_counter()
    connection.request("POST", "/v1/completions", body=body, headers=headers)
    response = connection.getresponse()
    if response.status != 200:
        raise RuntimeError(f"HTTP {response.status}: {response.read()[:200]!r}")
    first = None
    chunks = 0
    usage = None
    buffered = b""
    while True:
        data = response.read1(65536) if hasattr(response, "read1") else response.read(1)
        if not data:
            break
        buffered += data
        while b"\n\n" in buffered:
            event, buffered = buffered.split(b"\n\n", 1)
            if not event.startswith(b"data: ") or event == b"data: [DONE]":
                continue
            chunk = json.loads(event[6:])
            if chunk.get("usage"):
                usage = chunk["usage"]
            for choice in chunk.get("choices") or []:
                if choice.get("text"):
                    chunks += 1
                    if first is None:
                        first = time.perf_counter()
    end = time.perf_counter()
    connection.close()
    tokens = usage["completion_tokens"] if usage else chunks
    return {"ttft": (first or end) - start, "seconds": end - start, "tokens": tokens}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=2, help="requests per client, one after another")
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--prompt-words", type=int, default=24)
    parser.add_argument("--api-key")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    url = urlparse(args.url)
    if url.hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("serve_bench only loads loopback servers")
    results, errors = [], []
    lock = threading.Lock()

    def client(index):
        for r in range(args.requests):
            words = [WORDS[(index * 7 + r * 3 + i) % len(WORDS)] for i in range(args.prompt_words)]
            try:
                result = one_request(url.hostname, url.port or 80, f"Client {index}: " + " ".join(words), args.max_tokens, args.api_key)
                with lock:
                    results.append(result)
            except Exception as error:  # noqa: BLE001
                with lock:
                    errors.append(repr(error))

    start = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    tokens = sum(r["tokens"] for r in results)
    ttfts = sorted(r["ttft"] for r in results)
    report = {
        "url": args.url, "clients": args.clients, "requests": len(results), "errors": len(errors),
        "max_tokens": args.max_tokens, "wall_seconds": round(wall, 3), "generated_tokens": tokens,
        "throughput_tokens_per_second": round(tokens / wall, 1) if wall > 0 else 0,
        "ttft_p50_ms": round(statistics.median(ttfts) * 1000, 2) if ttfts else None,
        "ttft_p90_ms": round(ttfts[int(0.9 * (len(ttfts) - 1))] * 1000, 2) if ttfts else None,
    }
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key}: {value}")
        for error in errors[:5]:
            print("error:", error)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
