import ArgumentParser
import Foundation
import ParleyModels

struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models", abstract: "List the models in the store.", aliases: ["list", "ls"])

    @Flag(help: "Print the manifests as JSON.")
    var json = false

    func run() throws {
        let store = ModelStore()
        let manifests = try store.list()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            writeOut(String(decoding: try encoder.encode(manifests), as: UTF8.self) + "\n")
            return
        }
        guard !manifests.isEmpty else {
            writeOut("no models in \(store.root.path) yet: parley pull \(Catalog.defaultModelName)\n")
            return
        }
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        var rows = [["NAME", "SIZE", "ARCHITECTURE", "PARAMETERS", "QUANTIZATION", "MODIFIED"]]
        for m in manifests {
            rows.append([m.name, Format.bytes(m.size), m.architecture ?? "?", Format.count(m.parameterCount),
                         m.quantization, formatter.string(from: m.installedAt)])
        }
        writeOut(table(rows))
    }
}

/// Left-aligned columns, two spaces apart.
func table(_ rows: [[String]]) -> String {
    let widths = (0..<(rows.first?.count ?? 0)).map { c in rows.map { $0[c].count }.max() ?? 0 }
    return rows.map { row in
        row.enumerated().map { c, cell in
            c == row.count - 1 ? cell : cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }.joined(separator: "\n") + "\n"
}
