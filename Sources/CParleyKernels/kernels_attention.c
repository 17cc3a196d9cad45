// Attention inner loops: a scalar reference and AVX2 / AVX-512 variants, picked per call from the active
// instruction set (so PARLEY_ISA and tests' per-thread choice apply here too).
#include "parley_attention.h"
#include "parley_kernels.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

static inline float half_to_float(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF, bits;
    if (exponent == 0) {
        if (mantissa == 0) {
            bits = sign;
        } else {  // subnormal: normalise
            exponent = 127 - 15 + 1;
            while ((mantissa & 0x400) == 0) { mantissa <<= 1; exponent--; }
            bits = sign | (exponent << 23) | ((mantissa & 0x3FF) << 13);
        }
    } else if (exponent == 31) {
        bits = sign | 0x7F800000 | (mantissa << 13);
    } else {
        bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static void scores_ref(const float *q, const uint16_t *k, size_t stride, int64_t rows, int64_t n, float scale,
                       float *scores) {
    for (int64_t r = 0; r < rows; r++) {
        const uint16_t *row = k + (size_t)r * stride;
        float s = 0.0f;
        for (int64_t i = 0; i < n; i++) s += q[i] * half_to_float(row[i]);
        scores[r] = scale * s;
    }
}

static void accumulate_ref(const float *w, const uint16_t *v, size_t stride, int64_t rows, int64_t n, float *y) {
    for (int64_t r = 0; r < rows; r++) {
        const uint16_t *row = v + (size_t)r * stride;
        for (int64_t i = 0; i < n; i++) y[i] += w[r] * half_to_float(row[i]);
    }
}

#if defined(__x86_64__)
#define AVX2_TARGET __attribute__((target("avx2,fma,f16c")))
#define AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))

AVX2_TARGET static void scores_avx2(const float *q, const uint16_t *k, size_t stride, int64_t rows, int64_t n,
                                    float scale, float *scores) {
    for (int64_t r = 0; r < rows; r++) {
        const uint16_t *row = k + (size_t)r * stride;
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
        int64_t i = 0;
        for (; i + 16 <= n; i += 16) {
            acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(row + i))), acc0);
            acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8),
                                   _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(row + i + 8))), acc1);
        }
        __m256 acc = _mm256_add_ps(acc0, acc1);
        __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
        s4 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
        s4 = _mm_add_ss(s4, _mm_movehdup_ps(s4));
        float s = _mm_cvtss_f32(s4);
        for (; i < n; i++) s += q[i] * half_to_float(row[i]);
        scores[r] = scale * s;
    }
}

AVX2_TARGET static void accumulate_avx2(const float *w, const uint16_t *v, size_t stride, int64_t rows, int64_t n,
                                        float *y) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 acc = _mm256_loadu_ps(y + i);
        for (int64_t r = 0; r < rows; r++) {
            const __m256 x = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(v + (size_t)r * stride + i)));
            acc = _mm256_fmadd_ps(_mm256_set1_ps(w[r]), x, acc);
        }
        _mm256_storeu_ps(y + i, acc);
    }
    for (; i < n; i++)
        for (int64_t r = 0; r < rows; r++) y[i] += w[r] * half_to_float(v[(size_t)r * stride + i]);
}

AVX512_TARGET static void scores_avx512(const float *q, const uint16_t *k, size_t stride, int64_t rows, int64_t n,
                                        float scale, float *scores) {
    if (n % 16 != 0) {
        scores_avx2(q, k, stride, rows, n, scale, scores);
        return;
    }
    for (int64_t r = 0; r < rows; r++) {
        const uint16_t *row = k + (size_t)r * stride;
        __m512 acc = _mm512_setzero_ps();
        for (int64_t i = 0; i < n; i += 16)
            acc = _mm512_fmadd_ps(_mm512_loadu_ps(q + i), _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(row + i))), acc);
        scores[r] = scale * _mm512_reduce_add_ps(acc);
    }
}

AVX512_TARGET static void accumulate_avx512(const float *w, const uint16_t *v, size_t stride, int64_t rows, int64_t n,
                                            float *y) {
    if (n % 16 != 0) {
        accumulate_avx2(w, v, stride, rows, n, y);
        return;
    }
    for (int64_t i = 0; i < n; i += 64) {
        // Up to four 16-wide accumulators stay in registers across all rows.
        const int64_t width = n - i < 64 ? n - i : 64;
        __m512 a0 = _mm512_loadu_ps(y + i);
        __m512 a1 = width > 16 ? _mm512_loadu_ps(y + i + 16) : _mm512_setzero_ps();
        __m512 a2 = width > 32 ? _mm512_loadu_ps(y + i + 32) : _mm512_setzero_ps();
        __m512 a3 = width > 48 ? _mm512_loadu_ps(y + i + 48) : _mm512_setzero_ps();
        for (int64_t r = 0; r < rows; r++) {
            const uint16_t *row = v + (size_t)r * stride + i;
            const __m512 wr = _mm512_set1_ps(w[r]);
            a0 = _mm512_fmadd_ps(wr, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)row)), a0);
            if (width > 16) a1 = _mm512_fmadd_ps(wr, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(row + 16))), a1);
            if (width > 32) a2 = _mm512_fmadd_ps(wr, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(row + 32))), a2);
            if (width > 48) a3 = _mm512_fmadd_ps(wr, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(row + 48))), a3);
        }
        _mm512_storeu_ps(y + i, a0);
        if (width > 16) _mm512_storeu_ps(y + i + 16, a1);
        if (width > 32) _mm512_storeu_ps(y + i + 32, a2);
        if (width > 48) _mm512_storeu_ps(y + i + 48, a3);
    }
}

// Several heads over the same rows: a row's 16-wide chunks are widened once and feed every head's chain; up to
// two rows and four heads (eight independent chains) are in flight at once. Per head and row the operations are
// those of scores_avx512: fma over the chunks in order from zero, reduce_add, times scale.
AVX512_TARGET static void scores_heads_avx512(const float *q, size_t qs, int64_t heads, const uint16_t *k,
                                              size_t stride, int64_t rows, int64_t n, float scale, float *scores,
                                              size_t ss) {
    if (n % 16 != 0) {
        for (int64_t h = 0; h < heads; h++) scores_avx2(q + (size_t)h * qs, k, stride, rows, n, scale, scores + (size_t)h * ss);
        return;
    }
    for (int64_t h0 = 0; h0 < heads; h0 += 4) {
        const int64_t hn = heads - h0 < 4 ? heads - h0 : 4;
        const float *qh = q + (size_t)h0 * qs;
        float *sh = scores + (size_t)h0 * ss;
        int64_t r = 0;
        for (; r + 2 <= rows; r += 2) {
            const uint16_t *row0 = k + (size_t)r * stride, *row1 = row0 + stride;
            __m512 a0[4], a1[4];
            for (int h = 0; h < 4; h++) a0[h] = a1[h] = _mm512_setzero_ps();
            for (int64_t i = 0; i < n; i += 16) {
                const __m512 k0 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(row0 + i)));
                const __m512 k1 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(row1 + i)));
                for (int h = 0; h < 4; h++) {
                    if (h >= hn) break;
                    const __m512 qv = _mm512_loadu_ps(qh + (size_t)h * qs + i);
                    a0[h] = _mm512_fmadd_ps(qv, k0, a0[h]);
                    a1[h] = _mm512_fmadd_ps(qv, k1, a1[h]);
                }
            }
            for (int h = 0; h < 4; h++) {
                if (h >= hn) break;
                sh[(size_t)h * ss + r] = scale * _mm512_reduce_add_ps(a0[h]);
                sh[(size_t)h * ss + r + 1] = scale * _mm512_reduce_add_ps(a1[h]);
            }
        }
        for (; r < rows; r++) {
            const uint16_t *row0 = k + (size_t)r * stride;
            __m512 a0[4];
            for (int h = 0; h < 4; h++) a0[h] = _mm512_setzero_ps();
            for (int64_t i = 0; i < n; i += 16) {
                const __m512 k0 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(row0 + i)));
                for (int h = 0; h < 4; h++) {
                    if (h >= hn) break;
                    a0[h] = _mm512_fmadd_ps(_mm512_loadu_ps(qh + (size_t)h * qs + i), k0, a0[h]);
                }
            }
            for (int h = 0; h < 4; h++) {
                if (h >= hn) break;
                sh[(size_t)h * ss + r] = scale * _mm512_reduce_add_ps(a0[h]);
            }
        }
    }
}

// Several heads' weighted sums of the same rows: each row chunk is widened once for every head. Per head and
// element the chain over rows is that of accumulate_avx512 (fma in row order onto y).
AVX512_TARGET static void accumulate_heads_avx512(const float *w, size_t ws, int64_t heads, const uint16_t *v,
                                                  size_t stride, int64_t rows, int64_t n, float *y, size_t ys) {
    if (n % 16 != 0) {
        for (int64_t h = 0; h < heads; h++) accumulate_avx2(w + (size_t)h * ws, v, stride, rows, n, y + (size_t)h * ys);
        return;
    }
    for (int64_t h0 = 0; h0 < heads; h0 += 4) {
        const int64_t hn = heads - h0 < 4 ? heads - h0 : 4;
        for (int64_t i = 0; i < n; i += 64) {
            const int64_t width = n - i < 64 ? n - i : 64;
            const int chunks = (int)(width / 16);
            __m512 a[4][4];
            for (int h = 0; h < 4; h++)
                for (int c = 0; c < 4; c++)
                    a[h][c] = (h < hn && c < chunks) ? _mm512_loadu_ps(y + (size_t)(h0 + h) * ys + i + 16 * c) : _mm512_setzero_ps();
            for (int64_t r = 0; r < rows; r++) {
                const uint16_t *row = v + (size_t)r * stride + i;
                __m512 x[4];
                for (int c = 0; c < 4; c++)
                    x[c] = c < chunks ? _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(row + 16 * c))) : _mm512_setzero_ps();
                for (int h = 0; h < 4; h++) {
                    if (h >= hn) break;
                    const __m512 wr = _mm512_set1_ps(w[(size_t)(h0 + h) * ws + r]);
                    for (int c = 0; c < 4; c++)
                        if (c < chunks) a[h][c] = _mm512_fmadd_ps(wr, x[c], a[h][c]);
                }
            }
            for (int h = 0; h < 4; h++)
                for (int c = 0; c < 4; c++)
                    if (h < hn && c < chunks) _mm512_storeu_ps(y + (size_t)(h0 + h) * ys + i + 16 * c, a[h][c]);
        }
    }
}
#endif

void pk_attn_scores_f16_heads(const float *q, size_t q_stride, int64_t heads, const uint16_t *k, size_t stride,
                              int64_t rows, int64_t n, float scale, float *scores, size_t score_stride) {
#if defined(__x86_64__)
    if (pk_active_isa() == PK_ISA_AVX512_VNNI) {
        scores_heads_avx512(q, q_stride, heads, k, stride, rows, n, scale, scores, score_stride);
        return;
    }
#endif
    for (int64_t h = 0; h < heads; h++)
        pk_attn_scores_f16(q + (size_t)h * q_stride, k, stride, rows, n, scale, scores + (size_t)h * score_stride);
}

void pk_attn_accumulate_f16_heads(const float *w, size_t w_stride, int64_t heads, const uint16_t *v, size_t stride,
                                  int64_t rows, int64_t n, float *y, size_t y_stride) {
#if defined(__x86_64__)
    if (pk_active_isa() == PK_ISA_AVX512_VNNI) {
        accumulate_heads_avx512(w, w_stride, heads, v, stride, rows, n, y, y_stride);
        return;
    }
#endif
    for (int64_t h = 0; h < heads; h++)
        pk_attn_accumulate_f16(w + (size_t)h * w_stride, v, stride, rows, n, y + (size_t)h * y_stride);
}

void pk_attn_scores_f16(const float *q, const uint16_t *k, size_t stride, int64_t rows, int64_t n, float scale,
                        float *scores) {
#if defined(__x86_64__)
    switch (pk_active_isa()) {
    case PK_ISA_AVX512_VNNI: scores_avx512(q, k, stride, rows, n, scale, scores); return;
    case PK_ISA_AVX2: scores_avx2(q, k, stride, rows, n, scale, scores); return;
    default: break;
    }
#endif
    scores_ref(q, k, stride, rows, n, scale, scores);
}

void pk_attn_accumulate_f16(const float *w, const uint16_t *v, size_t stride, int64_t rows, int64_t n, float *y) {
#if defined(__x86_64__)
    switch (pk_active_isa()) {
    case PK_ISA_AVX512_VNNI: accumulate_avx512(w, v, stride, rows, n, y); return;
    case PK_ISA_AVX2: accumulate_avx2(w, v, stride, rows, n, y); return;
    default: break;
    }
#endif
    accumulate_ref(w, v, stride, rows, n, y);
}
