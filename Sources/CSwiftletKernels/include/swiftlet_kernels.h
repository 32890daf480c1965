// Swiftlet's C micro-kernels: the innermost loops only (matrix-multiply micro-kernels per
// weight format, activation quantization, attention dot/accumulate, a few row ops).
//
// Every kernel exists in per-ISA variants compiled with __attribute__((target(...))) (no
// compiler flag needed): AVX-512 (F/BW/VL/DQ + VNNI), AVX2 (+FMA, F16C) and a portable
// baseline (plain C; the only one built on non-x86 CPUs). A dispatch table per path holds
// the variants; callers pass the table (`swk_kernels_for`) to each public function, so two
// engines in one process may run different paths. The default path is the best the CPU
// supports, or SWIFTLET_CPU (baseline|avx2|avx512) when it names a lower one.
//
// Numbers: within one path every kernel is deterministic and each output element is
// computed by the same sequence of operations whatever m (the number of activation rows),
// the weight-row range, or the tile that computes it: results never depend on the batch.
// Paths may differ from each other by rounding.
//
// Shapes are row-major; `ldy` is the row stride of y in floats. Sizes are int64_t.
#ifndef SWIFTLET_KERNELS_H
#define SWIFTLET_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// ---------------------------------------------------------------------- CPU paths --

typedef enum {
    SWK_PATH_BASELINE = 0,
    SWK_PATH_AVX2 = 1,
    SWK_PATH_AVX512 = 2,
} swk_path;

/// The best path this CPU supports.
int swk_cpu_best_path(void);
/// The default path: the best, or SWIFTLET_CPU when it names a supported lower path.
int swk_cpu_path(void);

/// One path's dispatch table (opaque).
typedef struct swk_kernels swk_kernels;
/// The table of min(path, best supported path).
const swk_kernels *swk_kernels_for(int path);
/// The path a table runs.
int swk_kernels_path(const swk_kernels *kernels);
/// "baseline", "avx2" or "avx512".
const char *swk_cpu_path_name(int path);
/// A one-line description of the CPU features seen (e.g. "avx512f avx512bw avx512vnni ...").
const char *swk_cpu_features(void);

// ------------------------------------------------------------------ weight formats --
// ggml type codes for the formats the kernels multiply as stored.
enum {
    SWK_TYPE_F32 = 0,
    SWK_TYPE_F16 = 1,
    SWK_TYPE_Q4_0 = 2,
    SWK_TYPE_Q4_1 = 3,
    SWK_TYPE_Q5_0 = 6,
    SWK_TYPE_Q5_1 = 7,
    SWK_TYPE_Q8_0 = 8,
    SWK_TYPE_Q2_K = 10,
    SWK_TYPE_Q3_K = 11,
    SWK_TYPE_Q4_K = 12,
    SWK_TYPE_Q5_K = 13,
    SWK_TYPE_Q6_K = 14,
    SWK_TYPE_IQ4_NL = 20,
    SWK_TYPE_IQ4_XS = 23,
    SWK_TYPE_BF16 = 30,
};

/// Whether the kernels multiply weights of ggml type `type` as stored.
int swk_type_supported(int type);
/// Elements per block of `type` (1 for float formats); 0 when unsupported.
int64_t swk_type_block_size(int type);
/// Bytes per block of `type`; 0 when unsupported.
int64_t swk_type_block_bytes(int type);

/// Bytes of one activation row of k elements prepared for weights of `type`: floats
/// (4·k) for F32/F16/BF16, quantized 8-bit blocks for the block formats (32-element blocks
/// for Q8_0/Q4_0, 256-element blocks with per-16 sums for the K-quants and IQ4_XS).
/// k must be a multiple of the type's block size.
int64_t swk_activation_row_bytes(int type, int64_t k);
/// Prepares m rows of k floats `x` (row stride k) for weights of `type` into `out` (m rows
/// of swk_activation_row_bytes(type, k) bytes). Float formats copy; block formats quantize
/// each 32-element block (256 for the super-block formats) to int8 with one scale (round to
/// nearest, |q| <= 127).
void swk_prepare_activations(const swk_kernels *kernels, int type, const float *x, void *out, int64_t m, int64_t k);

/// Decodes `k` elements (one row) of `type` at `src` to floats.
void swk_dequantize_row(int type, const void *src, float *dst, int64_t k);

/// Activation rows up to which swk_matmul's float walks stream each weight row once for
/// all rows (decode batches, speculative verification) instead of tiling a block.
#define SWK_SKINNY_ROWS 16

/// y[i*ldy + j] = Σ_t a_i[t] · w_j[t] for i < m and j0 <= j < j1, where a_i is row i of the
/// prepared activations `a` (swk_prepare_activations) and w_j is weight row j, stored at
/// `w + j * row_bytes` with row_bytes = k / block_size · block_bytes.
/// `scratch` (scratch_bytes, 64-byte aligned, per thread) may be used by a kernel to
/// stage or widen weight blocks; it may be NULL with scratch_bytes 0.
/// `from_memory` says the weights do not stay in cache between steps (the kernel then
/// prefers single sequential streams over interleaved ones). It changes speed, never results.
void swk_matmul(const swk_kernels *kernels, int type, const void *a, const void *w, float *y, int64_t m, int64_t k, int64_t ldy,
                int64_t j0, int64_t j1, void *scratch, int64_t scratch_bytes, int from_memory);

// ----------------------------------------------------------------------- attention --
// KV blocks: keys transposed, (hd, block_size); values (block_size, hd). Elements are F32
// (`float`) or F16 (`uint16_t` bits); `kv_f16` says which.

/// out[r] = scale · Σ_d q[d] · keys[d·block_size + r] for r < rows (rows <= block_size).
void swk_attn_scores(const swk_kernels *kernels, const float *q, const void *keys, int kv_f16, int64_t block_size, int64_t rows,
                     int64_t hd, float scale, float *out);
/// swk_attn_scores for four queries over the same keys; each out[i] is bit-identical to
/// swk_attn_scores(q[i], ...).
void swk_attn_scores4(const swk_kernels *kernels, const float *const q[4], const void *keys, int kv_f16, int64_t block_size,
                      int64_t rows, int64_t hd, float scale, float *const out[4]);
/// out[c] += Σ_r weights[r] · values[r·hd + c] for c < hd, r < rows.
void swk_attn_accumulate(const swk_kernels *kernels, const void *values, int kv_f16, const float *weights, int64_t rows, int64_t hd,
                         float *out);
/// swk_attn_accumulate for four weight rows over the same values; each out[i] is
/// bit-identical to swk_attn_accumulate(values, ..., weights[i], ..., out[i]).
void swk_attn_accumulate4(const swk_kernels *kernels, const void *values, int kv_f16, const float *const weights[4], int64_t rows,
                          int64_t hd, float *const out[4]);

// ------------------------------------------------------------------------ row ops --

/// In-place softmax of n floats.
void swk_softmax(const swk_kernels *kernels, float *x, int64_t n);
/// out = x / sqrt(mean(x²) + eps) · weight, one row of n.
void swk_rms_norm(const swk_kernels *kernels, const float *x, const float *weight, float eps, float *out, int64_t n);
/// gate[i] = silu(gate[i]) · up[i].
void swk_swiglu(const swk_kernels *kernels, float *gate, const float *up, int64_t n);
/// gate[i] = gelu_tanh(gate[i]) · up[i].
void swk_geglu(const swk_kernels *kernels, float *gate, const float *up, int64_t n);
/// x[i] += y[i].
void swk_add(const swk_kernels *kernels, float *x, const float *y, int64_t n);
/// dst[i] = float(src[i]) for F16 bits.
void swk_f16_to_f32(const swk_kernels *kernels, const uint16_t *src, float *dst, int64_t n);
/// dst[i] = f16(src[i]) round to nearest even.
void swk_f32_to_f16(const swk_kernels *kernels, const float *src, uint16_t *dst, int64_t n);

#ifdef __cplusplus
}
#endif

#endif
