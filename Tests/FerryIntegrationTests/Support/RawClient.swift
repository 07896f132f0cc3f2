import Foundation

/// A plain TCP client on loopback for what curl will not send: malformed heads,
/// slow heads, early disconnects.
final class RawClient {
    let fd: Int32

    /// `source`: the local address to connect from (any of 127.0.0.0/8 works on
    /// loopback), so a test can be two clients; nil leaves it to the kernel.
    init(port: Int, host: String = "127.0.0.1", from source: String? = nil, receiveTimeout: Double = 20) throws {
        let family = host.contains(":") ? AF_INET6 : AF_INET
        fd = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var timeout = timeval(tv_sec: Int(receiveTimeout), tv_usec: Int(receiveTimeout.truncatingRemainder(dividingBy: 1) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let fd = fd
        func withAddress(_ host: String, port: Int, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
            if family == AF_INET {
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = in_port_t(port).bigEndian
                inet_pton(AF_INET, host, &address.sin_addr)
                return withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
            }
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = in_port_t(port).bigEndian
            inet_pton(AF_INET6, host, &address.sin6_addr)
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
        if let source, withAddress(source, port: 0, { bind(fd, $0, $1) }) != 0 {
            close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EADDRNOTAVAIL)
        }
        let result = withAddress(host, port: port) { connect(fd, $0, $1) }
        guard result == 0 else {
            close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .ECONNREFUSED)
        }
    }

    deinit { close(fd) }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Foundation.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    /// Reads until the server closes (or the receive timeout passes).
    func readAll(limit: Int = 64 << 20) -> [UInt8] {
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while output.count < limit {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { break }
            output += chunk[0..<n]
        }
        return output
    }

    /// The response as text, with the status code parsed from its first line.
    func response() -> HTTPResponseText { HTTPResponseText(readAll()) }
}

/// A raw HTTP response split into status, fields and body.
struct HTTPResponseText {
    let raw: [UInt8]
    var status = 0
    var statusLine = ""
    var fields: [(String, String)] = []
    var body: [UInt8] = []

    init(_ raw: [UInt8]) {
        self.raw = raw
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let end = raw.indices.first(where: { raw[$0...].starts(with: separator) }) else { return }
        let head = String(decoding: raw[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        statusLine = head.first ?? ""
        status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? 0
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        body = Array(raw[(end + 4)...])
    }

    func field(_ name: String) -> String? {
        fields.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}
