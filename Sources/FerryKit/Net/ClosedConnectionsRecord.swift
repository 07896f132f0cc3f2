import CFerry
import Glibc

/// How `ClosedConnections` crosses a channel from a worker to its parent: records of a
/// `ConnectionReport` (40 bytes) followed by up to `maxAddressesPerReport` 16-byte
/// `AddressKey`s. Seqpacket keeps each record whole. A record with no addresses is
/// exactly a plain `ConnectionReport`, as prefork-pass's workers send it, so one reader
/// serves both pool models.
extension DescriptorChannel {
    /// The most addresses one record carries: 253 keys and the counts make 4,088
    /// bytes, so a record fits whole even in the smallest send buffer the kernel
    /// allows (4,608 bytes; a record larger than the buffer could never be sent).
    static let maxAddressesPerReport = 253

    /// The size of the largest record: what the receiver's buffer must hold.
    static let maxReportBytes = MemoryLayout<ConnectionReport>.size
        + maxAddressesPerReport * MemoryLayout<AddressKey>.stride

    /// Sends `closed` and empties it, in as many records as its addresses need: each
    /// record but the last counts exactly the connections whose addresses it carries;
    /// the last carries the rest of the counts (requests, bytes). A full channel
    /// (EAGAIN) throws after the records that went out: what did not stays in `closed`
    /// for the next try.
    func send(closed: inout ClosedConnections) throws {
        let keySize = MemoryLayout<AddressKey>.stride
        while !closed.isEmpty {
            let count = min(closed.addresses.count, Self.maxAddressesPerReport)
            let isLast = count == closed.addresses.count
            var counts = closed.counts
            if !isLast {
                counts = ConnectionReport()
                counts.connections = Int64(count)
            }
            let first = closed.addresses.count - count
            let sent = withUnsafeBytes(of: &counts) { head in
                closed.addresses.withUnsafeBytes { keys in
                    sendRecord(head, UnsafeRawBufferPointer(rebasing: keys[(first * keySize)...]))
                }
            }
            if sent < 0 { throw SystemError("sendmsg") }
            if isLast {
                closed.counts = ConnectionReport()
                closed.addresses.removeAll(keepingCapacity: true)
            } else {
                closed.counts.connections -= Int64(count)
                closed.addresses.removeLast(count)
            }
        }
    }

    /// Receives one record into `buffer`, which must hold `maxReportBytes` (the reader
    /// keeps one, so that reading reports allocates no buffer). nil at end of stream.
    func receiveClosed(using buffer: inout [UInt8]) throws -> ClosedConnections? {
        precondition(buffer.count >= Self.maxReportBytes)
        var descriptor: Int32 = -1
        let received = buffer.withUnsafeMutableBytes { raw in
            ferry_recv_fd(fd, &descriptor, raw.baseAddress, raw.count)
        }
        // A report carries no descriptor; one that came anyway must not leak.
        if descriptor >= 0 { close(descriptor) }
        if received < 0 { throw SystemError("recvmsg") }
        if received == 0 { return nil }
        let headSize = MemoryLayout<ConnectionReport>.size
        let keySize = MemoryLayout<AddressKey>.stride
        guard received >= headSize, (received - headSize) % keySize == 0 else {
            throw SystemError("recvmsg: malformed report (\(received) bytes)", code: EPROTO)
        }
        var closed = ClosedConnections()
        buffer.withUnsafeBytes { raw in
            closed.counts = raw.loadUnaligned(as: ConnectionReport.self)
            closed.addresses = (0..<(received - headSize) / keySize).map {
                raw.loadUnaligned(fromByteOffset: headSize + $0 * keySize, as: AddressKey.self)
            }
        }
        guard closed.counts.connections >= Int64(closed.addresses.count) else {
            throw SystemError("recvmsg: report with more addresses than connections", code: EPROTO)
        }
        return closed
    }

    /// `head` and `body` as one record, in one sendmsg(2) without copying them together.
    private func sendRecord(_ head: UnsafeRawBufferPointer, _ body: UnsafeRawBufferPointer) -> Int {
        var parts = (iovec(iov_base: UnsafeMutableRawPointer(mutating: head.baseAddress), iov_len: head.count),
                     iovec(iov_base: UnsafeMutableRawPointer(mutating: body.baseAddress), iov_len: body.count))
        return withUnsafeMutablePointer(to: &parts) { pointer in
            pointer.withMemoryRebound(to: iovec.self, capacity: 2) { vectors in
                var message = msghdr()
                message.msg_iov = vectors
                message.msg_iovlen = 2
                var sent: Int
                repeat {
                    sent = sendmsg(fd, &message, Int32(MSG_NOSIGNAL))
                } while sent < 0 && errno == EINTR
                return sent
            }
        }
    }
}
