#!/usr/bin/env python3
"""Write a random-weight Llama GGUF of a named public shape.

The files are for benchmarking only: the weights are random, so the text a
model produces is gibberish, but the shapes, the metadata and the tokenizer
are those of a real Llama-family model, so llama.cpp and Swiftlet load and run
them exactly as they would run the real thing.

Output is deterministic: the same --shape/--type/--seed (and gguf/numpy
versions pinned in requirements.txt) give a byte-identical file.

    python make_model.py --shape stories15M --type f32 --seed 0 --out m.gguf

Shapes:
  tiny         dim 64,  2 layers, 4 heads (2 KV heads: GQA), ffn 192, vocab 512
  stories15M   dim 288, 6 layers, 6 heads, ffn 768,  vocab 32000, ctx 256
  stories110M  dim 768, 12 layers, 12 heads, ffn 2048, vocab 32000, ctx 1024
"""

from __future__ import annotations

import argparse
import itertools
import string
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import gguf


@dataclass(frozen=True)
class Shape:
    dim: int          # embedding length
    n_layers: int
    n_heads: int
    n_kv_heads: int
    ffn: int          # feed-forward (hidden) length
    vocab: int
    context: int      # llama.context_length (training context)


SHAPES: dict[str, Shape] = {
    # Quick tests: small but exercises grouped-query attention.
    "tiny": Shape(dim=64, n_layers=2, n_heads=4, n_kv_heads=2, ffn=192, vocab=512, context=128),
    # Shapes of Karpathy's llama2.c "TinyStories" models.
    "stories15M": Shape(dim=288, n_layers=6, n_heads=6, n_kv_heads=6, ffn=768, vocab=32000, context=256),
    "stories110M": Shape(dim=768, n_layers=12, n_heads=12, n_kv_heads=12, ffn=2048, vocab=32000, context=1024),
}

TYPES = {
    "f32": (gguf.GGMLQuantizationType.F32, gguf.LlamaFileType.ALL_F32),
    "f16": (gguf.GGMLQuantizationType.F16, gguf.LlamaFileType.MOSTLY_F16),
    "q8_0": (gguf.GGMLQuantizationType.Q8_0, gguf.LlamaFileType.MOSTLY_Q8_0),
    "q4_0": (gguf.GGMLQuantizationType.Q4_0, gguf.LlamaFileType.MOSTLY_Q4_0),
}

INIT_STD = 0.02   # GPT-2 / Llama-style initialisation

# ---------------------------------------------------------------- weights --


def tensor_rng(seed: int, name: str) -> np.random.Generator:
    """A generator that depends only on (seed, tensor name).

    So a tensor's values do not depend on the order tensors are made in, and
    the f32, f16 and q8_0 files of one seed hold the same underlying model.
    """
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, zlib.crc32(name.encode())])))


def normal(seed: int, name: str, shape: tuple[int, ...], std: float) -> np.ndarray:
    rng = tensor_rng(seed, name)
    return (rng.standard_normal(shape, dtype=np.float32) * np.float32(std)).astype(np.float32)


def llama_tensors(s: Shape, seed: int):
    """Yield (name, float32 array) in GGUF/llama.cpp naming and layout.

    numpy shapes are (out_features, in_features); GGUF stores them reversed,
    which is the ne[] order llama.cpp expects (e.g. token_embd {dim, vocab}).
    """
    head_dim = s.dim // s.n_heads
    kv_dim = head_dim * s.n_kv_heads
    # Scale the projections that write into the residual stream down with
    # depth (as in GPT-2) so activations keep a sane size in every layer.
    resid_std = INIT_STD / np.sqrt(2 * s.n_layers)
    ones = lambda n: np.ones((n,), dtype=np.float32)  # noqa: E731  RMS-norm weights

    yield "token_embd.weight", normal(seed, "token_embd.weight", (s.vocab, s.dim), INIT_STD)
    for i in range(s.n_layers):
        p = f"blk.{i}."
        yield p + "attn_norm.weight", ones(s.dim)
        yield p + "attn_q.weight", normal(seed, p + "attn_q.weight", (s.dim, s.dim), INIT_STD)
        yield p + "attn_k.weight", normal(seed, p + "attn_k.weight", (kv_dim, s.dim), INIT_STD)
        yield p + "attn_v.weight", normal(seed, p + "attn_v.weight", (kv_dim, s.dim), INIT_STD)
        yield p + "attn_output.weight", normal(seed, p + "attn_output.weight", (s.dim, s.dim), resid_std)
        yield p + "ffn_norm.weight", ones(s.dim)
        yield p + "ffn_gate.weight", normal(seed, p + "ffn_gate.weight", (s.ffn, s.dim), INIT_STD)
        yield p + "ffn_up.weight", normal(seed, p + "ffn_up.weight", (s.ffn, s.dim), INIT_STD)
        yield p + "ffn_down.weight", normal(seed, p + "ffn_down.weight", (s.dim, s.ffn), resid_std)
    yield "output_norm.weight", ones(s.dim)
    # A separate (untied) output projection, as in the real stories models.
    yield "output.weight", normal(seed, "output.weight", (s.vocab, s.dim), INIT_STD)


def encode(arr: np.ndarray, qtype: gguf.GGMLQuantizationType) -> np.ndarray:
    """Convert one tensor to the file type; 1-D tensors (norms) stay F32."""
    if arr.ndim == 1 or qtype == gguf.GGMLQuantizationType.F32:
        return arr
    if qtype == gguf.GGMLQuantizationType.F16:
        return arr.astype(np.float16)
    # gguf-py's reference quantizer; returns uint8 bytes with the block layout.
    return gguf.quants.quantize(arr, qtype)


# ------------------------------------------------------------- vocabulary --

# A few very common English words so ordinary prompts tokenize into plausible
# pieces; everything else is spelled from the systematic pieces below.
COMMON_WORDS = """
the and to a of was he she it in that you his her they said with for on
had is but not were at one day there as be all so we then this have what
up out very big little time when from who like go saw them play could can
did by no happy tom lily mom do into would are him about wanted once upon
friend its my will get their an see ball dog cat tree sun look your back
went came made home some me our over just now how more down run fun park
""".split()


def vocab_pieces(n_normal: int) -> list[str]:
    """n_normal distinct SentencePiece-style pieces, most 'frequent' first.

    '▁' (U+2581) marks a preceding space, as in Llama's tokenizer. Every
    prefix needed to build a longer piece by pairwise merges is present, so
    llama.cpp's SPM tokenizer can actually produce the longer pieces.
    """
    lower = string.ascii_lowercase
    printable = [c for c in string.printable if c.isprintable() and c != " "]

    def candidates():
        yield "▁"
        for w in COMMON_WORDS:
            yield "▁" + w
        for c in printable:
            yield "▁" + c
        yield from printable
        for a, b in itertools.product(lower, repeat=2):
            yield "▁" + a + b
            yield a + b
        for a, b in itertools.product(string.ascii_uppercase, lower):
            yield "▁" + a + b
        for a, b, c in itertools.product(lower, repeat=3):
            yield "▁" + a + b + c
            yield a + b + c
        for a, b, c, d in itertools.product(lower, repeat=4):
            yield "▁" + a + b + c + d

    out: list[str] = []
    seen: set[str] = set()
    for piece in candidates():
        if piece in seen:
            continue
        seen.add(piece)
        out.append(piece)
        if len(out) == n_normal:
            return out
    raise ValueError(f"cannot make {n_normal} distinct pieces")


def llama_vocab(size: int) -> tuple[list[str], list[float], list[int]]:
    """Tokens, scores and token types of a synthetic Llama (SPM) vocabulary."""
    T = gguf.TokenType
    tokens = ["<unk>", "<s>", "</s>"]
    types = [T.UNKNOWN, T.CONTROL, T.CONTROL]
    tokens += [f"<0x{b:02X}>" for b in range(256)]
    types += [T.BYTE] * 256
    scores = [0.0] * len(tokens)
    n_normal = size - len(tokens)
    if n_normal < 1:
        raise ValueError(f"vocab size {size} too small (need > {len(tokens)})")
    pieces = vocab_pieces(n_normal)
    tokens += pieces
    types += [T.NORMAL] * n_normal
    scores += [-float(i) for i in range(n_normal)]  # decreasing: earlier = more frequent
    assert len(tokens) == len(set(tokens)) == len(scores) == len(types) == size
    return tokens, scores, [int(t) for t in types]


# -------------------------------------------------------------------- main --


def write_model(shape_name: str, type_name: str, seed: int, out: Path, context: int | None) -> None:
    s = SHAPES[shape_name]
    if context is not None:
        s = Shape(**{**s.__dict__, "context": context})
    qtype, ftype = TYPES[type_name]
    head_dim = s.dim // s.n_heads
    assert head_dim * s.n_heads == s.dim and s.n_heads % s.n_kv_heads == 0

    w = gguf.GGUFWriter(out, "llama")
    w.add_name(f"{shape_name}-random-{type_name}-seed{seed}")
    w.add_description(f"Swiftlet benchmark model: random weights (seed {seed}) in the {shape_name} shape")
    w.add_context_length(s.context)
    w.add_embedding_length(s.dim)
    w.add_block_count(s.n_layers)
    w.add_feed_forward_length(s.ffn)
    w.add_head_count(s.n_heads)
    w.add_head_count_kv(s.n_kv_heads)
    w.add_rope_dimension_count(head_dim)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(10000.0)
    w.add_vocab_size(s.vocab)
    w.add_file_type(int(ftype))
    if qtype not in (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16):
        w.add_quantization_version(gguf.GGML_QUANT_VERSION)

    tokens, scores, types = llama_vocab(s.vocab)
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_unk_token_id(0)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)

    for name, arr in llama_tensors(s, seed):
        data = encode(arr, qtype)
        w.add_tensor(name, data, raw_dtype=qtype if data.dtype == np.uint8 else None)

    out.parent.mkdir(parents=True, exist_ok=True)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", choices=sorted(SHAPES), required=True)
    ap.add_argument("--type", choices=sorted(TYPES), default="f32", help="weight type (default f32); norms stay f32")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--context", type=int, default=None, help="override llama.context_length")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    # Write to a temporary name and rename, so an interrupted run never
    # leaves a truncated file that looks finished.
    tmp = args.out.with_name(args.out.name + ".tmp")
    write_model(args.shape, args.type, args.seed, tmp, args.context)
    tmp.replace(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
