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
    /// sendmsg(2), built in `scratch`. The sender still owns its copies.
    public func send(connections: ArraySlice<PassedConnection>, scratch: inout ChannelScratch) throws {
        precondition(connections.count <= Self.maxConnectionsPerMessage)
        let length = scratch.writeConnections(connections)
        let sent = scratch.payload.withUnsafeBytes { raw in
            ferry_send_fds(fd, scratch.descriptors, Int32(connections.count), raw.baseAddress, length)
        }
        if sent < 0 { throw SystemError("sendmsg(SCM_RIGHTS)") }
    }

    /// Passes the access log the parent has just reopened (SIGUSR1). The sender still
    /// owns its copy.
    public func send(accessLog descriptor: Int32) throws {
        let payload = ParentMessageKind.accessLog.bytes
        let sent = payload.withUnsafeBytes { raw in
            withUnsafePointer(to: descriptor) { ferry_send_fds(fd, $0, 1, raw.baseAddress, raw.count) }
        }
        if sent < 0 { throw SystemError("sendmsg(SCM_RIGHTS)") }
    }

    /// Tells the worker it is being replaced (a reload), just before end of stream:
    /// its idle connections get one more request rather than being closed at once.
    public func sendRetire() throws {
        let payload = ParentMessageKind.retire.bytes
        let sent = payload.withUnsafeBytes { raw in ferry_send_fds(fd, nil, 0, raw.baseAddress, raw.count) }
        if sent < 0 { throw SystemError("sendmsg") }
    }

    /// Receives one message from the parent (a worker's channel is non-blocking: EAGAIN
    /// is thrown when none waits) into `scratch`. nil at end of stream. For
    /// connections, `scratch.connections` holds them, and `lost` the peers of those the
    /// message announced but whose descriptors did not arrive (a receiver out of
    /// descriptors): the kernel has closed them.
    public func receiveParentMessage(into scratch: inout ChannelScratch) throws -> ParentMessage? {
        scratch.connections.removeAll(keepingCapacity: true)
        var count: Int32 = 0
        var truncated: Int32 = 0
        let received = scratch.payload.withUnsafeMutableBytes { raw in
            ferry_recv_fds(fd, &scratch.descriptors, Int32(scratch.descriptors.count), &count, &truncated,
                           raw.baseAddress, raw.count)
        }
        if received < 0 { throw SystemError("recvmsg") }
        if received == 0 { return nil }
        let descriptors = scratch.descriptors[0..<Int(count)]
        switch scratch.kind(ofReceived: received) {
        case .retire:
            for extra in descriptors { close(extra) }
            return .retire
        case .accessLog where count >= 1:
            for extra in descriptors.dropFirst() { close(extra) }
            return .accessLog(descriptors[0])
        case .connections:
            let announced = scratch.peerCount(ofReceived: received)
            let taken = min(Int(count), announced)
            // Descriptors beyond the announced peers would be a sender's mistake: close them.
            for extra in descriptors[taken...] { close(extra) }
            for index in 0..<taken {
                scratch.connections.append(PassedConnection(fd: descriptors[index], peer: scratch.peer(index)))
            }
            return .connections(lost: (taken..<announced).map(scratch.peer))
        default:
            for extra in descriptors { close(extra) }
            throw SystemError("recvmsg: unknown message", code: EPROTO)
        }
    }
}

/// What the parent of prefork-pass-epoll sends a worker.
public enum ParentMessage {
    /// Connections to serve, in the scratch they were received into (`lost`: the peers
    /// of those announced whose descriptors did not arrive; the worker reports them
    /// closed).
    case connections(lost: [SocketAddress])
    /// The access log reopened by the parent (SIGUSR1): the worker moves it onto its
    /// own log descriptor, so it needs no permission to open the path itself.
    case accessLog(Int32)
    /// A reload replaces this worker; end of stream follows.
    case retire
}

/// The first four bytes of each message from a parent to a worker.
enum ParentMessageKind: UInt32 {
    case connections = 1
    case accessLog = 2
    case retire = 3

    var bytes: [UInt8] { withUnsafeBytes(of: rawValue) { Array($0) } }

    /// The size of the kind at the start of each message.
    static let size = MemoryLayout<UInt32>.size
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
