import Foundation

/// Where the test suite finds its models and fixtures.
///
/// Models are fetched by `scripts/fetch-test-models.sh` into `.models/` (or `$PARLEY_TEST_MODELS`).
/// A missing model is an error, never a skip: the suite must run against the real files.
public enum TestModels {
    public static let repositoryRoot: URL = {
        // Sources/ParleyTestSupport/TestModels.swift → repository root
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }()

    public static var directory: URL {
        if let custom = ProcessInfo.processInfo.environment["PARLEY_TEST_MODELS"], !custom.isEmpty {
            return URL(fileURLWithPath: custom)
        }
        return repositoryRoot.appendingPathComponent(".models")
    }

    public static var smolLM2: String { try! path(named: "SmolLM2-135M-Instruct.Q4_1.gguf") }
    public static var gemma3: String { try! path(named: "gemma-3-270m-Q4_K_M.gguf") }

    public struct MissingModel: Error, CustomStringConvertible {
        public let path: String
        public var description: String { "test model missing at \(path): run scripts/fetch-test-models.sh" }
    }

    public static func path(named name: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else {
            fatalError(MissingModel(path: url.path).description)
        }
        return url.path
    }

    /// `Tests/Fixtures/<name>`.
    public static func fixture(_ name: String) -> URL {
        repositoryRoot.appendingPathComponent("Tests/Fixtures").appendingPathComponent(name)
    }
}
