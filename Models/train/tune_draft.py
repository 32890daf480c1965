"""Fine-tune the distilled draft on the target's own greedy continuations (work/greedy.npz).

The distilled draft matches the target's next-token distribution on corpus text (KL, in
train.py). At temperature 0 a speculative draft token is accepted exactly when it is the
target's argmax, on the text the target itself writes; so this second stage trains the
draft's argmax on that text: cross-entropy against the target's greedy token at every
generated position (the prompt positions are not scored). It starts from the distilled
draft as exported (its F16 GGUF read back), holds out HELD_OUT sequences, and reports the
greedy agreement (draft argmax == target's greedy token) on them before and after.

  python tune_draft.py ../shakespeare-draft.gguf     (reads the draft, writes work/draft.npz)

Outputs: work/draft.npz (input of export_gguf.py), draft_tune_log.csv, draft_tune.json.
"""

import argparse
import csv
import json
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from model import forward
from train import DRAFT_CONFIG, load_shipped, make_optimizer, save_checkpoint

HERE = Path(__file__).parent
HELD_OUT = 256
HYPERPARAMETERS = dict(seed=97531, steps=1200, batch_size=16, peak_lr=1e-3, min_lr=5e-5, warmup_steps=50,
                       weight_decay=0.0, beta1=0.9, beta2=0.95, grad_clip=1.0, eval_every=100)


def scored_mask(starts: np.ndarray, lengths: np.ndarray, width: int) -> np.ndarray:
    """[n, width - 1]: True where the input position's next token is a generated one."""
    positions = np.arange(1, width)[None, :]
    return (positions >= starts[:, None]) & (positions < lengths[:, None])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("draft", type=Path, help="the distilled draft's GGUF")
    parser.add_argument("--work-dir", type=Path, default=HERE / "work")
    parser.add_argument("--steps", type=int, help="override the number of steps (for smoke tests)")
    args = parser.parse_args()
    hp = dict(HYPERPARAMETERS)
    if args.steps:
        hp["steps"] = args.steps
        hp["warmup_steps"] = min(hp["warmup_steps"], args.steps // 2)

    data = np.load(args.work_dir / "greedy.npz")
    sequences, starts, lengths = data["sequences"], data["starts"], data["lengths"]
    mask = scored_mask(starts, lengths, sequences.shape[1])
    held = slice(0, HELD_OUT)
    train_ids = np.arange(HELD_OUT, len(sequences))

    config = DRAFT_CONFIG
    params = load_shipped(args.draft, config)
    optimizer = make_optimizer(hp)
    opt_state = optimizer.init(params)

    def loss_fn(params, batch, weights):
        logits = forward(params, batch[:, :-1], config)
        nll = optax.softmax_cross_entropy_with_integer_labels(logits, batch[:, 1:])
        return jnp.sum(nll * weights) / jnp.maximum(jnp.sum(weights), 1.0)

    @jax.jit
    def step(params, opt_state, batch, weights):
        loss, grads = jax.value_and_grad(loss_fn)(params, batch, weights)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    @jax.jit
    def agreements(params, batch, weights):
        logits = forward(params, batch[:, :-1], config)
        hits = (jnp.argmax(logits, axis=-1) == batch[:, 1:]) * weights
        return jnp.sum(hits), jnp.sum(weights)

    def held_out_agreement(params) -> float:
        hits, total = 0.0, 0.0
        for i in range(0, HELD_OUT, 32):
            h, t = agreements(params, jnp.asarray(sequences[held][i:i + 32]), jnp.asarray(mask[held][i:i + 32], jnp.float32))
            hits, total = hits + float(h), total + float(t)
        return hits / total

    before = held_out_agreement(params)
    print(f"held-out greedy agreement before: {before:.4f}", flush=True)
    rng = np.random.default_rng(hp["seed"])
    start = time.time()
    log_path = HERE / "draft_tune_log.csv"
    with open(log_path, "w", newline="") as log_file:
        log = csv.writer(log_file)
        log.writerow(["step", "train_loss", "held_out_agreement", "elapsed_s"])
        for n in range(1, hp["steps"] + 1):
            pick = rng.choice(train_ids, size=hp["batch_size"], replace=False)
            params, opt_state, loss = step(params, opt_state, jnp.asarray(sequences[pick]), jnp.asarray(mask[pick], jnp.float32))
            agreement = ""
            if n % hp["eval_every"] == 0 or n == hp["steps"]:
                agreement = held_out_agreement(params)
            log.writerow([n, float(loss), agreement, round(time.time() - start, 1)])
            log_file.flush()
            if agreement != "":
                print(f"step {n:4d} loss {float(loss):.4f} agreement {agreement:.4f} {time.time() - start:6.1f}s", flush=True)
    after = held_out_agreement(params)
    save_checkpoint(args.work_dir / "draft.npz", params, config)
    summary = {
        "stage": "draft fine-tuning on the target's greedy continuations",
        "start": str(args.draft.name), "hyperparameters": hp,
        "sequences": int(len(sequences)), "held_out_sequences": HELD_OUT,
        "scored_tokens": int(mask[HELD_OUT:].sum()), "train_seconds": round(time.time() - start, 1),
        "held_out_greedy_agreement_before": before, "held_out_greedy_agreement_after": after,
    }
    (HERE / "draft_tune.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2), flush=True)


if __name__ == "__main__":
    main()
