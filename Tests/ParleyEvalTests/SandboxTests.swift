import Foundation
import ParleyEval
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What generated code could do to the machine, contained by the sandbox.
@Suite(.serialized) struct SandboxTests {
    var limits: SandboxLimits {
        var limits = SandboxLimits()
        limits.cpuSeconds = 5
        limits.wallSeconds = 20
        return limits
    }

    @Test func aCorrectProgramPassesAndAWrongOneFails() throws {
        let good = try Sandbox.runPython("def add(a, b):\n    return a + b\nassert add(2, 3) == 5\nprint('ok')\n", limits: limits)
        #expect(good.passed, "\(good.stderr)")
        #expect(good.stdout == "ok\n")
        let bad = try Sandbox.runPython("assert 1 + 1 == 3\n", limits: limits)
        #expect(!bad.passed)
        #expect(bad.stderr.contains("AssertionError"))
    }

    @Test func noNetwork() throws {
        // A listener on the host's loopback: the sandbox has its own network namespace and cannot reach it,
        // nor anything outside.
        let (listener, port) = try listenOnLoopback()
        defer { close(listener) }
        let program = """
            import socket, sys
            failures = 0
            for host, port in [("127.0.0.1", \(port)), ("1.1.1.1", 53), ("8.8.8.8", 443)]:
                try:
                    socket.create_connection((host, port), timeout=3).close()
                    print("reached", host)
                except OSError as e:
                    failures += 1
            sys.exit(0 if failures == 3 else 1)
            """
        let result = try Sandbox.runPython(program, limits: limits)
        #expect(result.passed, "\(result.stdout) \(result.stderr)")
        #expect(!result.stdout.contains("reached"))
    }

    @Test func writesOutsideTheTemporaryDirectoryFail() throws {
        let outside = FileManager.default.temporaryDirectory.appending(path: "parley-escape-\(UUID().uuidString)")
        let home = FileManager.default.homeDirectoryForCurrentUser.appending(path: "parley-escape-\(UUID().uuidString)")
        let program = """
            import os
            open("inside.txt", "w").write("fine")
            blocked = 0
            for path in [\(String(reflecting: outside.path)), \(String(reflecting: home.path)), "/etc/parley-escape"]:
                try:
                    open(path, "w").write("escaped")
                except OSError:
                    blocked += 1
            assert blocked == 3, blocked
            assert open("inside.txt").read() == "fine"
            """
        let result = try Sandbox.runPython(program, limits: limits)
        #expect(result.passed, "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: outside.path))
        #expect(!FileManager.default.fileExists(atPath: home.path))
        #expect(!FileManager.default.fileExists(atPath: "/etc/parley-escape"))
    }

    @Test func endlessLoopIsKilled() throws {
        var short = limits
        short.cpuSeconds = 2
        short.wallSeconds = 6
        let started = Date()
        let result = try Sandbox.runPython("while True:\n    pass\n", limits: short)
        #expect(!result.passed)
        // Killed by the CPU limit or the wall clock, well before a test runner's patience.
        #expect(Date().timeIntervalSince(started) < 15)
    }

    @Test func forkBombIsContained() throws {
        let started = Date()
        let result = try Sandbox.runPython("import os\nwhile True:\n    os.fork()\n", limits: limits)
        #expect(!result.passed)
        #expect(Date().timeIntervalSince(started) < 30)
        // Nothing of it survives.
        #expect(try processesRunning("program.py") == 0)
    }

    @Test func hugeAllocationFails() throws {
        let result = try Sandbox.runPython("x = bytearray(16 * 1024 ** 3)\nprint(len(x))\n", limits: limits)
        #expect(!result.passed)
        #expect(result.stderr.contains("MemoryError"))
    }

    /// A TCP listener on 127.0.0.1 at a free port.
    func listenOnLoopback() throws -> (Int32, Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard fd >= 0, bound, listen(fd, 4) == 0 else { throw EvalError("cannot listen on the loopback") }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// Processes whose command line mentions `name`.
    func processesRunning(_ name: String) throws -> Int {
        let entries = try FileManager.default.contentsOfDirectory(atPath: "/proc").filter { Int($0) != nil }
        return entries.filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: data, as: UTF8.self).contains(name)
        }.count
    }
}
