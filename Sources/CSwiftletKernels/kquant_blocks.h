// kquant_blocks.h: the 256-element super-block weight formats (ggml's K-quants Q2_K..Q6_K
// and IQ4_XS), their layouts, and a portable scalar decoder into one common form. Private
// to the kernel target (dequantize_kquants.c, matmul_kquants.c).
//
// ------------------------------------------------------------ block layouts (ggml) --
// A row of k elements is k/256 super-blocks back to back, little-endian, any alignment.
// e = element index in the super-block (0..255), g = e / 16 its 16-element group.
// Bit fields below are read from the bytes named; "h" denotes an IEEE half.
//   Q2_K, 84 B:  scales[16] @0, qs[64] @16, h d @80, h dmin @82
//                q = (qs[32n + t] >> 2s) & 3            for e = 128n + 32s + t
//                x = d * (scales[g] & 15) * q - dmin * (scales[g] >> 4)
//   Q3_K, 110 B: hmask[32] @0, qs[64] @32, scales[12] @96, h d @108
//                q = ((qs[32n + t] >> 2s) & 3) - 4 * !bit(hmask[t], 4n + s)   e = 128n + 32s + t
//                sc[i] (6 bits) = low | high << 4, low = i < 8 ? scales[i] & 15 : scales[i-8] >> 4,
//                high = (scales[8 + i % 4] >> 2 (i / 4)) & 3;   x = d * (sc[g] - 32) * q
//   Q4_K, 144 B: h d @0, h dmin @2, scales[12] @4, qs[128] @16
//                q = (qs[32c + t] >> 4h) & 15           for e = 64c + 32h + t
//                8 6-bit scales / mins per 32 elements (j = e / 32), from bytes b = scales:
//                j < 4: sc = b[j] & 63, mn = b[j+4] & 63
//                j >= 4: sc = (b[j+4] & 15) | (b[j-4] >> 6) << 4, mn = (b[j+4] >> 4) | (b[j] >> 6) << 4
//                x = d * sc[j] * q - dmin * mn[j]
//   Q5_K, 176 B: h d @0, h dmin @2, scales[12] @4, qh[32] @16, qs[128] @48
//                q = ((qs[32c + t] >> 4h) & 15) | bit(qh[t], 2c + h) << 4   e = 64c + 32h + t
//                scales as Q4_K;  x = d * sc[j] * q - dmin * mn[j]
//   Q6_K, 210 B: ql[128] @0, qh[64] @128, int8 scales[16] @192, h d @208
//                q = ((ql[64n + t] >> 4h) & 15) | ((qh[32n + t'] >> 2s) & 3) << 4 - 32
//                for e = 128n + 64h + t (t < 64) = 128n + 32s + t' (t' < 32)
//                x = d * scales[g] * q
//   IQ4_XS, 136 B: h d @0, uint16 scales_h @2, scales_l[4] @4, qs[128] @8
//                q = kvalues[(qs[16j + t] >> 4h) & 15]  for e = 32j + 16h + t
//                ls[j] = ((scales_l[j/2] >> 4 (j%2)) & 15) | ((scales_h >> 2j) & 3) << 4
//                x = d * (ls[j] - 32) * q
//
// ------------------------------------------------------------------- common form --
// Every format decodes to: unsigned values u[e], an integer offset `off` (value = u - off),
// per-group integer scales sc[g] and mins mn[g] (0 where the format has none), and float
// d, dmin:   x[e] = (d * sc[g]) * (u[e] - off) - (dmin * mn[g])   (the min term only for
// Q2_K, Q4_K, Q5_K). IQ4_XS stores kvalues + 128 in u (off = 128).
#ifndef SWIFTLET_KQUANT_BLOCKS_H
#define SWIFTLET_KQUANT_BLOCKS_H

#include "kernels_internal.h"

#define KQ_BLOCK 256

/// ggml's IQ4_NL / IQ4_XS code book.
static const int8_t kq_iq4_values[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

#define KQ_U16(p) ((uint16_t)((p)[0] | ((p)[1] << 8)))

/// Bytes per super-block of `type`; 0 for types that are not super-block formats.
static inline int64_t kq_block_bytes(int type) {
    switch (type) {
    case SWK_TYPE_Q2_K: return 84;
    case SWK_TYPE_Q3_K: return 110;
    case SWK_TYPE_Q4_K: return 144;
    case SWK_TYPE_Q5_K: return 176;
    case SWK_TYPE_Q6_K: return 210;
    case SWK_TYPE_IQ4_XS: return 136;
    default: return 0;
    }
}

/// Whether `type` has a min term (x = d·sc·q − dmin·mn) rather than an offset.
static inline int kq_has_mins(int type) {
    return type == SWK_TYPE_Q2_K || type == SWK_TYPE_Q4_K || type == SWK_TYPE_Q5_K;
}

/// One super-block in the common form.
typedef struct {
    uint8_t u[KQ_BLOCK];  // unsigned values, element order
    int32_t sc[16];       // scale of group g
    int32_t mn[16];       // min of group g (0 without mins)
    int32_t off;          // value = u - off
    float d, dmin;
} kq_decoded;

/// The 8 six-bit scales and mins of a Q4_K / Q5_K super-block (bytes b = its scales[12]).
static inline void kq_scale_min_k4(const uint8_t *b, uint8_t sc[8], uint8_t mn[8]) {
    for (int j = 0; j < 4; j++) {
        sc[j] = b[j] & 63;
        mn[j] = b[j + 4] & 63;
        sc[j + 4] = (uint8_t)((b[j + 8] & 15) | ((b[j] >> 6) << 4));
        mn[j + 4] = (uint8_t)((b[j + 8] >> 4) | ((b[j + 4] >> 6) << 4));
    }
}

/// Decodes the super-block at `blk` of `type` (one of the six) into `out`.
static inline void kq_decode(int type, const uint8_t *blk, kq_decoded *out) {
    for (int g = 0; g < 16; g++) out->mn[g] = 0;
    out->dmin = 0.0f;
    switch (type) {
    case SWK_TYPE_Q2_K: {
        const uint8_t *qs = blk + 16;
        for (int e = 0; e < KQ_BLOCK; e++) {
            const int n = e >> 7, s = (e >> 5) & 3, t = e & 31;
            out->u[e] = (qs[32 * n + t] >> (2 * s)) & 3;
        }
        for (int g = 0; g < 16; g++) {
            out->sc[g] = blk[g] & 15;
            out->mn[g] = blk[g] >> 4;
        }
        out->off = 0;
        out->d = swk_half_to_float(KQ_U16(blk + 80));
        out->dmin = swk_half_to_float(KQ_U16(blk + 82));
        return;
    }
    case SWK_TYPE_Q3_K: {
        const uint8_t *hm = blk, *qs = blk + 32, *b = blk + 96;
        for (int e = 0; e < KQ_BLOCK; e++) {
            const int n = e >> 7, s = (e >> 5) & 3, t = e & 31;
            const int low = (qs[32 * n + t] >> (2 * s)) & 3, high = (hm[t] >> (4 * n + s)) & 1;
            out->u[e] = (uint8_t)(low | high << 2);
        }
        for (int i = 0; i < 16; i++) {
            const int low = i < 8 ? b[i] & 15 : b[i - 8] >> 4;
            const int high = (b[8 + (i & 3)] >> (2 * (i >> 2))) & 3;
            out->sc[i] = (low | high << 4) - 32;
        }
        out->off = 4;
        out->d = swk_half_to_float(KQ_U16(blk + 108));
        return;
    }
    case SWK_TYPE_Q4_K:
    case SWK_TYPE_Q5_K: {
        const int five = type == SWK_TYPE_Q5_K;
        const uint8_t *qh = blk + 16, *qs = blk + (five ? 48 : 16);
        for (int e = 0; e < KQ_BLOCK; e++) {
            const int c = e >> 6, h = (e >> 5) & 1, t = e & 31;
            int q = (qs[32 * c + t] >> (4 * h)) & 15;
            if (five) q |= ((qh[t] >> (2 * c + h)) & 1) << 4;
            out->u[e] = (uint8_t)q;
        }
        uint8_t sc[8], mn[8];
        kq_scale_min_k4(blk + 4, sc, mn);
        for (int g = 0; g < 16; g++) {
            out->sc[g] = sc[g >> 1];
            out->mn[g] = mn[g >> 1];
        }
        out->off = 0;
        out->d = swk_half_to_float(KQ_U16(blk));
        out->dmin = swk_half_to_float(KQ_U16(blk + 2));
        return;
    }
    case SWK_TYPE_Q6_K: {
        const uint8_t *ql = blk, *qh = blk + 128;
        for (int e = 0; e < KQ_BLOCK; e++) {
            const int n = e >> 7, h = (e >> 6) & 1, t = e & 63, s = (e >> 5) & 3, t2 = e & 31;
            const int low = (ql[64 * n + t] >> (4 * h)) & 15, high = (qh[32 * n + t2] >> (2 * s)) & 3;
            out->u[e] = (uint8_t)(low | high << 4);
        }
        for (int g = 0; g < 16; g++) out->sc[g] = (int8_t)blk[192 + g];
        out->off = 32;
        out->d = swk_half_to_float(KQ_U16(blk + 208));
        return;
    }
    default: {  // SWK_TYPE_IQ4_XS
        const uint8_t *qs = blk + 8;
        for (int e = 0; e < KQ_BLOCK; e++) {
            const int j = e >> 5, h = (e >> 4) & 1, t = e & 15;
            out->u[e] = (uint8_t)(kq_iq4_values[(qs[16 * j + t] >> (4 * h)) & 15] + 128);
        }
        const uint16_t high = KQ_U16(blk + 2);
        for (int g = 0; g < 16; g++) {
            const int j = g >> 1;
            const int ls = ((blk[4 + j / 2] >> (4 * (j & 1))) & 15) | ((high >> (2 * j)) & 3) << 4;
            out->sc[g] = ls - 32;
        }
        out->off = 128;
        out->d = swk_half_to_float(KQ_U16(blk));
        return;
    }
    }
}

// ------------------------------------------------------ activation row format (Q8_K) --
// Activations for these weights are quantized per 256 elements (one super-block) to int8
// with one float scale da (amax / 127, the rules of matmul_q8.c: NaN ignored, |q| <= 127,
// nearest even) and per-16 sums A[g] of q. One row is k/256 blocks of KQ_ACT_BYTES:
//   [0, 256)    int8 q, lane-transposed: 4 vectors V_x (x = 0..3) of 16 lanes of 4 bytes;
//               lane L of V_x (byte 64x + 4L) holds elements 16 G(L) + 4x + (0..3) with
//               G(L) = 4 (L & 3) + (L >> 2). This is what a two-level 32/64-bit unpack
//               transpose of the four natural-order 64-element vectors of a weight block
//               gives, so after four VNNI steps int32 lane L holds group G(L)'s 16 products.
//   [256, 320)  int32 nA[16]:  nA[L] = -A[G(L)]
//   [320, 384)  float ad[16]:  ad[L] = da * A[G(L)]
//   [384, 388)  float da; then zero to 448.
#define KQ_ACT_BYTES 448
#define KQ_ACT_NSUM 256
#define KQ_ACT_AD 320
#define KQ_ACT_DA 384
/// Group of lane L, and lane of group g.
#define KQ_LANE_GROUP(L) (4 * ((L) & 3) + ((L) >> 2))
#define KQ_GROUP_LANE(g) (4 * ((g) & 3) + ((g) >> 2))
/// Byte of element e in the q area.
#define KQ_ACT_OFF(e) (64 * (((e) >> 2) & 3) + 4 * KQ_GROUP_LANE((e) >> 4) + ((e) & 3))

#endif
