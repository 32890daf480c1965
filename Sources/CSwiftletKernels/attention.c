// Attention inner loops over one KV block: scores (q · keys) and the weighted sum of values.
//
// Layout of one block of one KV head (element = float, or uint16_t F16 bits when kv_f16):
//   keys   (hd, block_size)  transposed: keys[d * block_size + r] is dimension d of slot r,
//                            so one row d holds that dimension for every slot of the block;
//   values (block_size, hd)  values[r * hd + c] is dimension c of slot r.
// Only the first `rows` slots (1 <= rows <= block_size) are valid.
//
// Summation order (the same on every path; only the arithmetic differs: the SIMD paths use
// one fused multiply-add per term, the baseline a multiply then an add):
//   scores, slot r:   s_j = Σ q[d]·k[d][r] over d ≡ j (mod 4), d < hd & ~3, in increasing d
//                     (j = 0..3); the remaining d (hd % 4 of them) are then added to s_0 in
//                     increasing d; out[r] = ((s_0 + s_1) + (s_2 + s_3)) · scale.
//   accumulate, dim c: e = out[c] + Σ w[r]·v[r][c] over even r, o = Σ w[r]·v[r][c] over odd r
//                     (each in increasing r, o starting from 0); out[c] = e + o.
// Each output lane is an independent chain of those operations, so how slots, dimensions or
// queries are grouped into vectors never changes a bit: the four-query kernels give exactly
// what the one-query kernels give, and the AVX2 and AVX-512 paths (both FMA, exact F16
// widening) give the same bits as each other.
//
// Reads: keys only within the block (whole 16- or 8-slot groups when they lie inside the
// block, else only the first `rows` slots); values only within the first `rows` rows.
// Writes: out[0 ..< rows] for scores, out[0 ..< hd] for accumulate.
#include "kernels_internal.h"

#define SWK_INLINE static inline __attribute__((always_inline))

#ifdef __clang__
// The baseline's products and sums stay separate roundings (no contraction into FMA), so the
// portable path gives the same numbers on every CPU and its one- and four-query kernels
// cannot be contracted differently. (GCC does not contract in ISO C mode either.)
#pragma STDC FP_CONTRACT OFF
#endif

// The baseline's small local arrays are zeroed and copied by plain loops; clang must not
// turn those into memset / memcpy calls.
#if defined(__clang__)
#define SWK_NO_LIBC __attribute__((no_builtin("memset", "memcpy")))
#else
#define SWK_NO_LIBC
#endif

static inline int64_t swk_min64(int64_t a, int64_t b) { return a < b ? a : b; }

// ---------------------------------------------------------------------------- baseline --

/// Exact F16 -> F32 without branches (vectorisable): the bits of swk_half_to_float, except
/// that a signalling NaN comes back quiet (as from the SIMD paths' vcvtph2ps).
static inline float half_to_float_bl(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t em = h & 0x7FFFu;                    // exponent and mantissa
    uint32_t normal = (em << 13) + 0x38000000u;   // rebias the exponent: 15 -> 127
    normal += em >= 0x7C00u ? 0x38000000u : 0;    // inf / nan: exponent field 255
    normal |= em > 0x7C00u ? 0x00400000u : 0;     // nan: quiet, as F16C's vcvtph2ps gives
    union { float f; uint32_t u; } sub, out;
    sub.f = (float)(int32_t)em * 0x1p-24f;        // zero and subnormals: m · 2^-24, exact
    out.u = sign | (em < 0x400u ? sub.u : normal);
    return out.f;
}

/// Elements base[i ..< i + n] (n <= 16) of a KV block as floats into dst.
SWK_NO_LIBC static inline void widen_bl(const void *base, int64_t i, int64_t n, int f16, float *dst) {
    if (f16) {
        const uint16_t *p = (const uint16_t *)base + i;
        for (int64_t j = 0; j < n; j++) dst[j] = half_to_float_bl(p[j]);
    } else {
        const float *p = (const float *)base + i;
        for (int64_t j = 0; j < n; j++) dst[j] = p[j];
    }
}

/// Scores of nq (1 or 4) queries, sixteen slots at a time. `k` holds four key rows of the
/// current 16-slot group widened once and shared by the queries.
SWK_NO_LIBC static void scores_bl(const float *const *q, int nq, const void *keys, int f16, int64_t bs, int64_t rows,
                      int64_t hd, float scale, float *const *out) {
    for (int64_t c = 0; c < rows; c += 16) {
        const int64_t lanes = swk_min64(16, rows - c);
        float acc[4][4][16];  // (query, d mod 4, slot c + j)
        float k[4][16];       // (d - d0, slot c + j): key rows d0 ..< d0 + 4 of this group
        for (int i = 0; i < nq; i++)
            for (int p = 0; p < 4; p++)
                for (int64_t j = 0; j < 16; j++) acc[i][p][j] = 0;
        int64_t d = 0;
        for (; d + 4 <= hd; d += 4) {
            for (int p = 0; p < 4; p++) widen_bl(keys, (d + p) * bs + c, lanes, f16, k[p]);
            for (int i = 0; i < nq; i++)
                for (int p = 0; p < 4; p++) {
                    const float qd = q[i][d + p];
                    for (int64_t j = 0; j < lanes; j++) acc[i][p][j] += qd * k[p][j];
                }
        }
        for (; d < hd; d++) {
            widen_bl(keys, d * bs + c, lanes, f16, k[0]);
            for (int i = 0; i < nq; i++) {
                const float qd = q[i][d];
                for (int64_t j = 0; j < lanes; j++) acc[i][0][j] += qd * k[0][j];
            }
        }
        for (int i = 0; i < nq; i++)
            for (int64_t j = 0; j < lanes; j++)
                out[i][c + j] = ((acc[i][0][j] + acc[i][1][j]) + (acc[i][2][j] + acc[i][3][j])) * scale;
    }
}

/// Weighted sums of nq (1 or 4) weight rows, sixteen dimensions at a time; each pair of
/// value rows is widened once and shared by the weight rows.
SWK_NO_LIBC static void accumulate_bl(const void *values, int f16, const float *const *w, int nq, int64_t rows, int64_t hd,
                          float *const *out) {
    for (int64_t c = 0; c < hd; c += 16) {
        const int64_t lanes = swk_min64(16, hd - c);
        float even[4][16], odd[4][16];  // (weight row, dimension c + j)
        float ve[16], vo[16];           // value rows r and r + 1, dimensions c + j
        for (int i = 0; i < nq; i++)
            for (int64_t j = 0; j < lanes; j++) {
                even[i][j] = out[i][c + j];
                odd[i][j] = 0;
            }
        int64_t r = 0;
        for (; r + 2 <= rows; r += 2) {
            widen_bl(values, r * hd + c, lanes, f16, ve);
            widen_bl(values, (r + 1) * hd + c, lanes, f16, vo);
            for (int i = 0; i < nq; i++) {
                const float we = w[i][r], wo = w[i][r + 1];
                for (int64_t j = 0; j < lanes; j++) {
                    even[i][j] += we * ve[j];
                    odd[i][j] += wo * vo[j];
                }
            }
        }
        if (r < rows) {
            widen_bl(values, r * hd + c, lanes, f16, ve);
            for (int i = 0; i < nq; i++) {
                const float we = w[i][r];
                for (int64_t j = 0; j < lanes; j++) even[i][j] += we * ve[j];
            }
        }
        for (int i = 0; i < nq; i++)
            for (int64_t j = 0; j < lanes; j++) out[i][c + j] = even[i][j] + odd[i][j];
    }
}

void swk_attn_scores_baseline(const float *q, const void *keys, int kv_f16, int64_t block_size, int64_t rows,
                              int64_t hd, float scale, float *out) {
    scores_bl(&q, 1, keys, kv_f16, block_size, rows, hd, scale, &out);
}

void swk_attn_scores4_baseline(const float *const q[4], const void *keys, int kv_f16, int64_t block_size,
                               int64_t rows, int64_t hd, float scale, float *const out[4]) {
    scores_bl(q, 4, keys, kv_f16, block_size, rows, hd, scale, out);
}

void swk_attn_accumulate_baseline(const void *values, int kv_f16, const float *weights, int64_t rows, int64_t hd,
                                  float *out) {
    accumulate_bl(values, kv_f16, &weights, 1, rows, hd, &out);
}

void swk_attn_accumulate4_baseline(const void *values, int kv_f16, const float *const weights[4], int64_t rows,
                                   int64_t hd, float *const out[4]) {
    accumulate_bl(values, kv_f16, weights, 4, rows, hd, out);
}

#if SWK_X86

// ------------------------------------------------------------------------------ AVX-512 --
// Sixteen lanes per zmm: sixteen slots (scores) or sixteen dimensions (accumulate).

/// Sixteen elements base[i ..< i + 16] of a KV block as floats. `full`: all sixteen lie in
/// the block and are loaded; otherwise only the lanes in `m` are read (the others are 0).
SWK_TARGET_AVX512 SWK_INLINE __m512 kv16_512(const void *base, int64_t i, int f16, int full, __mmask16 m) {
    if (f16) {
        const uint16_t *p = (const uint16_t *)base + i;
        return _mm512_cvtph_ps(full ? _mm256_loadu_si256((const __m256i *)p) : _mm256_maskz_loadu_epi16(m, p));
    }
    const float *p = (const float *)base + i;
    return full ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(m, p);
}

SWK_TARGET_AVX512 SWK_INLINE void store16_512(float *p, __m512 v, __mmask16 m) {
    if (m == 0xFFFF) _mm512_storeu_ps(p, v);
    else _mm512_mask_storeu_ps(p, m, v);
}

/// The first `n` (0..16) lanes.
SWK_TARGET_AVX512 SWK_INLINE __mmask16 lanes16(int64_t n) {
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
}

#define FMA512(acc, s, k) acc = _mm512_fmadd_ps(_mm512_set1_ps(s), k, acc)
#define COMBINE512(a0, a1, a2, a3) _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3))

/// One query's scores of the 16 slots c ..< c + 16 (the lanes of `sm` stored): four FMA
/// chains, one per d mod 4.
SWK_TARGET_AVX512 SWK_INLINE void scores1x1_512(const float *q, const void *keys, int f16, int full, __mmask16 lm,
                                                int64_t bs, int64_t c, int64_t hd, __m512 scale, __mmask16 sm,
                                                float *out) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t d = 0;
    for (; d + 4 <= hd; d += 4) {
        const int64_t at = d * bs + c;
        FMA512(a0, q[d], kv16_512(keys, at, f16, full, lm));
        FMA512(a1, q[d + 1], kv16_512(keys, at + bs, f16, full, lm));
        FMA512(a2, q[d + 2], kv16_512(keys, at + 2 * bs, f16, full, lm));
        FMA512(a3, q[d + 3], kv16_512(keys, at + 3 * bs, f16, full, lm));
    }
    for (; d < hd; d++) FMA512(a0, q[d], kv16_512(keys, d * bs + c, f16, full, lm));
    store16_512(out + c, _mm512_mul_ps(COMBINE512(a0, a1, a2, a3), scale), sm);
}

/// One query's scores of the 32 slots c ..< c + 32, both groups inside the block (the lanes
/// of sm0 / sm1 stored): eight chains.
SWK_TARGET_AVX512 SWK_INLINE void scores1x2_512(const float *q, const void *keys, int f16, int64_t bs, int64_t c,
                                                int64_t hd, __m512 scale, __mmask16 sm0, __mmask16 sm1,
                                                float *out) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    int64_t d = 0;
    for (; d + 4 <= hd; d += 4) {
        const int64_t at = d * bs + c;
        FMA512(a0, q[d], kv16_512(keys, at, f16, 1, 0));
        FMA512(b0, q[d], kv16_512(keys, at + 16, f16, 1, 0));
        FMA512(a1, q[d + 1], kv16_512(keys, at + bs, f16, 1, 0));
        FMA512(b1, q[d + 1], kv16_512(keys, at + bs + 16, f16, 1, 0));
        FMA512(a2, q[d + 2], kv16_512(keys, at + 2 * bs, f16, 1, 0));
        FMA512(b2, q[d + 2], kv16_512(keys, at + 2 * bs + 16, f16, 1, 0));
        FMA512(a3, q[d + 3], kv16_512(keys, at + 3 * bs, f16, 1, 0));
        FMA512(b3, q[d + 3], kv16_512(keys, at + 3 * bs + 16, f16, 1, 0));
    }
    for (; d < hd; d++) {
        FMA512(a0, q[d], kv16_512(keys, d * bs + c, f16, 1, 0));
        FMA512(b0, q[d], kv16_512(keys, d * bs + c + 16, f16, 1, 0));
    }
    store16_512(out + c, _mm512_mul_ps(COMBINE512(a0, a1, a2, a3), scale), sm0);
    store16_512(out + c + 16, _mm512_mul_ps(COMBINE512(b0, b1, b2, b3), scale), sm1);
}

/// Four queries' scores of the 16 slots c ..< c + 16: sixteen chains (query, d mod 4), each
/// key vector loaded once for the four queries.
SWK_TARGET_AVX512 SWK_INLINE void scores4x1_512(const float *const *q, const void *keys, int f16, int full,
                                                __mmask16 lm, int64_t bs, int64_t c, int64_t hd, __m512 scale,
                                                __mmask16 sm, float *const *out) {
    const float *q0 = q[0], *q1 = q[1], *q2 = q[2], *q3 = q[3];
    __m512 a00 = _mm512_setzero_ps(), a01 = a00, a02 = a00, a03 = a00;
    __m512 a10 = a00, a11 = a00, a12 = a00, a13 = a00;
    __m512 a20 = a00, a21 = a00, a22 = a00, a23 = a00;
    __m512 a30 = a00, a31 = a00, a32 = a00, a33 = a00;
    int64_t d = 0;
    for (; d + 4 <= hd; d += 4) {
        const int64_t at = d * bs + c;
        const __m512 k0 = kv16_512(keys, at, f16, full, lm);
        const __m512 k1 = kv16_512(keys, at + bs, f16, full, lm);
        const __m512 k2 = kv16_512(keys, at + 2 * bs, f16, full, lm);
        const __m512 k3 = kv16_512(keys, at + 3 * bs, f16, full, lm);
        FMA512(a00, q0[d], k0); FMA512(a01, q0[d + 1], k1); FMA512(a02, q0[d + 2], k2); FMA512(a03, q0[d + 3], k3);
        FMA512(a10, q1[d], k0); FMA512(a11, q1[d + 1], k1); FMA512(a12, q1[d + 2], k2); FMA512(a13, q1[d + 3], k3);
        FMA512(a20, q2[d], k0); FMA512(a21, q2[d + 1], k1); FMA512(a22, q2[d + 2], k2); FMA512(a23, q2[d + 3], k3);
        FMA512(a30, q3[d], k0); FMA512(a31, q3[d + 1], k1); FMA512(a32, q3[d + 2], k2); FMA512(a33, q3[d + 3], k3);
    }
    for (; d < hd; d++) {
        const __m512 k0 = kv16_512(keys, d * bs + c, f16, full, lm);
        FMA512(a00, q0[d], k0); FMA512(a10, q1[d], k0); FMA512(a20, q2[d], k0); FMA512(a30, q3[d], k0);
    }
    store16_512(out[0] + c, _mm512_mul_ps(COMBINE512(a00, a01, a02, a03), scale), sm);
    store16_512(out[1] + c, _mm512_mul_ps(COMBINE512(a10, a11, a12, a13), scale), sm);
    store16_512(out[2] + c, _mm512_mul_ps(COMBINE512(a20, a21, a22, a23), scale), sm);
    store16_512(out[3] + c, _mm512_mul_ps(COMBINE512(a30, a31, a32, a33), scale), sm);
}

/// Slot groups: whole 16-slot groups inside the block are loaded whole (their slots past
/// `rows` are computed and not stored); a group reaching past the block end (block_size not
/// a multiple of 16) reads only its valid slots.
SWK_TARGET_AVX512 SWK_INLINE void scores_512(const float *q, const void *keys, int f16, int64_t bs, int64_t rows,
                                             int64_t hd, float scale, float *out) {
    const __m512 vscale = _mm512_set1_ps(scale);
    int64_t c = 0;
    while (c < rows) {
        if (!f16 && c + 32 <= bs && rows - c > 16) {  // (F16 runs faster 16 slots at a time)
            scores1x2_512(q, keys, f16, bs, c, hd, vscale, 0xFFFF, lanes16(rows - c - 16), out);
            c += 32;
        } else if (c + 16 <= bs) {
            scores1x1_512(q, keys, f16, 1, 0, bs, c, hd, vscale, lanes16(rows - c), out);
            c += 16;
        } else {
            const __mmask16 m = lanes16(rows - c);
            scores1x1_512(q, keys, f16, 0, m, bs, c, hd, vscale, m, out);
            c += 16;
        }
    }
}

SWK_TARGET_AVX512 SWK_INLINE void scores4_512(const float *const *q, const void *keys, int f16, int64_t bs,
                                              int64_t rows, int64_t hd, float scale, float *const *out) {
    const __m512 vscale = _mm512_set1_ps(scale);
    for (int64_t c = 0; c < rows; c += 16) {
        const __mmask16 m = lanes16(rows - c);
        if (c + 16 <= bs) scores4x1_512(q, keys, f16, 1, 0, bs, c, hd, vscale, m, out);
        else scores4x1_512(q, keys, f16, 0, m, bs, c, hd, vscale, m, out);
    }
}

SWK_TARGET_AVX512 void swk_attn_scores_avx512(const float *q, const void *keys, int kv_f16, int64_t block_size,
                                              int64_t rows, int64_t hd, float scale, float *out) {
    if (kv_f16) scores_512(q, keys, 1, block_size, rows, hd, scale, out);
    else scores_512(q, keys, 0, block_size, rows, hd, scale, out);
}

SWK_TARGET_AVX512 void swk_attn_scores4_avx512(const float *const q[4], const void *keys, int kv_f16,
                                               int64_t block_size, int64_t rows, int64_t hd, float scale,
                                               float *const out[4]) {
    if (kv_f16) scores4_512(q, keys, 1, block_size, rows, hd, scale, out);
    else scores4_512(q, keys, 0, block_size, rows, hd, scale, out);
}

/// One weight row over the 64 dimensions c ..< c + 64 (four vectors, eight chains).
SWK_TARGET_AVX512 SWK_INLINE void accumulate1x4_512(const void *values, int f16, const float *w, int64_t rows,
                                                    int64_t hd, int64_t c, float *out) {
    __m512 e0 = _mm512_loadu_ps(out + c), e1 = _mm512_loadu_ps(out + c + 16);
    __m512 e2 = _mm512_loadu_ps(out + c + 32), e3 = _mm512_loadu_ps(out + c + 48);
    __m512 o0 = _mm512_setzero_ps(), o1 = o0, o2 = o0, o3 = o0;
    int64_t r = 0;
    for (; r + 2 <= rows; r += 2) {
        const int64_t at = r * hd + c;
        const __m512 we = _mm512_set1_ps(w[r]), wo = _mm512_set1_ps(w[r + 1]);
        e0 = _mm512_fmadd_ps(we, kv16_512(values, at, f16, 1, 0), e0);
        e1 = _mm512_fmadd_ps(we, kv16_512(values, at + 16, f16, 1, 0), e1);
        e2 = _mm512_fmadd_ps(we, kv16_512(values, at + 32, f16, 1, 0), e2);
        e3 = _mm512_fmadd_ps(we, kv16_512(values, at + 48, f16, 1, 0), e3);
        o0 = _mm512_fmadd_ps(wo, kv16_512(values, at + hd, f16, 1, 0), o0);
        o1 = _mm512_fmadd_ps(wo, kv16_512(values, at + hd + 16, f16, 1, 0), o1);
        o2 = _mm512_fmadd_ps(wo, kv16_512(values, at + hd + 32, f16, 1, 0), o2);
        o3 = _mm512_fmadd_ps(wo, kv16_512(values, at + hd + 48, f16, 1, 0), o3);
    }
    if (r < rows) {
        const int64_t at = r * hd + c;
        const __m512 we = _mm512_set1_ps(w[r]);
        e0 = _mm512_fmadd_ps(we, kv16_512(values, at, f16, 1, 0), e0);
        e1 = _mm512_fmadd_ps(we, kv16_512(values, at + 16, f16, 1, 0), e1);
        e2 = _mm512_fmadd_ps(we, kv16_512(values, at + 32, f16, 1, 0), e2);
        e3 = _mm512_fmadd_ps(we, kv16_512(values, at + 48, f16, 1, 0), e3);
    }
    _mm512_storeu_ps(out + c, _mm512_add_ps(e0, o0));
    _mm512_storeu_ps(out + c + 16, _mm512_add_ps(e1, o1));
    _mm512_storeu_ps(out + c + 32, _mm512_add_ps(e2, o2));
    _mm512_storeu_ps(out + c + 48, _mm512_add_ps(e3, o3));
}

/// One weight row over the dimensions c ..< c + 16 (the lanes of m when not `full`).
SWK_TARGET_AVX512 SWK_INLINE void accumulate1x1_512(const void *values, int f16, const float *w, int64_t rows,
                                                    int64_t hd, int64_t c, int full, __mmask16 m, float *out) {
    __m512 e = full ? _mm512_loadu_ps(out + c) : _mm512_maskz_loadu_ps(m, out + c);
    __m512 o = _mm512_setzero_ps();
    int64_t r = 0;
    for (; r + 2 <= rows; r += 2) {
        FMA512(e, w[r], kv16_512(values, r * hd + c, f16, full, m));
        FMA512(o, w[r + 1], kv16_512(values, (r + 1) * hd + c, f16, full, m));
    }
    if (r < rows) FMA512(e, w[r], kv16_512(values, r * hd + c, f16, full, m));
    if (full) _mm512_storeu_ps(out + c, _mm512_add_ps(e, o));
    else _mm512_mask_storeu_ps(out + c, m, _mm512_add_ps(e, o));
}

/// Four weight rows over the dimensions c ..< c + 16: eight chains (weight row, parity of
/// r), each pair of value vectors loaded once for the four rows.
SWK_TARGET_AVX512 SWK_INLINE void accumulate4x1_512(const void *values, int f16, const float *const *w,
                                                    int64_t rows, int64_t hd, int64_t c, int full, __mmask16 m,
                                                    float *const *out) {
    const float *w0 = w[0], *w1 = w[1], *w2 = w[2], *w3 = w[3];
    __m512 e0, e1, e2, e3;
    if (full) {
        e0 = _mm512_loadu_ps(out[0] + c); e1 = _mm512_loadu_ps(out[1] + c);
        e2 = _mm512_loadu_ps(out[2] + c); e3 = _mm512_loadu_ps(out[3] + c);
    } else {
        e0 = _mm512_maskz_loadu_ps(m, out[0] + c); e1 = _mm512_maskz_loadu_ps(m, out[1] + c);
        e2 = _mm512_maskz_loadu_ps(m, out[2] + c); e3 = _mm512_maskz_loadu_ps(m, out[3] + c);
    }
    __m512 o0 = _mm512_setzero_ps(), o1 = o0, o2 = o0, o3 = o0;
    int64_t r = 0;
    for (; r + 2 <= rows; r += 2) {
        const __m512 ve = kv16_512(values, r * hd + c, f16, full, m);
        const __m512 vo = kv16_512(values, (r + 1) * hd + c, f16, full, m);
        FMA512(e0, w0[r], ve); FMA512(o0, w0[r + 1], vo);
        FMA512(e1, w1[r], ve); FMA512(o1, w1[r + 1], vo);
        FMA512(e2, w2[r], ve); FMA512(o2, w2[r + 1], vo);
        FMA512(e3, w3[r], ve); FMA512(o3, w3[r + 1], vo);
    }
    if (r < rows) {
        const __m512 ve = kv16_512(values, r * hd + c, f16, full, m);
        FMA512(e0, w0[r], ve); FMA512(e1, w1[r], ve); FMA512(e2, w2[r], ve); FMA512(e3, w3[r], ve);
    }
    store16_512(out[0] + c, _mm512_add_ps(e0, o0), m);
    store16_512(out[1] + c, _mm512_add_ps(e1, o1), m);
    store16_512(out[2] + c, _mm512_add_ps(e2, o2), m);
    store16_512(out[3] + c, _mm512_add_ps(e3, o3), m);
}

SWK_TARGET_AVX512 SWK_INLINE void accumulate_512(const void *values, int f16, const float *w, int64_t rows,
                                                 int64_t hd, float *out) {
    int64_t c = 0;
    for (; c + 64 <= hd; c += 64) accumulate1x4_512(values, f16, w, rows, hd, c, out);
    for (; c + 16 <= hd; c += 16) accumulate1x1_512(values, f16, w, rows, hd, c, 1, 0xFFFF, out);
    if (c < hd) accumulate1x1_512(values, f16, w, rows, hd, c, 0, lanes16(hd - c), out);
}

SWK_TARGET_AVX512 SWK_INLINE void accumulate4_512(const void *values, int f16, const float *const *w, int64_t rows,
                                                  int64_t hd, float *const *out) {
    int64_t c = 0;
    for (; c + 16 <= hd; c += 16) accumulate4x1_512(values, f16, w, rows, hd, c, 1, 0xFFFF, out);
    if (c < hd) accumulate4x1_512(values, f16, w, rows, hd, c, 0, lanes16(hd - c), out);
}

SWK_TARGET_AVX512 void swk_attn_accumulate_avx512(const void *values, int kv_f16, const float *weights,
                                                  int64_t rows, int64_t hd, float *out) {
    if (kv_f16) accumulate_512(values, 1, weights, rows, hd, out);
    else accumulate_512(values, 0, weights, rows, hd, out);
}

SWK_TARGET_AVX512 void swk_attn_accumulate4_avx512(const void *values, int kv_f16, const float *const weights[4],
                                                   int64_t rows, int64_t hd, float *const out[4]) {
    if (kv_f16) accumulate4_512(values, 1, weights, rows, hd, out);
    else accumulate4_512(values, 0, weights, rows, hd, out);
}

// --------------------------------------------------------------------------------- AVX2 --
// Eight lanes per ymm: eight slots (scores) or eight dimensions (accumulate). Sixteen ymm
// registers only, so the four-query scores run as two passes of two queries (eight chains
// each); the per-lane operations are those of the AVX-512 path.

/// The first `n` (0..8) lanes as a maskload mask.
SWK_TARGET_AVX2 SWK_INLINE __m256i lanes8(int64_t n) {
    const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n < 8 ? n : 8)), index);
}

/// Eight elements base[i ..< i + 8] of a KV block as floats. `full`: all eight lie in the
/// block; otherwise only the first `n` are read (mask `m` for floats) and the rest are 0.
SWK_TARGET_AVX2 SWK_INLINE __m256 kv8_256(const void *base, int64_t i, int f16, int full, __m256i m, int64_t n) {
    if (f16) {
        const uint16_t *p = (const uint16_t *)base + i;
        if (full) return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
        uint16_t part[8];  // F16 has no 16-bit masked load in AVX2: gather the valid ones
        for (int64_t j = 0; j < 8; j++) part[j] = j < n ? p[j] : 0;
        return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)part));
    }
    const float *p = (const float *)base + i;
    return full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m);
}

SWK_TARGET_AVX2 SWK_INLINE void store8_256(float *p, __m256 v, int64_t n, __m256i m) {
    if (n >= 8) _mm256_storeu_ps(p, v);
    else _mm256_maskstore_ps(p, m, v);
}

#define FMA256(acc, s, k) acc = _mm256_fmadd_ps(_mm256_set1_ps(s), k, acc)
#define COMBINE256(a0, a1, a2, a3) _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3))

/// One query's scores of the 8 slots c ..< c + 8 (the first `n` stored): four chains.
SWK_TARGET_AVX2 SWK_INLINE void scores1x1_256(const float *q, const void *keys, int f16, int full, int64_t bs,
                                              int64_t c, int64_t hd, __m256 scale, int64_t n, float *out) {
    const __m256i m = lanes8(n);
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t d = 0;
    for (; d + 4 <= hd; d += 4) {
        const int64_t at = d * bs + c;
        FMA256(a0, q[d], kv8_256(keys, at, f16, full, m, n));
        FMA256(a1, q[d + 1], kv8_256(keys, at + bs, f16, full, m, n));
        FMA256(a2, q[d + 2], kv8_256(keys, at + 2 * bs, f16, full, m, n));
        FMA256(a3, q[d + 3], kv8_256(keys, at + 3 * bs, f16, full, m, n));
    }
    for (; d < hd; d++) FMA256(a0, q[d], kv8_256(keys, d * bs + c, f16, full, m, n));
    store8_256(out + c, _mm256_mul_ps(COMBINE256(a0, a1, a2, a3), scale), n, m);
}

/// Two queries' (or one query's two 8-slot groups') scores: the pair (qa at ca, qb at cb),
/// both groups inside the block, eight chains. With qa == qb and cb = ca + 8 it is one query
/// over sixteen slots; with ca == cb, two queries sharing each key load.
SWK_TARGET_AVX2 SWK_INLINE void scores2x1_256(const float *qa, const float *qb, const void *keys, int f16,
                                              int64_t bs, int64_t ca, int64_t cb, int64_t hd, __m256 scale,
                                              int64_t na, int64_t nb, float *outa, float *outb) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    const __m256i none = _mm256_setzero_si256();
    const int shared = ca == cb;
    int64_t d = 0;
    for (; d + 4 <= hd; d += 4) {
        const int64_t at = d * bs;
        const __m256 k0 = kv8_256(keys, at + ca, f16, 1, none, 8);
        const __m256 k1 = kv8_256(keys, at + bs + ca, f16, 1, none, 8);
        const __m256 k2 = kv8_256(keys, at + 2 * bs + ca, f16, 1, none, 8);
        const __m256 k3 = kv8_256(keys, at + 3 * bs + ca, f16, 1, none, 8);
        FMA256(a0, qa[d], k0); FMA256(a1, qa[d + 1], k1); FMA256(a2, qa[d + 2], k2); FMA256(a3, qa[d + 3], k3);
        if (shared) {
            FMA256(b0, qb[d], k0); FMA256(b1, qb[d + 1], k1); FMA256(b2, qb[d + 2], k2); FMA256(b3, qb[d + 3], k3);
        } else {
            FMA256(b0, qb[d], kv8_256(keys, at + cb, f16, 1, none, 8));
            FMA256(b1, qb[d + 1], kv8_256(keys, at + bs + cb, f16, 1, none, 8));
            FMA256(b2, qb[d + 2], kv8_256(keys, at + 2 * bs + cb, f16, 1, none, 8));
            FMA256(b3, qb[d + 3], kv8_256(keys, at + 3 * bs + cb, f16, 1, none, 8));
        }
    }
    for (; d < hd; d++) {
        FMA256(a0, qa[d], kv8_256(keys, d * bs + ca, f16, 1, none, 8));
        FMA256(b0, qb[d], kv8_256(keys, d * bs + cb, f16, 1, none, 8));
    }
    store8_256(outa + ca, _mm256_mul_ps(COMBINE256(a0, a1, a2, a3), scale), na, lanes8(na));
    store8_256(outb + cb, _mm256_mul_ps(COMBINE256(b0, b1, b2, b3), scale), nb, lanes8(nb));
}

SWK_TARGET_AVX2 SWK_INLINE void scores_256(const float *q, const void *keys, int f16, int64_t bs, int64_t rows,
                                           int64_t hd, float scale, float *out) {
    const __m256 vscale = _mm256_set1_ps(scale);
    int64_t c = 0;
    while (c < rows) {
        if (c + 16 <= bs && rows - c > 8) {
            scores2x1_256(q, q, keys, f16, bs, c, c + 8, hd, vscale, 8, rows - c - 8, out, out);
            c += 16;
        } else {
            if (c + 8 <= bs) scores1x1_256(q, keys, f16, 1, bs, c, hd, vscale, rows - c, out);
            else scores1x1_256(q, keys, f16, 0, bs, c, hd, vscale, rows - c, out);
            c += 8;
        }
    }
}

SWK_TARGET_AVX2 SWK_INLINE void scores4_256(const float *const *q, const void *keys, int f16, int64_t bs,
                                            int64_t rows, int64_t hd, float scale, float *const *out) {
    const __m256 vscale = _mm256_set1_ps(scale);
    for (int64_t c = 0; c < rows; c += 8) {
        const int64_t n = rows - c;
        if (c + 8 <= bs) {
            scores2x1_256(q[0], q[1], keys, f16, bs, c, c, hd, vscale, n, n, out[0], out[1]);
            scores2x1_256(q[2], q[3], keys, f16, bs, c, c, hd, vscale, n, n, out[2], out[3]);
        } else {
            for (int i = 0; i < 4; i++) scores1x1_256(q[i], keys, f16, 0, bs, c, hd, vscale, n, out[i]);
        }
    }
}

SWK_TARGET_AVX2 void swk_attn_scores_avx2(const float *q, const void *keys, int kv_f16, int64_t block_size,
                                          int64_t rows, int64_t hd, float scale, float *out) {
    if (kv_f16) scores_256(q, keys, 1, block_size, rows, hd, scale, out);
    else scores_256(q, keys, 0, block_size, rows, hd, scale, out);
}

SWK_TARGET_AVX2 void swk_attn_scores4_avx2(const float *const q[4], const void *keys, int kv_f16,
                                           int64_t block_size, int64_t rows, int64_t hd, float scale,
                                           float *const out[4]) {
    if (kv_f16) scores4_256(q, keys, 1, block_size, rows, hd, scale, out);
    else scores4_256(q, keys, 0, block_size, rows, hd, scale, out);
}

/// One weight row over the 32 dimensions c ..< c + 32 (four vectors, eight chains).
SWK_TARGET_AVX2 SWK_INLINE void accumulate1x4_256(const void *values, int f16, const float *w, int64_t rows,
                                                  int64_t hd, int64_t c, float *out) {
    const __m256i none = _mm256_setzero_si256();
    __m256 e0 = _mm256_loadu_ps(out + c), e1 = _mm256_loadu_ps(out + c + 8);
    __m256 e2 = _mm256_loadu_ps(out + c + 16), e3 = _mm256_loadu_ps(out + c + 24);
    __m256 o0 = _mm256_setzero_ps(), o1 = o0, o2 = o0, o3 = o0;
    int64_t r = 0;
    for (; r + 2 <= rows; r += 2) {
        const int64_t at = r * hd + c;
        const __m256 we = _mm256_set1_ps(w[r]), wo = _mm256_set1_ps(w[r + 1]);
        e0 = _mm256_fmadd_ps(we, kv8_256(values, at, f16, 1, none, 8), e0);
        e1 = _mm256_fmadd_ps(we, kv8_256(values, at + 8, f16, 1, none, 8), e1);
        e2 = _mm256_fmadd_ps(we, kv8_256(values, at + 16, f16, 1, none, 8), e2);
        e3 = _mm256_fmadd_ps(we, kv8_256(values, at + 24, f16, 1, none, 8), e3);
        o0 = _mm256_fmadd_ps(wo, kv8_256(values, at + hd, f16, 1, none, 8), o0);
        o1 = _mm256_fmadd_ps(wo, kv8_256(values, at + hd + 8, f16, 1, none, 8), o1);
        o2 = _mm256_fmadd_ps(wo, kv8_256(values, at + hd + 16, f16, 1, none, 8), o2);
        o3 = _mm256_fmadd_ps(wo, kv8_256(values, at + hd + 24, f16, 1, none, 8), o3);
    }
    if (r < rows) {
        const int64_t at = r * hd + c;
        const __m256 we = _mm256_set1_ps(w[r]);
        e0 = _mm256_fmadd_ps(we, kv8_256(values, at, f16, 1, none, 8), e0);
        e1 = _mm256_fmadd_ps(we, kv8_256(values, at + 8, f16, 1, none, 8), e1);
        e2 = _mm256_fmadd_ps(we, kv8_256(values, at + 16, f16, 1, none, 8), e2);
        e3 = _mm256_fmadd_ps(we, kv8_256(values, at + 24, f16, 1, none, 8), e3);
    }
    _mm256_storeu_ps(out + c, _mm256_add_ps(e0, o0));
    _mm256_storeu_ps(out + c + 8, _mm256_add_ps(e1, o1));
    _mm256_storeu_ps(out + c + 16, _mm256_add_ps(e2, o2));
    _mm256_storeu_ps(out + c + 24, _mm256_add_ps(e3, o3));
}

/// nq (1 or 4) weight rows over the dimensions c ..< c + 8 (the first n when not `full`):
/// two chains per weight row, each pair of value vectors loaded once for all rows.
SWK_TARGET_AVX2 SWK_INLINE void accumulate_n_256(const void *values, int f16, const float *const *w, int nq,
                                                 int64_t rows, int64_t hd, int64_t c, int full, int64_t n,
                                                 float *const *out) {
    const __m256i m = lanes8(n);
    __m256 e0 = _mm256_setzero_ps(), e1 = e0, e2 = e0, e3 = e0, o0 = e0, o1 = e0, o2 = e0, o3 = e0;
    e0 = full ? _mm256_loadu_ps(out[0] + c) : _mm256_maskload_ps(out[0] + c, m);
    if (nq == 4) {
        e1 = full ? _mm256_loadu_ps(out[1] + c) : _mm256_maskload_ps(out[1] + c, m);
        e2 = full ? _mm256_loadu_ps(out[2] + c) : _mm256_maskload_ps(out[2] + c, m);
        e3 = full ? _mm256_loadu_ps(out[3] + c) : _mm256_maskload_ps(out[3] + c, m);
    }
    int64_t r = 0;
    for (; r + 2 <= rows; r += 2) {
        const __m256 ve = kv8_256(values, r * hd + c, f16, full, m, n);
        const __m256 vo = kv8_256(values, (r + 1) * hd + c, f16, full, m, n);
        FMA256(e0, w[0][r], ve); FMA256(o0, w[0][r + 1], vo);
        if (nq == 4) {
            FMA256(e1, w[1][r], ve); FMA256(o1, w[1][r + 1], vo);
            FMA256(e2, w[2][r], ve); FMA256(o2, w[2][r + 1], vo);
            FMA256(e3, w[3][r], ve); FMA256(o3, w[3][r + 1], vo);
        }
    }
    if (r < rows) {
        const __m256 ve = kv8_256(values, r * hd + c, f16, full, m, n);
        FMA256(e0, w[0][r], ve);
        if (nq == 4) { FMA256(e1, w[1][r], ve); FMA256(e2, w[2][r], ve); FMA256(e3, w[3][r], ve); }
    }
    store8_256(out[0] + c, _mm256_add_ps(e0, o0), n, m);
    if (nq == 4) {
        store8_256(out[1] + c, _mm256_add_ps(e1, o1), n, m);
        store8_256(out[2] + c, _mm256_add_ps(e2, o2), n, m);
        store8_256(out[3] + c, _mm256_add_ps(e3, o3), n, m);
    }
}

SWK_TARGET_AVX2 SWK_INLINE void accumulate_256(const void *values, int f16, const float *w, int64_t rows,
                                               int64_t hd, float *out) {
    int64_t c = 0;
    for (; c + 32 <= hd; c += 32) accumulate1x4_256(values, f16, w, rows, hd, c, out);
    for (; c + 8 <= hd; c += 8) accumulate_n_256(values, f16, &w, 1, rows, hd, c, 1, 8, &out);
    if (c < hd) accumulate_n_256(values, f16, &w, 1, rows, hd, c, 0, hd - c, &out);
}

SWK_TARGET_AVX2 SWK_INLINE void accumulate4_256(const void *values, int f16, const float *const *w, int64_t rows,
                                                int64_t hd, float *const *out) {
    int64_t c = 0;
    for (; c + 8 <= hd; c += 8) accumulate_n_256(values, f16, w, 4, rows, hd, c, 1, 8, out);
    if (c < hd) accumulate_n_256(values, f16, w, 4, rows, hd, c, 0, hd - c, out);
}

SWK_TARGET_AVX2 void swk_attn_accumulate_avx2(const void *values, int kv_f16, const float *weights, int64_t rows,
                                              int64_t hd, float *out) {
    if (kv_f16) accumulate_256(values, 1, weights, rows, hd, out);
    else accumulate_256(values, 0, weights, rows, hd, out);
}

SWK_TARGET_AVX2 void swk_attn_accumulate4_avx2(const void *values, int kv_f16, const float *const weights[4],
                                               int64_t rows, int64_t hd, float *const out[4]) {
    if (kv_f16) accumulate4_256(values, 1, weights, rows, hd, out);
    else accumulate4_256(values, 0, weights, rows, hd, out);
}

#endif  // SWK_X86
