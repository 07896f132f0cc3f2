import Glibc
import Testing
@testable import FerryKit

/// Who a connection counts against under max_connections_per_address: IPv4 whole,
/// IPv6 by /64, link-local whole, and IPv6 forms that only carry an IPv4 address as
/// that address.
@Suite struct AddressKeyTests {
    /// A peer address as accept(2) would give it, for `text` (IPv4 or IPv6) and `port`.
    static func peer(_ text: String, port: UInt16 = 40000) -> SocketAddress {
        var peer = SocketAddress()
        withUnsafeMutableBytes(of: &peer.storage) { raw in
            if text.contains(":") {
                var address = sockaddr_in6()
                address.sin6_family = sa_family_t(AF_INET6)
                address.sin6_port = port.bigEndian
                #expect(inet_pton(AF_INET6, text, &address.sin6_addr) == 1)
                raw.storeBytes(of: address, as: sockaddr_in6.self)
            } else {
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = port.bigEndian
                #expect(inet_pton(AF_INET, text, &address.sin_addr) == 1)
                raw.storeBytes(of: address, as: sockaddr_in.self)
            }
        }
        peer.length = socklen_t(text.contains(":") ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
        return peer
    }

    static func key(_ text: String, port: UInt16 = 40000) -> AddressKey { AddressKey(peer(text, port: port)) }

    @Test func ipv4CountsWholeWhateverThePort() {
        #expect(Self.key("192.0.2.7", port: 1) == Self.key("192.0.2.7", port: 2))
        #expect(Self.key("192.0.2.7") != Self.key("192.0.2.8"))
        #expect(Self.key("127.0.0.1") != Self.key("127.0.0.2"))
        #expect(Self.key("192.0.2.7").description == "192.0.2.7")
    }

    @Test func ipv6FormsCarryingAnIPv4AddressCountAsIt() {
        #expect(Self.key("::ffff:192.0.2.7") == Self.key("192.0.2.7"))
        #expect(Self.key("64:ff9b::192.0.2.7") == Self.key("192.0.2.7"))
        #expect(Self.key("::ffff:192.0.2.7").description == "192.0.2.7")
    }

    @Test func ipv6CountsBySlash64() {
        let home = Self.key("2001:db8:1:2::1")
        #expect(home == Self.key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"))
        #expect(home != Self.key("2001:db8:1:3::1"), "the next /64 is another subscriber's")
        #expect(home != Self.key("2001:db9:1:2::1"))
        #expect(home.description == "2001:db8:1:2::/64")
        #expect(Self.key("::1").description == "::/64")
        #expect(Self.key("::1") != Self.key("0.0.0.1"), "loopback ::1 is not an IPv4 address")
    }

    /// Every link has the same fe80::/64: its prefix says nothing about the client.
    @Test func linkLocalCountsWhole() {
        #expect(Self.key("fe80::1") != Self.key("fe80::2"))
        #expect(Self.key("fe80::1", port: 1) == Self.key("fe80::1", port: 2))
        #expect(Self.key("febf::1") != Self.key("febf::2"), "fe80::/10 ends at febf")
        #expect(Self.key("fec0::1") == Self.key("fec0::2"))
        #expect(Self.key("fe80::1").description == "fe80::1")
    }
}
