import Foundation
import ParleyGGUF
import ParleyModels
#if canImport(Glibc)
import Glibc
#endif

/// A fresh directory under the system temp dir, removed by `cleanup()`.
struct Scratch {
    let url: URL

    init(_ label: String = "store") throws {
        url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("parley-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    var path: String { url.path }
    func cleanup() { try? FileManager.default.removeItem(at: url) }
}

/// A small valid GGUF file: real metadata keys, two tensors, a chat template and a license.
func tinyModelBytes(padTo size: Int = 200_000) -> [UInt8] {
    var w = GGUFWriter()
    w.metadata = [
        ("general.architecture", .string("llama")),
        ("general.name", .string("Tiny Test")),
        ("general.license", .string("apache-2.0")),
        ("general.file_type", .uint32(7)),
        ("llama.context_length", .uint32(512)),
        ("tokenizer.chat_template", .string("{% for m in messages %}{{ m.content }}{% endfor %}")),
    ]
    let rows = max(1, (size - 1024) / 34 / 4)
    w.tensors = [
        .init(name: "token_embd.weight", dimensions: [128, rows], type: .q8_0, data: [UInt8](repeating: 7, count: 4 * 34 * rows)),
        .init(name: "output_norm.weight", dimensions: [128], type: .f32, data: [UInt8](repeating: 0, count: 512)),
    ]
    return w.serialize()
}

func sha256Hex(_ data: Data) throws -> String {
    let scratch = try Scratch("hash")
    defer { scratch.cleanup() }
    let file = scratch.url.appendingPathComponent("f")
    try data.write(to: file)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["sha256sum", file.path]
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    return String(text.prefix(64))
}

/// Collects pull events.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [PullEvent] = []

    func record(_ e: PullEvent) {
        lock.lock()
        items.append(e)
        lock.unlock()
    }

    var events: [PullEvent] {
        lock.lock()
        defer { lock.unlock() }
        return items
    }
}

/// A minimal HTTP/1.1 server on 127.0.0.1 for the download tests: one thread per connection, one request per
/// connection, byte ranges, and scripted misbehaviour (dropping a connection part-way).
final class LoopbackServer: @unchecked Sendable {
    struct Request {
        var method: String
        var path: String
        var headers: [String: String]
    }

    enum Response {
        /// The body, honouring `Range: bytes=N-`; `dropAfter` closes the connection after that many body bytes
        /// although the headers promised more.
        case body(Data, contentType: String = "application/octet-stream", dropAfter: Int? = nil)
        case status(Int)
    }

    let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var log: [Request] = []
    private let handler: @Sendable (Request, Int) -> Response

    init(handler: @escaping @Sendable (Request, Int) -> Response) throws {
        self.handler = handler
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket failed") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else { close(fd); throw Failure("bind/listen failed") }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        port = Int(UInt16(bigEndian: addr.sin_port))
        listener = fd
        let t = Thread { [self] in acceptLoop() }
        t.start()
    }

    struct Failure: Error { let message: String; init(_ m: String) { message = m } }

    var url: String { "http://127.0.0.1:\(port)" }

    var requests: [Request] {
        lock.lock()
        defer { lock.unlock() }
        return log
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            let t = Thread { [self] in serve(client) }
            t.start()
        }
    }

    private func serve(_ fd: Int32) {
        defer { close(fd) }
        var buffer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !buffer.containsHeaderEnd {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { return }
            buffer += chunk[0..<n]
        }
        let text = String(decoding: buffer, as: UTF8.self)
        let lines = text.components(separatedBy: "\r\n")
        let first = lines[0].split(separator: " ")
        guard first.count >= 2 else { return }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let request = Request(method: String(first[0]), path: String(first[1]), headers: headers)
        lock.lock()
        log.append(request)
        let number = log.count
        lock.unlock()

        switch handler(request, number) {
        case .status(let code):
            let body = "status \(code)\n"
            send(fd, "HTTP/1.1 \(code) \(code == 404 ? "Not Found" : "Error")\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)")
        case .body(let data, let contentType, let dropAfter):
            var start = 0
            var status = "200 OK"
            var extra = ""
            if let range = headers["range"], range.hasPrefix("bytes="), let dash = range.firstIndex(of: "-"),
               let from = Int(range[range.index(range.startIndex, offsetBy: 6)..<dash]) {
                guard from < data.count else {
                    send(fd, "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */\(data.count)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    return
                }
                start = from
                status = "206 Partial Content"
                extra = "Content-Range: bytes \(from)-\(data.count - 1)/\(data.count)\r\n"
            }
            let body = data[(data.startIndex + start)...]
            send(fd, "HTTP/1.1 \(status)\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n\(extra)Accept-Ranges: bytes\r\nConnection: close\r\n\r\n")
            let limit = dropAfter.map { min($0, body.count) } ?? body.count
            var sent = 0
            body.withUnsafeBytes { raw in
                while sent < limit {
                    let n = Glibc.send(fd, raw.baseAddress! + sent, min(65536, limit - sent), Int32(MSG_NOSIGNAL))
                    if n <= 0 { return }
                    sent += n
                }
            }
            // With `dropAfter`, the connection closes here although the headers promised more: every byte sent
            // arrives (a reset could discard some in flight), so the resume point is exact.
        }
    }

    private func send(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }
}

private extension Array where Element == UInt8 {
    var containsHeaderEnd: Bool {
        guard count >= 4 else { return false }
        for i in 0...(count - 4) where self[i] == 13 && self[i + 1] == 10 && self[i + 2] == 13 && self[i + 3] == 10 {
            return true
        }
        return false
    }
}

