import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Limits for one sandboxed program.
public struct SandboxLimits: Sendable {
    /// CPU seconds (RLIMIT_CPU: SIGXCPU, then SIGKILL).
    public var cpuSeconds = 10
    /// Address space in bytes (RLIMIT_AS: allocations beyond it fail).
    public var memoryBytes = 1 << 30
    /// Processes of the sandbox user (RLIMIT_NPROC: a fork bomb stops here).
    public var processes = 32
    /// Largest file the program may write, stdout and stderr included (RLIMIT_FSIZE).
    public var fileBytes = 16 << 20
    /// Wall-clock seconds before the whole sandbox is killed.
    public var wallSeconds = 20.0

    public init() {}
}

public struct SandboxResult: Sendable {
    public var exitStatus: Int32
    public var timedOut: Bool
    public var stdout: String
    public var stderr: String
    public var passed: Bool { exitStatus == 0 && !timedOut }
}

/// Runs untrusted Python (generated code and its tests) contained:
/// - its own process tree in new PID, mount and network namespaces (`unshare` from util-linux): no network
///   (only a loopback that is down), and killing the namespace's first process ends every process in it;
/// - every mount read-only except a fresh temporary directory, its working directory and $HOME;
/// - run as `nobody` when started as root (so RLIMIT_NPROC binds), with CPU, memory, process and file-size
///   rlimits (`prlimit`), an empty environment and isolated Python (`-I`);
/// - killed after `wallSeconds`; the temporary directory is removed afterwards.
/// Without root, `unshare --map-root-user` provides the namespaces and the program keeps the caller's uid.
public enum Sandbox {
    /// The interpreter: `PARLEY_SANDBOX_PYTHON`, else the system's (readable by the sandbox user), else PATH's.
    public static var python: String {
        if let configured = ProcessInfo.processInfo.environment["PARLEY_SANDBOX_PYTHON"], !configured.isEmpty { return configured }
        return FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "python3"
    }

    /// The setup run inside the namespaces: $1 is the sandbox directory, $2 drops privileges ("1") or not, the
    /// rest is the command. The shell stays the namespace's first process (no exec): it keeps the parent-death
    /// signal that `--kill-child` set (changing uid would clear it), so killing `unshare` kills the namespace.
    static let setupScript = """
        set -e
        dir="$1"; drop="$2"; shift 2
        mount --make-rprivate /
        mount --bind "$dir" "$dir"
        for m in $(awk '{print $2}' /proc/self/mounts | sort -u); do
          mount -o remount,bind,ro "$m" 2>/dev/null || true
        done
        mount -o remount,bind,rw "$dir"
        cd "$dir"
        set +e
        if [ "$drop" = 1 ]; then
          setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"
        else
          "$@"
        fi
        exit $?
        """

    public static func runPython(_ program: String, limits: SandboxLimits = SandboxLimits()) throws -> SandboxResult {
        let fileManager = FileManager.default
        let base = fileManager.temporaryDirectory
        let work = base.appending(path: "parley-sandbox-\(UUID().uuidString)")
        let directory = work.appending(path: "box")
        try fileManager.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? fileManager.removeItem(at: work) }
        // The program's directory is writable by the sandbox user; the output files beside it are not in it.
        chmod(directory.path, 0o777)
        chmod(work.path, 0o711)
        try Data(program.utf8).write(to: directory.appending(path: "program.py"))
        let stdoutURL = work.appending(path: "stdout"), stderrURL = work.appending(path: "stderr")
        _ = fileManager.createFile(atPath: stdoutURL.path, contents: nil)
        _ = fileManager.createFile(atPath: stderrURL.path, contents: nil)

        let isRoot = geteuid() == 0
        var arguments = ["--net", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc"]
        if !isRoot { arguments.insert("--map-root-user", at: 0) }
        arguments += ["--", "/bin/sh", "-c", setupScript, "sandbox", directory.path, isRoot ? "1" : "0",
                      "/usr/bin/env", "-i", "PATH=/usr/local/bin:/usr/bin:/bin", "HOME=\(directory.path)",
                      "PYTHONDONTWRITEBYTECODE=1",
                      "prlimit", "--cpu=\(limits.cpuSeconds)", "--as=\(limits.memoryBytes)", "--nproc=\(limits.processes)",
                      "--fsize=\(limits.fileBytes)", "--core=0", "--nofile=64", "--",
                      python, "-I", "-B", "program.py"]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.arguments = arguments
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        do {
            try process.run()
        } catch {
            throw EvalError("cannot start the sandbox (/usr/bin/unshare from util-linux): \(error.localizedDescription)")
        }
        var timedOut = false
        if finished.wait(timeout: .now() + limits.wallSeconds) == .timedOut {
            timedOut = true
            // unshare's child is the namespace's init and dies with it (--kill-child); with it, every process.
            kill(process.processIdentifier, SIGKILL)
            finished.wait()
        }
        func read(_ url: URL) -> String {
            let data = (try? Data(contentsOf: url)) ?? Data()
            return String(decoding: data.prefix(64 << 10), as: UTF8.self)
        }
        let stderr = read(stderrURL)
        if !timedOut, process.terminationStatus != 0,
           stderr.contains("unshare failed") || stderr.contains("unshare: ") && stderr.contains("Operation not permitted") {
            throw EvalError("the sandbox cannot create namespaces here: \(stderr.split(separator: "\n").first ?? "")")
        }
        return SandboxResult(exitStatus: process.terminationStatus, timedOut: timedOut, stdout: read(stdoutURL), stderr: stderr)
    }
}
