// Matrix multiply with float weights (F32, F16, BF16) as stored: y = x · wᵀ for F32
// activations x (m, k) and weight rows w (n, k).
//
// The canonical order of one output element (every tile shape below reproduces it, so no
// result depends on m, the weight-row range or the tile):
//   16 lane partial sums over t in steps of 16, acc[l] += x[t + l] · w[t + l] (one FMA on the
//   vector paths; a multiply then an add on the baseline), then the halving lane sum
//   ((l0..7 + l8..15), then 4 + 4, 2 + 2, 1 + 1), then the scalar tail t >= k16 added
//   element by element (multiply, then add), then lane sum + tail.
// The AVX2 path holds the 16 lanes in two 8-lane registers and performs the same operations
// lane by lane, so its results are bit-identical to the AVX-512 path's. F16 and BF16 widen
// exactly, so their sums equal those of the same values stored as F32.
//
// Shapes: x (m, k) row-major floats; w row j at w + j · k · element_bytes; y (m, ldy).
#pragma STDC FP_CONTRACT OFF
#include "kernels_internal.h"

enum { FMT_F32 = 0, FMT_F16 = 1, FMT_BF16 = 2 };

static inline int64_t element_bytes(int fmt) { return fmt == FMT_F32 ? 4 : 2; }

static inline float scalar_weight(int fmt, const void *w, int64_t t) {
    switch (fmt) {
    case FMT_F16: return swk_half_to_float(((const uint16_t *)w)[t]);
    case FMT_BF16: return swk_bf16_to_float(((const uint16_t *)w)[t]);
    default: return ((const float *)w)[t];
    }
}

/// Σ_{start <= t < end} x[t] · w[t], one product and one sum at a time.
static inline float tail_sum(int fmt, const float *x, const void *w, int64_t start, int64_t end) {
    float s = 0;
    for (int64_t t = start; t < end; t++) s = x[t] * scalar_weight(fmt, w, t) + s;
    return s;
}

/// Widens `count` weights of `fmt` at `w` into `out` (exact).
static inline void widen_row(int fmt, const void *w, float *out, int64_t count) {
    for (int64_t t = 0; t < count; t++) out[t] = scalar_weight(fmt, w, t);
}

// Row-range driver shared by every path: small batches stream each weight row once against
// up to four activation rows at a time; larger ones go through blocks of 16 weight rows in
// register tiles, staged (widened to F32) in scratch when the weights come from memory at
// up to 32 rows (one sequential stream instead of four interleaved ones) or are 16-bit at
// 64 rows and more (widened once instead of once per row group). Staging never changes a sum.
#define SWK_STREAM_ROWS(from_memory) ((from_memory) ? 8 : 2)
#define SWK_BLOCK_ROWS 16

// ===================================================================== baseline ==

static inline float dot_baseline(int fmt, const float *x, const void *w, int64_t k) {
    int64_t k16 = k & ~(int64_t)15;
    float acc[16] = {0};
    for (int64_t t = 0; t < k16; t += 16) {
        for (int l = 0; l < 16; l++) acc[l] = acc[l] + x[t + l] * scalar_weight(fmt, w, t + l);
    }
    float a[8], b[4], c[2];
    for (int l = 0; l < 8; l++) a[l] = acc[l] + acc[l + 8];
    for (int l = 0; l < 4; l++) b[l] = a[l] + a[l + 4];
    for (int l = 0; l < 2; l++) c[l] = b[l] + b[l + 2];
    return (c[0] + c[1]) + tail_sum(fmt, x, w, k16, k);
}

static void matmul_baseline(int fmt, SWK_MATMUL_PARAMS) {
    (void)from_memory;
    const float *x = (const float *)a;
    const int64_t row_bytes = k * element_bytes(fmt);
    // F16/BF16 rows are widened into scratch once per weight row (exact), then dotted as F32.
    const int widen = fmt != FMT_F32 && scratch != NULL && scratch_bytes >= 4 * k;
    for (int64_t j = j0; j < j1; j++) {
        const void *wj = (const char *)w + j * row_bytes;
        if (widen) {
            widen_row(fmt, wj, (float *)scratch, k);
            for (int64_t i = 0; i < m; i++) y[i * ldy + j] = dot_baseline(FMT_F32, x + i * k, scratch, k);
        } else {
            for (int64_t i = 0; i < m; i++) y[i * ldy + j] = dot_baseline(fmt, x + i * k, wj, k);
        }
    }
}

void swk_matmul_f32_baseline(SWK_MATMUL_PARAMS) { matmul_baseline(FMT_F32, a, w, y, m, k, ldy, j0, j1, scratch, scratch_bytes, from_memory); }
void swk_matmul_f16_baseline(SWK_MATMUL_PARAMS) { matmul_baseline(FMT_F16, a, w, y, m, k, ldy, j0, j1, scratch, scratch_bytes, from_memory); }
void swk_matmul_bf16_baseline(SWK_MATMUL_PARAMS) { matmul_baseline(FMT_BF16, a, w, y, m, k, ldy, j0, j1, scratch, scratch_bytes, from_memory); }

#if SWK_X86
#define A2 SWK_TARGET_AVX2 static inline __attribute__((always_inline))

// The AVX2 path's sixteen lanes as two 8-lane halves (lo = lanes 0-7, hi = 8-15), the
// AVX-512 arithmetic lane by lane; the AVX-512 path's one-row walk inlines them too (AVX-512
// includes AVX2).

/// Eight weights of `fmt` at element t, widened.
A2 __m256 load256(int fmt, const void *w, int64_t t) {
    switch (fmt) {
    case FMT_F16: return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)w + t)));
    case FMT_BF16:
        return _mm256_castsi256_ps(
            _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)((const uint16_t *)w + t))), 16));
    default: return _mm256_loadu_ps((const float *)w + t);
    }
}

typedef struct { __m256 lo, hi; } v16;

A2 v16 load16w(int fmt, const void *w, int64_t t) { return (v16){load256(fmt, w, t), load256(fmt, w, t + 8)}; }
A2 v16 load16x(const float *x) { return (v16){_mm256_loadu_ps(x), _mm256_loadu_ps(x + 8)}; }
A2 v16 zero16(void) { return (v16){_mm256_setzero_ps(), _mm256_setzero_ps()}; }
A2 v16 fma16(v16 u, v16 v, v16 acc) { return (v16){_mm256_fmadd_ps(u.lo, v.lo, acc.lo), _mm256_fmadd_ps(u.hi, v.hi, acc.hi)}; }

A2 float lane_sum256(v16 v) {
    __m256 a = _mm256_add_ps(v.lo, v.hi);
    __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    __m128 c = _mm_add_ps(b, _mm_movehl_ps(b, b));
    return _mm_cvtss_f32(c) + _mm_cvtss_f32(_mm_shuffle_ps(c, c, 1));
}

/// One row against one weight row, the weights prefetched SWK_PREFETCH_BYTES ahead when
/// `prefetch` (the AVX2 path never; the AVX-512 path as one_row_prefetch says).
A2 float dot256(int fmt, const float *x, const void *w, int64_t k, int prefetch) {
    int64_t k16 = k & ~(int64_t)15;
    v16 acc = zero16();
    for (int64_t t = 0; t < k16; t += 16) {
        if (prefetch) _mm_prefetch((const char *)w + t * element_bytes(fmt) + SWK_PREFETCH_BYTES, _MM_HINT_T0);
        acc = fma16(load16x(x + t), load16w(fmt, w, t), acc);
    }
    return lane_sum256(acc) + tail_sum(fmt, x, w, k16, k);
}

// ====================================================================== AVX-512 ==

#define A512 SWK_TARGET_AVX512 static inline __attribute__((always_inline))

A512 __m512 load512(int fmt, const void *w, int64_t t) {
    switch (fmt) {
    case FMT_F16: return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((const uint16_t *)w + t)));
    case FMT_BF16:
        return _mm512_castsi512_ps(
            _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)((const uint16_t *)w + t))), 16));
    default: return _mm512_loadu_ps((const float *)w + t);
    }
}

A512 float lane_sum512(__m512 v) {
    __m256 a = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    __m128 c = _mm_add_ps(b, _mm_movehl_ps(b, b));
    return _mm_cvtss_f32(c) + _mm_cvtss_f32(_mm_shuffle_ps(c, c, 1));
}

/// lane_sum512 of four vectors at once: [sum(a), sum(b), sum(c), sum(d)], each summed in
/// exactly lane_sum512's order (halves, then quarters, then 2 + 2, then 1 + 1), with a third
/// of its shuffles and adds.
A512 __m128 lane_sums4_512(__m512 a, __m512 b, __m512 c, __m512 d) {
    // Eight lanes each: lanes l + lanes l + 8.
    __m512 ab = _mm512_add_ps(_mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(1, 0, 1, 0)), _mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(3, 2, 3, 2)));
    __m512 cd = _mm512_add_ps(_mm512_shuffle_f32x4(c, d, _MM_SHUFFLE(1, 0, 1, 0)), _mm512_shuffle_f32x4(c, d, _MM_SHUFFLE(3, 2, 3, 2)));
    // Four lanes each (one 128-bit quarter per vector): lanes l + lanes l + 4.
    __m512 q = _mm512_add_ps(_mm512_shuffle_f32x4(ab, cd, _MM_SHUFFLE(2, 0, 2, 0)), _mm512_shuffle_f32x4(ab, cd, _MM_SHUFFLE(3, 1, 3, 1)));
    // In each quarter: lane 0 + lane 2 and lane 1 + lane 3, then the two.
    q = _mm512_add_ps(q, _mm512_permute_ps(q, _MM_SHUFFLE(3, 2, 3, 2)));
    q = _mm512_add_ps(q, _mm512_permute_ps(q, _MM_SHUFFLE(1, 1, 1, 1)));
    return _mm512_castps512_ps128(_mm512_permutexvar_ps(_mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), q));
}

/// Whether one-row walks of `fmt` prefetch their weight row. On Intel a software prefetch
/// SWK_PREFETCH_BYTES ahead took an F32 stream from DRAM from 17.6 to 21.4 GB/s (Emerald
/// Rapids, session 7). On AMD (Zen 4) F32 rows stream faster without it (decode of
/// stories15M / stories110M F32 1.23x / 1.14x), while the shipped target's F16 rows still
/// gain from it (1.38x; Benchmarks/RESULTS.md, session 10). Speed only, never results.
static int one_row_prefetch(int fmt) {
    static _Atomic int amd = -1;
    int value = amd;
    if (value < 0) {
        __builtin_cpu_init();
        value = __builtin_cpu_is("amd") ? 1 : 0;
        amd = value;
    }
    return !(value && fmt == FMT_F32);
}

// The skinny tiles prefetch their weights SWK_PREFETCH_BYTES ahead (kernels_internal.h) as
// they stream: they need the distance (F32 from DRAM, m = 8: 327 µs a 2048x768 matrix at
// 2 KiB, 251 at 4 or 8 KiB); tileRxC_512 says how. One row goes through dot256, the AVX2
// path's two 8-lane halves (the same operations, so the same bits as one 16-lane register):
// streaming one weight row from DRAM, 512-bit loads ran 1.1-1.2x slower on Zen 4
// (Benchmarks/RESULTS.md, session 10).

/// Four activation rows (stride k) against one weight row: y[0], y[ldy], y[2 ldy], y[3 ldy].
A512 void tile4x1_512(int fmt, const float *x, const void *w, float *y, int64_t k, int64_t ldy) {
    int64_t k16 = k & ~(int64_t)15;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t t = 0; t < k16; t += 16) {
        __m512 wv = load512(fmt, w, t);
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + t), wv, a0);
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + k + t), wv, a1);
        a2 = _mm512_fmadd_ps(_mm512_loadu_ps(x + 2 * k + t), wv, a2);
        a3 = _mm512_fmadd_ps(_mm512_loadu_ps(x + 3 * k + t), wv, a3);
    }
    y[0] = lane_sum512(a0) + tail_sum(fmt, x, w, k16, k);
    y[ldy] = lane_sum512(a1) + tail_sum(fmt, x + k, w, k16, k);
    y[2 * ldy] = lane_sum512(a2) + tail_sum(fmt, x + 2 * k, w, k16, k);
    y[3 * ldy] = lane_sum512(a3) + tail_sum(fmt, x + 3 * k, w, k16, k);
}

/// R (1...8) activation rows (stride k) against C (1...4) weight rows `row_step` bytes
/// apart, y[r * ldy + c * y_step]: each weight vector is loaded and widened once for all R
/// rows, and the R x C independent accumulators keep the FMA pipes busy where one dot
/// product would wait on its own latency. Called with constant R and C so the accumulators
/// stay in registers; every element is summed exactly as dot256 sums it.
A512 void tileRxC_512(int fmt, int R, int C, const float *x, const void *w, int64_t row_step, float *y, int64_t y_step,
                      int64_t k, int64_t ldy) {
    int64_t k16 = k & ~(int64_t)15;
    const int64_t eb = element_bytes(fmt);
    __m512 acc[8][4];
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++) acc[r][c] = _mm512_setzero_ps();
    // Adjacent rows are one block of C·k weights; the prefetch walks that block in order,
    // SWK_PREFETCH_BYTES ahead, C·16 weights an iteration: one stream rather than C streams
    // a row apart (2 threads from DRAM, k = 384 F16, 8 rows: 16.6 GB/s against 13.7 with a
    // prefetch per row). Rows far apart are C sequential streams, each prefetched ahead.
    const int adjacent = row_step == k * eb;
    const int64_t walked = C * 16 * eb;
    for (int64_t t = 0; t < k16; t += 16) {
        __m512 wv[4];
        if (adjacent) {
            for (int64_t o = 0; o < walked; o += 64) _mm_prefetch((const char *)w + C * t * eb + SWK_PREFETCH_BYTES + o, _MM_HINT_T0);
        } else {
            for (int c = 0; c < C; c++) _mm_prefetch((const char *)w + c * row_step + t * eb + SWK_PREFETCH_BYTES, _MM_HINT_T0);
        }
        for (int c = 0; c < C; c++) wv[c] = load512(fmt, (const char *)w + c * row_step, t);
        for (int r = 0; r < R; r++) {
            __m512 u = _mm512_loadu_ps(x + r * k + t);
            for (int c = 0; c < C; c++) acc[r][c] = _mm512_fmadd_ps(u, wv[c], acc[r][c]);
        }
    }
    // The R x C lane sums four at a time (row-major order), then each sum plus its tail.
    float sums[32];
    for (int i = 0; i < R * C; i += 4) {
        __m512 zero = _mm512_setzero_ps();
        __m512 v1 = i + 1 < R * C ? acc[(i + 1) / C][(i + 1) % C] : zero;
        __m512 v2 = i + 2 < R * C ? acc[(i + 2) / C][(i + 2) % C] : zero;
        __m512 v3 = i + 3 < R * C ? acc[(i + 3) / C][(i + 3) % C] : zero;
        _mm_storeu_ps(sums + i, lane_sums4_512(acc[i / C][i % C], v1, v2, v3));
    }
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++)
            y[r * ldy + c * y_step] = sums[r * C + c] + tail_sum(fmt, x + r * k, (const char *)w + c * row_step, k16, k);
}

/// tileRxC_512 with R and C as constants (R 1...8, C 1 or 2; C 4 for R up to 4, the only
/// tiles stream_rows512 asks for: the R x 4 tiles beyond would spill their accumulators).
A512 void tile_any512(int fmt, int R, int C, const float *x, const void *w, int64_t row_step, float *y, int64_t y_step,
                      int64_t k, int64_t ldy) {
#define SWK_TILE_CASE(r)                                                                              \
    case r:                                                                                           \
        if (C == 1) tileRxC_512(fmt, r, 1, x, w, row_step, y, y_step, k, ldy);                        \
        else if (C == 2) tileRxC_512(fmt, r, 2, x, w, row_step, y, y_step, k, ldy);                   \
        else if ((r) <= 4) tileRxC_512(fmt, r, 4, x, w, row_step, y, y_step, k, ldy);                 \
        break;
    switch (R) {
    SWK_TILE_CASE(1) SWK_TILE_CASE(2) SWK_TILE_CASE(3) SWK_TILE_CASE(4)
    SWK_TILE_CASE(5) SWK_TILE_CASE(6) SWK_TILE_CASE(7) SWK_TILE_CASE(8)
    default: break;
    }
#undef SWK_TILE_CASE
}

/// All m (up to 16) activation rows against the C weight rows at `w`, `row_step` bytes
/// apart, into y columns `y_step` apart: in tiles of up to eight activation rows.
A512 void tile_rows512(int fmt, int C, const float *x, const void *w, int64_t row_step, float *y, int64_t y_step, int64_t m,
                       int64_t k, int64_t ldy) {
    const int first = m < 8 ? (int)m : 8, second = (int)m - first;
    tile_any512(fmt, first, C, x, w, row_step, y, y_step, k, ldy);
    if (second > 0) tile_any512(fmt, second, C, x + 8 * k, w, row_step, y + 8 * ldy, y_step, k, ldy);
}

/// Up to sixteen activation rows against weight rows j0..<j1, the weights read and widened
/// once. One row streams the weights one row at a time (a single sequential read: Zen 4
/// read interleaved adjacent rows at half the rate, Benchmarks/RESULTS.md), except that one
/// row of a 2-byte format from memory, like 2-16 rows, goes against pairs of weight rows
/// half the range apart (two sequential streams) when their activations fit in L1 beside
/// them or the rows are long; otherwise in tiles of four adjacent weight rows against up to
/// four activation rows (up to 16 accumulators), of two against up to eight, a tile's
/// activation rows in groups of eight beyond; the last weight rows one at a time.
A512 void stream_rows512(int fmt, const float *x, const void *w, int64_t row_bytes, float *y, int64_t m, int64_t k,
                         int64_t ldy, int64_t j0, int64_t j1, int from_memory) {
    // One F16/BF16 row from memory as two far streams: the shipped target's 1-row step
    // 736-943 µs against 785-1088 one weight row at a time (with a thread's share in one
    // part, MatrixMultiply.partsPerThread); F32 rows, which stream faster unprefetched on
    // Zen 4 (one_row_prefetch), were 2-5% slower so (stories110M). The comment below says
    // why far pairs for more rows.
    const int far_pairs =
        from_memory && (m == 1 ? fmt != FMT_F32 : ((m <= 7 && m * k <= 5120) || row_bytes > 2048));
    if (m == 1 && !far_pairs) {
        const int prefetch = one_row_prefetch(fmt);
        for (int64_t j = j0; j < j1; j++) y[j] = dot256(fmt, x, (const char *)w + j * row_bytes, k, prefetch);
        return;
    }
    // Pairs of far rows: two sequential streams, which Zen 4 reads as fast as one, where
    // adjacent rows interleaved within the same pages ran at half the rate; each activation
    // vector serves both. 2 threads from DRAM, k = 384 F16: 3 rows 27.9 against 23.2 GB/s
    // one weight row at a time, 5 rows 24.1 against 18.0. With rows of at most 2 KiB, eight
    // and more activation rows are bound by their FMAs and gain nothing from it (the shipped
    // target's 9-row step 1.05x slower); longer rows gain at any count (stories110M F32, 8
    // and 9 rows, 1.1-1.2x faster than adjacent pairs). Up to seven rows keep their
    // activations in L1 beside the streams (m·k floats up to 20 KiB: with k = 2048 three rows
    // ran 1.2x slower one weight row at a time than in tiles).
    if (far_pairs) {
        const int64_t half = (j1 - j0) / 2;
        for (int64_t j = j0; j < j0 + half; j++)
            tile_rows512(fmt, 2, x, (const char *)w + j * row_bytes, half * row_bytes, y + j, half, m, k, ldy);
        if (j0 + 2 * half < j1) tile_rows512(fmt, 1, x, (const char *)w + (j1 - 1) * row_bytes, row_bytes, y + j1 - 1, 1, m, k, ldy);
        return;
    }
    const int C = m <= 4 ? 4 : 2;
    int64_t j = j0;
    for (; j + C <= j1; j += C) tile_rows512(fmt, C, x, (const char *)w + j * row_bytes, row_bytes, y + j, 1, m, k, ldy);
    for (; j < j1; j++) tile_rows512(fmt, 1, x, (const char *)w + j * row_bytes, row_bytes, y + j, 1, m, k, ldy);
}

/// One activation row against four weight rows (stride row_bytes): y[0..3].
A512 void tile1x4_512(int fmt, const float *x, const void *w, int64_t row_bytes, float *y, int64_t k) {
    int64_t k16 = k & ~(int64_t)15;
    const char *w0 = w, *w1 = w0 + row_bytes, *w2 = w1 + row_bytes, *w3 = w2 + row_bytes;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t t = 0; t < k16; t += 16) {
        __m512 u = _mm512_loadu_ps(x + t);
        a0 = _mm512_fmadd_ps(u, load512(fmt, w0, t), a0);
        a1 = _mm512_fmadd_ps(u, load512(fmt, w1, t), a1);
        a2 = _mm512_fmadd_ps(u, load512(fmt, w2, t), a2);
        a3 = _mm512_fmadd_ps(u, load512(fmt, w3, t), a3);
    }
    y[0] = lane_sum512(a0) + tail_sum(fmt, x, w0, k16, k);
    y[1] = lane_sum512(a1) + tail_sum(fmt, x, w1, k16, k);
    y[2] = lane_sum512(a2) + tail_sum(fmt, x, w2, k16, k);
    y[3] = lane_sum512(a3) + tail_sum(fmt, x, w3, k16, k);
}

/// Four activation rows against four weight rows: 16 accumulators, 8 loads per 16 FMAs.
A512 void tile4x4_512(int fmt, const float *x, const void *w, int64_t row_bytes, float *y, int64_t k, int64_t ldy) {
    int64_t k16 = k & ~(int64_t)15;
    const char *w0 = w, *w1 = w0 + row_bytes, *w2 = w1 + row_bytes, *w3 = w2 + row_bytes;
    const float *x0 = x, *x1 = x + k, *x2 = x + 2 * k, *x3 = x + 3 * k;
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
    __m512 c20 = c00, c21 = c00, c22 = c00, c23 = c00, c30 = c00, c31 = c00, c32 = c00, c33 = c00;
    for (int64_t t = 0; t < k16; t += 16) {
        __m512 v0 = load512(fmt, w0, t), v1 = load512(fmt, w1, t), v2 = load512(fmt, w2, t), v3 = load512(fmt, w3, t);
        __m512 u = _mm512_loadu_ps(x0 + t);
        c00 = _mm512_fmadd_ps(u, v0, c00); c01 = _mm512_fmadd_ps(u, v1, c01);
        c02 = _mm512_fmadd_ps(u, v2, c02); c03 = _mm512_fmadd_ps(u, v3, c03);
        u = _mm512_loadu_ps(x1 + t);
        c10 = _mm512_fmadd_ps(u, v0, c10); c11 = _mm512_fmadd_ps(u, v1, c11);
        c12 = _mm512_fmadd_ps(u, v2, c12); c13 = _mm512_fmadd_ps(u, v3, c13);
        u = _mm512_loadu_ps(x2 + t);
        c20 = _mm512_fmadd_ps(u, v0, c20); c21 = _mm512_fmadd_ps(u, v1, c21);
        c22 = _mm512_fmadd_ps(u, v2, c22); c23 = _mm512_fmadd_ps(u, v3, c23);
        u = _mm512_loadu_ps(x3 + t);
        c30 = _mm512_fmadd_ps(u, v0, c30); c31 = _mm512_fmadd_ps(u, v1, c31);
        c32 = _mm512_fmadd_ps(u, v2, c32); c33 = _mm512_fmadd_ps(u, v3, c33);
    }
    const __m512 c[4][4] = {{c00, c01, c02, c03}, {c10, c11, c12, c13}, {c20, c21, c22, c23}, {c30, c31, c32, c33}};
    const char *ws[4] = {w0, w1, w2, w3};
    const float *xs[4] = {x0, x1, x2, x3};
    for (int r = 0; r < 4; r++) {
        float sums[4];
        _mm_storeu_ps(sums, lane_sums4_512(c[r][0], c[r][1], c[r][2], c[r][3]));
        for (int s = 0; s < 4; s++) y[r * ldy + s] = sums[s] + tail_sum(fmt, xs[r], ws[s], k16, k);
    }
}

/// All m activation rows against `columns` weight rows at `w` into columns of y.
A512 void tile_block512(int fmt, const float *x, const void *w, int64_t row_bytes, float *y, int64_t m, int64_t k,
                        int64_t ldy, int64_t columns) {
    int64_t i = 0;
    for (; i + 4 <= m; i += 4) {
        int64_t j = 0;
        for (; j + 4 <= columns; j += 4) tile4x4_512(fmt, x + i * k, (const char *)w + j * row_bytes, row_bytes, y + i * ldy + j, k, ldy);
        for (; j < columns; j++) tile4x1_512(fmt, x + i * k, (const char *)w + j * row_bytes, y + i * ldy + j, k, ldy);
    }
    for (; i < m; i++) {
        int64_t j = 0;
        for (; j + 4 <= columns; j += 4) tile1x4_512(fmt, x + i * k, (const char *)w + j * row_bytes, row_bytes, y + i * ldy + j, k);
        for (; j < columns; j++) y[i * ldy + j] = dot256(fmt, x + i * k, (const char *)w + j * row_bytes, k, 1);
    }
}

A512 void widen_block512(int fmt, const void *w, float *out, int64_t count) {
    int64_t c16 = count & ~(int64_t)15, t = 0;
    for (; t < c16; t += 16) _mm512_storeu_ps(out + t, load512(fmt, w, t));
    for (; t < count; t++) out[t] = scalar_weight(fmt, w, t);
}

A512 void matmul512(int fmt, SWK_MATMUL_PARAMS) {
    const float *x = (const float *)a;
    const int64_t row_bytes = k * element_bytes(fmt);
    // Up to sixteen rows (decode batches, speculative verification of k+1 tokens): each
    // weight row is read and widened once for every eight of them.
    if (m <= SWK_SKINNY_ROWS) {
        stream_rows512(fmt, x, w, row_bytes, y, m, k, ldy, j0, j1, from_memory);
        return;
    }
    const int stage = (from_memory && m <= 32) || (fmt != FMT_F32 && m >= 64);
    for (int64_t block = j0; block < j1; block += SWK_BLOCK_ROWS) {
        int64_t columns = j1 - block < SWK_BLOCK_ROWS ? j1 - block : SWK_BLOCK_ROWS;
        const void *wb = (const char *)w + block * row_bytes;
        if (stage && scratch != NULL && columns * k * 4 <= scratch_bytes) {
            widen_block512(fmt, wb, (float *)scratch, columns * k);
            tile_block512(FMT_F32, x, scratch, 4 * k, y + block, m, k, ldy, columns);
        } else {
            tile_block512(fmt, x, wb, row_bytes, y + block, m, k, ldy, columns);
        }
    }
}

SWK_TARGET_AVX512 void swk_matmul_f32_avx512(SWK_MATMUL_PARAMS) { matmul512(FMT_F32, a, w, y, m, k, ldy, j0, j1, scratch, scratch_bytes, from_memory); }
SWK_TARGET_AVX512 void swk_matmul_f16_avx512(SWK_MATMUL_PARAMS) { matmul512(FMT_F16, a, w, y, m, k, ldy, j0, j1, scratch, scratch_bytes, from_memory); }
SWK_TARGET_AVX512 void swk_matmul_bf16_avx512(SWK_MATMUL_PARAMS) { matmul512(FMT_BF16, a, w, y, m, k, ldy, j0, j1, scratch, scratch_bytes, from_memory); }

// ========================================================================= AVX2 ==
A2 void tile4x1_256(int fmt, const float *x, const void *w, float *y, int64_t k, int64_t ldy) {
    int64_t k16 = k & ~(int64_t)15;
    v16 a0 = zero16(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t t = 0; t < k16; t += 16) {
        v16 wv = load16w(fmt, w, t);
        a0 = fma16(load16x(x + t), wv, a0);
        a1 = fma16(load16x(x + k + t), wv, a1);
        a2 = fma16(load16x(x + 2 * k + t), wv, a2);
        a3 = fma16(load16x(x + 3 * k + t), wv, a3);
    }
    y[0] = lane_sum256(a0) + tail_sum(fmt, x, w, k16, k);
    y[ldy] = lane_sum256(a1) + tail_sum(fmt, x + k, w, k16, k);
    y[2 * ldy] = lane_sum256(a2) + tail_sum(fmt, x + 2 * k, w, k16, k);
    y[3 * ldy] = lane_sum256(a3) + tail_sum(fmt, x + 3 * k, w, k16, k);
}

/// Two activation rows against two weight rows (eight 8-lane accumulators).
A2 void tile2x2_256(int fmt, const float *x, const void *w, int64_t row_bytes, float *y, int64_t k, int64_t ldy) {
    int64_t k16 = k & ~(int64_t)15;
    const char *w0 = w, *w1 = w0 + row_bytes;
    v16 c00 = zero16(), c01 = c00, c10 = c00, c11 = c00;
    for (int64_t t = 0; t < k16; t += 16) {
        v16 v0 = load16w(fmt, w0, t), v1 = load16w(fmt, w1, t);
        v16 u = load16x(x + t);
        c00 = fma16(u, v0, c00); c01 = fma16(u, v1, c01);
        u = load16x(x + k + t);
        c10 = fma16(u, v0, c10); c11 = fma16(u, v1, c11);
    }
    y[0] = lane_sum256(c00) + tail_sum(fmt, x, w0, k16, k);
    y[1] = lane_sum256(c01) + tail_sum(fmt, x, w1, k16, k);
    y[ldy] = lane_sum256(c10) + tail_sum(fmt, x + k, w0, k16, k);
    y[ldy + 1] = lane_sum256(c11) + tail_sum(fmt, x + k, w1, k16, k);
}

A2 void tile_block256(int fmt, const float *x, const void *w, int64_t row_bytes, float *y, int64_t m, int64_t k,
                      int64_t ldy, int64_t columns) {
    int64_t i = 0;
    for (; i + 2 <= m; i += 2) {
        int64_t j = 0;
        for (; j + 2 <= columns; j += 2) tile2x2_256(fmt, x + i * k, (const char *)w + j * row_bytes, row_bytes, y + i * ldy + j, k, ldy);
        for (; j < columns; j++) {
            const void *wj = (const char *)w + j * row_bytes;
            y[i * ldy + j] = dot256(fmt, x + i * k, wj, k, 0);
            y[(i + 1) * ldy + j] = dot256(fmt, x + (i + 1) * k, wj, k, 0);
        }
    }
    for (; i < m; i++) {
        for (int64_t j = 0; j < columns; j++) y[i * ldy + j] = dot256(fmt, x + i * k, (const char *)w + j * row_bytes, k, 0);
    }
}

A2 void widen_block256(int fmt, const void *w, float *out, int64_t count) {
    int64_t c8 = count & ~(int64_t)7, t = 0;
    for (; t < c8; t += 8) _mm256_storeu_ps(out + t, load256(fmt, w, t));
    for (; t < count; t++) out[t] = scalar_weight(fmt, w, t);
}

A2 void matmul256(int fmt, SWK_MATMUL_PARAMS) {
    const float *x = (const float *)a;
    const int64_t row_bytes = k * element_bytes(fmt);
    if (m <= SWK_STREAM_ROWS(from_memory)) {
        for (int64_t j = j0; j < j1; j++) {
            const void *wj = (const char *)w + j * row_bytes;
            int64_t i = 0;
            for (; i + 4 <= m; i += 4) tile4x1_256(fmt, x + i * k, wj, y + i * ldy + j, k, ldy);
            for (; i < m; i++) y[i * ldy + j] = dot256(fmt, x + i * k, wj, k, 0);
        }
        return;
    }
    const int stage = (from_memory && m <= 32) || (fmt != FMT_F32 && m >= 64);
    for (int64_t block = j0; block < j1; block += SWK_BLOCK_ROWS) {
        int64_t columns = j1 - block < SWK_BLOCK_ROWS ? j1 - block : SWK_BLOCK_ROWS;
        const void *wb = (const char *)w + block * row_bytes;
        if (stage && scratch != NULL && columns * k * 4 <= scratch_bytes) {
            widen_block256(fmt, wb, (float *)scratch, columns * k);
            tile_block256(FMT_F32, x, scratch, 4 * k, y + block, m, k, ldy, columns);
        } else {
            tile_block256(fmt, x, wb, row_bytes, y + block, m, k, ldy, columns);
        }
    }
}

SWK_TARGET_AVX2 void swk_matmul_f32_avx2(SWK_MATMUL_PARAMS) { matmul256(FMT_F32, a, w, y, m, k, ldy, j0, j1, scratch, scratch_bytes, from_memory); }
SWK_TARGET_AVX2 void swk_matmul_f16_avx2(SWK_MATMUL_PARAMS) { matmul256(FMT_F16, a, w, y, m, k, ldy, j0, j1, scratch, scratch_bytes, from_memory); }
SWK_TARGET_AVX2 void swk_matmul_bf16_avx2(SWK_MATMUL_PARAMS) { matmul256(FMT_BF16, a, w, y, m, k, ldy, j0, j1, scratch, scratch_bytes, from_memory); }
#endif
