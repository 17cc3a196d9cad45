// Element-wise loops of LoRA training (ParleyTraining), vectorised: softmax exponentials and the gated MLP
// activations with their derivatives. AVX2+FMA when the CPU has it (chosen at run time), scalar otherwise.
#ifndef PARLEY_TRAINING_H
#define PARLEY_TRAINING_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// x[i] = exp(x[i] - shift) for i < n; returns Σ x[i] (accumulated in float lanes).
float pk_train_exp_shift_sum(float *x, int64_t n, float shift);

/// Largest of x[0..<n] (n ≥ 1).
float pk_train_max(const float *x, int64_t n);

/// x[i] *= a for i < n.
void pk_train_scale(float *x, int64_t n, float a);

/// The MLP's gated activation, act = f(gate) ⊙ up, with f = silu (gelu == 0) or the tanh GELU (gelu == 1).
void pk_train_gated_forward(int gelu, const float *gate, const float *up, float *act, int64_t n);

/// Its backward: dgate = dact ⊙ up ⊙ f'(gate), dup = dact ⊙ f(gate).
void pk_train_gated_backward(int gelu, const float *gate, const float *up, const float *dact, float *dgate, float *dup,
                             int64_t n);

#ifdef __cplusplus
}
#endif

#endif
