// matmul_kquants.c: matmul micro-kernels for the super-block weight formats Q2_K, Q3_K,
// Q4_K, Q5_K, Q6_K and IQ4_XS (layouts and the activation format: kquant_blocks.h).
//
// ------------------------------------------------------------------------ the product --
// Per super-block b of weight row j and activation row i, with the weights in the common
// form (u, off, sc, mn, d, dmin) and the activations (q, A, da):
//   S_g = sum over the group's 16 elements of u * q  -  off * A[g]          (exact int)
//   y[i][j] = sum over b of  da * (d * sum_g sc[g] * S_g  -  dmin * sum_g mn[g] * A[g])
// Only the float accumulation order matters; on each path it is one fixed sequence for every
// (i, j), whatever m, the j range or the loop that computes it (batch invariance):
//   baseline: float acc = 0; per b: I = sum_g sc[g] S_g, M = sum_g mn[g] A[g] (exact ints);
//             acc = acc + (d*da) * I; then (min formats) acc = acc - (dmin*da) * M.
//   avx512:   16 float lanes, lane L = group G(L) (kquant_blocks.h); per b in order:
//             I[L] = S_G(L) (four VNNI steps, exact), acc = fma((float)I, (d*sc[G(L)])*da, acc),
//             then (min formats) acc = fnmadd(dmin*mn[G(L)], ad[L], acc); at the end the
//             fixed tree (l + l+8), (l + l+4), (l + l+2), (0 + 1).
//   avx2:     8 float lanes; per b, per half h (lanes 8h..8h+7 of the avx512 order) the same
//             two steps; at the end (l + l+4), (l + l+2), (0 + 1).
// The unsigned VNNI / maddubs operand is the weight u; the offset term starts the integer
// chain as nA << log2(off). IQ4_XS on AVX2 instead multiplies the signed code-book values
// with the sign trick (maddubs(|w|, sign(q, w))), as u = w + 128 would saturate maddubs.
//
// ---------------------------------------------------------------------- loop structure --
// As matmul_q8.c: weight rows in blocks of about 16 KB, each run against chunks of 8-10
// (AVX-512) / 4 (AVX2) / 16 (baseline) activation rows, one weight row at a time. The first
// chunk streams the block once from memory; a weight super-block is unpacked into
// registers once, straight into the activation lane order, and reused by the whole chunk. On
// AVX-512, steps of more than one chunk (prefill) unpack each block of weight rows once into
// the thread's scratch and run every chunk against that copy. `from_memory` is unused.
#include "kquant_blocks.h"

#define SWK_INLINE static inline __attribute__((always_inline))

/// log2 of the offset of an offset format (0 for the min formats).
#define KQ_SHIFT(type) ((type) == SWK_TYPE_Q6_K ? 5 : (type) == SWK_TYPE_Q3_K ? 2 : (type) == SWK_TYPE_IQ4_XS ? 7 : 0)

/// Weight rows per block of about 16 KB (4..32).
static inline int64_t kq_rows_per_block(int64_t wrb) {
    int64_t jn = 16384 / wrb;
    return jn < 4 ? 4 : jn > 32 ? 32 : jn;
}

// =============================================================================== baseline

#define KQ_BASELINE_MR 16

SWK_INLINE void kq_matmul_baseline(SWK_MATMUL_PARAMS, int type) {
    (void)scratch;
    (void)scratch_bytes;
    (void)from_memory;
    const int64_t nb = k / KQ_BLOCK, arb = nb * KQ_ACT_BYTES, bb = kq_block_bytes(type), wrb = nb * bb;
    const int mins = kq_has_mins(type);
    const uint8_t *au = (const uint8_t *)a, *wu = (const uint8_t *)w;
    kq_decoded blk;
    for (int64_t j = j0; j < j1; j++) {
        for (int64_t it = 0; it < m; it += KQ_BASELINE_MR) {
            const int mr = m - it < KQ_BASELINE_MR ? (int)(m - it) : KQ_BASELINE_MR;
            float acc[KQ_BASELINE_MR];
            for (int i = 0; i < mr; i++) acc[i] = 0.0f;
            for (int64_t b = 0; b < nb; b++) {
                kq_decode(type, wu + j * wrb + b * bb, &blk);
                for (int i = 0; i < mr; i++) {
                    const uint8_t *act = au + (it + i) * arb + b * KQ_ACT_BYTES;
                    int32_t isum = 0, msum = 0;
                    for (int g = 0; g < 16; g++) {
                        int32_t na;
                        __builtin_memcpy(&na, act + KQ_ACT_NSUM + 4 * KQ_GROUP_LANE(g), 4);
                        int32_t s = blk.off * na;
                        for (int t = 0; t < 16; t++) {
                            const int e = 16 * g + t;
                            s += (int32_t)blk.u[e] * (int32_t)(int8_t)act[KQ_ACT_OFF(e)];
                        }
                        isum += blk.sc[g] * s;
                        msum -= blk.mn[g] * na;
                    }
                    float da;
                    __builtin_memcpy(&da, act + KQ_ACT_DA, 4);
                    const float sd = blk.d * da;
                    const float ti = sd * (float)isum;
                    acc[i] = acc[i] + ti;
                    if (mins) {
                        const float sm = blk.dmin * da;
                        const float tm = sm * (float)msum;
                        acc[i] = acc[i] - tm;
                    }
                }
            }
            for (int i = 0; i < mr; i++) y[(it + i) * ldy + j] = acc[i];
        }
    }
}

#define KQ_EXPORT_BASELINE(name, type) \
    static void swk_matmul_##name##_baseline(SWK_MATMUL_PARAMS) { \
        kq_matmul_baseline(a, w, y, m, k, ldy, j0, j1, scratch, scratch_bytes, from_memory, type); \
    }
KQ_EXPORT_BASELINE(q2_k, SWK_TYPE_Q2_K)
KQ_EXPORT_BASELINE(q3_k, SWK_TYPE_Q3_K)
KQ_EXPORT_BASELINE(q4_k, SWK_TYPE_Q4_K)
KQ_EXPORT_BASELINE(q5_k, SWK_TYPE_Q5_K)
KQ_EXPORT_BASELINE(q6_k, SWK_TYPE_Q6_K)
KQ_EXPORT_BASELINE(iq4_xs, SWK_TYPE_IQ4_XS)

#if SWK_X86

/// Scale bytes in group order -> lane order (byte L = byte G(L)), and the same for the
/// 8 per-32 scales of Q4_K / Q5_K / IQ4_XS (byte L = byte G(L) / 2).
#define KQ_LANE_ORDER16 _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15)
#define KQ_LANE_ORDER8 _mm_setr_epi8(0, 2, 4, 6, 0, 2, 4, 6, 1, 3, 5, 7, 1, 3, 5, 7)

/// The per-lane scale bytes of one super-block: sc (signed int8, lane order) and, for the
/// min formats, mn (unsigned, lane order); d and dmin.
typedef struct {
    __m128i sc, mn;
    float d, dmin;
} kq_scales;

SWK_TARGET_AVX2 SWK_INLINE void kq_scales_sse(int type, const uint8_t *blk, kq_scales *o) {
    switch (type) {
    case SWK_TYPE_Q2_K: {
        const __m128i s = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)blk), KQ_LANE_ORDER16);
        o->sc = _mm_and_si128(s, _mm_set1_epi8(15));
        o->mn = _mm_and_si128(_mm_srli_epi16(s, 4), _mm_set1_epi8(15));
        o->d = _cvtsh_ss(KQ_U16(blk + 80));
        o->dmin = _cvtsh_ss(KQ_U16(blk + 82));
        return;
    }
    case SWK_TYPE_Q3_K: {
        uint64_t lo;
        uint32_t h;
        __builtin_memcpy(&lo, blk + 96, 8);
        __builtin_memcpy(&h, blk + 104, 4);
        const uint64_t m2 = 0x03030303u, m4 = 0x0F0F0F0F0F0F0F0Full;
        const uint64_t ha = (h & m2) | ((h >> 2) & m2) << 32, hb = ((h >> 4) & m2) | ((h >> 6) & m2) << 32;
        const uint64_t sa = (lo & m4) | ha << 4, sb = ((lo >> 4) & m4) | hb << 4;
        const __m128i s = _mm_sub_epi8(_mm_set_epi64x((long long)sb, (long long)sa), _mm_set1_epi8(32));
        o->sc = _mm_shuffle_epi8(s, KQ_LANE_ORDER16);
        o->mn = _mm_setzero_si128();
        o->d = _cvtsh_ss(KQ_U16(blk + 108));
        o->dmin = 0.0f;
        return;
    }
    case SWK_TYPE_Q4_K:
    case SWK_TYPE_Q5_K: {
        // dwords of the 12 scale bytes b: sc[0..3] = b[0..3] & 63, sc[4..7] = (b[8..11] & 15) |
        // (b[0..3] >> 6) << 4, mn[0..3] = b[4..7] & 63, mn[4..7] = (b[8..11] >> 4) | (b[4..7] >> 6) << 4
        const __m128i b = _mm_loadu_si128((const __m128i *)(blk + 4));  // 12 scale bytes, 4 quant bytes
        const __m128i x = _mm_shuffle_epi8(b, _mm_setr_epi8(0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 8, 9, 10, 11));
        const __m128i y = _mm_shuffle_epi8(b, _mm_setr_epi8(0, 1, 2, 3, 0, 1, 2, 3, 4, 5, 6, 7, 4, 5, 6, 7));
        const __m128i lo = _mm_and_si128(_mm_srlv_epi32(x, _mm_setr_epi32(0, 0, 0, 4)),
                                         _mm_setr_epi32(0x3F3F3F3F, 0x0F0F0F0F, 0x3F3F3F3F, 0x0F0F0F0F));
        const __m128i hi = _mm_and_si128(_mm_srlv_epi32(y, _mm_setr_epi32(0, 2, 0, 2)), _mm_setr_epi32(0, 0x30303030, 0, 0x30303030));
        const __m128i s = _mm_or_si128(lo, hi);  // sc[0..7], mn[0..7]
        o->sc = _mm_shuffle_epi8(s, KQ_LANE_ORDER8);
        o->mn = _mm_shuffle_epi8(s, _mm_add_epi8(KQ_LANE_ORDER8, _mm_set1_epi8(8)));
        o->d = _cvtsh_ss(KQ_U16(blk));
        o->dmin = _cvtsh_ss(KQ_U16(blk + 2));
        return;
    }
    case SWK_TYPE_Q6_K:
        o->sc = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(blk + 192)), KQ_LANE_ORDER16);
        o->mn = _mm_setzero_si128();
        o->d = _cvtsh_ss(KQ_U16(blk + 208));
        o->dmin = 0.0f;
        return;
    default: {  // IQ4_XS
        uint32_t lo;
        __builtin_memcpy(&lo, blk + 4, 4);
        const uint64_t ls = _pdep_u64(lo, 0x0F0F0F0F0F0F0F0Full) | _pdep_u64(KQ_U16(blk + 2), 0x3030303030303030ull);
        const __m128i s = _mm_sub_epi8(_mm_cvtsi64_si128((long long)ls), _mm_set1_epi8(32));
        o->sc = _mm_shuffle_epi8(s, KQ_LANE_ORDER8);
        o->mn = _mm_setzero_si128();
        o->d = _cvtsh_ss(KQ_U16(blk));
        o->dmin = 0.0f;
        return;
    }
    }
}

// ================================================================================== AVX2

/// Natural-order half h of 64-element vector r of one super-block: elements 64r + 32h + (0..31)
/// as unsigned u (IQ4_XS: the signed code-book values).
SWK_TARGET_AVX2 SWK_INLINE __m256i kq_half_avx2(int type, const uint8_t *blk, int r, int h) {
    const __m256i m4 = _mm256_set1_epi8(15), m2 = _mm256_set1_epi8(3);
    switch (type) {
    case SWK_TYPE_Q2_K:
    case SWK_TYPE_Q3_K: {
        const int n = r >> 1, s = 2 * (r & 1) + h;
        const uint8_t *qs = blk + (type == SWK_TYPE_Q2_K ? 16 : 32);
        __m256i v = _mm256_and_si256(_mm256_srli_epi16(_mm256_loadu_si256((const __m256i *)(qs + 32 * n)), 2 * s), m2);
        if (type == SWK_TYPE_Q3_K) {
            const __m256i bit = _mm256_set1_epi8((char)(1 << (4 * n + s)));
            const __m256i hm = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)blk), bit);
            v = _mm256_or_si256(v, _mm256_and_si256(_mm256_cmpeq_epi8(hm, bit), _mm256_set1_epi8(4)));
        }
        return v;
    }
    case SWK_TYPE_Q4_K:
    case SWK_TYPE_Q5_K: {
        const uint8_t *qs = blk + (type == SWK_TYPE_Q5_K ? 48 : 16);
        __m256i v = _mm256_and_si256(_mm256_srli_epi16(_mm256_loadu_si256((const __m256i *)(qs + 32 * r)), 4 * h), m4);
        if (type == SWK_TYPE_Q5_K) {
            const __m256i bit = _mm256_set1_epi8((char)(1 << (2 * r + h)));
            const __m256i qh = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(blk + 16)), bit);
            v = _mm256_or_si256(v, _mm256_and_si256(_mm256_cmpeq_epi8(qh, bit), _mm256_set1_epi8(16)));
        }
        return v;
    }
    case SWK_TYPE_Q6_K: {
        const int n = r >> 1, hh = r & 1, s = 2 * hh + h;
        const __m256i low =
            _mm256_and_si256(_mm256_srli_epi16(_mm256_loadu_si256((const __m256i *)(blk + 64 * n + 32 * h)), 4 * hh), m4);
        const __m256i qh = _mm256_loadu_si256((const __m256i *)(blk + 128 + 32 * n));
        const __m256i high = _mm256_and_si256(s <= 2 ? _mm256_slli_epi16(qh, 4 - 2 * s) : _mm256_srli_epi16(qh, 2),
                                              _mm256_set1_epi8(0x30));
        return _mm256_or_si256(low, high);
    }
    default: {  // IQ4_XS
        const __m128i x = _mm_loadu_si128((const __m128i *)(blk + 8 + 16 * (2 * r + h)));
        const __m256i nib = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(x, 4), x), m4);
        const __m256i book = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)kq_iq4_values));
        return _mm256_shuffle_epi8(book, nib);
    }
    }
}

SWK_TARGET_AVX2 SWK_INLINE float kq_hsum8_avx2(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// y[i * ldy] for i < mr (a constant after inlining): activation rows at a (stride arb)
/// times one weight row w of nb super-blocks.
SWK_TARGET_AVX2 SWK_INLINE void kq_rows_avx2(int type, const uint8_t *a, int64_t arb, const uint8_t *w, float *y,
                                             int64_t ldy, int64_t nb, int mr) {
    const int64_t bb = kq_block_bytes(type);
    const int mins = kq_has_mins(type), sh = KQ_SHIFT(type), sgn = type == SWK_TYPE_IQ4_XS;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[4];
    for (int i = 0; i < mr; i++) acc[i] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *blk = w + b * bb;
        kq_scales s;
        kq_scales_sse(type, blk, &s);
        for (int h = 0; h < 2; h++) {
            __m256i v[4], U[4];
            for (int r = 0; r < 4; r++) v[r] = kq_half_avx2(type, blk, r, h);
            const __m256i t0 = _mm256_unpacklo_epi32(v[0], v[1]), t1 = _mm256_unpackhi_epi32(v[0], v[1]);
            const __m256i t2 = _mm256_unpacklo_epi32(v[2], v[3]), t3 = _mm256_unpackhi_epi32(v[2], v[3]);
            U[0] = _mm256_unpacklo_epi64(t0, t2);
            U[1] = _mm256_unpackhi_epi64(t0, t2);
            U[2] = _mm256_unpacklo_epi64(t1, t3);
            U[3] = _mm256_unpackhi_epi64(t1, t3);
            const __m256 dw = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(h ? _mm_unpackhi_epi64(s.sc, s.sc) : s.sc)),
                                            _mm256_set1_ps(s.d));
            const __m256 mw = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(h ? _mm_unpackhi_epi64(s.mn, s.mn) : s.mn)),
                                            _mm256_set1_ps(s.dmin));
            __m256i Ua[4];
            if (sgn)
                for (int x = 0; x < 4; x++) Ua[x] = _mm256_sign_epi8(U[x], U[x]);
            for (int i = 0; i < mr; i++) {
                const uint8_t *act = a + i * arb + b * KQ_ACT_BYTES;
                __m256i I = sh && !sgn ? _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)(act + KQ_ACT_NSUM + 32 * h)), sh)
                                       : _mm256_setzero_si256();
                for (int x = 0; x < 4; x++) {
                    const __m256i q = _mm256_loadu_si256((const __m256i *)(act + 64 * x + 32 * h));
                    const __m256i p = sgn ? _mm256_maddubs_epi16(Ua[x], _mm256_sign_epi8(q, U[x])) : _mm256_maddubs_epi16(U[x], q);
                    I = _mm256_add_epi32(I, _mm256_madd_epi16(p, ones));
                }
                float da;
                __builtin_memcpy(&da, act + KQ_ACT_DA, 4);
                acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(I), _mm256_mul_ps(dw, _mm256_set1_ps(da)), acc[i]);
                if (mins) acc[i] = _mm256_fnmadd_ps(mw, _mm256_loadu_ps((const float *)(act + KQ_ACT_AD + 32 * h)), acc[i]);
            }
        }
    }
    for (int i = 0; i < mr; i++) y[i * ldy] = kq_hsum8_avx2(acc[i]);
}

SWK_TARGET_AVX2 SWK_INLINE void kq_matmul_avx2(SWK_MATMUL_PARAMS, int type) {
    (void)scratch;
    (void)scratch_bytes;
    (void)from_memory;
    const int64_t nb = k / KQ_BLOCK, arb = nb * KQ_ACT_BYTES, wrb = nb * kq_block_bytes(type);
    const uint8_t *au = (const uint8_t *)a, *wu = (const uint8_t *)w;
    const int64_t jn = kq_rows_per_block(wrb);
    for (int64_t jb = j0; jb < j1; jb += jn) {
        const int64_t je = j1 - jb < jn ? j1 : jb + jn;
        for (int64_t it = 0; it < m; it += 4) {
            const uint8_t *ap = au + it * arb;
            for (int64_t j = jb; j < je; j++) {
                const uint8_t *wp = wu + j * wrb;
                if (it == 0) swk_prefetch_ahead(wp, wrb);  // the first chunk streams the rows
                float *yp = y + it * ldy + j;
                switch (m - it) {
                    case 1: kq_rows_avx2(type, ap, arb, wp, yp, ldy, nb, 1); break;
                    case 2: kq_rows_avx2(type, ap, arb, wp, yp, ldy, nb, 2); break;
                    case 3: kq_rows_avx2(type, ap, arb, wp, yp, ldy, nb, 3); break;
                    default: kq_rows_avx2(type, ap, arb, wp, yp, ldy, nb, 4); break;
                }
            }
        }
    }
}

#define KQ_EXPORT_AVX2(name, type) \
    SWK_TARGET_AVX2 static void swk_matmul_##name##_avx2(SWK_MATMUL_PARAMS) { \
        kq_matmul_avx2(a, w, y, m, k, ldy, j0, j1, scratch, scratch_bytes, from_memory, type); \
    }
KQ_EXPORT_AVX2(q2_k, SWK_TYPE_Q2_K)
KQ_EXPORT_AVX2(q3_k, SWK_TYPE_Q3_K)
KQ_EXPORT_AVX2(q4_k, SWK_TYPE_Q4_K)
KQ_EXPORT_AVX2(q5_k, SWK_TYPE_Q5_K)
KQ_EXPORT_AVX2(q6_k, SWK_TYPE_Q6_K)
KQ_EXPORT_AVX2(iq4_xs, SWK_TYPE_IQ4_XS)

// ================================================================================ AVX-512

/// Per-16-bit shift counts: `lo` in the low 256 bits, `hi` in the high 256 bits.
#define KQ_SHIFTS2(lo, hi)                                                                        \
    _mm512_set_epi64((hi) * 0x0001000100010001ll, (hi) * 0x0001000100010001ll, (hi) * 0x0001000100010001ll, \
                     (hi) * 0x0001000100010001ll, (lo) * 0x0001000100010001ll, (lo) * 0x0001000100010001ll, \
                     (lo) * 0x0001000100010001ll, (lo) * 0x0001000100010001ll)
/// A byte `lo` in the low 256 bits, `hi` in the high 256 bits.
#define KQ_BYTES2(lo, hi) \
    _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi8((char)(lo))), _mm256_set1_epi8((char)(hi)), 1)

/// Natural-order vector r of one super-block: elements 64r + (0..63) as unsigned u.
SWK_TARGET_AVX512 SWK_INLINE __m512i kq_vector_avx512(int type, const uint8_t *blk, int r) {
    const __m512i m4 = _mm512_set1_epi8(15), m2 = _mm512_set1_epi8(3);
    switch (type) {
    case SWK_TYPE_Q2_K:
    case SWK_TYPE_Q3_K: {
        const int n = r >> 1, s = 2 * (r & 1);
        const uint8_t *qs = blk + (type == SWK_TYPE_Q2_K ? 16 : 32);
        const __m512i z = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(qs + 32 * n)));
        __m512i v = _mm512_and_si512(_mm512_srlv_epi16(z, KQ_SHIFTS2(2 * s, 2 * s + 2)), m2);
        if (type == SWK_TYPE_Q3_K) {
            const __m512i hm = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)blk));
            const __mmask64 set = _mm512_test_epi8_mask(hm, KQ_BYTES2(1 << (4 * n + s), 1 << (4 * n + s + 1)));
            v = _mm512_mask_add_epi8(v, set, v, _mm512_set1_epi8(4));
        }
        return v;
    }
    case SWK_TYPE_Q4_K:
    case SWK_TYPE_Q5_K: {
        const uint8_t *qs = blk + (type == SWK_TYPE_Q5_K ? 48 : 16);
        const __m512i z = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(qs + 32 * r)));
        __m512i v = _mm512_and_si512(_mm512_srlv_epi16(z, KQ_SHIFTS2(0, 4)), m4);
        if (type == SWK_TYPE_Q5_K) {
            const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(blk + 16)));
            const __mmask64 set = _mm512_test_epi8_mask(qh, KQ_BYTES2(1 << (2 * r), 1 << (2 * r + 1)));
            v = _mm512_mask_add_epi8(v, set, v, _mm512_set1_epi8(16));
        }
        return v;
    }
    case SWK_TYPE_Q6_K: {
        const int n = r >> 1, hh = r & 1;
        __m512i low = _mm512_loadu_si512((const void *)(blk + 64 * n));
        if (hh) low = _mm512_srli_epi16(low, 4);
        low = _mm512_and_si512(low, m4);
        const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(blk + 128 + 32 * n)));
        const __m512i high = hh ? _mm512_srlv_epi16(qh, KQ_SHIFTS2(0, 2)) : _mm512_sllv_epi16(qh, KQ_SHIFTS2(4, 2));
        return _mm512_ternarylogic_epi32(high, _mm512_set1_epi8(0x30), low, 0xEA);  // (high & 0x30) | low
    }
    default: {  // IQ4_XS: code-book values + 128
        __m512i z = _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(blk + 8 + 32 * r)));
        z = _mm512_shuffle_i64x2(z, z, 0x50);  // 128-bit lanes: bytes 0..15, 0..15, 16..31, 16..31
        const __m512i shifts = _mm512_set_epi64(0x0004000400040004ll, 0x0004000400040004ll, 0, 0, 0x0004000400040004ll,
                                                0x0004000400040004ll, 0, 0);
        const __m512i nib = _mm512_and_si512(_mm512_srlv_epi16(z, shifts), m4);
        const __m512i book = _mm512_add_epi8(_mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)kq_iq4_values)),
                                             _mm512_set1_epi8((char)0x80));
        return _mm512_shuffle_epi8(book, nib);
    }
    }
}

/// Lane L of a 16-lane int32 vector: f(L) (a constant vector).
#define KQ_LANES(f)                                                                                   \
    _mm512_setr_epi32(f(0), f(1), f(2), f(3), f(4), f(5), f(6), f(7), f(8), f(9), f(10), f(11), f(12), \
                      f(13), f(14), f(15))
// Source dwords of lane L of U[x] (the lane order of kquant_blocks.h), per format.
#define KQ_Q4K_DW(L) (8 * ((L) & 3) + 4 * (((L) >> 2) & 1))   // in qs[128]; nibble L >> 3
#define KQ_Q4K_SH(L) (4 * ((L) >> 3))
#define KQ_Q5K_HDW(L) (4 * (((L) >> 2) & 1))                  // in qh[32]; bit 2 (L & 3) + (L >> 3)
#define KQ_Q5K_HBIT(L) (2 * ((L) & 3) + ((L) >> 3))
#define KQ_Q6K_LDW(L) (16 * (((L) & 3) >> 1) + 4 * ((L) >> 2)) // in ql[128]; nibble L & 1
#define KQ_Q6K_LSH(L) (4 * ((L) & 1))
#define KQ_Q6K_HDW(L) (8 * (((L) & 3) >> 1) + 4 * (((L) >> 2) & 1))  // in qh[64]; bits 2s, s = 2 (L & 1) + (L >> 3)
#define KQ_Q6K_HROT(L) ((32 + 4 - 2 * (2 * ((L) & 1) + ((L) >> 3))) & 31)  // rotate bits 2s, 2s+1 of each byte to 4, 5
#define KQ_IQ4_DW(L) (4 * (KQ_LANE_GROUP(L) >> 1))             // in qs[128]; nibble (L >> 2) & 1
#define KQ_IQ4_SH(L) (4 * (((L) >> 2) & 1))

/// The weights of one super-block in the activation lane order: U[x] lane L = elements
/// 16 G(L) + 4x + (0..3) as unsigned u. Q4_K, Q5_K, Q6_K and IQ4_XS gather their dwords
/// straight from the stored bytes (two-source permutes); Q2_K and Q3_K unpack the four
/// natural-order vectors and transpose them.
SWK_TARGET_AVX512 SWK_INLINE void kq_lanes_avx512(int type, const uint8_t *blk, __m512i U[4]) {
    const __m512i m4 = _mm512_set1_epi8(15);
    switch (type) {
    case SWK_TYPE_Q4_K:
    case SWK_TYPE_Q5_K: {
        const uint8_t *qs = blk + (type == SWK_TYPE_Q5_K ? 48 : 16);
        const __m512i q0 = _mm512_loadu_si512((const void *)qs), q1 = _mm512_loadu_si512((const void *)(qs + 64));
        const __m512i idx = KQ_LANES(KQ_Q4K_DW), sh = KQ_LANES(KQ_Q4K_SH);
        __m512i qh = _mm512_setzero_si512(), hidx = _mm512_setzero_si512(), hbit = _mm512_setzero_si512();
        if (type == SWK_TYPE_Q5_K) {
            qh = _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(blk + 16)));
            hidx = KQ_LANES(KQ_Q5K_HDW);
            hbit = KQ_LANES(KQ_Q5K_HBIT);
        }
        for (int x = 0; x < 4; x++) {
            const __m512i ix = _mm512_add_epi32(idx, _mm512_set1_epi32(x));
            __m512i v = _mm512_and_si512(_mm512_srlv_epi32(_mm512_permutex2var_epi32(q0, ix, q1), sh), m4);
            if (type == SWK_TYPE_Q5_K) {
                const __m512i h = _mm512_srlv_epi32(_mm512_permutexvar_epi32(_mm512_add_epi32(hidx, _mm512_set1_epi32(x)), qh), hbit);
                v = _mm512_or_si512(v, _mm512_slli_epi32(_mm512_and_si512(h, _mm512_set1_epi8(1)), 4));
            }
            U[x] = v;
        }
        return;
    }
    case SWK_TYPE_Q6_K: {
        const __m512i l0 = _mm512_loadu_si512((const void *)blk), l1 = _mm512_loadu_si512((const void *)(blk + 64));
        const __m512i qh = _mm512_loadu_si512((const void *)(blk + 128));
        const __m512i lidx = KQ_LANES(KQ_Q6K_LDW), lsh = KQ_LANES(KQ_Q6K_LSH);
        const __m512i hidx = KQ_LANES(KQ_Q6K_HDW), hrot = KQ_LANES(KQ_Q6K_HROT);
        for (int x = 0; x < 4; x++) {
            const __m512i xs = _mm512_set1_epi32(x);
            const __m512i low = _mm512_srlv_epi32(_mm512_permutex2var_epi32(l0, _mm512_add_epi32(lidx, xs), l1), lsh);
            const __m512i high = _mm512_and_si512(
                _mm512_rolv_epi32(_mm512_permutexvar_epi32(_mm512_add_epi32(hidx, xs), qh), hrot), _mm512_set1_epi8(0x30));
            U[x] = _mm512_ternarylogic_epi32(low, m4, high, 0xEA);  // (low & 15) | high
        }
        return;
    }
    case SWK_TYPE_IQ4_XS: {
        const __m512i q0 = _mm512_loadu_si512((const void *)(blk + 8)), q1 = _mm512_loadu_si512((const void *)(blk + 72));
        const __m512i idx = KQ_LANES(KQ_IQ4_DW), sh = KQ_LANES(KQ_IQ4_SH);
        const __m512i book = _mm512_add_epi8(_mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)kq_iq4_values)),
                                             _mm512_set1_epi8((char)0x80));
        for (int x = 0; x < 4; x++) {
            const __m512i d = _mm512_permutex2var_epi32(q0, _mm512_add_epi32(idx, _mm512_set1_epi32(x)), q1);
            U[x] = _mm512_shuffle_epi8(book, _mm512_and_si512(_mm512_srlv_epi32(d, sh), m4));
        }
        return;
    }
    default: {
        __m512i v[4];
        for (int r = 0; r < 4; r++) v[r] = kq_vector_avx512(type, blk, r);
        const __m512i t0 = _mm512_unpacklo_epi32(v[0], v[1]), t1 = _mm512_unpackhi_epi32(v[0], v[1]);
        const __m512i t2 = _mm512_unpacklo_epi32(v[2], v[3]), t3 = _mm512_unpackhi_epi32(v[2], v[3]);
        U[0] = _mm512_unpacklo_epi64(t0, t2);
        U[1] = _mm512_unpackhi_epi64(t0, t2);
        U[2] = _mm512_unpacklo_epi64(t1, t3);
        U[3] = _mm512_unpackhi_epi64(t1, t3);
        return;
    }
    }
}

SWK_TARGET_AVX512 SWK_INLINE float kq_hsum16_avx512(__m512 v) {
    __m256 s8 = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

SWK_TARGET_AVX512 SWK_INLINE void kq_rows_avx512(int type, const uint8_t *a, int64_t arb, const uint8_t *w, float *y,
                                                 int64_t ldy, int64_t nb, int mr) {
    const int64_t bb = kq_block_bytes(type);
    const int mins = kq_has_mins(type), sh = KQ_SHIFT(type);
    __m512 acc[SWK_CHUNK_MAX_ROWS];
    for (int i = 0; i < mr; i++) acc[i] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *blk = w + b * bb;
        kq_scales s;
        kq_scales_sse(type, blk, &s);
        __m512i U[4];
        kq_lanes_avx512(type, blk, U);
        const __m512 dw = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(s.sc)), _mm512_set1_ps(s.d));
        const __m512 mw = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(s.mn)), _mm512_set1_ps(s.dmin));
        for (int i = 0; i < mr; i++) {
            const uint8_t *act = a + i * arb + b * KQ_ACT_BYTES;
            __m512i I = sh ? _mm512_slli_epi32(_mm512_loadu_si512((const void *)(act + KQ_ACT_NSUM)), sh) : _mm512_setzero_si512();
            for (int x = 0; x < 4; x++) I = _mm512_dpbusd_epi32(I, U[x], _mm512_loadu_si512((const void *)(act + 64 * x)));
            float da;
            __builtin_memcpy(&da, act + KQ_ACT_DA, 4);
            acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(I), _mm512_mul_ps(dw, _mm512_set1_ps(da)), acc[i]);
            if (mins) acc[i] = _mm512_fnmadd_ps(mw, _mm512_loadu_ps((const void *)(act + KQ_ACT_AD)), acc[i]);
        }
    }
    for (int i = 0; i < mr; i++) y[i * ldy] = kq_hsum16_avx512(acc[i]);
}

/// One weight super-block as `kq_rows_avx512` builds it in registers: the weights in lane
/// order and the per-lane weight scales (384 bytes). Prefill stages a block of weight rows
/// like this once and runs every chunk of activation rows against the copy, instead of
/// unpacking each super-block again for every chunk.
typedef struct {
    __m512i U[4];
    __m512 dw, mw;
} kq_staged;

SWK_TARGET_AVX512 SWK_INLINE void kq_stage_avx512(int type, const uint8_t *w, int64_t nb, kq_staged *out) {
    const int64_t bb = kq_block_bytes(type);
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *blk = w + b * bb;
        kq_scales s;
        kq_scales_sse(type, blk, &s);
        kq_lanes_avx512(type, blk, out[b].U);
        out[b].dw = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(s.sc)), _mm512_set1_ps(s.d));
        out[b].mw = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(s.mn)), _mm512_set1_ps(s.dmin));
    }
}

/// `kq_rows_avx512` on a staged weight row: the same operations in the same order, so the
/// same bits.
SWK_TARGET_AVX512 SWK_INLINE void kq_rows_staged_avx512(int type, const uint8_t *a, int64_t arb, const kq_staged *st,
                                                        float *y, int64_t ldy, int64_t nb, int mr) {
    const int mins = kq_has_mins(type), sh = KQ_SHIFT(type);
    __m512 acc[SWK_CHUNK_MAX_ROWS];
    for (int i = 0; i < mr; i++) acc[i] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const __m512i U0 = st[b].U[0], U1 = st[b].U[1], U2 = st[b].U[2], U3 = st[b].U[3];
        const __m512 dw = st[b].dw, mw = st[b].mw;
        for (int i = 0; i < mr; i++) {
            const uint8_t *act = a + i * arb + b * KQ_ACT_BYTES;
            __m512i I = sh ? _mm512_slli_epi32(_mm512_loadu_si512((const void *)(act + KQ_ACT_NSUM)), sh) : _mm512_setzero_si512();
            I = _mm512_dpbusd_epi32(I, U0, _mm512_loadu_si512((const void *)act));
            I = _mm512_dpbusd_epi32(I, U1, _mm512_loadu_si512((const void *)(act + 64)));
            I = _mm512_dpbusd_epi32(I, U2, _mm512_loadu_si512((const void *)(act + 128)));
            I = _mm512_dpbusd_epi32(I, U3, _mm512_loadu_si512((const void *)(act + 192)));
            float da;
            __builtin_memcpy(&da, act + KQ_ACT_DA, 4);
            acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(I), _mm512_mul_ps(dw, _mm512_set1_ps(da)), acc[i]);
            if (mins) acc[i] = _mm512_fnmadd_ps(mw, _mm512_loadu_ps((const void *)(act + KQ_ACT_AD)), acc[i]);
        }
    }
    for (int i = 0; i < mr; i++) y[i * ldy] = kq_hsum16_avx512(acc[i]);
}

#define KQ_AVX512_ROWS(fn, src)                                                        \
    switch (mr) {                                                                      \
        case 1: fn(type, ap, arb, src, yp, ldy, nb, 1); break;                         \
        case 2: fn(type, ap, arb, src, yp, ldy, nb, 2); break;                         \
        case 3: fn(type, ap, arb, src, yp, ldy, nb, 3); break;                         \
        case 4: fn(type, ap, arb, src, yp, ldy, nb, 4); break;                         \
        case 5: fn(type, ap, arb, src, yp, ldy, nb, 5); break;                         \
        case 6: fn(type, ap, arb, src, yp, ldy, nb, 6); break;                         \
        case 7: fn(type, ap, arb, src, yp, ldy, nb, 7); break;                          \
        case 8: fn(type, ap, arb, src, yp, ldy, nb, 8); break;                          \
        case 9: fn(type, ap, arb, src, yp, ldy, nb, 9); break;                          \
        default: fn(type, ap, arb, src, yp, ldy, nb, 10); break;                        \
    }

SWK_TARGET_AVX512 SWK_INLINE void kq_matmul_avx512(SWK_MATMUL_PARAMS, int type) {
    (void)from_memory;
    const int64_t nb = k / KQ_BLOCK, arb = nb * KQ_ACT_BYTES, wrb = nb * kq_block_bytes(type);
    const uint8_t *au = (const uint8_t *)a, *wu = (const uint8_t *)w;
    const int64_t jn = kq_rows_per_block(wrb);
    // More than one chunk of activation rows: stage each block of weight rows once, when
    // the thread's scratch holds it (64-byte aligned).
    kq_staged *staged = (kq_staged *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    const int stage = swk_chunk_rows(m) < m && scratch != NULL &&
                      (int64_t)((char *)staged - (char *)scratch) + jn * nb * (int64_t)sizeof(kq_staged) <= scratch_bytes;
    for (int64_t jb = j0; jb < j1; jb += jn) {
        const int64_t je = j1 - jb < jn ? j1 : jb + jn;
        if (stage)
            for (int64_t j = jb; j < je; j++) {
                swk_prefetch_ahead(wu + j * wrb, wrb);
                kq_stage_avx512(type, wu + j * wrb, nb, staged + (j - jb) * nb);
            }
        for (int64_t it = 0, mr; it < m; it += mr) {
            mr = swk_chunk_rows(m - it);
            const uint8_t *ap = au + it * arb;
            for (int64_t j = jb; j < je; j++) {
                float *yp = y + it * ldy + j;
                if (stage) {
                    const kq_staged *sp = staged + (j - jb) * nb;
                    KQ_AVX512_ROWS(kq_rows_staged_avx512, sp)
                } else {
                    const uint8_t *wp = wu + j * wrb;
                    if (it == 0) swk_prefetch_ahead(wp, wrb);  // the first chunk streams the rows
                    KQ_AVX512_ROWS(kq_rows_avx512, wp)
                }
            }
        }
    }
}

#define KQ_EXPORT_AVX512(name, type) \
    SWK_TARGET_AVX512 static void swk_matmul_##name##_avx512(SWK_MATMUL_PARAMS) { \
        kq_matmul_avx512(a, w, y, m, k, ldy, j0, j1, scratch, scratch_bytes, from_memory, type); \
    }
KQ_EXPORT_AVX512(q2_k, SWK_TYPE_Q2_K)
KQ_EXPORT_AVX512(q3_k, SWK_TYPE_Q3_K)
KQ_EXPORT_AVX512(q4_k, SWK_TYPE_Q4_K)
KQ_EXPORT_AVX512(q5_k, SWK_TYPE_Q5_K)
KQ_EXPORT_AVX512(q6_k, SWK_TYPE_Q6_K)
KQ_EXPORT_AVX512(iq4_xs, SWK_TYPE_IQ4_XS)

#endif  // SWK_X86

// ------------------------------------------------------------------------- the table --

#define KQ_PICK(path)                                                  \
    switch (type) {                                                    \
    case SWK_TYPE_Q2_K: return swk_matmul_q2_k_##path;                 \
    case SWK_TYPE_Q3_K: return swk_matmul_q3_k_##path;                 \
    case SWK_TYPE_Q4_K: return swk_matmul_q4_k_##path;                 \
    case SWK_TYPE_Q5_K: return swk_matmul_q5_k_##path;                 \
    case SWK_TYPE_Q6_K: return swk_matmul_q6_k_##path;                 \
    case SWK_TYPE_IQ4_XS: return swk_matmul_iq4_xs_##path;             \
    default: return NULL;                                              \
    }

swk_matmul_fn swk_kquant_matmul(int path, int type) {
#if SWK_X86
    if (path == SWK_PATH_AVX512) { KQ_PICK(avx512) }
    if (path == SWK_PATH_AVX2) { KQ_PICK(avx2) }
#endif
    KQ_PICK(baseline)
}

void swk_kquant_prepare(int path, const float *x, void *out, int64_t m, int64_t k) {
#if SWK_X86
    if (path == SWK_PATH_AVX512) { swk_quantize_q8k_avx512(x, out, m, k); return; }
    if (path == SWK_PATH_AVX2) { swk_quantize_q8k_avx2(x, out, m, k); return; }
#endif
    swk_quantize_q8k_baseline(x, out, m, k);
}

int64_t swk_kquant_block_bytes(int type) { return kq_block_bytes(type); }
