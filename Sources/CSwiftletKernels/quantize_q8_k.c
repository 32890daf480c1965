// quantize_q8_k.c: activation rows for the super-block weight formats (Q2_K..Q6_K, IQ4_XS),
// in the 256-element 8-bit layout of kquant_blocks.h. One scalar body for the baseline and
// AVX2 paths (the compiler vectorises it), an explicit AVX-512 one (one group of 16 elements
// per register; the scalar body autovectorised to ~2 GB/s of floats, a tenth of a prefill
// step). Every path writes the same bytes: max, min, the rounding and the truncation are
// the same operations on each element.
#include "kquant_blocks.h"

#define Q8K_AMAX_MIN 1e-30f
#define Q8K_ROUND_MAGIC 12582912.0f  // 1.5 * 2^23: (v + M) - M rounds |v| < 2^22 to nearest even

int64_t swk_q8k_activation_row_bytes(int64_t k) { return k / KQ_BLOCK * KQ_ACT_BYTES; }

#define SWK_INLINE static inline __attribute__((always_inline))

/// The block's per-lane negated group sums nA, scaled sums ad, its scale da and the zero tail.
SWK_INLINE void q8k_write_sums(uint8_t *blk, const int32_t sums[16], float d) {
    for (int L = 0; L < 16; L++) {
        const int32_t na = -sums[KQ_LANE_GROUP(L)];
        const float ad = d * (float)sums[KQ_LANE_GROUP(L)];
        __builtin_memcpy(blk + KQ_ACT_NSUM + 4 * L, &na, 4);
        __builtin_memcpy(blk + KQ_ACT_AD + 4 * L, &ad, 4);
    }
    __builtin_memcpy(blk + KQ_ACT_DA, &d, 4);
    __builtin_memset(blk + KQ_ACT_DA + 4, 0, KQ_ACT_BYTES - KQ_ACT_DA - 4);
}

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
            q8k_write_sums(blk, sums, d);
        }
    }
}

void swk_quantize_q8k_baseline(const float *x, void *out, int64_t m, int64_t k) { q8k_quantize(x, out, m, k); }

#if SWK_X86
SWK_TARGET_AVX2 void swk_quantize_q8k_avx2(const float *x, void *out, int64_t m, int64_t k) { q8k_quantize(x, out, m, k); }
SWK_TARGET_AVX512 void swk_quantize_q8k_avx512(const float *x, void *out, int64_t m, int64_t k) {
    const int64_t nb = k / KQ_BLOCK, rb = nb * KQ_ACT_BYTES;
    const __m512 lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f), magic = _mm512_set1_ps(Q8K_ROUND_MAGIC);
    for (int64_t i = 0; i < m; i++) {
        for (int64_t b = 0; b < nb; b++) {
            const float *xb = x + i * k + b * KQ_BLOCK;
            uint8_t *blk = (uint8_t *)out + i * rb + b * KQ_ACT_BYTES;
            __m512 v[16];
            __m512 mx = _mm512_setzero_ps();
            for (int g = 0; g < 16; g++) {
                v[g] = _mm512_loadu_ps(xb + 16 * g);
                mx = _mm512_max_ps(_mm512_abs_ps(v[g]), mx);  // |v| > mx ? |v| : mx: NaN never wins
            }
            const float amax = _mm512_reduce_max_ps(mx);
            float d = 0.0f, id = 0.0f;
            if (amax > Q8K_AMAX_MIN) {
                d = amax / 127.0f;
                id = 127.0f / amax;
            }
            const __m512 vid = _mm512_set1_ps(id);
            int32_t sums[16];
            for (int g = 0; g < 16; g++) {
                __m512 t = _mm512_mul_ps(v[g], vid);
                t = _mm512_max_ps(t, lo);  // t > -127 ? t : -127 (NaN -> -127)
                t = _mm512_min_ps(t, hi);  // t < 127 ? t : 127
                t = _mm512_sub_ps(_mm512_add_ps(t, magic), magic);
                const __m512i qi = _mm512_cvttps_epi32(t);
                sums[g] = _mm512_reduce_add_epi32(qi);
                uint32_t dw[4];
                _mm_storeu_si128((__m128i *)dw, _mm512_cvtepi32_epi8(qi));
                // Elements 16g + 4x + (0..3): dword x of the group, lane G^-1(g) of V_x.
                for (int x4 = 0; x4 < 4; x4++) __builtin_memcpy(blk + 64 * x4 + 4 * KQ_GROUP_LANE(g), &dw[x4], 4);
            }
            q8k_write_sums(blk, sums, d);
        }
    }
}
#endif
