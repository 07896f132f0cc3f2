import Glibc

/// Who a connection counts against under `max_connections_per_address`, taken from its
/// peer address:
///
/// - an IPv4 address, whole; an IPv6 address that only carries one (IPv4-mapped
///   `::ffff:a.b.c.d` from a dual-stack socket, or NAT64's well-known `64:ff9b::/96`)
///   is that IPv4 address;
/// - a global or unique-local IPv6 address by its /64 prefix: a single subscriber gets
///   at least a /64 and may use any of its 2^64 addresses (privacy addresses change by
///   themselves), so counting per /128 would limit nobody;
/// - a link-local IPv6 address (`fe80::/10`), whole: every link has the same fe80::/64,
///   so its prefix says nothing about who is behind it.
///
/// Stored as the 16 bytes of an IPv6 address (IPv4 in its mapped form, the interface
/// half of a /64 zeroed) in two big-endian words: fixed width, so a worker's report
/// carries keys as raw bytes.
struct AddressKey: Hashable, CustomStringConvertible {
    var high: UInt64
    var low: UInt64

    /// The IPv4-mapped form's fixed middle: `::ffff:0:0/96`.
    private static let mappedIPv4: UInt64 = 0x0000_FFFF_0000_0000
    /// NAT64's well-known prefix, `64:ff9b::/96` (RFC 6052): the high word, and a low
    /// word whose upper half is zero.
    private static let nat64: UInt64 = 0x0064_FF9B_0000_0000

    init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    init(_ peer: SocketAddress) {
        switch peer.family {
        case AF_INET:
            let address = withUnsafeBytes(of: peer.storage) { $0.load(as: sockaddr_in.self).sin_addr }
            self.init(ipv4: UInt32(bigEndian: address.s_addr))
        case AF_INET6:
            let address = withUnsafeBytes(of: peer.storage) { $0.load(as: sockaddr_in6.self).sin6_addr }
            let (high, low) = withUnsafeBytes(of: address) {
                (UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self)),
                 UInt64(bigEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
            }
            self.init(ipv6High: high, low: low)
        default:
            // Not an IP peer (never from a TCP listener): all such count as one.
            self.init(high: 0, low: 0)
        }
    }

    private init(ipv4: UInt32) {
        self.init(high: 0, low: Self.mappedIPv4 | UInt64(ipv4))
    }

    private init(ipv6High high: UInt64, low: UInt64) {
        let full = AddressKey(high: high, low: low)
        if full.isIPv4 || (high == Self.nat64 && low >> 32 == 0) {
            self.init(ipv4: UInt32(truncatingIfNeeded: low))
        } else if full.isLinkLocal {
            self = full
        } else {
            self.init(high: high, low: 0)
        }
    }

    /// An IPv4 address, in its mapped form.
    private var isIPv4: Bool { high == 0 && low & 0xFFFF_FFFF_0000_0000 == Self.mappedIPv4 }

    /// In `fe80::/10`.
    private var isLinkLocal: Bool { high >> 54 == 0x3FA }

    /// "192.0.2.7", "2001:db8:1:2::/64" or "fe80::1".
    var description: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        if isIPv4 {
            var address = in_addr(s_addr: UInt32(truncatingIfNeeded: low).bigEndian)
            inet_ntop(AF_INET, &address, &text, socklen_t(text.count))
            return String(cString: text)
        }
        var address = in6_addr()
        withUnsafeMutableBytes(of: &address) { raw in
            raw.storeBytes(of: high.bigEndian, as: UInt64.self)
            raw.storeBytes(of: low.bigEndian, toByteOffset: 8, as: UInt64.self)
        }
        inet_ntop(AF_INET6, &address, &text, socklen_t(text.count))
        return String(cString: text) + (isLinkLocal ? "" : "/64")
    }
}
