// The dispatch table: one set of kernel pointers per CPU path, chosen on first use from the
// CPU's features (and SWIFTLET_CPU), and the public entry points that route through it.
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "kernels_internal.h"

typedef struct {
    swk_matmul_fn matmul_f32, matmul_f16, matmul_bf16, matmul_q8_0, matmul_q4_0;
    swk_matmul_fn matmul_q4_1, matmul_q5_0, matmul_q5_1, matmul_iq4_nl;
    void (*quantize_q8)(const float *, void *, int64_t, int64_t);
    void (*attn_scores)(const float *, const void *, int, int64_t, int64_t, int64_t, float, float *);
    void (*attn_scores4)(const float *const[4], const void *, int, int64_t, int64_t, int64_t, float, float *const[4]);
    void (*attn_accumulate)(const void *, int, const float *, int64_t, int64_t, float *);
    void (*attn_accumulate4)(const void *, int, const float *const[4], int64_t, int64_t, float *const[4]);
    void (*softmax)(float *, int64_t);
    void (*rms_norm)(const float *, const float *, float, float *, int64_t);
    void (*swiglu)(float *, const float *, int64_t);
    void (*geglu)(float *, const float *, int64_t);
    void (*add)(float *, const float *, int64_t);
    void (*f16_to_f32)(const uint16_t *, float *, int64_t);
    void (*f32_to_f16)(const float *, uint16_t *, int64_t);
} swk_table;

struct swk_kernels {
    int path;
    swk_table table;
};

#define SWK_TABLE(path)                                                                              \
    {                                                                                                \
        swk_matmul_f32_##path, swk_matmul_f16_##path, swk_matmul_bf16_##path, swk_matmul_q8_0_##path, \
            swk_matmul_q4_0_##path, swk_matmul_q4_1_##path, swk_matmul_q5_0_##path,                   \
            swk_matmul_q5_1_##path, swk_matmul_iq4_nl_##path, swk_quantize_q8_##path, swk_attn_scores_##path,                   \
            swk_attn_scores4_##path, swk_attn_accumulate_##path, swk_attn_accumulate4_##path,         \
            swk_softmax_##path, swk_rms_norm_##path, swk_swiglu_##path, swk_geglu_##path,             \
            swk_add_##path, swk_f16_to_f32_##path, swk_f32_to_f16_##path                              \
    }

static const struct swk_kernels tables[3] = {
    {SWK_PATH_BASELINE, SWK_TABLE(baseline)},
#if SWK_X86
    {SWK_PATH_AVX2, SWK_TABLE(avx2)},
    {SWK_PATH_AVX512, SWK_TABLE(avx512)},
#else
    {SWK_PATH_BASELINE, SWK_TABLE(baseline)},
    {SWK_PATH_BASELINE, SWK_TABLE(baseline)},
#endif
};

static _Atomic int default_path = -1;

int swk_cpu_best_path(void) {
#if SWK_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512vnni") &&
        __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c") && __builtin_cpu_supports("bmi2")) {
        return SWK_PATH_AVX512;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c") &&
        __builtin_cpu_supports("bmi2")) {
        return SWK_PATH_AVX2;
    }
#endif
    return SWK_PATH_BASELINE;
}

static int supported_path(int path) {
    int best = swk_cpu_best_path();
    if (path < SWK_PATH_BASELINE) path = SWK_PATH_BASELINE;
    return path > best ? best : path;
}

const swk_kernels *swk_kernels_for(int path) { return &tables[supported_path(path)]; }

int swk_kernels_path(const swk_kernels *kernels) { return kernels->path; }

/// The path SWIFTLET_CPU asks for, or -1 when unset or not a path name.
static int requested_path(void) {
    const char *value = getenv("SWIFTLET_CPU");
    if (value == NULL) return -1;
    for (int path = SWK_PATH_BASELINE; path <= SWK_PATH_AVX512; path++) {
        if (strcmp(value, swk_cpu_path_name(path)) == 0) return path;
    }
    return -1;
}

int swk_cpu_path(void) {
    int path = atomic_load(&default_path);
    if (path >= 0) return path;
    int requested = requested_path();
    path = supported_path(requested >= 0 ? requested : SWK_PATH_AVX512);
    atomic_store(&default_path, path);
    return path;
}

const char *swk_cpu_path_name(int path) {
    switch (path) {
    case SWK_PATH_AVX2: return "avx2";
    case SWK_PATH_AVX512: return "avx512";
    default: return "baseline";
    }
}

const char *swk_cpu_features(void) {
    static char text[256];
    static _Atomic int done = 0;
    if (atomic_load(&done)) return text;
    char buffer[256] = "";
#if SWK_X86
    __builtin_cpu_init();
    static const char *const names[] = {"sse4.2", "avx", "avx2", "fma", "f16c", "bmi2", "avx512f", "avx512bw",
                                        "avx512vl", "avx512dq", "avx512vnni", "avx512bf16"};
    int supported[12] = {
        __builtin_cpu_supports("sse4.2"),   __builtin_cpu_supports("avx"),      __builtin_cpu_supports("avx2"),
        __builtin_cpu_supports("fma"),      __builtin_cpu_supports("f16c"),     __builtin_cpu_supports("bmi2"),
        __builtin_cpu_supports("avx512f"),  __builtin_cpu_supports("avx512bw"), __builtin_cpu_supports("avx512vl"),
        __builtin_cpu_supports("avx512dq"), __builtin_cpu_supports("avx512vnni"),
        __builtin_cpu_supports("avx512bf16"),
    };
    for (int i = 0; i < 12; i++) {
        if (!supported[i]) continue;
        if (buffer[0]) strncat(buffer, " ", sizeof buffer - strlen(buffer) - 1);
        strncat(buffer, names[i], sizeof buffer - strlen(buffer) - 1);
    }
#elif defined(__aarch64__)
    strcpy(buffer, "aarch64 (baseline kernels)");
#else
    strcpy(buffer, "portable (baseline kernels)");
#endif
    memcpy(text, buffer, sizeof text);
    atomic_store(&done, 1);
    return text;
}


// ------------------------------------------------------------------ weight formats --

int swk_type_supported(int type) { return swk_type_block_size(type) > 0; }

int64_t swk_type_block_size(int type) {
    switch (type) {
    case SWK_TYPE_F32: case SWK_TYPE_F16: case SWK_TYPE_BF16: return 1;
    case SWK_TYPE_Q8_0: case SWK_TYPE_Q4_0: return 32;
    case SWK_TYPE_Q4_1: case SWK_TYPE_Q5_0: case SWK_TYPE_Q5_1: case SWK_TYPE_IQ4_NL: return 32;
    default: return swk_kquant_block_bytes(type) ? 256 : 0;
    }
}

int64_t swk_type_block_bytes(int type) {
    switch (type) {
    case SWK_TYPE_F32: return 4;
    case SWK_TYPE_F16: case SWK_TYPE_BF16: return 2;
    case SWK_TYPE_Q8_0: return 34;  // f16 scale + 32 int8
    case SWK_TYPE_Q4_0: return 18;  // f16 scale + 32 nibbles
    case SWK_TYPE_Q4_1: return 20;  // f16 scale, f16 min + 32 nibbles
    case SWK_TYPE_Q5_0: return 22;  // f16 scale + 32 high bits + 32 nibbles
    case SWK_TYPE_Q5_1: return 24;  // f16 scale, f16 min + 32 high bits + 32 nibbles
    case SWK_TYPE_IQ4_NL: return 18;  // f16 scale + 32 grid-index nibbles
    default: return swk_kquant_block_bytes(type);
    }
}

int64_t swk_activation_row_bytes(int type, int64_t k) {
    switch (type) {
    case SWK_TYPE_Q8_0: case SWK_TYPE_Q4_0: return swk_q8_activation_row_bytes(k);
    case SWK_TYPE_Q4_1: case SWK_TYPE_Q5_0: case SWK_TYPE_Q5_1: case SWK_TYPE_IQ4_NL: return swk_q8_activation_row_bytes(k);
    default: return swk_kquant_block_bytes(type) ? swk_q8k_activation_row_bytes(k) : 4 * k;
    }
}

void swk_prepare_activations(const swk_kernels *kernels, int type, const float *x, void *out, int64_t m, int64_t k) {
    switch (type) {
    case SWK_TYPE_Q8_0: case SWK_TYPE_Q4_0: kernels->table.quantize_q8(x, out, m, k); break;
    case SWK_TYPE_Q4_1: case SWK_TYPE_Q5_0: case SWK_TYPE_Q5_1: case SWK_TYPE_IQ4_NL:
        kernels->table.quantize_q8(x, out, m, k);
        break;
    default:
        if (swk_kquant_block_bytes(type)) { swk_kquant_prepare(kernels->path, x, out, m, k); break; }
        memcpy(out, x, (size_t)(m * k) * sizeof(float)); break;
    }
}

void swk_matmul(const swk_kernels *kernels, int type, const void *a, const void *w, float *y, int64_t m, int64_t k, int64_t ldy,
                int64_t j0, int64_t j1, void *scratch, int64_t scratch_bytes, int from_memory) {
    const swk_table *t = &kernels->table;
    swk_matmul_fn fn;
    switch (type) {
    case SWK_TYPE_F32: fn = t->matmul_f32; break;
    case SWK_TYPE_F16: fn = t->matmul_f16; break;
    case SWK_TYPE_BF16: fn = t->matmul_bf16; break;
    case SWK_TYPE_Q8_0: fn = t->matmul_q8_0; break;
    case SWK_TYPE_Q4_0: fn = t->matmul_q4_0; break;
    case SWK_TYPE_Q4_1: fn = t->matmul_q4_1; break;
    case SWK_TYPE_Q5_0: fn = t->matmul_q5_0; break;
    case SWK_TYPE_Q5_1: fn = t->matmul_q5_1; break;
    case SWK_TYPE_IQ4_NL: fn = t->matmul_iq4_nl; break;
    default: fn = swk_kquant_matmul(kernels->path, type); break;
    }
    if (fn == NULL) return;
    if (m <= 0 || j1 <= j0 || k <= 0) return;
    fn(a, w, y, m, k, ldy, j0, j1, scratch, scratch_bytes, from_memory);
}

// ----------------------------------------------------------------------- attention --

void swk_attn_scores(const swk_kernels *kernels, const float *q, const void *keys, int kv_f16, int64_t block_size, int64_t rows, int64_t hd,
                     float scale, float *out) {
    kernels->table.attn_scores(q, keys, kv_f16, block_size, rows, hd, scale, out);
}

void swk_attn_scores4(const swk_kernels *kernels, const float *const q[4], const void *keys, int kv_f16, int64_t block_size, int64_t rows,
                      int64_t hd, float scale, float *const out[4]) {
    kernels->table.attn_scores4(q, keys, kv_f16, block_size, rows, hd, scale, out);
}

void swk_attn_accumulate(const swk_kernels *kernels, const void *values, int kv_f16, const float *weights, int64_t rows, int64_t hd,
                         float *out) {
    kernels->table.attn_accumulate(values, kv_f16, weights, rows, hd, out);
}

void swk_attn_accumulate4(const swk_kernels *kernels, const void *values, int kv_f16, const float *const weights[4], int64_t rows, int64_t hd,
                          float *const out[4]) {
    kernels->table.attn_accumulate4(values, kv_f16, weights, rows, hd, out);
}

// ------------------------------------------------------------------------ row ops --

void swk_softmax(const swk_kernels *kernels, float *x, int64_t n) { kernels->table.softmax(x, n); }
void swk_rms_norm(const swk_kernels *kernels, const float *x, const float *weight, float eps, float *out, int64_t n) {
    kernels->table.rms_norm(x, weight, eps, out, n);
}
void swk_swiglu(const swk_kernels *kernels, float *gate, const float *up, int64_t n) { kernels->table.swiglu(gate, up, n); }
void swk_geglu(const swk_kernels *kernels, float *gate, const float *up, int64_t n) { kernels->table.geglu(gate, up, n); }
void swk_add(const swk_kernels *kernels, float *x, const float *y, int64_t n) { kernels->table.add(x, y, n); }
void swk_f16_to_f32(const swk_kernels *kernels, const uint16_t *src, float *dst, int64_t n) { kernels->table.f16_to_f32(src, dst, n); }
void swk_f32_to_f16(const swk_kernels *kernels, const float *src, uint16_t *dst, int64_t n) { kernels->table.f32_to_f16(src, dst, n); }
