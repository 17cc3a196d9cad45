import ParleyEngine
import ParleyTraining
import Testing

/// The analytic gradient of a few LoRA entries against central differences of the loss, in Swift alone.
@Suite struct FiniteDifferenceTests {
    @Test(arguments: ["llama", "gemma3"])
    func gradientsMatchCentralDifferences(architecture: String) throws {
        let fixture = try OracleFixture.load(architecture)
        let file = try fixture.writeModel()
        let hp = try Hyperparameters(file: file)
        let adapter = fixture.adapter(for: hp)
        let trainer = try LoRATrainer(file: file, adapter: adapter, threads: 1)
        let sequences = fixture.trainingSequences
        let (_, gradients) = try trainer.gradients(sequences)
        let step: Float = 1e-2
        // The largest entries of dA and dB in the first and last layer's query and down matrices.
        for gradient in gradients where [0, hp.blockCount - 1].contains(gradient.layer) && [LoRATarget.query, .down].contains(gradient.target) {
            let weights = try #require(adapter.weights(layer: gradient.layer, gradient.target))
            for matrix in ["a", "b"] {
                let values = matrix == "a" ? gradient.a : gradient.b
                let index = values.indices.max { abs(values[$0]) < abs(values[$1]) }!
                func loss(shiftedBy delta: Float) throws -> Double {
                    if matrix == "a" { weights.a[index] += delta } else { weights.b[index] += delta }
                    defer { if matrix == "a" { weights.a[index] -= delta } else { weights.b[index] -= delta } }
                    return try trainer.meanLoss(sequences)
                }
                let numeric = (try loss(shiftedBy: step) - loss(shiftedBy: -step)) / Double(2 * step)
                let analytic = Double(values[index])
                #expect(abs(numeric - analytic) <= 0.02 * abs(analytic) + 1e-4,
                        "blk.\(gradient.layer).\(gradient.target.rawValue) d\(matrix)[\(index)]: \(analytic) vs \(numeric)")
            }
        }
    }
}
