import CParleyKernels
import Foundation

// Elementwise and reduction kernels over Float rows. Compiled with an x86-64-v3 target, these SIMD loops
// become AVX2/FMA code; they are cheap next to the matrix products, so they stay in Swift.

typealias FloatPointer = UnsafeMutablePointer<Float>

@inline(__always)
func load8(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
    UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always)
func store8(_ v: SIMD8<Float>, _ p: FloatPointer, _ i: Int) {
    UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// Σ x².
@inline(__always)
func sumOfSquares(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD8<Float>(repeating: 0)
    var i = 0
    while i + 8 <= n {
        let v = load8(x, i)
        acc.addProduct(v, v)
        i += 8
    }
    var s = acc.sum()
    while i < n { s += x[i] * x[i]; i += 1 }
    return s
}

/// out = x / sqrt(mean(x²) + eps) * weight  (RMSNorm; `out` may alias `x`).
func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, eps: Float, count n: Int, into out: FloatPointer) {
    let scale = 1 / (sumOfSquares(x, n) / Float(n) + eps).squareRoot()
    var i = 0
    while i + 8 <= n {
        store8(load8(x, i) * scale * load8(weight, i), out, i)
        i += 8
    }
    while i < n { out[i] = x[i] * scale * weight[i]; i += 1 }
}

/// x += y.
func addInPlace(_ x: FloatPointer, _ y: UnsafePointer<Float>, count n: Int) {
    var i = 0
    while i + 8 <= n {
        store8(load8(x, i) + load8(y, i), x, i)
        i += 8
    }
    while i < n { x[i] += y[i]; i += 1 }
}

/// x *= s.
func scaleInPlace(_ x: FloatPointer, by s: Float, count n: Int) {
    var i = 0
    while i + 8 <= n {
        store8(load8(x, i) * s, x, i)
        i += 8
    }
    while i < n { x[i] *= s; i += 1 }
}

/// gate = silu(gate) · up (SwiGLU), vectorised in the kernels module.
@inline(__always)
func siluGate(_ gate: FloatPointer, _ up: UnsafePointer<Float>, count n: Int) {
    pk_silu_mul(gate, up, Int64(n))
}

/// gate = gelu_tanh(gate) · up (GeGLU with the tanh approximation ggml and HF `gelu_pytorch_tanh` use).
@inline(__always)
func geluGate(_ gate: FloatPointer, _ up: UnsafePointer<Float>, count n: Int) {
    pk_gelu_tanh_mul(gate, up, Int64(n))
}

/// log-softmax of logits into `out`.
public func logSoftmax(_ logits: UnsafePointer<Float>, count n: Int, into out: UnsafeMutablePointer<Float>) {
    var maxValue = -Float.infinity
    for i in 0..<n where logits[i] > maxValue { maxValue = logits[i] }
    var sum: Double = 0
    for i in 0..<n { sum += Double(Foundation.exp(logits[i] - maxValue)) }
    let logZ = maxValue + Float(Foundation.log(sum))
    for i in 0..<n { out[i] = logits[i] - logZ }
}

/// Σ x[i]·y[i] over float rows (the encoder's and LoRA's float products).
@inline(__always)
func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD8<Float>(repeating: 0)
    var i = 0
    while i + 8 <= n {
        acc.addProduct(load8(x, i), load8(y, i))
        i += 8
    }
    var s = acc.sum()
    while i < n { s += x[i] * y[i]; i += 1 }
    return s
}
