// matmul_q8.c: 8-bit activation quantization and the Q8_0 / Q4_0 matmul micro-kernels.
//
// ---------------------------------------------------------------- weight blocks (ggml) --
// A weight row of k elements is nb = k/32 blocks stored back to back (row j at w + j*nb*B):
//   Q8_0, B = 34: { uint16 d (IEEE half); int8 qs[32] }      w[t] = d * qs[t]
//   Q4_0, B = 18: { uint16 d (IEEE half); uint8 qs[16] }     w[t] = d * ((qs[t] & 15) - 8),
//                                                           w[t + 16] = d * ((qs[t] >> 4) - 8)
// read as little-endian bytes at any alignment.
//
// -------------------------------------------------------------- activation row format --
// Blocks of 32 are quantized to int8 with one float scale each:
//   amax = max over the block of |x| (NaN elements ignored; 0 if none)
//   amax > 1e-30 ? (d = amax / 127, id = 127 / amax) : (d = 0, id = 0)
//   v = x * id;  v = v > -127 ? v : -127;  v = v < 127 ? v : 127   (NaN -> -127)
//   q = v rounded to nearest, ties to even;   x ~= d * q
// Blocks are stored in groups of 8 (256 elements), the last group padded with q = 0, d = 0
// blocks. One row is G = ceil(k / 256) groups of 384 bytes (R(k) = 384 * G bytes, see
// swk_q8_activation_row_bytes); group g at row + 384 g:
//   bytes [0, 256)    int8 q, "lane-transposed": 4 vectors V_x (x = 0..3) of 64 bytes, each
//                     16 lanes of 4 bytes. Block bl (0..7) of the group, dword d (0..7,
//                     elements 4d..4d+3) sits in vector x = d & 3, lane
//                     l = 4 * ((d >> 2) | ((bl & 1) << 1)) + (bl >> 1), i.e. at byte
//                     64 x + 4 l (+ 0..3 for the element).
//   bytes [256, 320)  int32 c[16]: c[l] = -128 * (sum of the 16 q bytes of lane l over V_0..V_3)
//   bytes [320, 384)  float s[16]: s[l] = d of the block that owns lane l
// So lanes 0..3 and 4..7 hold blocks 0, 2, 4, 6 (dwords 0..3 and 4..7), lanes 8..11 and
// 12..15 blocks 1, 3, 5, 7. This is the order a 4 x 4 dword transpose (two unpack levels)
// of 4 consecutive ggml block pairs produces, so after 4 VNNI steps every int32 lane holds
// 16 products of one block and a single cvt + mul + fma serves 8 blocks. c cancels the
// +128 bias of the weights, which VNNI needs as its unsigned operand:
//   sum (w + 128) * q + c = sum w * q.
//
// ------------------------------------------------------------------------ the product --
// y[i][j] = sum over blocks b of S(i,j,b) * dw_j[b] * da_i[b], where the integer block dot S
// (or any split of it into lanes) is exact. Only the float accumulation order matters, and
// on each path it is one fixed sequence for every (i, j), whatever loop (streaming, tile,
// remainder) computes it and whatever m or the j range is (batch invariance):
//   baseline: float acc = 0; for b in order: sc = dw*da; t = (float)S_b * sc; acc = acc + t.
//   avx2:     8 float lanes; for each group, then each half h (0: blocks 0,2,4,6; 1: blocks
//             1,3,5,7; lane = 4 * dword half + position): acc = fma((float)I, dw*da, acc)
//             where I[lane] is the exact 16-product partial of that lane; then the fixed tree
//             (l + l+4), (l + l+2), (0 + 1).
//   avx512:   16 float lanes (the group layout above); for each group in order:
//             acc = fma((float)I, dw*da, acc), I[lane] exact as above; then the fixed tree
//             (l + l+8), (l + l+4), (l + l+2), (0 + 1).
// Padding blocks contribute fma(0, 0, acc) = acc on every path and in every loop alike.
//
// ---------------------------------------------------------------------- loop structure --
// Buffers: a = m rows of R(k) bytes (row i at a + i*R(k)); w = weight rows of nb*B bytes
// (row j at w + j*nb*B); y = m rows of ldy floats, only columns [j0, j1) written.
// The SIMD paths take the weight rows in blocks of about 16 KB and run each block against
// chunks of activation rows (8-10 on AVX-512, 4 on AVX2), one weight row at a time: the first
// chunk reads the block as one sequential stream (the hardware prefetchers follow it; each
// weight row comes from memory once, so m <= 10 reads every row once against all m rows),
// later chunks find it in L1/L2, and a chunk's activations stay in L1 across the block. A
// weight group (8 blocks) is unpacked and transposed once into registers and reused by the
// whole chunk. The kernels are load-port bound (6 x 64-byte activation loads per row and
// group); wider register tiles (2 or 4 weight rows) measured slower on Zen 4, and
// interleaving weight rows defeated the prefetchers, so `from_memory` does not change the
// loop order (nor, ever, the results). `scratch` is unused.
#include "kernels_internal.h"

#define SWK_INLINE static inline __attribute__((always_inline))
#define Q8_GROUP_BYTES 384
#define Q8_CORR_OFF 256
#define Q8_SCALE_OFF 320

int64_t swk_q8_activation_row_bytes(int64_t k) {
    return (k + 255) / 256 * Q8_GROUP_BYTES;
}

// The quantizer's "block is zero" threshold (keeps 127 / amax finite) and rounding constant.
#define Q8_AMAX_MIN 1e-30f
#define Q8_ROUND_MAGIC 12582912.0f  // 1.5 * 2^23: (v + M) - M rounds |v| < 2^22 to nearest even

// Shared helpers are macros, so no un-targeted function is called from a targeted one.
// Q8_U16: a little-endian uint16 at any alignment.
#define Q8_U16(p) ((uint16_t)((p)[0] | ((p)[1] << 8)))
// Byte offset in a group of dword d (0..7) of block bl (0..7).
#define Q8_DWORD_OFF(bl, d) (64 * ((d) & 3) + 4 * (4 * (((d) >> 2) | (((bl) & 1) << 1)) + ((bl) >> 1)))
// Block that owns lane l of a group.
#define Q8_LANE_BLOCK(l) (2 * ((l) & 3) + ((l) >> 3))
// After the q bytes of group `grp` (nbg real blocks, scales d[0..nbg)) are written: zero the
// padding blocks' q, fill c[] and s[].
#define Q8_FINISH_GROUP(grp, nbg, d)                                                          \
    do {                                                                                      \
        for (int bl_ = (nbg); bl_ < 8; bl_++)                                                 \
            for (int d_ = 0; d_ < 8; d_++) __builtin_memset((grp) + Q8_DWORD_OFF(bl_, d_), 0, 4); \
        for (int l_ = 0; l_ < 16; l_++) {                                                     \
            int32_t sum_ = 0;                                                                 \
            for (int x_ = 0; x_ < 4; x_++)                                                    \
                for (int e_ = 0; e_ < 4; e_++) sum_ += (int8_t)(grp)[64 * x_ + 4 * l_ + e_];   \
            int32_t c_ = -128 * sum_;                                                         \
            int bl_ = Q8_LANE_BLOCK(l_);                                                      \
            float s_ = bl_ < (nbg) ? (d)[bl_] : 0.0f;                                         \
            __builtin_memcpy((grp) + Q8_CORR_OFF + 4 * l_, &c_, 4);                            \
            __builtin_memcpy((grp) + Q8_SCALE_OFF + 4 * l_, &s_, 4);                           \
        }                                                                                     \
    } while (0)

// =============================================================================== baseline

void swk_quantize_q8_baseline(const float *x, void *out, int64_t m, int64_t k) {
    const int64_t nb = k / 32, rb = swk_q8_activation_row_bytes(k);
    for (int64_t i = 0; i < m; i++) {
        const float *xr = x + i * k;
        uint8_t *row = (uint8_t *)out + i * rb;
        for (int64_t g = 0; g * 8 < nb; g++) {
            uint8_t *grp = row + g * Q8_GROUP_BYTES;  // [256 q][16 int32 c][16 float s]
            const int nbg = nb - g * 8 < 8 ? (int)(nb - g * 8) : 8;
            float dg[8];
            for (int bl = 0; bl < nbg; bl++) {
                const float *xb = xr + (g * 8 + bl) * 32;
                float amax = 0.0f;
                for (int t = 0; t < 32; t++) {
                    float v = __builtin_fabsf(xb[t]);
                    amax = v > amax ? v : amax;
                }
                float d = 0.0f, id = 0.0f;
                if (amax > Q8_AMAX_MIN) {
                    d = amax / 127.0f;
                    id = 127.0f / amax;
                }
                dg[bl] = d;
                for (int t = 0; t < 32; t++) {
                    float v = xb[t] * id;
                    v = v > -127.0f ? v : -127.0f;
                    v = v < 127.0f ? v : 127.0f;
                    float r = v + Q8_ROUND_MAGIC;
                    r = r - Q8_ROUND_MAGIC;
                    grp[Q8_DWORD_OFF(bl, t >> 2) + (t & 3)] = (uint8_t)(int8_t)(int)r;
                }
            }
            Q8_FINISH_GROUP(grp, nbg, dg);
        }
    }
}

/// Every (i, j) of the baseline goes through this one function (the canonical order).
SWK_INLINE float q8_row_dot_baseline(const uint8_t *arow, const uint8_t *wrow, int64_t nb, int q4) {
    const int64_t bb = q4 ? 18 : 34;
    float acc = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *grp = arow + (b >> 3) * Q8_GROUP_BYTES;
        const int bl = (int)(b & 7);
        const uint8_t *wb = wrow + b * bb;
        int8_t av[32], wv[32];  // the block's activations and weights in element order
        for (int d = 0; d < 8; d++) __builtin_memcpy(av + 4 * d, grp + Q8_DWORD_OFF(bl, d), 4);
        if (q4) {
            for (int t = 0; t < 16; t++) {
                wv[t] = (int8_t)((wb[2 + t] & 15) - 8);
                wv[t + 16] = (int8_t)((wb[2 + t] >> 4) - 8);
            }
        } else {
            __builtin_memcpy(wv, wb + 2, 32);
        }
        int32_t s = 0;
        for (int t = 0; t < 32; t++) s += (int32_t)av[t] * (int32_t)wv[t];
        float da;
        __builtin_memcpy(&da, grp + Q8_SCALE_OFF + 4 * (4 * ((bl & 1) << 1) + (bl >> 1)), 4);
        float sc = swk_half_to_float(Q8_U16(wb)) * da;
        float t = (float)s * sc;
        acc = acc + t;
    }
    return acc;
}

SWK_INLINE void q8_matmul_baseline(SWK_MATMUL_PARAMS, int q4) {
    (void)scratch;
    (void)scratch_bytes;
    (void)from_memory;  // j outer, i inner: each weight row is read once and reused from L1
    const int64_t nb = k / 32, arb = swk_q8_activation_row_bytes(k), wrb = nb * (q4 ? 18 : 34);
    const uint8_t *au = (const uint8_t *)a, *wu = (const uint8_t *)w;
    for (int64_t j = j0; j < j1; j++)
        for (int64_t i = 0; i < m; i++) y[i * ldy + j] = q8_row_dot_baseline(au + i * arb, wu + j * wrb, nb, q4);
}

void swk_matmul_q8_0_baseline(SWK_MATMUL_PARAMS) {
    q8_matmul_baseline(a, w, y, m, k, ldy, j0, j1, scratch, scratch_bytes, from_memory, 0);
}

void swk_matmul_q4_0_baseline(SWK_MATMUL_PARAMS) {
    q8_matmul_baseline(a, w, y, m, k, ldy, j0, j1, scratch, scratch_bytes, from_memory, 1);
}

#if SWK_X86

// ================================================================================== AVX2

SWK_TARGET_AVX2 void swk_quantize_q8_avx2(const float *x, void *out, int64_t m, int64_t k) {
    const int64_t nb = k / 32, rb = swk_q8_activation_row_bytes(k);
    const __m256 sign = _mm256_set1_ps(-0.0f), lo = _mm256_set1_ps(-127.0f), hi = _mm256_set1_ps(127.0f);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int64_t i = 0; i < m; i++) {
        const float *xr = x + i * k;
        uint8_t *row = (uint8_t *)out + i * rb;
        for (int64_t g = 0; g * 8 < nb; g++) {
            uint8_t *grp = row + g * Q8_GROUP_BYTES;
            const int nbg = nb - g * 8 < 8 ? (int)(nb - g * 8) : 8;
            float dg[8];
            for (int bl = 0; bl < nbg; bl++) {
                const float *xb = xr + (g * 8 + bl) * 32;
                __m256 v[4], mx = _mm256_setzero_ps();
                for (int c = 0; c < 4; c++) {
                    v[c] = _mm256_loadu_ps(xb + c * 8);
                    mx = _mm256_max_ps(_mm256_andnot_ps(sign, v[c]), mx);  // NaN lanes keep mx
                }
                __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
                m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
                m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
                float amax = _mm_cvtss_f32(m4);
                float d = 0.0f, id = 0.0f;
                if (amax > Q8_AMAX_MIN) {
                    d = amax / 127.0f;
                    id = 127.0f / amax;
                }
                dg[bl] = d;
                const __m256 vid = _mm256_set1_ps(id);
                __m256i q[4];
                for (int c = 0; c < 4; c++) {
                    __m256 t = _mm256_mul_ps(v[c], vid);
                    t = _mm256_max_ps(t, lo);  // NaN -> -127
                    t = _mm256_min_ps(t, hi);
                    q[c] = _mm256_cvtps_epi32(t);  // nearest even (default MXCSR)
                }
                __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
                p = _mm256_permutevar8x32_epi32(p, order);  // the 32 int8 in element order
                int32_t dw[8];
                _mm256_storeu_si256((__m256i *)dw, p);
                for (int dd = 0; dd < 8; dd++) __builtin_memcpy(grp + Q8_DWORD_OFF(bl, dd), &dw[dd], 4);
            }
            Q8_FINISH_GROUP(grp, nbg, dg);
        }
    }
}

SWK_TARGET_AVX2 SWK_INLINE float q8_hsum8_avx2(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// The 32 signed weights of one block as [dwords 0..3 | dwords 4..7].
SWK_TARGET_AVX2 SWK_INLINE __m256i q8_block_avx2(const uint8_t *blk, int q4) {
    if (!q4) return _mm256_loadu_si256((const __m256i *)(blk + 2));
    __m128i v = _mm_loadu_si128((const __m128i *)(blk + 2));
    const __m128i nib = _mm_set1_epi8(15);
    __m256i u = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), nib), _mm_and_si128(v, nib));
    return _mm256_sub_epi8(u, _mm256_set1_epi8(8));
}

/// Half h of group g of one weight row, in the activation lane order: W[x] (x = 0..3) and
/// the 8-lane scale vector. nbg = real blocks in the group; missing blocks are zero.
SWK_TARGET_AVX2 SWK_INLINE void q8_half_avx2(const uint8_t *row, int64_t g, int h, int nbg, int q4, __m256i W[4],
                                             __m256 *dw) {
    const int64_t bb = q4 ? 18 : 34;
    __m256i b[4];
    float s[4];
    for (int pos = 0; pos < 4; pos++) {
        const int bl = 2 * pos + h;
        if (bl < nbg) {
            const uint8_t *blk = row + (g * 8 + bl) * bb;
            b[pos] = q8_block_avx2(blk, q4);
            s[pos] = _cvtsh_ss(Q8_U16(blk));
        } else {
            b[pos] = _mm256_setzero_si256();
            s[pos] = 0.0f;
        }
    }
    __m256i t0 = _mm256_unpacklo_epi32(b[0], b[1]), t1 = _mm256_unpackhi_epi32(b[0], b[1]);
    __m256i t2 = _mm256_unpacklo_epi32(b[2], b[3]), t3 = _mm256_unpackhi_epi32(b[2], b[3]);
    W[0] = _mm256_unpacklo_epi64(t0, t2);
    W[1] = _mm256_unpackhi_epi64(t0, t2);
    W[2] = _mm256_unpacklo_epi64(t1, t3);
    W[3] = _mm256_unpackhi_epi64(t1, t3);
    *dw = _mm256_setr_ps(s[0], s[1], s[2], s[3], s[0], s[1], s[2], s[3]);
}

/// y[i][0] for i < mr (mr <= 4, a constant after inlining): one weight row `w` against mr
/// activation rows from `a`; `y` is the output of row 0.
SWK_TARGET_AVX2 SWK_INLINE void q8_rows_avx2(const uint8_t *a, int64_t arb, const uint8_t *w, float *y, int64_t ldy,
                                             int64_t nb, int mr, int q4) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[4];
    for (int i = 0; i < mr; i++) acc[i] = _mm256_setzero_ps();
    for (int64_t g = 0; g * 8 < nb; g++) {
        const int nbg = nb - g * 8 < 8 ? (int)(nb - g * 8) : 8;
        for (int h = 0; h < 2; h++) {
            __m256i W[4], A[4];
            __m256 dw;
            q8_half_avx2(w, g, h, nbg, q4, W, &dw);
            for (int x = 0; x < 4; x++) A[x] = _mm256_abs_epi8(W[x]);  // |-128| = 128 as unsigned
            for (int i = 0; i < mr; i++) {
                const uint8_t *grp = a + i * arb + g * Q8_GROUP_BYTES;
                __m256i I = _mm256_setzero_si256();
                for (int x = 0; x < 4; x++) {
                    __m256i q = _mm256_loadu_si256((const __m256i *)(grp + 64 * x + 32 * h));
                    // |w| * (q * sign(w)): pairs stay within int16 (2 * 128 * 127)
                    __m256i p = _mm256_maddubs_epi16(A[x], _mm256_sign_epi8(q, W[x]));
                    I = _mm256_add_epi32(I, _mm256_madd_epi16(p, ones));
                }
                __m256 da = _mm256_loadu_ps((const float *)(grp + Q8_SCALE_OFF + 32 * h));
                acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(I), _mm256_mul_ps(dw, da), acc[i]);
            }
        }
    }
    for (int i = 0; i < mr; i++) y[i * ldy] = q8_hsum8_avx2(acc[i]);
}

SWK_TARGET_AVX2 SWK_INLINE void q8_matmul_avx2(SWK_MATMUL_PARAMS, int q4) {
    (void)scratch;
    (void)scratch_bytes;
    (void)from_memory;  // the loop order below suits weights streaming from DRAM as well
    const int64_t nb = k / 32, arb = swk_q8_activation_row_bytes(k), wrb = nb * (q4 ? 18 : 34);
    const uint8_t *au = (const uint8_t *)a, *wu = (const uint8_t *)w;
    // Blocks of jn weight rows (about 16 KB) against chunks of up to 4 activation rows: the
    // first chunk streams the block once from memory, later chunks find it in L1/L2, and a
    // chunk's activations stay in L1 across the block.
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
                    case 1: q8_rows_avx2(ap, arb, wp, yp, ldy, nb, 1, q4); break;
                    case 2: q8_rows_avx2(ap, arb, wp, yp, ldy, nb, 2, q4); break;
                    case 3: q8_rows_avx2(ap, arb, wp, yp, ldy, nb, 3, q4); break;
                    default: q8_rows_avx2(ap, arb, wp, yp, ldy, nb, 4, q4); break;
                }
            }
        }
    }
}

SWK_TARGET_AVX2 void swk_matmul_q8_0_avx2(SWK_MATMUL_PARAMS) {
    q8_matmul_avx2(a, w, y, m, k, ldy, j0, j1, scratch, scratch_bytes, from_memory, 0);
}

SWK_TARGET_AVX2 void swk_matmul_q4_0_avx2(SWK_MATMUL_PARAMS) {
    q8_matmul_avx2(a, w, y, m, k, ldy, j0, j1, scratch, scratch_bytes, from_memory, 1);
}

// ================================================================================ AVX-512

SWK_TARGET_AVX512 void swk_quantize_q8_avx512(const float *x, void *out, int64_t m, int64_t k) {
    const int64_t nb = k / 32, rb = swk_q8_activation_row_bytes(k);
    const __m512 lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f);
    for (int64_t i = 0; i < m; i++) {
        const float *xr = x + i * k;
        uint8_t *row = (uint8_t *)out + i * rb;
        for (int64_t g = 0; g * 8 < nb; g++) {
            uint8_t *grp = row + g * Q8_GROUP_BYTES;
            const int nbg = nb - g * 8 < 8 ? (int)(nb - g * 8) : 8;
            float dg[8];
            for (int bl = 0; bl < nbg; bl++) {
                const float *xb = xr + (g * 8 + bl) * 32;
                __m512 v0 = _mm512_loadu_ps(xb), v1 = _mm512_loadu_ps(xb + 16);
                __m512 mx = _mm512_max_ps(_mm512_abs_ps(v0), _mm512_setzero_ps());  // NaN lanes keep mx
                mx = _mm512_max_ps(_mm512_abs_ps(v1), mx);
                __m256 m8 = _mm256_max_ps(_mm512_castps512_ps256(mx), _mm512_extractf32x8_ps(mx, 1));
                __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m8), _mm256_extractf128_ps(m8, 1));
                m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
                m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
                float amax = _mm_cvtss_f32(m4);
                float d = 0.0f, id = 0.0f;
                if (amax > Q8_AMAX_MIN) {
                    d = amax / 127.0f;
                    id = 127.0f / amax;
                }
                dg[bl] = d;
                const __m512 vid = _mm512_set1_ps(id);
                __m512 t0 = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(v0, vid), lo), hi);  // NaN -> -127
                __m512 t1 = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(v1, vid), lo), hi);
                int32_t dw[8];  // nearest even; 32 int8 in element order
                _mm_storeu_si128((__m128i *)dw, _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(t0)));
                _mm_storeu_si128((__m128i *)(dw + 4), _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(t1)));
                for (int dd = 0; dd < 8; dd++) __builtin_memcpy(grp + Q8_DWORD_OFF(bl, dd), &dw[dd], 4);
            }
            Q8_FINISH_GROUP(grp, nbg, dg);
        }
    }
}

SWK_TARGET_AVX512 SWK_INLINE float q8_hsum16_avx512(__m512 v) {
    __m256 s8 = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// Weights of blocks bl, bl+1 (bl even) at `p` as [bl dwords 0..7 | bl+1 dwords 0..7]:
/// Q8_0 signed, Q4_0 as the stored nibbles (weight + 8). `two` = 0 loads block bl only
/// (upper half zero for Q8_0; the caller masks it).
SWK_TARGET_AVX512 SWK_INLINE __m512i q8_pair_avx512(const uint8_t *p, int q4, int two) {
    if (!q4) {
        __m256i b0 = _mm256_loadu_si256((const __m256i *)(p + 2));
        if (!two) return _mm512_inserti64x4(_mm512_setzero_si512(), b0, 0);
        return _mm512_inserti64x4(_mm512_castsi256_si512(b0), _mm256_loadu_si256((const __m256i *)(p + 36)), 1);
    }
    __m128i q0 = _mm_loadu_si128((const __m128i *)(p + 2));
    __m128i q1 = two ? _mm_loadu_si128((const __m128i *)(p + 20)) : _mm_setzero_si128();
    __m512i z = _mm512_castsi256_si512(_mm256_inserti128_si256(_mm256_castsi128_si256(q0), q1, 1));
    z = _mm512_shuffle_i64x2(z, z, 0x50);  // 128-bit lanes: qs0, qs0, qs1, qs1
    const __m512i shifts = _mm512_set_epi64(0x0004000400040004, 0x0004000400040004, 0, 0,
                                            0x0004000400040004, 0x0004000400040004, 0, 0);
    // lo, hi, lo, hi nibbles = weight + 8; the caller adds 120 (and masks missing blocks)
    return _mm512_and_si512(_mm512_srlv_epi16(z, shifts), _mm512_set1_epi8(15));
}

/// Group g of one weight row in the activation lane order: U[x] = weights + 128 (unsigned
/// VNNI operand) for x = 0..3, and the 16-lane scale vector. Missing blocks are zero.
SWK_TARGET_AVX512 SWK_INLINE void q8_group_avx512(const uint8_t *row, int64_t g, int nbg, int q4, __m512i U[4],
                                                  __m512 *dw) {
    const int64_t bb = q4 ? 18 : 34;
    const uint8_t *p = row + g * 8 * bb;
    __m512i v[4];
    uint64_t he = 0, ho = 0;  // half scales in lane order: blocks 0, 2, 4, 6 | 1, 3, 5, 7
    if (nbg == 8) {
        for (int q = 0; q < 4; q++) v[q] = q8_pair_avx512(p + 2 * q * bb, q4, 1);
        for (int q = 0; q < 4; q++) {  // built in general registers: keeps the shuffle ports free
            he |= (uint64_t)Q8_U16(p + 2 * q * bb) << (16 * q);
            ho |= (uint64_t)Q8_U16(p + (2 * q + 1) * bb) << (16 * q);
        }
    } else {
        for (int q = 0; q < 4; q++) {
            const int bl = 2 * q;
            v[q] = bl + 1 < nbg ? q8_pair_avx512(p + bl * bb, q4, 1)
                   : bl < nbg   ? q8_pair_avx512(p + bl * bb, q4, 0)
                                : _mm512_setzero_si512();
            if (bl < nbg) he |= (uint64_t)Q8_U16(p + bl * bb) << (16 * q);
            if (bl + 1 < nbg) ho |= (uint64_t)Q8_U16(p + (bl + 1) * bb) << (16 * q);
        }
    }
    __m512i t0 = _mm512_unpacklo_epi32(v[0], v[1]), t1 = _mm512_unpackhi_epi32(v[0], v[1]);
    __m512i t2 = _mm512_unpacklo_epi32(v[2], v[3]), t3 = _mm512_unpackhi_epi32(v[2], v[3]);
    // Q8_0: w ^ 0x80 = w + 128; Q4_0: (w + 8) + 120 = w + 128.
    const __m512i bias = _mm512_set1_epi8(q4 ? 120 : (char)0x80);
    __m512i z0 = _mm512_unpacklo_epi64(t0, t2), z1 = _mm512_unpackhi_epi64(t0, t2);
    __m512i z2 = _mm512_unpacklo_epi64(t1, t3), z3 = _mm512_unpackhi_epi64(t1, t3);
    if (q4) {
        z0 = _mm512_add_epi8(z0, bias);
        z1 = _mm512_add_epi8(z1, bias);
        z2 = _mm512_add_epi8(z2, bias);
        z3 = _mm512_add_epi8(z3, bias);
    } else {
        z0 = _mm512_xor_si512(z0, bias);
        z1 = _mm512_xor_si512(z1, bias);
        z2 = _mm512_xor_si512(z2, bias);
        z3 = _mm512_xor_si512(z3, bias);
    }
    if (nbg == 8) {
        U[0] = z0;
        U[1] = z1;
        U[2] = z2;
        U[3] = z3;
    } else {  // padding lanes are 0 (the activations there are 0 too, and so is c)
        // The lanes whose block (Q8_LANE_BLOCK) is below nbg, for nbg = 0..7: a table, as
        // working them out lane by lane made a 384-wide row (1.5 groups) cost more than a
        // 512-wide one (C harness, Q4_0 1024x384 in cache, m = 1: 20.2 -> 14.0 µs).
        static const uint16_t lane_masks[8] = {0x0000, 0x0011, 0x1111, 0x1133, 0x3333, 0x3377, 0x7777, 0x77FF};
        const uint16_t lanes = lane_masks[nbg];
        U[0] = _mm512_maskz_mov_epi32(lanes, z0);
        U[1] = _mm512_maskz_mov_epi32(lanes, z1);
        U[2] = _mm512_maskz_mov_epi32(lanes, z2);
        U[3] = _mm512_maskz_mov_epi32(lanes, z3);
    }
    __m256 f = _mm256_cvtph_ps(_mm_set_epi64x((long long)ho, (long long)he));
    __m512 z = _mm512_castps256_ps512(f);
    *dw = _mm512_shuffle_f32x4(z, z, 0x50);  // [0..3, 0..3, 4..7, 4..7]
}

/// y[i][j] for i < mr, j < nr (constants after inlining). `a` is activation row 0 of the
/// tile, `w` weight row 0, `y` the output of (0, 0).
SWK_TARGET_AVX512 SWK_INLINE void q8_tile_avx512(const uint8_t *a, int64_t arb, const uint8_t *w, int64_t wrb,
                                                 float *y, int64_t ldy, int64_t nb, int mr, int nr, int q4) {
    __m512 acc[SWK_CHUNK_MAX_ROWS][2];
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++) acc[i][j] = _mm512_setzero_ps();
    for (int64_t g = 0; g * 8 < nb; g++) {
        const int nbg = nb - g * 8 < 8 ? (int)(nb - g * 8) : 8;
        __m512i U[2][4];
        __m512 dw[2];
        for (int j = 0; j < nr; j++) q8_group_avx512(w + j * wrb, g, nbg, q4, U[j], &dw[j]);
        for (int i = 0; i < mr; i++) {
            const uint8_t *grp = a + i * arb + g * Q8_GROUP_BYTES;
            const __m512i c = _mm512_loadu_si512((const void *)(grp + Q8_CORR_OFF));
            const __m512 da = _mm512_loadu_ps((const void *)(grp + Q8_SCALE_OFF));
            for (int j = 0; j < nr; j++) {
                __m512i I = c;
                for (int x = 0; x < 4; x++)
                    I = _mm512_dpbusd_epi32(I, U[j][x], _mm512_loadu_si512((const void *)(grp + 64 * x)));
                acc[i][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(I), _mm512_mul_ps(dw[j], da), acc[i][j]);
            }
        }
    }
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++) y[i * ldy + j] = q8_hsum16_avx512(acc[i][j]);
}

SWK_TARGET_AVX512 SWK_INLINE void q8_matmul_avx512(SWK_MATMUL_PARAMS, int q4) {
    (void)scratch;
    (void)scratch_bytes;
    (void)from_memory;  // the one loop order below already suits weights streaming from DRAM
    const int64_t nb = k / 32, arb = swk_q8_activation_row_bytes(k), wrb = nb * (q4 ? 18 : 34);
    const uint8_t *au = (const uint8_t *)a, *wu = (const uint8_t *)w;
    // Weight rows are taken in blocks of jn rows (about 16 KB) and each block is run against
    // chunks of 8-10 activation rows (swk_chunk_rows; mr x 1 register tiles: mr accumulators,
    // one weight group in 5 registers). The first chunk reads the block as one sequential stream
    // (which the hardware prefetchers follow; each weight row comes from DRAM once), later
    // chunks find it in L1/L2, and a chunk's activations stay in L1 across the block.
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
                    case 1: q8_tile_avx512(ap, arb, wp, wrb, yp, ldy, nb, 1, 1, q4); break;
                    case 2: q8_tile_avx512(ap, arb, wp, wrb, yp, ldy, nb, 2, 1, q4); break;
                    case 3: q8_tile_avx512(ap, arb, wp, wrb, yp, ldy, nb, 3, 1, q4); break;
                    case 4: q8_tile_avx512(ap, arb, wp, wrb, yp, ldy, nb, 4, 1, q4); break;
                    case 5: q8_tile_avx512(ap, arb, wp, wrb, yp, ldy, nb, 5, 1, q4); break;
                    case 6: q8_tile_avx512(ap, arb, wp, wrb, yp, ldy, nb, 6, 1, q4); break;
                    case 7: q8_tile_avx512(ap, arb, wp, wrb, yp, ldy, nb, 7, 1, q4); break;
                    case 8: q8_tile_avx512(ap, arb, wp, wrb, yp, ldy, nb, 8, 1, q4); break;
                    case 9: q8_tile_avx512(ap, arb, wp, wrb, yp, ldy, nb, 9, 1, q4); break;
                    default: q8_tile_avx512(ap, arb, wp, wrb, yp, ldy, nb, 10, 1, q4); break;
                }
            }
        }
    }
}

SWK_TARGET_AVX512 void swk_matmul_q8_0_avx512(SWK_MATMUL_PARAMS) {
    q8_matmul_avx512(a, w, y, m, k, ldy, j0, j1, scratch, scratch_bytes, from_memory, 0);
}

SWK_TARGET_AVX512 void swk_matmul_q4_0_avx512(SWK_MATMUL_PARAMS) {
    q8_matmul_avx512(a, w, y, m, k, ldy, j0, j1, scratch, scratch_bytes, from_memory, 1);
}

#endif  // SWK_X86
