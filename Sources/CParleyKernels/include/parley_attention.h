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

#ifdef __cplusplus
}
#endif

#endif
