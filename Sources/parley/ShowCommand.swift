import ArgumentParser
import Foundation
import ParleyGGUF
import ParleyModels

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Describe a model: its facts, tensor types, metadata, chat template and license.")

    @Argument(help: "A model name from the store, or a path to a .gguf file.")
    var model: String

    @Flag(help: "Print only the chat template.")
    var template = false

    @Flag(help: "Print only the license.")
    var license = false

    func run() throws {
        let store = ModelStore()
        let path: String
        var manifest: Manifest?
        switch try store.resolve(model) {
        case .file(let p):
            path = p
        case .installed(let name, let p):
            path = p
            manifest = try store.manifest(of: name)
        case .pullable(let request):
            throw StoreError.notInstalled(request.name)
        }
        let file = try GGUFFile(path: path)
        let facts = ModelFacts(file: file)
        if template {
            writeOut((facts.chatTemplate ?? "(no chat template: Parley uses ChatML)") + "\n")
            return
        }
        if license {
            writeOut(licenseText(file) + "\n")
            return
        }

        var out = ""
        var rows: [[String]] = []
        rows.append(["name", manifest?.name ?? (path as NSString).lastPathComponent])
        if let display = facts.displayName { rows.append(["model", display]) }
        rows.append(["file", path])
        if let manifest {
            rows.append(["source", manifest.source])
            rows.append(["sha256", manifest.sha256])
        }
        rows.append(["size", "\(Format.bytes(file.fileSize)) (\(file.fileSize) bytes)"])
        rows.append(["architecture", facts.architecture ?? "unknown"])
        rows.append(["parameters", "\(Format.count(facts.parameterCount)) (\(facts.parameterCount))"])
        rows.append(["quantization", facts.quantization])
        rows.append(["context length", facts.contextLength.map(String.init) ?? "unknown"])
        rows.append(["chat template", facts.chatTemplate == nil ? "none (ChatML is used)" : "yes (\(facts.chatTemplate!.count) characters)"])
        rows.append(["license", facts.license ?? "not stated in the file"])
        rows.append(["GGUF", "v\(file.version), \(file.tensors.count) tensors, \(file.metadata.count) metadata keys"])
        out += table(rows.map { ["  " + $0[0], $0[1]] })

        out += "\nTensor types\n"
        var typeRows: [[String]] = []
        for t in facts.tensorTypes {
            typeRows.append(["  " + t.type, "\(t.tensors) tensors", Format.bytes(t.bytes)])
        }
        out += table(typeRows)

        out += "\nMetadata\n"
        var metaRows: [[String]] = []
        for key in file.metadata.keys where key != "tokenizer.chat_template" {
            guard let value = file.metadata[key] else { continue }
            metaRows.append(["  " + key, value.typeName, summary(value)])
        }
        out += table(metaRows)

        out += "\nTemplate\n"
        out += facts.chatTemplate.map { indent($0) } ?? "  (none: Parley uses ChatML)\n"
        out += "\nLicense\n"
        out += indent(licenseText(file))
        writeOut(out)
    }

    private func licenseText(_ file: GGUFFile) -> String {
        let keys = ["general.license", "general.license.name", "general.license.link"]
        let found = keys.compactMap { key in file.metadata.string(key).map { "\(key): \($0)" } }
        return found.isEmpty ? "the file states no license (see the model's source)" : found.joined(separator: "\n")
    }

    private func indent(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n") + "\n"
    }

    /// A value on one line; long arrays and strings are abbreviated.
    private func summary(_ value: GGUFValue) -> String {
        switch value {
        case .string(let s):
            let flat = s.replacingOccurrences(of: "\n", with: "\\n")
            return flat.count > 80 ? String(flat.prefix(77)) + "…" : flat
        case .array(let items):
            let head = items.prefix(4).map(summary).joined(separator: ", ")
            return items.count > 4 ? "[\(head), …] (\(items.count) items)" : "[\(head)]"
        case .float32(let f): return "\(f)"
        case .float64(let d): return "\(d)"
        case .bool(let b): return "\(b)"
        default: return value.int.map(String.init) ?? "\(value)"
        }
    }
}
