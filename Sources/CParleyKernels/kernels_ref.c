// Portable scalar reference kernels: the definition of every operation's result.
#include "kernels_internal.h"
#include <math.h>

// The quantized dot products below define the canonical float combination of parley_kernels.h: explicit fmaf and
// separately rounded products, never contracted or reassociated by the compiler.
PK_FP_STRICT

// ---------------------------------------------------------------- dequantization

static void deq_q4_0(const pk_block_q4_0 *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += 32) {
        const float d = pk_h2f(x[i].d);
        for (int j = 0; j < 16; j++) {
            y[j] = (float)((x[i].qs[j] & 0x0F) - 8) * d;
            y[j + 16] = (float)((x[i].qs[j] >> 4) - 8) * d;
        }
    }
}

static void deq_q4_1(const pk_block_q4_1 *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += 32) {
        const float d = pk_h2f(x[i].d), m = pk_h2f(x[i].m);
        for (int j = 0; j < 16; j++) {
            y[j] = (float)(x[i].qs[j] & 0x0F) * d + m;
            y[j + 16] = (float)(x[i].qs[j] >> 4) * d + m;
        }
    }
}

static inline uint32_t load_u32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void deq_q5_0(const pk_block_q5_0 *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += 32) {
        const float d = pk_h2f(x[i].d);
        const uint32_t qh = load_u32(x[i].qh);
        for (int j = 0; j < 16; j++) {
            const int h0 = (qh >> j) & 1, h1 = (qh >> (j + 16)) & 1;
            y[j] = (float)(((x[i].qs[j] & 0x0F) | (h0 << 4)) - 16) * d;
            y[j + 16] = (float)(((x[i].qs[j] >> 4) | (h1 << 4)) - 16) * d;
        }
    }
}

static void deq_q5_1(const pk_block_q5_1 *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += 32) {
        const float d = pk_h2f(x[i].d), m = pk_h2f(x[i].m);
        const uint32_t qh = load_u32(x[i].qh);
        for (int j = 0; j < 16; j++) {
            const int h0 = (qh >> j) & 1, h1 = (qh >> (j + 16)) & 1;
            y[j] = (float)((x[i].qs[j] & 0x0F) | (h0 << 4)) * d + m;
            y[j + 16] = (float)((x[i].qs[j] >> 4) | (h1 << 4)) * d + m;
        }
    }
}

static void deq_q8_0(const pk_block_q8_0 *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += 32) {
        const float d = pk_h2f(x[i].d);
        for (int j = 0; j < 32; j++) y[j] = (float)x[i].qs[j] * d;
    }
}

static void deq_q8_1(const pk_block_q8_1 *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += 32) {
        const float d = pk_h2f(x[i].d);
        for (int j = 0; j < 32; j++) y[j] = (float)x[i].qs[j] * d;
    }
}

static void deq_q4_K(const pk_block_q4_K *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const float d = pk_h2f(x[i].d), dmin = pk_h2f(x[i].dmin);
        uint8_t sc[8], mn[8];
        pk_unpack_k4_scales(x[i].scales, sc, mn);
        const uint8_t *q = x[i].qs;
        for (int c = 0; c < 4; c++, q += 32) {
            const float d1 = d * sc[2 * c], m1 = dmin * mn[2 * c];
            const float d2 = d * sc[2 * c + 1], m2 = dmin * mn[2 * c + 1];
            for (int l = 0; l < 32; l++) *y++ = d1 * (float)(q[l] & 0x0F) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * (float)(q[l] >> 4) - m2;
        }
    }
}

static void deq_q5_K(const pk_block_q5_K *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const float d = pk_h2f(x[i].d), dmin = pk_h2f(x[i].dmin);
        uint8_t sc[8], mn[8];
        pk_unpack_k4_scales(x[i].scales, sc, mn);
        const uint8_t *q = x[i].qs;
        const uint8_t *qh = x[i].qh;
        for (int c = 0; c < 4; c++, q += 32) {
            const float d1 = d * sc[2 * c], m1 = dmin * mn[2 * c];
            const float d2 = d * sc[2 * c + 1], m2 = dmin * mn[2 * c + 1];
            const uint8_t b1 = (uint8_t)(1u << (2 * c)), b2 = (uint8_t)(2u << (2 * c));
            for (int l = 0; l < 32; l++) *y++ = d1 * (float)((q[l] & 0x0F) + ((qh[l] & b1) ? 16 : 0)) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * (float)((q[l] >> 4) + ((qh[l] & b2) ? 16 : 0)) - m2;
        }
    }
}

static void deq_q6_K(const pk_block_q6_K *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const float d = pk_h2f(x[i].d);
        const uint8_t *ql = x[i].ql, *qh = x[i].qh;
        const int8_t *sc = x[i].scales;
        for (int half = 0; half < 2; half++) {
            for (int l = 0; l < 32; l++) {
                const int is = l / 16;
                const int q1 = (int)((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = (int)((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = (int)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = (int)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l] = d * (float)sc[is] * (float)q1;
                y[l + 32] = d * (float)sc[is + 2] * (float)q2;
                y[l + 64] = d * (float)sc[is + 4] * (float)q3;
                y[l + 96] = d * (float)sc[is + 6] * (float)q4;
            }
            y += 128;
            ql += 64;
            qh += 32;
            sc += 8;
        }
    }
}

static void deq_q8_K(const pk_block_q8_K *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += 256) {
        for (int j = 0; j < 256; j++) y[j] = x[i].d * (float)x[i].qs[j];
    }
}

void pk_dequantize_ref(pk_type type, const void *src, float *dst, int64_t n) {
    switch (type) {
    case PK_F32: memcpy(dst, src, (size_t)n * sizeof(float)); break;
    case PK_F16: {
        const uint16_t *h = (const uint16_t *)src;
        for (int64_t i = 0; i < n; i++) dst[i] = pk_h2f(h[i]);
        break;
    }
    case PK_BF16: {
        const uint16_t *h = (const uint16_t *)src;
        for (int64_t i = 0; i < n; i++) dst[i] = pk_bf2f(h[i]);
        break;
    }
    case PK_Q4_0: deq_q4_0(src, dst, n / 32); break;
    case PK_Q4_1: deq_q4_1(src, dst, n / 32); break;
    case PK_Q5_0: deq_q5_0(src, dst, n / 32); break;
    case PK_Q5_1: deq_q5_1(src, dst, n / 32); break;
    case PK_Q8_0: deq_q8_0(src, dst, n / 32); break;
    case PK_Q8_1: deq_q8_1(src, dst, n / 32); break;
    case PK_Q4_K: deq_q4_K(src, dst, n / 256); break;
    case PK_Q5_K: deq_q5_K(src, dst, n / 256); break;
    case PK_Q6_K: deq_q6_K(src, dst, n / 256); break;
    case PK_Q8_K: deq_q8_K(src, dst, n / 256); break;
    default: break;
    }
}

// ---------------------------------------------------------------- activation quantizers (ggml reference semantics)

static void quant_q8_0_ref(const float *x, void *dst, int64_t n) {
    pk_block_q8_0 *y = dst;
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = pk_f2h(d);
        for (int j = 0; j < 32; j++) {
            const float v = x[j] * id;
            y[i].qs[j] = (int8_t)roundf(v);
        }
    }
}

static void quant_q8_1_ref(const float *x, void *dst, int64_t n) {
    pk_block_q8_1 *y = dst;
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = pk_f2h(d);
        int sum = 0;
        for (int j = 0; j < 32; j++) {
            const float v = x[j] * id;
            y[i].qs[j] = (int8_t)roundf(v);
            sum += y[i].qs[j];
        }
        const float s = (float)sum * d;
        y[i].s = pk_f2h(s);
    }
}

// ggml's nearest_int: round half to even via the magic-number trick (|v| < 2^22).
static inline int nearest_int_ref(float v) {
    float t = v + 12582912.0f;
    int32_t i;
    memcpy(&i, &t, 4);
    return (i & 0x007FFFFF) - 0x00400000;
}

static void quant_q8_K_ref(const float *x, void *dst, int64_t n) {
    pk_block_q8_K *y = dst;
    for (int64_t i = 0; i < n / 256; i++, x += 256) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < 256; j++) {
            const float ax = fabsf(x[j]);
            if (ax > amax) {
                amax = ax;
                max = x[j];
            }
        }
        if (amax == 0.0f) {
            y[i].d = 0.0f;
            memset(y[i].qs, 0, 256);
            memset(y[i].bsums, 0, sizeof(y[i].bsums));
            continue;
        }
        const float iscale = -127.0f / max;
        for (int j = 0; j < 256; j++) {
            const float v = iscale * x[j];
            const int q = nearest_int_ref(v);
            y[i].qs[j] = (int8_t)(q < 127 ? q : 127);
        }
        for (int g = 0; g < 16; g++) {
            int s = 0;
            for (int l = 0; l < 16; l++) s += y[i].qs[16 * g + l];
            y[i].bsums[g] = (int16_t)s;
        }
        y[i].d = 1.0f / iscale;
    }
}

static void quant_f32_copy(const float *x, void *dst, int64_t n) { memcpy(dst, x, (size_t)n * sizeof(float)); }

// ---------------------------------------------------------------- dot products (weight row · activation row)

static float dot_q4_0_ref(int64_t n, const void *w, const void *a) {
    const pk_block_q4_0 *x = w;
    const pk_block_q8_0 *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / 32; i++) {
        int s = 0;
        for (int j = 0; j < 16; j++) {
            s += ((x[i].qs[j] & 0x0F) - 8) * y[i].qs[j];
            s += ((x[i].qs[j] >> 4) - 8) * y[i].qs[j + 16];
        }
        sum = fmaf((float)s, pk_h2f(x[i].d) * pk_h2f(y[i].d), sum);
    }
    return sum;
}

static float dot_q4_1_ref(int64_t n, const void *w, const void *a) {
    const pk_block_q4_1 *x = w;
    const pk_block_q8_1 *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / 32; i++) {
        int s = 0;
        for (int j = 0; j < 16; j++) {
            s += (x[i].qs[j] & 0x0F) * y[i].qs[j];
            s += (x[i].qs[j] >> 4) * y[i].qs[j + 16];
        }
        sum = fmaf((float)s, pk_h2f(x[i].d) * pk_h2f(y[i].d), sum);
        sum = fmaf(pk_h2f(x[i].m), pk_h2f(y[i].s), sum);
    }
    return sum;
}

static float dot_q5_0_ref(int64_t n, const void *w, const void *a) {
    const pk_block_q5_0 *x = w;
    const pk_block_q8_0 *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / 32; i++) {
        const uint32_t qh = load_u32(x[i].qh);
        int s = 0;
        for (int j = 0; j < 16; j++) {
            const int v0 = (int)((x[i].qs[j] & 0x0F) | (((qh >> j) & 1) << 4)) - 16;
            const int v1 = (int)((x[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - 16;
            s += v0 * y[i].qs[j] + v1 * y[i].qs[j + 16];
        }
        sum = fmaf((float)s, pk_h2f(x[i].d) * pk_h2f(y[i].d), sum);
    }
    return sum;
}

static float dot_q5_1_ref(int64_t n, const void *w, const void *a) {
    const pk_block_q5_1 *x = w;
    const pk_block_q8_1 *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / 32; i++) {
        const uint32_t qh = load_u32(x[i].qh);
        int s = 0;
        for (int j = 0; j < 16; j++) {
            const int v0 = (int)((x[i].qs[j] & 0x0F) | (((qh >> j) & 1) << 4));
            const int v1 = (int)((x[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4));
            s += v0 * y[i].qs[j] + v1 * y[i].qs[j + 16];
        }
        sum = fmaf((float)s, pk_h2f(x[i].d) * pk_h2f(y[i].d), sum);
        sum = fmaf(pk_h2f(x[i].m), pk_h2f(y[i].s), sum);
    }
    return sum;
}

static float dot_q8_0_ref(int64_t n, const void *w, const void *a) {
    const pk_block_q8_0 *x = w;
    const pk_block_q8_0 *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / 32; i++) {
        int s = 0;
        for (int j = 0; j < 32; j++) s += x[i].qs[j] * y[i].qs[j];
        sum = fmaf((float)s, pk_h2f(x[i].d) * pk_h2f(y[i].d), sum);
    }
    return sum;
}

static float dot_q4_K_ref(int64_t n, const void *w, const void *a) {
    const pk_block_q4_K *x = w;
    const pk_block_q8_K *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / 256; i++) {
        uint8_t sc[8], mn[8];
        pk_unpack_k4_scales(x[i].scales, sc, mn);
        int sumi = 0, summ = 0;
        const uint8_t *q = x[i].qs;
        const int8_t *a8 = y[i].qs;
        for (int c = 0; c < 4; c++, q += 32, a8 += 64) {
            int s1 = 0, s2 = 0;
            for (int l = 0; l < 32; l++) {
                s1 += (q[l] & 0x0F) * a8[l];
                s2 += (q[l] >> 4) * a8[l + 32];
            }
            sumi += sc[2 * c] * s1 + sc[2 * c + 1] * s2;
        }
        for (int j = 0; j < 8; j++) summ += mn[j] * (y[i].bsums[2 * j] + y[i].bsums[2 * j + 1]);
        sum = fmaf((float)sumi, pk_h2f(x[i].d) * y[i].d, sum);
        sum = fmaf(-(float)summ, pk_h2f(x[i].dmin) * y[i].d, sum);
    }
    return sum;
}

static float dot_q5_K_ref(int64_t n, const void *w, const void *a) {
    const pk_block_q5_K *x = w;
    const pk_block_q8_K *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / 256; i++) {
        uint8_t sc[8], mn[8];
        pk_unpack_k4_scales(x[i].scales, sc, mn);
        int sumi = 0, summ = 0;
        const uint8_t *q = x[i].qs, *qh = x[i].qh;
        const int8_t *a8 = y[i].qs;
        for (int c = 0; c < 4; c++, q += 32, a8 += 64) {
            int s1 = 0, s2 = 0;
            for (int l = 0; l < 32; l++) {
                const int v1 = (q[l] & 0x0F) + (((qh[l] >> (2 * c)) & 1) << 4);
                const int v2 = (q[l] >> 4) + (((qh[l] >> (2 * c + 1)) & 1) << 4);
                s1 += v1 * a8[l];
                s2 += v2 * a8[l + 32];
            }
            sumi += sc[2 * c] * s1 + sc[2 * c + 1] * s2;
        }
        for (int j = 0; j < 8; j++) summ += mn[j] * (y[i].bsums[2 * j] + y[i].bsums[2 * j + 1]);
        sum = fmaf((float)sumi, pk_h2f(x[i].d) * y[i].d, sum);
        sum = fmaf(-(float)summ, pk_h2f(x[i].dmin) * y[i].d, sum);
    }
    return sum;
}

static float dot_q6_K_ref(int64_t n, const void *w, const void *a) {
    const pk_block_q6_K *x = w;
    const pk_block_q8_K *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / 256; i++) {
        const uint8_t *ql = x[i].ql, *qh = x[i].qh;
        const int8_t *sc = x[i].scales;
        const int8_t *a8 = y[i].qs;
        int sumi = 0;
        for (int half = 0; half < 2; half++) {
            int g[8] = {0};
            for (int l = 0; l < 32; l++) {
                const int is = l / 16;
                const int q1 = (int)((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = (int)((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = (int)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = (int)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                g[is] += q1 * a8[l];
                g[is + 2] += q2 * a8[l + 32];
                g[is + 4] += q3 * a8[l + 64];
                g[is + 6] += q4 * a8[l + 96];
            }
            for (int k = 0; k < 8; k++) sumi += sc[k] * g[k];
            ql += 64;
            qh += 32;
            sc += 8;
            a8 += 128;
        }
        sum = fmaf((float)sumi, pk_h2f(x[i].d) * y[i].d, sum);
    }
    return sum;
}

static float dot_f32_ref(int64_t n, const void *w, const void *a) {
    const float *x = w, *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) sum += x[i] * y[i];
    return sum;
}

static float dot_f16_ref(int64_t n, const void *w, const void *a) {
    const uint16_t *x = w;
    const float *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) sum += pk_h2f(x[i]) * y[i];
    return sum;
}

static float dot_bf16_ref(int64_t n, const void *w, const void *a) {
    const uint16_t *x = w;
    const float *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) sum += pk_bf2f(x[i]) * y[i];
    return sum;
}

// ---------------------------------------------------------------- matvec / matmul built on vec_dot

#define PK_DEFINE_GENERIC_MV_MM(T)                                                                              \
    static void matvec_##T##_ref(int64_t n, const void *W, size_t rs, int64_t nrows, const void *x, float *out) { \
        for (int64_t r = 0; r < nrows; r++) out[r] = dot_##T##_ref(n, (const char *)W + (size_t)r * rs, x);   \
    }                                                                                                          \
    static void matmul_##T##_ref(int64_t n, const void *W, size_t rs, int64_t nrows, const void *X, size_t xs, \
                                 int64_t ncols, float *Y, size_t ys) {                                         \
        for (int64_t r = 0; r < nrows; r++) {                                                                  \
            const void *wr = (const char *)W + (size_t)r * rs;                                                 \
            for (int64_t c = 0; c < ncols; c++)                                                                \
                Y[(size_t)c * ys + (size_t)r] = dot_##T##_ref(n, wr, (const char *)X + (size_t)c * xs);        \
        }                                                                                                      \
    }

PK_DEFINE_GENERIC_MV_MM(q4_0)
PK_DEFINE_GENERIC_MV_MM(q4_1)
PK_DEFINE_GENERIC_MV_MM(q5_0)
PK_DEFINE_GENERIC_MV_MM(q5_1)
PK_DEFINE_GENERIC_MV_MM(q8_0)
PK_DEFINE_GENERIC_MV_MM(q4_K)
PK_DEFINE_GENERIC_MV_MM(q5_K)
PK_DEFINE_GENERIC_MV_MM(q6_K)
PK_DEFINE_GENERIC_MV_MM(f32)
PK_DEFINE_GENERIC_MV_MM(f16)
PK_DEFINE_GENERIC_MV_MM(bf16)

// ---------------------------------------------------------------- fused activations, F16 attention loops

float pk_silu_ref1(float g) { return g / (1.0f + expf(-g)); }

float pk_gelu_tanh_ref1(float g) {
    const float z = PK_GELU_K * (g + PK_GELU_C * g * g * g);
    return g / (1.0f + expf(-2.0f * z));
}

static void silu_mul_ref(float *gate, const float *up, int64_t n) {
    for (int64_t i = 0; i < n; i++) gate[i] = pk_silu_ref1(gate[i]) * up[i];
}

static void gelu_tanh_mul_ref(float *gate, const float *up, int64_t n) {
    for (int64_t i = 0; i < n; i++) gate[i] = pk_gelu_tanh_ref1(gate[i]) * up[i];
}

static float dot_f32_f16_ref(const float *q, const uint16_t *k, int64_t n) {
    float s = 0.0f;
    for (int64_t i = 0; i < n; i++) s += q[i] * pk_h2f(k[i]);
    return s;
}

static void axpy_f16_ref(float a, const uint16_t *v, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] += a * pk_h2f(v[i]);
}

void pk_fill_table_ref(pk_kernel_table *t) {
    t->silu_mul = silu_mul_ref;
    t->gelu_tanh_mul = gelu_tanh_mul_ref;
    t->dot_f32_f16 = dot_f32_f16_ref;
    t->axpy_f16 = axpy_f16_ref;
#define SET(ID, T)                        \
    t->vec_dot[ID] = dot_##T##_ref;       \
    t->matvec[ID] = matvec_##T##_ref;     \
    t->matmul[ID] = matmul_##T##_ref;
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
    t->quantize[PK_Q8_0] = quant_q8_0_ref;
    t->quantize[PK_Q8_1] = quant_q8_1_ref;
    t->quantize[PK_Q8_K] = quant_q8_K_ref;
    t->quantize[PK_F32] = quant_f32_copy;
}

// ---------------------------------------------------------------- weight quantizer and top-k (for the LM-head sketch)

void pk_quantize_weights_q4_0(const float *x, void *dst, int64_t n) {
    pk_block_q4_0 *y = dst;
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        // The value of largest magnitude maps to -8, so the full 4-bit range is used on its side.
        float extreme = 0.0f;
        for (int j = 0; j < 32; j++)
            if (fabsf(x[j]) > fabsf(extreme)) extreme = x[j];
        const float d = extreme / -8.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = pk_f2h(d);
        for (int j = 0; j < 16; j++) {
            int lo = (int)(x[j] * id + 8.5f), hi = (int)(x[j + 16] * id + 8.5f);
            lo = lo < 0 ? 0 : lo > 15 ? 15 : lo;
            hi = hi < 0 ? 0 : hi > 15 ? 15 : hi;
            y[i].qs[j] = (uint8_t)(lo | (hi << 4));
        }
    }
}

// A min-heap of (value, index) on the k best so far; most values fail the first comparison with its root.
static void sift_down(float *v, int32_t *id, int32_t k, int32_t i) {
    for (;;) {
        int32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < k && v[l] < v[m]) m = l;
        if (r < k && v[r] < v[m]) m = r;
        if (m == i) return;
        const float tv = v[i]; v[i] = v[m]; v[m] = tv;
        const int32_t ti = id[i]; id[i] = id[m]; id[m] = ti;
        i = m;
    }
}

int32_t pk_top_k(const float *x, int64_t n, int32_t k, float *scratch, int32_t *ids) {
    if (k > n) k = (int32_t)n;
    if (k <= 0) return 0;
    for (int32_t i = 0; i < k; i++) { scratch[i] = x[i]; ids[i] = i; }
    for (int32_t i = k / 2 - 1; i >= 0; i--) sift_down(scratch, ids, k, i);
    for (int64_t i = k; i < n; i++) {
        if (x[i] > scratch[0]) {
            scratch[0] = x[i];
            ids[0] = (int32_t)i;
            sift_down(scratch, ids, k, 0);
        }
    }
    return k;
}
