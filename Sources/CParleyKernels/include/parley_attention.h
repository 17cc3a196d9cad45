// Attention inner loops over an F16 KV cache, a block of cached positions at a time.
#ifndef PARLEY_ATTENTION_H
#define PARLEY_ATTENTION_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// scores[r] = scale · Σᵢ q[i]·k[r·stride + i] for r < rows (k holds IEEE half values; stride in elements).
void pk_attn_scores_f16(const float *q, const uint16_t *k, size_t stride, int64_t rows, int64_t n, float scale,
                        float *scores);

/// y[i] += Σ_r w[r]·v[r·stride + i] for i < n (v holds IEEE half values; stride in elements).
void pk_attn_accumulate_f16(const float *w, const uint16_t *v, size_t stride, int64_t rows, int64_t n, float *y);

/// The query heads that share one KV head, in one pass over its rows (each row is loaded and widened once):
/// scores[h·score_stride + r] = scale · Σᵢ q[h·q_stride + i]·k[r·stride + i] for h < heads. Each head's result
/// is bit-identical to pk_attn_scores_f16 on that head alone.
void pk_attn_scores_f16_heads(const float *q, size_t q_stride, int64_t heads, const uint16_t *k, size_t stride,
                              int64_t rows, int64_t n, float scale, float *scores, size_t score_stride);

/// y[h·y_stride + i] += Σ_r w[h·w_stride + r]·v[r·stride + i] for h < heads, each head bit-identical to
/// pk_attn_accumulate_f16 on that head alone.
void pk_attn_accumulate_f16_heads(const float *w, size_t w_stride, int64_t heads, const uint16_t *v, size_t stride,
                                  int64_t rows, int64_t n, float *y, size_t y_stride);

#ifdef __cplusplus
}
#endif

#endif
