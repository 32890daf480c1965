// quantize_q8_k.c: activation rows for the super-block weight formats (Q2_K..Q6_K, IQ4_XS),
// in the 256-element 8-bit layout of kquant_blocks.h. One body, compiled per path (the
// compiler vectorises it under each target); every path writes the same bytes.
#include "kquant_blocks.h"

#define Q8K_AMAX_MIN 1e-30f
#define Q8K_ROUND_MAGIC 12582912.0f  // 1.5 * 2^23: (v + M) - M rounds |v| < 2^22 to nearest even

int64_t swk_q8k_activation_row_bytes(int64_t k) { return k / KQ_BLOCK * KQ_ACT_BYTES; }

#define SWK_INLINE static inline __attribute__((always_inline))

/// m rows of k floats (k a multiple of 256) at x to `out` (m rows of k/256 blocks).
SWK_INLINE void q8k_quantize(const float *x, void *out, int64_t m, int64_t k) {
    const int64_t nb = k / KQ_BLOCK, rb = nb * KQ_ACT_BYTES;
    for (int64_t i = 0; i < m; i++) {
        for (int64_t b = 0; b < nb; b++) {
            const float *xb = x + i * k + b * KQ_BLOCK;
            uint8_t *blk = (uint8_t *)out + i * rb + b * KQ_ACT_BYTES;
            float amax = 0.0f;
            for (int e = 0; e < KQ_BLOCK; e++) {
                const float v = __builtin_fabsf(xb[e]);
                amax = v > amax ? v : amax;  // NaN never wins
            }
            float d = 0.0f, id = 0.0f;
            if (amax > Q8K_AMAX_MIN) {
                d = amax / 127.0f;
                id = 127.0f / amax;
            }
            int8_t q[KQ_BLOCK];  // element order
            for (int e = 0; e < KQ_BLOCK; e++) {
                float v = xb[e] * id;
                v = v > -127.0f ? v : -127.0f;  // NaN -> -127
                v = v < 127.0f ? v : 127.0f;
                const float r = (v + Q8K_ROUND_MAGIC) - Q8K_ROUND_MAGIC;
                q[e] = (int8_t)(int)r;
            }
            int32_t sums[16];
            for (int g = 0; g < 16; g++) {
                int32_t s = 0;
                for (int t = 0; t < 16; t++) s += q[16 * g + t];
                sums[g] = s;
            }
            for (int e = 0; e < KQ_BLOCK; e += 4) __builtin_memcpy(blk + KQ_ACT_OFF(e), q + e, 4);
            for (int L = 0; L < 16; L++) {
                const int32_t na = -sums[KQ_LANE_GROUP(L)];
                const float ad = d * (float)sums[KQ_LANE_GROUP(L)];
                __builtin_memcpy(blk + KQ_ACT_NSUM + 4 * L, &na, 4);
                __builtin_memcpy(blk + KQ_ACT_AD + 4 * L, &ad, 4);
            }
            __builtin_memcpy(blk + KQ_ACT_DA, &d, 4);
            __builtin_memset(blk + KQ_ACT_DA + 4, 0, KQ_ACT_BYTES - KQ_ACT_DA - 4);
        }
    }
}

void swk_quantize_q8k_baseline(const float *x, void *out, int64_t m, int64_t k) { q8k_quantize(x, out, m, k); }

#if SWK_X86
SWK_TARGET_AVX2 void swk_quantize_q8k_avx2(const float *x, void *out, int64_t m, int64_t k) { q8k_quantize(x, out, m, k); }
SWK_TARGET_AVX512 void swk_quantize_q8k_avx512(const float *x, void *out, int64_t m, int64_t k) { q8k_quantize(x, out, m, k); }
#endif
