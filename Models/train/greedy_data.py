"""Make the draft's on-policy fine-tuning data: the shipped target's own greedy continuations.

Speculative decoding at temperature 0 accepts a draft token exactly when it equals the
target's argmax, so the text that matters for acceptance is what the target itself writes,
not the corpus. This script builds prompts of two kinds, has the shipped target continue
each one greedily (Swiftlet's `swiftlet batch`, F16 weights exactly as shipped), and stores
[BOS] + prompt + continuation with the position where the continuation starts:

  * corpus prompts: 8-64 consecutive tokens of the TRAINING split (never validation) at a
    random offset, as a user's text prompt would be;
  * random prompts: 8-64 uniformly random non-special ids, as `swiftlet bench` sends.

Outputs:
  work/greedy_requests.jsonl        the flat `swiftlet batch` requests
  work/greedy_results.jsonl         the engine's answers
  work/greedy.npz                   sequences [n, length] int32 (padded with 0) and
                                    `starts` [n] (index of the first generated token) and
                                    `lengths` [n]

  python greedy_data.py --swiftlet ../../.build/release/swiftlet
"""

import argparse
import json
import subprocess
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
BOS_ID = 1
FIRST_ORDINARY_ID = 3  # 0 <unk>, 1 <s>, 2 </s>
VOCAB_SIZE = 1024


def make_prompts(train_tokens: np.ndarray, count: int, rng: np.random.Generator) -> list:
    """Half corpus windows, half random ids, each 8-64 tokens long (BOS added by the engine)."""
    prompts = []
    for i in range(count):
        length = int(rng.integers(8, 65))
        if i % 2 == 0:
            offset = int(rng.integers(0, train_tokens.size - length))
            prompts.append(train_tokens[offset:offset + length].astype(int).tolist())
        else:
            prompts.append(rng.integers(FIRST_ORDINARY_ID, VOCAB_SIZE, size=length).tolist())
    return prompts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--swiftlet", type=Path, required=True, help="a release build of the swiftlet CLI")
    parser.add_argument("--work-dir", type=Path, default=HERE / "work")
    parser.add_argument("--count", type=int, default=6000, help="prompts")
    parser.add_argument("--max-tokens", type=int, default=160, help="greedy tokens per prompt")
    parser.add_argument("--seed", type=int, default=2468)
    args = parser.parse_args()

    train_tokens = np.load(args.work_dir / "train.npy")
    rng = np.random.default_rng(args.seed)
    prompts = make_prompts(train_tokens, args.count, rng)
    requests = args.work_dir / "greedy_requests.jsonl"
    results = args.work_dir / "greedy_results.jsonl"
    with open(requests, "w") as f:
        for i, prompt in enumerate(prompts):
            f.write(json.dumps({"id": i, "prompt_tokens": [BOS_ID] + prompt, "max_tokens": args.max_tokens,
                                "temperature": 0, "ignore_eos": True}) + "\n")
    subprocess.run([str(args.swiftlet), "batch", "--model", str(HERE.parent / "shakespeare-target.gguf"),
                    "--input", str(requests), "--output", str(results)], check=True)

    rows = [json.loads(line) for line in open(results)]
    assert len(rows) == len(prompts), (len(rows), len(prompts))
    width = 1 + max(len(p) for p in prompts) + args.max_tokens
    sequences = np.zeros((len(rows), width), dtype=np.int32)
    starts = np.zeros(len(rows), dtype=np.int32)
    lengths = np.zeros(len(rows), dtype=np.int32)
    for row in rows:
        i = int(row["id"])
        assert "error" not in row, row
        sequence = [BOS_ID] + prompts[i] + list(row["tokens"])
        sequences[i, :len(sequence)] = sequence
        starts[i] = 1 + len(prompts[i])
        lengths[i] = len(sequence)
    np.savez(args.work_dir / "greedy.npz", sequences=sequences, starts=starts, lengths=lengths)
    generated = int((lengths - starts).sum())
    print(f"{len(rows)} sequences, {generated} greedy tokens, width {width}")


if __name__ == "__main__":
    main()
