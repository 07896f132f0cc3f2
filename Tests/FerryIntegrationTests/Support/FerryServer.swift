import Foundation

/// The built `ferry` binary, next to the test bundle in the build products.
let ferryBinary: String = {
    if let path = ProcessInfo.processInfo.environment["FERRY_BINARY"] { return path }
    let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    return products.appendingPathComponent("ferry").path
}()

/// The package root (for public/ and conf/).
let packageRoot: String = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path

/// A running `ferry serve` on a free loopback port. Stop it with `stop()`; the
/// deinit kills it if a test forgot.
final class FerryServer {
    let process = Process()
    let port: Int
    let stdout: PipeCollector
    let stderr: PipeCollector
    private var stopped = false

    var pid: Int32 { process.processIdentifier }
    var base: String { "http://127.0.0.1:\(port)" }

    /// Starts `ferry serve ARGS --host 127.0.0.1 --port 0` (unless ARGS name a host
    /// or port) and waits for the line that announces the URL.
    init(_ arguments: [String] = [], directory: String? = nil, announceTimeout: Double = 30) throws {
        process.executableURL = URL(fileURLWithPath: ferryBinary)
        var arguments = ["serve"] + arguments
        if !arguments.contains("--host") { arguments += ["--host", "127.0.0.1"] }
        if !arguments.contains("--port") { arguments += ["--port", "0"] }
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory ?? packageRoot)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        stdout = PipeCollector(out.fileHandleForReading)
        stderr = PipeCollector(err.fileHandleForReading)
        try process.run()

        let deadline = Date().addingTimeInterval(announceTimeout)
        var found: Int?
        while found == nil && Date() < deadline && process.isRunning {
            found = Self.announcedPort(in: String(decoding: stdout.snapshot, as: UTF8.self))
            if found == nil { usleep(20_000) }
        }
        guard let found else {
            let message = "ferry did not announce a URL: \(String(decoding: stderr.snapshot, as: UTF8.self))"
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            throw CommandError.timedOut(message)
        }
        port = found
    }

    deinit {
        if !stopped && process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    private static func announcedPort(in output: String) -> Int? {
        guard let range = output.range(of: "http://127.0.0.1:") else { return nil }
        let digits = output[range.upperBound...].prefix { $0.isNumber }
        return Int(digits)
    }

    /// SIGTERM, then waits (bounded) for exit; SIGKILL if it does not. Returns the
    /// exit status and everything printed.
    @discardableResult
    func stop(signal: Int32 = SIGTERM, timeout: Double = 40) -> (status: Int32, stdout: String, stderr: String) {
        stopped = true
        if process.isRunning { kill(process.processIdentifier, signal) }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout.finish(), as: UTF8.self),
                String(decoding: stderr.finish(), as: UTF8.self))
    }

    /// The worker processes: children of the server.
    func workerPIDs() -> [Int32] {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return text.split(separator: " ").compactMap { Int32($0) }
    }
}
