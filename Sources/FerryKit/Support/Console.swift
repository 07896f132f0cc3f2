import Glibc

/// Unbuffered output. Ferry forks: anything sitting in a stdio buffer at fork time
/// would be printed twice, and a buffered line announcing the URL would never reach
/// a test reading the pipe. Every line goes out in one write(2) instead.
public enum Console {
    public static func out(_ line: String) { write(line, to: STDOUT_FILENO) }
    public static func error(_ line: String) { write(line, to: STDERR_FILENO) }

    /// Writes `line` plus a newline to `fd` in a single system call where possible
    /// (so lines from several processes sharing a descriptor do not interleave).
    public static func write(_ line: String, to fd: Int32) {
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        _ = writeFully(fd, bytes)
    }
}

/// Writes all of `bytes` to a blocking descriptor, looping over partial writes and
/// EINTR. Returns false when the descriptor fails.
@discardableResult
public func writeFully(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { raw in
        var offset = 0
        while offset < raw.count {
            let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += n
        }
        return true
    }
}
