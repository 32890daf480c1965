#!/usr/bin/env python3
"""Dequantization fixtures for the super-block formats (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_XS).

Quantizes Models/shakespeare-target.gguf with llama.cpp's llama-quantize to Q2_K, Q3_K_M,
Q4_K_M, Q5_K_M, Q6_K and IQ4_XS (and with --pure for a type none of those mixes wrote),
then, for every tensor type of that list found in those files, cuts a few rows of up to two tensors and writes one small GGUF per type
(Tests/Fixtures/quants/<type>.gguf, lower-case type name) holding, per cut:
  <tensor>@<ftype>        the rows as stored (the tensor's own ggml type)
  <tensor>@<ftype>.ref    F32: gguf.quants.dequantize of those rows (the reference, bit exact)
Swift's QuantFixtureTests reads them and compares its own dequantization bit for bit.

Usage (venv in a git-ignored .venv folder next to this script):
  python3 -m venv Tests/Fixtures/quants/.venv
  Tests/Fixtures/quants/.venv/bin/pip install -r Tests/Fixtures/quants/requirements-k.txt
  Tests/Fixtures/quants/.venv/bin/python Tests/Fixtures/quants/make_reference_k.py \
      --llama-quantize Benchmarks/peers/llama.cpp-build/bin/llama-quantize
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
FTYPES = ["Q2_K", "Q3_K_M", "Q4_K_M", "Q5_K_M", "Q6_K", "IQ4_XS"]
TYPES = [Q.Q2_K, Q.Q3_K, Q.Q4_K, Q.Q5_K, Q.Q6_K, Q.IQ4_XS]
TENSORS_PER_TYPE = 2
ROWS = [0, 1, 2, -1]  # first three rows and the last


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--llama-quantize", required=True)
    parser.add_argument("--model", default=os.path.join(ROOT, "Models", "shakespeare-target.gguf"))
    parser.add_argument("--out", default=HERE)
    args = parser.parse_args()

    cuts = {t: [] for t in TYPES}  # type -> [(name, raw rows uint8, reference float32)]
    with tempfile.TemporaryDirectory() as work:
        # The mixes first; then, for a type no mix wrote (Q2_K: its mix keeps ffn_down, the
        # only tensor with rows of whole 256-blocks here, at Q3_K/Q4_K), the --pure file.
        runs = [(ftype, []) for ftype in FTYPES]
        runs += [(t.name, ["--pure"]) for t in TYPES]
        for ftype, flags in runs:
            wanted = [t for t in TYPES if len(cuts[t]) < TENSORS_PER_TYPE]
            if flags and Q[ftype] not in wanted:
                continue
            label = ftype + ("-pure" if flags else "")
            path = os.path.join(work, f"{label}.gguf")
            subprocess.run([args.llama_quantize, *flags, args.model, path, ftype], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            reader = gguf.GGUFReader(path)
            for tensor in reader.tensors:
                t = tensor.tensor_type
                if t not in cuts or len(cuts[t]) >= TENSORS_PER_TYPE:
                    continue
                data = np.asarray(tensor.data)  # (rows, row bytes) uint8
                rows = np.stack([data[r] for r in ROWS])
                reference = gguf.quants.dequantize(rows, t).astype(np.float32)
                cuts[t].append((f"{tensor.name}@{label}", rows, reference))

    total = 0
    for t in TYPES:
        if not cuts[t]:
            sys.exit(f"no {t.name} tensor in any of {FTYPES}")
        out = os.path.join(args.out, f"{t.name.lower()}.gguf")
        writer = gguf.GGUFWriter(out, arch="quant-fixture")
        writer.add_string("fixture.rows", ",".join(str(r) for r in ROWS))
        writer.add_string("fixture.reference", f"gguf {gguf.__version__ if hasattr(gguf, '__version__') else ''} gguf.quants.dequantize")
        for name, rows, reference in cuts[t]:
            writer.add_tensor(name, rows, raw_dtype=t)
            writer.add_tensor(name + ".ref", reference)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        size = os.path.getsize(out)
        total += size
        print(f"{out}: {len(cuts[t])} tensors, {size} bytes")
    print(f"total {total} bytes")


if __name__ == "__main__":
    main()
