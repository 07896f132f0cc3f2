import Foundation
import Testing

// Shared fixtures of the `ferry serve` suites: a scratch tree per suite (a document
// root and what lies outside it), an optional server shared by the suite's tests, and
// small helpers to send requests and hash downloads.

/// A directory under /tmp for one suite. `root/` inside it is the document root;
/// everything else (secrets the safety tests try to reach, configs, downloads) sits
/// beside it, outside the root. Paths given to the methods are relative to `path`.
final class Scratch: @unchecked Sendable {
    let path: String
    private let lock = NSLock()
    private var hashes: [String: String] = [:]

    /// The document root, "root/" in the scratch directory.
    var root: String { path + "/root" }

    init(_ label: String) throws {
        var template = Array("/tmp/ferry-test-\(label)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        path = String(cString: made)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    /// The absolute path of `relative`.
    func at(_ relative: String) -> String { path + "/" + relative }

    /// Deletes the whole tree (big files included).
    func remove() {
        _ = try? run("rm", ["-rf", path], timeout: 60)
    }

    func write(_ relative: String, _ text: String) throws {
        try write(relative, bytes: Array(text.utf8))
    }

    func write(_ relative: String, bytes: [UInt8]) throws {
        try makeParent(of: relative)
        try Data(bytes).write(to: URL(fileURLWithPath: at(relative)))
    }

    func directory(_ relative: String) throws {
        try FileManager.default.createDirectory(atPath: at(relative), withIntermediateDirectories: true)
    }

    /// A symbolic link at `relative` whose content is `target`, verbatim.
    func symlink(_ relative: String, to target: String) throws {
        try makeParent(of: relative)
        guard Foundation.symlink(target, at(relative)) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }

    func fifo(_ relative: String) throws {
        try makeParent(of: relative)
        guard mkfifo(at(relative), 0o644) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }

    /// `bytes` of /dev/urandom, written by head(1) without passing through this process.
    func random(_ relative: String, bytes: Int) throws {
        try makeParent(of: relative)
        try shell("head -c \"$1\" /dev/urandom > \"$2\"", String(bytes), at(relative))
    }

    /// A sparse file of `size` bytes (truncate(1)): holes read as zeros.
    func sparse(_ relative: String, size: Int64) throws {
        try makeParent(of: relative)
        try shell("truncate -s \"$1\" \"$2\"", String(size), at(relative))
    }

    /// Overwrites the bytes at `offset` with `text`, keeping the rest of the file.
    func patch(_ relative: String, at offset: Int64, _ text: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: at(relative)))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        try handle.write(contentsOf: Data(text.utf8))
    }

    /// Sets the modification time (seconds since the epoch).
    func touch(_ relative: String, mtime: Int) throws {
        try shell("touch -d \"@$1\" \"$2\"", String(mtime), at(relative))
    }

    func read(_ relative: String) -> [UInt8] {
        (try? Array(Data(contentsOf: URL(fileURLWithPath: at(relative))))) ?? []
    }

    /// sha256 of a file, computed once per file and path (files the tests hash are
    /// not changed after they are first hashed).
    func sha256(_ relative: String) throws -> String {
        lock.lock()
        if let known = hashes[relative] { lock.unlock(); return known }
        lock.unlock()
        let hash = try sha256File(at(relative))
        lock.lock(); hashes[relative] = hash; lock.unlock()
        return hash
    }

    /// A fresh empty directory for one test's downloads, inside the scratch tree.
    func downloads() throws -> String {
        let relative = "downloads-" + UUID().uuidString
        try directory(relative)
        return at(relative)
    }

    private func makeParent(of relative: String) throws {
        let parent = URL(fileURLWithPath: at(relative)).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
    }
}

/// Runs `script` with bash, `arguments` as $1, $2, ...; throws unless it exits 0.
@discardableResult
func shell(_ script: String, _ arguments: String..., timeout: Double = 120) throws -> CommandResult {
    let result = try run("bash", ["-c", "set -euo pipefail; " + script, "bash"] + arguments, timeout: timeout)
    guard result.status == 0 else { throw ShellError(script: script, status: result.status, stderr: result.stderr) }
    return result
}

struct ShellError: Error, CustomStringConvertible {
    var script: String
    var status: Int32
    var stderr: String
    var description: String { "`\(script)` exited with \(status): \(stderr)" }
}

/// sha256sum of a file.
func sha256File(_ path: String) throws -> String {
    try firstWord(shell("sha256sum \"$1\"", path).text)
}

/// sha256sum of bytes.
func sha256(_ bytes: [UInt8]) throws -> String {
    try firstWord(run("sha256sum", [], stdin: Data(bytes)).text)
}

/// sha256 of what a download command writes to standard output, hashed as it
/// streams (a 300 MiB body never lands in memory or on disk). Throws if the command
/// fails (pipefail).
func sha256OfDownload(_ command: String, _ arguments: String..., timeout: Double = 120) throws -> String {
    let script = command + " | sha256sum"
    let result = try run("bash", ["-c", "set -o pipefail; " + script, "bash"] + arguments, timeout: timeout)
    guard result.status == 0 else { throw ShellError(script: script, status: result.status, stderr: result.stderr) }
    return firstWord(result.text)
}

private func firstWord(_ text: String) -> String {
    String(text.prefix { !$0.isWhitespace })
}

// MARK: the suite fixture

/// What a suite's scratch tree holds: `build` writes the files the suite needs.
protocol FixtureSite: SendableMetatype {
    static func build(_ scratch: Scratch) throws
}

/// Builds a suite's scratch tree once, before its first test, and removes it after
/// its last; optionally starts one `ferry serve` on its root for all of the suite's
/// tests (`serving` holds extra arguments; nil: no shared server). Tests reach both
/// through `Fixture`.
struct SuiteFixture: SuiteTrait, TestScoping {
    let label: String
    let serving: [String]?
    let site: any FixtureSite.Type

    final class Current: @unchecked Sendable {
        let scratch: Scratch
        let server: FerryServer?
        init(scratch: Scratch, server: FerryServer?) {
            self.scratch = scratch
            self.server = server
        }
    }

    @TaskLocal static var current: Current?

    func provideScope(for test: Test, testCase: Test.Case?,
                      performing function: @Sendable () async throws -> Void) async throws {
        let scratch = try Scratch(label)
        defer { scratch.remove() }
        try site.build(scratch)
        let server = try serving.map { try FerryServer($0 + [scratch.root]) }
        defer { server?.stop() }
        try await Self.$current.withValue(Current(scratch: scratch, server: server)) {
            try await function()
        }
    }
}

extension Trait where Self == SuiteFixture {
    /// `.fixture("ranges", site: RangeSite.self)`: see `SuiteFixture`.
    static func fixture(_ label: String, serving: [String]? = [], site: any FixtureSite.Type) -> Self {
        SuiteFixture(label: label, serving: serving, site: site)
    }
}

/// The fixture of the suite the calling test belongs to.
enum Fixture {
    static var scratch: Scratch {
        guard let current = SuiteFixture.current else { fatalError("the suite lacks a .fixture(...) trait") }
        return current.scratch
    }

    static var server: FerryServer {
        guard let server = SuiteFixture.current?.server else { fatalError("the suite's fixture starts no server") }
        return server
    }
}

// MARK: requests

/// Sends `request` verbatim on a new connection and reads the response to its end.
func exchange(_ port: Int, _ request: String, receiveTimeout: Double = 20) throws -> HTTPResponseText {
    let client = try RawClient(port: port, receiveTimeout: receiveTimeout)
    client.send(request)
    return client.response()
}

/// `METHOD target VERSION` with `headers` ("Name: value"), as a raw HTTP/1.0 exchange.
func request(_ port: Int, _ target: String, method: String = "GET", headers: [String] = [],
             version: String = "HTTP/1.0") throws -> HTTPResponseText {
    var text = "\(method) \(target) \(version)\r\n"
    for header in headers { text += header + "\r\n" }
    return try exchange(port, text + "\r\n")
}

extension HTTPResponseText {
    var bodyText: String { String(decoding: body, as: UTF8.self) }
    var rawText: String { String(decoding: raw, as: UTF8.self) }
    /// The field names and values except Date (which may tick between two requests).
    var fieldsWithoutDate: [String] {
        fields.filter { $0.0.lowercased() != "date" }.map { "\($0.0): \($0.1)" }
    }
}

extension RawClient {
    /// Reads until end of stream or an error; returns the bytes and the errno that
    /// ended the read (0 for an orderly end of stream, ECONNRESET for a reset).
    func readAllNotingError() -> (bytes: [UInt8], error: Int32) {
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n > 0 { output += chunk[0..<n]; continue }
            if n < 0 && errno == EINTR { continue }
            return (output, n == 0 ? 0 : errno)
        }
    }

    /// Reads exactly `count` bytes (fewer if the stream ends first).
    func read(count: Int) -> [UInt8] {
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while output.count < count {
            let n = recv(fd, &chunk, min(chunk.count, count - output.count), 0)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            output += chunk[0..<n]
        }
        return output
    }

    /// Reads up to and including the blank line that ends a response head.
    func readHead() -> HTTPResponseText {
        var head: [UInt8] = []
        var byte: UInt8 = 0
        while !head.suffix(4).elementsEqual("\r\n\r\n".utf8) {
            guard recv(fd, &byte, 1, 0) == 1 else { break }
            head.append(byte)
        }
        return HTTPResponseText(head)
    }

    /// Closing after this sends a RST instead of a FIN (SO_LINGER with a zero timeout).
    func resetOnClose() {
        var option = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
    }
}

extension FerryServer {
    /// The worker PIDs once there are at least `count` (the parent announces its URL
    /// before it forks them); after 10 s, whatever there are.
    func workers(atLeast count: Int) -> [Int32] {
        waitUntil(timeout: 10) { workerPIDs().count >= count }
        return workerPIDs()
    }
}

/// A temporary --config file in `scratch` with `toml` as its content; returns its path.
func configFile(_ scratch: Scratch, _ toml: String) throws -> String {
    let relative = "config-\(UUID().uuidString).toml"
    try scratch.write(relative, toml)
    return scratch.at(relative)
}

/// A value computed on a background thread, so a test can act while a client runs.
final class Background<Value>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<Value, Error>?

    init(_ body: @escaping () throws -> Value) {
        Thread.detachNewThread { [self] in
            result = Result { try body() }
            done.signal()
        }
    }

    /// Waits (bounded) for the value; rethrows what the body threw.
    func value(timeout: Double) throws -> Value {
        guard done.wait(timeout: .now() + timeout) == .success, let result else {
            throw CommandError.timedOut("background work")
        }
        return try result.get()
    }
}

/// Seconds since `start`.
func seconds(since start: Date) -> Double { Date().timeIntervalSince(start) }
