#!/usr/bin/env python3
"""Conformance of Swiftlet with llama.cpp on quantized copies of the shipped target.

For each type, the target (Models/shakespeare-target.gguf) is quantized by llama.cpp's
llama-quantize (into Benchmarks/.work/conformance/), then:
  * greedy ids: for 20 prompts (Benchmarks/prompts-shakespeare.txt, then the first lines of
    Models/shakespeare-validation.txt), both engines get the same prompt ids (Swiftlet's
    tokenizer, BOS first) and generate --tokens greedily. llama-server (loopback only) returns
    each step's top-2 log-probabilities; the ids must agree up to the first position where
    llama.cpp's top-2 gap is below 0.01 (a near tie either engine may break either way).
  * perplexity on Models/shakespeare-validation.txt with llama-perplexity's own windows on
    both sides: `llama-perplexity -c 512` and `swiftlet perplexity --context 512
    --llama-cpp-windows` (text prefixed with BOS, full 512-token windows, each window's first
    token replaced by BOS, the second half of each window scored).
Prints one markdown table. Usage (repository root, Swiftlet built in release):
    python3 Benchmarks/conformance.py [--types Q4_1,Q5_0,...] (default: the ten of issue 12) [--tokens 32]
"""
import argparse
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# llama.cpp's binaries (Benchmarks/build-llama-cpp.sh); LLAMA_CPP_BIN overrides, e.g. from a worktree.
PEER = os.environ.get("LLAMA_CPP_BIN", os.path.join(ROOT, "Benchmarks", "peers", "llama.cpp-build", "bin"))
SWIFTLET = os.path.join(ROOT, ".build", "release", "swiftlet")
TARGET = os.path.join(ROOT, "Models", "shakespeare-target.gguf")
VALIDATION = os.path.join(ROOT, "Models", "shakespeare-validation.txt")
WORK = os.path.join(ROOT, "Benchmarks", ".work", "conformance")
ENV = dict(os.environ, LD_LIBRARY_PATH=PEER)


def prompts(count=20):
    with open(os.path.join(ROOT, "Benchmarks", "prompts-shakespeare.txt")) as f:
        out = [line.rstrip("\n") for line in f if line.strip()]
    with open(VALIDATION) as f:
        for line in f:
            if len(out) >= count:
                break
            if len(line.strip()) > 12:
                out.append(line.strip()[:60])
    return out[:count]


def quantized(type_name):
    os.makedirs(WORK, exist_ok=True)
    path = os.path.join(WORK, f"target-{type_name}.gguf")
    if not os.path.exists(path):
        subprocess.run([os.path.join(PEER, "llama-quantize"), TARGET, path, type_name], check=True, env=ENV,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(port, body):
    request = urllib.request.Request(f"http://127.0.0.1:{port}/completion", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.load(response)


def llama_greedy(model, prompt_ids, tokens, threads):
    port = free_port()
    server = subprocess.Popen([os.path.join(PEER, "llama-server"), "-m", model, "--host", "127.0.0.1", "--port", str(port),
                               "-t", str(threads), "-c", "512", "-np", "1"], env=ENV,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except Exception:
                time.sleep(0.2)
        results = []
        for ids in prompt_ids:
            reply = post(port, {"prompt": ids, "n_predict": tokens, "temperature": 0, "top_k": 1, "n_probs": 2,
                                "cache_prompt": False, "ignore_eos": True, "samplers": ["top_k"]})
            steps = reply["completion_probabilities"]
            got = [s["id"] for s in steps]
            gaps = [s["top_logprobs"][0]["logprob"] - s["top_logprobs"][1]["logprob"] for s in steps]
            results.append((got, gaps))
        return results
    finally:
        server.terminate()
        server.wait(timeout=30)


def swiftlet_greedy(model, ids, tokens, threads):
    out = subprocess.run([SWIFTLET, "generate", "--model", model, "--prompt-tokens", ",".join(map(str, ids)),
                          "--max-tokens", str(tokens), "--temperature", "0", "--ignore-eos", "--json",
                          "--threads", str(threads)], check=True, capture_output=True, text=True).stdout
    return json.loads(out)["tokens"]


def tokenize(text):
    out = subprocess.run([SWIFTLET, "tokenize", "--model", TARGET, "--json", text], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.splitlines()[0])


def llama_perplexity(model, threads):
    out = subprocess.run([os.path.join(PEER, "llama-perplexity"), "-m", model, "-f", VALIDATION, "-c", "512", "-t", str(threads)],
                         env=ENV, capture_output=True, text=True)
    match = re.search(r"Final estimate: PPL = ([0-9.]+)", out.stdout + out.stderr)
    return float(match.group(1))


def swiftlet_perplexity(model, threads):
    out = subprocess.run([SWIFTLET, "perplexity", "--model", model, "--file", VALIDATION, "--context", "512",
                          "--llama-cpp-windows", "--json", "--threads", str(threads)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)["perplexity"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--types", default="Q4_1,Q5_0,Q5_1,Q2_K,Q3_K_M,Q4_K_M,Q5_K_M,Q6_K,IQ4_NL,IQ4_XS")
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-perplexity", action="store_true", help="compare greedy ids only")
    args = parser.parse_args()
    prompt_ids = [tokenize(p) for p in prompts()]
    rows = []
    for type_name in args.types.split(","):
        model = quantized(type_name)
        check = subprocess.run([SWIFTLET, "generate", "--model", model, "--prompt-tokens", "1", "--max-tokens", "1"],
                               capture_output=True, text=True)
        if check.returncode != 0:  # e.g. llama-quantize mixed in a type Swiftlet does not multiply yet
            print(f"{type_name}: Swiftlet cannot run the file: {check.stderr.strip()}", flush=True)
            continue
        reference = llama_greedy(model, prompt_ids, args.tokens, args.threads)
        agreeing, compared, first_bad = 0, 0, None
        for index, (ids, (expected, gaps)) in enumerate(zip(prompt_ids, reference)):
            ours = swiftlet_greedy(model, ids, args.tokens, args.threads)
            limit = next((i for i, g in enumerate(gaps) if g < 0.01), len(expected))
            compared += 1
            if ours[:limit] == expected[:limit]:
                agreeing += 1
            elif first_bad is None:
                first_bad = f"prompt {index}: ours {ours[:limit]} vs {expected[:limit]}"
        if args.no_perplexity:
            ppl_llama = ppl_ours = float("nan")
        else:
            ppl_llama, ppl_ours = llama_perplexity(model, args.threads), swiftlet_perplexity(model, args.threads)
        rows.append((type_name, agreeing, compared, ppl_ours, ppl_llama, first_bad))
        print(f"{type_name}: {agreeing}/{compared} prompts agree; perplexity {ppl_ours:.4f} vs {ppl_llama:.4f}", flush=True)
    print("| type | greedy prompts agreeing | Swiftlet PPL | llama.cpp PPL | difference |")
    print("|---|---|---|---|---|")
    for type_name, agreeing, compared, ours, llama, bad in rows:
        print(f"| {type_name} | {agreeing}/{compared} | {ours:.4f} | {llama:.4f} | {100 * (ours / llama - 1):+.3f}% |")
    for type_name, _, _, _, _, bad in rows:
        if bad:
            print(f"{type_name}: first disagreement: {bad}")
    return 0 if all(a == c and (args.no_perplexity or abs(o / l - 1) < 0.01) for _, a, c, o, l, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
