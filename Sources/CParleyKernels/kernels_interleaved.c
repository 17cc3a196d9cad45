// Row-interleaved weights ("x16"): the blocks of 16 consecutive rows stored side by side, so that one 512-bit
// vector holds 4 quants of each of the 16 rows. A dot-product instruction fed one broadcast dword of activations
// then yields 16 rows' partial sums in 16 lanes — no horizontal reduction per block, which is what the
// file-layout kernels spend most of their time on. Weights are repacked once at load; results are bit-identical
// to the file layout's (same exact integer block sums, same float chain per row; see parley_kernels.h).
//
// Layout of one 16-row group, for each block i in order (16 × the file block size, so row r's group starts at
// r × row_bytes as in the file):
//   Q4_0:  d[16] (f16)            | qs[4][16][4]  (256 bytes)
//   Q4_1:  d[16] (f16), m[16]     | qs[4][16][4]  (256 bytes)
//   Q5_0:  d[16] (f16)            | qs[4][16][4]  (256 bytes) | qh[4][2] (8-byte masks, 64 bytes)
//   Q8_0:  d[16] (f16)            | qs[8][16][4]  (512 bytes)
// Q4: byte qs[j][r][b] holds element 8j + b of row r in its low nibble and element 8j + 4 + b in its high nibble
// (unsigned 0..15, as in the file); Q5_0 adds the fifth bits as byte masks: bit 4r + b of qh[j][0] is the high bit
// of element 8j + b of row r, of qh[j][1] that of element 8j + 4 + b (unsigned 0..31 as in the file). Q8_0: qs[j][r][b] = element 4j + b of row r plus 128, as an unsigned byte.
// Q6_K, for each 256-element superblock (the same bytes as 16 file rows' blocks):
//   d[16] (f16) | sc[16][16] (int8: sub-block s of row r at 16s + r) | 8 x { qs[4][16][4] (256) | qh[2][16][4] (128) }
// Each 32-element block k holds its low nibbles as Q4 does (unsigned codes u = q + 32, 0..63) and, in byte
// qh[p][r][b], the top two bits of elements 16p + b, 16p + 4 + b, 16p + 8 + b, 16p + 12 + b at bits 0, 2, 4, 6:
// one 64-byte vector of high bits per 16-element sub-block, which is what one integer scale multiplies.
#include "kernels_internal.h"
#include <math.h>

PK_FP_STRICT

#define X16 16

static int x16_scale_bytes(pk_type t) { return t == PK_Q4_1 ? 64 : 32; }
static int x16_quant_bytes(pk_type t) { return t == PK_Q8_0 ? 512 : t == PK_Q5_0 ? 320 : 256; }
// Bytes per 32 columns of a 16-row group (Q6_K: an eighth of a superblock's 3360, for the offset arithmetic).
static int x16_block_bytes(pk_type t) { return t == PK_Q6_K ? 420 : x16_scale_bytes(t) + x16_quant_bytes(t); }

#define Q6X_SUPER 3360  // one 16-row group's superblock: 32 (d) + 256 (scales) + 8 x 384
#define Q6X_QUANTS 288  // offset of the first 32-element block
#define Q6X_BLOCK 384   // 256 bytes of nibbles + 128 of high bits

int pk_interleavable(pk_type type, int64_t n, int64_t rows) {
    if (type == PK_Q6_K) return n > 0 && n % 256 == 0 && rows > 0 && rows % X16 == 0;
    if (type != PK_Q4_0 && type != PK_Q4_1 && type != PK_Q5_0 && type != PK_Q8_0) return 0;
    return n > 0 && n % 32 == 0 && n <= 16384 && rows > 0 && rows % X16 == 0;
}

// Unsigned 6-bit code (0..63) of element e (0..255) of a file-layout Q6_K block.
static int file_q6_code(const pk_block_q6_K *blk, int e) {
    const int half = e / 128, quarter = (e % 128) / 32, l = e % 32;
    const uint8_t lq = blk->ql[64 * half + l + (quarter & 1) * 32];
    const int low = quarter < 2 ? (lq & 0x0F) : (lq >> 4);
    return low | (((blk->qh[32 * half + l] >> (2 * quarter)) & 3) << 4);
}

// The same code of row r, element e, of an interleaved Q6_K superblock.
static int x16_q6_code(const uint8_t *super, int r, int e) {
    const uint8_t *blk = super + Q6X_QUANTS + (e / 32) * Q6X_BLOCK;
    const int w = e % 32, j = w / 8, b = w % 8, lane = 4 * r + (b & 3);
    const uint8_t v = blk[64 * j + lane];
    const int low = b < 4 ? (v & 0x0F) : (v >> 4);
    const int shift = 4 * (j & 1) + (b < 4 ? 0 : 2);
    return low | (((blk[256 + 64 * (j / 2) + lane] >> shift) & 3) << 4);
}

static void x16_interleave_q6_K(int64_t n, const void *W, size_t row_stride, int64_t rows, void *dst) {
    const int64_t nb = n / 256;
    for (int64_t g = 0; g < rows / X16; g++) {
        for (int64_t i = 0; i < nb; i++) {
            uint8_t *o = (uint8_t *)dst + ((size_t)g * (size_t)nb + (size_t)i) * Q6X_SUPER;
            memset(o, 0, Q6X_SUPER);
            for (int r = 0; r < X16; r++) {
                const pk_block_q6_K *blk = (const pk_block_q6_K *)((const uint8_t *)W + (size_t)(g * X16 + r) * row_stride) + i;
                memcpy(o + 2 * r, &blk->d, 2);
                for (int s = 0; s < 16; s++) o[32 + 16 * s + r] = (uint8_t)blk->scales[s];
                for (int e = 0; e < 256; e++) {
                    const int u = file_q6_code(blk, e);
                    uint8_t *b32 = o + Q6X_QUANTS + (e / 32) * Q6X_BLOCK;
                    const int w = e % 32, j = w / 8, b = w % 8, lane = 4 * r + (b & 3);
                    b32[64 * j + lane] |= (uint8_t)(b < 4 ? (u & 0x0F) : (u & 0x0F) << 4);
                    b32[256 + 64 * (j / 2) + lane] |= (uint8_t)((u >> 4) << (4 * (j & 1) + (b < 4 ? 0 : 2)));
                }
            }
        }
    }
}

// Element k (0..31) of block b of a file-layout row, as the integer the dot product multiplies (Q4_0: q - 8).
static int file_quant(pk_type t, const uint8_t *blk, int k) {
    switch (t) {
    case PK_Q4_0: return (k < 16 ? (blk[2 + k] & 0x0F) : (blk[2 + k - 16] >> 4)) - 8;
    case PK_Q4_1: return k < 16 ? (blk[4 + k] & 0x0F) : (blk[4 + k - 16] >> 4);
    case PK_Q5_0: {
        uint32_t qh;
        memcpy(&qh, blk + 2, 4);
        const int low = k < 16 ? (blk[6 + k] & 0x0F) : (blk[6 + k - 16] >> 4);
        return (low | (int)(((qh >> k) & 1) << 4)) - 16;
    }
    default: return (int8_t)blk[2 + k];
    }
}

void pk_convert_q4_K_to_q4_1(const void *src, void *dst, int64_t n) {
    const pk_block_q4_K *x = src;
    pk_block_q4_1 *y = dst;
    for (int64_t i = 0; i < n / 256; i++) {
        const float d = pk_h2f(x[i].d), dmin = pk_h2f(x[i].dmin);
        uint8_t sc[8], mn[8];
        pk_unpack_k4_scales(x[i].scales, sc, mn);
        for (int j = 0; j < 8; j++, y++) {
            // Sub-block j: low nibbles (j even) or high nibbles (j odd) of the 32 bytes of chunk j / 2.
            const uint8_t *q = x[i].qs + 32 * (j / 2);
            y->d = pk_f2h(d * (float)sc[j]);
            y->m = pk_f2h(-(dmin * (float)mn[j]));
            for (int k = 0; k < 16; k++) {
                const int lo = j % 2 == 0 ? (q[k] & 0x0F) : (q[k] >> 4);
                const int hi = j % 2 == 0 ? (q[k + 16] & 0x0F) : (q[k + 16] >> 4);
                y->qs[k] = (uint8_t)(lo | (hi << 4));
            }
        }
    }
}

void pk_interleave_weights(pk_type type, int64_t n, const void *W, size_t row_stride, int64_t rows, void *dst) {
    if (!pk_interleavable(type, n, rows)) return;
    if (type == PK_Q6_K) {
        x16_interleave_q6_K(n, W, row_stride, rows, dst);
        return;
    }
    const int64_t nb = n / 32;
    const int fb = (int)pk_block_bytes(type), xb = x16_block_bytes(type), sb = x16_scale_bytes(type);
    for (int64_t g = 0; g < rows / X16; g++) {
        for (int64_t i = 0; i < nb; i++) {
            uint8_t *o = (uint8_t *)dst + ((size_t)g * (size_t)nb + (size_t)i) * (size_t)xb;
            uint8_t *qs = o + sb;
            if (type == PK_Q5_0) memset(qs + 256, 0, 64);
            for (int r = 0; r < X16; r++) {
                const uint8_t *blk = (const uint8_t *)W + (size_t)(g * X16 + r) * row_stride + (size_t)i * (size_t)fb;
                memcpy(o + 2 * r, blk, 2);
                if (type == PK_Q4_1) memcpy(o + 32 + 2 * r, blk + 2, 2);
                if (type == PK_Q8_0) {
                    for (int j = 0; j < 8; j++)
                        for (int b = 0; b < 4; b++) qs[64 * j + 4 * r + b] = (uint8_t)(file_quant(type, blk, 4 * j + b) + 128);
                } else {
                    const int off = type == PK_Q4_0 ? 8 : type == PK_Q5_0 ? 16 : 0;
                    for (int j = 0; j < 4; j++)
                        for (int b = 0; b < 4; b++) {
                            const int lo = file_quant(type, blk, 8 * j + b) + off;
                            const int hi = file_quant(type, blk, 8 * j + 4 + b) + off;
                            qs[64 * j + 4 * r + b] = (uint8_t)((lo & 0x0F) | ((hi & 0x0F) << 4));
                            if (type == PK_Q5_0) {  // the masks were zeroed before the first row
                                uint8_t *masks = qs + 256 + 16 * j;
                                const int bit = 4 * r + b;
                                if (lo & 0x10) masks[bit / 8] |= (uint8_t)(1u << (bit % 8));
                                if (hi & 0x10) masks[8 + bit / 8] |= (uint8_t)(1u << (bit % 8));
                            }
                        }
                }
            }
        }
    }
}

// The integer row r of block i multiplies at element k (the inverse of the packing above).
static int x16_quant(pk_type t, const uint8_t *blk, int r, int k) {
    const uint8_t *qs = blk + x16_scale_bytes(t);
    if (t == PK_Q8_0) return (int)qs[64 * (k / 4) + 4 * r + k % 4] - 128;
    const int j = k / 8, b = k % 8, bit = 4 * r + (b & 3);
    const uint8_t v = qs[64 * j + bit];
    int q = b < 4 ? (v & 0x0F) : (v >> 4);
    if (t == PK_Q5_0) q |= ((qs[256 + 16 * j + (b < 4 ? 0 : 8) + bit / 8] >> (bit % 8)) & 1) << 4;
    return t == PK_Q4_0 ? q - 8 : t == PK_Q5_0 ? q - 16 : q;
}

static uint16_t load_u16(const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

void pk_interleaved_dequantize_row(pk_type type, int64_t n, const void *P, int64_t row, float *dst) {
    if (!pk_interleavable(type, n, X16)) return;
    if (type == PK_Q6_K) {  // as deq_q6_K: (d * sc) * q
        const int r = (int)(row % X16);
        const uint8_t *group = (const uint8_t *)P + (size_t)(row / X16) * (size_t)(n / 256) * Q6X_SUPER;
        for (int64_t i = 0; i < n / 256; i++) {
            const uint8_t *super = group + (size_t)i * Q6X_SUPER;
            const float d = pk_h2f(load_u16(super + 2 * r));
            for (int e = 0; e < 256; e++)
                dst[i * 256 + e] = d * (float)(int8_t)super[32 + 16 * (e / 16) + r] * (float)(x16_q6_code(super, r, e) - 32);
        }
        return;
    }
    const int64_t nb = n / 32;
    const int xb = x16_block_bytes(type);
    const int r = (int)(row % X16);
    const uint8_t *group = (const uint8_t *)P + (size_t)(row / X16) * (size_t)nb * (size_t)xb;
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *blk = group + (size_t)i * (size_t)xb;
        const float d = pk_h2f(load_u16(blk + 2 * r));
        const float m = type == PK_Q4_1 ? pk_h2f(load_u16(blk + 32 + 2 * r)) : 0.0f;
        for (int k = 0; k < 32; k++) {
            const float q = (float)x16_quant(type, blk, r, k);
            dst[i * 32 + k] = type == PK_Q4_1 ? q * d + m : q * d;
        }
    }
}

// ---------------------------------------------------------------- scalar reference (the canonical chain)

static void x16_matmul_ref(pk_type t, int64_t n, const uint8_t *P, int64_t groups, const uint8_t *X, size_t xs,
                           int64_t ncols, float *Y, size_t ys) {
    const int64_t nb = n / 32;
    const int xb = x16_block_bytes(t), ab = (int)pk_block_bytes(pk_vec_dot_type(t));
    const int xoff = t == PK_Q4_1 ? 4 : 2;
    for (int64_t g = 0; g < groups; g++) {
        const uint8_t *group = P + (size_t)g * (size_t)nb * (size_t)xb;
        for (int r = 0; r < X16; r++) {
            for (int64_t c = 0; c < ncols; c++) {
                const uint8_t *xrow = X + (size_t)c * xs;
                float acc = 0.0f;
                for (int64_t i = 0; i < nb; i++) {
                    const uint8_t *blk = group + (size_t)i * (size_t)xb;
                    const uint8_t *xblk = xrow + (size_t)i * (size_t)ab;
                    int s = 0;
                    for (int k = 0; k < 32; k++) s += x16_quant(t, blk, r, k) * (int8_t)xblk[xoff + k];
                    acc = fmaf((float)s, pk_h2f(load_u16(blk + 2 * r)) * pk_h2f(load_u16(xblk)), acc);
                    if (t == PK_Q4_1) acc = fmaf(pk_h2f(load_u16(blk + 32 + 2 * r)), pk_h2f(load_u16(xblk + 2)), acc);
                }
                Y[(size_t)c * ys + (size_t)(g * X16 + r)] = acc;
            }
        }
    }
}

// Q6_K: per superblock, the exact Σ_s sc_s · Σ (u − 32)·x over its sub-blocks, then the canonical chain.
static void x16_q6_K_ref(int64_t n, const uint8_t *P, int64_t groups, const uint8_t *X, size_t xs, int64_t ncols,
                         float *Y, size_t ys) {
    const int64_t nb = n / 256;
    for (int64_t g = 0; g < groups; g++) {
        const uint8_t *group = P + (size_t)g * (size_t)nb * Q6X_SUPER;
        for (int r = 0; r < X16; r++) {
            for (int64_t c = 0; c < ncols; c++) {
                const pk_block_q8_K *xrow = (const pk_block_q8_K *)(X + (size_t)c * xs);
                float acc = 0.0f;
                for (int64_t i = 0; i < nb; i++) {
                    const uint8_t *super = group + (size_t)i * Q6X_SUPER;
                    int isum = 0;
                    for (int s = 0; s < 16; s++) {
                        int sub = 0;
                        for (int e = 16 * s; e < 16 * s + 16; e++) sub += (x16_q6_code(super, r, e) - 32) * xrow[i].qs[e];
                        isum += (int8_t)super[32 + 16 * s + r] * sub;
                    }
                    acc = fmaf((float)isum, pk_h2f(load_u16(super + 2 * r)) * xrow[i].d, acc);
                }
                Y[(size_t)c * ys + (size_t)(g * X16 + r)] = acc;
            }
        }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

#define X16_COLS 8
#define INL512 static inline __attribute__((always_inline, target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))
#define INL256 static inline __attribute__((always_inline, target("avx2,fma,f16c")))

static inline uint64_t load_u64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

// 32 mask bits -> 32 bytes, byte k = 0x10 if bit k is set (AVX2 has no mask registers).
INL256 __m256i bits_to_0x10_256(uint32_t bits) {
    const __m256i spread = _mm256_shuffle_epi8(
        _mm256_set1_epi32((int)bits), _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2,
                                                       2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
    const __m256i sel = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, sel), sel), _mm256_set1_epi8(0x10));
}

static inline int32_t load_i32(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

// Σ of the 32 signed activation quants at p (exact), for the weight offset corrections of Q4_0 and Q8_0.
INL256 int32_t sum_i8x32(const uint8_t *p) {
    const __m256i v = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)p), _mm256_set1_epi8((char)0x80));
    const __m256i s = _mm256_sad_epu8(v, _mm256_setzero_si256());  // Σ (x + 128) in 4 u64 lanes
    const __m128i t = _mm_add_epi64(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    return (int32_t)(_mm_cvtsi128_si64(t) + _mm_extract_epi64(t, 1)) - 32 * 128;
}

// ---- AVX-512 VNNI: one 16-row group x C (<= 8) columns over all blocks; lane r = row r.
INL512 void x16_tile_512(const pk_type T, const int C, int64_t nb, const uint8_t *G, const uint8_t *X, size_t xs,
                         const int32_t *corr, float *Y, size_t ys) {
    const int XB = x16_block_bytes(T), SB = x16_scale_bytes(T);
    const int AB = T == PK_Q4_1 ? 36 : 34, XO = T == PK_Q4_1 ? 4 : 2;
    __m512 acc[X16_COLS];
    for (int c = 0; c < C; c++) acc[c] = _mm512_setzero_ps();
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *blk = G + (size_t)i * (size_t)XB, *qs = blk + SB;
        __m512i isum[X16_COLS];
        for (int c = 0; c < C; c++)
            isum[c] = T == PK_Q4_1 ? _mm512_setzero_si512() : _mm512_set1_epi32(corr[(size_t)c * (size_t)nb + (size_t)i]);
        if (T == PK_Q8_0) {
            for (int j = 0; j < 8; j++) {
                const __m512i w = _mm512_loadu_si512(qs + 64 * j);
                for (int c = 0; c < C; c++) {
                    const uint8_t *xq = X + (size_t)c * xs + (size_t)i * AB + XO + 4 * j;
                    isum[c] = _mm512_dpbusd_epi32(isum[c], w, _mm512_set1_epi32(load_i32(xq)));
                }
            }
        } else {
            for (int j = 0; j < 4; j++) {
                const __m512i q = _mm512_loadu_si512(qs + 64 * j);
                __m512i lo = _mm512_and_si512(q, m4);
                __m512i hi = _mm512_and_si512(_mm512_srli_epi16(q, 4), m4);
                if (T == PK_Q5_0) {
                    const __m512i c10 = _mm512_set1_epi8(0x10);
                    lo = _mm512_or_si512(lo, _mm512_maskz_mov_epi8((__mmask64)load_u64(qs + 256 + 16 * j), c10));
                    hi = _mm512_or_si512(hi, _mm512_maskz_mov_epi8((__mmask64)load_u64(qs + 256 + 16 * j + 8), c10));
                }
                for (int c = 0; c < C; c++) {
                    const uint8_t *xq = X + (size_t)c * xs + (size_t)i * AB + XO + 8 * j;
                    isum[c] = _mm512_dpbusd_epi32(isum[c], lo, _mm512_set1_epi32(load_i32(xq)));
                    isum[c] = _mm512_dpbusd_epi32(isum[c], hi, _mm512_set1_epi32(load_i32(xq + 4)));
                }
            }
        }
        const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)blk));
        const __m512 mw = T == PK_Q4_1 ? _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(blk + 32))) : _mm512_setzero_ps();
        for (int c = 0; c < C; c++) {
            const uint8_t *xb = X + (size_t)c * xs + (size_t)i * AB;
            acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[c]), _mm512_mul_ps(dw, _mm512_set1_ps(_cvtsh_ss(load_u16(xb)))), acc[c]);
            if (T == PK_Q4_1) acc[c] = _mm512_fmadd_ps(mw, _mm512_set1_ps(_cvtsh_ss(load_u16(xb + 2))), acc[c]);
        }
    }
    for (int c = 0; c < C; c++) _mm512_storeu_ps(Y + (size_t)c * ys, acc[c]);
}

// ---- AVX2: one 8-row half of a group (h = 0, 1) x C (<= 4) columns; maddubs + madd instead of dpbusd. Q8_0 uses
// the sign trick on the unbiased weights (|w| x sign(x, w)), since 255 x 127 pairs would saturate maddubs.
INL256 void x16_tile_256(const pk_type T, const int C, const int h, int64_t nb, const uint8_t *G, const uint8_t *X,
                         size_t xs, const int32_t *corr, float *Y, size_t ys) {
    const int XB = x16_block_bytes(T), SB = x16_scale_bytes(T);
    const int AB = T == PK_Q4_1 ? 36 : 34, XO = T == PK_Q4_1 ? 4 : 2;
    __m256 acc[4];
    for (int c = 0; c < C; c++) acc[c] = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1), bias = _mm256_set1_epi8((char)0x80);
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *blk = G + (size_t)i * (size_t)XB, *qs = blk + SB + 32 * h;
        __m256i isum[4];
        for (int c = 0; c < C; c++)
            isum[c] = (T == PK_Q4_0 || T == PK_Q5_0) ? _mm256_set1_epi32(corr[(size_t)c * (size_t)nb + (size_t)i])
                                                    : _mm256_setzero_si256();
        if (T == PK_Q8_0) {
            for (int j = 0; j < 8; j++) {
                const __m256i w = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(qs + 64 * j)), bias);
                const __m256i wabs = _mm256_sign_epi8(w, w);
                for (int c = 0; c < C; c++) {
                    const uint8_t *xq = X + (size_t)c * xs + (size_t)i * AB + XO + 4 * j;
                    const __m256i xs8 = _mm256_sign_epi8(_mm256_set1_epi32(load_i32(xq)), w);
                    isum[c] = _mm256_add_epi32(isum[c], _mm256_madd_epi16(_mm256_maddubs_epi16(wabs, xs8), ones));
                }
            }
        } else {
            for (int j = 0; j < 4; j++) {
                const __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 64 * j));
                __m256i lo = _mm256_and_si256(q, m4);
                __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
                if (T == PK_Q5_0) {  // this half's 32 bits of each mask
                    lo = _mm256_or_si256(lo, bits_to_0x10_256((uint32_t)(load_u64(qs - 32 * h + 256 + 16 * j) >> (32 * h))));
                    hi = _mm256_or_si256(hi, bits_to_0x10_256((uint32_t)(load_u64(qs - 32 * h + 264 + 16 * j) >> (32 * h))));
                }
                for (int c = 0; c < C; c++) {
                    const uint8_t *xq = X + (size_t)c * xs + (size_t)i * AB + XO + 8 * j;
                    const __m256i a = _mm256_maddubs_epi16(lo, _mm256_set1_epi32(load_i32(xq)));
                    const __m256i b = _mm256_maddubs_epi16(hi, _mm256_set1_epi32(load_i32(xq + 4)));
                    isum[c] = _mm256_add_epi32(isum[c], _mm256_madd_epi16(_mm256_add_epi16(a, b), ones));
                }
            }
        }
        const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(blk + 16 * h)));
        const __m256 mw = T == PK_Q4_1 ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(blk + 32 + 16 * h))) : _mm256_setzero_ps();
        for (int c = 0; c < C; c++) {
            const uint8_t *xb = X + (size_t)c * xs + (size_t)i * AB;
            acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[c]), _mm256_mul_ps(dw, _mm256_set1_ps(_cvtsh_ss(load_u16(xb)))), acc[c]);
            if (T == PK_Q4_1) acc[c] = _mm256_fmadd_ps(mw, _mm256_set1_ps(_cvtsh_ss(load_u16(xb + 2))), acc[c]);
        }
    }
    for (int c = 0; c < C; c++) _mm256_storeu_ps(Y + (size_t)c * ys + 8 * h, acc[c]);
}

// ---- Q6_K, AVX-512 VNNI: one 16-row group x C (<= 8) columns; per sub-block, the 16 codes' products with the
// activations (less 32 Σx, from the Q8_K block sums) times that sub-block's scale of each row, all exact in int32.
INL512 void x16_q6_tile_512(const int C, int64_t nb, const uint8_t *G, const uint8_t *X, size_t xs, float *Y, size_t ys) {
    __m512 acc[X16_COLS];
    for (int c = 0; c < C; c++) acc[c] = _mm512_setzero_ps();
    const __m512i m4 = _mm512_set1_epi8(0x0F), m30 = _mm512_set1_epi8(0x30);
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *super = G + (size_t)i * Q6X_SUPER;
        __m512i isum[X16_COLS];
        for (int c = 0; c < C; c++) isum[c] = _mm512_setzero_si512();
        for (int k = 0; k < 8; k++) {
            const uint8_t *blk = super + Q6X_QUANTS + k * Q6X_BLOCK;
            for (int p = 0; p < 2; p++) {
                const int s = 2 * k + p;
                const __m512i q0 = _mm512_loadu_si512(blk + 128 * p), q1 = _mm512_loadu_si512(blk + 128 * p + 64);
                const __m512i h = _mm512_loadu_si512(blk + 256 + 64 * p);
                const __m512i w00 = _mm512_or_si512(_mm512_and_si512(q0, m4), _mm512_and_si512(_mm512_slli_epi16(h, 4), m30));
                const __m512i w01 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(q0, 4), m4),
                                                    _mm512_and_si512(_mm512_slli_epi16(h, 2), m30));
                const __m512i w10 = _mm512_or_si512(_mm512_and_si512(q1, m4), _mm512_and_si512(h, m30));
                const __m512i w11 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(q1, 4), m4),
                                                    _mm512_and_si512(_mm512_srli_epi16(h, 2), m30));
                const __m512i sc = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(super + 32 + 16 * s)));
                for (int c = 0; c < C; c++) {
                    const pk_block_q8_K *xb = (const pk_block_q8_K *)(X + (size_t)c * xs) + i;
                    const uint8_t *xq = (const uint8_t *)xb->qs + 16 * s;
                    __m512i t = _mm512_set1_epi32(-32 * (int32_t)xb->bsums[s]);
                    t = _mm512_dpbusd_epi32(t, w00, _mm512_set1_epi32(load_i32(xq)));
                    t = _mm512_dpbusd_epi32(t, w01, _mm512_set1_epi32(load_i32(xq + 4)));
                    t = _mm512_dpbusd_epi32(t, w10, _mm512_set1_epi32(load_i32(xq + 8)));
                    t = _mm512_dpbusd_epi32(t, w11, _mm512_set1_epi32(load_i32(xq + 12)));
                    isum[c] = _mm512_add_epi32(isum[c], _mm512_mullo_epi32(t, sc));
                }
            }
        }
        const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)super));
        for (int c = 0; c < C; c++) {
            const float dx = ((const pk_block_q8_K *)(X + (size_t)c * xs) + i)->d;
            acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[c]), _mm512_mul_ps(dw, _mm512_set1_ps(dx)), acc[c]);
        }
    }
    for (int c = 0; c < C; c++) _mm512_storeu_ps(Y + (size_t)c * ys, acc[c]);
}

// ---- Q6_K, AVX2: one 8-row half (h = 0, 1) x C (<= 4) columns. Codes are <= 63, so two maddubs pairs summed
// (<= 2 x 2 x 63 x 128) stay inside int16.
INL256 void x16_q6_tile_256(const int C, const int hh, int64_t nb, const uint8_t *G, const uint8_t *X, size_t xs,
                            float *Y, size_t ys) {
    __m256 acc[4];
    for (int c = 0; c < C; c++) acc[c] = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0F), m30 = _mm256_set1_epi8(0x30), ones = _mm256_set1_epi16(1);
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *super = G + (size_t)i * Q6X_SUPER;
        __m256i isum[4];
        for (int c = 0; c < C; c++) isum[c] = _mm256_setzero_si256();
        for (int k = 0; k < 8; k++) {
            const uint8_t *blk = super + Q6X_QUANTS + k * Q6X_BLOCK + 32 * hh;
            for (int p = 0; p < 2; p++) {
                const int s = 2 * k + p;
                const __m256i q0 = _mm256_loadu_si256((const __m256i *)(blk + 128 * p));
                const __m256i q1 = _mm256_loadu_si256((const __m256i *)(blk + 128 * p + 64));
                const __m256i h = _mm256_loadu_si256((const __m256i *)(blk + 256 + 64 * p));
                const __m256i w00 = _mm256_or_si256(_mm256_and_si256(q0, m4), _mm256_and_si256(_mm256_slli_epi16(h, 4), m30));
                const __m256i w01 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q0, 4), m4),
                                                    _mm256_and_si256(_mm256_slli_epi16(h, 2), m30));
                const __m256i w10 = _mm256_or_si256(_mm256_and_si256(q1, m4), _mm256_and_si256(h, m30));
                const __m256i w11 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q1, 4), m4),
                                                    _mm256_and_si256(_mm256_srli_epi16(h, 2), m30));
                const __m256i sc = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(super + 32 + 16 * s + 8 * hh)));
                for (int c = 0; c < C; c++) {
                    const pk_block_q8_K *xb = (const pk_block_q8_K *)(X + (size_t)c * xs) + i;
                    const uint8_t *xq = (const uint8_t *)xb->qs + 16 * s;
                    const __m256i a = _mm256_add_epi16(_mm256_maddubs_epi16(w00, _mm256_set1_epi32(load_i32(xq))),
                                                       _mm256_maddubs_epi16(w01, _mm256_set1_epi32(load_i32(xq + 4))));
                    const __m256i b = _mm256_add_epi16(_mm256_maddubs_epi16(w10, _mm256_set1_epi32(load_i32(xq + 8))),
                                                       _mm256_maddubs_epi16(w11, _mm256_set1_epi32(load_i32(xq + 12))));
                    __m256i t = _mm256_add_epi32(_mm256_madd_epi16(a, ones), _mm256_madd_epi16(b, ones));
                    t = _mm256_add_epi32(t, _mm256_set1_epi32(-32 * (int32_t)xb->bsums[s]));
                    isum[c] = _mm256_add_epi32(isum[c], _mm256_mullo_epi32(t, sc));
                }
            }
        }
        const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(super + 16 * hh)));
        for (int c = 0; c < C; c++) {
            const float dx = ((const pk_block_q8_K *)(X + (size_t)c * xs) + i)->d;
            acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[c]), _mm256_mul_ps(dw, _mm256_set1_ps(dx)), acc[c]);
        }
    }
    for (int c = 0; c < C; c++) _mm256_storeu_ps(Y + (size_t)c * ys + 8 * hh, acc[c]);
}

#define Q6X_DRIVER(ISA, CMAX, TILE_CALL)                                                                          \
    static __attribute__((noinline)) void x16_##ISA##_Q6_K(int64_t n, const uint8_t *P, int64_t groups,         \
                                                            const uint8_t *X, size_t xs, int64_t ncols, float *Y, \
                                                            size_t ys) {                                         \
        const int64_t nb = n / 256;                                                                               \
        for (int64_t c0 = 0; c0 < ncols; c0 += CMAX) {                                                            \
            const int C = ncols - c0 < CMAX ? (int)(ncols - c0) : CMAX;                                           \
            const uint8_t *Xc = X + (size_t)c0 * xs;                                                              \
            float *Yc = Y + (size_t)c0 * ys;                                                                      \
            for (int64_t g = 0; g < groups; g++) {                                                                \
                const uint8_t *G = P + (size_t)g * (size_t)nb * Q6X_SUPER;                                        \
                float *Yg = Yc + (size_t)g * X16;                                                                 \
                switch (C) { TILE_CALL }                                                                          \
            }                                                                                                     \
        }                                                                                                         \
    }
#define Q6X_CASE512(K) case K: x16_q6_tile_512(K, nb, G, Xc, xs, Yg, ys); break;
#define Q6X_CASE256(K) case K: x16_q6_tile_256(K, 0, nb, G, Xc, xs, Yg, ys); x16_q6_tile_256(K, 1, nb, G, Xc, xs, Yg, ys); break;
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))
Q6X_DRIVER(avx512, 8, Q6X_CASE512(8) Q6X_CASE512(7) Q6X_CASE512(6) Q6X_CASE512(5) Q6X_CASE512(4) Q6X_CASE512(3) Q6X_CASE512(2) Q6X_CASE512(1))
__attribute__((target("avx2,fma,f16c")))
Q6X_DRIVER(avx2, 4, Q6X_CASE256(4) Q6X_CASE256(3) Q6X_CASE256(2) Q6X_CASE256(1))

// Column tiles of up to 8 (AVX-512) / 4 (AVX2), each over every group of the range; the weight offset
// corrections (Σx per activation block) are computed once per column tile. With the column count a constant in
// each instantiation, the tiles' arrays stay in registers.
#define X16_DRIVER(ISA, T, CMAX, TILE_CALL)                                                                       \
    static __attribute__((noinline)) void x16_##ISA##_##T(int64_t n, const uint8_t *P, int64_t groups,           \
                                                          const uint8_t *X, size_t xs, int64_t ncols, float *Y,  \
                                                          size_t ys) {                                           \
        const int64_t nb = n / 32;                                                                                \
        const size_t gbytes = (size_t)nb * (size_t)x16_block_bytes(PK_##T);                                       \
        int32_t corr[CMAX * 512];                                                                                \
        for (int64_t c0 = 0; c0 < ncols; c0 += CMAX) {                                                            \
            const int C = ncols - c0 < CMAX ? (int)(ncols - c0) : CMAX;                                           \
            const uint8_t *Xc = X + (size_t)c0 * xs;                                                              \
            float *Yc = Y + (size_t)c0 * ys;                                                                      \
            if (PK_##T != PK_Q4_1) {                                                                              \
                const int mul = PK_##T == PK_Q4_0 ? -8 : PK_##T == PK_Q5_0 ? -16 : -128;                                                    \
                for (int c = 0; c < C; c++)                                                                       \
                    for (int64_t i = 0; i < nb; i++)                                                              \
                        corr[(size_t)c * (size_t)nb + (size_t)i] = mul * sum_i8x32(Xc + (size_t)c * xs + (size_t)i * 34 + 2); \
            }                                                                                                     \
            for (int64_t g = 0; g < groups; g++) {                                                                \
                const uint8_t *G = P + (size_t)g * gbytes;                                                        \
                float *Yg = Yc + (size_t)g * X16;                                                                 \
                switch (C) {                                                                                      \
                TILE_CALL                                                                                         \
                }                                                                                                 \
            }                                                                                                     \
        }                                                                                                         \
    }

#define X16_CASE512(T, K) case K: x16_tile_512(PK_##T, K, nb, G, Xc, xs, corr, Yg, ys); break;
#define X16_CASES512(T)                                                                                           \
    X16_CASE512(T, 8) X16_CASE512(T, 7) X16_CASE512(T, 6) X16_CASE512(T, 5) X16_CASE512(T, 4) X16_CASE512(T, 3) \
    X16_CASE512(T, 2) X16_CASE512(T, 1)
#define X16_CASE256(T, K)                                                                                         \
    case K:                                                                                                       \
        x16_tile_256(PK_##T, K, 0, nb, G, Xc, xs, corr, Yg, ys);                                                  \
        x16_tile_256(PK_##T, K, 1, nb, G, Xc, xs, corr, Yg, ys);                                                  \
        break;
#define X16_CASES256(T) X16_CASE256(T, 4) X16_CASE256(T, 3) X16_CASE256(T, 2) X16_CASE256(T, 1)

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c"))) X16_DRIVER(avx512, Q4_0, 8, X16_CASES512(Q4_0))
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c"))) X16_DRIVER(avx512, Q4_1, 8, X16_CASES512(Q4_1))
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c"))) X16_DRIVER(avx512, Q5_0, 8, X16_CASES512(Q5_0))
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c"))) X16_DRIVER(avx512, Q8_0, 8, X16_CASES512(Q8_0))
__attribute__((target("avx2,fma,f16c"))) X16_DRIVER(avx2, Q4_0, 4, X16_CASES256(Q4_0))
__attribute__((target("avx2,fma,f16c"))) X16_DRIVER(avx2, Q4_1, 4, X16_CASES256(Q4_1))
__attribute__((target("avx2,fma,f16c"))) X16_DRIVER(avx2, Q5_0, 4, X16_CASES256(Q5_0))
__attribute__((target("avx2,fma,f16c"))) X16_DRIVER(avx2, Q8_0, 4, X16_CASES256(Q8_0))
#endif

void pk_interleaved_matmul(pk_type type, int64_t n, const void *P, int64_t row_begin, int64_t row_end, const void *X,
                           size_t x_stride, int64_t ncols, float *Y, size_t y_stride) {
    if (!pk_interleavable(type, n, X16) || row_begin % X16 != 0 || row_end % X16 != 0 || row_end <= row_begin ||
        ncols <= 0)
        return;
    const int64_t groups = (row_end - row_begin) / X16;
    const uint8_t *G = (const uint8_t *)P + (size_t)(row_begin / X16) * (size_t)(n / 32) * (size_t)x16_block_bytes(type);
    float *Yr = Y + row_begin;
    const uint8_t *Xb = X;
#if defined(__x86_64__)
    switch (pk_active_isa()) {
    case PK_ISA_AVX512_VNNI:
        switch (type) {
        case PK_Q4_0: x16_avx512_Q4_0(n, G, groups, Xb, x_stride, ncols, Yr, y_stride); return;
        case PK_Q4_1: x16_avx512_Q4_1(n, G, groups, Xb, x_stride, ncols, Yr, y_stride); return;
        case PK_Q5_0: x16_avx512_Q5_0(n, G, groups, Xb, x_stride, ncols, Yr, y_stride); return;
        case PK_Q6_K: x16_avx512_Q6_K(n, G, groups, Xb, x_stride, ncols, Yr, y_stride); return;
        default: x16_avx512_Q8_0(n, G, groups, Xb, x_stride, ncols, Yr, y_stride); return;
        }
    case PK_ISA_AVX2:
        switch (type) {
        case PK_Q4_0: x16_avx2_Q4_0(n, G, groups, Xb, x_stride, ncols, Yr, y_stride); return;
        case PK_Q4_1: x16_avx2_Q4_1(n, G, groups, Xb, x_stride, ncols, Yr, y_stride); return;
        case PK_Q5_0: x16_avx2_Q5_0(n, G, groups, Xb, x_stride, ncols, Yr, y_stride); return;
        case PK_Q6_K: x16_avx2_Q6_K(n, G, groups, Xb, x_stride, ncols, Yr, y_stride); return;
        default: x16_avx2_Q8_0(n, G, groups, Xb, x_stride, ncols, Yr, y_stride); return;
        }
    default: break;
    }
#endif
    if (type == PK_Q6_K) x16_q6_K_ref(n, G, groups, Xb, x_stride, ncols, Yr, y_stride);
    else x16_matmul_ref(type, n, G, groups, Xb, x_stride, ncols, Yr, y_stride);
}
