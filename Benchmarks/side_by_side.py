#!/usr/bin/env python3
"""Side-by-side speed comparisons of Swiftlet and llama.cpp on the same GGUF file.

Each comparison runs both engines in one invocation, alternating them run by run, at the
same thread count, and prints a markdown table with the ratio and the exact commands.
Absolute numbers drift on shared machines; the ratios measured in one run are what count.

Only the Python standard library is used (no requirements file needed). llama.cpp comes
from Benchmarks/build-llama-cpp.sh (git-ignored build), the random-weight models from
Benchmarks/make-models.sh.

    python3 Benchmarks/side_by_side.py decode  --model Benchmarks/.work/stories15M-f32.gguf
    python3 Benchmarks/side_by_side.py batched --model Benchmarks/.work/stories15M-f32.gguf
    python3 Benchmarks/side_by_side.py speculative --model Models/shakespeare-target.gguf --draft Models/shakespeare-draft.gguf
    python3 Benchmarks/side_by_side.py prefix  --model Benchmarks/.work/stories110M-f32.gguf
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LLAMA_BIN = os.path.join(ROOT, "Benchmarks", "peers", "llama.cpp-build", "bin")
SWIFTLET = os.path.join(ROOT, ".build", "release", "swiftlet")


def run(command, **kwargs):
    """Runs a command, returns stdout; fails loudly with its stderr."""
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        sys.exit(f"command failed ({result.returncode}): {' '.join(command)}\n{result.stderr[-2000:]}")
    return result.stdout


def show(command):
    return " ".join(os.path.relpath(c, ROOT) if c.startswith(ROOT) else c for c in command)


def table(title, header, rows, commands):
    print(f"\n### {title}\n")
    print(f"load: {os.getloadavg()[0]:.2f} (1-min average) at {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print("\nCommands:\n")
    for command in commands:
        print(f"    {command}")
    sys.stdout.flush()


def decode(args):
    """Single stream: prefill of a 128-token prompt and decode of 128 tokens after it.

    llama-bench's tg test decodes from an empty context unless given a depth, while
    Swiftlet's decode follows its prompt, so llama.cpp's decode runs at depth = the prompt
    length (-d): both then attend over the same positions."""
    prompt = ",".join(["1"] + [str(100 + i) for i in range(args.prompt - 1)])
    bench = [os.path.join(LLAMA_BIN, "llama-bench"), "-m", args.model, "-t", str(args.threads)]
    llama_pp = bench + ["-p", str(args.prompt), "-n", "0", "-r", "1", "-o", "json"]
    llama_tg = bench + ["-p", "0", "-n", str(args.gen), "-d", str(args.prompt), "-r", "1", "-o", "json"]
    ours = [SWIFTLET, "generate", "--model", args.model, "--prompt-tokens", prompt, "--temperature", "0",
            "--ignore-eos", "--max-tokens", str(args.gen), "--threads", str(args.threads), "--json"]
    samples = {"llama_pp": [], "llama_tg": [], "ours_pp": [], "ours_tg": []}
    for _ in range(args.repetitions):
        for llama in (llama_pp, llama_tg):
            for entry in json.loads(run(llama)):
                key = "llama_pp" if entry["n_prompt"] > 0 else "llama_tg"
                samples[key].append(entry["avg_ts"])
        stats = json.loads(run(ours))["stats"]
        samples["ours_pp"].append(stats["prefill_tokens_per_second"])
        samples["ours_tg"].append(stats["decode_tokens_per_second"])
    med = {k: statistics.median(v) for k, v in samples.items()}
    rows = [
        [f"prefill pp{args.prompt}", f"{med['ours_pp']:.1f}", f"{med['llama_pp']:.1f}", f"{med['ours_pp'] / med['llama_pp']:.2f}x"],
        [f"decode tg{args.gen}", f"{med['ours_tg']:.1f}", f"{med['llama_tg']:.1f}", f"{med['ours_tg'] / med['llama_tg']:.2f}x"],
    ]
    table(f"Single stream, {os.path.basename(args.model)}, {args.threads} threads (median of {args.repetitions} alternating runs)",
          ["test", "Swiftlet tok/s", "llama.cpp tok/s", "ratio"], rows,
          [show(llama_pp[:-2]), show(llama_tg[:-2]), show(ours)])


def batched(args):
    """Many streams: generation throughput at each concurrency, prompt 32, 128 generated."""
    levels = args.concurrency
    llama = [os.path.join(LLAMA_BIN, "llama-batched-bench"), "-m", args.model, "-t", str(args.threads),
             "-c", str(max(levels) * (args.prompt + args.gen) + 256), "-b", "2048", "-ub", "512",
             "-npp", str(args.prompt), "-ntg", str(args.gen), "-npl", ",".join(map(str, levels)), "--output-format", "jsonl"]
    ours = [SWIFTLET, "bench", "--model", args.model, "--threads", str(args.threads), "--prompt-length", str(args.prompt),
            "--gen-length", str(args.gen), "--concurrency", ",".join(map(str, levels)), "--kv-cache-type", args.kv_cache_type,
            "--repetitions", str(args.repetitions), "--json"]
    if args.rounds > 1:
        return batched_rounds(args, llama, ours)
    llama_rows = {}
    for line in run(llama).splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            llama_rows[entry["pl"]] = entry
    ours_rows = {}
    for line in run(ours).splitlines():
        entry = json.loads(line)
        ours_rows[(entry["concurrency"], entry["mode"])] = entry
    rows = []
    for level in levels:
        b, s = ours_rows[(level, "batched")], ours_rows[(level, "sequential")]
        peer = llama_rows[level]
        rows.append([str(level), f"{b['decode_tokens_per_second']:.1f}", f"{b['generated_tokens_per_second']:.1f}",
                     f"{s['generated_tokens_per_second']:.1f}", f"{b['generated_tokens_per_second'] / s['generated_tokens_per_second']:.2f}x",
                     f"{peer['speed_tg']:.1f}", f"{b['decode_tokens_per_second'] / peer['speed_tg']:.2f}x",
                     f"{b['ttft_ms_p50']:.0f} / {b['itl_ms_p50']:.1f}", f"{b.get('peak_rss_mb', 0):.0f}"])
    table(f"Batched generation, {os.path.basename(args.model)}, prompt {args.prompt}, {args.gen} generated, {args.threads} threads",
          ["streams", "Swiftlet decode tok/s", "Swiftlet gen tok/s (incl. prefill)", "Swiftlet one-at-a-time gen tok/s",
           "batched / sequential", "llama-batched-bench S_TG tok/s", "Swiftlet / llama.cpp (decode)", "TTFT p50 ms / ITL p50 ms", "peak RSS MB"],
          rows, [show(llama), show(ours)])


def batched_rounds(args, llama, ours):
    """Batched throughput only, llama.cpp and Swiftlet alternating for several rounds: the
    per-round ratios show how far this VM's drift moves a single comparison."""
    ours = ours[:-1] + ["--modes", "batched", "--json"]
    rows, ratios = [], {level: [] for level in args.concurrency}
    for round_index in range(args.rounds):
        peer = {json.loads(l)["pl"]: json.loads(l) for l in run(llama).splitlines() if l.startswith("{")}
        mine = {json.loads(l)["concurrency"]: json.loads(l) for l in run(ours).splitlines()}
        for level in args.concurrency:
            ratio = mine[level]["decode_tokens_per_second"] / peer[level]["speed_tg"]
            ratios[level].append(ratio)
            rows.append([str(round_index + 1), str(level), f"{mine[level]['decode_tokens_per_second']:.1f}",
                         f"{peer[level]['speed_tg']:.1f}", f"{ratio:.2f}x"])
    for level in args.concurrency:
        rows.append(["median", str(level), "", "", f"**{statistics.median(ratios[level]):.2f}x**"])
    table(f"Batched generation, {os.path.basename(args.model)}, prompt {args.prompt}, {args.gen} generated, {args.threads} threads, "
          f"{args.rounds} alternating rounds",
          ["round", "streams", "Swiftlet decode tok/s", "llama-batched-bench S_TG tok/s", "Swiftlet / llama.cpp"],
          rows, [show(llama), show(ours)])


def speculative(args):
    """Greedy single stream: plain vs draft-model speculative, both engines."""
    prompt = args.text
    results = []
    commands = []
    for k in args.draft_tokens:
        llama = [os.path.join(LLAMA_BIN, "llama-speculative-simple"), "-m", args.model, "-md", args.draft, "--spec-type", "draft-simple",
                 "-t", str(args.threads), "-td", str(args.threads), "-p", prompt, "-n", str(args.gen),
                 "--spec-draft-n-max", str(k), "--spec-draft-n-min", "0", "--temp", "0", "--top-k", "1", "-c", "512", "--ignore-eos"]
        out = subprocess.run(llama, capture_output=True, text=True)
        text = out.stdout + out.stderr
        rate, accept = None, "-"
        for line in text.splitlines():
            if "decoded" in line and "t/s" in line:
                rate = float(line.split("speed:")[1].split("t/s")[0])
            if "accept" in line and "%" in line:
                accept = line.split("=")[-1].strip()
        results.append(("llama.cpp speculative", k, rate, accept))
        commands.append(show(llama))
    llama_plain = [os.path.join(LLAMA_BIN, "llama-bench"), "-m", args.model, "-t", str(args.threads), "-p", "0", "-n", str(args.gen), "-r", "3", "-o", "json"]
    plain_rate = json.loads(run(llama_plain))[0]["avg_ts"]
    commands.append(show(llama_plain))
    ours = [SWIFTLET, "bench", "--model", args.model, "--draft-model", args.draft, "--draft-tokens", ",".join(map(str, args.draft_tokens)),
            "--temperatures", "0", "--concurrency", "1", "--requests", "2", "--gen-length", str(args.gen), "--threads", str(args.threads),
            "--prompts-file", args.prompts_file, "--json"]
    commands.append(show(ours))
    ours_rows = [json.loads(l) for l in run(ours).splitlines() if l.startswith("{")]
    rows = [["llama.cpp plain (llama-bench tg)", "-", f"{plain_rate:.1f}", "1.00x", "-"]]
    for name, k, rate, accept in results:
        rows.append([name, str(k), f"{rate:.1f}" if rate else "n/a", f"{rate / plain_rate:.2f}x" if rate else "n/a", accept])
    for r in ours_rows:
        name = "Swiftlet " + ("plain" if r["mode"] == "plain" else ("speculative adaptive" if r["adaptive"] else "speculative"))
        rows.append([name, str(r["draft_tokens"]) if r["mode"] != "plain" else "-", f"{r['generated_tokens_per_second']:.1f}",
                     f"{r['speedup_over_plain']:.2f}x", f"{r['acceptance_rate'] * 100:.0f}% / {r['mean_tokens_per_target_step']:.2f}"])
    table(f"Speculative decoding, greedy, single stream, {os.path.basename(args.model)} + {os.path.basename(args.draft)}, {args.threads} threads",
          ["engine", "draft tokens", "gen tok/s", "vs own plain", "acceptance / tokens per target step"], rows, commands)


def prefix(args):
    """Shared 900-token prefix: llama-server (one slot, cache_prompt) vs Swiftlet's prefix cache."""
    import random
    rng = random.Random(1)
    prefix_ids = [1] + [rng.randrange(3, 32000) for _ in range(args.prefix - 1)]
    suffixes = [[rng.randrange(3, 32000) for _ in range(args.suffix)] for _ in range(args.requests + 1)]
    server = [os.path.join(LLAMA_BIN, "llama-server"), "-m", args.model, "-t", str(args.threads), "-c", "2048",
              "-np", "1", "--port", "18089", "--host", "127.0.0.1"]
    process = subprocess.Popen(server, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen("http://127.0.0.1:18089/health", timeout=1)
                break
            except Exception:
                time.sleep(0.2)

        def completion(ids):
            body = json.dumps({"prompt": ids, "n_predict": 1, "cache_prompt": True, "temperature": 0}).encode()
            request = urllib.request.Request("http://127.0.0.1:18089/completion", data=body, headers={"Content-Type": "application/json"})
            start = time.time()
            reply = json.loads(urllib.request.urlopen(request, timeout=600).read())
            return reply.get("timings", {}).get("prompt_ms", (time.time() - start) * 1000)
        completion([1, 5, 6, 7])  # warm up
        cold = completion(prefix_ids + suffixes[-1])
        warm = [completion(prefix_ids + s) for s in suffixes[:args.requests]]
    finally:
        process.terminate()
        process.wait()
    ours = [SWIFTLET, "bench", "--model", args.model, "--threads", str(args.threads), "--shared-prefix-tokens", str(args.prefix),
            "--prompt-length", str(args.suffix), "--gen-length", "1", "--concurrency", str(args.requests),
            "--kv-cache-type", args.kv_cache_type, "--json"]
    ours_rows = {(r["prefix_state"], r["prefix_cache"]): r for r in map(json.loads, run(ours).splitlines())}
    # The like-for-like warm case: one request at a time, as llama-server's single slot serves them.
    single = ours[:ours.index("--concurrency")] + ["--concurrency", "1", "--requests", str(args.requests)] + ours[ours.index("--concurrency") + 2:]
    single_rows = {(r["prefix_state"], r["prefix_cache"]): r for r in map(json.loads, run(single).splitlines())}
    warm_peer = statistics.median(warm)
    rows = [
        ["cold (prefix never seen)", f"{ours_rows[('cold', 'on')]['ttft_ms_p50']:.0f}", f"{ours_rows[('cold', 'on')]['ttft_ms_p99']:.0f}",
         f"{ours_rows[('cold', 'off')]['ttft_ms_p50']:.0f}", f"{cold:.0f} (one request)", f"{ours_rows[('cold', 'on')]['ttft_ms_p50'] / cold:.2f}x"],
        ["warm (prefix computed before)", f"{ours_rows[('warm', 'on')]['ttft_ms_p50']:.0f}", f"{ours_rows[('warm', 'on')]['ttft_ms_p99']:.0f}",
         f"{ours_rows[('warm', 'off')]['ttft_ms_p50']:.0f}", f"{warm_peer:.0f} (same slot, median of {args.requests})", f"{ours_rows[('warm', 'on')]['ttft_ms_p50'] / warm_peer:.2f}x"],
        ["warm, one request at a time", f"{single_rows[('warm', 'on')]['ttft_ms_p50']:.0f}", f"{single_rows[('warm', 'on')]['ttft_ms_p99']:.0f}",
         f"{single_rows[('warm', 'off')]['ttft_ms_p50']:.0f}", f"{warm_peer:.0f} (same slot, median of {args.requests})",
         f"{single_rows[('warm', 'on')]['ttft_ms_p50'] / warm_peer:.2f}x"],
    ]
    table(f"Shared {args.prefix}-token prefix, {args.requests} concurrent requests with distinct {args.suffix}-token suffixes, {os.path.basename(args.model)}, {args.threads} threads",
          ["state", "Swiftlet TTFT p50 ms (cache on)", "p99 ms", "Swiftlet TTFT p50 ms (cache off)", "llama-server prompt ms", "ratio (p50 / llama.cpp)"],
          rows, [show(server) + "  # then /completion with cache_prompt: one cold request, then warm ones", show(ours), show(single)])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ["decode", "batched", "speculative", "prefix"]:
        p = sub.add_parser(name)
        p.add_argument("--model", required=True)
        p.add_argument("--threads", type=int, default=2)
        p.add_argument("--repetitions", type=int, default=3)
        p.add_argument("--prompt", type=int, default=128 if name == "decode" else 32)
        p.add_argument("--gen", type=int, default=128)
        p.add_argument("--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[1, 4, 16, 64])
        p.add_argument("--draft")
        p.add_argument("--draft-tokens", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2, 4, 8])
        p.add_argument("--text", default="ROMEO:")
        p.add_argument("--prompts-file", default=os.path.join(ROOT, "Benchmarks", "prompts-shakespeare.txt"))
        p.add_argument("--prefix", type=int, default=900)
        p.add_argument("--suffix", type=int, default=16)
        p.add_argument("--requests", type=int, default=8)
        p.add_argument("--rounds", type=int, default=1, help="batched: alternate the engines this many rounds (no sequential runs)")
        p.add_argument("--kv-cache-type", default="f16", choices=["f16", "f32"],
                       help="Swiftlet's KV cache type (llama.cpp's default is f16)")
    args = parser.parse_args()
    args.model = os.path.abspath(args.model)
    if args.draft:
        args.draft = os.path.abspath(args.draft)
    {"decode": decode, "batched": batched, "speculative": speculative, "prefix": prefix}[args.command](args)


if __name__ == "__main__":
    main()
