import Foundation

/// AdamW (Loshchilov & Hutter; PyTorch's torch.optim.AdamW): decoupled weight decay, bias-corrected moments.
final class AdamW {
    private var firstMoments: [[Float]]
    private var secondMoments: [[Float]]
    private(set) var stepCount = 0

    init(parameterSizes: [Int]) {
        firstMoments = parameterSizes.map { [Float](repeating: 0, count: $0) }
        secondMoments = firstMoments
    }

    /// Starts step t (bias corrections use t); then `update` each parameter tensor once.
    func beginStep() { stepCount += 1 }

    /// Updates parameter tensor `index` (the order given at init) from its gradient.
    func update(_ index: Int, values: UnsafeMutableBufferPointer<Float>, gradient: UnsafePointer<Float>,
                learningRate: Float, configuration c: OptimizerConfiguration) {
        let correction1 = 1 - Float(Foundation.pow(Double(c.beta1), Double(stepCount)))
        let correction2 = 1 - Float(Foundation.pow(Double(c.beta2), Double(stepCount)))
        let decay = 1 - learningRate * c.weightDecay
        firstMoments[index].withUnsafeMutableBufferPointer { m in
            secondMoments[index].withUnsafeMutableBufferPointer { v in
                for i in 0..<values.count {
                    let g = gradient[i]
                    m[i] = c.beta1 * m[i] + (1 - c.beta1) * g
                    v[i] = c.beta2 * v[i] + (1 - c.beta2) * g * g
                    let update = (m[i] / correction1) / ((v[i] / correction2).squareRoot() + c.epsilon)
                    values[i] = values[i] * decay - learningRate * update
                }
            }
        }
    }
}
