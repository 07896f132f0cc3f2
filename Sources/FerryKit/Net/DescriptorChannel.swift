import CFerry
import Glibc

/// One end of a UNIX SOCK_SEQPACKET socket pair between the parent and a worker.
/// The parent sends connected descriptors (SCM_RIGHTS) down it; the worker sends a
/// fixed-size record back after each connection. Seqpacket keeps each message whole.
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
}
