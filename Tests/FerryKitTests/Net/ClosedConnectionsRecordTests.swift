import Glibc
import Testing
@testable import FerryKit

/// What a worker reports to its parent over a real socket pair: the connections it
/// closed with their counts and the address of each, in records of bounded size,
/// nothing lost when the channel is full.
@Suite struct ClosedConnectionsRecordTests {
    static func summary(requests: Int, sendfile: Int64) -> SessionSummary {
        var summary = SessionSummary()
        summary.requests = requests
        summary.bytesViaSendfile = sendfile
        return summary
    }

    /// `count` connections from as many addresses (10.x.y.z), each with one request of
    /// 100 bytes.
    static func closed(_ count: Int) -> ClosedConnections {
        var closed = ClosedConnections()
        for index in 0..<count {
            let address = "10.\(index >> 16 & 255).\(index >> 8 & 255).\(index & 255)"
            closed.add(summary(requests: 1, sendfile: 100), from: AddressKey(AddressKeyTests.peer(address)))
        }
        return closed
    }

    /// Everything waiting on `channel`, added up: counts, every address, and how many
    /// records it took.
    static func receiveAll(_ channel: DescriptorChannel) throws -> (ClosedConnections, records: Int) {
        var buffer = [UInt8](repeating: 0, count: DescriptorChannel.maxReportBytes)
        var total = ClosedConnections()
        var records = 0
        while true {
            let received: ClosedConnections?
            do {
                received = try channel.receiveClosed(using: &buffer)
            } catch let error as SystemError where error.code == EAGAIN {
                return (total, records)
            }
            guard let received else { return (total, records) }
            records += 1
            #expect(received.counts.connections >= Int64(received.addresses.count))
            #expect(received.addresses.count <= DescriptorChannel.maxAddressesPerReport)
            total.counts.connections += received.counts.connections
            total.counts.requests += received.counts.requests
            total.counts.bytesViaSendfile += received.counts.bytesViaSendfile
            total.addresses += received.addresses
        }
    }

    static func nonBlockingPair() throws -> (parent: DescriptorChannel, worker: DescriptorChannel) {
        let pair = try DescriptorChannel.pair()
        SocketOptions.setNonBlocking(pair.parent.fd)
        SocketOptions.setNonBlocking(pair.worker.fd)
        return pair
    }

    @Test func aFewConnectionsArriveInOneRecordWithTheirAddresses() throws {
        let (parent, worker) = try Self.nonBlockingPair()
        defer { close(parent.fd); close(worker.fd) }
        var closed = ClosedConnections()
        closed.add(Self.summary(requests: 3, sendfile: 1000), from: AddressKey(AddressKeyTests.peer("127.0.0.1", port: 1)))
        closed.add(Self.summary(requests: 1, sendfile: 10), from: AddressKey(AddressKeyTests.peer("127.0.0.1", port: 2)))
        closed.addUnserved(from: AddressKeyTests.peer("2001:db8::5"))
        let sent = closed
        try worker.send(closed: &closed)
        #expect(closed.isEmpty && closed.addresses.isEmpty)

        let (received, records) = try Self.receiveAll(parent)
        #expect(records == 1)
        #expect(received.counts == sent.counts)
        #expect(received.counts.connections == 3 && received.counts.requests == 4)
        #expect(received.addresses == [AddressKeyTests.key("127.0.0.1"), AddressKeyTests.key("127.0.0.1"),
                                       AddressKeyTests.key("2001:db8::")])
    }

    /// More addresses than one record carries: several records, each counting the
    /// connections it names; requests and bytes arrive once.
    @Test func manyConnectionsAreSplitIntoRecordsThatAddUp() throws {
        let (parent, worker) = try Self.nonBlockingPair()
        defer { close(parent.fd); close(worker.fd) }
        let count = DescriptorChannel.maxAddressesPerReport * 2 + 17
        var closed = Self.closed(count)
        let sent = closed
        try worker.send(closed: &closed)
        #expect(closed.isEmpty)

        let (received, records) = try Self.receiveAll(parent)
        #expect(records == 3)
        #expect(received.counts == sent.counts)
        #expect(Set(received.addresses) == Set(sent.addresses))
        #expect(received.addresses.count == count)
    }

    /// A channel the parent does not read fills up: the records that went are whole,
    /// the rest stays for the next try, and in the end everything arrived exactly once.
    @Test func aFullChannelKeepsWhatItCouldNotTake() throws {
        let (parent, worker) = try Self.nonBlockingPair()
        defer { close(parent.fd); close(worker.fd) }
        let count = 40_000
        var closed = Self.closed(count)
        let sent = closed
        #expect(throws: SystemError("sendmsg", code: EAGAIN)) { try worker.send(closed: &closed) }
        #expect(!closed.isEmpty && closed.addresses.count < count)
        #expect(closed.counts.connections == Int64(closed.addresses.count))

        var total = ClosedConnections()
        var tries = 0
        repeat {
            let (received, _) = try Self.receiveAll(parent)
            total.counts.connections += received.counts.connections
            total.counts.requests += received.counts.requests
            total.counts.bytesViaSendfile += received.counts.bytesViaSendfile
            total.addresses += received.addresses
            try? worker.send(closed: &closed)
            tries += 1
        } while (!closed.isEmpty || total.counts.connections < Int64(count)) && tries < 1000
        #expect(closed.isEmpty)
        #expect(total.counts == sent.counts)
        #expect(total.addresses.count == count && Set(total.addresses) == Set(sent.addresses))
    }

    /// prefork-pass's workers send a plain ConnectionReport: it reads as one without
    /// addresses.
    @Test func aPlainConnectionReportReadsWithoutAddresses() throws {
        let (parent, worker) = try Self.nonBlockingPair()
        defer { close(parent.fd); close(worker.fd) }
        var report = ConnectionReport()
        report.add(Self.summary(requests: 2, sendfile: 42))
        try worker.send(record: report)
        var buffer = [UInt8](repeating: 0, count: DescriptorChannel.maxReportBytes)
        let received = try #require(try parent.receiveClosed(using: &buffer))
        #expect(received.counts == report)
        #expect(received.addresses.isEmpty)
    }

    @Test func aMalformedRecordIsAProtocolError() throws {
        let (parent, worker) = try Self.nonBlockingPair()
        defer { close(parent.fd); close(worker.fd) }
        var buffer = [UInt8](repeating: 0, count: DescriptorChannel.maxReportBytes)
        // Not a whole number of addresses after the counts.
        try worker.send(record: (ConnectionReport(), UInt32(7)))
        #expect(throws: SystemError("recvmsg: malformed report (44 bytes)", code: EPROTO)) {
            try parent.receiveClosed(using: &buffer)
        }
        // An address with no connection counted for it.
        try worker.send(record: (ConnectionReport(), AddressKeyTests.key("127.0.0.1")))
        #expect(throws: SystemError("recvmsg: report with more addresses than connections", code: EPROTO)) {
            try parent.receiveClosed(using: &buffer)
        }
    }
}
