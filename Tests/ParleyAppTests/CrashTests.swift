import Foundation
import ParleyTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The real `parley serve` binary: killed with SIGKILL in the middle of a reply, restarted on the same
/// database, it still has the user's message and the reply as far as it was flushed, marked incomplete.
@Suite(.serialized) struct CrashTests {
    /// Greedy SmolLM2 answers this with ~1000 tokens (3 s alone); a "very long story" at temperature 1 could end
    /// within a quarter second of its first text once decoding got faster, before the crash came.
    static let longPrompt = "List 200 animals, one per line, numbered."

    @Test func replyCutByACrashSurvivesAsIncomplete() async throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("parley-crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }

        var server = try ServerProcess.start(home: home)
        defer { server.kill() }
        let port = server.port
        let created = try RawHTTP.request(port: port, method: "POST", path: "/api/conversations", body: #"{"temperature": 0}"#)
        #expect(created.status == 201, "\(created.body)")
        let id = try #require(created.json["id"] as? String)

        // Stream a long reply until text has arrived and at least 600 ms have passed since, then kill the server.
        let stream = try RawHTTP.Stream(port: port, method: "POST", path: "/api/conversations/\(id)/messages",
                                        body: #"{"content": "\#(Self.longPrompt)"}"#)
        var firstText: Date?
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            guard try stream.readSome() else { break }
            if firstText == nil, stream.received.contains("event: delta") { firstText = Date() }
            if let t = firstText, Date().timeIntervalSince(t) >= 0.6 { break }
        }
        let textArrived = try #require(firstText, "no text streamed: \(stream.received.prefix(2000))")
        #expect(Date().timeIntervalSince(textArrived) >= 0.6)
        #expect(!stream.received.contains("event: done"), "the reply finished before the crash; ask for a longer one")
        let streamedUser = stream.received.contains("event: user")
        server.kill()
        stream.close()
        #expect(streamedUser)

        // Restart on the same database.
        server = try ServerProcess.start(home: home)
        let tree = try RawHTTP.request(port: server.port, method: "GET", path: "/api/conversations/\(id)")
        #expect(tree.status == 200, "\(tree.body)")
        let messages = tree.json["messages"] as? [[String: Any]] ?? []
        let user = messages.first { $0["role"] as? String == "user" }
        #expect(user?["content"] as? String == Self.longPrompt)
        let reply = messages.first { $0["role"] as? String == "assistant" }
        #expect(reply?["parent_id"] as? String == user?["id"] as? String)
        #expect(reply?["status"] as? String == "incomplete")
        let kept = reply?["content"] as? String ?? ""
        #expect(!kept.isEmpty)
        #expect(messages.count == 2)
        // The title came from the first message before the crash.
        #expect((tree.json["conversation"] as? [String: Any])?["title"] as? String != "")
    }

    @Test func noAuthRefusesANonLoopbackHost() throws {
        let result = try parley(["serve", "--no-auth", "--host", "0.0.0.0", "-m", TestModels.smolLM2])
        #expect(result.status != 0)
        #expect(result.stderr.contains("loopback"), "\(result.stderr)")
    }
}

/// `parley serve --no-auth` on a free port with a PARLEY_HOME of its own.
struct ServerProcess {
    let process: Process
    let port: Int

    static func binary() throws -> URL {
        let url = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("parley")
        let candidates = [url, Bundle.main.bundleURL.appendingPathComponent("parley")]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw TestFailure("parley binary not found next to the test runner (\(candidates.map(\.path)))")
        }
        return found
    }

    static func start(home: URL) throws -> ServerProcess {
        let process = Process()
        process.executableURL = try binary()
        process.arguments = ["serve", "--no-auth", "-m", TestModels.smolLM2, "--host", "127.0.0.1", "--port", "0",
                             "--parallel", "2", "--ctx", "2048", "-t", "2"]
        process.environment = ProcessInfo.processInfo.environment.merging(["PARLEY_HOME": home.path, "PARLEY_PIN_THREADS": "0"]) { $1 }
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Read stderr until the port is known and the model is ready.
        var log = ""
        var port: Int?
        let deadline = Date().addingTimeInterval(120)
        let handle = err.fileHandleForReading
        while Date() < deadline {
            let data = handle.availableData
            if data.isEmpty { break }
            log += String(decoding: data, as: UTF8.self)
            if port == nil, let range = log.range(of: #"listening on http://127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                port = Int(log[range].split(separator: ":").last ?? "")
            }
            if port != nil, log.contains("ready:") { break }
            if log.contains("failed") || log.contains("Error") { break }
        }
        guard let port, log.contains("ready:") else {
            process.terminate()
            throw TestFailure("parley serve did not start: \(log)")
        }
        // Keep draining stderr so the server never blocks on a full pipe.
        DispatchQueue.global().async { while !handle.availableData.isEmpty {} }
        return ServerProcess(process: process, port: port)
    }

    mutating func kill() {
        if process.isRunning {
            Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// A minimal HTTP/1.1 client over a blocking socket: enough to read an event stream as it arrives.
enum RawHTTP {
    struct Reply {
        let status: Int
        let body: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
    }

    static func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket failed") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard ok == 0 else {
            close(fd)
            throw TestFailure("connect to \(port) failed")
        }
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    static func send(_ fd: Int32, method: String, path: String, body: String?) throws {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        if let body { text += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n" }
        text += "\r\n" + (body ?? "")
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw TestFailure("send failed") }
            sent += n
        }
    }

    /// One request; reads the whole reply (the server closes the connection).
    static func request(port: Int, method: String, path: String, body: String? = nil) throws -> Reply {
        let fd = try connect(port: port)
        defer { close(fd) }
        try send(fd, method: method, path: path, body: body)
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            data += buffer[0..<n]
        }
        let text = String(decoding: data, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw TestFailure("bad reply: \(text)") }
        let head = text[..<split.lowerBound]
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        var body = String(text[split.upperBound...])
        if head.lowercased().contains("transfer-encoding: chunked") { body = dechunk(body) }
        return Reply(status: status, body: body)
    }

    static func dechunk(_ s: String) -> String {
        var out = "", rest = Substring(s)
        while let line = rest.range(of: "\r\n") {
            guard let size = Int(rest[..<line.lowerBound], radix: 16), size > 0 else { break }
            let start = line.upperBound
            let bytes = Array(rest[start...].utf8)
            let chunk = bytes.prefix(size)
            out += String(decoding: chunk, as: UTF8.self)
            rest = Substring(String(decoding: bytes.dropFirst(size).dropFirst(2), as: UTF8.self))
        }
        return out
    }

    /// A request whose reply is read piece by piece.
    final class Stream {
        let fd: Int32
        private(set) var received = ""

        init(port: Int, method: String, path: String, body: String?) throws {
            fd = try RawHTTP.connect(port: port)
            try RawHTTP.send(fd, method: method, path: path, body: body)
        }

        /// Reads what has arrived (waiting for something); false at the end of the reply.
        func readSome() throws -> Bool {
            var buffer = [UInt8](repeating: 0, count: 16384)
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { return false }
            received += String(decoding: buffer[0..<n], as: UTF8.self)
            return true
        }

        func close() { Glibc.close(fd) }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
