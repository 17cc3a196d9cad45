import CParleyKernels
import Foundation

// Forward and backward of the element-wise and per-row operations of a training step, in F32. Each backward
// takes what its forward saved (inputs, reciprocal RMS) and the gradient of the output.

/// y = x · r · w with r = 1/√(mean(x²) + eps), per row of `width` values; returns r in `rstd[row]`.
func rmsNormForward(_ x: UnsafePointer<Float>, weight w: UnsafePointer<Float>, rows: Int, width: Int, eps: Float,
                    into y: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>) {
    for row in 0..<rows {
        let xr = x + row * width, yr = y + row * width
        var sum: Float = 0
        for i in 0..<width { sum += xr[i] * xr[i] }
        let r = 1 / (sum / Float(width) + eps).squareRoot()
        rstd[row] = r
        for i in 0..<width { yr[i] = xr[i] * r * w[i] }
    }
}

/// dx (+)= r·(dy⊙w) − x·r³·Σ(dy⊙w⊙x)/width: the gradient of `rmsNormForward` with respect to x.
func rmsNormBackward(_ x: UnsafePointer<Float>, weight w: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                     gradOut dy: UnsafePointer<Float>, rows: Int, width: Int, into dx: UnsafeMutablePointer<Float>,
                     accumulate: Bool) {
    for row in 0..<rows {
        let xr = x + row * width, dyr = dy + row * width, dxr = dx + row * width
        let r = rstd[row]
        var dotProduct: Float = 0
        for i in 0..<width { dotProduct += dyr[i] * w[i] * xr[i] }
        let c = r * r * r * dotProduct / Float(width)
        for i in 0..<width {
            let g = r * dyr[i] * w[i] - xr[i] * c
            dxr[i] = accumulate ? dxr[i] + g : g
        }
    }
}

/// Rotary embedding of each head of each row: row t sits at `positions[t]`; `inverse` rotates by −θ (the
/// backward of the forward rotation, which is orthogonal). cos and sin are tabulated per position once.
struct Rotary {
    let headDim: Int
    let ropeDims: Int
    let neox: Bool
    let inverseFrequencies: [Double]
    private let table = RotaryTable()

    init(headDim: Int, ropeDims: Int, base: Float, neox: Bool) {
        self.headDim = headDim
        self.ropeDims = ropeDims
        self.neox = neox
        // As the engine's RoPETable: angles in Double, then cos/sin rounded to Float.
        inverseFrequencies = (0..<(ropeDims / 2)).map { pow(Double(base), -2.0 * Double($0) / Double(ropeDims)) }
    }

    func rotate(_ x: UnsafeMutablePointer<Float>, rows: Int, stride: Int, heads: Int, positions: [Int], inverse: Bool) {
        let half = ropeDims / 2
        table.extend(to: (positions.max() ?? 0) + 1, inverseFrequencies)
        for t in 0..<rows {
            let angles = positions[t] * half
            for i in 0..<half {
                let c = table.cos[angles + i], s = inverse ? -table.sin[angles + i] : table.sin[angles + i]
                for h in 0..<heads {
                    let v = x + t * stride + h * headDim
                    let (i0, i1) = neox ? (i, i + half) : (2 * i, 2 * i + 1)
                    let x0 = v[i0], x1 = v[i1]
                    v[i0] = x0 * c - x1 * s
                    v[i1] = x0 * s + x1 * c
                }
            }
        }
    }
}

/// cos and sin of position × frequency for positions 0..<count, [position][frequency].
final class RotaryTable: @unchecked Sendable {
    private(set) var cos: [Float] = []
    private(set) var sin: [Float] = []
    private var count = 0

    func extend(to positions: Int, _ frequencies: [Double]) {
        guard positions > count else { return }
        for p in count..<positions {
            for f in frequencies {
                cos.append(Float(Foundation.cos(Double(p) * f)))
                sin.append(Float(Foundation.sin(Double(p) * f)))
            }
        }
        count = positions
    }
}

/// The MLP's gated activation: SwiGLU (silu) for llama, GeGLU with the tanh GELU for Gemma (vectorised in
/// CParleyKernels' training loops).
enum GatedActivation {
    case silu, geluTanh

    private var gelu: Int32 { self == .geluTanh ? 1 : 0 }

    /// act = f(gate) ⊙ up.
    func forward(gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int, into act: UnsafeMutablePointer<Float>) {
        pk_train_gated_forward(gelu, gate, up, act, Int64(count))
    }

    /// dgate = dact ⊙ up ⊙ f'(gate), dup = dact ⊙ f(gate).
    func backward(gate: UnsafePointer<Float>, up: UnsafePointer<Float>, gradOut: UnsafePointer<Float>, count: Int,
                  gradGate: UnsafeMutablePointer<Float>, gradUp: UnsafeMutablePointer<Float>) {
        pk_train_gated_backward(gelu, gate, up, gradOut, gradGate, gradUp, Int64(count))
    }
}
