"""Evaluate the exported GGUF models with the NumPy reference and write the fixtures.

Protocol (also in EVAL.md): the validation text is encoded as ONE string with the
SentencePiece model (no BOS/EOS), cut into consecutive non-overlapping chunks of
511 tokens (the last one shorter), and each chunk is prefixed with BOS to make a
window of at most 512 tokens. Every window is run from an empty cache, and every
token after the BOS is scored from all the tokens before it in its window, so
each validation token is scored exactly once. NLL is the mean over scored tokens
in nats; perplexity is exp(NLL).

Outputs:
  eval.json          perplexity of target and draft, draft/target greedy agreement
  reference.json     "ROMEO:" prompt ids and 32 greedy ids per model (Swift test fixture)
  samples.json       a greedy and a sampled continuation per model (for the model card)
"""

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np
import sentencepiece as spm

from reference import LlamaReference, log_softmax

HERE = Path(__file__).parent
MODELS = HERE.parent
WINDOW = 512
PROMPT = "ROMEO:"
REFERENCE_STEPS = 32
# Greedy steps whose top-1/top-2 logit gap is below this may flip under float32.
NEAR_TIE = 1e-3
SAMPLE_STEPS = 160
SAMPLE_TEMPERATURE = 0.8
SAMPLE_SEED = 1

PROTOCOL = ("Validation text encoded as one string with the SentencePiece model (no BOS/EOS); "
            "split into consecutive non-overlapping chunks of 511 tokens (last chunk shorter); "
            "each chunk prefixed with BOS (id 1) to form a window of <= 512 tokens; each window "
            "evaluated from an empty KV cache; every token after the BOS is scored given all "
            "previous tokens of its window (so every validation token is scored once); "
            "nll_per_token = mean negative natural-log likelihood over scored tokens; "
            "perplexity = exp(nll_per_token).")


def windows_of(ids: list, bos_id: int, window: int) -> list:
    """[BOS] + consecutive chunks of (window - 1) ids."""
    step = window - 1
    return [[bos_id] + ids[i:i + step] for i in range(0, len(ids), step)]


def score_windows(target: LlamaReference, draft: LlamaReference, windows: list) -> dict:
    """NLL sums, top-1 hits and draft/target argmax agreement over all scored positions."""
    totals = {"target_nll": 0.0, "draft_nll": 0.0, "target_top1": 0, "draft_top1": 0, "agree": 0, "count": 0}
    start = time.time()
    for index, window in enumerate(windows):
        truth = np.asarray(window[1:])
        rows = np.arange(truth.size)
        t_logp = log_softmax(target.forward(window[:-1], target.new_cache()))
        d_logp = log_softmax(draft.forward(window[:-1], draft.new_cache()))
        totals["target_nll"] -= float(t_logp[rows, truth].sum())
        totals["draft_nll"] -= float(d_logp[rows, truth].sum())
        t_best, d_best = t_logp.argmax(axis=-1), d_logp.argmax(axis=-1)
        totals["target_top1"] += int((t_best == truth).sum())
        totals["draft_top1"] += int((d_best == truth).sum())
        totals["agree"] += int((t_best == d_best).sum())
        totals["count"] += int(truth.size)
        if index % 20 == 0:
            print(f"window {index + 1}/{len(windows)}  {time.time() - start:.0f}s", flush=True)
    return totals


def model_metrics(nll_sum: float, top1: int, count: int) -> dict:
    nll = nll_sum / count
    return {"nll_per_token": nll, "perplexity": float(np.exp(nll)), "top1_accuracy": top1 / count}


def reference_fixture(model: LlamaReference, processor: spm.SentencePieceProcessor, path: Path) -> dict:
    """Prompt ids with BOS, the 32 greedy ids and the first step's top logits."""
    prompt_ids = [processor.bos_id()] + processor.encode(PROMPT)
    first_logits = model.forward(prompt_ids, model.new_cache())[-1]
    top = np.argsort(-first_logits)[:5]
    greedy = model.generate(prompt_ids, REFERENCE_STEPS)
    # How far each greedy choice is ahead of the runner-up: a small margin would
    # make the fixture sensitive to float32 vs float64 arithmetic.
    path_logits = model.forward(prompt_ids + greedy[:-1], model.new_cache())[len(prompt_ids) - 1:]
    top2 = np.sort(path_logits, axis=-1)[:, -2:]
    return {"gguf": path.name, "prompt": PROMPT, "prompt_ids": prompt_ids, "greedy_ids": greedy,
            "greedy_text": processor.decode(greedy),
            "top1_top2_logit_margins": [round(float(m), 6) for m in top2[:, 1] - top2[:, 0]],
            "near_tie_steps": [i for i, m in enumerate(top2[:, 1] - top2[:, 0]) if m < NEAR_TIE],
            "first_step_top5": [{"id": int(i), "logit": float(first_logits[i])} for i in top]}


def samples(model: LlamaReference, processor: spm.SentencePieceProcessor) -> dict:
    prompt_ids = [processor.bos_id()] + processor.encode(PROMPT)
    greedy = model.generate(prompt_ids, SAMPLE_STEPS)
    sampled = model.generate(prompt_ids, SAMPLE_STEPS, SAMPLE_TEMPERATURE, SAMPLE_SEED)
    return {"prompt": PROMPT, "tokens": SAMPLE_STEPS,
            "greedy": PROMPT + processor.decode(greedy),
            "sampled": {"temperature": SAMPLE_TEMPERATURE, "seed": SAMPLE_SEED,
                        "sampler": "numpy default_rng(seed).choice over softmax(logits / temperature)",
                        "text": PROMPT + processor.decode(sampled)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=Path, default=MODELS / "shakespeare-target.gguf")
    parser.add_argument("--draft", type=Path, default=MODELS / "shakespeare-draft.gguf")
    parser.add_argument("--tokenizer", type=Path, default=HERE / "work" / "tokenizer.model")
    parser.add_argument("--validation", type=Path, default=MODELS / "shakespeare-validation.txt")
    parser.add_argument("--max-windows", type=int, help="evaluate only the first N windows (quick test)")
    args = parser.parse_args()

    processor = spm.SentencePieceProcessor(model_file=str(args.tokenizer))
    target, draft = LlamaReference(args.target), LlamaReference(args.draft)
    text = args.validation.read_text(encoding="utf-8")
    ids = processor.encode(text)
    windows = windows_of(ids, processor.bos_id(), WINDOW)[:args.max_windows]

    totals = score_windows(target, draft, windows)
    count = totals["count"]
    target_metrics = model_metrics(totals["target_nll"], totals["target_top1"], count)
    draft_metrics = model_metrics(totals["draft_nll"], totals["draft_top1"], count)
    draft_metrics["greedy_agreement_with_target"] = totals["agree"] / count
    result = {
        "model": args.target.name, "nll_per_token": target_metrics["nll_per_token"],
        "perplexity": target_metrics["perplexity"], "token_count": count, "window": WINDOW,
        "windows": len(windows), "protocol": PROTOCOL, "compute": "NumPy float64 over the GGUF weights",
        "validation_file": f"Models/{args.validation.name}",
        "validation_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "validation_token_ids": {
            "count_without_bos": len(ids), "first_32": ids[:32],
            "sha256_int32_le": hashlib.sha256(np.asarray(ids, dtype="<i4").tobytes()).hexdigest()},
        "target": target_metrics, "draft": draft_metrics,
        "agreement_definition": "fraction of scored positions where argmax of the draft's logits "
                                "equals argmax of the target's logits (same windows as above)",
    }
    (HERE / "eval.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))

    fixture = {"tokenizer": "tokenizer.ggml.* of the GGUF (SentencePiece BPE, 1024 pieces)",
               "compute": "NumPy float64 forward over the exported GGUF weights, greedy argmax",
               "target": reference_fixture(target, processor, args.target),
               "draft": reference_fixture(draft, processor, args.draft)}
    (HERE / "reference.json").write_text(json.dumps(fixture, indent=2) + "\n")
    texts = {"target": samples(target, processor), "draft": samples(draft, processor)}
    (HERE / "samples.json").write_text(json.dumps(texts, indent=2) + "\n")
    print(json.dumps(texts, indent=2))


if __name__ == "__main__":
    main()
