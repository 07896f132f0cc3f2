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

/// A running `ferry` subcommand (or another `executable`) whose output is collected.
/// Stop it with `stop()`; the deinit kills it if a test forgot, so no test leaves a
/// process behind.
final class FerryProcess {
    let process = Process()
    let stdout: PipeCollector
    let stderr: PipeCollector
    private var stopped = false

    var pid: Int32 { process.processIdentifier }
    var output: String { String(decoding: stdout.snapshot, as: UTF8.self) }
    var errors: String { String(decoding: stderr.snapshot, as: UTF8.self) }

    /// `launcher` runs the executable through a program that execs it (`prlimit
    /// --nofile=64 --`), so `pid` is still the executable's. `environment` adds to
    /// (or replaces in) this process's environment.
    init(_ arguments: [String], directory: String? = nil, executable: String = ferryBinary,
         launcher: [String] = [], environment: [String: String] = [:]) throws {
        if let program = launcher.first {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [program] + launcher.dropFirst() + [executable] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        }
        process.currentDirectoryURL = URL(fileURLWithPath: directory ?? packageRoot)
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        stdout = PipeCollector(out.fileHandleForReading)
        stderr = PipeCollector(err.fileHandleForReading)
        try process.run()
    }

    deinit {
        if !stopped && process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Waits (bounded) until standard output contains `text`; returns whether it did.
    @discardableResult
    func waitForOutput(_ text: String, timeout: Double = 30) -> Bool {
        waitUntil(timeout: timeout) { self.output.contains(text) }
    }

    /// Waits (bounded) until standard error contains `text`.
    @discardableResult
    func waitForErrors(_ text: String, timeout: Double = 30) -> Bool {
        waitUntil(timeout: timeout) { self.errors.contains(text) }
    }

    /// Sends `signal`, then waits (bounded) for exit; SIGKILL if it does not end.
    /// Returns the exit status and everything printed.
    @discardableResult
    func stop(signal: Int32 = SIGTERM, timeout: Double = 40) -> (status: Int32, stdout: String, stderr: String) {
        stopped = true
        if process.isRunning { kill(process.processIdentifier, signal) }
        return wait(timeout: timeout)
    }

    /// Waits (bounded) for the process to end by itself; SIGKILL after `timeout`.
    @discardableResult
    func wait(timeout: Double = 40) -> (status: Int32, stdout: String, stderr: String) {
        stopped = true
        waitUntil(timeout: timeout) { !self.process.isRunning }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout.finish(), as: UTF8.self),
                String(decoding: stderr.finish(), as: UTF8.self))
    }

    /// The process's children (workers of a prefork server).
    func childPIDs() -> [Int32] {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return text.split(separator: " ").compactMap { Int32($0) }
    }

    /// The first "127.0.0.1:PORT" the process printed, once it has printed it.
    func announcedPort(timeout: Double = 30) -> Int? {
        var port: Int?
        waitUntil(timeout: timeout) {
            guard let range = self.output.range(of: "127.0.0.1:") else { return !self.process.isRunning }
            port = Int(self.output[range.upperBound...].prefix { $0.isNumber })
            return port != nil
        }
        return port
    }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes.
@discardableResult
func waitUntil(timeout: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

/// A running `ferry serve` on a free loopback port.
final class FerryServer {
    let ferry: FerryProcess
    let port: Int

    var pid: Int32 { ferry.pid }
    var base: String { "http://127.0.0.1:\(port)" }

    /// Starts `ferry serve ARGS --host 127.0.0.1 --port 0` (unless ARGS name a host or
    /// port) and waits for the line that announces the URL.
    init(_ arguments: [String] = [], directory: String? = nil, launcher: [String] = []) throws {
        var arguments = ["serve"] + arguments
        if !arguments.contains("--host") { arguments += ["--host", "127.0.0.1"] }
        if !arguments.contains("--port") { arguments += ["--port", "0"] }
        ferry = try FerryProcess(arguments, directory: directory, launcher: launcher)
        guard let port = ferry.announcedPort() else {
            let errors = ferry.stop(signal: SIGKILL).stderr
            throw CommandError.timedOut("ferry serve did not announce a URL: \(errors)")
        }
        self.port = port
    }

    @discardableResult
    func stop(signal: Int32 = SIGTERM, timeout: Double = 40) -> (status: Int32, stdout: String, stderr: String) {
        ferry.stop(signal: signal, timeout: timeout)
    }

    func workerPIDs() -> [Int32] { ferry.childPIDs() }
}
