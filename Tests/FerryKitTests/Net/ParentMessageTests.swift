import Foundation
import Glibc
import Testing
@testable import FerryKit

/// What a parent sends a worker over a real socket pair: connections with their peers,
/// the reopened access log, the word that a reload retires the worker.
@Suite struct ParentMessageTests {
    func loopbackPeer(port: UInt16) -> SocketAddress {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        var peer = SocketAddress()
        withUnsafeBytes(of: address) { source in
            withUnsafeMutableBytes(of: &peer.storage) { $0.copyMemory(from: source) }
        }
        peer.length = socklen_t(MemoryLayout<sockaddr_in>.size)
        return peer
    }

    /// A descriptor whose identity survives the trip: one end of a pipe, checked by
    /// writing through the received copy.
    func pipeEnds() -> (read: Int32, write: Int32) {
        var ends: [Int32] = [-1, -1]
        _ = pipe(&ends)
        return (ends[0], ends[1])
    }

    @Test func eachKindArrivesAsSentAndInOrder() throws {
        let (parent, worker) = try DescriptorChannel.pair()
        defer { close(parent.fd); close(worker.fd) }
        let first = pipeEnds(), second = pipeEnds(), log = pipeEnds()
        defer { [first, second, log].forEach { close($0.read); close($0.write) } }

        var sending = ChannelScratch(), receiving = ChannelScratch()
        try parent.send(connections: [PassedConnection(fd: first.write, peer: loopbackPeer(port: 4001)),
                                      PassedConnection(fd: second.write, peer: loopbackPeer(port: 4002))][...],
                        scratch: &sending)
        try parent.send(accessLog: log.write)
        try parent.sendRetire()
        shutdown(parent.fd, Int32(SHUT_WR))

        guard case .connections(let lost) = try worker.receiveParentMessage(into: &receiving) else {
            Issue.record("expected connections")
            return
        }
        #expect(lost.isEmpty)
        let connections = receiving.connections
        #expect(connections.map(\.peer.port) == [4001, 4002])
        #expect(connections.allSatisfy { $0.peer.host == "127.0.0.1" })
        for (connection, ends) in zip(connections, [first, second]) {
            #expect(write(connection.fd, "x", 1) == 1)
            var byte: UInt8 = 0
            #expect(read(ends.read, &byte, 1) == 1 && byte == UInt8(ascii: "x"))
            close(connection.fd)
        }
        guard case .accessLog(let descriptor) = try worker.receiveParentMessage(into: &receiving) else {
            Issue.record("expected the access log")
            return
        }
        #expect(fcntl(descriptor, F_GETFD) & FD_CLOEXEC != 0)
        #expect(write(descriptor, "y", 1) == 1)
        close(descriptor)
        guard case .retire = try worker.receiveParentMessage(into: &receiving) else {
            Issue.record("expected retire")
            return
        }
        #expect(try worker.receiveParentMessage(into: &receiving) == nil)
    }

    @Test func anUnknownKindIsAProtocolError() throws {
        let (parent, worker) = try DescriptorChannel.pair()
        defer { close(parent.fd); close(worker.fd) }
        try parent.send(record: UInt32(99))
        var receiving = ChannelScratch()
        #expect(throws: SystemError("recvmsg: unknown message", code: EPROTO)) { try worker.receiveParentMessage(into: &receiving) }
    }
}

extension ParentMessage: Equatable {
    public static func == (lhs: ParentMessage, rhs: ParentMessage) -> Bool {
        switch (lhs, rhs) {
        case (.retire, .retire): return true
        case (.accessLog(let a), .accessLog(let b)): return a == b
        default: return false
        }
    }
}
