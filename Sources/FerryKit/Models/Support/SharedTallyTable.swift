import Glibc

/// Per-child counters in memory every child shares with the parent: one
/// MAP_SHARED | MAP_ANONYMOUS mapping made before the first fork. Each child writes
/// only its own slot (a replacement child continues its slot); the parent reads
/// them for the report, so counts survive the children that made them.
final class SharedTallyTable {
    /// Int64 fields per slot: connections, bytes via sendfile, via copy, from memory.
    private static let fields = 4
    private let values: UnsafeMutablePointer<Int64>
    private let byteCount: Int
    let slots: Int

    init(slots: Int) throws {
        self.slots = slots
        byteCount = max(1, slots) * Self.fields * MemoryLayout<Int64>.stride
        let memory = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)
        if memory == MAP_FAILED { throw SystemError("mmap(MAP_SHARED) for the per-child counts") }
        // Anonymous mappings start zeroed.
        values = memory!.bindMemory(to: Int64.self, capacity: max(1, slots) * Self.fields)
    }

    deinit { munmap(values, byteCount) }

    /// Counts one finished connection in `slot` (called by that slot's child only).
    func add(_ summary: SessionSummary, slot: Int) {
        let base = values + slot * Self.fields
        base[0] += 1
        base[1] += summary.bytesViaSendfile
        base[2] += summary.bytesViaCopy
        base[3] += summary.bytesFromMemory
    }

    func tally(slot: Int, label: String) -> WorkerTally {
        let base = values + slot * Self.fields
        var tally = WorkerTally(label: label)
        tally.connections = Int(base[0])
        tally.bytesViaSendfile = base[1]
        tally.bytesViaCopy = base[2]
        tally.bytesFromMemory = base[3]
        return tally
    }
}
