// Private to the kernel target: per-ISA variant declarations and the dispatch table.
// Each kernel `name` has variants `swk_<name>_baseline` (portable C, every CPU),
// `swk_<name>_avx2` and `swk_<name>_avx512` (x86-64 only, compiled with SWK_TARGET_*).
#ifndef SWIFTLET_KERNELS_INTERNAL_H
#define SWIFTLET_KERNELS_INTERNAL_H

#include "swiftlet_kernels.h"

#if defined(__x86_64__) || defined(_M_X64)
#define SWK_X86 1
#include <immintrin.h>
#else
#define SWK_X86 0
#endif

#define SWK_TARGET_AVX2 __attribute__((target("avx2,fma,f16c,bmi2")))
#define SWK_TARGET_AVX512 \
    __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512cd,avx512vnni,avx2,fma,f16c,bmi2")))

#if SWK_X86
/// How far ahead the streaming walks prefetch their weight rows: the float dot products read
/// 20.6-22.2 GB/s from DRAM at 2 KiB and 21.4-21.8 at 4 KiB, the float skinny tiles need the
/// longer distance, and the block formats' one-row steps read a row 1.7x faster with it
/// (Benchmarks/RESULTS.md). Prefetching changes no result.
#define SWK_PREFETCH_BYTES 4096

/// Prefetches the `bytes` that start SWK_PREFETCH_BYTES past `row`: a block-format walk calls
/// it as each weight row starts, so the rows after it are on their way.
static inline void swk_prefetch_ahead(const void *row, int64_t bytes) {
    for (int64_t o = 0; o < bytes; o += 64) _mm_prefetch((const char *)row + SWK_PREFETCH_BYTES + o, _MM_HINT_T0);
}
#endif

/// Rows of activations the AVX-512 block walks run against each block of weight rows at once,
/// `rest` rows being left: chunks of 8, except that a remainder of up to
/// SWK_CHUNK_MERGE_ROWS joins the chunk before it (a ninth row in a chunk of its own costs a
/// second unpacking of every weight group: 1.2-1.4x the 9-row step). Larger chunks lose: with
/// 12 or 16 rows the chunk's activations and the weight block no longer share L1 (32 KiB on
/// Zen 4), and chunks of 16 ran 64-row prefill 1.13-1.2x slower (Benchmarks/RESULTS.md).
/// Chunk sizes never change a result: each output is summed in one fixed order.
#define SWK_CHUNK_MERGE_ROWS 2
/// The largest chunk swk_chunk_rows returns (the walks' switches go up to it).
#define SWK_CHUNK_MAX_ROWS (8 + SWK_CHUNK_MERGE_ROWS)
static inline int64_t swk_chunk_rows(int64_t rest) { return rest <= SWK_CHUNK_MAX_ROWS ? rest : 8; }

/// The signature every matmul variant shares (see swk_matmul): `a` is the prepared
/// activations, `w` the weight rows as stored.
#define SWK_MATMUL_PARAMS                                                                      \
    const void *a, const void *w, float *y, int64_t m, int64_t k, int64_t ldy, int64_t j0, \
        int64_t j1, void *scratch, int64_t scratch_bytes, int from_memory
typedef void (*swk_matmul_fn)(SWK_MATMUL_PARAMS);

/// Bytes of one row of k activations in the shared 8-bit block format (matmul_q8.c).
int64_t swk_q8_activation_row_bytes(int64_t k);
/// swk_dequantize_row for Q4_1, Q5_0, Q5_1 and IQ4_NL (matmul_block32.c).
void swk_dequantize_block32_row(int type, const void *src, float *dst, int64_t k);

// The super-block formats Q2_K..Q6_K, IQ4_XS (kquant_blocks.h, matmul_kquants.c):
/// Bytes per block (256 elements) of `type`; 0 for other types.
int64_t swk_kquant_block_bytes(int type);
/// The matmul of `type` on `path`; NULL for other types.
swk_matmul_fn swk_kquant_matmul(int path, int type);
/// Their activation rows (256-element 8-bit blocks with per-16 sums): bytes and quantizer.
int64_t swk_q8k_activation_row_bytes(int64_t k);
void swk_kquant_prepare(int path, const float *x, void *out, int64_t m, int64_t k);
void swk_quantize_q8k_baseline(const float *x, void *out, int64_t m, int64_t k);
void swk_quantize_q8k_avx2(const float *x, void *out, int64_t m, int64_t k);
void swk_quantize_q8k_avx512(const float *x, void *out, int64_t m, int64_t k);
/// Decodes one row of a super-block format; 0 (nothing written) for other types.
int swk_dequantize_row_kquant(int type, const void *src, float *dst, int64_t k);

// One list, expanded once per path: X(path)
#define SWK_DECLARE_VARIANTS(path)                                                                          \
    void swk_matmul_f32_##path(SWK_MATMUL_PARAMS);                                                          \
    void swk_matmul_f16_##path(SWK_MATMUL_PARAMS);                                                          \
    void swk_matmul_bf16_##path(SWK_MATMUL_PARAMS);                                                         \
    void swk_matmul_q8_0_##path(SWK_MATMUL_PARAMS);                                                         \
    void swk_matmul_q4_0_##path(SWK_MATMUL_PARAMS);                                                         \
    void swk_matmul_q4_1_##path(SWK_MATMUL_PARAMS);                                                         \
    void swk_matmul_q5_0_##path(SWK_MATMUL_PARAMS);                                                         \
    void swk_matmul_q5_1_##path(SWK_MATMUL_PARAMS);                                                         \
    void swk_matmul_iq4_nl_##path(SWK_MATMUL_PARAMS);                                                       \
    void swk_quantize_q8_##path(const float *x, void *out, int64_t m, int64_t k);                          \
    void swk_attn_scores_##path(const float *q, const void *keys, int kv_f16, int64_t block_size,           \
                                int64_t rows, int64_t hd, float scale, float *out);                         \
    void swk_attn_scores4_##path(const float *const q[4], const void *keys, int kv_f16, int64_t block_size, \
                                 int64_t rows, int64_t hd, float scale, float *const out[4]);               \
    void swk_attn_accumulate_##path(const void *values, int kv_f16, const float *weights, int64_t rows,     \
                                    int64_t hd, float *out);                                                \
    void swk_attn_accumulate4_##path(const void *values, int kv_f16, const float *const weights[4],         \
                                     int64_t rows, int64_t hd, float *const out[4]);                        \
    void swk_softmax_##path(float *x, int64_t n);                                                          \
    void swk_rms_norm_##path(const float *x, const float *weight, float eps, float *out, int64_t n);       \
    void swk_swiglu_##path(float *gate, const float *up, int64_t n);                                       \
    void swk_geglu_##path(float *gate, const float *up, int64_t n);                                        \
    void swk_add_##path(float *x, const float *y, int64_t n);                                              \
    void swk_f16_to_f32_##path(const uint16_t *src, float *dst, int64_t n);                               \
    void swk_f32_to_f16_##path(const float *src, uint16_t *dst, int64_t n);

SWK_DECLARE_VARIANTS(baseline)
#if SWK_X86
SWK_DECLARE_VARIANTS(avx2)
SWK_DECLARE_VARIANTS(avx512)
#endif

/// Scalar F16 <-> F32 (exact widening; round-to-nearest-even narrowing), any CPU.
static inline float swk_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exponent = (h >> 10) & 0x1F;
    uint32_t mantissa = h & 0x3FF;
    uint32_t bits;
    if (exponent == 0) {
        if (mantissa == 0) {
            bits = sign;
        } else {  // subnormal: normalise
            int e = -1;
            do { e++; mantissa <<= 1; } while ((mantissa & 0x400) == 0);
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((mantissa & 0x3FF) << 13);
        }
    } else if (exponent == 31) {
        bits = sign | 0x7F800000u | (mantissa << 13);
    } else {
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    }
    float f;
    __builtin_memcpy(&f, &bits, 4);
    return f;
}

static inline uint16_t swk_float_to_half(float f) {
    uint32_t x;
    __builtin_memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000;
    uint32_t abs = x & 0x7FFFFFFFu;
    if (abs >= 0x7F800000u) {  // inf or nan
        return (uint16_t)(sign | 0x7C00 | (abs > 0x7F800000u ? 0x200 | ((abs >> 13) & 0x3FF) : 0));
    }
    if (abs >= 0x477FF000u) return (uint16_t)(sign | 0x7C00);  // rounds to >= 65520: inf
    if (abs < 0x38800000u) {  // below the smallest normal half: subnormal or zero
        if (abs < 0x33000000u) return (uint16_t)sign;  // < 2^-25: rounds to zero
        uint32_t e = abs >> 23;
        uint32_t mant = (abs & 0x7FFFFF) | 0x800000;
        uint32_t shift = 126 - e;  // 14 + (113 - e)... shift into 10-bit subnormal field
        uint32_t value = mant >> shift;
        uint32_t rem = mant & ((1u << shift) - 1);
        uint32_t halfway = 1u << (shift - 1);
        if (rem > halfway || (rem == halfway && (value & 1))) value++;
        return (uint16_t)(sign | value);
    }
    uint32_t value = ((abs >> 13) - (112u << 10));
    uint32_t rem = abs & 0x1FFF;
    if (rem > 0x1000 || (rem == 0x1000 && (value & 1))) value++;
    return (uint16_t)(sign | value);
}

static inline float swk_bf16_to_float(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    __builtin_memcpy(&f, &bits, 4);
    return f;
}

#endif
