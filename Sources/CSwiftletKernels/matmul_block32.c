// matmul_block32.c: the 32-element block formats beyond Q8_0 / Q4_0 (Q4_1, Q5_0, Q5_1,
// IQ4_NL): row dequantizers and matmul micro-kernels against the shared 8-bit activation
// rows of matmul_q8.c (whose top describes the group layout, the lane order and the
// correction c[l] = -128 * (sum of lane l's q bytes)).
//
// ---------------------------------------------------------------- weight blocks (ggml) --
// A weight row of k elements is nb = k/32 blocks stored back to back; halves are IEEE
// binary16, everything little-endian at any alignment; t < 16:
//   Q4_1,   B = 20: { half d; half m; uint8 qs[16] }
//           w[t] = d * (qs[t] & 15) + m,            w[t+16] = d * (qs[t] >> 4) + m
//   Q5_0,   B = 22: { half d; uint32 qh; uint8 qs[16] }
//           h(e) = (qh >> e) & 1 for element e
//           w[t] = d * ((qs[t] & 15 | h(t) << 4) - 16),  w[t+16] = d * ((qs[t] >> 4 | h(t+16) << 4) - 16)
//   Q5_1,   B = 24: { half d; half m; uint32 qh; uint8 qs[16] }
//           w[t] = d * (qs[t] & 15 | h(t) << 4) + m,    w[t+16] = d * (qs[t] >> 4 | h(t+16) << 4) + m
//   IQ4_NL, B = 18: { half d; uint8 qs[16] }
//           w[t] = d * K[qs[t] & 15],  w[t+16] = d * K[qs[t] >> 4] with the non-linear grid
//           K = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}
// The dequantizers compute d * level first, then + m, each rounded to float (no fused
// multiply-add), as ggml's reference dequantizers and gguf-py do.
//
// ------------------------------------------------------------------------ the product --
// Every format's block is a 32-vector of integer levels L (Q5_0: level - 16 and IQ4_NL: K[.]
// are signed; Q4_1 and Q5_1 keep the unsigned level) with a scale d and, for Q4_1/Q5_1, a
// min m. Against an activation block (scale da, int8 q):
//   sum_t w[t] x[t] ~= d*da * S + m*da * Q,   S = sum_t L[t] q[t],   Q = sum_t q[t]
// S and Q are exact integers; Q comes from the activation row's correction terms
// (Q = -(c[l0] + c[l1]) / 128 over the block's two lanes), so these formats share the
// Q8_0/Q4_0 activation rows (no second activation format in a step). Float order, fixed per
// path whatever m or the j range (batch invariance):
//   baseline: acc = 0; per block: acc = acc + (float)S * (d*da); for Q4_1/Q5_1 then
//             acc = acc + (float)Q * (m*da).
//   avx2:     8 lanes per half group as in matmul_q8.c: acc = fma((float)I, d*da, acc) and
//             for Q4_1/Q5_1 acc = fma((float)c, (m * -1/128) * da, acc); the same final tree.
//   avx512:   16 lanes per group: acc = fma((float)I, d*da, acc), then for Q4_1/Q5_1
//             acc = fma((float)c, (m * -1/128) * da, acc); the same final tree.
// I is the exact per-lane partial of S: signed formats feed VNNI L + 128 and start from c
// (as Q8_0 does); unsigned formats feed L itself and start from 0.
//
// Loop structure and buffers are those of matmul_q8.c (weight rows in blocks of about 16 KB,
// chunks of 8-10 (AVX-512, swk_chunk_rows) or 4 (AVX2) activation rows, one weight row at a
// time, so m <= 10 streams each weight row once). `scratch` and `from_memory` are unused.
#include "kernels_internal.h"

#define B32_INLINE static inline __attribute__((always_inline))
#define B32_GROUP_BYTES 384
#define B32_CORR_OFF 256
#define B32_SCALE_OFF 320
#define B32_U16(p) ((uint16_t)((p)[0] | ((p)[1] << 8)))
#define B32_U32(p) ((uint32_t)(p)[0] | ((uint32_t)(p)[1] << 8) | ((uint32_t)(p)[2] << 16) | ((uint32_t)(p)[3] << 24))
// Byte offset in an activation group of dword d (0..7) of block bl (0..7); lane owner block.
#define B32_DWORD_OFF(bl, d) (64 * ((d) & 3) + 4 * (4 * (((d) >> 2) | (((bl) & 1) << 1)) + ((bl) >> 1)))
#define B32_LANE_BLOCK(l) (2 * ((l) & 3) + ((l) >> 3))

/// The formats of this file (compile-time constants after inlining).
enum { B32_Q4_1 = 0, B32_Q5_0 = 1, B32_Q5_1 = 2, B32_IQ4_NL = 3 };

// Per-format layout: block bytes, offset of qs, offset of qh (0: none), whether a min m
// (half at offset 2) is present, and the bias that turns a stored level into L + 128 for the
// signed formats (-1: unsigned format, L fed as is).
#define B32_BYTES(f) ((f) == B32_Q4_1 ? 20 : (f) == B32_Q5_0 ? 22 : (f) == B32_Q5_1 ? 24 : 18)
#define B32_QS(f) ((f) == B32_Q4_1 ? 4 : (f) == B32_Q5_0 ? 6 : (f) == B32_Q5_1 ? 8 : 2)
#define B32_QH(f) ((f) == B32_Q5_0 ? 2 : (f) == B32_Q5_1 ? 4 : 0)
#define B32_HAS_MIN(f) ((f) == B32_Q4_1 || (f) == B32_Q5_1)

static const int8_t b32_iq4nl_grid[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

/// The 32 levels L of one block in element order (signed or unsigned as the format says).
B32_INLINE void b32_levels(const uint8_t *blk, int f, int32_t L[32]) {
    const uint8_t *qs = blk + B32_QS(f);
    const uint32_t qh = B32_QH(f) ? B32_U32(blk + B32_QH(f)) : 0;
    for (int t = 0; t < 16; t++) {
        int lo = qs[t] & 15, hi = qs[t] >> 4;
        if (f == B32_IQ4_NL) {
            L[t] = b32_iq4nl_grid[lo];
            L[t + 16] = b32_iq4nl_grid[hi];
            continue;
        }
        lo |= (int)((qh >> t) & 1) << 4;
        hi |= (int)((qh >> (t + 16)) & 1) << 4;
        L[t] = f == B32_Q5_0 ? lo - 16 : lo;
        L[t + 16] = f == B32_Q5_0 ? hi - 16 : hi;
    }
}

static int b32_format(int type) {
    switch (type) {
    case SWK_TYPE_Q4_1: return B32_Q4_1;
    case SWK_TYPE_Q5_0: return B32_Q5_0;
    case SWK_TYPE_Q5_1: return B32_Q5_1;
    case SWK_TYPE_IQ4_NL: return B32_IQ4_NL;
    default: return -1;
    }
}

void swk_dequantize_block32_row(int type, const void *src, float *dst, int64_t k) {
    const int f = b32_format(type);
    const uint8_t *s = (const uint8_t *)src;
    for (int64_t b = 0; b < k / 32; b++) {
        const uint8_t *blk = s + b * B32_BYTES(f);
        const float d = swk_half_to_float(B32_U16(blk));
        const float m = B32_HAS_MIN(f) ? swk_half_to_float(B32_U16(blk + 2)) : 0.0f;
        int32_t L[32];
        b32_levels(blk, f, L);
        for (int t = 0; t < 32; t++) {
            float v = d * (float)L[t];
            if (B32_HAS_MIN(f)) v = v + m;  // a separate rounding, never fused
            dst[32 * b + t] = v;
        }
    }
}

// =============================================================================== baseline

B32_INLINE float b32_row_dot_baseline(const uint8_t *arow, const uint8_t *wrow, int64_t nb, int f) {
    float acc = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *grp = arow + (b >> 3) * B32_GROUP_BYTES;
        const int bl = (int)(b & 7);
        const uint8_t *wb = wrow + b * B32_BYTES(f);
        int8_t av[32];
        for (int d = 0; d < 8; d++) __builtin_memcpy(av + 4 * d, grp + B32_DWORD_OFF(bl, d), 4);
        int32_t L[32];
        b32_levels(wb, f, L);
        int32_t s = 0, q = 0;
        for (int t = 0; t < 32; t++) {
            s += (int32_t)av[t] * L[t];
            q += av[t];
        }
        float da;
        __builtin_memcpy(&da, grp + B32_SCALE_OFF + 4 * (4 * ((bl & 1) << 1) + (bl >> 1)), 4);
        const float sc = swk_half_to_float(B32_U16(wb)) * da;
        const float t = (float)s * sc;
        acc = acc + t;
        if (B32_HAS_MIN(f)) {
            const float mc = swk_half_to_float(B32_U16(wb + 2)) * da;
            const float u = (float)q * mc;
            acc = acc + u;
        }
    }
    return acc;
}

B32_INLINE void b32_matmul_baseline(SWK_MATMUL_PARAMS, int f) {
    (void)scratch;
    (void)scratch_bytes;
    (void)from_memory;  // j outer, i inner: each weight row is read once and reused from L1
    const int64_t nb = k / 32, arb = swk_q8_activation_row_bytes(k), wrb = nb * B32_BYTES(f);
    const uint8_t *au = (const uint8_t *)a, *wu = (const uint8_t *)w;
    for (int64_t j = j0; j < j1; j++)
        for (int64_t i = 0; i < m; i++) y[i * ldy + j] = b32_row_dot_baseline(au + i * arb, wu + j * wrb, nb, f);
}

void swk_matmul_q4_1_baseline(SWK_MATMUL_PARAMS) {
    b32_matmul_baseline(a, w, y, m, k, ldy, j0, j1, scratch, scratch_bytes, from_memory, B32_Q4_1);
}
void swk_matmul_q5_0_baseline(SWK_MATMUL_PARAMS) {
    b32_matmul_baseline(a, w, y, m, k, ldy, j0, j1, scratch, scratch_bytes, from_memory, B32_Q5_0);
}
void swk_matmul_q5_1_baseline(SWK_MATMUL_PARAMS) {
    b32_matmul_baseline(a, w, y, m, k, ldy, j0, j1, scratch, scratch_bytes, from_memory, B32_Q5_1);
}
void swk_matmul_iq4_nl_baseline(SWK_MATMUL_PARAMS) {
    b32_matmul_baseline(a, w, y, m, k, ldy, j0, j1, scratch, scratch_bytes, from_memory, B32_IQ4_NL);
}

#if SWK_X86

// ================================================================================== AVX2

SWK_TARGET_AVX2 B32_INLINE float b32_hsum8_avx2(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// The 32 levels of one block as bytes [elements 0..15 | 16..31]: signed L for Q5_0 and
/// IQ4_NL, unsigned L for Q4_1 and Q5_1.
SWK_TARGET_AVX2 B32_INLINE __m256i b32_block_avx2(const uint8_t *blk, int f) {
    const __m128i v = _mm_loadu_si128((const __m128i *)(blk + B32_QS(f)));
    const __m128i nib = _mm_set1_epi8(15);
    __m256i u = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), nib), _mm_and_si128(v, nib));
    if (f == B32_IQ4_NL) {
        const __m128i grid = _mm_loadu_si128((const __m128i *)b32_iq4nl_grid);
        return _mm256_shuffle_epi8(_mm256_set_m128i(grid, grid), u);
    }
    if (B32_QH(f)) {  // bit e of qh -> 0x10 in byte e
        const __m256i bits = _mm256_set1_epi64x(0x8040201008040201LL);
        const __m256i spread = _mm256_setr_epi64x(0, 0x0101010101010101LL, 0x0202020202020202LL, 0x0303030303030303LL);
        __m256i h = _mm256_shuffle_epi8(_mm256_set1_epi32((int)B32_U32(blk + B32_QH(f))), spread);
        h = _mm256_cmpeq_epi8(_mm256_and_si256(h, bits), bits);
        u = _mm256_or_si256(u, _mm256_and_si256(h, _mm256_set1_epi8(0x10)));
    }
    if (f == B32_Q5_0) u = _mm256_sub_epi8(u, _mm256_set1_epi8(16));
    return u;
}

/// Half h of group g of one weight row in the activation lane order (see matmul_q8.c):
/// W[x] (x = 0..3), the 8-lane scales d and (Q4_1/Q5_1) mins m * -1/128. Missing blocks are 0.
SWK_TARGET_AVX2 B32_INLINE void b32_half_avx2(const uint8_t *row, int64_t g, int h, int nbg, int f, __m256i W[4],
                                              __m256 *dw, __m256 *mw) {
    __m256i b[4];
    float s[4], mn[4];
    for (int pos = 0; pos < 4; pos++) {
        const int bl = 2 * pos + h;
        if (bl < nbg) {
            const uint8_t *blk = row + (g * 8 + bl) * B32_BYTES(f);
            b[pos] = b32_block_avx2(blk, f);
            s[pos] = _cvtsh_ss(B32_U16(blk));
            mn[pos] = B32_HAS_MIN(f) ? _cvtsh_ss(B32_U16(blk + 2)) * (-1.0f / 128.0f) : 0.0f;
        } else {
            b[pos] = _mm256_setzero_si256();
            s[pos] = 0.0f;
            mn[pos] = 0.0f;
        }
    }
    __m256i t0 = _mm256_unpacklo_epi32(b[0], b[1]), t1 = _mm256_unpackhi_epi32(b[0], b[1]);
    __m256i t2 = _mm256_unpacklo_epi32(b[2], b[3]), t3 = _mm256_unpackhi_epi32(b[2], b[3]);
    W[0] = _mm256_unpacklo_epi64(t0, t2);
    W[1] = _mm256_unpackhi_epi64(t0, t2);
    W[2] = _mm256_unpacklo_epi64(t1, t3);
    W[3] = _mm256_unpackhi_epi64(t1, t3);
    *dw = _mm256_setr_ps(s[0], s[1], s[2], s[3], s[0], s[1], s[2], s[3]);
    *mw = _mm256_setr_ps(mn[0], mn[1], mn[2], mn[3], mn[0], mn[1], mn[2], mn[3]);
}

/// y[i][0] for i < mr (mr <= 4): one weight row against mr activation rows.
SWK_TARGET_AVX2 B32_INLINE void b32_rows_avx2(const uint8_t *a, int64_t arb, const uint8_t *w, float *y, int64_t ldy,
                                              int64_t nb, int mr, int f) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[4];
    for (int i = 0; i < mr; i++) acc[i] = _mm256_setzero_ps();
    for (int64_t g = 0; g * 8 < nb; g++) {
        const int nbg = nb - g * 8 < 8 ? (int)(nb - g * 8) : 8;
        for (int h = 0; h < 2; h++) {
            __m256i W[4], A[4];
            __m256 dw, mw;
            b32_half_avx2(w, g, h, nbg, f, W, &dw, &mw);
            if (!B32_HAS_MIN(f))
                for (int x = 0; x < 4; x++) A[x] = _mm256_abs_epi8(W[x]);
            for (int i = 0; i < mr; i++) {
                const uint8_t *grp = a + i * arb + g * B32_GROUP_BYTES;
                __m256i I = _mm256_setzero_si256();
                for (int x = 0; x < 4; x++) {
                    __m256i q = _mm256_loadu_si256((const __m256i *)(grp + 64 * x + 32 * h));
                    // unsigned levels (<= 31) times q, or |L| * (q * sign(L)): pairs fit int16
                    __m256i p = B32_HAS_MIN(f) ? _mm256_maddubs_epi16(W[x], q)
                                               : _mm256_maddubs_epi16(A[x], _mm256_sign_epi8(q, W[x]));
                    I = _mm256_add_epi32(I, _mm256_madd_epi16(p, ones));
                }
                const __m256 da = _mm256_loadu_ps((const float *)(grp + B32_SCALE_OFF + 32 * h));
                acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(I), _mm256_mul_ps(dw, da), acc[i]);
                if (B32_HAS_MIN(f)) {
                    const __m256i c = _mm256_loadu_si256((const __m256i *)(grp + B32_CORR_OFF + 32 * h));
                    acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(c), _mm256_mul_ps(mw, da), acc[i]);
                }
            }
        }
    }
    for (int i = 0; i < mr; i++) y[i * ldy] = b32_hsum8_avx2(acc[i]);
}

SWK_TARGET_AVX2 B32_INLINE void b32_matmul_avx2(SWK_MATMUL_PARAMS, int f) {
    (void)scratch;
    (void)scratch_bytes;
    (void)from_memory;
    const int64_t nb = k / 32, arb = swk_q8_activation_row_bytes(k), wrb = nb * B32_BYTES(f);
    const uint8_t *au = (const uint8_t *)a, *wu = (const uint8_t *)w;
    int64_t jn = 16384 / wrb;
    jn = jn < 4 ? 4 : jn > 32 ? 32 : jn;
    for (int64_t jb = j0; jb < j1; jb += jn) {
        const int64_t je = j1 - jb < jn ? j1 : jb + jn;
        for (int64_t it = 0; it < m; it += 4) {
            const uint8_t *ap = au + it * arb;
            for (int64_t j = jb; j < je; j++) {
                const uint8_t *wp = wu + j * wrb;
                if (it == 0) swk_prefetch_ahead(wp, wrb);  // the first chunk streams the rows
                float *yp = y + it * ldy + j;
                switch (m - it) {
                    case 1: b32_rows_avx2(ap, arb, wp, yp, ldy, nb, 1, f); break;
                    case 2: b32_rows_avx2(ap, arb, wp, yp, ldy, nb, 2, f); break;
                    case 3: b32_rows_avx2(ap, arb, wp, yp, ldy, nb, 3, f); break;
                    default: b32_rows_avx2(ap, arb, wp, yp, ldy, nb, 4, f); break;
                }
            }
        }
    }
}

SWK_TARGET_AVX2 void swk_matmul_q4_1_avx2(SWK_MATMUL_PARAMS) {
    b32_matmul_avx2(a, w, y, m, k, ldy, j0, j1, scratch, scratch_bytes, from_memory, B32_Q4_1);
}
SWK_TARGET_AVX2 void swk_matmul_q5_0_avx2(SWK_MATMUL_PARAMS) {
    b32_matmul_avx2(a, w, y, m, k, ldy, j0, j1, scratch, scratch_bytes, from_memory, B32_Q5_0);
}
SWK_TARGET_AVX2 void swk_matmul_q5_1_avx2(SWK_MATMUL_PARAMS) {
    b32_matmul_avx2(a, w, y, m, k, ldy, j0, j1, scratch, scratch_bytes, from_memory, B32_Q5_1);
}
SWK_TARGET_AVX2 void swk_matmul_iq4_nl_avx2(SWK_MATMUL_PARAMS) {
    b32_matmul_avx2(a, w, y, m, k, ldy, j0, j1, scratch, scratch_bytes, from_memory, B32_IQ4_NL);
}

// ================================================================================ AVX-512

SWK_TARGET_AVX512 B32_INLINE float b32_hsum16_avx512(__m512 v) {
    __m256 s8 = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// Blocks bl, bl+1 (at p) as [bl elements 0..31 | bl+1 elements 0..31], each byte the VNNI
/// operand: L + 128 for Q5_0 and IQ4_NL, L for Q4_1 and Q5_1. `two` = 0: block bl only
/// (the caller masks the upper half).
SWK_TARGET_AVX512 B32_INLINE __m512i b32_pair_avx512(const uint8_t *p, int f, int two) {
    const int bb = B32_BYTES(f);
    __m128i q0 = _mm_loadu_si128((const __m128i *)(p + B32_QS(f)));
    __m128i q1 = two ? _mm_loadu_si128((const __m128i *)(p + bb + B32_QS(f))) : _mm_setzero_si128();
    __m512i z = _mm512_castsi256_si512(_mm256_inserti128_si256(_mm256_castsi128_si256(q0), q1, 1));
    z = _mm512_shuffle_i64x2(z, z, 0x50);  // 128-bit lanes: qs0, qs0, qs1, qs1
    const __m512i shifts = _mm512_set_epi64(0x0004000400040004, 0x0004000400040004, 0, 0,
                                            0x0004000400040004, 0x0004000400040004, 0, 0);
    z = _mm512_and_si512(_mm512_srlv_epi16(z, shifts), _mm512_set1_epi8(15));  // element order
    if (f == B32_IQ4_NL) {  // grid + 128, looked up in every 128-bit lane
        const __m512i grid = _mm512_broadcast_i32x4(_mm_setr_epi8(1, 24, 45, 63, 79, 93, 106, 118, (char)129,
                                                                  (char)141, (char)153, (char)166, (char)181,
                                                                  (char)197, (char)217, (char)241));
        return _mm512_shuffle_epi8(grid, z);
    }
    if (B32_QH(f)) {
        const uint64_t h0 = B32_U32(p + B32_QH(f));
        const uint64_t h1 = two ? B32_U32(p + bb + B32_QH(f)) : 0;
        z = _mm512_or_si512(z, _mm512_maskz_mov_epi8((__mmask64)(h0 | (h1 << 32)), _mm512_set1_epi8(0x10)));
    }
    if (f == B32_Q5_0) z = _mm512_add_epi8(z, _mm512_set1_epi8(112));  // (L + 16) + 112 = L + 128
    return z;
}

/// Group g of one weight row in the activation lane order: U[x] (x = 0..3), the 16-lane
/// scales and (Q4_1/Q5_1) mins * -1/128. Missing blocks are zero.
SWK_TARGET_AVX512 B32_INLINE void b32_group_avx512(const uint8_t *row, int64_t g, int nbg, int f, __m512i U[4],
                                                   __m512 *dw, __m512 *mw) {
    const int bb = B32_BYTES(f);
    const uint8_t *p = row + g * 8 * bb;
    __m512i v[4];
    uint64_t he = 0, ho = 0, me = 0, mo = 0;  // halves in lane order: blocks 0, 2, 4, 6 | 1, 3, 5, 7
    for (int q = 0; q < 4; q++) {
        const int bl = 2 * q;
        v[q] = bl + 1 < nbg ? b32_pair_avx512(p + bl * bb, f, 1)
               : bl < nbg   ? b32_pair_avx512(p + bl * bb, f, 0)
                            : _mm512_setzero_si512();
        if (bl < nbg) {
            he |= (uint64_t)B32_U16(p + bl * bb) << (16 * q);
            if (B32_HAS_MIN(f)) me |= (uint64_t)B32_U16(p + bl * bb + 2) << (16 * q);
        }
        if (bl + 1 < nbg) {
            ho |= (uint64_t)B32_U16(p + (bl + 1) * bb) << (16 * q);
            if (B32_HAS_MIN(f)) mo |= (uint64_t)B32_U16(p + (bl + 1) * bb + 2) << (16 * q);
        }
    }
    __m512i t0 = _mm512_unpacklo_epi32(v[0], v[1]), t1 = _mm512_unpackhi_epi32(v[0], v[1]);
    __m512i t2 = _mm512_unpacklo_epi32(v[2], v[3]), t3 = _mm512_unpackhi_epi32(v[2], v[3]);
    __m512i z0 = _mm512_unpacklo_epi64(t0, t2), z1 = _mm512_unpackhi_epi64(t0, t2);
    __m512i z2 = _mm512_unpacklo_epi64(t1, t3), z3 = _mm512_unpackhi_epi64(t1, t3);
    if (nbg == 8) {
        U[0] = z0;
        U[1] = z1;
        U[2] = z2;
        U[3] = z3;
    } else {  // padding lanes are 0 (the activations there are 0 too, and so is c)
        uint16_t lanes = 0;
        for (int l = 0; l < 16; l++)
            if (B32_LANE_BLOCK(l) < nbg) lanes |= (uint16_t)(1u << l);
        U[0] = _mm512_maskz_mov_epi32(lanes, z0);
        U[1] = _mm512_maskz_mov_epi32(lanes, z1);
        U[2] = _mm512_maskz_mov_epi32(lanes, z2);
        U[3] = _mm512_maskz_mov_epi32(lanes, z3);
    }
    __m512 z = _mm512_castps256_ps512(_mm256_cvtph_ps(_mm_set_epi64x((long long)ho, (long long)he)));
    *dw = _mm512_shuffle_f32x4(z, z, 0x50);  // [0..3, 0..3, 4..7, 4..7]
    if (B32_HAS_MIN(f)) {
        __m512 n = _mm512_castps256_ps512(_mm256_cvtph_ps(_mm_set_epi64x((long long)mo, (long long)me)));
        *mw = _mm512_mul_ps(_mm512_shuffle_f32x4(n, n, 0x50), _mm512_set1_ps(-1.0f / 128.0f));
    } else {
        *mw = _mm512_setzero_ps();
    }
}

/// y[i][0] for i < mr (mr <= SWK_CHUNK_MAX_ROWS): one weight row against mr activation rows.
SWK_TARGET_AVX512 B32_INLINE void b32_rows_avx512(const uint8_t *a, int64_t arb, const uint8_t *w, float *y,
                                                  int64_t ldy, int64_t nb, int mr, int f) {
    __m512 acc[SWK_CHUNK_MAX_ROWS];
    for (int i = 0; i < mr; i++) acc[i] = _mm512_setzero_ps();
    for (int64_t g = 0; g * 8 < nb; g++) {
        const int nbg = nb - g * 8 < 8 ? (int)(nb - g * 8) : 8;
        __m512i U[4];
        __m512 dw, mw;
        b32_group_avx512(w, g, nbg, f, U, &dw, &mw);
        for (int i = 0; i < mr; i++) {
            const uint8_t *grp = a + i * arb + g * B32_GROUP_BYTES;
            const __m512i c = _mm512_loadu_si512((const void *)(grp + B32_CORR_OFF));
            const __m512 da = _mm512_loadu_ps((const void *)(grp + B32_SCALE_OFF));
            __m512i I = B32_HAS_MIN(f) ? _mm512_setzero_si512() : c;
            for (int x = 0; x < 4; x++)
                I = _mm512_dpbusd_epi32(I, U[x], _mm512_loadu_si512((const void *)(grp + 64 * x)));
            acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(I), _mm512_mul_ps(dw, da), acc[i]);
            if (B32_HAS_MIN(f)) acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(c), _mm512_mul_ps(mw, da), acc[i]);
        }
    }
    for (int i = 0; i < mr; i++) y[i * ldy] = b32_hsum16_avx512(acc[i]);
}

SWK_TARGET_AVX512 B32_INLINE void b32_matmul_avx512(SWK_MATMUL_PARAMS, int f) {
    (void)scratch;
    (void)scratch_bytes;
    (void)from_memory;
    const int64_t nb = k / 32, arb = swk_q8_activation_row_bytes(k), wrb = nb * B32_BYTES(f);
    const uint8_t *au = (const uint8_t *)a, *wu = (const uint8_t *)w;
    int64_t jn = 16384 / wrb;
    jn = jn < 4 ? 4 : jn > 32 ? 32 : jn;
    for (int64_t jb = j0; jb < j1; jb += jn) {
        const int64_t je = j1 - jb < jn ? j1 : jb + jn;
        for (int64_t it = 0, mr; it < m; it += mr) {
            mr = swk_chunk_rows(m - it);
            const uint8_t *ap = au + it * arb;
            for (int64_t j = jb; j < je; j++) {
                const uint8_t *wp = wu + j * wrb;
                float *yp = y + it * ldy + j;
                if (it == 0) swk_prefetch_ahead(wp, wrb);  // the first chunk streams the rows
                switch (mr) {
                    case 1: b32_rows_avx512(ap, arb, wp, yp, ldy, nb, 1, f); break;
                    case 2: b32_rows_avx512(ap, arb, wp, yp, ldy, nb, 2, f); break;
                    case 3: b32_rows_avx512(ap, arb, wp, yp, ldy, nb, 3, f); break;
                    case 4: b32_rows_avx512(ap, arb, wp, yp, ldy, nb, 4, f); break;
                    case 5: b32_rows_avx512(ap, arb, wp, yp, ldy, nb, 5, f); break;
                    case 6: b32_rows_avx512(ap, arb, wp, yp, ldy, nb, 6, f); break;
                    case 7: b32_rows_avx512(ap, arb, wp, yp, ldy, nb, 7, f); break;
                    case 8: b32_rows_avx512(ap, arb, wp, yp, ldy, nb, 8, f); break;
                    case 9: b32_rows_avx512(ap, arb, wp, yp, ldy, nb, 9, f); break;
                    default: b32_rows_avx512(ap, arb, wp, yp, ldy, nb, 10, f); break;
                }
            }
        }
    }
}

SWK_TARGET_AVX512 void swk_matmul_q4_1_avx512(SWK_MATMUL_PARAMS) {
    b32_matmul_avx512(a, w, y, m, k, ldy, j0, j1, scratch, scratch_bytes, from_memory, B32_Q4_1);
}
SWK_TARGET_AVX512 void swk_matmul_q5_0_avx512(SWK_MATMUL_PARAMS) {
    b32_matmul_avx512(a, w, y, m, k, ldy, j0, j1, scratch, scratch_bytes, from_memory, B32_Q5_0);
}
SWK_TARGET_AVX512 void swk_matmul_q5_1_avx512(SWK_MATMUL_PARAMS) {
    b32_matmul_avx512(a, w, y, m, k, ldy, j0, j1, scratch, scratch_bytes, from_memory, B32_Q5_1);
}
SWK_TARGET_AVX512 void swk_matmul_iq4_nl_avx512(SWK_MATMUL_PARAMS) {
    b32_matmul_avx512(a, w, y, m, k, ldy, j0, j1, scratch, scratch_bytes, from_memory, B32_IQ4_NL);
}

#endif  // SWK_X86
