import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Downloads one URL into a partial file, resuming with a Range request from what the file already holds.
/// A connection that drops after sending bytes is retried from where it stopped; one that cannot be made at all
/// (no DNS, refused, connect timeout) fails at once so the next source is tried.
struct HTTPDownload {
    var url: URL
    var partial: URL
    var connectTimeout: TimeAmount
    var readTimeout: TimeAmount
    var maxAttempts = 5
    var progress: @Sendable (_ done: Int, _ total: Int?) -> Void

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Returns the byte count of the complete file.
    func run() async throws -> Int {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .follow(max: 10, allowCycles: false),
            timeout: .init(connect: connectTimeout, read: readTimeout))
        configuration.httpVersion = .automatic
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let size = try await download(client)
            try await client.shutdown()
            return size
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private func currentSize() -> Int {
        (try? FileManager.default.attributesOfItem(atPath: partial.path)[.size] as? Int) ?? 0
    }

    private func download(_ client: HTTPClient) async throws -> Int {
        var attempt = 0
        var lastError = "no attempt made"
        // Attempts count only while the file stops growing: a connection that keeps dropping but keeps
        // delivering new bytes is resumed until the file is complete.
        var longest = 0
        while attempt < maxAttempts {
            attempt += 1
            var offset = FileManager.default.fileExists(atPath: partial.path) ? currentSize() : 0
            var request = HTTPClientRequest(url: url.absoluteString)
            request.headers.add(name: "User-Agent", value: "parley")
            if offset > 0 { request.headers.add(name: "Range", value: "bytes=\(offset)-") }

            let response: HTTPClientResponse
            do {
                response = try await client.execute(request, deadline: .distantFuture)
            } catch {
                // Nothing came back from the server at all: that source is unreachable.
                throw Failure(description: "cannot connect to \(url.host ?? url.absoluteString): \(Self.describe(error))")
            }

            var total: Int?
            switch response.status.code {
            case 200:
                offset = 0
                total = response.headers.first(name: "Content-Length").flatMap(Int.init)
            case 206:
                guard let range = response.headers.first(name: "Content-Range").flatMap(Self.parseContentRange),
                      range.start == offset else {
                    // A range we did not ask for: start over.
                    try? FileManager.default.removeItem(at: partial)
                    lastError = "the server answered a resume with an unexpected range"
                    continue
                }
                total = range.total
            case 416 where offset > 0:
                // The partial file is no prefix of this resource (or already longer): start over.
                try? FileManager.default.removeItem(at: partial)
                lastError = "the server refused to resume (HTTP 416)"
                continue
            default:
                throw Failure(description: "HTTP \(response.status.code) \(response.status.reasonPhrase)")
            }

            let fd = open(partial.path, O_WRONLY | O_CREAT | O_CLOEXEC | (offset == 0 ? O_TRUNC : O_APPEND), 0o644)
            guard fd >= 0 else {
                throw Failure(description: "cannot write \(partial.path): \(String(cString: strerror(errno)))")
            }
            var done = offset
            progress(done, total)
            do {
                defer { close(fd) }
                for try await chunk in response.body {
                    try chunk.withUnsafeReadableBytes { buffer in
                        var written = 0
                        while written < buffer.count {
                            let n = write(fd, buffer.baseAddress! + written, buffer.count - written)
                            if n < 0 {
                                if errno == EINTR { continue }
                                throw Failure(description: "cannot write \(partial.path): \(String(cString: strerror(errno)))")
                            }
                            written += n
                        }
                    }
                    done += chunk.readableBytes
                    progress(done, total)
                }
            } catch let failure as Failure {
                throw failure
            } catch {
                lastError = "the connection dropped after \(done) bytes: \(Self.describe(error))"
                if done > longest { attempt = 0; longest = done }
                continue
            }
            if let total, done != total {
                lastError = "the connection ended after \(done) of \(total) bytes"
                if done > longest { attempt = 0; longest = done }
                continue
            }
            return done
        }
        throw Failure(description: lastError)
    }

    /// "bytes 100-199/200" → (100, 200); the total may be "*".
    static func parseContentRange(_ value: String) -> (start: Int, total: Int?)? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        guard trimmed.lowercased().hasPrefix("bytes ") else { return nil }
        let spec = trimmed.dropFirst(6)
        let parts = spec.split(separator: "/", maxSplits: 1)
        guard parts.count == 2, let dash = parts[0].firstIndex(of: "-"), let start = Int(parts[0][..<dash]) else {
            return nil
        }
        return (start, Int(parts[1]))
    }

    static func describe(_ error: Error) -> String {
        let text = String(describing: error)
        return text.count > 300 ? String(text.prefix(300)) + "…" : text
    }
}
