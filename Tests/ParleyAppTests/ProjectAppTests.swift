import Foundation
import Hummingbird
import HummingbirdTesting
import ParleyEngine
import ParleyMemory
import ParleyServer
import ParleyStore
import ParleyTestSupport
import Testing

/// Projects over HTTP with SmolLM2 and all-MiniLM-L6-v2: files (Markdown, PDF through pdftotext) are indexed, a
/// project chat's turn gets the relevant excerpts, numbered, and the stream cites them; other chats and other
/// users get nothing of them; export carries them with their vectors.
@Suite("Projects in the chat app", .serialized)
struct ProjectAppTests {
    static func pdf(_ line: String) -> String {
        let content = "BT /F1 12 Tf 72 720 Td (\(line)) Tj ET"
        let objects = ["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                       "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
                       "<< /Length \(content.utf8.count) >>\nstream\n\(content)\nendstream", "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
        var out = "%PDF-1.4\n"
        var offsets: [Int] = []
        for (i, o) in objects.enumerated() { offsets.append(out.utf8.count); out += "\(i + 1) 0 obj\n\(o)\nendobj\n" }
        let xref = out.utf8.count
        out += "xref\n0 6\n0000000000 65535 f \n" + offsets.map { String(repeating: "0", count: 10 - String($0).count) + "\($0) 00000 n \n" }.joined()
        return out + "trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n\(xref)\n%%EOF\n"
    }

    @Test("files, citations, isolation, export", arguments: Backend.available)
    func filesAreCitedInTheProjectsChatsOnly(_ backend: Backend) async throws {
        try await MemoryAppTests.make(backend).test { client in
            let a = Browser(client), b = Browser(client)
            try await a.signUp("pia-\(UUID().uuidString.prefix(8))@example.com")
            try await b.signUp("rob-\(UUID().uuidString.prefix(8))@example.com")
            let created = try await a.post("/api/chat-projects", #"{"name": "Launch", "instructions": "Answer briefly."}"#)
            #expect(created.status == .created, "\(created.text)")
            let project = try #require(created.json["id"] as? String)
            #expect(try await a.post("/api/chat-projects", #"{"name": "  "}"#).status == .badRequest)

            let notes = "# Launch plan\n\nThe launch is on the 3rd of March in Lisbon.\n\nThe budget is 40,000 euros, approved by Marta."
            let md = try await a.post("/api/chat-projects/\(project)/files?name=plan.md", notes)
            #expect(md.status == .created && md.json["name"] as? String == "plan.md", "\(md.text)")
            let pdf = try await a.post("/api/chat-projects/\(project)/files?name=codes.pdf", Self.pdf("The launch code word is heliotrope."))
            #expect(pdf.status == .created && pdf.json["media_type"] as? String == "application/pdf", "\(pdf.text)")
            #expect(try await a.post("/api/chat-projects/\(project)/files?name=photo.png", "PNG").status == .badRequest)
            #expect(try await a.post("/api/chat-projects/\(project)/files?name=broken.pdf", "%PDF-1.4 nothing").status == .badRequest)
            #expect(try await a.post("/api/chat-projects/\(project)/files", "text").status == .badRequest, "a name is required")
            #expect(try await b.post("/api/chat-projects/\(project)/files?name=evil.txt", "evil").status == .notFound)
            #expect(try await b.get("/api/chat-projects/\(project)").status == .notFound)
            #expect(try await b.post("/api/conversations", #"{"project_id": "\#(project)"}"#).status == .notFound)
            let detail = try await a.get("/api/chat-projects/\(project)")
            #expect((detail.json["files"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["plan.md", "codes.pdf"])

            let inProject = try await a.post("/api/conversations", #"{"temperature": 0, "project_id": "\#(project)"}"#)
            #expect(inProject.status == .created && inProject.json["project_id"] as? String == project)
            let chat = try #require(inProject.json["id"] as? String)
            #expect(try await a.tree(chat).conversation["project_id"] as? String == project)
            let when = try await MemoryAppTests.say(a, chat, "Where is the launch, and what is the budget?")
            let cited = when?["files"] as? [[String: Any]] ?? []
            #expect(cited.first?["n"] as? Int == 1 && cited.first?["name"] as? String == "plan.md", "\(cited)")
            #expect((cited.first?["text"] as? String)?.contains("Lisbon") == true)
            let code = try await MemoryAppTests.say(a, chat, "What is the code word?")
            #expect((code?["files"] as? [[String: Any]])?.first?["name"] as? String == "codes.pdf")
            #expect((try await a.get("/api/chat-projects/\(project)").json["conversation_ids"] as? [String]) == [chat])

            let outside = try await a.newConversation(#"{"temperature": 0}"#)
            let elsewhere = try await MemoryAppTests.say(a, outside, "When and where is the launch?")
            #expect((elsewhere?["files"] as? [Any] ?? []).isEmpty, "another chat gets none of the project's files")
            let bobs = try await b.newConversation(#"{"temperature": 0}"#)
            #expect((try await MemoryAppTests.say(b, bobs, "When is the launch in Lisbon?")?["files"] as? [Any] ?? []).isEmpty)

            let export = try await a.get("/api/export").json
            #expect((export["chat_projects"] as? [[String: Any]])?.first?["name"] as? String == "Launch")
            #expect((export["chat_project_files"] as? [Any])?.count == 2)
            let chunks = export["chat_project_chunks"] as? [[String: Any]] ?? []
            #expect(!chunks.isEmpty && chunks.allSatisfy { ($0["embedding"] as? [Any])?.count == 384 })

            let fileID = try #require(md.json["id"] as? String)
            #expect(try await b.call(.delete, "/api/chat-projects/\(project)/files/\(fileID)").status == .notFound)
            #expect(try await a.call(.delete, "/api/chat-projects/\(project)/files/\(fileID)").status == .noContent)
            let again = try await MemoryAppTests.say(a, chat, "When and where is the launch in Lisbon?")
            #expect(!(again?["files"] as? [[String: Any]] ?? []).contains { $0["name"] as? String == "plan.md" })
            #expect(try await a.call(.patch, "/api/chat-projects/\(project)", #"{"name": "Launch 2"}"#).json["name"] as? String == "Launch 2")
            #expect(try await a.call(.delete, "/api/chat-projects/\(project)").status == .noContent)
            #expect(try await a.tree(chat).conversation["project_id"] is NSNull, "the chat stays, outside any project")
        }
    }
}
