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
    /// Per worker slot; a slot that holds nothing counted has no entry.
    private var held: [Int: [AddressKey: Int]] = [:]

    /// Counted connections of `key`, over every worker.
    func count(of key: AddressKey) -> Int { total[key] ?? 0 }

    /// Counts a connection from `key` given to the worker in `slot`.
    mutating func add(_ key: AddressKey, heldBy slot: Int) {
        total[key, default: 0] += 1
        held[slot, default: [:]][key, default: 0] += 1
    }

    /// Takes the connections of `keys` (a worker's report) off `slot`.
    mutating func remove(_ keys: [AddressKey], heldBy slot: Int) {
        // Nothing counted for the slot (the limit is off): one lookup per report.
        guard var counts = held.removeValue(forKey: slot) else { return }
        for key in keys {
            guard let count = counts[key] else { continue }
            counts[key] = count > 1 ? count - 1 : nil
            decrement(key, by: 1)
        }
        if !counts.isEmpty { held[slot] = counts }
    }

    /// Forgets every connection `slot` held: its worker has ended.
    mutating func removeAll(heldBy slot: Int) {
        guard let counts = held.removeValue(forKey: slot) else { return }
        for (key, count) in counts { decrement(key, by: count) }
    }

    private mutating func decrement(_ key: AddressKey, by count: Int) {
        guard let current = total[key] else { return }
        total[key] = current > count ? current - count : nil
    }
}
