#!/usr/bin/env python3
"""Dequantization fixtures: a few rows of a few tensors of files written by llama.cpp's
llama-quantize, with their reference dequantization by the gguf package.

For each entry of TYPES the script quantizes SOURCE with llama-quantize, then for each
tensor of TENSORS writes (in this folder)
    <TYPE>.<tensor>.blocks   the first ROWS rows as stored (raw ggml blocks)
    <TYPE>.<tensor>.f32      gguf.quants.dequantize of those rows, little-endian float32
and records shapes, the llama-quantize file type and SHA-256 digests in manifest.json.
Another family adds its types by one entry in TYPES (the llama-quantize type name and the
ggml tensor type expected in the file).

Usage (from the repository root):
    python3 -m venv Tests/Fixtures/quants/.venv
    Tests/Fixtures/quants/.venv/bin/pip install -r Tests/Fixtures/quants/requirements.txt
    Tests/Fixtures/quants/.venv/bin/python Tests/Fixtures/quants/make_reference.py \
        --llama-quantize Benchmarks/peers/llama.cpp-build/bin/llama-quantize
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from gguf import GGUFReader, GGMLQuantizationType
from gguf.quants import dequantize

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
SOURCE = os.path.join(ROOT, "Models", "shakespeare-target.gguf")

# (llama-quantize type argument, ggml tensor type of the matrices in the result)
TYPES = [
    ("Q4_1", "Q4_1"),
    ("Q5_0", "Q5_0"),
    ("Q5_1", "Q5_1"),
    ("IQ4_NL", "IQ4_NL"),
]
# Tensors cut from every file: rows of 384 and of 1024 elements.
TENSORS = ["blk.0.attn_k.weight", "blk.5.ffn_down.weight"]
ROWS = 8


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--llama-quantize", required=True, help="path to llama.cpp's llama-quantize")
    parser.add_argument("--source", default=SOURCE, help="the F16/F32 GGUF file to quantize")
    parser.add_argument("--out", default=HERE, help="where the fixtures go")
    args = parser.parse_args()

    env = dict(os.environ)
    lib = os.path.dirname(os.path.abspath(args.llama_quantize))
    env["LD_LIBRARY_PATH"] = lib + os.pathsep + env.get("LD_LIBRARY_PATH", "")
    with open(args.source, "rb") as f:
        source_digest = sha256(f.read())
    manifest = {"source": os.path.relpath(args.source, ROOT), "source_sha256": source_digest, "fixtures": []}
    with tempfile.TemporaryDirectory() as work:
        for quantize_name, tensor_type in TYPES:
            path = os.path.join(work, f"{quantize_name}.gguf")
            subprocess.run([args.llama_quantize, args.source, path, quantize_name], check=True, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            reader = GGUFReader(path)
            by_name = {t.name: t for t in reader.tensors}
            for name in TENSORS:
                tensor = by_name[name]
                qtype = GGMLQuantizationType(tensor.tensor_type)
                if qtype.name != tensor_type:
                    raise SystemExit(f"{quantize_name}: {name} is {qtype.name}, expected {tensor_type}")
                columns = int(tensor.shape[0])
                raw = np.asarray(tensor.data)[:ROWS]  # (ROWS, row bytes) uint8
                blocks = np.ascontiguousarray(raw).tobytes()
                values = dequantize(raw, qtype).astype("<f4")  # (ROWS, columns)
                assert values.shape == (ROWS, columns), values.shape
                floats = values.tobytes()
                stem = f"{quantize_name}.{name}"
                with open(os.path.join(args.out, stem + ".blocks"), "wb") as f:
                    f.write(blocks)
                with open(os.path.join(args.out, stem + ".f32"), "wb") as f:
                    f.write(floats)
                manifest["fixtures"].append({
                    "quantize_type": quantize_name, "tensor_type": tensor_type, "tensor": name,
                    "rows": ROWS, "columns": columns,
                    "blocks": stem + ".blocks", "blocks_sha256": sha256(blocks),
                    "floats": stem + ".f32", "floats_sha256": sha256(floats),
                })
                print(f"{stem}: {len(blocks)} bytes of blocks, {len(floats)} bytes of floats")
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
