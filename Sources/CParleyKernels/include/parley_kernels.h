// Parley's innermost kernels: quantized block formats (ggml-compatible layouts), activation quantizers and
// integer dot products / matrix-vector / matrix-matrix products.
//
// Every operation has a portable scalar reference; AVX2 and AVX-512 VNNI variants with the same signature sit
// beside it and one dispatch table (chosen at first use from the CPU, or forced with PARLEY_ISA=scalar|avx2|
// avx512) picks among them. Only hot loops live here; everything else is Swift.
#ifndef PARLEY_KERNELS_H
#define PARLEY_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Tensor element types; the numbers are ggml's `ggml_type` ids as stored in GGUF.
typedef enum {
    PK_F32 = 0,
    PK_F16 = 1,
    PK_Q4_0 = 2,
    PK_Q4_1 = 3,
    PK_Q5_0 = 6,
    PK_Q5_1 = 7,
    PK_Q8_0 = 8,
    PK_Q8_1 = 9,
    PK_Q4_K = 12,
    PK_Q5_K = 13,
    PK_Q6_K = 14,
    PK_Q8_K = 15,
    PK_BF16 = 30,
} pk_type;

typedef enum {
    PK_ISA_SCALAR = 0,
    PK_ISA_AVX2 = 1,
    PK_ISA_AVX512_VNNI = 2,
} pk_isa;

/// The instruction set the dispatch table uses (detected once; PARLEY_ISA overrides).
pk_isa pk_active_isa(void);
/// Forces an instruction set for the calling thread only (tests compare sets without disturbing other threads);
/// one the CPU lacks falls back to the best supported below it. Returns the set actually chosen.
pk_isa pk_force_isa(pk_isa isa);
const char *pk_isa_name(pk_isa isa);

/// 1 if the type is supported by these kernels (as weights; Q8_1/Q8_K are activation-only but dequantizable).
int pk_type_supported(int type);
/// Elements per block (1 for float types) and bytes per block.
int64_t pk_block_elements(pk_type type);
int64_t pk_block_bytes(pk_type type);
/// Bytes of a row of n elements (n a multiple of the block size).
size_t pk_row_bytes(pk_type type, int64_t n);

/// The activation format a weight type's dot product consumes:
/// Q4_0/Q5_0/Q8_0 → Q8_0; Q4_1/Q5_1 → Q8_1; Q4_K/Q5_K/Q6_K → Q8_K; F32/F16/BF16 → F32 (no quantization).
pk_type pk_vec_dot_type(pk_type weight_type);

/// Dequantizes n elements (a multiple of the block size) of `src` into `dst`.
void pk_dequantize_row(pk_type type, const void *src, float *dst, int64_t n);
/// Quantizes n floats into `dst` in an activation format (Q8_0, Q8_1 or Q8_K; F32 copies).
void pk_quantize_row(pk_type dot_type, const float *src, void *dst, int64_t n);

/// Quantizes n weights (a multiple of 32) to Q4_0 blocks (ggml's rounding: the largest magnitude maps to -8).
void pk_quantize_weights_q4_0(const float *src, void *dst, int64_t n);

/// Indices of the k largest of x[0..<n] (k ≤ n), in no particular order; `scratch` holds k floats. Returns k.
int32_t pk_top_k(const float *x, int64_t n, int32_t k, float *scratch, int32_t *ids);

/// Canonical result of a quantized dot product (batch invariance). For a given ISA, the value for (weight row,
/// activation column) is bit-identical whichever entry point computes it (pk_vec_dot, pk_matvec, pk_matmul with any
/// number of columns, at any position in the batch, over any row range / thread split). Every block's integer sum is
/// exact; the floats are combined, for every path, as one sequential chain over the row's blocks in order:
///
///   acc = +0
///   for each block b (32 elements; 256 for K-quants), in increasing order:
///     Q4_0, Q5_0, Q8_0:  acc = fmaf((float)isum_b, dw_b * dx_b, acc)
///     Q4_1, Q5_1:        acc = fmaf((float)isum_b, dw_b * dx_b, acc); acc = fmaf(m_b, s_b, acc)
///     Q4_K, Q5_K:        acc = fmaf((float)isum_b, d_b * dx_b, acc); acc = fmaf(-(float)summ_b, dmin_b * dx_b, acc)
///     Q6_K:              acc = fmaf((float)isum_b, d_b * dx_b, acc)
///   result = acc
///
/// where isum_b is the exact integer Σ q·x of the block (for K-quants with the int sub-block scales applied, and for
/// Q6_K with the -32 offset), summ_b = Σ_j min_j · (bsums_2j + bsums_2j+1), dw/d/dmin/m the weight block's f16
/// fields, dx the activation block's scale (f16, or the float d of Q8_K) and s the Q8_1 block's f16 sum; every
/// product a*b is rounded to float before its fmaf, conversions round to nearest. The scalar reference spells this
/// order out; the SIMD paths vectorise it across rows (lane r = row r), never across blocks, so they give the same
/// bits as the reference wherever the hardware has FMA (all x86 paths here). F32/F16/BF16 weights: every path of an
/// ISA computes a (row, column) with the same per-ISA dot routine (bit-identical within the ISA, not across ISAs).
///
/// Dot product of one weight row (type `type`, n elements) with one activation row already quantized to
/// pk_vec_dot_type(type).
float pk_vec_dot(pk_type type, int64_t n, const void *weight_row, const void *activation_row);

/// out[r] = dot(W[row_begin + r], x) for r in [0, row_end - row_begin).
/// W rows are `row_stride` bytes apart; x is one activation row quantized to pk_vec_dot_type(type).
/// `out` points at the result for row_begin. Callers split [0, rows) across threads.
void pk_matvec(pk_type type, int64_t n, const void *W, size_t row_stride, int64_t row_begin, int64_t row_end,
               const void *x, float *out);

/// Y[c][row] = dot(W[row], X[c]) for c in [0, ncols), row in [row_begin, row_end).
/// X holds ncols activation rows (quantized to pk_vec_dot_type(type)), `x_stride` bytes apart;
/// Y rows are `y_stride` floats apart (Y[c] + row is written). Reuses each weight block across columns
/// (prefill / batched decode).
void pk_matmul(pk_type type, int64_t n, const void *W, size_t row_stride, int64_t row_begin, int64_t row_end,
               const void *X, size_t x_stride, int64_t ncols, float *Y, size_t y_stride);

/// Row-interleaved weights: the blocks of 16 consecutive rows side by side (layout in kernels_interleaved.c), so
/// the SIMD kernels compute 16 rows per instruction without per-block horizontal sums. Same bytes as the file
/// layout, packed once at load; every result is bit-identical to pk_matmul on the file layout (same canonical
/// chain). Supported: Q4_0, Q4_1, Q5_0, Q8_0 weights with rows a multiple of 16 and n a multiple of 32, n <= 16384;
/// Q6_K with rows a multiple of 16 (its activations are Q8_K, as for pk_matmul).
int pk_interleavable(pk_type type, int64_t n, int64_t rows);
/// Packs `rows` file-layout rows (row_stride bytes apart) into dst, which holds rows * pk_row_bytes(type, n) bytes.
void pk_interleave_weights(pk_type type, int64_t n, const void *W, size_t row_stride, int64_t rows, void *dst);
/// Y[c][row] = dot(row, X[c]) for row in [row_begin, row_end) (both multiples of 16) of the interleaved matrix P,
/// c in [0, ncols); X, Y as for pk_matmul (one column is a matrix-vector product).
void pk_interleaved_matmul(pk_type type, int64_t n, const void *P, int64_t row_begin, int64_t row_end, const void *X,
                           size_t x_stride, int64_t ncols, float *Y, size_t y_stride);
/// Rewrites n Q4_K weights (a multiple of 256) as Q4_1 blocks, one per 32-element sub-block: the same 4-bit
/// codes with scale f16(d · sc) and offset f16(−dmin · min), so the interleaved Q4_1 kernels can run them (the
/// scales round to f16: a relative change of at most 2^-11 in each, far below the 4-bit codes' own error).
void pk_convert_q4_K_to_q4_1(const void *src, void *dst, int64_t n);
/// Row `row` of the interleaved matrix P as floats (equal to pk_dequantize_row on the file layout).
void pk_interleaved_dequantize_row(pk_type type, int64_t n, const void *P, int64_t row, float *dst);

/// Fused gated activations for the MLP, in place on `gate` (n any length; gate and up must not overlap):
///   pk_silu_mul:      gate[i] = gate[i] / (1 + exp(-gate[i])) * up[i]
///   pk_gelu_tanh_mul: gate[i] = 0.5 * g * (1 + tanh(sqrt(2/pi) * (g + 0.044715 g^3))) * up[i], g = gate[i]
/// Accurate to a few float ulps of the exact value (the GELU is evaluated as g / (1 + exp(-2z)), which equals the
/// tanh form and keeps its precision for large negative g); finite for every finite input.
void pk_silu_mul(float *gate, const float *up, int64_t n);
void pk_gelu_tanh_mul(float *gate, const float *up, int64_t n);

/// Attention inner loops over F16 K/V rows (IEEE half bit patterns):
///   pk_dot_f32_f16: Σ q[i] * k[i]
///   pk_axpy_f16:    y[i] += a * v[i]
float pk_dot_f32_f16(const float *q, const uint16_t *k, int64_t n);
void pk_axpy_f16(float a, const uint16_t *v, float *y, int64_t n);

/// IEEE half <-> float for n values.
void pk_f16_to_f32(const uint16_t *src, float *dst, int64_t n);
void pk_f32_to_f16(const float *src, uint16_t *dst, int64_t n);

#ifdef __cplusplus
}
#endif

#endif
