import Foundation
import ParleyStore

/// Text out of an uploaded file: plain text and Markdown as UTF-8, PDF through poppler's `pdftotext`.
public enum TextExtraction {
    public enum Kind: String, Sendable { case text, markdown, pdf }

    /// The kind of a file from its name and media type; nil for anything else.
    public static func kind(name: String, mediaType: String?) -> Kind? {
        let lower = name.lowercased()
        let type = (mediaType ?? "").lowercased().split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        if lower.hasSuffix(".pdf") || type == "application/pdf" { return .pdf }
        if lower.hasSuffix(".md") || lower.hasSuffix(".markdown") || type == "text/markdown" { return .markdown }
        if lower.hasSuffix(".txt") || lower.hasSuffix(".text") || type == "text/plain" { return .text }
        return nil
    }

    /// The file's text. Bad input (not UTF-8, not a PDF, no text in it) is `MemoryError.invalid`.
    public static func text(of data: Data, kind: Kind, pdftotext: String = "pdftotext", timeout: TimeInterval = 60) throws -> String {
        switch kind {
        case .text, .markdown:
            guard let text = String(data: data, encoding: .utf8) else { throw MemoryError.invalid("the file is not UTF-8 text") }
            return text.replacingOccurrences(of: "\r\n", with: "\n")
        case .pdf:
            guard data.starts(with: Array("%PDF-".utf8)) else { throw MemoryError.invalid("the file is not a PDF (no %PDF- header)") }
            return try pdfText(data, tool: pdftotext, timeout: timeout)
        }
    }

    static func pdfText(_ data: Data, tool: String, timeout: TimeInterval) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-pdf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("in.pdf"), output = directory.appendingPathComponent("out.txt")
        try data.write(to: input)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool, "-enc", "UTF-8", "-q", input.path, output.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch {
            throw MemoryError.invalid("PDF text extraction needs poppler-utils (pdftotext): \(error)")
        }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline { process.terminate(); throw MemoryError.invalid("pdftotext took longer than \(Int(timeout)) s") }
            Thread.sleep(forTimeInterval: 0.01)
        }
        if process.terminationStatus == 127 { throw MemoryError.invalid("PDF text extraction needs poppler-utils (pdftotext)") }
        guard process.terminationStatus == 0, let bytes = try? Data(contentsOf: output), let text = String(data: bytes, encoding: .utf8) else {
            throw MemoryError.invalid("the PDF could not be read (pdftotext exit \(process.terminationStatus))")
        }
        return text.replacingOccurrences(of: "\u{0C}", with: "\n\n")
    }
}

/// Cuts text into pieces of about `target` characters for retrieval: paragraphs are kept whole when they fit,
/// long ones split at sentence ends, then at spaces; each piece after the first repeats the end of the one before
/// (`overlap` characters, from a word boundary) so a fact cut in two is still found whole in one.
public enum DocumentChunker {
    public static func chunks(_ text: String, target: Int = 700, overlap: Int = 100) -> [String] {
        let paragraphs = text.components(separatedBy: "\n\n")
            .map { $0.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        var pieces: [String] = []
        for paragraph in paragraphs {
            if paragraph.count <= target { pieces.append(paragraph); continue }
            pieces += split(paragraph, target: target)
        }
        var chunks: [String] = []
        var current = ""
        for piece in pieces {
            if current.isEmpty { current = piece; continue }
            if current.count + 2 + piece.count <= target {
                current += "\n\n" + piece
            } else {
                chunks.append(current)
                current = tail(of: current, overlap) + piece
            }
        }
        if !current.isEmpty { chunks.append(current) }
        return chunks
    }

    /// A long paragraph in pieces of at most `target` characters, cut after sentence ends where possible.
    static func split(_ paragraph: String, target: Int) -> [String] {
        var out: [String] = []
        var rest = Substring(paragraph)
        while rest.count > target {
            let window = rest.prefix(target)
            var cut = window.endIndex
            if let end = window.lastIndex(where: { ".!?。！？".contains($0) }), window.distance(from: window.startIndex, to: end) > target / 2 {
                cut = window.index(after: end)
            } else if let space = window.lastIndex(of: " "), window.distance(from: window.startIndex, to: space) > target / 2 {
                cut = space
            }
            out.append(String(rest[..<cut]).trimmingCharacters(in: .whitespaces))
            rest = rest[cut...].drop { $0 == " " }
        }
        if !rest.isEmpty { out.append(String(rest)) }
        return out
    }

    static func tail(of text: String, _ length: Int) -> String {
        guard length > 0, text.count > length else { return "" }
        var start = text.index(text.endIndex, offsetBy: -length)
        if let space = text[start...].firstIndex(of: " ") { start = text.index(after: space) }
        let piece = text[start...].trimmingCharacters(in: .whitespacesAndNewlines)
        return piece.isEmpty ? "" : "… " + piece + " "
    }
}

/// A retrieved chunk of a project file, numbered for citation.
public struct FileHit: Sendable, Equatable {
    public var chunk: FileChunk
    public var score: Double
    public var cosine: Float?
    public var lexicalRank: Int?
}

/// A project's files for chat: upload (extract, chunk, embed, index) and hybrid retrieval with citations.
public struct ProjectLibrary: Sendable {
    public let store: any ProjectStore
    public let embedder: any TextEmbedder
    public var fusion = ReciprocalRankFusion()
    public var candidates = 4
    /// A chunk with no full-text match is used only when its cosine reaches this.
    public var floor: Float = 0.3
    /// The most chunks one file may have (about 1.4 MB of text at the default size).
    public var maxChunks = 2000

    public init(store: any ProjectStore, embedder: any TextEmbedder) {
        self.store = store
        self.embedder = embedder
    }

    /// Extracts, chunks, embeds and stores a file in the user's project.
    public func add(projectID: RecordID, userID: RecordID, name: String, mediaType: String?, data: Data) async throws -> ProjectFile {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= 255, !trimmed.contains("/") else { throw MemoryError.invalid("the file needs a name (at most 255 characters, no '/')") }
        guard let kind = TextExtraction.kind(name: trimmed, mediaType: mediaType) else {
            throw MemoryError.invalid("only text (.txt), Markdown (.md) and PDF (.pdf) files can be added")
        }
        let text = try TextExtraction.text(of: data, kind: kind)
        let pieces = DocumentChunker.chunks(text)
        guard !pieces.isEmpty else { throw MemoryError.invalid("no text was found in \(trimmed)") }
        guard pieces.count <= maxChunks else { throw MemoryError.invalid("\(trimmed) is too long (\(pieces.count) pieces; at most \(maxChunks))") }
        var chunks: [NewFileChunk] = []
        for start in stride(from: 0, to: pieces.count, by: 16) {
            let batch = Array(pieces[start..<min(start + 16, pieces.count)])
            let vectors = try embedder.embed(batch)
            guard vectors.count == batch.count else { throw MemoryError.invalid("the embedder returned \(vectors.count) vectors for \(batch.count) texts") }
            chunks += zip(batch, vectors).map { NewFileChunk(text: $0, embedding: $1) }
        }
        let mediaType = kind == .pdf ? "application/pdf" : kind == .markdown ? "text/markdown" : "text/plain"
        return try await store.addFile(ProjectFile(projectID: projectID, userID: userID, name: trimmed, mediaType: mediaType,
                                                   size: data.count, chunkCount: chunks.count),
                                       chunks: chunks, model: embedder.modelName)
    }

    /// The project's chunks most relevant to `query`, best first: full-text and dense ranks fused, each kept
    /// when it matches a word or reaches `floor`.
    public func search(projectID: RecordID, userID: RecordID, query: String, top: Int? = nil) async throws -> [FileHit] {
        guard !query.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return [] }
        let lexical = try await store.searchChunkText(projectID: projectID, userID: userID, query: query, limit: 30)
        let embeddings = try await store.chunkEmbeddings(projectID: projectID, userID: userID)
        guard !lexical.isEmpty || !embeddings.isEmpty else { return [] }
        guard let queryVector = try embedder.embed([query]).first else { return [] }
        let dense = embeddings.filter { $0.model == embedder.modelName }
            .map { (id: $0.chunkID, cosine: MemoryService.cosine(queryVector, $0.vector)) }
            .sorted { $0.cosine > $1.cosine }
        let lexicalRank = Dictionary(lexical.enumerated().map { ($1.id, $0 + 1) }, uniquingKeysWith: { a, _ in a })
        let cosines = Dictionary(dense.map { ($0.id, $0.cosine) }, uniquingKeysWith: { a, _ in a })
        let fused = fusion.fuse([lexical.map { $0.id }, dense.map { $0.id }])
            .filter { lexicalRank[$0.id] != nil || (cosines[$0.id] ?? -1) >= floor }
            .prefix(top ?? candidates)
        var known = Dictionary(lexical.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for chunk in try await store.chunks(ids: fused.map { $0.id }.filter { known[$0] == nil }, userID: userID) { known[chunk.id] = chunk }
        return fused.compactMap { item in
            known[item.id].map { FileHit(chunk: $0, score: item.score, cosine: cosines[item.id], lexicalRank: lexicalRank[item.id]) }
        }
    }

    /// The hits that fit `budget` tokens as a block for the system prompt, numbered [1], [2], … for citation.
    public static func context(_ hits: [FileHit], budget: Int, countTokens: (String) -> Int) -> (text: String, used: [FileHit]) {
        let header = "Excerpts of this project's files. When you use one, cite it by its number in brackets, like [1]:"
        var spent = countTokens(header + "\n")
        guard spent < budget else { return ("", []) }
        var lines: [String] = []
        var used: [FileHit] = []
        for hit in hits {
            let line = "[\(used.count + 1)] (\(hit.chunk.fileName), part \(hit.chunk.ordinal)) " + hit.chunk.text.replacingOccurrences(of: "\n", with: " ")
            let cost = countTokens(line + "\n")
            guard spent + cost <= budget else { continue }
            spent += cost
            lines.append(line)
            used.append(hit)
        }
        return used.isEmpty ? ("", []) : (([header] + lines).joined(separator: "\n"), used)
    }
}
