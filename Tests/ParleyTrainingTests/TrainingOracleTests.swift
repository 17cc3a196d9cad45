import ParleyEngine
import ParleyTraining
import Testing

/// Loss and LoRA gradients of a tiny random model of each architecture against PyTorch autograd (float64),
/// from the fixtures scripts/training-oracle.py writes: they cover GQA, RoPE of both styles, RMSNorm, SwiGLU
/// and GeGLU, Gemma's QK-norm, post-norms, embedding scale and sliding windows, the tied head, a loss mask and
/// two sequences of different lengths in one batch.
@Suite struct TrainingOracleTests {
    static let tolerance = 1e-4

    @Test(arguments: ["llama", "gemma3"])
    func lossAndGradientsMatchPyTorch(architecture: String) throws {
        let fixture = try OracleFixture.load(architecture)
        let file = try fixture.writeModel()
        let hp = try Hyperparameters(file: file)
        let trainer = try LoRATrainer(file: file, adapter: fixture.adapter(for: hp), threads: 1)
        let (loss, gradients) = try trainer.gradients(fixture.trainingSequences)
        #expect(abs(loss - fixture.loss) / fixture.loss < Self.tolerance, "loss \(loss) vs PyTorch \(fixture.loss)")
        #expect(gradients.count == fixture.gradients.count)
        for expected in fixture.gradients {
            let name = "blk.\(expected.layer).\(expected.target)"
            let found = try #require(gradients.first { $0.layer == expected.layer && $0.target.rawValue == expected.target },
                                     "no gradient for \(name)")
            let errorA = relativeError(found.a, expected.a), errorB = relativeError(found.b, expected.b)
            #expect(errorA < Self.tolerance, "\(name) dA relative error \(errorA)")
            #expect(errorB < Self.tolerance, "\(name) dB relative error \(errorB)")
        }
    }
}
