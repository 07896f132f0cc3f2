/// What a prefork-pass-epoll worker tells its parent about the connections it has
/// closed since its last report: their `ConnectionReport` (how many, their requests and
/// bytes) and the client address of each, which the parent takes off its per-address
/// counts (max_connections_per_address). Every connection the parent passed is added
/// here exactly once, whether a session served it or not, so that no address stays
/// counted after its connection is gone. `DescriptorChannel.send(closed:)` sends it in
/// records of bounded size.
struct ClosedConnections {
    /// The totals; `counts.connections` is at least `addresses.count`.
    var counts = ConnectionReport()
    /// One key per connection counted, in no particular order.
    var addresses: [AddressKey] = []

    var isEmpty: Bool { counts.isEmpty }

    /// A connection a session served, closed; `key` is its peer's.
    mutating func add(_ summary: SessionSummary, from key: AddressKey) {
        counts.add(summary)
        addresses.append(key)
    }

    /// A connection closed without a session: the loop could not take it, or its
    /// descriptor was lost on the way (the worker was out of descriptors).
    mutating func addUnserved(from peer: SocketAddress) {
        counts.connections += 1
        addresses.append(AddressKey(peer))
    }
}
