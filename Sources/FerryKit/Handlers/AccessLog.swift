import CFerry
import Glibc

/// The access log's file, shared by every worker: lines in Combined Log Format are
/// made and gathered by each worker's `AccessLogWriter` and written here in whole
/// lines, so lines from several workers sharing the descriptor (O_APPEND) never
/// interleave.
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

    /// Whether the log is a regular file: writes to it are atomic whatever their
    /// size, while a pipe keeps only writes of up to PIPE_BUF (4096) bytes whole.
    var isRegularFile: Bool {
        guard let fd else { return false }
        var status = stat()
        return fstat(fd, &status) == 0 && status.st_mode & S_IFMT == S_IFREG
    }

    /// Whether lines are written anywhere (false for off).
    var isOn: Bool { fd != nil }

    /// Writes `bytes`, which hold `lines` whole lines, in one attempt: lines that do
    /// not make it (a full disk, a FIFO nobody reads) are dropped, never retried, so
    /// serving never waits for the log.
    func write(_ bytes: UnsafeRawBufferPointer, lines: Int) {
        guard let fd, !bytes.isEmpty else { return }
        let written = retryingOnInterrupt { Glibc.write(fd, bytes.baseAddress, bytes.count) }
        switch written {
        case .success(let count) where count == bytes.count:
            return
        case .success:
            // A partial batch (the disk filled up under it) counts as lost too.
            failures.dropped(lines: lines, code: ENOSPC)
        case .failure(let error):
            failures.dropped(lines: lines, code: error.rawValue)
        }
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
        var output: [UInt8] = []
        appendEscaped(Array(text.utf8), to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// `escape` of bytes, appended to `output`.
    static func appendEscaped<Bytes: Sequence>(_ bytes: Bytes, to output: inout [UInt8]) where Bytes.Element == UInt8 {
        for byte in bytes {
            if byte >= 0x20 && byte < 0x7F && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") {
                output.append(byte)
            } else {
                output.append(UInt8(ascii: "\\"))
                output.append(UInt8(ascii: "x"))
                output.append(ASCII.hexDigit(byte >> 4))
                output.append(ASCII.hexDigit(byte & 0x0F))
            }
        }
    }
}
