import Foundation
import ParleyModels
import Testing

/// The HTTP source against a server on loopback: nothing here leaves the machine.
@Suite struct HTTPSourceTests {
    let model = Data(tinyModelBytes())

    func request(_ server: LoopbackServer, path: String = "/tiny.gguf", sha256: String?) -> PullRequest {
        PullRequest(name: "tiny", sources: [.http(URL(string: server.url + path)!)], sha256: sha256, size: nil)
    }

    @Test func downloadsVerifiesAndInstalls() async throws {
        let model = self.model
        let server = try LoopbackServer { _, _ in .body(model) }
        defer { server.stop() }
        let home = try Scratch()
        defer { home.cleanup() }
        let store = ModelStore(root: home.url)
        let events = EventLog()
        let sha = try sha256Hex(model)
        let outcome = try await ModelPuller(store: store, onEvent: events.record).pull(request(server, sha256: sha))
        #expect(!outcome.alreadyInstalled)
        #expect(outcome.manifest.sha256 == sha)
        #expect(outcome.manifest.size == model.count)
        #expect(outcome.manifest.source == server.url + "/tiny.gguf")
        #expect(outcome.manifest.architecture == "llama")
        #expect(outcome.manifest.quantization == "Q8_0")
        #expect(outcome.manifest.contextLength == 512)
        #expect(outcome.manifest.hasChatTemplate)
        #expect(outcome.manifest.license == "apache-2.0")
        #expect(try Data(contentsOf: store.modelFile(of: "tiny")) == model)
        #expect(events.events.contains(.bytes(done: model.count, total: model.count)))
        // No partial download or staging file is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.downloadsDirectory.path).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.tempDirectory.path).isEmpty)

        // A second pull is a no-op: no request reaches the server.
        let again = try await ModelPuller(store: store).pull(request(server, sha256: sha))
        #expect(again.alreadyInstalled)
        #expect(server.requests.count == 1)
    }

    @Test func resumesAfterADroppedConnection() async throws {
        let model = self.model
        let cut = model.count / 3
        // The first connection dies after a third of the body; later ones honour the Range header.
        let server = try LoopbackServer { _, number in .body(model, dropAfter: number == 1 ? cut : nil) }
        defer { server.stop() }
        let home = try Scratch()
        defer { home.cleanup() }
        let store = ModelStore(root: home.url)
        let outcome = try await ModelPuller(store: store).pull(request(server, sha256: try sha256Hex(model)))
        #expect(outcome.manifest.size == model.count)
        #expect(try Data(contentsOf: store.modelFile(of: "tiny")) == model)
        let requests = server.requests
        #expect(requests.count == 2)
        #expect(requests.first?.headers["range"] == nil)
        // It resumes from what it had written: at most what the server sent (the client may lose bytes that were
        // still in its buffers when the connection failed), and never from the start.
        let resumedAt = requests.last?.headers["range"].flatMap { Int($0.dropFirst(6).dropLast()) } ?? 0
        #expect((1...cut).contains(resumedAt), "\(String(describing: requests.last?.headers["range"]))")
    }

    @Test func anInterruptedPullResumesFromItsPartialFile() async throws {
        let model = self.model
        let home = try Scratch()
        defer { home.cleanup() }
        let store = ModelStore(root: home.url)
        // While `flaky` is on, a connection drops after 50,000 bytes, and a resumed one before any byte.
        let flaky = Flag(true)
        let server = try LoopbackServer { request, _ in
            .body(model, dropAfter: flaky.value ? (request.headers["range"] == nil ? 50_000 : 0) : nil)
        }
        defer { server.stop() }
        let req = request(server, sha256: try sha256Hex(model))
        let url = URL(string: server.url + "/tiny.gguf")!

        // A first pull that cannot get past the drop gives up, installs nothing, and keeps the partial file.
        await #expect(throws: StoreError.self) { try await ModelPuller(store: store).pull(req) }
        #expect(!store.isInstalled("tiny"))
        let partial = store.partialDownload(for: url)
        let kept = try Data(contentsOf: partial).count
        #expect((1...50_000).contains(kept))
        let before = server.requests.count

        // The next pull asks only for the rest.
        flaky.value = false
        let outcome = try await ModelPuller(store: store).pull(req)
        #expect(outcome.manifest.size == model.count)
        #expect(server.requests.dropFirst(before).map { $0.headers["range"] } == ["bytes=\(kept)-"])
        #expect(try Data(contentsOf: store.modelFile(of: "tiny")) == model)
        #expect(!FileManager.default.fileExists(atPath: partial.path))
    }

    @Test func aWrongChecksumInstallsNothing() async throws {
        let model = self.model
        let server = try LoopbackServer { _, _ in .body(model) }
        defer { server.stop() }
        let home = try Scratch()
        defer { home.cleanup() }
        let store = ModelStore(root: home.url)
        let wrong = String(repeating: "0", count: 64)
        do {
            _ = try await ModelPuller(store: store).pull(request(server, sha256: wrong))
            Issue.record("a download with the wrong sha256 was installed")
        } catch let error as StoreError {
            #expect(error.description.contains("sha256 mismatch"))
            #expect(error.description.contains(wrong))
        }
        #expect(!store.isInstalled("tiny"))
        #expect(!FileManager.default.fileExists(atPath: store.directory(of: "tiny").path))
        // The bad download is not kept for resuming either.
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.downloadsDirectory.path).isEmpty)
    }

    @Test func notFoundFailsWithTheStatus() async throws {
        let server = try LoopbackServer { _, _ in .status(404) }
        defer { server.stop() }
        let home = try Scratch()
        defer { home.cleanup() }
        let store = ModelStore(root: home.url)
        do {
            _ = try await ModelPuller(store: store).pull(request(server, path: "/missing.gguf", sha256: nil))
            Issue.record("a 404 installed something")
        } catch let error as StoreError {
            #expect(error.description.contains("HTTP 404"), "\(error)")
        }
        #expect(!store.isInstalled("tiny"))
        #expect(server.requests.count == 1)
    }

    @Test func anUnreachableSourceFailsFastAndTheNextIsTried() async throws {
        let model = self.model
        let server = try LoopbackServer { _, _ in .body(model) }
        defer { server.stop() }
        // A loopback port nobody listens on: the connection is refused at once.
        let closed = try LoopbackServer { _, _ in .status(500) }
        let deadURL = URL(string: closed.url + "/tiny.gguf")!
        closed.stop()
        let home = try Scratch()
        defer { home.cleanup() }
        let store = ModelStore(root: home.url)
        let events = EventLog()
        let request = PullRequest(name: "tiny", sources: [.http(deadURL), .http(URL(string: server.url + "/tiny.gguf")!)],
                                  sha256: try sha256Hex(model))
        let started = Date()
        let outcome = try await ModelPuller(store: store, onEvent: events.record).pull(request)
        // The connect timeout is 5 s and a refused connection fails at once; the bound only tells that from a
        // hang, with room for a full test run on 2 cores (the fuzzer's child process holds one for ~3 minutes).
        #expect(Date().timeIntervalSince(started) < 90)
        #expect(outcome.manifest.source == server.url + "/tiny.gguf")
        #expect(events.events.contains { if case .sourceFailed(let s, _) = $0 { s == deadURL.absoluteString } else { false } })
    }

    @Test func whenEverySourceFailsTheErrorListsEach() async throws {
        let notFound = try LoopbackServer { _, _ in .status(404) }
        defer { notFound.stop() }
        let closed = try LoopbackServer { _, _ in .status(500) }
        let deadURL = URL(string: closed.url + "/a.gguf")!
        closed.stop()
        let home = try Scratch()
        defer { home.cleanup() }
        let request = PullRequest(name: "tiny", sources: [.http(deadURL), .http(URL(string: notFound.url + "/b.gguf")!)])
        do {
            _ = try await ModelPuller(store: ModelStore(root: home.url)).pull(request)
            Issue.record("pull succeeded with no working source")
        } catch let error as StoreError {
            let text = error.description
            #expect(text.contains("[1] \(deadURL.absoluteString): cannot connect"), "\(text)")
            #expect(text.contains("[2] \(notFound.url)/b.gguf: HTTP 404"), "\(text)")
        }
    }

    @Test func concurrentPullsOfOneModelFetchItOnce() async throws {
        let model = self.model
        let server = try LoopbackServer { _, _ in .body(model) }
        defer { server.stop() }
        let home = try Scratch()
        defer { home.cleanup() }
        let store = ModelStore(root: home.url)
        let req = request(server, sha256: try sha256Hex(model))
        async let a = ModelPuller(store: store).pull(req)
        async let b = ModelPuller(store: store).pull(req)
        let outcomes = try await [a, b]
        #expect(outcomes.filter(\.alreadyInstalled).count == 1)
        #expect(server.requests.count == 1)
        #expect(try Data(contentsOf: store.modelFile(of: "tiny")) == model)
    }
}

final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Bool
    init(_ value: Bool) { stored = value }
    var value: Bool {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}
