import Glibc

/// A host name that getaddrinfo could not turn into addresses.
public struct UnresolvableHost: Error, CustomStringConvertible {
    public let host: String
    public let reason: String

    public var description: String { "cannot resolve host '\(host)': \(reason)" }
}

public extension SocketAddress {
    /// Every TCP address `host` names for `port`, IPv4 first, without duplicates.
    /// "localhost" is 127.0.0.1 and ::1 whatever /etc/hosts lists (RFC 6761).
    /// `passive` asks for addresses to bind (an empty host is then the wildcard).
    static func resolve(host: String, port: Int, passive: Bool = false) throws -> [SocketAddress] {
        if host == "localhost" {
            return try resolve(host: "127.0.0.1", port: port, passive: passive)
                + resolve(host: "::1", port: port, passive: passive)
        }
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0)
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host.isEmpty ? nil : host, String(port), &hints, &list)
        guard status == 0, list != nil else {
            throw UnresolvableHost(host: host, reason: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(list) }
        var addresses: [SocketAddress] = []
        var entry = list
        while let info = entry?.pointee {
            entry = info.ai_next
            guard info.ai_family == AF_INET || info.ai_family == AF_INET6 else { continue }
            var address = SocketAddress()
            withUnsafeMutableBytes(of: &address.storage) { raw in
                raw.copyMemory(from: UnsafeRawBufferPointer(start: info.ai_addr, count: Int(info.ai_addrlen)))
            }
            address.length = info.ai_addrlen
            if !addresses.contains(where: { $0.description == address.description }) { addresses.append(address) }
        }
        return addresses.filter { $0.family == AF_INET } + addresses.filter { $0.family == AF_INET6 }
    }
}
