import Glibc

/// A client's IP address as a session keeps it: 20 bytes instead of a 128-byte
/// `sockaddr_storage`, written out as text only when a log line needs it.
@_spi(Benchmarks) public struct PeerAddress {
    private var family: sa_family_t = 0
    /// IPv4 in the first 4 bytes, IPv6 in all 16.
    private var address: (UInt64, UInt64) = (0, 0)

    @_spi(Benchmarks) public init(_ socketAddress: SocketAddress) {
        family = sa_family_t(socketAddress.family)
        withUnsafeBytes(of: socketAddress.storage) { raw in
            withUnsafeMutableBytes(of: &address) { target in
                switch socketAddress.family {
                case AF_INET:
                    var ipv4 = raw.load(as: sockaddr_in.self).sin_addr
                    withUnsafeBytes(of: &ipv4) { target.copyMemory(from: $0) }
                case AF_INET6:
                    var ipv6 = raw.load(as: sockaddr_in6.self).sin6_addr
                    withUnsafeBytes(of: &ipv6) { target.copyMemory(from: $0) }
                default:
                    break
                }
            }
        }
    }

    /// Appends the numeric host ("127.0.0.1", "::1"; "-" for another family) to `bytes`.
    func appendHost(to bytes: inout [UInt8]) {
        var text: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        var address = self.address
        let written = withUnsafeMutableBytes(of: &text) { output in
            withUnsafeBytes(of: &address) { input in
                inet_ntop(Int32(family), input.baseAddress, output.baseAddress!.assumingMemoryBound(to: CChar.self),
                          socklen_t(output.count)) != nil ? strlen(output.baseAddress!.assumingMemoryBound(to: CChar.self)) : 0
            }
        }
        if written == 0 {
            bytes.append(UInt8(ascii: "-"))
            return
        }
        withUnsafeBytes(of: &text) { bytes.append(contentsOf: $0[..<Int(written)]) }
    }

    /// The numeric host as text, for error messages.
    var host: String {
        var bytes: [UInt8] = []
        appendHost(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}
