"""An independent NumPy implementation of the Llama forward pass over a GGUF file.

It reads the EXPORTED weights (F16 matrices, F32 norms) back with the ``gguf``
package and computes in float64 by default. It shares no code with the JAX
training model, so agreement between the two checks the export as well as
the architecture conventions:

* RMSNorm   x / sqrt(mean(x^2) + eps) * w
* RoPE      adjacent pairs (x[2i], x[2i+1]) rotated by pos * base^(-2i/head_dim)
* attention causal softmax(q.k / sqrt(head_dim)); query head h uses kv head h // (n_head / n_head_kv)
* SwiGLU    down(silu(gate(x)) * up(x))
* a weight stored with numpy shape (out, in) is applied as y = W x
"""

from pathlib import Path

import gguf
import numpy as np


def read_field(reader: gguf.GGUFReader, key: str):
    """Value of a GGUF metadata key (scalar, string or array)."""
    return reader.fields[key].contents()


class LlamaReference:
    """Weights and hyperparameters of a GGUF ``llama`` model, with a NumPy forward pass."""

    def __init__(self, path: Path, dtype=np.float64):
        reader = gguf.GGUFReader(str(path))
        assert read_field(reader, "general.architecture") == "llama"
        self.dtype = dtype
        self.dim = int(read_field(reader, "llama.embedding_length"))
        self.n_layers = int(read_field(reader, "llama.block_count"))
        self.n_heads = int(read_field(reader, "llama.attention.head_count"))
        self.n_kv_heads = int(read_field(reader, "llama.attention.head_count_kv"))
        self.context_length = int(read_field(reader, "llama.context_length"))
        self.eps = float(read_field(reader, "llama.attention.layer_norm_rms_epsilon"))
        self.rope_base = float(read_field(reader, "llama.rope.freq_base"))
        self.head_dim = int(read_field(reader, "llama.rope.dimension_count"))
        assert self.head_dim * self.n_heads == self.dim
        self.weights = {t.name: np.array(t.data, dtype=dtype) for t in reader.tensors}
        self.vocab_size = self.weights["token_embd.weight"].shape[0]
        self.tokens = read_field(reader, "tokenizer.ggml.tokens")
        self.bos_id = int(read_field(reader, "tokenizer.ggml.bos_token_id"))

    def w(self, layer: int, name: str) -> np.ndarray:
        """Weight of block `layer` by its GGUF suffix, e.g. w(0, 'attn_q')."""
        return self.weights[f"blk.{layer}.{name}.weight"]

    def rms_norm(self, x: np.ndarray, weight: np.ndarray) -> np.ndarray:
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.eps) * weight

    def rope(self, x: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Rotate adjacent pairs of x [seq, heads, head_dim] at the given positions."""
        half = np.arange(self.head_dim // 2, dtype=self.dtype)
        inv_freq = self.rope_base ** (-2.0 * half / self.head_dim)
        angle = positions[:, None].astype(self.dtype) * inv_freq[None, :]
        cos, sin = np.cos(angle)[:, None, :], np.sin(angle)[:, None, :]
        even, odd = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2] = even * cos - odd * sin
        out[..., 1::2] = even * sin + odd * cos
        return out

    def new_cache(self) -> list:
        """Empty per-layer key/value cache."""
        return [{"k": np.zeros((0, self.n_kv_heads, self.head_dim), self.dtype),
                 "v": np.zeros((0, self.n_kv_heads, self.head_dim), self.dtype)} for _ in range(self.n_layers)]

    def attention(self, x: np.ndarray, layer: int, cache: dict, positions: np.ndarray) -> np.ndarray:
        """Causal grouped-query attention for new rows x [n, dim], appending to the cache."""
        n = x.shape[0]
        q = (x @ self.w(layer, "attn_q").T).reshape(n, self.n_heads, self.head_dim)
        k = (x @ self.w(layer, "attn_k").T).reshape(n, self.n_kv_heads, self.head_dim)
        v = (x @ self.w(layer, "attn_v").T).reshape(n, self.n_kv_heads, self.head_dim)
        q, k = self.rope(q, positions), self.rope(k, positions)
        cache["k"] = np.concatenate([cache["k"], k])
        cache["v"] = np.concatenate([cache["v"], v])
        keys, values = cache["k"], cache["v"]
        total = keys.shape[0]
        # Row i (absolute position positions[i]) may look at cached positions 0..positions[i].
        visible = np.arange(total)[None, :] <= positions[:, None]
        group = self.n_heads // self.n_kv_heads
        out = np.empty((n, self.n_heads, self.head_dim), self.dtype)
        for h in range(self.n_heads):
            kv = h // group
            scores = q[:, h, :] @ keys[:, kv, :].T / np.sqrt(self.head_dim)
            scores = np.where(visible, scores, -np.inf)
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            out[:, h, :] = (scores / scores.sum(axis=-1, keepdims=True)) @ values[:, kv, :]
        return out.reshape(n, self.dim) @ self.w(layer, "attn_output").T

    def feed_forward(self, x: np.ndarray, layer: int) -> np.ndarray:
        gate = x @ self.w(layer, "ffn_gate").T
        up = x @ self.w(layer, "ffn_up").T
        return (gate / (1.0 + np.exp(-gate)) * up) @ self.w(layer, "ffn_down").T

    def forward(self, token_ids, cache: list) -> np.ndarray:
        """Logits [n, vocab] for new tokens that follow the tokens already in `cache`."""
        start = cache[0]["k"].shape[0]
        positions = np.arange(start, start + len(token_ids))
        assert positions[-1] < self.context_length, "beyond the trained context length"
        h = self.weights["token_embd.weight"][np.asarray(token_ids)]
        for layer in range(self.n_layers):
            h = h + self.attention(self.rms_norm(h, self.w(layer, "attn_norm")), layer, cache[layer], positions)
            h = h + self.feed_forward(self.rms_norm(h, self.w(layer, "ffn_norm")), layer)
        h = self.rms_norm(h, self.weights["output_norm.weight"])
        return h @ self.weights["output.weight"].T

    def generate(self, prompt_ids: list, count: int, temperature: float = 0.0, seed: int = 0) -> list:
        """Greedy (temperature 0) or temperature sampling of `count` new ids."""
        rng = np.random.default_rng(seed)
        cache = self.new_cache()
        logits = self.forward(prompt_ids, cache)[-1]
        out = []
        for _ in range(count):
            if temperature == 0.0:
                next_id = int(np.argmax(logits))
            else:
                p = np.exp((logits - logits.max()) / temperature)
                next_id = int(rng.choice(len(p), p=p / p.sum()))
            out.append(next_id)
            if len(prompt_ids) + len(out) >= self.context_length:
                break
            logits = self.forward([next_id], cache)[-1]
        return out


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
