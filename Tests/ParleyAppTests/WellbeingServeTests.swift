import Foundation
import ParleyTestSupport
import ParleyWellbeing
import Testing

/// `parley serve --wellbeing-policy FILE`: the policy in force follows the file without a restart; an invalid
/// edit is logged with its path and the previous policy stays; an invalid file at start-up stops the start.
@Suite(.serialized) struct WellbeingServeTests {
    static let crisisText = "I have the pills ready and I'm going to end my life tonight"

    static func policy(_ edit: (inout [String: Any]) -> Void = { _ in }) throws -> Data {
        var object = try JSONSerialization.jsonObject(with: Data(WellbeingPolicy.defaultJSON.utf8)) as! [String: Any]
        edit(&object)
        return try JSONSerialization.data(withJSONObject: object)
    }

    /// The action `/v1/moderations` reports for the crisis text under the policy in force.
    static func moderatedAction(port: Int) throws -> String? {
        let r = try RawHTTP.request(port: port, method: "POST", path: "/v1/moderations",
                                    body: #"{"input": \#(jsonString(crisisText))}"#)
        let result = (r.json["results"] as? [[String: Any]])?.first
        return (result?["parley_wellbeing"] as? [String: Any])?["action"] as? String
    }

    @Test func policyFileIsReloadedAndAnInvalidEditIsRejected() async throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("parley-wbserve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        let file = home.appendingPathComponent("policy.json")
        try Self.policy().write(to: file, options: .atomic)

        let server = try LoggingServer.start(home: home, extra: ["--wellbeing-policy", file.path])
        defer { server.stop() }
        #expect(server.log.contains("wellbeing policy: \(file.path)"), "\(server.log)")
        #expect(try Self.moderatedAction(port: server.port) == "crisis_support")

        // A valid edit takes effect without a restart.
        try Self.policy { p in
            var actions = p["actions"] as! [String: Any]
            actions["self_harm_acute"] = "gentle_check_in"
            p["actions"] = actions
        }.write(to: file, options: .atomic)
        try await server.waitForLog("wellbeing policy reloaded")
        #expect(try Self.moderatedAction(port: server.port) == "gentle_check_in")

        // An invalid edit is logged with the offending path; the previous policy stays in force.
        try Self.policy { p in
            var actions = p["actions"] as! [String: Any]
            actions["self_harm_acute"] = "call_the_police"
            p["actions"] = actions
        }.write(to: file, options: .atomic)
        try await server.waitForLog("NOT reloaded")
        #expect(server.log.contains("policy.actions.self_harm_acute"), "\(server.log)")
        #expect(try Self.moderatedAction(port: server.port) == "gentle_check_in")
        let status = try RawHTTP.request(port: server.port, method: "GET", path: "/api/admin/wellbeing/policy")
        #expect((status.json["last_error"] as? String ?? "").contains("policy.actions.self_harm_acute"), "\(status.body)")
        #expect(status.json["source"] as? String == file.path)
    }

    @Test func anInvalidPolicyFileStopsTheStart() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("parley-wbserve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        let file = home.appendingPathComponent("policy.json")
        try Data(#"{"version": 1, "actions": {}}"#.utf8).write(to: file)
        let result = try parley(["serve", "--no-auth", "-m", TestModels.smolLM2, "--port", "0", "--wellbeing-policy", file.path],
                                environment: ["PARLEY_HOME": home.path])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--wellbeing-policy \(file.path)") && result.stderr.contains("policy.actions"), "\(result.stderr)")
    }
}

/// `parley serve --no-auth` on a free port whose stderr is collected as it comes, for tests that read the log.
final class LoggingServer: @unchecked Sendable {
    let process: Process
    let port: Int
    private let lock = NSLock()
    private var text = ""

    var log: String { lock.withLock { text } }

    private init(process: Process, port: Int) {
        self.process = process
        self.port = port
    }

    static func start(home: URL, extra: [String]) throws -> LoggingServer {
        let process = Process()
        process.executableURL = try ServerProcess.binary()
        process.arguments = ["serve", "--no-auth", "-m", TestModels.smolLM2, "--host", "127.0.0.1", "--port", "0",
                             "--parallel", "1", "--ctx", "512", "-t", "1"] + extra
        process.environment = ProcessInfo.processInfo.environment.merging(["PARLEY_HOME": home.path, "PARLEY_PIN_THREADS": "0"]) { $1 }
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let handle = err.fileHandleForReading
        var early = ""
        var port: Int?
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, port == nil {
            let data = handle.availableData
            if data.isEmpty { break }
            early += String(decoding: data, as: UTF8.self)
            if let range = early.range(of: #"listening on http://127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                port = Int(early[range].split(separator: ":").last ?? "")
            }
        }
        guard let port else {
            process.terminate()
            throw TestFailure("parley serve did not start: \(early)")
        }
        let server = LoggingServer(process: process, port: port)
        server.text = early
        // Keep reading, so the log is complete and the server never blocks on a full pipe.
        DispatchQueue.global().async { [weak server] in
            while true {
                let data = handle.availableData
                if data.isEmpty { return }
                guard let server else { return }
                server.lock.withLock { server.text += String(decoding: data, as: UTF8.self) }
            }
        }
        return server
    }

    /// Waits (up to 15 s: the file is polled every 2 s) until the log contains `needle`.
    func waitForLog(_ needle: String) async throws {
        _ = try await eventually("'\(needle)' in the server log") { log.contains(needle) ? true : nil }
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}
