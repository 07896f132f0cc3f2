import Glibc

/// The access log in Combined Log Format, one write(2) per line so lines from
/// several workers sharing the descriptor (O_APPEND) never interleave.
public final class AccessLog {
    private let fd: Int32?

    /// Where the lines go: standard output, nowhere, or a file opened for appending.
    public init(_ target: AccessLogTarget) throws {
        switch target {
        case .off: fd = nil
        case .stdout: fd = STDOUT_FILENO
        case .file(let path):
            let opened = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            if opened < 0 { throw SystemError("access log \(path)") }
            fd = opened
        }
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
        line += "\""
        Console.write(line, to: fd)
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
