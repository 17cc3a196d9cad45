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
#endif

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
