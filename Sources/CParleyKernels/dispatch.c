// Public entry points: one dispatch table, chosen at first use from the CPU (PARLEY_ISA overrides) or forced.
#include "kernels_internal.h"
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static pk_kernel_table g_tables[3];
static atomic_int g_tables_ready = 0;  // 0 = not built, 1 = building, 2 = ready
static _Atomic(const pk_kernel_table *) g_active = NULL;
static atomic_int g_active_isa = PK_ISA_SCALAR;

static int cpu_supports(pk_isa isa) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    switch (isa) {
    case PK_ISA_SCALAR: return 1;
    case PK_ISA_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    case PK_ISA_AVX512_VNNI:
        return cpu_supports(PK_ISA_AVX2) && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
    }
    return 0;
#else
    return isa == PK_ISA_SCALAR;
#endif
}

static void build_tables(void) {
    int expected = 0;
    if (atomic_compare_exchange_strong(&g_tables_ready, &expected, 1)) {
        memset(g_tables, 0, sizeof(g_tables));
        pk_fill_table_ref(&g_tables[PK_ISA_SCALAR]);
        g_tables[PK_ISA_AVX2] = g_tables[PK_ISA_SCALAR];
#if defined(__x86_64__)
        pk_fill_table_avx2(&g_tables[PK_ISA_AVX2]);
#endif
        g_tables[PK_ISA_AVX512_VNNI] = g_tables[PK_ISA_AVX2];
#if defined(__x86_64__)
        pk_fill_table_avx512(&g_tables[PK_ISA_AVX512_VNNI]);
#endif
        atomic_store(&g_tables_ready, 2);
    } else {
        while (atomic_load(&g_tables_ready) != 2) { /* another thread is filling the tables */ }
    }
}

static pk_isa clamp_isa(pk_isa isa) {
    if (isa > PK_ISA_AVX512_VNNI) isa = PK_ISA_AVX512_VNNI;
    if (isa < PK_ISA_SCALAR) isa = PK_ISA_SCALAR;
    while (isa > PK_ISA_SCALAR && !cpu_supports(isa)) isa = (pk_isa)(isa - 1);
    return isa;
}

// A test's forced choice applies to its own thread only, so tests that compare instruction sets cannot change
// the kernels under an engine running concurrently in the same process.
static _Thread_local const pk_kernel_table *t_forced = NULL;
static _Thread_local pk_isa t_forced_isa = PK_ISA_SCALAR;

static const pk_kernel_table *table(void) {
    if (__builtin_expect(t_forced != NULL, 0)) return t_forced;
    const pk_kernel_table *t = atomic_load_explicit(&g_active, memory_order_acquire);
    if (__builtin_expect(t != NULL, 1)) return t;
    pk_isa want = PK_ISA_AVX512_VNNI;
    const char *env = getenv("PARLEY_ISA");
    if (env != NULL) {
        if (strcmp(env, "scalar") == 0) want = PK_ISA_SCALAR;
        else if (strcmp(env, "avx2") == 0) want = PK_ISA_AVX2;
        else if (strcmp(env, "avx512") == 0) want = PK_ISA_AVX512_VNNI;
    }
    // Racing first users compute the same choice; whoever stores last stores the same pointer.
    build_tables();
    pk_isa isa = clamp_isa(want);
    const pk_kernel_table *chosen = &g_tables[isa];
    const pk_kernel_table *none = NULL;
    if (atomic_compare_exchange_strong(&g_active, &none, chosen)) atomic_store(&g_active_isa, (int)isa);
    return atomic_load(&g_active);
}

pk_isa pk_active_isa(void) {
    if (t_forced != NULL) return t_forced_isa;
    (void)table();
    return (pk_isa)atomic_load(&g_active_isa);
}

pk_isa pk_force_isa(pk_isa isa) {
    build_tables();
    t_forced_isa = clamp_isa(isa);
    t_forced = &g_tables[t_forced_isa];
    return t_forced_isa;
}

const char *pk_isa_name(pk_isa isa) {
    switch (isa) {
    case PK_ISA_SCALAR: return "scalar";
    case PK_ISA_AVX2: return "avx2";
    case PK_ISA_AVX512_VNNI: return "avx512";
    }
    return "unknown";
}

int pk_type_supported(int type) {
    switch (type) {
    case PK_F32: case PK_F16: case PK_BF16: case PK_Q4_0: case PK_Q4_1: case PK_Q5_0: case PK_Q5_1: case PK_Q8_0:
    case PK_Q8_1: case PK_Q4_K: case PK_Q5_K: case PK_Q6_K: case PK_Q8_K:
        return 1;
    default: return 0;
    }
}

int64_t pk_block_elements(pk_type type) {
    switch (type) {
    case PK_F32: case PK_F16: case PK_BF16: return 1;
    case PK_Q4_0: case PK_Q4_1: case PK_Q5_0: case PK_Q5_1: case PK_Q8_0: case PK_Q8_1: return 32;
    case PK_Q4_K: case PK_Q5_K: case PK_Q6_K: case PK_Q8_K: return 256;
    }
    return 0;
}

int64_t pk_block_bytes(pk_type type) {
    switch (type) {
    case PK_F32: return 4;
    case PK_F16: case PK_BF16: return 2;
    case PK_Q4_0: return sizeof(pk_block_q4_0);
    case PK_Q4_1: return sizeof(pk_block_q4_1);
    case PK_Q5_0: return sizeof(pk_block_q5_0);
    case PK_Q5_1: return sizeof(pk_block_q5_1);
    case PK_Q8_0: return sizeof(pk_block_q8_0);
    case PK_Q8_1: return sizeof(pk_block_q8_1);
    case PK_Q4_K: return sizeof(pk_block_q4_K);
    case PK_Q5_K: return sizeof(pk_block_q5_K);
    case PK_Q6_K: return sizeof(pk_block_q6_K);
    case PK_Q8_K: return sizeof(pk_block_q8_K);
    }
    return 0;
}

size_t pk_row_bytes(pk_type type, int64_t n) {
    const int64_t be = pk_block_elements(type);
    if (be == 0) return 0;
    return (size_t)(n / be) * (size_t)pk_block_bytes(type);
}

pk_type pk_vec_dot_type(pk_type w) {
    switch (w) {
    case PK_Q4_0: case PK_Q5_0: case PK_Q8_0: return PK_Q8_0;
    case PK_Q4_1: case PK_Q5_1: return PK_Q8_1;
    case PK_Q4_K: case PK_Q5_K: case PK_Q6_K: return PK_Q8_K;
    default: return PK_F32;
    }
}

void pk_dequantize_row(pk_type type, const void *src, float *dst, int64_t n) {
    if (type == PK_F16) {
        pk_f16_to_f32(src, dst, n);
        return;
    }
    pk_dequantize_ref(type, src, dst, n);
}

void pk_quantize_row(pk_type dot_type, const float *src, void *dst, int64_t n) {
    if ((unsigned)dot_type >= PK_NTYPES) return;
    pk_quantize_fn f = table()->quantize[dot_type];
    if (f) f(src, dst, n);
}

float pk_vec_dot(pk_type type, int64_t n, const void *w, const void *x) {
    if ((unsigned)type >= PK_NTYPES) return 0.0f;
    pk_vec_dot_fn f = table()->vec_dot[type];
    return f ? f(n, w, x) : 0.0f;
}

void pk_matvec(pk_type type, int64_t n, const void *W, size_t row_stride, int64_t row_begin, int64_t row_end,
               const void *x, float *out) {
    if ((unsigned)type >= PK_NTYPES || row_end <= row_begin) return;
    pk_matvec_fn f = table()->matvec[type];
    if (f) f(n, (const char *)W + (size_t)row_begin * row_stride, row_stride, row_end - row_begin, x, out);
}

void pk_matmul(pk_type type, int64_t n, const void *W, size_t row_stride, int64_t row_begin, int64_t row_end,
               const void *X, size_t x_stride, int64_t ncols, float *Y, size_t y_stride) {
    if ((unsigned)type >= PK_NTYPES || row_end <= row_begin || ncols <= 0) return;
    if (ncols == 1) {  // one column is a matrix-vector product (the matvec kernels also prefetch the weight stream)
        pk_matvec(type, n, W, row_stride, row_begin, row_end, X, Y + row_begin);
        return;
    }
    pk_matmul_fn f = table()->matmul[type];
    if (f)
        f(n, (const char *)W + (size_t)row_begin * row_stride, row_stride, row_end - row_begin, X, x_stride, ncols,
          Y + row_begin, y_stride);
}

void pk_silu_mul(float *gate, const float *up, int64_t n) {
    if (n > 0) table()->silu_mul(gate, up, n);
}

void pk_gelu_tanh_mul(float *gate, const float *up, int64_t n) {
    if (n > 0) table()->gelu_tanh_mul(gate, up, n);
}

float pk_dot_f32_f16(const float *q, const uint16_t *k, int64_t n) { return n > 0 ? table()->dot_f32_f16(q, k, n) : 0.0f; }

void pk_axpy_f16(float a, const uint16_t *v, float *y, int64_t n) {
    if (n > 0) table()->axpy_f16(a, v, y, n);
}

// Half conversions: F16C when the CPU has it, the bit-exact scalar routine otherwise.
#if defined(__x86_64__)
#include <immintrin.h>
__attribute__((target("avx2,f16c"))) static void h2f_f16c(const uint16_t *s, float *d, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(d + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s + i))));
    for (; i < n; i++) d[i] = pk_h2f(s[i]);
}
__attribute__((target("avx2,f16c"))) static void f2h_f16c(const float *s, uint16_t *d, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(d + i), _mm256_cvtps_ph(_mm256_loadu_ps(s + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) d[i] = pk_f2h(s[i]);
}
#endif

void pk_f16_to_f32(const uint16_t *src, float *dst, int64_t n) {
#if defined(__x86_64__)
    if (pk_active_isa() != PK_ISA_SCALAR) {
        h2f_f16c(src, dst, n);
        return;
    }
#endif
    for (int64_t i = 0; i < n; i++) dst[i] = pk_h2f(src[i]);
}

void pk_f32_to_f16(const float *src, uint16_t *dst, int64_t n) {
#if defined(__x86_64__)
    if (pk_active_isa() != PK_ISA_SCALAR) {
        f2h_f16c(src, dst, n);
        return;
    }
#endif
    for (int64_t i = 0; i < n; i++) dst[i] = pk_f2h(src[i]);
}
