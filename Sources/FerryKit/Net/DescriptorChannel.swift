import CFerry
import Glibc

/// One end of a UNIX SOCK_SEQPACKET socket pair between the parent and a worker.
/// The parent sends connected descriptors (SCM_RIGHTS) down it, one or a batch per
/// message; the worker sends fixed-size records back. Seqpacket keeps each message whole.
public struct DescriptorChannel {
    public let fd: Int32

    /// A connected pair: (parent end, worker end).
    public static func pair() throws -> (parent: DescriptorChannel, worker: DescriptorChannel) {
        var ends: [Int32] = [-1, -1]
        try check(socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends),
                  "socketpair")
        return (DescriptorChannel(fd: ends[0]), DescriptorChannel(fd: ends[1]))
    }

    /// Passes `descriptor` with a small payload. The sender still owns its copy.
    public func send<Payload>(descriptor: Int32, payload: Payload) throws {
        var payload = payload
        let sent = withUnsafeBytes(of: &payload) { raw in
            ferry_send_fd(fd, descriptor, raw.baseAddress, raw.count)
        }
        if sent < 0 { throw SystemError("sendmsg(SCM_RIGHTS)") }
    }

    /// Sends a record without a descriptor.
    public func send<Payload>(record: Payload) throws {
        try send(descriptor: -1, payload: record)
    }

    /// Waits for the next message. nil at end of stream (the other end closed).
    public func receive<Payload>(_ type: Payload.Type) throws -> (payload: Payload, descriptor: Int32?)? {
        var descriptor: Int32 = -1
        var payload = [UInt8](repeating: 0, count: MemoryLayout<Payload>.size)
        let received = payload.withUnsafeMutableBytes { raw in
            ferry_recv_fd(fd, &descriptor, raw.baseAddress, raw.count)
        }
        if received < 0 { throw SystemError("recvmsg") }
        if received == 0 { return nil }
        guard received == MemoryLayout<Payload>.size else {
            if descriptor >= 0 { close(descriptor) }
            throw SystemError("recvmsg: short record", code: EPROTO)
        }
        let value = payload.withUnsafeBytes { $0.loadUnaligned(as: Payload.self) }
        return (value, descriptor >= 0 ? descriptor : nil)
    }

    /// The most connections one `send(connections:)` carries (the kernel's SCM_MAX_FD).
    public static let maxConnectionsPerMessage = Int(FERRY_MAX_PASSED_FDS)

    /// Passes up to `maxConnectionsPerMessage` connections, each with its peer, in one
    /// sendmsg(2). The sender still owns its copies.
    public func send(connections: ArraySlice<PassedConnection>) throws {
        precondition(connections.count <= Self.maxConnectionsPerMessage)
        let descriptors = connections.map(\.fd)
        let peers = connections.map { PassedPeer($0.peer) }
        let sent = peers.withUnsafeBytes { raw in
            ferry_send_fds(fd, descriptors, Int32(descriptors.count), raw.baseAddress, raw.count)
        }
        if sent < 0 { throw SystemError("sendmsg(SCM_RIGHTS)") }
    }

    /// Receives one message of passed connections (a worker's channel is non-blocking:
    /// EAGAIN is thrown when none waits). nil at end of stream. `lost` counts the
    /// connections the message announced but whose descriptors did not arrive (a
    /// receiver out of descriptors): the kernel has closed them.
    public func receiveConnections() throws -> (connections: [PassedConnection], lost: Int)? {
        let capacity = Self.maxConnectionsPerMessage
        var descriptors = [Int32](repeating: -1, count: capacity)
        var peers = [PassedPeer](repeating: PassedPeer(), count: capacity)
        var count: Int32 = 0
        var truncated: Int32 = 0
        let received = peers.withUnsafeMutableBytes { raw in
            ferry_recv_fds(fd, &descriptors, Int32(capacity), &count, &truncated, raw.baseAddress, raw.count)
        }
        if received < 0 { throw SystemError("recvmsg") }
        if received == 0 { return nil }
        let announced = received / MemoryLayout<PassedPeer>.stride
        let taken = min(Int(count), announced)
        // Descriptors beyond the announced peers would be a sender's mistake: close them.
        for extra in descriptors[taken..<Int(count)] { close(extra) }
        let connections = (0..<taken).map { PassedConnection(fd: descriptors[$0], peer: peers[$0].address) }
        return (connections, announced - taken)
    }
}

/// A connection on its way from the parent to a worker.
public struct PassedConnection {
    public var fd: Int32
    public var peer: SocketAddress

    public init(fd: Int32, peer: SocketAddress) {
        self.fd = fd
        self.peer = peer
    }
}

/// A peer address as it crosses a channel: room for an IPv6 address and no more, so a
/// batch of 253 stays small (a whole sockaddr_storage would be 128 bytes each).
struct PassedPeer {
    var length: UInt32 = 0
    var address6 = sockaddr_in6()

    init() {}

    init(_ peer: SocketAddress) {
        var compact = PassedPeer()
        let count = min(Int(peer.length), MemoryLayout<sockaddr_in6>.size)
        withUnsafeBytes(of: peer.storage) { source in
            withUnsafeMutableBytes(of: &compact.address6) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[0..<count])) }
        }
        compact.length = UInt32(count)
        self = compact
    }

    var address: SocketAddress {
        var peer = SocketAddress()
        let count = min(Int(length), MemoryLayout<sockaddr_in6>.size)
        withUnsafeBytes(of: address6) { source in
            withUnsafeMutableBytes(of: &peer.storage) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[0..<count])) }
        }
        peer.length = socklen_t(count)
        return peer
    }
}
