// x86 SIMD kernels (kernels_x86_impl.h), written once and compiled twice: kernels_avx2.c (maddubs+madd) and kernels_avx512.c
// (VNNI dpbusd / dpwssd on 256-bit vectors, AVX-512BW mask moves). The includer defines:
//   PK_TARGET_STR  the function target attribute string
//   PK_VNNI        1 to use VNNI instructions
//   PK_SFX(name)   name mangling for this ISA
//   PK_MM_R/PK_MM_C   matmul register tile (rows x columns), PK_MV_R rows per matvec step
// Every quantized result equals kernels_ref.c bit for bit: exact integer block sums, then the canonical float order of
// parley_kernels.h (vectorised across rows, lane r = row r).
#include <immintrin.h>

PK_FP_STRICT

// Register tiles are at most PK_TMAX x PK_TMAX (fixed-size arrays, so no VLAs; SROA keeps them in registers).
#define PK_TMAX 8
// Row tiles: at most 4 rows (one xmm of rows) with AVX2, 16 (one zmm) with AVX-512.
#define PK_TILE_ROWS (PK_VNNI ? 16 : 4)
_Static_assert(PK_MV_R >= 1 && PK_MV_R <= PK_TILE_ROWS && PK_MM_R >= 1 && PK_MM_R <= PK_TILE_ROWS, "row tile");
// Columns per matmul register tile, per weight type.
#ifndef PK_MM_CT
#define PK_MM_CT(T) PK_MM_C
#endif
_Static_assert(PK_MM_C >= 1 && PK_MM_C <= PK_TMAX, "column tile");

#define TGT __attribute__((target(PK_TARGET_STR)))
#define INL static inline __attribute__((always_inline)) TGT

// ---------------------------------------------------------------- primitives

// acc += Σ(4 adjacent) u8(u) * s8(s) per int32 lane. With maddubs the pair sums must fit int16 (callers ensure it).
INL __m256i mulsum_u8s8(__m256i acc, __m256i u, __m256i s) {
#if PK_VNNI
    return _mm256_dpbusd_epi32(acc, u, s);
#else
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
#endif
}

// acc += Σ(2 adjacent) i16(a) * i16(b) per int32 lane.
INL __m256i mulsum_i16(__m256i acc, __m256i a, __m256i b) {
#if PK_VNNI
    return _mm256_dpwssd_epi32(acc, a, b);
#else
    return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b));
#endif
}

INL float hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

INL float h2f(const void *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

INL __m256i loadu256(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }
INL __m128i loadu128(const void *p) { return _mm_loadu_si128((const __m128i *)p); }

// 16 packed nibble bytes -> 32 bytes: low nibbles (elements 0..15) then high nibbles (16..31).
INL __m256i nibbles32(const void *p) {
    const __m128i t = loadu128(p);
    const __m256i both = _mm256_set_m128i(_mm_srli_epi16(t, 4), t);
    return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

// 32 bits -> 32 bytes, byte k = 0x10 if bit k is set.
INL __m256i bits_to_0x10(uint32_t bits) {
#if PK_VNNI
    return _mm256_maskz_mov_epi8((__mmask32)bits, _mm256_set1_epi8(0x10));
#else
    const __m256i v = _mm256_set1_epi32((int)bits);
    const __m256i spread = _mm256_shuffle_epi8(
        v, _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3,
                            3, 3));
    const __m256i sel = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    const __m256i hit = _mm256_cmpeq_epi8(_mm256_and_si256(spread, sel), sel);
    return _mm256_and_si256(hit, _mm256_set1_epi8(0x10));
#endif
}

// ---------------------------------------------------------------- 32-element block types

// Per weight type: block bytes, offset of the quants, activation block bytes/offset, constant offset of the unsigned
// quants (the dot is computed as Σ q_u * x - off * Σ x), whether a min term (m * s) is present.
#define WB(T) ((T) == PK_Q4_0 ? 18 : (T) == PK_Q4_1 ? 20 : (T) == PK_Q5_0 ? 22 : (T) == PK_Q5_1 ? 24 : 34)
#define XB(T) (((T) == PK_Q4_1 || (T) == PK_Q5_1) ? 36 : 34)
#define XOFF(T) (((T) == PK_Q4_1 || (T) == PK_Q5_1) ? 4 : 2)
#define HAS_MIN(T) ((T) == PK_Q4_1 || (T) == PK_Q5_1)
#define QOFF(T) ((T) == PK_Q4_0 ? 8 : (T) == PK_Q5_0 ? 16 : ((T) == PK_Q8_0 && PK_VNNI) ? 128 : 0)

// Unsigned (or, for Q8_0, signed) quants of one weight block as 32 bytes in element order.
INL __m256i expand_w(const int T, const uint8_t *b) {
    switch (T) {
    case PK_Q4_0: return nibbles32(b + 2);
    case PK_Q4_1: return nibbles32(b + 4);
    case PK_Q5_0: {
        uint32_t qh;
        memcpy(&qh, b + 2, 4);
        return _mm256_or_si256(nibbles32(b + 6), bits_to_0x10(qh));
    }
    case PK_Q5_1: {
        uint32_t qh;
        memcpy(&qh, b + 4, 4);
        return _mm256_or_si256(nibbles32(b + 8), bits_to_0x10(qh));
    }
    default: {  // Q8_0
        const __m256i w = loadu256(b + 2);
#if PK_VNNI
        return _mm256_xor_si256(w, _mm256_set1_epi8((char)0x80));  // w + 128 as unsigned
#else
        return w;
#endif
    }
    }
}

// ---------------------------------------------------------------- canonical float combination, rows in lanes
//
// Every path follows the order documented in parley_kernels.h: per (row, column), acc = +0, then for every block in
// order acc = fma((float)isum, dw*dx, acc) (plus the block's min term as a second fma). The register tiles below
// compute each block's exact int32 sum per row, reduce the int lanes of up to 4 rows at once with a transposing
// reduction (lane r = row r; integer adds, so the reduction order is irrelevant), and then apply the float steps
// with lane r = row r: the same operations, in the same order, as the scalar reference and the panel GEMM.

// Lane r of the result = Σ of the int32 lanes of row r's vector (exact).
INL __m128i hsum4_epi32_256(__m256i a, __m256i b, __m256i c, __m256i d) {
    const __m256i ab = _mm256_hadd_epi32(a, b);  // [a01 a23 b01 b23 | a45 a67 b45 b67]
    const __m256i cd = _mm256_hadd_epi32(c, d);
    const __m256i abcd = _mm256_hadd_epi32(ab, cd);  // [a0-3 b0-3 c0-3 d0-3 | a4-7 b4-7 c4-7 d4-7]
    return _mm_add_epi32(_mm256_castsi256_si128(abcd), _mm256_extracti128_si256(abcd, 1));
}

INL __m128i hsum4_epi32_128(__m128i a, __m128i b, __m128i c, __m128i d) {
    return _mm_hadd_epi32(_mm_hadd_epi32(a, b), _mm_hadd_epi32(c, d));
}

// Writes lanes 0..R-1 of acc (row r's result) to y[r].
INL void store_rows(const int R, __m128 acc, float *y) {
    if (R == 4) {
        _mm_storeu_ps(y, acc);
        return;
    }
    float t[4];
    _mm_storeu_ps(t, acc);
    for (int r = 0; r < R; r++) y[r] = t[r];
}

// Software prefetch of the weight stream (matvec and the first column chunk of a matmul): the tiles pull the bytes
// they are about to read `pf` bytes further on (a whole number of row tiles ahead, so other rows than their own),
// spread over the computation rather than in bursts, which the miss queues would drop. pf = 0: no prefetch.
// Prefetches never fault; the address is formed as an integer since it may lie past the matrix.
INL void prefetch_span(const uint8_t *p, size_t pf, int bytes) {
    if (pf == 0) return;
    for (int off = 0; off < bytes; off += 64) _mm_prefetch((const char *)((uintptr_t)p + pf + (size_t)off), _MM_HINT_T1);
}

#if !PK_VNNI
// R (<= 4) weight rows x C activation columns over nb blocks; Y[c * ys + r] = dot(row r, column c).
INL void tile32(const int T, const int R, const int C, int64_t nb, const uint8_t *W, size_t rs, const uint8_t *X,
                size_t xs, float *Y, size_t ys, size_t pf) {
    __m128 acc[PK_TMAX];
    for (int c = 0; c < C; c++) acc[c] = _mm_setzero_ps();
    for (int64_t i = 0; i < nb; i++) {
        __m256i xv[PK_TMAX], corr[PK_TMAX];
        float dx[PK_TMAX], sx[PK_TMAX];
        for (int c = 0; c < C; c++) {
            const uint8_t *xb = X + (size_t)c * xs + (size_t)i * XB(T);
            xv[c] = loadu256(xb + XOFF(T));
            dx[c] = h2f(xb);
            sx[c] = HAS_MIN(T) ? h2f(xb + 2) : 0.0f;
            if (QOFF(T) != 0) {
                const __m256i s = mulsum_u8s8(_mm256_setzero_si256(), _mm256_set1_epi8((char)QOFF(T)), xv[c]);
                corr[c] = _mm256_sub_epi32(_mm256_setzero_si256(), s);
            } else {
                corr[c] = _mm256_setzero_si256();
            }
        }
        __m256i p[4][PK_TMAX];
        uint16_t dh[8] = {0};
        for (int r = 0; r < 4; r++) {
            if (r >= R) {
                for (int c = 0; c < C; c++) p[r][c] = _mm256_setzero_si256();
                continue;
            }
            const uint8_t *wb = W + (size_t)r * rs + (size_t)i * WB(T);
            if ((i & 1) == 0) prefetch_span(wb, pf, 1);
            const __m256i wq = expand_w(T, wb);
            memcpy(&dh[r], wb, 2);
            if (HAS_MIN(T)) memcpy(&dh[4 + r], wb + 2, 2);
            const __m256i wabs = (T == PK_Q8_0) ? _mm256_sign_epi8(wq, wq) : wq;
            for (int c = 0; c < C; c++) {
                if (T == PK_Q8_0) p[r][c] = mulsum_u8s8(_mm256_setzero_si256(), wabs, _mm256_sign_epi8(xv[c], wq));
                else p[r][c] = mulsum_u8s8(corr[c], wq, xv[c]);
            }
        }
        const __m256 dm = _mm256_cvtph_ps(loadu128(dh));  // [dw rows 0-3 | mw rows 0-3]
        const __m128 dw = _mm256_castps256_ps128(dm), mw = _mm256_extractf128_ps(dm, 1);
        for (int c = 0; c < C; c++) {
            const __m128i s = hsum4_epi32_256(p[0][c], p[1][c], p[2][c], p[3][c]);
            acc[c] = _mm_fmadd_ps(_mm_cvtepi32_ps(s), _mm_mul_ps(dw, _mm_set1_ps(dx[c])), acc[c]);
            if (HAS_MIN(T)) acc[c] = _mm_fmadd_ps(mw, _mm_set1_ps(sx[c]), acc[c]);
        }
    }
    for (int c = 0; c < C; c++) store_rows(R, acc[c], Y + (size_t)c * ys);
}
#else
// ---------------------------------------------------------------- 32-element blocks, four per zmm (AVX-512 only)
#define QSO(T) ((T) == PK_Q4_0 ? 2 : (T) == PK_Q4_1 ? 4 : (T) == PK_Q5_0 ? 6 : (T) == PK_Q5_1 ? 8 : 2)

INL __m128i load128_if(const uint8_t *p, const int ok) { return ok ? loadu128(p) : _mm_setzero_si128(); }
INL __m256i load256_if(const uint8_t *p, const int ok) { return ok ? loadu256(p) : _mm256_setzero_si256(); }

// Q8_0 (weights and activations alike): *lo = [block 0 | block 1], *hi = [block 2 | block 3], 32 bytes each, so
// int32 lanes 8j..8j+7 of a dpbusd belong to one block (fewer, wider loads than the nibble types' layout).
INL void quad_q8(const uint8_t *b, const int S, const int nk, __m512i *lo, __m512i *hi) {
    *lo = _mm512_inserti64x4(_mm512_castsi256_si512(loadu256(b)), load256_if(b + S, nk > 1), 1);
    *hi = _mm512_inserti64x4(_mm512_castsi256_si512(load256_if(b + 2 * S, nk > 2)), load256_if(b + 3 * S, nk > 3), 1);
}

// nk (1..4) consecutive blocks, one block per 128-bit lane: *lo holds elements 0-15 of blocks i..i+3 and *hi
// elements 16-31 (unsigned quants), so int32 lanes 4k..4k+3 of a dpbusd belong to block i+k. Q8_0: the quad_q8
// layout, biased by 128 to unsigned. Blocks from nk on are not read.
INL void quad_w(const int T, const uint8_t *b, const int nk, __m512i *lo, __m512i *hi) {
    const int S = WB(T), O = QSO(T);
    if (T == PK_Q8_0) {
        __m512i l, h;
        quad_q8(b + O, S, nk, &l, &h);
        *lo = _mm512_xor_si512(l, _mm512_set1_epi8((char)0x80));
        *hi = _mm512_xor_si512(h, _mm512_set1_epi8((char)0x80));
        return;
    }
    __m512i q = _mm512_castsi128_si512(loadu128(b + O));
    q = _mm512_inserti32x4(q, load128_if(b + S + O, nk > 1), 1);
    q = _mm512_inserti32x4(q, load128_if(b + 2 * S + O, nk > 2), 2);
    q = _mm512_inserti32x4(q, load128_if(b + 3 * S + O, nk > 3), 3);
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    __m512i l = _mm512_and_si512(q, m4);
    __m512i h = _mm512_and_si512(_mm512_srli_epi16(q, 4), m4);
    if (T == PK_Q5_0 || T == PK_Q5_1) {
        uint64_t ml = 0, mh = 0;
        for (int k = 0; k < 4; k++) {
            if (k >= nk) break;
            uint16_t a, c;
            memcpy(&a, b + k * S + O - 4, 2);  // qh bits 0-15: elements 0-15
            memcpy(&c, b + k * S + O - 2, 2);  // qh bits 16-31: elements 16-31
            ml |= (uint64_t)a << (16 * k);
            mh |= (uint64_t)c << (16 * k);
        }
        const __m512i c10 = _mm512_set1_epi8(0x10);
        l = _mm512_or_si512(l, _mm512_maskz_mov_epi8((__mmask64)ml, c10));
        h = _mm512_or_si512(h, _mm512_maskz_mov_epi8((__mmask64)mh, c10));
    }
    *lo = l;
    *hi = h;
}

// The first dword (f16 d, f16 m or s) of nk consecutive blocks, blocks from nk on 0.
INL __m128i quad_dm(const uint8_t *b, const int S, const int nk) {
    uint32_t a[4] = {0, 0, 0, 0};
    for (int k = 0; k < 4; k++)
        if (k < nk) memcpy(&a[k], b + k * S, 4);
    return _mm_setr_epi32((int)a[0], (int)a[1], (int)a[2], (int)a[3]);
}

// Lane 4k + r of the result = Σ of int32 lanes 4k..4k+3 of p_r (row r's partial sums of block k), exact.
INL __m512i quad_reduce(__m512i p0, __m512i p1, __m512i p2, __m512i p3) {
    const __m512i t0 = _mm512_add_epi32(_mm512_unpacklo_epi32(p0, p1), _mm512_unpackhi_epi32(p0, p1));
    const __m512i t1 = _mm512_add_epi32(_mm512_unpacklo_epi32(p2, p3), _mm512_unpackhi_epi32(p2, p3));
    return _mm512_add_epi32(_mm512_unpacklo_epi64(t0, t1), _mm512_unpackhi_epi64(t0, t1));
}

// 4x4 transpose of 128-bit chunks: out[k] chunk g = a[g] chunk k.
INL void transpose_chunks(__m512i a0, __m512i a1, __m512i a2, __m512i a3, __m512i out[4]) {
    const __m512i A = _mm512_shuffle_i32x4(a0, a1, _MM_SHUFFLE(1, 0, 1, 0));  // [a0c0 a0c1 a1c0 a1c1]
    const __m512i B = _mm512_shuffle_i32x4(a2, a3, _MM_SHUFFLE(1, 0, 1, 0));
    const __m512i C = _mm512_shuffle_i32x4(a0, a1, _MM_SHUFFLE(3, 2, 3, 2));  // [a0c2 a0c3 a1c2 a1c3]
    const __m512i D = _mm512_shuffle_i32x4(a2, a3, _MM_SHUFFLE(3, 2, 3, 2));
    out[0] = _mm512_shuffle_i32x4(A, B, _MM_SHUFFLE(2, 0, 2, 0));
    out[1] = _mm512_shuffle_i32x4(A, B, _MM_SHUFFLE(3, 1, 3, 1));
    out[2] = _mm512_shuffle_i32x4(C, D, _MM_SHUFFLE(2, 0, 2, 0));
    out[3] = _mm512_shuffle_i32x4(C, D, _MM_SHUFFLE(3, 1, 3, 1));
}

// One activation column's nk (1..4) blocks from xb (past the block header) in the layout of quad_w: *l/*h the
// quants, *corr/*corrh the offset corrections the weight bias needs (Q8_0: lo and hi separately), zero otherwise.
INL void quad_x(const int T, const uint8_t *xb, const int nk, __m512i *l, __m512i *h, __m512i *corr, __m512i *corrh) {
    if (T == PK_Q8_0) {
        quad_q8(xb, XB(T), nk, l, h);
    } else {
        *l = _mm512_castsi128_si512(loadu128(xb));
        *h = _mm512_castsi128_si512(loadu128(xb + 16));
        *l = _mm512_inserti32x4(*l, load128_if(xb + XB(T), nk > 1), 1);
        *h = _mm512_inserti32x4(*h, load128_if(xb + XB(T) + 16, nk > 1), 1);
        *l = _mm512_inserti32x4(*l, load128_if(xb + 2 * XB(T), nk > 2), 2);
        *h = _mm512_inserti32x4(*h, load128_if(xb + 2 * XB(T) + 16, nk > 2), 2);
        *l = _mm512_inserti32x4(*l, load128_if(xb + 3 * XB(T), nk > 3), 3);
        *h = _mm512_inserti32x4(*h, load128_if(xb + 3 * XB(T) + 16, nk > 3), 3);
    }
    *corrh = _mm512_setzero_si512();
    if (T == PK_Q8_0) {  // the blocks of lo and hi are summed separately (folded after the reduction)
        const __m512i off = _mm512_set1_epi8((char)QOFF(T));
        *corr = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_dpbusd_epi32(_mm512_setzero_si512(), off, *l));
        *corrh = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_dpbusd_epi32(_mm512_setzero_si512(), off, *h));
    } else if (QOFF(T) != 0) {
        const __m512i off = _mm512_set1_epi8((char)QOFF(T));
        const __m512i sum = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), off, *l), off, *h);
        *corr = _mm512_sub_epi32(_mm512_setzero_si512(), sum);
    } else {
        *corr = _mm512_setzero_si512();
    }
}

// Rows 4g..4g+3's first block dwords (quad_dm, one xmm per row) -> lane 4k + r.
INL __m512i gather_dm(const __m128i dmr[4]) {
    const __m512i idx_t = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    __m512i dm = _mm512_castsi128_si512(dmr[0]);  // [row r: blocks 0-3] -> lane 4k + r
    dm = _mm512_inserti32x4(dm, dmr[1], 1);
    dm = _mm512_inserti32x4(dm, dmr[2], 2);
    dm = _mm512_inserti32x4(dm, dmr[3], 3);
    return _mm512_permutexvar_epi32(idx_t, dm);
}

// The four groups' gather_dm -> per block k, the 16 rows' f16 d (dw[k]) and m (mw[k], zero without a min).
INL void block_scales(const int T, const __m512i DM[4], __m512 dw[4], __m512 mw[4]) {
    __m512i dmk[4];
    transpose_chunks(DM[0], DM[1], DM[2], DM[3], dmk);  // chunk k of group g -> lane 4g + r: lane = row
    for (int k = 0; k < 4; k++) {
        dw[k] = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(dmk[k]));
        mw[k] = HAS_MIN(T) ? _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(dmk[k], 16))) : _mm512_setzero_ps();
    }
}

// nk (1..4) blocks from block i for R (<= 16) rows x C columns; acc[c] lane r = row r.
INL void tile32_z16_step(const int T, const int R, const int C, int64_t i, const int nk, const uint8_t *W, size_t rs,
                         const uint8_t *X, size_t xs, __m512 acc[PK_TMAX], size_t pf) {
    __m512i xl[PK_TMAX], xh[PK_TMAX], corr[PK_TMAX], corrh[PK_TMAX];
    float dx[PK_TMAX][4], sx[PK_TMAX][4];
    for (int c = 0; c < C; c++) {
        const uint8_t *xb = X + (size_t)c * xs + (size_t)i * XB(T) + XOFF(T);
        quad_x(T, xb, nk, &xl[c], &xh[c], &corr[c], &corrh[c]);
        for (int k = 0; k < 4; k++) {
            dx[c][k] = k < nk ? h2f(xb - XOFF(T) + k * XB(T)) : 0.0f;
            sx[c][k] = (HAS_MIN(T) && k < nk) ? h2f(xb - XOFF(T) + k * XB(T) + 2) : 0.0f;
        }
    }
    __m512i S[4][PK_TMAX], DM[4];
    for (int g = 0; g < 4; g++) {
        if (4 * g >= R) {
            for (int c = 0; c < C; c++) S[g][c] = _mm512_setzero_si512();
            DM[g] = _mm512_setzero_si512();
            continue;
        }
        __m512i p[4][PK_TMAX], ph[4][PK_TMAX];
        __m128i dmr[4];
        for (int r = 0; r < 4; r++) {
            if (4 * g + r >= R) {
                for (int c = 0; c < C; c++) p[r][c] = ph[r][c] = _mm512_setzero_si512();
                dmr[r] = _mm_setzero_si128();
                continue;
            }
            const uint8_t *wb = W + (size_t)(4 * g + r) * rs + (size_t)i * WB(T);
            prefetch_span(wb, pf, nk * WB(T));
            __m512i wl, wh;
            quad_w(T, wb, nk, &wl, &wh);
            dmr[r] = quad_dm(wb, WB(T), nk);
            for (int c = 0; c < C; c++) {
                if (T == PK_Q8_0) {
                    p[r][c] = _mm512_dpbusd_epi32(corr[c], wl, xl[c]);
                    ph[r][c] = _mm512_dpbusd_epi32(corrh[c], wh, xh[c]);
                } else {
                    p[r][c] = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(corr[c], wl, xl[c]), wh, xh[c]);
                }
            }
        }
        for (int c = 0; c < C; c++) {
            if (T == PK_Q8_0) {
                // chunks 2k, 2k+1 of lo (k < 2) / hi (k >= 2) are the halves of block k
                const __m512i a = quad_reduce(p[0][c], p[1][c], p[2][c], p[3][c]);
                const __m512i b = quad_reduce(ph[0][c], ph[1][c], ph[2][c], ph[3][c]);
                S[g][c] = _mm512_add_epi32(_mm512_shuffle_i32x4(a, b, _MM_SHUFFLE(2, 0, 2, 0)),
                                           _mm512_shuffle_i32x4(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
            } else {
                S[g][c] = quad_reduce(p[0][c], p[1][c], p[2][c], p[3][c]);  // lane 4k + r
            }
        }
        DM[g] = gather_dm(dmr);
    }
    __m512 dw[4], mw[4];
    block_scales(T, DM, dw, mw);
    for (int c = 0; c < C; c++) {
        __m512i sk[4];
        transpose_chunks(S[0][c], S[1][c], S[2][c], S[3][c], sk);
        __m512 a = acc[c];
        for (int k = 0; k < 4; k++) {
            if (k >= nk) break;
            a = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sk[k]), _mm512_mul_ps(dw[k], _mm512_set1_ps(dx[c][k])), a);
            if (HAS_MIN(T)) a = _mm512_fmadd_ps(mw[k], _mm512_set1_ps(sx[c][k]), a);
        }
        acc[c] = a;
    }
}

// R (<= 16) weight rows x C activation columns over nb blocks; Y[c * ys + r] = dot(row r, column c).
INL void tile32_zmm(const int T, const int R, const int C, int64_t nb, const uint8_t *W, size_t rs, const uint8_t *X,
                    size_t xs, float *Y, size_t ys, size_t pf) {
    __m512 acc[PK_TMAX];
    for (int c = 0; c < C; c++) acc[c] = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 4 <= nb; i += 4) tile32_z16_step(T, R, C, i, 4, W, rs, X, xs, acc, pf);
    switch (nb - i) {  // the last 1-3 blocks, with the block count a constant
    case 3: tile32_z16_step(T, R, C, i, 3, W, rs, X, xs, acc, pf); break;
    case 2: tile32_z16_step(T, R, C, i, 2, W, rs, X, xs, acc, pf); break;
    case 1: tile32_z16_step(T, R, C, i, 1, W, rs, X, xs, acc, pf); break;
    default: break;
    }
    const __mmask16 rm = (__mmask16)((1u << R) - 1u);
    for (int c = 0; c < C; c++) _mm512_mask_storeu_ps(Y + (size_t)c * ys, rm, acc[c]);
}

// Matmul tile for more columns than the register tile holds: each step unpacks the 16 rows' weights once into
// L1 (wl/wh) and runs every column over them one at a time, so unpacking is shared by all C (<= PK_TMAX)
// columns instead of being redone per 2-column tile. Same integer sums and float order as tile32_z16_step.
INL void tile32_wide_step(const int T, const int R, const int C, int64_t i, const int nk, const uint8_t *W, size_t rs,
                          const uint8_t *X, size_t xs, __m512 acc[PK_TMAX], size_t pf) {
    __m512i wl[16], wh[16], DM[4];
    for (int g = 0; g < 4; g++) {
        __m128i dmr[4];
        for (int r = 0; r < 4; r++) {
            const int row = 4 * g + r;
            if (row >= R) {
                wl[row] = wh[row] = _mm512_setzero_si512();
                dmr[r] = _mm_setzero_si128();
                continue;
            }
            const uint8_t *wb = W + (size_t)row * rs + (size_t)i * WB(T);
            prefetch_span(wb, pf, nk * WB(T));
            quad_w(T, wb, nk, &wl[row], &wh[row]);
            dmr[r] = quad_dm(wb, WB(T), nk);
        }
        DM[g] = gather_dm(dmr);
    }
    __m512 dw[4], mw[4];
    block_scales(T, DM, dw, mw);
    for (int c = 0; c < C; c++) {
        const uint8_t *xb = X + (size_t)c * xs + (size_t)i * XB(T) + XOFF(T);
        __m512i xl, xh, corr, corrh;
        quad_x(T, xb, nk, &xl, &xh, &corr, &corrh);
        __m512i S[4];
        for (int g = 0; g < 4; g++) {
            if (4 * g >= R) {
                S[g] = _mm512_setzero_si512();
                continue;
            }
            if (T == PK_Q8_0) {
                __m512i p[4], ph[4];
                for (int r = 0; r < 4; r++) {
                    p[r] = _mm512_dpbusd_epi32(corr, wl[4 * g + r], xl);
                    ph[r] = _mm512_dpbusd_epi32(corrh, wh[4 * g + r], xh);
                }
                const __m512i a = quad_reduce(p[0], p[1], p[2], p[3]);
                const __m512i b = quad_reduce(ph[0], ph[1], ph[2], ph[3]);
                S[g] = _mm512_add_epi32(_mm512_shuffle_i32x4(a, b, _MM_SHUFFLE(2, 0, 2, 0)),
                                        _mm512_shuffle_i32x4(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
            } else {
                __m512i p[4];
                for (int r = 0; r < 4; r++)
                    p[r] = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(corr, wl[4 * g + r], xl), wh[4 * g + r], xh);
                S[g] = quad_reduce(p[0], p[1], p[2], p[3]);
            }
        }
        __m512i sk[4];
        transpose_chunks(S[0], S[1], S[2], S[3], sk);
        __m512 a = acc[c];
        for (int k = 0; k < 4; k++) {
            if (k >= nk) break;
            const float dx = h2f(xb - XOFF(T) + k * XB(T));
            a = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sk[k]), _mm512_mul_ps(dw[k], _mm512_set1_ps(dx)), a);
            if (HAS_MIN(T)) a = _mm512_fmadd_ps(mw[k], _mm512_set1_ps(h2f(xb - XOFF(T) + k * XB(T) + 2)), a);
        }
        acc[c] = a;
    }
}

// R (<= 16) rows x C (<= PK_TMAX) columns with tile32_wide_step.
INL void tile32_wide(const int T, const int R, const int C, int64_t nb, const uint8_t *W, size_t rs, const uint8_t *X,
                     size_t xs, float *Y, size_t ys, size_t pf) {
    __m512 acc[PK_TMAX];
    for (int c = 0; c < PK_TMAX; c++) acc[c] = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 4 <= nb; i += 4) tile32_wide_step(T, R, C, i, 4, W, rs, X, xs, acc, pf);
    switch (nb - i) {
    case 3: tile32_wide_step(T, R, C, i, 3, W, rs, X, xs, acc, pf); break;
    case 2: tile32_wide_step(T, R, C, i, 2, W, rs, X, xs, acc, pf); break;
    case 1: tile32_wide_step(T, R, C, i, 1, W, rs, X, xs, acc, pf); break;
    default: break;
    }
    const __mmask16 rm = (__mmask16)((1u << R) - 1u);
    for (int c = 0; c < C; c++) _mm512_mask_storeu_ps(Y + (size_t)c * ys, rm, acc[c]);
}
#endif

// ---------------------------------------------------------------- K-quants (256-element super-blocks, Q8_K)

// bit b of each byte moved to bit 4 (0x10), other bits cleared.
INL __m256i bit_to_0x10(__m256i v, const int b) {
    const __m256i sh = b <= 4 ? _mm256_slli_epi16(v, 4 - b) : _mm256_srli_epi16(v, b - 4);
    return _mm256_and_si256(sh, _mm256_set1_epi8(0x10));
}

// T is PK_Q4_K or PK_Q5_K.
INL void tile_k4(const int T, const int R, const int C, int64_t nb, const uint8_t *W, size_t rs, const uint8_t *X,
                 size_t xs, float *Y, size_t ys, size_t pf) {
    const int WBK = T == PK_Q4_K ? 144 : 176;
    const int QS = T == PK_Q4_K ? 16 : 48;
    __m128 acc[PK_TMAX];
    for (int c = 0; c < C; c++) acc[c] = _mm_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    for (int64_t i = 0; i < nb; i++) {
        __m256i is[4][PK_TMAX];
        __m128i ms[4][PK_TMAX];
        uint16_t dh[8] = {0};
        __m128i bs8[PK_TMAX];
        float dx[PK_TMAX];
        for (int c = 0; c < C; c++) {
            const pk_block_q8_K *xb = (const pk_block_q8_K *)(X + (size_t)c * xs) + i;
            dx[c] = xb->d;
            bs8[c] = _mm_hadd_epi16(loadu128(xb->bsums), loadu128(xb->bsums + 8));
        }
        for (int r = 0; r < 4; r++) {
            if (r >= R) {
                for (int c = 0; c < C; c++) {
                    is[r][c] = _mm256_setzero_si256();
                    ms[r][c] = _mm_setzero_si128();
                }
                continue;
            }
            const uint8_t *wb = W + (size_t)r * rs + (size_t)i * WBK;
            prefetch_span(wb, pf, WBK);
            memcpy(&dh[r], wb, 2);
            memcpy(&dh[4 + r], wb + 2, 2);
            uint32_t scw[2], mnw[2];
            pk_unpack_k4_scales_u32(wb + 4, scw, mnw);
            const __m128i mins16 = _mm_cvtepu8_epi16(_mm_set_epi32(0, 0, (int)mnw[1], (int)mnw[0]));
            // the 8 sub-block scales as int16 in both lanes; sub-block j is broadcast by a byte shuffle
            const __m256i sc16 = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(_mm_set_epi32(0, 0, (int)scw[1], (int)scw[0])));
            __m256i qh = _mm256_setzero_si256();
            if (T == PK_Q5_K) qh = loadu256(wb + 16);
            __m256i isa[PK_TMAX], isb[PK_TMAX];
            for (int c = 0; c < C; c++) isa[c] = isb[c] = _mm256_setzero_si256();
            for (int cc = 0; cc < 4; cc++) {
                const __m256i qv = loadu256(wb + QS + 32 * cc);
                __m256i lo = _mm256_and_si256(qv, m4);
                __m256i hi = _mm256_and_si256(_mm256_srli_epi16(qv, 4), m4);
                if (T == PK_Q5_K) {
                    lo = _mm256_or_si256(lo, bit_to_0x10(qh, 2 * cc));
                    hi = _mm256_or_si256(hi, bit_to_0x10(qh, 2 * cc + 1));
                }
                const __m256i s1 = _mm256_shuffle_epi8(sc16, _mm256_set1_epi16((short)(((4 * cc + 1) << 8) | (4 * cc))));
                const __m256i s2 = _mm256_shuffle_epi8(sc16, _mm256_set1_epi16((short)(((4 * cc + 3) << 8) | (4 * cc + 2))));
                for (int c = 0; c < C; c++) {
                    const int8_t *xq = ((const pk_block_q8_K *)(X + (size_t)c * xs) + i)->qs + 64 * cc;
                    isa[c] = mulsum_i16(isa[c], _mm256_maddubs_epi16(lo, loadu256(xq)), s1);
                    isb[c] = mulsum_i16(isb[c], _mm256_maddubs_epi16(hi, loadu256(xq + 32)), s2);
                }
            }
            for (int c = 0; c < C; c++) {
                ms[r][c] = _mm_madd_epi16(mins16, bs8[c]);
                is[r][c] = _mm256_add_epi32(isa[c], isb[c]);
            }
        }
        const __m256 dd = _mm256_cvtph_ps(loadu128(dh));  // [d rows 0-3 | dmin rows 0-3]
        const __m128 d = _mm256_castps256_ps128(dd), dmin = _mm256_extractf128_ps(dd, 1);
        for (int c = 0; c < C; c++) {
            const __m128i isum = hsum4_epi32_256(is[0][c], is[1][c], is[2][c], is[3][c]);
            const __m128i summ = hsum4_epi32_128(ms[0][c], ms[1][c], ms[2][c], ms[3][c]);
            const __m128 vdx = _mm_set1_ps(dx[c]);
            acc[c] = _mm_fmadd_ps(_mm_cvtepi32_ps(isum), _mm_mul_ps(d, vdx), acc[c]);
            acc[c] = _mm_fnmadd_ps(_mm_cvtepi32_ps(summ), _mm_mul_ps(dmin, vdx), acc[c]);
        }
    }
    for (int c = 0; c < C; c++) store_rows(R, acc[c], Y + (size_t)c * ys);
}

INL void tile_q6k(const int R, const int C, int64_t nb, const uint8_t *W, size_t rs, const uint8_t *X, size_t xs,
                  float *Y, size_t ys, size_t pf) {
    __m128 acc[PK_TMAX];
    for (int c = 0; c < C; c++) acc[c] = _mm_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i m30 = _mm256_set1_epi8(0x30);
    // [scale 2k (x8) | scale 2k+1 (x8)] from a register holding 8 int16 scales in both lanes.
    const __m256i shuf[4] = {
        _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3),
        _mm256_setr_epi8(4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7),
        _mm256_setr_epi8(8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11,
                         10, 11, 10, 11),
        _mm256_setr_epi8(12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 14, 15, 14, 15, 14, 15, 14, 15,
                         14, 15, 14, 15, 14, 15, 14, 15),
    };
    for (int64_t i = 0; i < nb; i++) {
        __m256i is[4][PK_TMAX];
        uint16_t dh[8] = {0};
        for (int r = 0; r < 4; r++) {
            if (r >= R) {
                for (int c = 0; c < C; c++) is[r][c] = _mm256_setzero_si256();
                continue;
            }
            const pk_block_q6_K *wb = (const pk_block_q6_K *)(W + (size_t)r * rs) + i;
            prefetch_span((const uint8_t *)wb, pf, (int)sizeof(pk_block_q6_K));
            memcpy(&dh[r], &wb->d, 2);
            const __m256i sc16 = _mm256_cvtepi8_epi16(loadu128(wb->scales));
            __m256i isum[PK_TMAX];
            for (int c = 0; c < C; c++) {
                // Σ q*x with q = u - 32: subtract 32 * Σ_g sc_g * bsums_g up front.
                const pk_block_q8_K *xb = (const pk_block_q8_K *)(X + (size_t)c * xs) + i;
                const __m256i corr = _mm256_madd_epi16(sc16, loadu256(xb->bsums));
                isum[c] = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(corr, 5));
            }
            for (int h = 0; h < 2; h++) {
                const __m256i ql0 = loadu256(wb->ql + 64 * h);
                const __m256i ql1 = loadu256(wb->ql + 64 * h + 32);
                const __m256i qh = loadu256(wb->qh + 32 * h);
                const __m256i sch = _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(wb->scales + 8 * h))));
                __m256i q[4];
                q[0] = _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), m30));
                q[1] = _mm256_or_si256(_mm256_and_si256(ql1, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), m30));
                q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4), _mm256_and_si256(qh, m30));
                q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                                       _mm256_and_si256(_mm256_srli_epi16(qh, 2), m30));
                for (int k = 0; k < 4; k++) {
                    const __m256i s = _mm256_shuffle_epi8(sch, shuf[k]);
                    for (int c = 0; c < C; c++) {
                        const int8_t *xq = ((const pk_block_q8_K *)(X + (size_t)c * xs) + i)->qs + 128 * h + 32 * k;
                        isum[c] = mulsum_i16(isum[c], _mm256_maddubs_epi16(q[k], loadu256(xq)), s);
                    }
                }
            }
            for (int c = 0; c < C; c++) is[r][c] = isum[c];
        }
        const __m128 d = _mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)dh));
        for (int c = 0; c < C; c++) {
            const float dx = ((const pk_block_q8_K *)(X + (size_t)c * xs) + i)->d;
            const __m128i isum = hsum4_epi32_256(is[0][c], is[1][c], is[2][c], is[3][c]);
            acc[c] = _mm_fmadd_ps(_mm_cvtepi32_ps(isum), _mm_mul_ps(d, _mm_set1_ps(dx)), acc[c]);
        }
    }
    for (int c = 0; c < C; c++) store_rows(R, acc[c], Y + (size_t)c * ys);
}

// ---------------------------------------------------------------- per-type entry points

// R rows (at most PK_TILE_ROWS) x C columns.
INL void tile_any(const int T, const int R, const int C, int64_t n, const uint8_t *W, size_t rs, const uint8_t *X,
                  size_t xs, float *Y, size_t ys, size_t pf) {
    switch (T) {
    case PK_Q4_K: case PK_Q5_K:
        for (int r = 0; r < R; r += 4)
            tile_k4(T, R - r < 4 ? R - r : 4, C, n / 256, W + (size_t)r * rs, rs, X, xs, Y + r, ys, pf);
        break;
    case PK_Q6_K:
        for (int r = 0; r < R; r += 4)
            tile_q6k(R - r < 4 ? R - r : 4, C, n / 256, W + (size_t)r * rs, rs, X, xs, Y + r, ys, pf);
        break;
#if PK_VNNI
    default: tile32_zmm(T, R, C, n / 32, W, rs, X, xs, Y, ys, pf); break;
#else
    default: tile32(T, R, C, n / 32, W, rs, X, xs, Y, ys, pf); break;
#endif
    }
}

// Software prefetch for matvec: the weight stream of a decode step is read once, mostly from DRAM; pulling the
// rows a few KiB ahead keeps enough lines in flight (the hardware prefetcher alone reached ~7 GB/s of ~18 here).
#ifndef PK_PREFETCH_BYTES
#define PK_PREFETCH_BYTES 6144
#endif
static inline int64_t prefetch_rows(size_t row_bytes) {
    int64_t k = (int64_t)(PK_PREFETCH_BYTES / (row_bytes ? row_bytes : 1));
    k = (k + PK_MV_R - 1) / PK_MV_R * PK_MV_R;
    return k < PK_MV_R ? PK_MV_R : k;
}

#define PK_COL_CHUNK 64

#if PK_VNNI
#include "kernels_panel_vnni.h"
// Fewer columns than this go through the register tiles above: packing a panel does not pay off for the small
// batches of continuous-batching decode. Measured on Zen 4 inside the engine (row chunks split over 2 threads):
// a server decoding 8 sequences ran 260 tok/s with the panel from 6 columns and 403 tok/s from 16; a Q8_0 LM
// head of 49152 rows took 8.7 ms at 8 columns with the panel against 4.3 ms with the tiles.
#ifndef PG_MIN_COLS
#define PG_MIN_COLS(T) ((T) == PK_Q8_0 ? 32 : 16)
#endif
#define PK_PANEL_MATMUL(T)                                                                                        \
    /* the panel path needs at least one block (else Y gets the tiles' zeros) and 32-bit gather offsets */      \
    if (ncols >= PG_MIN_COLS(T) && pk_row_bytes(T, n) > 0 && rs <= (size_t)INT32_MAX / PG_R) {                    \
        pg_matmul(T, n, W, rs, nrows, X, xs, ncols, Y, ys);                                                       \
        return;                                                                                                   \
    }
#else
#define PK_PANEL_MATMUL(T)
#endif

#if PK_VNNI && !defined(PK_NO_WIDE_TILES)
// Three or more columns of a 32-element type: the wide tiles, PK_TMAX columns at a time (a 16-row tile's weights
// are unpacked once per PK_TMAX columns instead of once per 2-column register tile).
#define PK_IS_BLOCK32(T) ((T) == PK_Q4_0 || (T) == PK_Q4_1 || (T) == PK_Q5_0 || (T) == PK_Q5_1 || (T) == PK_Q8_0)
#define PK_WIDE_MATMUL(T)                                                                                         \
    if (PK_IS_BLOCK32(T) && ncols >= 3) {                                                                         \
        for (int64_t r = 0; r < nrows; r += 16) {                                                                 \
            const int rr = nrows - r < 16 ? (int)(nrows - r) : 16;                                                \
            for (int64_t c = 0; c < ncols; c += PK_TMAX) {                                                        \
                const int cc = ncols - c < PK_TMAX ? (int)(ncols - c) : PK_TMAX;                                  \
                if (cc == PK_TMAX) /* the common case, with the column count a constant */                        \
                    tile32_wide(T, rr, PK_TMAX, n / 32, w + (size_t)r * rs, rs, x + (size_t)c * xs, xs,           \
                                Y + (size_t)c * ys + r, ys, c == 0 ? pf0 : 0);                                    \
                else                                                                                              \
                    tile32_wide(T, rr, cc, n / 32, w + (size_t)r * rs, rs, x + (size_t)c * xs, xs,                \
                                Y + (size_t)c * ys + r, ys, c == 0 ? pf0 : 0);                                    \
            }                                                                                                     \
        }                                                                                                         \
        return;                                                                                                   \
    }
#else
#define PK_WIDE_MATMUL(T)
#endif

#define PK_DEFINE_QUANT_KERNELS(T, name)                                                                          \
    static TGT float PK_SFX(dot_##name)(int64_t n, const void *w, const void *x) {                                \
        float r;                                                                                                  \
        tile_any(T, 1, 1, n, w, 0, x, 0, &r, 0, 0);                                                               \
        return r;                                                                                                 \
    }                                                                                                             \
    static TGT void PK_SFX(matvec_##name)(int64_t n, const void *W, size_t rs, int64_t nrows, const void *x,      \
                                          float *out) {                                                           \
        const uint8_t *w = W;                                                                                     \
        const size_t used = pk_row_bytes(T, n);                                                                   \
        const size_t pf = (size_t)prefetch_rows(used) * rs;                                                       \
        int64_t r = 0;                                                                                            \
        for (; r + PK_MV_R <= nrows; r += PK_MV_R) {                                                              \
            tile_any(T, PK_MV_R, 1, n, w + (size_t)r * rs, rs, x, 0, out + r, 0, pf);                             \
        }                                                                                                         \
        if (r < nrows) tile_any(T, (int)(nrows - r), 1, n, w + (size_t)r * rs, rs, x, 0, out + r, 0, 0);        \
    }                                                                                                             \
    static TGT void PK_SFX(matmul_##name)(int64_t n, const void *W, size_t rs, int64_t nrows, const void *X,      \
                                          size_t xs, int64_t ncols, float *Y, size_t ys) {                        \
        PK_PANEL_MATMUL(T)                                                                                        \
        const uint8_t *w = W, *x = X;                                                                             \
        const size_t used = pk_row_bytes(T, n);                                                                   \
        const size_t pf0 = (size_t)prefetch_rows(used) * rs;                                                      \
        PK_WIDE_MATMUL(T)                                                                                         \
        for (int64_t c0 = 0; c0 < ncols; c0 += PK_COL_CHUNK) {                                                    \
            const int64_t c1 = c0 + PK_COL_CHUNK < ncols ? c0 + PK_COL_CHUNK : ncols;                             \
            /* the first column chunk streams the weights in; later chunks find them in cache */                  \
            const size_t pf = c0 == 0 ? pf0 : 0;                                                                  \
            int64_t r = 0;                                                                                        \
            for (; r + PK_MM_R <= nrows; r += PK_MM_R) {                                                          \
                int64_t c = c0;                                                                                   \
                for (; c + PK_MM_CT(T) <= c1; c += PK_MM_CT(T))                                                           \
                    tile_any(T, PK_MM_R, PK_MM_CT(T), n, w + (size_t)r * rs, rs, x + (size_t)c * xs, xs,              \
                             Y + (size_t)c * ys + r, ys, pf);                                                         \
                if (PK_MM_CT(T) > 2 && c + 2 <= c1) {                                                             \
                    tile_any(T, PK_MM_R, 2, n, w + (size_t)r * rs, rs, x + (size_t)c * xs, xs, Y + (size_t)c * ys + r, ys, pf); \
                    c += 2;                                                                                       \
                }                                                                                                 \
                for (; c < c1; c++)                                                                               \
                    tile_any(T, PK_MM_R, 1, n, w + (size_t)r * rs, rs, x + (size_t)c * xs, xs, Y + (size_t)c * ys + r, ys, pf); \
            }                                                                                                     \
            if (r < nrows) {                                                                                      \
                const int rr = (int)(nrows - r);                                                                  \
                int64_t c = c0;                                                                                   \
                for (; c + PK_MM_CT(T) <= c1; c += PK_MM_CT(T))                                                           \
                    tile_any(T, rr, PK_MM_CT(T), n, w + (size_t)r * rs, rs, x + (size_t)c * xs, xs,                   \
                             Y + (size_t)c * ys + r, ys, pf);                                                         \
                if (PK_MM_CT(T) > 2 && c + 2 <= c1) {                                                             \
                    tile_any(T, rr, 2, n, w + (size_t)r * rs, rs, x + (size_t)c * xs, xs, Y + (size_t)c * ys + r, ys, pf); \
                    c += 2;                                                                                       \
                }                                                                                                 \
                for (; c < c1; c++)                                                                               \
                    tile_any(T, rr, 1, n, w + (size_t)r * rs, rs, x + (size_t)c * xs, xs, Y + (size_t)c * ys + r, ys, pf); \
            }                                                                                                     \
        }                                                                                                         \
    }

PK_DEFINE_QUANT_KERNELS(PK_Q4_0, q4_0)
PK_DEFINE_QUANT_KERNELS(PK_Q4_1, q4_1)
PK_DEFINE_QUANT_KERNELS(PK_Q5_0, q5_0)
PK_DEFINE_QUANT_KERNELS(PK_Q5_1, q5_1)
PK_DEFINE_QUANT_KERNELS(PK_Q8_0, q8_0)
PK_DEFINE_QUANT_KERNELS(PK_Q4_K, q4_K)
PK_DEFINE_QUANT_KERNELS(PK_Q5_K, q5_K)
PK_DEFINE_QUANT_KERNELS(PK_Q6_K, q6_K)

// ---------------------------------------------------------------- float weights (F32 activations)

INL __m256 load8_as_f32(const int T, const void *p) {
    switch (T) {
    case PK_F32: return _mm256_loadu_ps((const float *)p);
    case PK_F16: return _mm256_cvtph_ps(loadu128(p));
    default: return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(loadu128(p)), 16));  // BF16
    }
}

INL float scalar_as_f32(const int T, const void *p, int64_t i) {
    switch (T) {
    case PK_F32: return ((const float *)p)[i];
    case PK_F16: return _cvtsh_ss(((const uint16_t *)p)[i]);
    default: return pk_bf2f(((const uint16_t *)p)[i]);
    }
}

INL float dot_float(const int T, int64_t n, const void *w, const float *x) {
    const int es = T == PK_F32 ? 4 : 2;
    const uint8_t *wb = w;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_fmadd_ps(load8_as_f32(T, wb + (size_t)i * es), _mm256_loadu_ps(x + i), a0);
        a1 = _mm256_fmadd_ps(load8_as_f32(T, wb + (size_t)(i + 8) * es), _mm256_loadu_ps(x + i + 8), a1);
        a2 = _mm256_fmadd_ps(load8_as_f32(T, wb + (size_t)(i + 16) * es), _mm256_loadu_ps(x + i + 16), a2);
        a3 = _mm256_fmadd_ps(load8_as_f32(T, wb + (size_t)(i + 24) * es), _mm256_loadu_ps(x + i + 24), a3);
    }
    for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(load8_as_f32(T, wb + (size_t)i * es), _mm256_loadu_ps(x + i), a0);
    float s = hsum_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; i < n; i++) s += scalar_as_f32(T, w, i) * x[i];
    return s;
}

#define PK_DEFINE_FLOAT_KERNELS(T, name)                                                                          \
    static TGT float PK_SFX(dot_##name)(int64_t n, const void *w, const void *x) { return dot_float(T, n, w, x); } \
    static TGT void PK_SFX(matvec_##name)(int64_t n, const void *W, size_t rs, int64_t nrows, const void *x,      \
                                          float *out) {                                                           \
        for (int64_t r = 0; r < nrows; r++) out[r] = dot_float(T, n, (const uint8_t *)W + (size_t)r * rs, x);     \
    }                                                                                                             \
    static TGT void PK_SFX(matmul_##name)(int64_t n, const void *W, size_t rs, int64_t nrows, const void *X,      \
                                          size_t xs, int64_t ncols, float *Y, size_t ys) {                        \
        for (int64_t r = 0; r < nrows; r++)                                                                       \
            for (int64_t c = 0; c < ncols; c++)                                                                   \
                Y[(size_t)c * ys + (size_t)r] = dot_float(T, n, (const uint8_t *)W + (size_t)r * rs,              \
                                                          (const float *)((const uint8_t *)X + (size_t)c * xs));  \
    }

PK_DEFINE_FLOAT_KERNELS(PK_F32, f32)
PK_DEFINE_FLOAT_KERNELS(PK_F16, f16)
PK_DEFINE_FLOAT_KERNELS(PK_BF16, bf16)

// ---------------------------------------------------------------- activation quantizers (bit-identical to the reference)

INL float hmax_ps(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// roundf (half away from zero), exactly: t = trunc(v); t + sign(v) if |v - t| >= 0.5.
INL __m256i roundf_epi32(__m256 v) {
    const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 sign = _mm256_and_ps(v, _mm256_set1_ps(-0.0f));
    const __m256 frac = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_sub_ps(v, t));
    const __m256 bump = _mm256_and_ps(_mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ),
                                      _mm256_or_ps(sign, _mm256_set1_ps(1.0f)));
    return _mm256_cvttps_epi32(_mm256_add_ps(t, bump));
}

// Four vectors of 8 int32 (elements 0..31 in order) -> 32 int8 in order.
INL __m256i pack32_epi8(__m256i a, __m256i b, __m256i c, __m256i d) {
    const __m256i ab = _mm256_packs_epi32(a, b);  // a0-3 b0-3 | a4-7 b4-7
    const __m256i cd = _mm256_packs_epi32(c, d);
    const __m256i abcd = _mm256_packs_epi16(ab, cd);  // a0-3 b0-3 c0-3 d0-3 | a4-7 b4-7 c4-7 d4-7
    return _mm256_permutevar8x32_epi32(abcd, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

INL int hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

INL void quant_q8_block(const float *x, int8_t *qs, uint16_t *dh, uint16_t *sh) {
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    __m256 v[4];
    for (int k = 0; k < 4; k++) v[k] = _mm256_loadu_ps(x + 8 * k);
    const __m256 mx = _mm256_max_ps(_mm256_max_ps(_mm256_and_ps(v[0], absmask), _mm256_and_ps(v[1], absmask)),
                                    _mm256_max_ps(_mm256_and_ps(v[2], absmask), _mm256_and_ps(v[3], absmask)));
    const float amax = hmax_ps(mx);
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    *dh = pk_f2h(d);
    const __m256 idv = _mm256_set1_ps(id);
    __m256i q[4];
    for (int k = 0; k < 4; k++) q[k] = roundf_epi32(_mm256_mul_ps(v[k], idv));
    _mm256_storeu_si256((__m256i *)qs, pack32_epi8(q[0], q[1], q[2], q[3]));
    if (sh) {
        const int sum = hsum_epi32(_mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3])));
        const float s = (float)sum * d;
        *sh = pk_f2h(s);
    }
}

static TGT void PK_SFX(quant_q8_0)(const float *x, void *dst, int64_t n) {
    pk_block_q8_0 *y = dst;
    for (int64_t i = 0; i < n / 32; i++) quant_q8_block(x + 32 * i, y[i].qs, &y[i].d, NULL);
}

static TGT void PK_SFX(quant_q8_1)(const float *x, void *dst, int64_t n) {
    pk_block_q8_1 *y = dst;
    for (int64_t i = 0; i < n / 32; i++) quant_q8_block(x + 32 * i, y[i].qs, &y[i].d, &y[i].s);
}

static TGT void PK_SFX(quant_q8_K)(const float *x, void *dst, int64_t n) {
    pk_block_q8_K *y = dst;
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    for (int64_t i = 0; i < n / 256; i++, x += 256) {
        __m256 mx = _mm256_setzero_ps();
        for (int k = 0; k < 32; k++) mx = _mm256_max_ps(mx, _mm256_and_ps(_mm256_loadu_ps(x + 8 * k), absmask));
        const float amax = hmax_ps(mx);
        if (amax == 0.0f) {
            memset(&y[i], 0, sizeof(y[i]));
            continue;
        }
        float max = 0.0f;  // the first element of largest magnitude, with its sign (as the reference picks it)
        const __m256 am = _mm256_set1_ps(amax);
        for (int k = 0; k < 32; k++) {
            const int hit = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_and_ps(_mm256_loadu_ps(x + 8 * k), absmask), am, _CMP_EQ_OQ));
            if (hit) {
                max = x[8 * k + __builtin_ctz((unsigned)hit)];
                break;
            }
        }
        const float iscale = -127.0f / max;
        const __m256 isv = _mm256_set1_ps(iscale);
        for (int g = 0; g < 8; g++) {
            __m256i q[4];
            for (int k = 0; k < 4; k++) {
                // nearest, ties to even (MXCSR default), as ggml's nearest_int
                q[k] = _mm256_cvtps_epi32(_mm256_mul_ps(isv, _mm256_loadu_ps(x + 32 * g + 8 * k)));
                q[k] = _mm256_min_epi32(q[k], _mm256_set1_epi32(127));
            }
            _mm256_storeu_si256((__m256i *)(y[i].qs + 32 * g), pack32_epi8(q[0], q[1], q[2], q[3]));
            y[i].bsums[2 * g] = (int16_t)hsum_epi32(_mm256_add_epi32(q[0], q[1]));
            y[i].bsums[2 * g + 1] = (int16_t)hsum_epi32(_mm256_add_epi32(q[2], q[3]));
        }
        y[i].d = 1.0f / iscale;
    }
}

// ---------------------------------------------------------------- fused activations (exp by range reduction + polynomial)
//
// exp(x) = 2^n * e^r, n = round(x / ln 2), r = x - n ln 2 in two parts (|r| <= ln2/2), e^r by its Taylor series to
// r^7 (truncation < 1.2e-9 relative), 2^n applied as 2^(n-1) * 2 so n = 128 stays finite. x > 88.7228 gives +inf and
// x < -87 gives 0 (below FLT_MIN; the activations only ever add it to 1); NaN propagates.
#define PK_EXP_HI 88.72283f
#define PK_EXP_LO (-87.0f)
#define PK_EXP_POLY(FMA, SET, r)                                                                                   \
    FMA(FMA(FMA(FMA(FMA(FMA(FMA(SET(1.0f / 5040.0f), r, SET(1.0f / 720.0f)), r, SET(1.0f / 120.0f)), r,            \
                        SET(1.0f / 24.0f)), r, SET(1.0f / 6.0f)), r, SET(0.5f)), r, SET(1.0f)), r, SET(1.0f))

INL __m256 exp8_ps(__m256 x) {
    const __m256 xc = _mm256_min_ps(_mm256_set1_ps(PK_EXP_HI), _mm256_max_ps(_mm256_set1_ps(PK_EXP_LO), x));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), xc);  // n * ln2_hi is exact
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    const __m256 p = PK_EXP_POLY(_mm256_fmadd_ps, _mm256_set1_ps, r);
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(126)), 23);
    __m256 res = _mm256_mul_ps(_mm256_mul_ps(p, _mm256_castsi256_ps(e)), _mm256_set1_ps(2.0f));
    res = _mm256_blendv_ps(res, _mm256_set1_ps(__builtin_inff()), _mm256_cmp_ps(x, _mm256_set1_ps(PK_EXP_HI), _CMP_GT_OQ));
    return _mm256_blendv_ps(res, _mm256_setzero_ps(), _mm256_cmp_ps(x, _mm256_set1_ps(PK_EXP_LO), _CMP_LT_OQ));
}

// silu(g) = g / (1 + exp(-g)); gelu_tanh(g) = g / (1 + exp(-2z)), z = sqrt(2/pi) (g + 0.044715 g^3).
INL __m256 act8_ps(const int gelu, __m256 g) {
    __m256 arg;
    if (gelu) {
        const __m256 g2 = _mm256_mul_ps(g, g);
        const __m256 z = _mm256_mul_ps(g, _mm256_fmadd_ps(g2, _mm256_set1_ps(PK_GELU_K * PK_GELU_C), _mm256_set1_ps(PK_GELU_K)));
        arg = _mm256_mul_ps(z, _mm256_set1_ps(-2.0f));
    } else {
        arg = _mm256_sub_ps(_mm256_setzero_ps(), g);
    }
    return _mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), exp8_ps(arg)));
}

#if PK_VNNI
INL __m512 exp16_ps(__m512 x) {
    const __m512 xc = _mm512_min_ps(_mm512_set1_ps(PK_EXP_HI), _mm512_max_ps(_mm512_set1_ps(PK_EXP_LO), x));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(xc, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), xc);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    const __m512 p = PK_EXP_POLY(_mm512_fmadd_ps, _mm512_set1_ps, r);
    const __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(126)), 23);
    __m512 res = _mm512_mul_ps(_mm512_mul_ps(p, _mm512_castsi512_ps(e)), _mm512_set1_ps(2.0f));
    res = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_set1_ps(PK_EXP_HI), _CMP_GT_OQ), res,
                               _mm512_set1_ps(__builtin_inff()));
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_set1_ps(PK_EXP_LO), _CMP_LT_OQ), res, _mm512_setzero_ps());
}

INL __m512 act16_ps(const int gelu, __m512 g) {
    __m512 arg;
    if (gelu) {
        const __m512 g2 = _mm512_mul_ps(g, g);
        const __m512 z = _mm512_mul_ps(g, _mm512_fmadd_ps(g2, _mm512_set1_ps(PK_GELU_K * PK_GELU_C), _mm512_set1_ps(PK_GELU_K)));
        arg = _mm512_mul_ps(z, _mm512_set1_ps(-2.0f));
    } else {
        arg = _mm512_sub_ps(_mm512_setzero_ps(), g);
    }
    return _mm512_div_ps(g, _mm512_add_ps(_mm512_set1_ps(1.0f), exp16_ps(arg)));
}

INL void act_mul(const int gelu, float *gate, const float *up, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(gate + i, _mm512_mul_ps(act16_ps(gelu, _mm512_loadu_ps(gate + i)), _mm512_loadu_ps(up + i)));
    if (i < n) {
        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
        const __m512 r = _mm512_mul_ps(act16_ps(gelu, _mm512_maskz_loadu_ps(m, gate + i)), _mm512_maskz_loadu_ps(m, up + i));
        _mm512_mask_storeu_ps(gate + i, m, r);
    }
}
#else
INL void act_mul(const int gelu, float *gate, const float *up, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(gate + i, _mm256_mul_ps(act8_ps(gelu, _mm256_loadu_ps(gate + i)), _mm256_loadu_ps(up + i)));
    if (i < n) {  // the tail through the same vector code, staged in a small buffer
        __attribute__((aligned(32))) float g[8] = {0}, u[8] = {0};
        memcpy(g, gate + i, (size_t)(n - i) * sizeof(float));
        memcpy(u, up + i, (size_t)(n - i) * sizeof(float));
        _mm256_store_ps(g, _mm256_mul_ps(act8_ps(gelu, _mm256_load_ps(g)), _mm256_load_ps(u)));
        memcpy(gate + i, g, (size_t)(n - i) * sizeof(float));
    }
}
#endif

static TGT void PK_SFX(silu_mul)(float *gate, const float *up, int64_t n) { act_mul(0, gate, up, n); }
static TGT void PK_SFX(gelu_tanh_mul)(float *gate, const float *up, int64_t n) { act_mul(1, gate, up, n); }

// ---------------------------------------------------------------- F16 attention loops (F16C / AVX-512 conversions)

#if PK_VNNI
static TGT float PK_SFX(dot_f32_f16)(const float *q, const uint16_t *k, int64_t n) {
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i), _mm512_cvtph_ps(loadu256(k + i)), a0);
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i + 16), _mm512_cvtph_ps(loadu256(k + i + 16)), a1);
    }
    for (; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1u);
        a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, q + i), _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, k + i)), a0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}

static TGT void PK_SFX(axpy_f16)(float a, const uint16_t *v, float *y, int64_t n) {
    const __m512 av = _mm512_set1_ps(a);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_fmadd_ps(av, _mm512_cvtph_ps(loadu256(v + i)), _mm512_loadu_ps(y + i)));
    if (i < n) {
        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
        const __m512 r = _mm512_fmadd_ps(av, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, v + i)), _mm512_maskz_loadu_ps(m, y + i));
        _mm512_mask_storeu_ps(y + i, m, r);
    }
}
#else
static TGT float PK_SFX(dot_f32_f16)(const float *q, const uint16_t *k, int64_t n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_cvtph_ps(loadu128(k + i)), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), _mm256_cvtph_ps(loadu128(k + i + 8)), a1);
    }
    for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_cvtph_ps(loadu128(k + i)), a0);
    float s = hsum_ps(_mm256_add_ps(a0, a1));
    for (; i < n; i++) s += q[i] * _cvtsh_ss(k[i]);
    return s;
}

static TGT void PK_SFX(axpy_f16)(float a, const uint16_t *v, float *y, int64_t n) {
    const __m256 av = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, _mm256_cvtph_ps(loadu128(v + i)), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] = fmaf(a, _cvtsh_ss(v[i]), y[i]);
}
#endif

// ---------------------------------------------------------------- table

void PK_SFX(pk_fill_table)(pk_kernel_table *t) {
#define SET(ID, name)                                  \
    t->vec_dot[ID] = PK_SFX(dot_##name);               \
    t->matvec[ID] = PK_SFX(matvec_##name);             \
    t->matmul[ID] = PK_SFX(matmul_##name);
    SET(PK_Q4_0, q4_0)
    SET(PK_Q4_1, q4_1)
    SET(PK_Q5_0, q5_0)
    SET(PK_Q5_1, q5_1)
    SET(PK_Q8_0, q8_0)
    SET(PK_Q4_K, q4_K)
    SET(PK_Q5_K, q5_K)
    SET(PK_Q6_K, q6_K)
    SET(PK_F32, f32)
    SET(PK_F16, f16)
    SET(PK_BF16, bf16)
#undef SET
    t->quantize[PK_Q8_0] = PK_SFX(quant_q8_0);
    t->quantize[PK_Q8_1] = PK_SFX(quant_q8_1);
    t->quantize[PK_Q8_K] = PK_SFX(quant_q8_K);
    t->silu_mul = PK_SFX(silu_mul);
    t->gelu_tanh_mul = PK_SFX(gelu_tanh_mul);
    t->dot_f32_f16 = PK_SFX(dot_f32_f16);
    t->axpy_f16 = PK_SFX(axpy_f16);
}
