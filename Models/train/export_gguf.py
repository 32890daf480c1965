"""Export a trained checkpoint (work/<name>.npz) to a standard Llama GGUF file.

Metadata uses the ``llama`` architecture keys and a ``llama`` (SentencePiece)
vocabulary built from work/tokenizer.model. Weight matrices are stored as F16,
RMSNorm weight vectors as F32. A linear weight W of shape [out, in] (y = W x)
is written as a numpy array of shape (out, in), which gguf records as
ne = [in, out]. RoPE already rotates adjacent pairs, so q/k are not permuted.

  python export_gguf.py target ../shakespeare-target.gguf
"""

import argparse
import json
from pathlib import Path

import gguf
import numpy as np
import sentencepiece as spm

HERE = Path(__file__).parent

# Names of the per-layer weights in our checkpoint -> GGUF tensor name suffix.
LAYER_TENSORS = {
    "attention_norm": "attn_norm",
    "wq": "attn_q",
    "wk": "attn_k",
    "wv": "attn_v",
    "wo": "attn_output",
    "ffn_norm": "ffn_norm",
    "w_gate": "ffn_gate",
    "w_up": "ffn_up",
    "w_down": "ffn_down",
}

DESCRIPTIONS = {
    "target": "Swiftlet tiny Llama target model trained on Shakespeare (Models/train)",
    "draft": "Swiftlet tiny Llama draft model distilled from shakespeare-target (Models/train)",
}


def load_npz(path: Path) -> tuple[dict, dict]:
    """Return (arrays by name, config dict) from a training checkpoint."""
    data = np.load(path)
    config = json.loads(str(data["config"]))
    arrays = {k: data[k] for k in data.files if k != "config"}
    return arrays, config


def token_type(processor: spm.SentencePieceProcessor, token_id: int) -> int:
    """GGUF token type: 1 normal, 2 unknown, 3 control, 6 byte."""
    if processor.is_unknown(token_id):
        return gguf.TokenType.UNKNOWN
    if processor.is_control(token_id):
        return gguf.TokenType.CONTROL
    if processor.is_byte(token_id):
        return gguf.TokenType.BYTE
    return gguf.TokenType.NORMAL


def add_vocabulary(writer: gguf.GGUFWriter, tokenizer_path: Path) -> None:
    """Write the SentencePiece model as a GGUF ``llama`` vocabulary."""
    processor = spm.SentencePieceProcessor(model_file=str(tokenizer_path))
    ids = range(processor.vocab_size())
    writer.add_tokenizer_model("llama")
    writer.add_token_list([processor.id_to_piece(i) for i in ids])
    writer.add_token_scores([processor.get_score(i) for i in ids])
    writer.add_token_types([token_type(processor, i) for i in ids])
    writer.add_bos_token_id(processor.bos_id())
    writer.add_eos_token_id(processor.eos_id())
    writer.add_unk_token_id(processor.unk_id())
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    # SentencePiece settings the engine's tokenizer must mirror (Llama's defaults).
    writer.add_add_space_prefix(True)
    writer.add_remove_extra_whitespaces(False)


def add_hyperparameters(writer: gguf.GGUFWriter, config: dict, name: str) -> None:
    """Write general.* and llama.* metadata."""
    head_dim = config["dim"] // config["n_heads"]
    writer.add_name(f"shakespeare-{name}")
    writer.add_description(DESCRIPTIONS[name])
    writer.add_license("public-domain text; weights released with the Swiftlet repository")
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    writer.add_vocab_size(config["vocab_size"])
    writer.add_context_length(config["context_length"])
    writer.add_embedding_length(config["dim"])
    writer.add_block_count(config["n_layers"])
    writer.add_feed_forward_length(config["ffn_dim"])
    writer.add_head_count(config["n_heads"])
    writer.add_head_count_kv(config["n_kv_heads"])
    writer.add_rope_dimension_count(head_dim)
    writer.add_layer_norm_rms_eps(config["norm_eps"])
    writer.add_rope_freq_base(config["rope_base"])


def gguf_tensors(arrays: dict, n_layers: int) -> list[tuple[str, np.ndarray]]:
    """(GGUF name, array) pairs: matrices as float16, norm vectors as float32."""
    def matrix(a):
        return np.ascontiguousarray(a, dtype=np.float16)

    def vector(a):
        return np.ascontiguousarray(a, dtype=np.float32)

    tensors = [("token_embd.weight", matrix(arrays["tok_embeddings"]))]
    for layer in range(n_layers):
        for ours, theirs in LAYER_TENSORS.items():
            weight = arrays[f"layers.{ours}"][layer]
            tensors.append((f"blk.{layer}.{theirs}.weight", vector(weight) if weight.ndim == 1 else matrix(weight)))
    tensors.append(("output_norm.weight", vector(arrays["norm"])))
    tensors.append(("output.weight", matrix(arrays["output"])))
    return tensors


def export(name: str, checkpoint: Path, tokenizer: Path, out_path: Path) -> None:
    """Write one GGUF file."""
    arrays, config = load_npz(checkpoint)
    writer = gguf.GGUFWriter(str(out_path), arch="llama")
    add_hyperparameters(writer, config, name)
    add_vocabulary(writer, tokenizer)
    for tensor_name, array in gguf_tensors(arrays, config["n_layers"]):
        writer.add_tensor(tensor_name, array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    print(f"wrote {out_path} ({out_path.stat().st_size / 1e6:.2f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=["target", "draft"])
    parser.add_argument("output", type=Path)
    parser.add_argument("--work-dir", type=Path, default=HERE / "work")
    args = parser.parse_args()
    export(args.model, args.work_dir / f"{args.model}.npz", args.work_dir / "tokenizer.model", args.output)


if __name__ == "__main__":
    main()
