import Foundation
import ParleyTraining
import Testing

@Suite struct TrainingCorpusTests {
    @Test func windowsOverlapByOneSoEveryTokenIsATargetOnce() {
        let sequences = TrainingCorpus.sequences(documents: [[1, 2, 3], [4, 5]], length: 2)
        #expect(sequences.map(\.tokens) == [[1, 2, 3], [3, 4, 5]])
        #expect(sequences.map(\.targetCount).reduce(0, +) == 4)
    }

    @Test func jsonLinesNeedATextField() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-corpus-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let good = directory.appendingPathComponent("good.jsonl"), bad = directory.appendingPathComponent("bad.jsonl")
        try Data("{\"text\": \"one\"}\n\n{\"text\": \"two\"}\n".utf8).write(to: good)
        try Data("{\"text\": \"one\"}\n{\"body\": 2}\n".utf8).write(to: bad)
        #expect(try TrainingCorpus.documents(atPath: good.path) == ["one", "two"])
        #expect(throws: TrainingError.noTrainingData("\(bad.path):2: expected a JSON object with a \"text\" string")) {
            try TrainingCorpus.documents(atPath: bad.path)
        }
        #expect(throws: TrainingError.self) { try TrainingCorpus.documents(atPath: directory.appendingPathComponent("none").path) }
    }

    @Test func samplerMixesReplayIntoEveryBatchInASeededOrder() throws {
        let data = (0..<5).map { TrainingSequence(tokens: [1, Int32($0) + 10]) }
        let replay = (0..<3).map { TrainingSequence(tokens: [2, Int32($0) + 100]) }
        var a = try BatchSampler(data: data, replay: replay, batchSize: 4, seed: 3)
        var b = try BatchSampler(data: data, replay: replay, batchSize: 4, seed: 3)
        for _ in 0..<4 {
            let batch = a.nextBatch()
            #expect(batch == b.nextBatch())
            #expect(batch.count == 4 && batch.filter { $0.tokens[0] == 2 }.count == 1)
        }
        var first = try BatchSampler(data: data, batchSize: 5, seed: 3)
        #expect(Set(first.nextBatch().map { $0.tokens[1] }).count == 5, "one pass visits every sequence once")
    }
}
