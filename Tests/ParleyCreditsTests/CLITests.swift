import Foundation
import Hummingbird
import HummingbirdTesting
import ParleyServer
import ParleyStore
import ParleyTestSupport
import Testing

/// `parley users add` and `parley credits …` as an outside check runs them: the built binary on a PARLEY_HOME.
@Suite struct CLITests {
    @Test func usersAddPrintsAKeyThatAuthenticatesOnAPIAndV1() async throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("parley-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        let env = ["PARLEY_HOME": home.path]

        let root = try parley(["users", "add", "root", "--admin"], environment: env)
        #expect(root.status == 0, "\(root.stderr)")
        let rootKey = root.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(rootKey.hasPrefix("pk-") && !rootKey.contains("\n"))
        let bob = try parley(["users", "add", "bob"], environment: env)
        #expect(bob.status == 0, "\(bob.stderr)")
        let bobKey = bob.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let again = try parley(["users", "add", "bob"], environment: env)
        #expect(again.status != 0 && again.stderr.contains("already exists"), "\(again.stderr)")

        let area = try parley(["credits", "areas", "add", "video"], environment: env)
        #expect(area.status == 0, "\(area.stderr)")
        let report = try parley(["credits", "report", "--csv"], environment: env)
        #expect(report.status == 0, "\(report.stderr)")
        #expect(report.stdout.hasPrefix("research_area,requests,"))
        #expect(report.stdout.contains("\nvideo,0,0,0,0,,,0,0,0,false,\n"))

        let store = try await openStore(home.appendingPathComponent("parley.sqlite").path)
        #expect(try await store.user(email: "root")?.isAdmin == true)
        #expect(try await store.user(email: "bob")?.isAdmin == false)
        let catalog = ModelCatalog(ready: [APITests.served])
        let app = try await ChatApp.start(store: store, catalog: catalog)
        try await Application(router: ParleyAPI(catalog: catalog, app: app).makeRouter()).test(.router) { client in
            func status(_ method: HTTPRequest.Method, _ path: String, _ key: String, _ body: String? = nil) async throws -> Int {
                var headers: HTTPFields = [.authorization: "Bearer \(key)"]
                if body != nil { headers[.contentType] = "application/json" }
                return try await client.execute(uri: path, method: method, headers: headers,
                                                body: body.map { ByteBuffer(string: $0) }) { Int($0.status.code) }
            }
            let statuses = [
                try await status(.get, "/api/session", rootKey), try await status(.get, "/v1/models", rootKey),
                try await status(.get, "/v1/models", bobKey), try await status(.get, "/v1/models", "pk-not-a-key"),
                try await status(.post, "/api/research-areas", rootKey, #"{"name": "economics"}"#),
                try await status(.post, "/api/research-areas", bobKey, #"{"name": "model policy"}"#),
            ]
            #expect(statuses == [200, 200, 200, 401, 201, 403])
        }
        try await store.close()
    }
}
