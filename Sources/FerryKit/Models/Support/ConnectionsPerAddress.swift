/// The live connections of each client address (`AddressKey`), as the parent of
/// prefork-pass-epoll counts them for max_connections_per_address: a connection counts
/// from the moment it is given to a worker until that worker reports it closed.
///
/// The counts are kept per worker slot as well as in total, so that a worker that
/// ends (killed, or a retired one at the end of a reload) takes off exactly the
/// connections it held, nothing more. A worker reports the address of every
/// connection it closes, also those the parent never counted (passed while the limit
/// was off, before a reload turned it on): a key the slot does not hold is ignored.
struct ConnectionsPerAddress {
    private var total: [AddressKey: Int] = [:]
    /// Indexed by worker slot.
    private var held: [[AddressKey: Int]] = []

    /// Counted connections of `key`, over every worker.
    func count(of key: AddressKey) -> Int { total[key] ?? 0 }

    /// Counts a connection from `key` given to the worker in `slot`.
    mutating func add(_ key: AddressKey, heldBy slot: Int) {
        total[key, default: 0] += 1
        if slot >= held.count { held += Array(repeating: [:], count: slot + 1 - held.count) }
        held[slot][key, default: 0] += 1
    }

    /// Takes the connections of `keys` (a worker's report) off `slot`.
    mutating func remove(_ keys: [AddressKey], heldBy slot: Int) {
        // Nothing counted for the slot (the limit is off): one test per report.
        guard slot < held.count, !held[slot].isEmpty else { return }
        for key in keys where Self.decrement(&held[slot], key, by: 1) > 0 {
            Self.decrement(&total, key, by: 1)
        }
    }

    /// Forgets every connection `slot` held: its worker has ended.
    mutating func removeAll(heldBy slot: Int) {
        guard slot < held.count else { return }
        for (key, count) in held[slot] { Self.decrement(&total, key, by: count) }
        held[slot] = [:]
    }

    /// Takes up to `count` off `key` in `counts`, dropping it at zero; returns how
    /// many it took (0 for a key not counted). One hash lookup.
    @discardableResult
    private static func decrement(_ counts: inout [AddressKey: Int], _ key: AddressKey, by count: Int) -> Int {
        guard let index = counts.index(forKey: key) else { return 0 }
        let current = counts.values[index]
        if current > count {
            counts.values[index] = current - count
            return count
        }
        counts.remove(at: index)
        return current
    }
}
