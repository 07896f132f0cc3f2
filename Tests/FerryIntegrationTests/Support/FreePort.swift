import Foundation

/// A port nothing listens on right now on 127.0.0.1 (bound, read, released), for a
/// program that must be told its port before it starts.
func freeLoopbackPort() throws -> Int {
    guard let port = bindLoopback(port: 0) else { throw POSIXError(.EADDRINUSE) }
    return port
}

/// A free port on 127.0.0.1 below the kernel's ephemeral range
/// (net.ipv4.ip_local_port_range), for a server that must get the same port again
/// after a restart: neither the local end of some connection nor another `--port 0`
/// can take it in between.
func freeLoopbackPortBelowEphemeralRange() throws -> Int {
    let range = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
    let lowest = range.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 32768
    let candidates = 10_000..<max(lowest, 10_001)
    for _ in 0..<200 {
        if let port = bindLoopback(port: Int.random(in: candidates)) { return port }
    }
    throw POSIXError(.EADDRINUSE)
}

/// Binds a socket to 127.0.0.1:`port` (0: any) and releases it; the port it got, or
/// nil when the port is taken.
private func bindLoopback(port: Int) -> Int? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = in_port_t(port).bigEndian
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    return bound ? Int(in_port_t(bigEndian: address.sin_port)) : nil
}
