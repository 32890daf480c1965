"""Cross-check the export: JAX logits (float32 checkpoint) vs NumPy logits (GGUF weights).

The JAX model (model.py) and the NumPy reference (reference.py) are written
independently; if the GGUF layout, RoPE convention, GQA head mapping or any
tensor name were wrong, their logits would disagree by far more than the F16
rounding of the weights. Writes export_check.json.

  python check_export.py
"""

import argparse
import json
from pathlib import Path

import jax.numpy as jnp
import numpy as np

from model import forward
from reference import LlamaReference
from train import BOS_ID, load_checkpoint

HERE = Path(__file__).parent
SEQUENCES = 3
LENGTH = 512


def compare(checkpoint: Path, gguf_path: Path, tokens: np.ndarray) -> dict:
    """Max |logit difference| and argmax agreement on a few validation windows."""
    params, config = load_checkpoint(checkpoint)
    reference = LlamaReference(gguf_path)
    step = tokens.size // SEQUENCES
    worst, agree, count, scale = 0.0, 0, 0, 0.0
    for s in range(SEQUENCES):
        window = np.concatenate([[BOS_ID], tokens[s * step:s * step + LENGTH - 1]]).astype(np.int32)
        jax_logits = np.asarray(forward(params, jnp.asarray(window[None, :]), config)[0], dtype=np.float64)
        ref_logits = reference.forward(window.tolist(), reference.new_cache())
        worst = max(worst, float(np.abs(jax_logits - ref_logits).max()))
        scale = max(scale, float(np.abs(jax_logits).max()))
        agree += int((jax_logits.argmax(-1) == ref_logits.argmax(-1)).sum())
        count += window.size
    return {"gguf": gguf_path.name, "sequences": SEQUENCES, "length": LENGTH,
            "max_abs_logit_diff": worst, "max_abs_logit": scale, "argmax_agreement": agree / count}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-dir", type=Path, default=HERE / "work")
    parser.add_argument("--models-dir", type=Path, default=HERE.parent)
    parser.add_argument("--out", type=Path, default=HERE / "export_check.json")
    parser.add_argument("--models", nargs="+", choices=["target", "draft"], default=["target", "draft"],
                        help="models to check (the others keep their entries in --out)")
    args = parser.parse_args()
    tokens = np.load(args.work_dir / "validation.npy")
    result = json.loads(args.out.read_text()) if args.out.exists() else {}
    result.update({name: compare(args.work_dir / f"{name}.npz", args.models_dir / f"shakespeare-{name}.gguf", tokens)
                   for name in args.models})
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    for name, check in result.items():
        assert check["max_abs_logit_diff"] < 0.05, f"{name}: exported logits disagree with JAX"


if __name__ == "__main__":
    main()
