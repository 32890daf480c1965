// dequantize.c: one row of a stored weight format back to floats (portable scalar C; not a
// hot path). Formats, ggml layouts, all little-endian at any alignment:
//   F32:  float[k]            F16: uint16 half[k]            BF16: uint16 bf16[k]
//   Q8_0: k/32 blocks of { uint16 d (half); int8 qs[32] }      (34 bytes)
//         x[32b + t] = d * qs[t]
//   Q4_0: k/32 blocks of { uint16 d (half); uint8 qs[16] }     (18 bytes)
//         x[32b + t] = d * ((qs[t] & 15) - 8), x[32b + t + 16] = d * ((qs[t] >> 4) - 8), t < 16
//   Q4_1, Q5_0, Q5_1, IQ4_NL: see matmul_block32.c
// The super-block formats: dequantize_kquants.c. Unknown types give zeros.
#include "kernels_internal.h"

#define DQ_U16(p) ((uint16_t)((p)[0] | ((p)[1] << 8)))

void swk_dequantize_row(int type, const void *src, float *dst, int64_t k) {
    const uint8_t *s = (const uint8_t *)src;
    switch (type) {
        case SWK_TYPE_F32:
            for (int64_t t = 0; t < k; t++) __builtin_memcpy(&dst[t], s + 4 * t, 4);
            return;
        case SWK_TYPE_F16:
            for (int64_t t = 0; t < k; t++) dst[t] = swk_half_to_float(DQ_U16(s + 2 * t));
            return;
        case SWK_TYPE_BF16:
            for (int64_t t = 0; t < k; t++) dst[t] = swk_bf16_to_float(DQ_U16(s + 2 * t));
            return;
        case SWK_TYPE_Q8_0:
            for (int64_t b = 0; b < k / 32; b++) {
                const uint8_t *blk = s + 34 * b;
                const float d = swk_half_to_float(DQ_U16(blk));
                for (int t = 0; t < 32; t++) dst[32 * b + t] = d * (float)(int8_t)blk[2 + t];
            }
            return;
        case SWK_TYPE_Q4_0:
            for (int64_t b = 0; b < k / 32; b++) {
                const uint8_t *blk = s + 18 * b;
                const float d = swk_half_to_float(DQ_U16(blk));
                for (int t = 0; t < 16; t++) {
                    dst[32 * b + t] = d * (float)((int)(blk[2 + t] & 15) - 8);
                    dst[32 * b + t + 16] = d * (float)((int)(blk[2 + t] >> 4) - 8);
                }
            }
            return;
        case SWK_TYPE_Q4_1: case SWK_TYPE_Q5_0: case SWK_TYPE_Q5_1: case SWK_TYPE_IQ4_NL:
            swk_dequantize_block32_row(type, src, dst, k);  // layouts in matmul_block32.c
            return;
        default:
            if (swk_dequantize_row_kquant(type, src, dst, k)) return;  // Q2_K..Q6_K, IQ4_XS
            for (int64_t t = 0; t < k; t++) dst[t] = 0.0f;
            return;
    }
}
