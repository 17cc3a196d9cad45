import Foundation
import ParleyEngine
import ParleyMemory
import ParleyStore
import ParleyTestSupport
import Testing

/// A minimal one-page PDF with `lines` of Helvetica text (correct cross-reference offsets).
func makePDF(_ lines: [String]) -> Data {
    let content = "BT /F1 12 Tf 72 720 Td " + lines.map { "(\($0)) Tj 0 -16 Td" }.joined(separator: " ") + " ET"
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        "<< /Length \(content.utf8.count) >>\nstream\n\(content)\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    var out = "%PDF-1.4\n"
    var offsets: [Int] = []
    for (index, object) in objects.enumerated() {
        offsets.append(out.utf8.count)
        out += "\(index + 1) 0 obj\n\(object)\nendobj\n"
    }
    let xref = out.utf8.count
    out += "xref\n0 \(objects.count + 1)\n0000000000 65535 f \n"
    out += offsets.map { String(repeating: "0", count: 10 - String($0).count) + String($0) + " 00000 n \n" }.joined()
    out += "trailer\n<< /Size \(objects.count + 1) /Root 1 0 R >>\nstartxref\n\(xref)\n%%EOF\n"
    return Data(out.utf8)
}

/// ChatProject files through the real encoder and poppler's pdftotext: extraction, chunking, retrieval with citations.
@Suite("ChatProject files", .serialized)
struct ProjectLibraryTests {
    static let encoder: SentenceEncoder = try! SentenceEncoder(directory: try! TestModels.path(named: "all-MiniLM-L6-v2"), threads: 2)

    @Test func chunksKeepParagraphsAndOverlapLongText() {
        #expect(DocumentChunker.chunks("One.\n\nTwo.\n\n\n") == ["One.\n\nTwo."])
        let long = (1...200).map { "Sentence number \($0) is here." }.joined(separator: " ")
        let chunks = DocumentChunker.chunks(long, target: 300, overlap: 60)
        #expect(chunks.count > 10)
        #expect(chunks.allSatisfy { $0.count <= 300 + 70 })
        #expect(chunks.dropFirst().allSatisfy { $0.hasPrefix("… ") }, "each later chunk repeats the end of the one before")
        for n in [1, 57, 200] { #expect(chunks.contains { $0.contains("Sentence number \(n) is here.") }, "nothing lost: \(n)") }
        #expect(DocumentChunker.chunks("  \n\n ").isEmpty)
    }

    @Test func extractsTextMarkdownAndPDFAndRefusesTheRest() throws {
        #expect(TextExtraction.kind(name: "a.md", mediaType: nil) == .markdown)
        #expect(TextExtraction.kind(name: "scan", mediaType: "application/pdf") == .pdf)
        #expect(TextExtraction.kind(name: "notes.TXT", mediaType: "application/octet-stream") == .text)
        #expect(TextExtraction.kind(name: "photo.png", mediaType: "image/png") == nil)
        #expect(try TextExtraction.text(of: Data("line\r\nnext".utf8), kind: .text) == "line\nnext")
        let pdf = try TextExtraction.text(of: makePDF(["The launch code word is heliotrope.", "Second line."]), kind: .pdf)
        #expect(pdf.contains("The launch code word is heliotrope.") && pdf.contains("Second line."))
        #expect(throws: MemoryError.self) { try TextExtraction.text(of: Data([0xFF, 0xFE, 0x00]), kind: .text) }
        #expect(throws: MemoryError.self) { try TextExtraction.text(of: Data("not a pdf".utf8), kind: .pdf) }
        #expect(throws: MemoryError.self) { try TextExtraction.text(of: Data("%PDF-1.4 garbage".utf8), kind: .pdf) }
    }

    @Test func uploadsAreRetrievedWithCitationsInTheirProjectOnly() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-projects-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let chat = try await openStore(directory.appendingPathComponent("parley.sqlite").path)
        defer { Task { try? await chat.close() } }
        let store = chat as! any ProjectStore
        let library = ProjectLibrary(store: store, embedder: Self.encoder)
        let alice = try await UserDirectory.userID(named: "alice", in: chat, create: true)
        let bob = try await UserDirectory.userID(named: "bob", in: chat, create: true)
        let p = try await store.createChatProject(ChatProject(userID: alice, name: "Launch"))
        let other = try await store.createChatProject(ChatProject(userID: alice, name: "Garden"))
        let bobs = try await store.createChatProject(ChatProject(userID: bob, name: "Bob's"))

        let notes = "# Launch plan\n\nThe launch is on the 3rd of March in Lisbon.\n\nThe budget is 40,000 euros, approved by Marta.\n\n"
            + "## Risks\n\nThe venue may not have enough power sockets for the demo stations."
        let md = try await library.add(projectID: p.id, userID: alice, name: "plan.md", mediaType: "text/markdown", data: Data(notes.utf8))
        #expect(md.chunkCount >= 1 && md.mediaType == "text/markdown")
        let pdf = try await library.add(projectID: p.id, userID: alice, name: "codes.pdf", mediaType: "application/pdf",
                                        data: makePDF(["The launch code word is heliotrope."]))
        #expect(pdf.mediaType == "application/pdf" && pdf.chunkCount == 1)
        _ = try await library.add(projectID: other.id, userID: alice, name: "roses.txt", mediaType: "text/plain",
                                  data: Data("Prune the roses in late February. The launch of spring is in March.".utf8))
        _ = try await library.add(projectID: bobs.id, userID: bob, name: "bob.txt", mediaType: "text/plain",
                                  data: Data("Bob's launch is in Porto on the 9th of May.".utf8))
        await #expect(throws: MemoryError.self) {
            _ = try await library.add(projectID: p.id, userID: alice, name: "x.png", mediaType: "image/png", data: Data([1, 2, 3]))
        }
        await #expect(throws: StoreError.self) {
            _ = try await library.add(projectID: p.id, userID: bob, name: "evil.txt", mediaType: "text/plain", data: Data("x".utf8))
        }

        let when = try await library.search(projectID: p.id, userID: alice, query: "Where is the launch, and what is the budget?")
        #expect(when.first?.chunk.fileName == "plan.md" && when.first?.chunk.text.contains("Lisbon") == true)
        #expect(when.allSatisfy { $0.chunk.projectID == p.id }, "never another project's or user's file")
        let word = try await library.search(projectID: p.id, userID: alice, query: "What is the code word?")
        #expect(word.first?.chunk.fileName == "codes.pdf")
        #expect(try await library.search(projectID: p.id, userID: bob, query: "launch").isEmpty)

        let (text, used) = ProjectLibrary.context(when, budget: 400, countTokens: { $0.split(separator: " ").count })
        #expect(!used.isEmpty && text.contains("[1] (plan.md, part 1)"))
        let none = ProjectLibrary.context(when, budget: 5, countTokens: { $0.split(separator: " ").count })
        #expect(none.text.isEmpty && none.used.isEmpty)
    }
}
