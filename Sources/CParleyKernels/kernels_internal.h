// Private declarations shared by the reference, AVX2 and AVX-512 kernel files and the dispatcher.
#ifndef PARLEY_KERNELS_INTERNAL_H
#define PARLEY_KERNELS_INTERNAL_H

#include "parley_kernels.h"
#include <stdint.h>
#include <string.h>

// Float expressions are evaluated exactly as written in every kernel file (after the includes): no FMA contraction
// of a*b+c, no reassociation. The canonical dot-product order (parley_kernels.h) depends on it.
#if defined(__FAST_MATH__) || defined(__ASSOCIATIVE_MATH__)
#error "CParleyKernels must not be compiled with fast-math: results must be bit-reproducible"
#endif
#if defined(__clang__)
#define PK_FP_STRICT _Pragma("STDC FP_CONTRACT OFF") _Pragma("clang fp contract(off)") _Pragma("clang fp reassociate(off)")
#elif defined(__GNUC__)
#define PK_FP_STRICT _Pragma("STDC FP_CONTRACT OFF")
#else
#define PK_FP_STRICT
#endif

// ---- Block layouts (ggml / GGUF). All fields little-endian, structs packed to the byte. ----
#define PK_QK 32
#define PK_QKK 256

typedef struct { uint16_t d; uint8_t qs[16]; } pk_block_q4_0;
typedef struct { uint16_t d; uint16_t m; uint8_t qs[16]; } pk_block_q4_1;
typedef struct { uint16_t d; uint8_t qh[4]; uint8_t qs[16]; } pk_block_q5_0;
typedef struct { uint16_t d; uint16_t m; uint8_t qh[4]; uint8_t qs[16]; } pk_block_q5_1;
typedef struct { uint16_t d; int8_t qs[32]; } pk_block_q8_0;
typedef struct { uint16_t d; uint16_t s; int8_t qs[32]; } pk_block_q8_1;
typedef struct { uint16_t d; uint16_t dmin; uint8_t scales[12]; uint8_t qs[128]; } pk_block_q4_K;
typedef struct { uint16_t d; uint16_t dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128]; } pk_block_q5_K;
typedef struct { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; uint16_t d; } pk_block_q6_K;
typedef struct { float d; int8_t qs[256]; int16_t bsums[16]; } pk_block_q8_K;

_Static_assert(sizeof(pk_block_q4_0) == 18, "q4_0");
_Static_assert(sizeof(pk_block_q4_1) == 20, "q4_1");
_Static_assert(sizeof(pk_block_q5_0) == 22, "q5_0");
_Static_assert(sizeof(pk_block_q5_1) == 24, "q5_1");
_Static_assert(sizeof(pk_block_q8_0) == 34, "q8_0");
_Static_assert(sizeof(pk_block_q8_1) == 36, "q8_1");
_Static_assert(sizeof(pk_block_q4_K) == 144, "q4_K");
_Static_assert(sizeof(pk_block_q5_K) == 176, "q5_K");
_Static_assert(sizeof(pk_block_q6_K) == 210, "q6_K");
_Static_assert(sizeof(pk_block_q8_K) == 292, "q8_K");

// ---- Scalar half / bfloat16 conversions (bit exact, round-to-nearest-even). ----
static inline float pk_h2f(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1Fu;
    uint32_t man = h & 0x3FFu;
    uint32_t bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else {  // subnormal: renormalise
            int e = -1;
            do { man <<= 1; e++; } while ((man & 0x400u) == 0);
            man &= 0x3FFu;
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | (man << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7F800000u | (man << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline uint16_t pk_f2h(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t ax = x & 0x7FFFFFFFu;
    if (ax >= 0x7F800000u) {  // inf or nan
        return (uint16_t)(sign | 0x7C00u | (ax > 0x7F800000u ? (0x200u | ((ax >> 13) & 0x3FFu)) : 0));
    }
    if (ax >= 0x477FF000u) return (uint16_t)(sign | 0x7C00u);  // rounds to >= 65520 -> inf
    if (ax < 0x38800000u) {  // result is subnormal or zero (|f| < 2^-14)
        if (ax < 0x33000000u) return (uint16_t)sign;  // < 2^-25 rounds to zero
        uint32_t e = ax >> 23;
        uint32_t m = (ax & 0x7FFFFFu) | 0x800000u;
        uint32_t shift = 126 - e;  // 14 - (e - 127) + 13 - 1 ... bits to drop
        // value = m * 2^(e-150); half subnormal unit = 2^-24 -> q = m * 2^(e-126)
        uint32_t drop = shift;  // number of low bits dropped from m
        uint32_t q = m >> drop;
        uint32_t rem = m & ((1u << drop) - 1);
        uint32_t half = 1u << (drop - 1);
        if (rem > half || (rem == half && (q & 1))) q++;
        return (uint16_t)(sign | q);
    }
    // normal: rebias exponent, round mantissa to 10 bits (carry may bump the exponent, which is correct)
    uint32_t r = ax - 0x38000000u;  // exponent 127 -> 15
    uint32_t q = r >> 13;
    uint32_t rem = r & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (q & 1))) q++;
    return (uint16_t)(sign | q);
}

static inline float pk_bf2f(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

// Unpacks the 8 six-bit scales and mins of a Q4_K / Q5_K block (12 bytes).
static inline void pk_unpack_k4_scales(const uint8_t *s, uint8_t sc[8], uint8_t mn[8]) {
    for (int j = 0; j < 4; j++) {
        sc[j] = s[j] & 63;
        mn[j] = s[j + 4] & 63;
        sc[j + 4] = (uint8_t)((s[j + 8] & 0x0F) | ((s[j] >> 6) << 4));
        mn[j + 4] = (uint8_t)((s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4));
    }
}

// Same, as two little-endian 32-bit words of packed bytes each (sc[0..3],sc[4..7]) / (mn[0..3],mn[4..7]).
static inline void pk_unpack_k4_scales_u32(const uint8_t *s, uint32_t sc[2], uint32_t mn[2]) {
    uint32_t a, b, c;
    memcpy(&a, s, 4);
    memcpy(&b, s + 4, 4);
    memcpy(&c, s + 8, 4);
    sc[0] = a & 0x3F3F3F3Fu;
    mn[0] = b & 0x3F3F3F3Fu;
    sc[1] = (c & 0x0F0F0F0Fu) | ((a >> 2) & 0x30303030u);
    mn[1] = ((c >> 4) & 0x0F0F0F0Fu) | ((b >> 2) & 0x30303030u);
}

// ---- Scalar activation functions (the reference; SIMD tails use them too). GELU-tanh as g * sigmoid(2z):
// 0.5 (1 + tanh z) = 1 / (1 + exp(-2z)), which keeps full relative precision where 1 + tanh z cancels.
#define PK_GELU_K 0.7978845608028654f  // sqrt(2/pi)
#define PK_GELU_C 0.044715f
float pk_silu_ref1(float g);
float pk_gelu_tanh_ref1(float g);

// ---- Kernel signatures used by the dispatch table. W points at the first row to compute, out/Y at its result. ----
typedef float (*pk_vec_dot_fn)(int64_t n, const void *w, const void *x);
typedef void (*pk_matvec_fn)(int64_t n, const void *W, size_t row_stride, int64_t nrows, const void *x, float *out);
typedef void (*pk_matmul_fn)(int64_t n, const void *W, size_t row_stride, int64_t nrows, const void *X,
                             size_t x_stride, int64_t ncols, float *Y, size_t y_stride);
typedef void (*pk_quantize_fn)(const float *src, void *dst, int64_t n);
typedef void (*pk_act_fn)(float *gate, const float *up, int64_t n);
typedef float (*pk_dot_f16_fn)(const float *q, const uint16_t *k, int64_t n);
typedef void (*pk_axpy_f16_fn)(float a, const uint16_t *v, float *y, int64_t n);

#define PK_NTYPES 31

typedef struct {
    pk_vec_dot_fn vec_dot[PK_NTYPES];
    pk_matvec_fn matvec[PK_NTYPES];
    pk_matmul_fn matmul[PK_NTYPES];
    pk_quantize_fn quantize[PK_NTYPES];  // indexed by activation type: Q8_0, Q8_1, Q8_K
    pk_act_fn silu_mul;
    pk_act_fn gelu_tanh_mul;
    pk_dot_f16_fn dot_f32_f16;
    pk_axpy_f16_fn axpy_f16;
} pk_kernel_table;

// Each ISA file fills the entries it implements; missing entries inherit from the lower ISA.
void pk_fill_table_ref(pk_kernel_table *t);
void pk_fill_table_avx2(pk_kernel_table *t);
void pk_fill_table_avx512(pk_kernel_table *t);

// Reference dequantizers (used directly by pk_dequantize_row).
void pk_dequantize_ref(pk_type type, const void *src, float *dst, int64_t n);

#endif
