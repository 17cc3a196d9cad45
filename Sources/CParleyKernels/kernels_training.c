// Training's element-wise loops (parley_training.h). exp is evaluated as 2^n · e^r with n = round(x / ln 2) and
// e^r by a degree-7 polynomial (|r| ≤ ln 2 / 2): within a couple of float ulps, which the gradient oracle's 1e-4
// tolerance leaves far behind. The GELU uses 0.5 (1 + tanh z) = σ(2z), which also gives its derivative:
// 1 − tanh² z = 4 σ(2z) (1 − σ(2z)).
#include "parley_training.h"
#include <math.h>

#define GELU_C 0.7978845608f  // √(2/π)
#define GELU_K 0.044715f

static inline float sigmoid_arg(int gelu, float g, float *dz) {
    if (gelu) {
        *dz = 2.0f * GELU_C * (1.0f + 3.0f * GELU_K * g * g);
        return 2.0f * GELU_C * (g + GELU_K * g * g * g);
    }
    *dz = 1.0f;
    return g;
}

static float exp_shift_sum_scalar(float *x, int64_t n, float shift) {
    float sum = 0;
    for (int64_t i = 0; i < n; i++) { x[i] = expf(x[i] - shift); sum += x[i]; }
    return sum;
}

static void gated_forward_scalar(int gelu, const float *gate, const float *up, float *act, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float dz, a = sigmoid_arg(gelu, gate[i], &dz);
        act[i] = gate[i] / (1.0f + expf(-a)) * up[i];
    }
}

static void gated_backward_scalar(int gelu, const float *gate, const float *up, const float *dact, float *dgate,
                                  float *dup, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float g = gate[i], dz, a = sigmoid_arg(gelu, g, &dz);
        float s = 1.0f / (1.0f + expf(-a));
        dgate[i] = dact[i] * up[i] * (s + g * s * (1.0f - s) * dz);
        dup[i] = dact[i] * g * s;
    }
}

#if defined(__x86_64__)
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static inline __m256 exp8(__m256 x) {
    const __m256 hi = _mm256_set1_ps(88.72283f), lo = _mm256_set1_ps(-87.0f);
    const __m256 xc = _mm256_min_ps(hi, _mm256_max_ps(lo, x));
    const __m256 k = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693359375f), xc);
    r = _mm256_fnmadd_ps(k, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.0f / 5040.0f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(126)), 23);
    __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, _mm256_castsi256_ps(e)), _mm256_set1_ps(2.0f));
    y = _mm256_blendv_ps(y, _mm256_set1_ps(__builtin_inff()), _mm256_cmp_ps(x, hi, _CMP_GT_OQ));
    return _mm256_blendv_ps(y, _mm256_setzero_ps(), _mm256_cmp_ps(x, lo, _CMP_LT_OQ));
}

AVX2 static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

AVX2 static float exp_shift_sum_avx2(float *x, int64_t n, float shift) {
    __m256 acc = _mm256_setzero_ps();
    const __m256 sh = _mm256_set1_ps(shift);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), sh));
        _mm256_storeu_ps(x + i, e);
        acc = _mm256_add_ps(acc, e);
    }
    return hsum8(acc) + exp_shift_sum_scalar(x + i, n - i, shift);
}

// σ(a) for the gate value g, and (when wanted) dz: the derivative of a with respect to g.
AVX2 static inline __m256 sigma8(int gelu, __m256 g, __m256 *dz) {
    __m256 a;
    if (gelu) {
        const __m256 g2 = _mm256_mul_ps(g, g);
        a = _mm256_mul_ps(_mm256_mul_ps(g, _mm256_fmadd_ps(g2, _mm256_set1_ps(GELU_K), _mm256_set1_ps(1.0f))),
                          _mm256_set1_ps(2.0f * GELU_C));
        *dz = _mm256_mul_ps(_mm256_fmadd_ps(g2, _mm256_set1_ps(3.0f * GELU_K), _mm256_set1_ps(1.0f)),
                            _mm256_set1_ps(2.0f * GELU_C));
    } else {
        a = g;
        *dz = _mm256_set1_ps(1.0f);
    }
    return _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_add_ps(_mm256_set1_ps(1.0f), exp8(_mm256_sub_ps(_mm256_setzero_ps(), a))));
}

AVX2 static void gated_forward_avx2(int gelu, const float *gate, const float *up, float *act, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 dz, g = _mm256_loadu_ps(gate + i);
        __m256 s = sigma8(gelu, g, &dz);
        _mm256_storeu_ps(act + i, _mm256_mul_ps(_mm256_mul_ps(g, s), _mm256_loadu_ps(up + i)));
    }
    gated_forward_scalar(gelu, gate + i, up + i, act + i, n - i);
}

AVX2 static void gated_backward_avx2(int gelu, const float *gate, const float *up, const float *dact, float *dgate,
                                     float *dup, int64_t n) {
    int64_t i = 0;
    const __m256 one = _mm256_set1_ps(1.0f);
    for (; i + 8 <= n; i += 8) {
        __m256 dz, g = _mm256_loadu_ps(gate + i);
        __m256 s = sigma8(gelu, g, &dz);
        __m256 d = _mm256_loadu_ps(dact + i);
        // f' = s + g·s·(1 − s)·dz
        __m256 df = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_mul_ps(g, s), _mm256_sub_ps(one, s)), dz, s);
        _mm256_storeu_ps(dgate + i, _mm256_mul_ps(_mm256_mul_ps(d, _mm256_loadu_ps(up + i)), df));
        _mm256_storeu_ps(dup + i, _mm256_mul_ps(d, _mm256_mul_ps(g, s)));
    }
    gated_backward_scalar(gelu, gate + i, up + i, dact + i, dgate + i, dup + i, n - i);
}

static int has_avx2(void) {
    static int cached = -1;
    if (cached < 0) cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return cached;
}
#else
static int has_avx2(void) { return 0; }
#endif

float pk_train_exp_shift_sum(float *x, int64_t n, float shift) {
#if defined(__x86_64__)
    if (has_avx2()) return exp_shift_sum_avx2(x, n, shift);
#endif
    return exp_shift_sum_scalar(x, n, shift);
}

float pk_train_max(const float *x, int64_t n) {
    float m = x[0];
    for (int64_t i = 1; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

void pk_train_scale(float *x, int64_t n, float a) {
    for (int64_t i = 0; i < n; i++) x[i] *= a;
}

void pk_train_gated_forward(int gelu, const float *gate, const float *up, float *act, int64_t n) {
#if defined(__x86_64__)
    if (has_avx2()) { gated_forward_avx2(gelu, gate, up, act, n); return; }
#endif
    gated_forward_scalar(gelu, gate, up, act, n);
}

void pk_train_gated_backward(int gelu, const float *gate, const float *up, const float *dact, float *dgate, float *dup,
                             int64_t n) {
#if defined(__x86_64__)
    if (has_avx2()) { gated_backward_avx2(gelu, gate, up, dact, dgate, dup, n); return; }
#endif
    gated_backward_scalar(gelu, gate, up, dact, dgate, dup, n);
}
