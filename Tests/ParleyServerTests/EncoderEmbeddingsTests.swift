import Foundation
import Hummingbird
import HummingbirdTesting
import ParleyEngine
import ParleyServer
import ParleyTestSupport
import Testing

/// `/v1/embeddings` served by a sentence-embedding model (`parley serve --embedding-model`), beside a chat
/// model whose pooled hidden states keep answering for its own id.
@Suite(.serialized) struct EncoderEmbeddingsTests {
    static let encoder = try! SentenceEncoder(directory: try! TestModels.path(named: "all-MiniLM-L6-v2"), threads: 2)

    static func app() -> some ApplicationProtocol {
        let api = ParleyAPI(catalog: ModelCatalog(ready: [ServerTests.served]), encoders: EncoderCatalog([encoder]))
        return Application(router: api.makeRouter())
    }

    func post(_ client: some TestClientProtocol, _ body: String) async throws -> (HTTPResponse.Status, [String: Any]) {
        try await client.execute(uri: "/v1/embeddings", method: .post, headers: [.contentType: "application/json"],
                                 body: ByteBuffer(string: body)) { r in
            (r.status, (try? JSONSerialization.jsonObject(with: Data(r.body.readableBytesView)) as? [String: Any]) ?? [:])
        }
    }

    static func vectors(_ response: [String: Any]) -> [[Double]] {
        ((response["data"] as? [[String: Any]]) ?? []).map { ($0["embedding"] as? [Double]) ?? [] }
    }

    @Test func aBatchOfStringsMatchesTheEngine() async throws {
        let texts = ["I'm vegetarian.", "我对花生过敏。", "The meeting moved to Thursday."]
        let expected = try Self.encoder.embed(texts)
        try await Self.app().test(.router) { client in
            let r = try await post(client, #"{"model": "all-MiniLM-L6-v2", "input": ["I'm vegetarian.", "我对花生过敏。", "The meeting moved to Thursday."]}"#)
            #expect(r.0 == .ok)
            #expect(r.1["model"] as? String == "all-MiniLM-L6-v2" && r.1["object"] as? String == "list")
            let data = r.1["data"] as? [[String: Any]] ?? []
            #expect(data.map { $0["index"] as? Int } == [0, 1, 2])
            let got = Self.vectors(r.1)
            #expect(got.count == 3)
            for (vector, reference) in zip(got, expected) {
                #expect(vector.count == 384)
                #expect(zip(vector, reference).allSatisfy { abs($0 - Double($1)) < 1e-6 })
            }
            let usage = r.1["usage"] as? [String: Any]
            let tokens = texts.map { Self.encoder.tokens($0).count }.reduce(0, +)
            #expect(usage?["prompt_tokens"] as? Int == tokens && usage?["total_tokens"] as? Int == tokens)
        }
    }

    @Test func base64AndTokenIDsAndErrors() async throws {
        try await Self.app().test(.router) { client in
            let floats = Self.vectors(try await post(client, #"{"model": "all-MiniLM-L6-v2", "input": "hello world"}"#).1)[0]
            let b64 = try await post(client, #"{"model": "all-MiniLM-L6-v2", "input": "hello world", "encoding_format": "base64"}"#)
            let text = (b64.1["data"] as? [[String: Any]])?.first?["embedding"] as? String ?? ""
            let bytes = [UInt8](Data(base64Encoded: text) ?? Data())
            #expect(bytes.count == 384 * 4)
            let decoded = stride(from: 0, to: bytes.count, by: 4).map { i in
                Double(Float(bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24))
            }
            #expect(decoded.count == floats.count && zip(decoded, floats).allSatisfy { abs($0 - $1) < 1e-6 })

            let ids = Self.encoder.tokens("hello world").map(String.init).joined(separator: ",")
            let byIDs = try await post(client, #"{"model": "all-MiniLM-L6-v2", "input": [[\#(ids)]]}"#)
            let idVector = Self.vectors(byIDs.1).first ?? []
            #expect(idVector.count == floats.count && zip(idVector, floats).allSatisfy { abs($0 - $1) < 1e-6 })

            #expect(try await post(client, #"{"model": "all-MiniLM-L6-v2", "input": []}"#).0 == .badRequest)
            #expect(try await post(client, #"{"model": "all-MiniLM-L6-v2", "input": [101, 40000000]}"#).0 == .badRequest)
            #expect(try await post(client, #"{"model": "all-MiniLM-L6-v2", "input": "x", "encoding_format": "hex"}"#).0 == .badRequest)
            #expect(try await post(client, #"{"model": "all-MiniLM-L6-v2", "input": "x", "dimensions": 128}"#).0 == .badRequest)
            #expect(try await post(client, #"{"model": "all-MiniLM-L6-v2", "input": [{"text": "x"}]}"#).0 == .badRequest)
            let tooLong = Array(repeating: "1000", count: 300).joined(separator: ",")
            #expect(try await post(client, #"{"model": "all-MiniLM-L6-v2", "input": [\#(tooLong)]}"#).0 == .badRequest)

            // The chat model keeps its own embeddings, and both are listed.
            let chat = try await post(client, #"{"model": "smollm2", "input": "hello"}"#)
            #expect(chat.0 == .ok && Self.vectors(chat.1).first?.count == ServerTests.served.model.hyperparameters.embeddingLength)
            let models = try await client.execute(uri: "/v1/models", method: .get) { r in
                (try? JSONSerialization.jsonObject(with: Data(r.body.readableBytesView)) as? [String: Any]) ?? [:]
            }
            let listed = (models["data"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(Set(listed) == ["smollm2", "all-MiniLM-L6-v2"])
        }
    }
}
