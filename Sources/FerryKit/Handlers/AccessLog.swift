import CFerry
import Glibc

/// The access log in Combined Log Format, one write(2) per line so lines from
/// several workers sharing the descriptor (O_APPEND) never interleave.
///
/// A log that cannot be written never stops or slows serving: each line is one
/// attempt on a non-blocking descriptor, and a line that fails (a full disk, a FIFO
/// nobody reads) is dropped. `LogFailureReport` says so on standard error once a
/// minute at most.
///
/// Rotation (SIGUSR1): the process that may open the path (the parent, which keeps
/// its privileges) calls `reopen()`, which puts the new file behind the same
/// descriptor number; a worker given that file over its channel calls `adopt(_:)`.
/// Either way the number the handlers write to never changes, so a thread writing a
/// line meanwhile writes it whole to the old file or to the new one.
public final class AccessLog {
    public let target: AccessLogTarget
    private let fd: Int32?
    private let failures: LogFailureReport

    /// Where the lines go: standard output, nowhere, or a file opened for appending.
    public init(_ target: AccessLogTarget) throws {
        self.target = target
        switch target {
        case .off:
            fd = nil
            failures = LogFailureReport(name: "off")
        case .stdout:
            fd = STDOUT_FILENO
            failures = LogFailureReport(name: "stdout")
        case .file(let path):
            fd = try Self.open(path)
            failures = LogFailureReport(name: path)
        }
    }

    /// The descriptor a parent passes to its workers after `reopen()`; nil for stdout and off.
    public var fileDescriptor: Int32? {
        if case .file = target { return fd }
        return nil
    }

    /// Opens the file again (it was renamed or removed by a rotation) and puts it
    /// behind this log's descriptor. Returns false for stdout and off (nothing to
    /// reopen); throws when the path cannot be opened, and the old file stays.
    @discardableResult
    public func reopen() throws -> Bool {
        guard case .file(let path) = target, let fd else { return false }
        let opened = try Self.open(path)
        defer { Glibc.close(opened) }
        if ferry_dup_onto(opened, fd) < 0 { throw SystemError("access log \(path): dup3") }
        failures.reset()
        return true
    }

    /// A worker's side of `reopen()`: `received` (the parent's reopened file, passed
    /// over the channel) replaces this log's file, and is closed.
    public func adopt(_ received: Int32) {
        defer { Glibc.close(received) }
        guard let fd = fileDescriptor else { return }
        if ferry_dup_onto(received, fd) < 0 {
            Console.error("ferry: access log \(failures.name): cannot take the reopened file: \(SystemError("dup3"))")
            return
        }
        failures.reset()
    }

    /// Closes the file (a parent whose new configuration logs elsewhere; its workers
    /// keep their own copies).
    public func close() {
        if let fd = fileDescriptor { Glibc.close(fd) }
    }

    /// `127.0.0.1 - - [06/Nov/1994:08:49:37 +0000] "GET / HTTP/1.0" 200 1234 "referer" "agent"`.
    /// `bytes` is the body bytes actually sent; "-" when none.
    public func record(peer: SocketAddress, requestLine: String?, status: Int, bytes: Int64,
                       referer: String?, userAgent: String?) {
        guard let fd else { return }
        var line = peer.host
        line += " - - ["
        line += HTTPDate.commonLog(wallClockSeconds())
        line += "] \""
        line += requestLine.map(Self.escape) ?? "-"
        line += "\" \(status) "
        line += bytes > 0 ? String(bytes) : "-"
        line += " \""
        line += referer.map(Self.escape) ?? "-"
        line += "\" \""
        line += userAgent.map(Self.escape) ?? "-"
        line += "\"\n"
        let bytes = Array(line.utf8)
        let written = bytes.withUnsafeBytes { raw in
            var result: Int
            repeat { result = write(fd, raw.baseAddress, raw.count) } while result < 0 && errno == EINTR
            return result
        }
        // One attempt: a partial line (the disk filled up under it) counts as lost too.
        if written != bytes.count { failures.dropped(code: written < 0 ? errno : ENOSPC) }
    }

    private static func open(_ path: String) throws -> Int32 {
        // O_NONBLOCK: a FIFO as the log must not stall a worker (a regular file ignores it).
        let opened = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NONBLOCK, 0o644)
        if opened < 0 { throw SystemError("access log \(path)") }
        return opened
    }

    /// Quotes, backslashes and non-printable bytes become \xHH, so a client cannot
    /// forge log fields or terminal escapes.
    static func escape(_ text: String) -> String {
        var output = ""
        for byte in text.utf8 {
            if byte >= 0x20 && byte < 0x7F && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") {
                output.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                output += "\\x" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return output
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
