import Foundation
import ParleyModels

/// A directory path as is; otherwise a name under `$PARLEY_HOME/embedding-models`, a catalog model fetched on
/// first use.
func resolveEmbeddingModel(_ option: String?) async throws -> String {
    let reference = option ?? ProcessInfo.processInfo.environment["PARLEY_EMBEDDING_MODEL"].flatMap { $0.isEmpty ? nil : $0 }
        ?? EmbeddingModelInstaller.defaultModel.name
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: reference, isDirectory: &isDirectory), isDirectory.boolValue { return reference }
    guard !reference.contains("/") else { throw CLIError("embedding model \(reference): no such directory") }
    do { return try await EmbeddingModelInstaller(store: ModelStore()).path(of: reference) } catch { throw CLIError("\(error)") }
}
