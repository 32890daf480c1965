// dequantize_kquants.c: one row of a super-block weight format (Q2_K..Q6_K, IQ4_XS; layouts
// in kquant_blocks.h) back to floats, portable scalar C (not a hot path). Each element is
// x = (d * sc) * (u - off) - (dmin * mn) in float arithmetic, the min term only for the
// formats that have one: the operations, in this order, of the `gguf` package's reference
// dequantizers, so the results agree bit for bit.
#include "kquant_blocks.h"

#pragma clang fp contract(off)

int swk_dequantize_row_kquant(int type, const void *src, float *dst, int64_t k) {
    const int64_t bb = kq_block_bytes(type);
    if (bb == 0) return 0;
    const int mins = kq_has_mins(type);
    kq_decoded blk;
    for (int64_t b = 0; b < k / KQ_BLOCK; b++) {
        kq_decode(type, (const uint8_t *)src + b * bb, &blk);
        float *out = dst + b * KQ_BLOCK;
        for (int g = 0; g < 16; g++) {
            const float dl = blk.d * (float)blk.sc[g];
            const float ml = blk.dmin * (float)blk.mn[g];
            for (int t = 0; t < 16; t++) {
                const float q = (float)((int)blk.u[16 * g + t] - blk.off);
                out[16 * g + t] = mins ? dl * q - ml : dl * q;
            }
        }
    }
    return 1;
}
