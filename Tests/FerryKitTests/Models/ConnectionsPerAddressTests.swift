import Testing
@testable import FerryKit

/// The parent's counts per address: up when a connection is passed, down when its
/// worker reports it closed or ends, never below what is really held.
@Suite struct ConnectionsPerAddressTests {
    let one = AddressKeyTests.key("192.0.2.1")
    let two = AddressKeyTests.key("192.0.2.2")

    @Test func countsFollowPassesAndReports() {
        var counts = ConnectionsPerAddress()
        counts.add(one, heldBy: 0)
        counts.add(one, heldBy: 1)
        counts.add(one, heldBy: 1)
        counts.add(two, heldBy: 0)
        #expect(counts.count(of: one) == 3 && counts.count(of: two) == 1)
        counts.remove([one, two], heldBy: 0)
        #expect(counts.count(of: one) == 2 && counts.count(of: two) == 0)
        counts.remove([one, one], heldBy: 1)
        #expect(counts.count(of: one) == 0)
    }

    /// A worker reports every address it closes, also those passed while the limit was
    /// off (never counted) or held by another worker: those change nothing.
    @Test func addressesTheWorkerWasNotCountedForAreIgnored() {
        var counts = ConnectionsPerAddress()
        counts.add(one, heldBy: 0)
        counts.remove([two, two], heldBy: 0)
        counts.remove([one], heldBy: 1)
        counts.remove([one], heldBy: 7)
        #expect(counts.count(of: one) == 1 && counts.count(of: two) == 0)
        counts.remove([one, one], heldBy: 0)
        #expect(counts.count(of: one) == 0)
    }

    /// A worker that ends takes off exactly what it held.
    @Test func anEndedWorkerTakesOffItsConnectionsOnly() {
        var counts = ConnectionsPerAddress()
        for _ in 0..<5 { counts.add(one, heldBy: 0) }
        counts.add(one, heldBy: 1)
        counts.add(two, heldBy: 0)
        counts.removeAll(heldBy: 0)
        #expect(counts.count(of: one) == 1 && counts.count(of: two) == 0)
        counts.removeAll(heldBy: 0)
        #expect(counts.count(of: one) == 1)
        counts.add(one, heldBy: 0)
        #expect(counts.count(of: one) == 2, "a replacement in the same slot counts afresh")
    }
}
