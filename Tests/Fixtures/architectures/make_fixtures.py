"""Makes one random-weight GGUF per architecture, with the tensor names, shapes and metadata
llama.cpp's converter writes for it (small and odd sizes), and records llama.cpp's greedy
continuation and top-10 probabilities for each (record_llama_cpp.c against the peer build's
libllama). Swift's ArchitectureFixtureTests compare Swiftlet with these files.

    python3 -m venv .venv && .venv/bin/pip install -r requirements.txt
    .venv/bin/python make_fixtures.py [LLAMA_CPP_SOURCE LLAMA_CPP_BIN]
"""
import json
import os
import subprocess
import sys

import gguf
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = os.path.join(HERE, "..", "..", "..", "Benchmarks", "peers")
SOURCE = sys.argv[1] if len(sys.argv) > 1 else "/work/main/Benchmarks/peers/llama_cpp_python-0.3.36/vendor/llama.cpp"
BIN = sys.argv[2] if len(sys.argv) > 2 else "/work/main/Benchmarks/peers/llama.cpp-build/bin"
VOCAB = 301
STEPS = 32
# Sublayer outputs outweigh the embedding in the residual stream, so tied classifiers do not
# just repeat the last token.
OUT_SCALE = 4.0


def vocabulary(writer):
    """A SentencePiece-style vocabulary llama.cpp accepts: specials, the 256 byte tokens, pieces."""
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    tokens += [f"\u2581p{i}" for i in range(VOCAB - len(tokens))]
    types = [2, 3, 3] + [6] * 256 + [1] * (VOCAB - 259)
    writer.add_tokenizer_model("llama")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_scores([0.0] * 259 + [-float(i) for i in range(VOCAB - 259)])
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)


class Model:
    def __init__(self, name, arch, seed, matrix_type=np.float32):
        self.name, self.arch = name, arch
        self.rng = np.random.default_rng(seed)
        self.matrix_type = matrix_type
        self.writer = gguf.GGUFWriter(os.path.join(HERE, name + ".gguf"), arch)
        self.writer.add_name("random weights")  # (a name containing "phi3" makes llama.cpp expect Phi-3 tokens)

    def matrix(self, name, out, inputs, scale=1.0):
        w = self.rng.standard_normal((out, inputs)) * (scale / np.sqrt(inputs))
        self.writer.add_tensor(name, w.astype(self.matrix_type))

    def vector(self, name, count, mean=0.0, spread=0.1):
        self.writer.add_tensor(name, (mean + spread * self.rng.standard_normal(count)).astype(np.float32))

    def embedding(self, dim):
        self.writer.add_tensor("token_embd.weight", self.rng.standard_normal((VOCAB, dim)).astype(self.matrix_type))

    def finish(self):
        vocabulary(self.writer)
        self.writer.write_header_to_file()
        self.writer.write_kv_data_to_file()
        self.writer.write_tensors_to_file()
        self.writer.close()


def common_keys(m, dim, layers, heads, kv_heads, hidden, context, eps, base):
    w = m.writer
    w.add_context_length(context)
    w.add_embedding_length(dim)
    w.add_block_count(layers)
    w.add_feed_forward_length(hidden)
    w.add_head_count(heads)
    w.add_head_count_kv(kv_heads)
    w.add_layer_norm_rms_eps(eps)
    w.add_rope_freq_base(base)


def standard_layer(m, i, dim, q, kv, hidden, qkv_bias=False):
    p = f"blk.{i}."
    m.vector(p + "attn_norm.weight", dim, 1.0)
    m.matrix(p + "attn_q.weight", q, dim)
    m.matrix(p + "attn_k.weight", kv, dim)
    m.matrix(p + "attn_v.weight", kv, dim)
    if qkv_bias:
        m.vector(p + "attn_q.bias", q, 0.0, 0.5)
        m.vector(p + "attn_k.bias", kv, 0.0, 0.5)
        m.vector(p + "attn_v.bias", kv, 0.0, 0.5)
    m.matrix(p + "attn_output.weight", dim, q, OUT_SCALE)
    m.vector(p + "ffn_norm.weight", dim, 1.0)
    m.matrix(p + "ffn_gate.weight", hidden, dim)
    m.matrix(p + "ffn_up.weight", hidden, dim)
    m.matrix(p + "ffn_down.weight", dim, hidden, OUT_SCALE)


def llama3():
    """Llama 3.x shape: separate classifier, rope_freqs.weight, key_length > dim / heads, linear scaling."""
    dim, layers, heads, kv_heads, head, hidden = 40, 2, 4, 2, 12, 70
    m = Model("llama3", "llama", 1)
    common_keys(m, dim, layers, heads, kv_heads, hidden, 256, 1e-5, 500000.0)
    m.writer.add_key_length(head)
    m.writer.add_value_length(head)
    m.writer.add_rope_dimension_count(head)
    m.writer.add_vocab_size(VOCAB)
    m.writer.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
    m.writer.add_rope_scaling_factor(2.0)
    m.embedding(dim)
    m.writer.add_tensor("rope_freqs.weight", np.array([1, 1, 1.5, 4, 8, 8], dtype=np.float32))
    for i in range(layers):
        standard_layer(m, i, dim, heads * head, kv_heads * head, hidden)
    m.vector("output_norm.weight", dim, 1.0)
    m.matrix("output.weight", VOCAB, dim, 3.0)
    m.finish()


def llama_tied():
    """A SmolLM-like shape: tied classifier, grouped-query attention, odd widths."""
    dim, layers, heads, kv_heads, hidden = 36, 3, 6, 3, 50
    m = Model("llama-tied", "llama", 2)
    common_keys(m, dim, layers, heads, kv_heads, hidden, 256, 1e-5, 10000.0)
    m.writer.add_rope_dimension_count(dim // heads)
    m.writer.add_vocab_size(VOCAB)
    m.embedding(dim)
    for i in range(layers):
        standard_layer(m, i, dim, dim, kv_heads * dim // heads, hidden)
    m.vector("output_norm.weight", dim, 1.0)
    m.finish()


def qwen2():
    """Qwen2.5-0.5B-like: QKV biases, neox RoPE, tied classifier."""
    dim, layers, heads, kv_heads, hidden = 48, 2, 6, 2, 88
    m = Model("qwen2", "qwen2", 3)
    common_keys(m, dim, layers, heads, kv_heads, hidden, 256, 1e-6, 1000000.0)
    m.embedding(dim)
    for i in range(layers):
        standard_layer(m, i, dim, dim, kv_heads * dim // heads, hidden, qkv_bias=True)
    m.vector("output_norm.weight", dim, 1.0)
    m.finish()


def phi3():
    """Phi-4-mini-like: fused attn_qkv and gate/up, neox RoPE on 8 of 12 head dimensions."""
    dim, layers, heads, kv_heads, hidden = 48, 2, 4, 2, 60
    head = dim // heads
    m = Model("phi3", "phi3", 4)
    common_keys(m, dim, layers, heads, kv_heads, hidden, 256, 1e-5, 10000.0)
    m.writer.add_rope_dimension_count(8)
    m.writer.add_rope_scaling_orig_ctx_len(256)
    m.writer.add_sliding_window(2047)  # written by the converter, not applied by llama.cpp
    m.embedding(dim)
    for i in range(layers):
        p = f"blk.{i}."
        m.vector(p + "attn_norm.weight", dim, 1.0)
        m.matrix(p + "attn_qkv.weight", dim + 2 * kv_heads * head, dim)
        m.matrix(p + "attn_output.weight", dim, dim, OUT_SCALE)
        m.vector(p + "ffn_norm.weight", dim, 1.0)
        m.matrix(p + "ffn_up.weight", 2 * hidden, dim)
        m.matrix(p + "ffn_down.weight", dim, hidden, OUT_SCALE)
    m.vector("output_norm.weight", dim, 1.0)
    m.matrix("output.weight", VOCAB, dim, 3.0)
    m.finish()


def gemma3():
    """Gemma 3 text shape: head dimension 256, QK-norm, post norms (stored as 1 + w, as the
    converter writes them), GeGLU, a window of 5 on five layers in six with base 10000,
    one global layer with base 1e6 and linear scaling 8; F16 matrices to keep the file small."""
    dim, layers, heads, kv_heads, head, hidden = 24, 6, 2, 1, 256, 40
    m = Model("gemma3", "gemma3", 5, np.float16)
    common_keys(m, dim, layers, heads, kv_heads, hidden, 256, 1e-6, 1000000.0)
    m.writer.add_key_length(head)
    m.writer.add_value_length(head)
    m.writer.add_sliding_window(5)
    m.writer.add_rope_freq_base_swa(10000.0)
    m.writer.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
    m.writer.add_rope_scaling_factor(8.0)
    m.embedding(dim)
    for i in range(layers):
        p = f"blk.{i}."
        m.vector(p + "attn_norm.weight", dim, 1.0)
        m.matrix(p + "attn_q.weight", heads * head, dim)
        m.matrix(p + "attn_k.weight", kv_heads * head, dim)
        m.matrix(p + "attn_v.weight", kv_heads * head, dim)
        m.vector(p + "attn_q_norm.weight", head, 1.0)
        m.vector(p + "attn_k_norm.weight", head, 1.0)
        m.matrix(p + "attn_output.weight", dim, heads * head, OUT_SCALE)
        m.vector(p + "post_attention_norm.weight", dim, 1.0)
        m.vector(p + "ffn_norm.weight", dim, 1.0)
        m.matrix(p + "ffn_gate.weight", hidden, dim)
        m.matrix(p + "ffn_up.weight", hidden, dim)
        m.matrix(p + "ffn_down.weight", dim, hidden, OUT_SCALE)
        m.vector(p + "post_ffw_norm.weight", dim, 1.0)
    m.vector("output_norm.weight", dim, 1.0)
    m.finish()


def record(name, prompt, recorder):
    out = subprocess.run([recorder, os.path.join(HERE, name + ".gguf"), ",".join(map(str, prompt)), str(STEPS)],
                         check=True, capture_output=True, text=True).stdout
    result = json.loads(out)
    steps = result["steps"]
    expected = {
        "source": "llama.cpp (llama-cpp-python 0.3.36 sdist), record_llama_cpp.c",
        "prompt_ids": prompt,
        "greedy_ids": [s["token"] for s in steps],
        "top2_logprob_gaps": [s["gap"] for s in steps],
        "top_probabilities": [s["top"] for s in steps[:8]],
    }
    with open(os.path.join(HERE, name + ".json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


def main():
    recorder = os.path.join("/tmp", "record_llama_cpp")
    subprocess.run(["cc", "-O2", "-o", recorder, os.path.join(HERE, "record_llama_cpp.c"),
                    "-I" + os.path.join(SOURCE, "include"), "-I" + os.path.join(SOURCE, "ggml", "include"),
                    "-L" + BIN, "-lllama", "-Wl,-rpath," + BIN, "-lm"], check=True)
    rng = np.random.default_rng(42)
    for make in (llama3, llama_tied, qwen2, phi3, gemma3):
        make()
    for name in ("llama3", "llama-tied", "qwen2", "phi3", "gemma3"):
        prompt = [1] + [int(t) for t in rng.integers(3, VOCAB, size=11)]
        record(name, prompt, recorder)
        print(name, "recorded")


if __name__ == "__main__":
    main()
