#!/usr/bin/env python3
"""Conformance of Swiftlet with llama.cpp on files written by llama-quantize.

For each GGUF given:
  * greedy ids: 20 prompts (Benchmarks/prompts-shakespeare.txt lines, then "<line> " + a
    word from a fixed list until there are 20), 32 tokens each. llama-server (temperature 0,
    n_probs 2) gives its greedy ids and the top-2 log-probabilities per step; Swiftlet's
    ids (`swiftlet generate --prompt-tokens`, the same prompt ids from llama-server's
    /tokenize with BOS) must equal llama.cpp's up to the first step where llama.cpp's
    top-2 gap is below 0.01.
  * perplexity on Models/shakespeare-validation.txt: `swiftlet perplexity` (windows of
    Models/train/EVAL.md: BOS + 511 ids, every id scored once) and `llama-perplexity -c 512`
    (its own protocol: 512-token chunks, second halves scored). The two protocols differ,
    so both are also given relative to each engine's own F16 number on the same protocol.

Standard library only.
    python3 Benchmarks/kquant_conformance.py --f16 Models/shakespeare-target.gguf FILE.gguf ...
"""
import argparse
import json
import math
import os
import re
import subprocess
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LLAMA_BIN = os.path.join(ROOT, "Benchmarks", "peers", "llama.cpp-build", "bin")
SWIFTLET = os.path.join(ROOT, ".build", "release", "swiftlet")
TEXT = os.path.join(ROOT, "Models", "shakespeare-validation.txt")
WORDS = ["I", "The", "My", "What", "And", "O", "Good", "Come", "Why", "Thou", "Now", "If"]
GAP = 0.01
PORT = 18433


def env():
    e = dict(os.environ)
    e["LD_LIBRARY_PATH"] = LLAMA_BIN + ":" + e.get("LD_LIBRARY_PATH", "")
    return e


def prompts():
    lines = [l.rstrip("\n") for l in open(os.path.join(ROOT, "Benchmarks", "prompts-shakespeare.txt")) if l.strip()]
    out = list(lines)
    i = 0
    while len(out) < 20:
        out.append(lines[i % len(lines)] + "\n" + WORDS[i % len(WORDS)])
        i += 1
    return out[:20]


def post(path, body):
    request = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def llama_greedy(model, texts, n):
    server = subprocess.Popen([os.path.join(LLAMA_BIN, "llama-server"), "-m", model, "--port", str(PORT), "-t", "2",
                               "-c", "512", "--temp", "0"], env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except Exception:
                time.sleep(0.2)
        results = []
        for text in texts:
            ids = post("/tokenize", {"content": text, "add_special": True})["tokens"]
            answer = post("/completion", {"prompt": ids, "n_predict": n, "temperature": 0, "n_probs": 2,
                                          "samplers": ["top_k"], "top_k": 1, "cache_prompt": False, "ignore_eos": True,
                                          "post_sampling_probs": False})
            steps = answer["completion_probabilities"]
            greedy = [s["id"] for s in steps]
            gaps = []
            for s in steps:
                top = sorted((t["logprob"] for t in s["top_logprobs"]), reverse=True)
                gaps.append(top[0] - top[1] if len(top) > 1 else math.inf)
            results.append((ids, greedy, gaps))
        return results
    finally:
        server.terminate()
        server.wait()


def swiftlet_greedy(model, ids, n):
    out = subprocess.run([SWIFTLET, "generate", "--model", model, "--prompt-tokens", ",".join(map(str, ids)),
                          "--temperature", "0", "--ignore-eos", "--max-tokens", str(n), "--threads", "2", "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["tokens"]


def perplexities(model):
    ours = json.loads(subprocess.run([SWIFTLET, "perplexity", "--model", model, "--file", TEXT, "--threads", "2", "--json"],
                                     check=True, capture_output=True, text=True).stdout)["perplexity"]
    run = subprocess.run([os.path.join(LLAMA_BIN, "llama-perplexity"), "-m", model, "-f", TEXT, "-c", "512", "-t", "2"],
                         env=env(), capture_output=True, text=True)
    log = run.stdout + run.stderr
    theirs = float(re.search(r"Final estimate: PPL = ([0-9.]+)", log).group(1))
    return ours, theirs


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+")
    parser.add_argument("--f16", default=os.path.join(ROOT, "Models", "shakespeare-target.gguf"),
                        help="the unquantized file for the relative columns ('' to leave them out)")
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--skip-perplexity", action="store_true")
    args = parser.parse_args()
    texts = prompts()
    base = None if args.skip_perplexity or not args.f16 else perplexities(args.f16)
    print("| file | greedy prompts equal (to first gap < 0.01) | compared steps | swiftlet ppl | llama.cpp ppl | ratio | swiftlet / own F16 | llama.cpp / own F16 |")
    print("|---|---|---|---|---|---|---|---|")
    if base:
        print(f"| {os.path.basename(args.f16)} | - | - | {base[0]:.4f} | {base[1]:.4f} | {base[0] / base[1]:.4f} | 1 | 1 |")
    for model in args.models:
        equal, steps = 0, 0
        for ids, greedy, gaps in llama_greedy(model, texts, args.tokens):
            limit = next((i for i, g in enumerate(gaps) if g < GAP), len(greedy))
            ours = swiftlet_greedy(model, ids, args.tokens)
            steps += limit
            if ours[:limit] == greedy[:limit]:
                equal += 1
            else:
                first = next(i for i in range(limit) if ours[i] != greedy[i])
                print(f"<!-- {os.path.basename(model)}: prompt {ids} differs at step {first} of {limit}: {ours[:limit]} vs {greedy[:limit]} -->")
        if not args.skip_perplexity:
            ours, theirs = perplexities(model)
            relative = f"{ours / base[0]:.4f} | {theirs / base[1]:.4f}" if base else "- | -"
            print(f"| {os.path.basename(model)} | {equal}/{len(texts)} | {steps} | {ours:.4f} | {theirs:.4f} | {ours / theirs:.4f} | "
                  f"{relative} |")
        else:
            print(f"| {os.path.basename(model)} | {equal}/{len(texts)} | {steps} | - | - | - | - | - |")


if __name__ == "__main__":
    main()
