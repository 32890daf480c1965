"""A minimal Llama-architecture language model in JAX (used for training only).

Architecture, matching what GGUF ``llama`` readers (llama.cpp, llama2.c, Swiftlet) expect:
  token embedding -> N x [pre-norm attention block, pre-norm SwiGLU block] -> RMSNorm -> classifier

* RMSNorm: x / sqrt(mean(x^2) + eps) * weight, eps = 1e-5.
* Attention: causal, softmax(q.k / sqrt(head_dim)), grouped-query (query head h
  reads key/value head h // (n_heads / n_kv_heads)).
* RoPE rotates ADJACENT pairs (x[2i], x[2i+1]) by angle pos * base^(-2i/head_dim),
  so the exported q/k weights need no permutation.
* SwiGLU feed-forward: down(silu(gate(x)) * up(x)).

Every linear weight W is stored with shape [out, in] and applied as y = W x,
exactly the layout written to GGUF. The per-layer weights are stacked along a
leading layer axis so the blocks run in a ``lax.scan``.
"""

import dataclasses
import math

import jax
import jax.numpy as jnp


@dataclasses.dataclass(frozen=True)
class Config:
    """Hyperparameters that define the network shape."""
    vocab_size: int = 1024
    dim: int = 384
    n_layers: int = 10
    n_heads: int = 6
    n_kv_heads: int = 2
    ffn_dim: int = 1024
    context_length: int = 512
    norm_eps: float = 1e-5
    rope_base: float = 10000.0

    @property
    def head_dim(self) -> int:
        return self.dim // self.n_heads

    def parameter_count(self) -> int:
        """Total number of parameters (untied embedding and classifier)."""
        kv = self.n_kv_heads * self.head_dim
        per_layer = (2 * self.dim                       # two RMSNorm weights
                     + 2 * self.dim * self.dim          # wq, wo
                     + 2 * self.dim * kv                # wk, wv
                     + 3 * self.dim * self.ffn_dim)     # gate, up, down
        return 2 * self.vocab_size * self.dim + self.dim + self.n_layers * per_layer

    def forward_flops_per_token(self, context: int) -> int:
        """Multiply-adds x2 for one token attending to `context` positions."""
        kv = self.n_kv_heads * self.head_dim
        matmul = self.n_layers * (2 * self.dim * self.dim + 2 * self.dim * kv + 3 * self.dim * self.ffn_dim)
        matmul += self.vocab_size * self.dim
        attention = self.n_layers * 2 * context * self.dim
        return 2 * (matmul + attention)


def init_params(config: Config, key: jax.Array) -> dict:
    """Random initialisation: N(0, 0.02), residual projections scaled by 1/sqrt(2 n_layers)."""
    c = config
    kv = c.n_kv_heads * c.head_dim
    std = 0.02
    resid_std = std / math.sqrt(2 * c.n_layers)
    keys = iter(jax.random.split(key, 16))

    def normal(shape, scale):
        return scale * jax.random.normal(next(keys), shape, dtype=jnp.float32)

    L = c.n_layers
    return {
        "tok_embeddings": normal((c.vocab_size, c.dim), std),
        "layers": {
            "attention_norm": jnp.ones((L, c.dim), jnp.float32),
            "wq": normal((L, c.dim, c.dim), std),
            "wk": normal((L, kv, c.dim), std),
            "wv": normal((L, kv, c.dim), std),
            "wo": normal((L, c.dim, c.dim), resid_std),
            "ffn_norm": jnp.ones((L, c.dim), jnp.float32),
            "w_gate": normal((L, c.ffn_dim, c.dim), std),
            "w_up": normal((L, c.ffn_dim, c.dim), std),
            "w_down": normal((L, c.dim, c.ffn_dim), resid_std),
        },
        "norm": jnp.ones((c.dim,), jnp.float32),
        "output": normal((c.vocab_size, c.dim), std),
    }


def rms_norm(x: jax.Array, weight: jax.Array, eps: float) -> jax.Array:
    """Root-mean-square normalisation over the last axis."""
    return x * jax.lax.rsqrt(jnp.mean(x * x, axis=-1, keepdims=True) + eps) * weight


def linear(x: jax.Array, w: jax.Array) -> jax.Array:
    """y = W x for a weight stored as [out, in]."""
    return jnp.einsum("...i,oi->...o", x, w)


def rope_tables(config: Config, length: int) -> tuple[jax.Array, jax.Array]:
    """cos/sin of angle pos * base^(-2i/head_dim), shape [length, head_dim/2]."""
    i = jnp.arange(config.head_dim // 2, dtype=jnp.float32)
    inv_freq = config.rope_base ** (-2.0 * i / config.head_dim)
    angles = jnp.arange(length, dtype=jnp.float32)[:, None] * inv_freq[None, :]
    return jnp.cos(angles), jnp.sin(angles)


def apply_rope(x: jax.Array, cos: jax.Array, sin: jax.Array) -> jax.Array:
    """Rotate adjacent pairs (x[2i], x[2i+1]); x has shape [batch, seq, heads, head_dim]."""
    pairs = x.reshape(*x.shape[:-1], -1, 2)
    x0, x1 = pairs[..., 0], pairs[..., 1]
    c, s = cos[None, :, None, :], sin[None, :, None, :]
    rotated = jnp.stack([x0 * c - x1 * s, x0 * s + x1 * c], axis=-1)
    return rotated.reshape(x.shape)


def attention(x: jax.Array, layer: dict, config: Config, cos: jax.Array, sin: jax.Array) -> jax.Array:
    """Causal grouped-query self-attention on [batch, seq, dim]."""
    c = config
    b, t, _ = x.shape
    q = linear(x, layer["wq"]).reshape(b, t, c.n_heads, c.head_dim)
    k = linear(x, layer["wk"]).reshape(b, t, c.n_kv_heads, c.head_dim)
    v = linear(x, layer["wv"]).reshape(b, t, c.n_kv_heads, c.head_dim)
    q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
    group = c.n_heads // c.n_kv_heads
    q = q.reshape(b, t, c.n_kv_heads, group, c.head_dim)
    scores = jnp.einsum("bqkgd,bskd->bkgqs", q, k) / math.sqrt(c.head_dim)
    causal = jnp.tril(jnp.ones((t, t), dtype=bool))
    scores = jnp.where(causal, scores, -jnp.inf)
    weights = jax.nn.softmax(scores, axis=-1)
    out = jnp.einsum("bkgqs,bskd->bqkgd", weights, v).reshape(b, t, c.dim)
    return linear(out, layer["wo"])


def feed_forward(x: jax.Array, layer: dict) -> jax.Array:
    """SwiGLU: down(silu(gate(x)) * up(x))."""
    return linear(jax.nn.silu(linear(x, layer["w_gate"])) * linear(x, layer["w_up"]), layer["w_down"])


def forward(params: dict, tokens: jax.Array, config: Config) -> jax.Array:
    """Logits [batch, seq, vocab] for integer tokens [batch, seq]."""
    cos, sin = rope_tables(config, tokens.shape[1])
    h = params["tok_embeddings"][tokens]

    def block(h, layer):
        h = h + attention(rms_norm(h, layer["attention_norm"], config.norm_eps), layer, config, cos, sin)
        h = h + feed_forward(rms_norm(h, layer["ffn_norm"], config.norm_eps), layer)
        return h, None

    h, _ = jax.lax.scan(block, h, params["layers"])
    h = rms_norm(h, params["norm"], config.norm_eps)
    return linear(h, params["output"])
