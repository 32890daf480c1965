// Row kernels of the decoder: softmax, RMS norm, SwiGLU / GeGLU, add, F16 <-> F32.
// Each works on one contiguous row of n elements; callers loop over rows and threads.
//
// Reductions (softmax's sum, rms_norm's sum of squares) use sixteen lanes on every path:
// element i goes to lane i mod 16 (the last partial group too, its missing lanes adding
// nothing), each lane sums in increasing i, and the lanes are then added as a fixed tree:
// l + (l + 8) for l < 8, then l + (l + 4), then l + (l + 2), then lane 0 + lane 1.
// AVX-512 holds the sixteen lanes in one zmm, AVX2 in two ymm (lanes 0-7, 8-15), the
// baseline in an array, so AVX2 and AVX-512 give the same bits (same operations per lane:
// FMA, the same vector exp), and the baseline differs only by rounding (a multiply then
// an add instead of an FMA, libm's expf instead of the vector exp).
//
// Softmax: m = max x (NaN elements are skipped by the maximum, then give NaN through exp);
// e_i = exp(x_i - m); x_i = e_i · (1 / Σ e).
// The vector exp (both SIMD paths): clamp x to [-87, 88]; n = nearest integer to x·log2(e);
// r = x - n·ln2 in two FMA steps (ln2 split in a high part exact in few bits and the rest);
// e^r by the degree-7 Taylor polynomial in Horner form (|r| <= 0.35: truncation < 1e-8
// relative); times 2^n built in the exponent field. x < -87 (and -inf) gives 0, NaN gives NaN.
#include "kernels_internal.h"

#include <math.h>

#define SWK_INLINE static inline __attribute__((always_inline))

#ifdef __clang__
// No contraction into FMA in the portable path (see attention.c): its results are the same
// on every CPU.
#pragma STDC FP_CONTRACT OFF
#endif

// sqrt(2/pi) · 2 and sqrt(2/pi) · 2 · 0.044715: gelu_tanh(g) = 0.5·g·(1 + tanh(y)) with
// y = sqrt(2/pi)·(g + 0.044715·g³) equals g / (1 + e^(-2y)), 2y = g·(GELU_A + GELU_B·g²).
// That form has no cancellation for negative g (1 + tanh(y) does).
#define GELU_A 1.5957691216057308f
#define GELU_B 0.07135481627260025f

// Constants of the vector exp.
#define EXP_LOW (-87.0f)
#define EXP_HIGH 88.0f
#define EXP_LOG2E 1.44269504088896341f
#define EXP_LN2_HI 0.693359375f               // 355/512: n · EXP_LN2_HI is exact for |n| <= 127
#define EXP_LN2_LO (-2.12194440054690583e-4f)  // ln 2 - EXP_LN2_HI

// ---------------------------------------------------------------------------- baseline --

/// F16 -> F32 without branches (vectorisable), bit for bit what F16C's vcvtph2ps gives:
/// exact, and a signalling NaN comes back quiet (its quiet bit set), as on every path.
static inline float half_to_float_bl(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t em = h & 0x7FFFu;                    // exponent and mantissa
    uint32_t normal = (em << 13) + 0x38000000u;   // rebias the exponent: 15 -> 127
    normal += em >= 0x7C00u ? 0x38000000u : 0;    // inf / nan: exponent field 255
    normal |= em > 0x7C00u ? 0x00400000u : 0;     // nan: quiet
    union { float f; uint32_t u; } sub, out;
    sub.f = (float)(int32_t)em * 0x1p-24f;        // zero and subnormals: m · 2^-24, exact
    out.u = sign | (em < 0x400u ? sub.u : normal);
    return out.f;
}

/// The lane tree of the header comment over a[16].
static inline float sum16_bl(const float a[16]) {
    float s8[8], s4[4];
    for (int l = 0; l < 8; l++) s8[l] = a[l] + a[l + 8];
    for (int l = 0; l < 4; l++) s4[l] = s8[l] + s8[l + 4];
    return (s4[0] + s4[2]) + (s4[1] + s4[3]);
}

void swk_softmax_baseline(float *x, int64_t n) {  // x: (n)
    if (n <= 0) return;
    float m = -INFINITY;
    for (int64_t i = 0; i < n; i++)
        if (x[i] > m) m = x[i];
    float acc[16] = {0};
    for (int64_t i = 0; i < n; i++) {
        const float e = expf(x[i] - m);
        x[i] = e;
        acc[i & 15] += e;
    }
    const float inverse = 1.0f / sum16_bl(acc);
    for (int64_t i = 0; i < n; i++) x[i] *= inverse;
}

void swk_rms_norm_baseline(const float *x, const float *weight, float eps, float *out, int64_t n) {  // (n) each
    float acc[16] = {0};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int l = 0; l < 16; l++) acc[l] += x[i + l] * x[i + l];
    for (int l = 0; i + l < n; l++) acc[l] += x[i + l] * x[i + l];
    const float scale = 1.0f / sqrtf(sum16_bl(acc) / (float)n + eps);
    for (i = 0; i < n; i++) out[i] = x[i] * scale * weight[i];
}

void swk_swiglu_baseline(float *gate, const float *up, int64_t n) {  // (n) each
    for (int64_t i = 0; i < n; i++) {
        const float g = gate[i];
        gate[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

void swk_geglu_baseline(float *gate, const float *up, int64_t n) {  // (n) each
    for (int64_t i = 0; i < n; i++) {
        const float g = gate[i];
        const float y2 = g * (GELU_A + GELU_B * (g * g));
        gate[i] = g / (1.0f + expf(-y2)) * up[i];
    }
}

void swk_add_baseline(float *x, const float *y, int64_t n) {  // (n) each
    for (int64_t i = 0; i < n; i++) x[i] += y[i];
}

void swk_f16_to_f32_baseline(const uint16_t *src, float *dst, int64_t n) {  // (n) each
    for (int64_t i = 0; i < n; i++) dst[i] = half_to_float_bl(src[i]);
}

void swk_f32_to_f16_baseline(const float *src, uint16_t *dst, int64_t n) {  // (n) each
    for (int64_t i = 0; i < n; i++) dst[i] = swk_float_to_half(src[i]);
}

#if SWK_X86

// ------------------------------------------------------------------------------ AVX-512 --

SWK_TARGET_AVX512 SWK_INLINE __mmask16 lanes16(int64_t n) {
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
}

/// e^x per lane (header comment). max/min return their second operand when either is NaN,
/// so NaN passes the clamps.
SWK_TARGET_AVX512 SWK_INLINE __m512 exp16_512(__m512 x) {
    const __m512 low = _mm512_set1_ps(EXP_LOW);
    __m512 c = _mm512_min_ps(_mm512_set1_ps(EXP_HIGH), _mm512_max_ps(low, x));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(c, _mm512_set1_ps(EXP_LOG2E)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(EXP_LN2_HI), c);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(EXP_LN2_LO), r);
    __m512 p = _mm512_set1_ps(1.0f / 5040);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    const __m512i bits = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    const __m512 y = _mm512_mul_ps(p, _mm512_castsi512_ps(bits));
    return _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, low, _CMP_LT_OQ), _mm512_setzero_ps());
}

/// The lane tree of the header comment.
SWK_TARGET_AVX512 SWK_INLINE float sum16_512(__m512 v) {
    const __m256 t = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    __m128 u = _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
    u = _mm_add_ps(u, _mm_movehl_ps(u, u));
    return _mm_cvtss_f32(_mm_add_ss(u, _mm_shuffle_ps(u, u, 1)));
}

SWK_TARGET_AVX512 void swk_softmax_avx512(float *x, int64_t n) {  // x: (n)
    if (n <= 0) return;
    const int64_t n16 = n & ~(int64_t)15;
    const __mmask16 tail = lanes16(n - n16);
    __m512 mx = _mm512_set1_ps(-INFINITY);
    for (int64_t i = 0; i < n16; i += 16) mx = _mm512_max_ps(_mm512_loadu_ps(x + i), mx);
    if (tail) mx = _mm512_mask_max_ps(mx, tail, _mm512_maskz_loadu_ps(tail, x + n16), mx);
    const __m512 m = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
    __m512 acc = _mm512_setzero_ps();
    for (int64_t i = 0; i < n16; i += 16) {
        const __m512 e = exp16_512(_mm512_sub_ps(_mm512_loadu_ps(x + i), m));
        _mm512_storeu_ps(x + i, e);
        acc = _mm512_add_ps(acc, e);
    }
    if (tail) {
        const __m512 e = _mm512_maskz_mov_ps(tail, exp16_512(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, x + n16), m)));
        _mm512_mask_storeu_ps(x + n16, tail, e);
        acc = _mm512_add_ps(acc, e);
    }
    const __m512 inverse = _mm512_set1_ps(1.0f / sum16_512(acc));
    for (int64_t i = 0; i < n16; i += 16) _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), inverse));
    if (tail) _mm512_mask_storeu_ps(x + n16, tail, _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, x + n16), inverse));
}

SWK_TARGET_AVX512 void swk_rms_norm_avx512(const float *x, const float *weight, float eps, float *out, int64_t n) {
    const int64_t n16 = n & ~(int64_t)15;
    const __mmask16 tail = lanes16(n - n16);
    __m512 acc = _mm512_setzero_ps();
    for (int64_t i = 0; i < n16; i += 16) {
        const __m512 v = _mm512_loadu_ps(x + i);
        acc = _mm512_fmadd_ps(v, v, acc);
    }
    if (tail) {
        const __m512 v = _mm512_maskz_loadu_ps(tail, x + n16);
        acc = _mm512_fmadd_ps(v, v, acc);
    }
    const float root = _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(sum16_512(acc) / (float)n + eps)));
    const __m512 scale = _mm512_set1_ps(1.0f / root);
    for (int64_t i = 0; i < n16; i += 16)
        _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_mul_ps(_mm512_loadu_ps(x + i), scale), _mm512_loadu_ps(weight + i)));
    if (tail)
        _mm512_mask_storeu_ps(out + n16, tail,
                              _mm512_mul_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(tail, x + n16), scale),
                                            _mm512_maskz_loadu_ps(tail, weight + n16)));
}

/// silu(g) · u = g / (1 + e^-g) · u.
SWK_TARGET_AVX512 SWK_INLINE __m512 swiglu16_512(__m512 g, __m512 u) {
    const __m512 e = exp16_512(_mm512_sub_ps(_mm512_setzero_ps(), g));
    return _mm512_mul_ps(_mm512_div_ps(g, _mm512_add_ps(_mm512_set1_ps(1.0f), e)), u);
}

/// gelu_tanh(g) · u = g / (1 + e^(-g·(A + B·g²))) · u.
SWK_TARGET_AVX512 SWK_INLINE __m512 geglu16_512(__m512 g, __m512 u) {
    const __m512 y2 = _mm512_mul_ps(g, _mm512_fmadd_ps(_mm512_set1_ps(GELU_B), _mm512_mul_ps(g, g), _mm512_set1_ps(GELU_A)));
    const __m512 e = exp16_512(_mm512_sub_ps(_mm512_setzero_ps(), y2));
    return _mm512_mul_ps(_mm512_div_ps(g, _mm512_add_ps(_mm512_set1_ps(1.0f), e)), u);
}

SWK_TARGET_AVX512 void swk_swiglu_avx512(float *gate, const float *up, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(gate + i, swiglu16_512(_mm512_loadu_ps(gate + i), _mm512_loadu_ps(up + i)));
    if (i < n) {
        const __mmask16 m = lanes16(n - i);
        _mm512_mask_storeu_ps(gate + i, m, swiglu16_512(_mm512_maskz_loadu_ps(m, gate + i), _mm512_maskz_loadu_ps(m, up + i)));
    }
}

SWK_TARGET_AVX512 void swk_geglu_avx512(float *gate, const float *up, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(gate + i, geglu16_512(_mm512_loadu_ps(gate + i), _mm512_loadu_ps(up + i)));
    if (i < n) {
        const __mmask16 m = lanes16(n - i);
        _mm512_mask_storeu_ps(gate + i, m, geglu16_512(_mm512_maskz_loadu_ps(m, gate + i), _mm512_maskz_loadu_ps(m, up + i)));
    }
}

SWK_TARGET_AVX512 void swk_add_avx512(float *x, const float *y, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, _mm512_add_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
    if (i < n) {
        const __mmask16 m = lanes16(n - i);
        _mm512_mask_storeu_ps(x + i, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i)));
    }
}

SWK_TARGET_AVX512 void swk_f16_to_f32_avx512(const uint16_t *src, float *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(src + i))));
        _mm512_storeu_ps(dst + i + 16, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(src + i + 16))));
    }
    for (; i < n; i += 16) {
        const __mmask16 m = lanes16(n - i);
        _mm512_mask_storeu_ps(dst + i, m, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, src + i)));
    }
}

SWK_TARGET_AVX512 void swk_f32_to_f16_avx512(const float *src, uint16_t *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        _mm256_storeu_si256((__m256i *)(dst + i), _mm512_cvtps_ph(_mm512_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
        _mm256_storeu_si256((__m256i *)(dst + i + 16),
                            _mm512_cvtps_ph(_mm512_loadu_ps(src + i + 16), _MM_FROUND_TO_NEAREST_INT));
    }
    for (; i < n; i += 16) {
        const __mmask16 m = lanes16(n - i);
        _mm256_mask_storeu_epi16(dst + i, m, _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, src + i), _MM_FROUND_TO_NEAREST_INT));
    }
}

// --------------------------------------------------------------------------------- AVX2 --
// The sixteen lanes of the AVX-512 path as two ymm, (lo, hi) = lanes 0-7 and 8-15.

/// The first `n` lanes (n may be <= 0 or >= 8) as a maskload mask.
SWK_TARGET_AVX2 SWK_INLINE __m256i lanes8(int64_t n) {
    const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n < 0 ? 0 : n > 8 ? 8 : n)), index);
}

/// exp16_512, eight lanes: the same operations.
SWK_TARGET_AVX2 SWK_INLINE __m256 exp8_256(__m256 x) {
    const __m256 low = _mm256_set1_ps(EXP_LOW);
    __m256 c = _mm256_min_ps(_mm256_set1_ps(EXP_HIGH), _mm256_max_ps(low, x));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(c, _mm256_set1_ps(EXP_LOG2E)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(EXP_LN2_HI), c);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(EXP_LN2_LO), r);
    __m256 p = _mm256_set1_ps(1.0f / 5040);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    const __m256 y = _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
    return _mm256_andnot_ps(_mm256_cmp_ps(x, low, _CMP_LT_OQ), y);
}

/// The lane tree over (lo, hi).
SWK_TARGET_AVX2 SWK_INLINE float sum16_256(__m256 lo, __m256 hi) {
    const __m256 t = _mm256_add_ps(lo, hi);
    __m128 u = _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
    u = _mm_add_ps(u, _mm_movehl_ps(u, u));
    return _mm_cvtss_f32(_mm_add_ss(u, _mm_shuffle_ps(u, u, 1)));
}

SWK_TARGET_AVX2 SWK_INLINE float max8_256(__m256 v) {
    __m128 u = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    u = _mm_max_ps(u, _mm_movehl_ps(u, u));
    return _mm_cvtss_f32(_mm_max_ss(u, _mm_shuffle_ps(u, u, 1)));
}

/// F16 bits src[0 ..< n] (n < 8) as floats, the other lanes 0. (AVX2 has no 16-bit masked
/// load; only the n valid elements are read.)
SWK_TARGET_AVX2 SWK_INLINE __m256 load_f16_part_256(const uint16_t *src, int64_t n) {
    uint16_t part[8];
    for (int64_t j = 0; j < 8; j++) part[j] = j < n ? src[j] : 0;
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)part));
}

SWK_TARGET_AVX2 void swk_softmax_avx2(float *x, int64_t n) {  // x: (n)
    if (n <= 0) return;
    const int64_t n16 = n & ~(int64_t)15;
    const int64_t rest = n - n16;
    const __m256i mlo = lanes8(rest), mhi = lanes8(rest - 8);
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    __m256 mx_lo = ninf, mx_hi = ninf;
    for (int64_t i = 0; i < n16; i += 16) {
        mx_lo = _mm256_max_ps(_mm256_loadu_ps(x + i), mx_lo);
        mx_hi = _mm256_max_ps(_mm256_loadu_ps(x + i + 8), mx_hi);
    }
    if (rest) {
        mx_lo = _mm256_blendv_ps(mx_lo, _mm256_max_ps(_mm256_maskload_ps(x + n16, mlo), mx_lo), _mm256_castsi256_ps(mlo));
        mx_hi = _mm256_blendv_ps(mx_hi, _mm256_max_ps(_mm256_maskload_ps(x + n16 + 8, mhi), mx_hi), _mm256_castsi256_ps(mhi));
    }
    const __m256 m = _mm256_set1_ps(max8_256(_mm256_max_ps(mx_lo, mx_hi)));
    __m256 acc_lo = _mm256_setzero_ps(), acc_hi = acc_lo;
    for (int64_t i = 0; i < n16; i += 16) {
        const __m256 e_lo = exp8_256(_mm256_sub_ps(_mm256_loadu_ps(x + i), m));
        const __m256 e_hi = exp8_256(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), m));
        _mm256_storeu_ps(x + i, e_lo);
        _mm256_storeu_ps(x + i + 8, e_hi);
        acc_lo = _mm256_add_ps(acc_lo, e_lo);
        acc_hi = _mm256_add_ps(acc_hi, e_hi);
    }
    if (rest) {
        const __m256 e_lo = _mm256_and_ps(_mm256_castsi256_ps(mlo), exp8_256(_mm256_sub_ps(_mm256_maskload_ps(x + n16, mlo), m)));
        const __m256 e_hi = _mm256_and_ps(_mm256_castsi256_ps(mhi), exp8_256(_mm256_sub_ps(_mm256_maskload_ps(x + n16 + 8, mhi), m)));
        _mm256_maskstore_ps(x + n16, mlo, e_lo);
        _mm256_maskstore_ps(x + n16 + 8, mhi, e_hi);
        acc_lo = _mm256_add_ps(acc_lo, e_lo);
        acc_hi = _mm256_add_ps(acc_hi, e_hi);
    }
    const __m256 inverse = _mm256_set1_ps(1.0f / sum16_256(acc_lo, acc_hi));
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), inverse));
    if (i < n) {
        const __m256i mt = lanes8(n - i);
        _mm256_maskstore_ps(x + i, mt, _mm256_mul_ps(_mm256_maskload_ps(x + i, mt), inverse));
    }
}

SWK_TARGET_AVX2 void swk_rms_norm_avx2(const float *x, const float *weight, float eps, float *out, int64_t n) {
    const int64_t n16 = n & ~(int64_t)15;
    const int64_t rest = n - n16;
    __m256 acc_lo = _mm256_setzero_ps(), acc_hi = acc_lo;
    for (int64_t i = 0; i < n16; i += 16) {
        const __m256 lo = _mm256_loadu_ps(x + i), hi = _mm256_loadu_ps(x + i + 8);
        acc_lo = _mm256_fmadd_ps(lo, lo, acc_lo);
        acc_hi = _mm256_fmadd_ps(hi, hi, acc_hi);
    }
    if (rest) {
        const __m256 lo = _mm256_maskload_ps(x + n16, lanes8(rest));
        const __m256 hi = _mm256_maskload_ps(x + n16 + 8, lanes8(rest - 8));
        acc_lo = _mm256_fmadd_ps(lo, lo, acc_lo);
        acc_hi = _mm256_fmadd_ps(hi, hi, acc_hi);
    }
    const float root = _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(sum16_256(acc_lo, acc_hi) / (float)n + eps)));
    const __m256 scale = _mm256_set1_ps(1.0f / root);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), scale), _mm256_loadu_ps(weight + i)));
    if (i < n) {
        const __m256i m = lanes8(n - i);
        _mm256_maskstore_ps(out + i, m,
                            _mm256_mul_ps(_mm256_mul_ps(_mm256_maskload_ps(x + i, m), scale), _mm256_maskload_ps(weight + i, m)));
    }
}

SWK_TARGET_AVX2 SWK_INLINE __m256 swiglu8_256(__m256 g, __m256 u) {
    const __m256 e = exp8_256(_mm256_sub_ps(_mm256_setzero_ps(), g));
    return _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), e)), u);
}

SWK_TARGET_AVX2 SWK_INLINE __m256 geglu8_256(__m256 g, __m256 u) {
    const __m256 y2 = _mm256_mul_ps(g, _mm256_fmadd_ps(_mm256_set1_ps(GELU_B), _mm256_mul_ps(g, g), _mm256_set1_ps(GELU_A)));
    const __m256 e = exp8_256(_mm256_sub_ps(_mm256_setzero_ps(), y2));
    return _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), e)), u);
}

SWK_TARGET_AVX2 void swk_swiglu_avx2(float *gate, const float *up, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(gate + i, swiglu8_256(_mm256_loadu_ps(gate + i), _mm256_loadu_ps(up + i)));
    if (i < n) {
        const __m256i m = lanes8(n - i);
        _mm256_maskstore_ps(gate + i, m, swiglu8_256(_mm256_maskload_ps(gate + i, m), _mm256_maskload_ps(up + i, m)));
    }
}

SWK_TARGET_AVX2 void swk_geglu_avx2(float *gate, const float *up, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(gate + i, geglu8_256(_mm256_loadu_ps(gate + i), _mm256_loadu_ps(up + i)));
    if (i < n) {
        const __m256i m = lanes8(n - i);
        _mm256_maskstore_ps(gate + i, m, geglu8_256(_mm256_maskload_ps(gate + i, m), _mm256_maskload_ps(up + i, m)));
    }
}

SWK_TARGET_AVX2 void swk_add_avx2(float *x, const float *y, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_add_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    if (i < n) {
        const __m256i m = lanes8(n - i);
        _mm256_maskstore_ps(x + i, m, _mm256_add_ps(_mm256_maskload_ps(x + i, m), _mm256_maskload_ps(y + i, m)));
    }
}

SWK_TARGET_AVX2 void swk_f16_to_f32_avx2(const uint16_t *src, float *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
        _mm256_storeu_ps(dst + i + 8, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i + 8))));
    }
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    if (i < n) _mm256_maskstore_ps(dst + i, lanes8(n - i), load_f16_part_256(src + i, n - i));
}

SWK_TARGET_AVX2 void swk_f32_to_f16_avx2(const float *src, uint16_t *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        _mm_storeu_si128((__m128i *)(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
        _mm_storeu_si128((__m128i *)(dst + i + 8), _mm256_cvtps_ph(_mm256_loadu_ps(src + i + 8), _MM_FROUND_TO_NEAREST_INT));
    }
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    if (i < n) {
        // The last n - i (< 8) halves, stored one by one (no 16-bit masked store in AVX2).
        const int64_t rest = n - i;
        const __m128i h = _mm256_cvtps_ph(_mm256_maskload_ps(src + i, lanes8(rest)), _MM_FROUND_TO_NEAREST_INT);
        uint16_t *p = dst + i;
        p[0] = (uint16_t)_mm_extract_epi16(h, 0);
        if (rest > 1) p[1] = (uint16_t)_mm_extract_epi16(h, 1);
        if (rest > 2) p[2] = (uint16_t)_mm_extract_epi16(h, 2);
        if (rest > 3) p[3] = (uint16_t)_mm_extract_epi16(h, 3);
        if (rest > 4) p[4] = (uint16_t)_mm_extract_epi16(h, 4);
        if (rest > 5) p[5] = (uint16_t)_mm_extract_epi16(h, 5);
        if (rest > 6) p[6] = (uint16_t)_mm_extract_epi16(h, 6);
    }
}

#endif  // SWK_X86
