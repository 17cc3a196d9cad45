#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Full-precision (F32) building blocks for encoder models. The chat models' quantized kernels quantize the
// activations too; an embedding model is small (tens of millions of weights) and its output is compared by
// cosine against a float reference, so it runs in plain floats: weights widened once at load time.

/// A weight matrix with its bias, `outFeatures` rows of `inFeatures` floats (PyTorch `nn.Linear` layout).
final class DenseLayer: @unchecked Sendable {
    // @unchecked: written once in `init`, read-only afterwards.
    let inFeatures: Int
    let outFeatures: Int
    /// [outFeatures, inFeatures]
    let weight: UnsafeMutablePointer<Float>
    /// [outFeatures]
    let bias: UnsafeMutablePointer<Float>

    init(weight: [Float], bias: [Float], inFeatures: Int, outFeatures: Int) {
        precondition(weight.count == inFeatures * outFeatures && bias.count == outFeatures)
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.weight = .allocate(capacity: weight.count)
        self.weight.initialize(from: weight, count: weight.count)
        self.bias = .allocate(capacity: bias.count)
        self.bias.initialize(from: bias, count: bias.count)
    }

    deinit {
        weight.deallocate()
        bias.deallocate()
    }

    /// y[t] = W · x[t] + b for `rows` rows (x rows `inFeatures` apart, y rows `outFeatures` apart).
    ///
    /// Threads split the output features; each weight row is read once and multiplied with four input rows
    /// at a time, so it stays in registers and L1 while the inputs stream from L2.
    func apply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, pool: WorkerPool) {
        let n = inFeatures
        let m = outFeatures
        pool.parallelFor(m) { features in
            for o in features {
                let w = UnsafePointer(weight + o * n)
                let b = bias[o]
                var t = 0
                while t + 4 <= rows {
                    let x0 = x + t * n, x1 = x0 + n, x2 = x1 + n, x3 = x2 + n
                    var a0 = SIMD8<Float>(repeating: 0), a1 = a0, a2 = a0, a3 = a0
                    var i = 0
                    while i + 8 <= n {
                        let wv = load8(w, i)
                        a0.addProduct(wv, load8(x0, i))
                        a1.addProduct(wv, load8(x1, i))
                        a2.addProduct(wv, load8(x2, i))
                        a3.addProduct(wv, load8(x3, i))
                        i += 8
                    }
                    var s0 = a0.sum(), s1 = a1.sum(), s2 = a2.sum(), s3 = a3.sum()
                    while i < n {
                        s0 += w[i] * x0[i]; s1 += w[i] * x1[i]; s2 += w[i] * x2[i]; s3 += w[i] * x3[i]
                        i += 1
                    }
                    y[t * m + o] = s0 + b
                    y[(t + 1) * m + o] = s1 + b
                    y[(t + 2) * m + o] = s2 + b
                    y[(t + 3) * m + o] = s3 + b
                    t += 4
                }
                while t < rows {
                    y[t * m + o] = dot(w, x + t * n, n) + b
                    t += 1
                }
            }
        }
    }
}

/// A LayerNorm's scale and shift, [count] each.
struct LayerNormWeights {
    let weight: [Float]
    let bias: [Float]
}

/// x = (x - mean) / sqrt(var + eps) * weight + bias, over one row of `count` (biased variance, as PyTorch).
func layerNorm(_ x: UnsafeMutablePointer<Float>, _ norm: LayerNormWeights, eps: Float, count n: Int) {
    var mean: Float = 0
    for i in 0..<n { mean += x[i] }
    mean /= Float(n)
    var variance: Float = 0
    for i in 0..<n {
        let d = x[i] - mean
        variance += d * d
    }
    variance /= Float(n)
    let scale = 1 / (variance + eps).squareRoot()
    for i in 0..<n { x[i] = (x[i] - mean) * scale * norm.weight[i] + norm.bias[i] }
}

/// The exact GELU, x · Φ(x) = x/2 · (1 + erf(x / √2)) — BERT's `gelu`, not the tanh approximation.
func geluExact(_ x: UnsafeMutablePointer<Float>, count n: Int) {
    for i in 0..<n { x[i] = 0.5 * x[i] * (1 + erff(x[i] * 0.70710678118654752)) }
}
