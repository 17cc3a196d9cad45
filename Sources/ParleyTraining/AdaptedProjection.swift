import ParleyEngine

/// A trained LoRA matrix pair and the gradients accumulated for it.
final class LoRAParameter: @unchecked Sendable {
    let weights: LoRAWeights
    let gradA: Matrix  // [rank][in]
    let gradB: Matrix  // [out][rank]

    init(_ weights: LoRAWeights) {
        self.weights = weights
        gradA = Matrix(weights.rank, weights.inFeatures)
        gradB = Matrix(weights.outFeatures, weights.rank)
    }
}

/// What one adapted projection keeps from its forward for its backward.
final class ProjectionTape {
    /// [rows][rank]: A·drop(x).
    let lowRank: Matrix
    /// [rows][in]: dropout's factors (0 or 1/(1-p)) and the dropped input; empty without dropout.
    let keep: Matrix
    let dropped: Matrix

    init(rows: Int, inFeatures: Int, rank: Int, dropout: Bool) {
        lowRank = Matrix(rows, rank)
        keep = Matrix(dropout ? rows : 0, inFeatures)
        dropped = Matrix(dropout ? rows : 0, inFeatures)
    }
}

/// y = x·Wᵀ + scale·(drop(x)·Aᵀ)·Bᵀ for a frozen W and an optional LoRA pair, and its backward, which
/// accumulates dA and dB and adds dL/dx into a gradient buffer. Every product runs on the context's pool.
struct AdaptedProjection {
    let weight: FrozenMatrix  // [out][in]
    let lora: LoRAParameter?
    let scale: Float
    let dropout: Float
    let context: ComputeContext

    var inFeatures: Int { weight.columns }
    var outFeatures: Int { weight.rows }

    func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, tape: ProjectionTape?,
                 random: inout SeededRandom) {
        let n = inFeatures, m = outFeatures
        weight.forward(x, xStride: n, count: rows, into: y, yStride: m, context: context)
        guard let lora, let tape else { return }
        let r = lora.weights.rank
        var input = x
        if dropout > 0 {
            let factor = 1 / (1 - dropout)
            for i in 0..<(rows * n) {
                let keep: Float = random.nextUnit() < dropout ? 0 : factor
                tape.keep.pointer[i] = keep
                tape.dropped.pointer[i] = x[i] * keep
            }
            input = UnsafePointer(tape.dropped.pointer)
        }
        lora.weights.a.withUnsafeBufferPointer { a in
            context.gemm(transposeB: true, m: rows, n: r, k: n, input, lda: n, a.baseAddress!, ldb: n, beta: 0,
                         tape.lowRank.pointer, ldc: r)
        }
        lora.weights.b.withUnsafeBufferPointer { b in
            context.gemm(transposeB: true, m: rows, n: m, k: r, alpha: scale, tape.lowRank.pointer, lda: r, b.baseAddress!,
                         ldb: r, beta: 1, y, ldc: m)
        }
    }

    /// dx += dy·W (+ the LoRA path's share); dA += dUᵀ·drop(x), dB += scale·dyᵀ·U.
    func backward(_ x: UnsafePointer<Float>, rows: Int, gradOut dy: UnsafePointer<Float>, tape: ProjectionTape?,
                  gradInput dx: UnsafeMutablePointer<Float>, scratch: Matrix) {
        let n = inFeatures, m = outFeatures
        weight.backward(dy, dyStride: m, count: rows, into: dx, context: context)
        guard let lora, let tape else { return }
        let r = lora.weights.rank
        // dU = scale·dy·B  [rows][rank], in scratch.
        let gradLowRank = scratch.pointer
        precondition(scratch.count >= rows * r, "scratch too small")
        lora.weights.b.withUnsafeBufferPointer { b in
            context.gemm(m: rows, n: r, k: m, alpha: scale, dy, lda: m, b.baseAddress!, ldb: r, beta: 0, gradLowRank, ldc: r)
        }
        context.gemm(transposeA: true, m: m, n: r, k: rows, alpha: scale, dy, lda: m, tape.lowRank.pointer, ldb: r, beta: 1,
                     lora.gradB.pointer, ldc: r)
        let input = dropout > 0 ? UnsafePointer(tape.dropped.pointer) : x
        context.gemm(transposeA: true, m: r, n: n, k: rows, gradLowRank, lda: r, input, ldb: n, beta: 1, lora.gradA.pointer,
                     ldc: n)
        lora.weights.a.withUnsafeBufferPointer { a in
            if dropout > 0 {
                // dx += (dU·A) ⊙ keep
                let through = Matrix(rows, n)
                context.gemm(m: rows, n: n, k: r, gradLowRank, lda: r, a.baseAddress!, ldb: n, beta: 0, through.pointer, ldc: n)
                for i in 0..<(rows * n) { dx[i] += through.pointer[i] * tape.keep.pointer[i] }
            } else {
                context.gemm(m: rows, n: n, k: r, gradLowRank, lda: r, a.baseAddress!, ldb: n, beta: 1, dx, ldc: n)
            }
        }
    }
}
