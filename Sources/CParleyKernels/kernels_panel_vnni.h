// Panel GEMM for AVX-512 VNNI (included by kernels_x86_impl.h when PK_VNNI): prefill-sized pk_matmul.
//
// Layout: a panel of 16 weight rows is unpacked once into unsigned int8 quants, row-interleaved so that one zmm holds
// 4 consecutive quants of each of the 16 rows ("k-step" words: lane r = row r's elements 4s..4s+3), plus per-row
// block scales as zmm vectors. One activation column contributes its 4 matching bytes by a 32-bit broadcast, so
// vpdpbusd yields 16 row dot products at once, whole blocks accumulate in int32 registers without horizontal
// reductions, and the register tile is 16 rows x PG_C columns with every result row-contiguous in Y.
//
// Exactness: every block's integer sum is the reference's (offsets are subtracted in int32: Σ(q+off)x - off·Σx;
// K-quant sub-block scales multiply in int32), and the float combination is the canonical one of parley_kernels.h
// (lane r = row r: acc = fma((float)isum, dw*dx, acc) block after block, a K chunk resuming from the Y of the last),
// so every (row, column) is bit-identical to pk_matvec and the register tiles.
//
// Loop order: K chunk (≤ PG_KB32 32-blocks / PG_KBK super-blocks, so a panel is 20-45 KiB) > column chunk (PG_CC
// columns for 32-blocks, whose per-block activation terms are computed once per chunk; PG_CCK for K-quants, which
// need none) > row panel (packed from W by gathers, reused across the chunk's columns) > column tile. Large column
// chunks amortise the packing (measured: 64 -> 256 columns is +10%); X streams from L2/L3 with the hardware prefetcher.
// All scratch lives on the stack: 84 KiB at most.

#define PG_R 16
#define PG_C 8
#ifndef PG_CC
#define PG_CC 256  // columns per chunk, 32-element block types (metadata: PG_CC x PG_KB32 x 8 bytes = 64 KiB)
#endif
#ifndef PG_CCK
#define PG_CCK 512  // columns per chunk, K-quants
#endif
#define PG_KB32 32  // 32-element blocks per K chunk (1024 elements)
#define PG_KBK 8    // 256-element super-blocks per K chunk (2048 elements)

typedef struct {
    __m512i q[PG_KB32 * 8];  // block b, k-step s: q[8b + s]
    __m512 d[PG_KB32];       // per-row block scale
    __m512 m[PG_KB32];       // per-row block min (Q4_1 / Q5_1)
} pg_panel32;

typedef struct {
    __m512i q[PG_KBK * 64];   // super-block b, k-step s (0..63): q[64b + s]
    __m512i sc[PG_KBK][16];   // int32 sub-block scales (Q4_K/Q5_K: 8 used; Q6_K: 16)
    __m512i pr[PG_KBK][8];    // int16 pairs for vpdpwssd against the bsums pairs: Q4_K (mn_i, mn_i); Q6_K (sc_2i, sc_2i+1)
    __m512 d[PG_KBK];
    __m512 dmin[PG_KBK];
} pg_panelK;


// Per activation block of a column chunk: d as float; -off·Σx as int32 (offset types) or s as float (Q8_1).
typedef union {
    int32_t corr;
    float sx;
} pg_aux;

typedef struct {
    float dx[PG_CC][PG_KB32];
    pg_aux aux[PG_CC][PG_KB32];
} pg_meta;

typedef union {
    struct {
        pg_panel32 p;
        pg_meta m;
    } b32;
    pg_panelK bk;
} pg_scratch;

INL __m512i pg_gather(const uint8_t *base, __m512i vidx, __mmask16 m) {
    return _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, vidx, (const void *)base, 1);
}

INL __m512i pg_bcast32(const void *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

// 4 bits per lane (bits 0-3 of v) -> bit 4 of bytes 0-3.
INL __m512i pg_spread4_to_0x10(__m512i v) {
    const __m512i t = _mm512_and_si512(v, _mm512_set1_epi32(0xF));
    return _mm512_and_si512(_mm512_mullo_epi32(t, _mm512_set1_epi32(0x02040810)), _mm512_set1_epi32(0x10101010));
}

// ---- packing (32-element block types)

INL void pg_pack32(const int T, const uint8_t *W, __m512i vidx, __mmask16 rm, int nbk, pg_panel32 *P) {
    for (int b = 0; b < nbk; b++) {
        const uint8_t *p = W + (size_t)b * WB(T);
        const __m512i dm = pg_gather(p, vidx, rm);
        P->d[b] = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(dm));
        if (HAS_MIN(T)) P->m[b] = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(dm, 16)));
        __m512i *q = P->q + 8 * b;
        if (T == PK_Q8_0) {
            for (int s = 0; s < 8; s++)
                q[s] = _mm512_xor_si512(pg_gather(p + 2 + 4 * s, vidx, rm), _mm512_set1_epi8((char)0x80));
            continue;
        }
        const __m512i m4 = _mm512_set1_epi8(0x0F);
        __m512i qh = _mm512_setzero_si512();
        if (T == PK_Q5_0 || T == PK_Q5_1) qh = pg_gather(p + QSO(T) - 4, vidx, rm);
        for (int s = 0; s < 4; s++) {
            const __m512i w = pg_gather(p + QSO(T) + 4 * s, vidx, rm);
            __m512i lo = _mm512_and_si512(w, m4), hi = _mm512_and_si512(_mm512_srli_epi32(w, 4), m4);
            if (T == PK_Q5_0 || T == PK_Q5_1) {
                lo = _mm512_or_si512(lo, pg_spread4_to_0x10(_mm512_srli_epi32(qh, 4 * s)));
                hi = _mm512_or_si512(hi, pg_spread4_to_0x10(_mm512_srli_epi32(qh, 16 + 4 * s)));
            }
            q[s] = lo;
            q[s + 4] = hi;
        }
    }
}

// Activation terms of columns [0, cc) over blocks [0, nbk) (X points at block 0 of column 0).
INL void pg_meta32(const int T, const uint8_t *X, size_t xs, int cc, int nbk, pg_meta *M) {
    for (int c = 0; c < cc; c++) {
        for (int b = 0; b < nbk; b++) {
            const uint8_t *xb = X + (size_t)c * xs + (size_t)b * XB(T);
            M->dx[c][b] = h2f(xb);
            if (HAS_MIN(T)) {
                M->aux[c][b].sx = h2f(xb + 2);
            } else {
                // Σx: bytes biased to unsigned, summed by psadbw, bias removed.
                const __m256i u = _mm256_xor_si256(loadu256(xb + XOFF(T)), _mm256_set1_epi8((char)0x80));
                const __m256i s4 = _mm256_sad_epu8(u, _mm256_setzero_si256());
                const __m128i s2 = _mm_add_epi64(_mm256_castsi256_si128(s4), _mm256_extracti128_si256(s4, 1));
                const int sum = (int)(_mm_cvtsi128_si64(s2) + _mm_extract_epi64(s2, 1)) - 32 * 128;
                M->aux[c][b].corr = -QOFF(T) * sum;
            }
        }
    }
}

// 16 rows x C columns over nbk blocks. X points at block 0 of the tile's first column, M at its first column's row.
INL void pg_tile32(const int T, const int C, const pg_panel32 *P, int nbk, const uint8_t *X, size_t xs,
                   const float (*mdx)[PG_KB32], const pg_aux (*maux)[PG_KB32], float *Y, size_t ys, __mmask16 rm,
                   int accumulate) {
    // the canonical order is one sequential chain per (row, column): a later K chunk continues from Y
    __m512 acc[PG_C];
    for (int c = 0; c < C; c++) acc[c] = accumulate ? _mm512_maskz_loadu_ps(rm, Y + (size_t)c * ys) : _mm512_setzero_ps();
    for (int b = 0; b < nbk; b++) {
        __m512i ai[PG_C];
        for (int c = 0; c < C; c++) ai[c] = HAS_MIN(T) ? _mm512_setzero_si512() : _mm512_set1_epi32(maux[c][b].corr);
        const __m512i *q = P->q + 8 * b;
        for (int s = 0; s < 8; s++) {
            const __m512i w = q[s];
            for (int c = 0; c < C; c++)
                ai[c] = _mm512_dpbusd_epi32(ai[c], w, pg_bcast32(X + (size_t)c * xs + (size_t)b * XB(T) + XOFF(T) + 4 * s));
        }
        const __m512 dw = P->d[b];
        for (int c = 0; c < C; c++)
            acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(ai[c]), _mm512_mul_ps(dw, _mm512_set1_ps(mdx[c][b])), acc[c]);
        if (HAS_MIN(T)) {
            const __m512 mw = P->m[b];
            for (int c = 0; c < C; c++) acc[c] = _mm512_fmadd_ps(mw, _mm512_set1_ps(maux[c][b].sx), acc[c]);
        }
    }
    for (int c = 0; c < C; c++) _mm512_mask_storeu_ps(Y + (size_t)c * ys, rm, acc[c]);
}

// ---- packing (K-quants)

INL void pg_packK(const int T, const uint8_t *W, __m512i vidx, __mmask16 rm, int nbk, pg_panelK *P) {
    const int WBK = T == PK_Q4_K ? 144 : T == PK_Q5_K ? 176 : 210;
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    for (int b = 0; b < nbk; b++) {
        const uint8_t *p = W + (size_t)b * WBK;
        __m512i *q = P->q + 64 * b;
        if (T == PK_Q6_K) {
            // d is the last field: gather the dword ending at the block's end (never reads past it)
            P->d[b] = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(pg_gather(p + 206, vidx, rm), 16)));
            __m512i ql[32], qh[16];
            for (int k = 0; k < 32; k++) ql[k] = pg_gather(p + 4 * k, vidx, rm);
            for (int k = 0; k < 16; k++) qh[k] = pg_gather(p + 128 + 4 * k, vidx, rm);
            for (int s = 0; s < 64; s++) {
                const int e = 4 * s, h = e / 128, k = (e % 128) / 32, t = (e % 32) / 4;
                const __m512i lo = _mm512_and_si512(_mm512_srli_epi32(ql[16 * h + 8 * (k & 1) + t], 4 * (k >> 1)), m4);
                const __m512i hb = _mm512_and_si512(_mm512_srli_epi32(qh[8 * h + t], 2 * k), _mm512_set1_epi8(3));
                q[s] = _mm512_or_si512(lo, _mm512_slli_epi32(hb, 4));
            }
            __m512i sc[16];
            for (int k = 0; k < 4; k++) {
                const __m512i w = pg_gather(p + 192 + 4 * k, vidx, rm);
                for (int j = 0; j < 4; j++)
                    sc[4 * k + j] = _mm512_srai_epi32(_mm512_slli_epi32(w, 24 - 8 * j), 24);  // int8 sign-extended
            }
            for (int g = 0; g < 16; g++) P->sc[b][g] = sc[g];
            for (int i = 0; i < 8; i++)
                P->pr[b][i] = _mm512_or_si512(_mm512_and_si512(sc[2 * i], _mm512_set1_epi32(0xFFFF)),
                                              _mm512_slli_epi32(sc[2 * i + 1], 16));
            continue;
        }
        const __m512i dm = pg_gather(p, vidx, rm);
        P->d[b] = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(dm));
        P->dmin[b] = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(dm, 16)));
        const __m512i a = pg_gather(p + 4, vidx, rm), bb = pg_gather(p + 8, vidx, rm), cw = pg_gather(p + 12, vidx, rm);
        const __m512i c3f = _mm512_set1_epi8(0x3F), c0f = _mm512_set1_epi8(0x0F), c30 = _mm512_set1_epi8(0x30);
        const __m512i scw[2] = {
            _mm512_and_si512(a, c3f),
            _mm512_or_si512(_mm512_and_si512(cw, c0f), _mm512_and_si512(_mm512_srli_epi32(a, 2), c30)),
        };
        const __m512i mnw[2] = {
            _mm512_and_si512(bb, c3f),
            _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(cw, 4), c0f), _mm512_and_si512(_mm512_srli_epi32(bb, 2), c30)),
        };
        for (int j = 0; j < 8; j++) {
            const __m512i ff = _mm512_set1_epi32(0xFF);
            P->sc[b][j] = _mm512_and_si512(_mm512_srli_epi32(scw[j / 4], 8 * (j % 4)), ff);
            const __m512i mn = _mm512_and_si512(_mm512_srli_epi32(mnw[j / 4], 8 * (j % 4)), ff);
            P->pr[b][j] = _mm512_or_si512(mn, _mm512_slli_epi32(mn, 16));
        }
        const int QS = T == PK_Q4_K ? 16 : 48;
        __m512i qh[8];
        if (T == PK_Q5_K)
            for (int t = 0; t < 8; t++) qh[t] = pg_gather(p + 16 + 4 * t, vidx, rm);
        for (int c = 0; c < 4; c++) {
            for (int t = 0; t < 8; t++) {
                const __m512i w = pg_gather(p + QS + 32 * c + 4 * t, vidx, rm);
                __m512i lo = _mm512_and_si512(w, m4), hi = _mm512_and_si512(_mm512_srli_epi32(w, 4), m4);
                if (T == PK_Q5_K) {
                    const __m512i one = _mm512_set1_epi8(1);
                    lo = _mm512_or_si512(lo, _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(qh[t], 2 * c), one), 4));
                    hi = _mm512_or_si512(hi, _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(qh[t], 2 * c + 1), one), 4));
                }
                q[8 * (2 * c) + t] = lo;
                q[8 * (2 * c + 1) + t] = hi;
            }
        }
    }
}

INL void pg_tileK(const int T, const int C, const pg_panelK *P, int nbk, const uint8_t *X, size_t xs, float *Y,
                  size_t ys, __mmask16 rm, int accumulate) {
    // the canonical order is one sequential chain per (row, column): a later K chunk continues from Y
    __m512 acc[PG_C];
    for (int c = 0; c < C; c++) acc[c] = accumulate ? _mm512_maskz_loadu_ps(rm, Y + (size_t)c * ys) : _mm512_setzero_ps();
    for (int b = 0; b < nbk; b++) {
        const pk_block_q8_K *xb[PG_C];
        for (int c = 0; c < C; c++) xb[c] = (const pk_block_q8_K *)(X + (size_t)c * xs) + b;
        const __m512i *q = P->q + 64 * b;
        __m512i isum[PG_C], t[PG_C];
        for (int c = 0; c < C; c++) isum[c] = _mm512_setzero_si512();
        const int G = T == PK_Q6_K ? 16 : 8;  // sub-blocks of 64 / G * 4 ... (16 or 32 elements)
        const int S = 64 / G;                // k-steps per sub-block
        for (int g = 0; g < G; g++) {
            for (int c = 0; c < C; c++) t[c] = _mm512_setzero_si512();
            for (int s = 0; s < S; s++) {
                const __m512i w = q[S * g + s];
                for (int c = 0; c < C; c++) t[c] = _mm512_dpbusd_epi32(t[c], w, pg_bcast32(xb[c]->qs + 4 * (S * g + s)));
            }
            const __m512i scg = P->sc[b][g];
            for (int c = 0; c < C; c++) isum[c] = _mm512_add_epi32(isum[c], _mm512_mullo_epi32(t[c], scg));
        }
        // Σ over 16-element groups of (pair scale) * bsums, two groups per dword
        for (int c = 0; c < C; c++) t[c] = _mm512_setzero_si512();
        for (int i = 0; i < 8; i++) {
            const __m512i pr = P->pr[b][i];
            for (int c = 0; c < C; c++) t[c] = _mm512_dpwssd_epi32(t[c], pr, pg_bcast32(xb[c]->bsums + 2 * i));
        }
        const __m512 d = P->d[b];
        if (T == PK_Q6_K) {
            for (int c = 0; c < C; c++) {
                const __m512i s = _mm512_sub_epi32(isum[c], _mm512_slli_epi32(t[c], 5));
                acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(d, _mm512_set1_ps(xb[c]->d)), acc[c]);
            }
        } else {
            const __m512 dmin = P->dmin[b];
            for (int c = 0; c < C; c++) {
                const __m512 dx = _mm512_set1_ps(xb[c]->d);
                acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[c]), _mm512_mul_ps(d, dx), acc[c]);
                acc[c] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(t[c]), _mm512_mul_ps(dmin, dx), acc[c]);
            }
        }
    }
    for (int c = 0; c < C; c++) _mm512_mask_storeu_ps(Y + (size_t)c * ys, rm, acc[c]);
}

// ---- driver

INL void pg_matmul(const int T, int64_t n, const uint8_t *W, size_t rs, int64_t nrows, const uint8_t *X, size_t xs,
                   int64_t ncols, float *Y, size_t ys) {
    const int isK = T == PK_Q4_K || T == PK_Q5_K || T == PK_Q6_K;
    const int BE = isK ? 256 : 32;
    const int KB = isK ? PG_KBK : PG_KB32;
    const size_t wbb = isK ? (T == PK_Q4_K ? 144 : T == PK_Q5_K ? 176 : 210) : (size_t)WB(T);
    const size_t xbb = isK ? sizeof(pk_block_q8_K) : (size_t)XB(T);
    const int64_t nbt = n / BE;
    const int CC = isK ? PG_CCK : PG_CC;
    __attribute__((aligned(64))) pg_scratch scratch;
    pg_meta *const meta = &scratch.b32.m;
    const __m512i vidx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                            _mm512_set1_epi32((int)rs));
    for (int64_t kb0 = 0; kb0 < nbt; kb0 += KB) {
        const int nbk = (int)(nbt - kb0 < KB ? nbt - kb0 : KB);
        const int accumulate = kb0 > 0;
        for (int64_t c0 = 0; c0 < ncols; c0 += CC) {
            const int cc = (int)(ncols - c0 < CC ? ncols - c0 : CC);
            const uint8_t *Xc = X + (size_t)c0 * xs + (size_t)kb0 * xbb;
            if (!isK) pg_meta32(T, Xc, xs, cc, nbk, meta);
            for (int64_t r0 = 0; r0 < nrows; r0 += PG_R) {
                const int rr = (int)(nrows - r0 < PG_R ? nrows - r0 : PG_R);
                const __mmask16 rm = (__mmask16)((1u << rr) - 1u);
                const uint8_t *Wp = W + (size_t)r0 * rs + (size_t)kb0 * wbb;
                if (isK) pg_packK(T, Wp, vidx, rm, nbk, &scratch.bk);
                else pg_pack32(T, Wp, vidx, rm, nbk, &scratch.b32.p);
                float *Yr = Y + (size_t)c0 * ys + (size_t)r0;
                int c = 0;
#define PG_TILE(CN)                                                                                               \
    do {                                                                                                          \
        if (isK)                                                                                                  \
            pg_tileK(T, CN, &scratch.bk, nbk, Xc + (size_t)c * xs, xs, Yr + (size_t)c * ys, ys, rm, accumulate);    \
        else                                                                                                      \
            pg_tile32(T, CN, &scratch.b32.p, nbk, Xc + (size_t)c * xs, xs, meta->dx + c, meta->aux + c,                 \
                      Yr + (size_t)c * ys, ys, rm, accumulate);                                                   \
    } while (0)
                for (; c + PG_C <= cc; c += PG_C) PG_TILE(PG_C);
                switch (cc - c) {
                case 7: PG_TILE(7); break;
                case 6: PG_TILE(6); break;
                case 5: PG_TILE(5); break;
                case 4: PG_TILE(4); break;
                case 3: PG_TILE(3); break;
                case 2: PG_TILE(2); break;
                case 1: PG_TILE(1); break;
                default: break;
                }
#undef PG_TILE
            }
        }
    }
}
