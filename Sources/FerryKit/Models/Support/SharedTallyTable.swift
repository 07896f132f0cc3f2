import Glibc

/// Per-child counters in memory every child shares with the parent: one
/// MAP_SHARED | MAP_ANONYMOUS mapping made before the first fork. Each child writes
/// only its own slot (a replacement child continues its slot); the parent reads
/// them for the report, so counts survive the children that made them.
final class SharedTallyTable {
    private let reports: UnsafeMutablePointer<ConnectionReport>
    private let byteCount: Int
    let slots: Int

    init(slots: Int) throws {
        self.slots = slots
        byteCount = max(1, slots) * MemoryLayout<ConnectionReport>.stride
        let memory = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)
        if memory == MAP_FAILED { throw SystemError("mmap(MAP_SHARED) for the per-child counts") }
        // Anonymous mappings start zeroed, and a zeroed report is an empty one.
        reports = memory!.bindMemory(to: ConnectionReport.self, capacity: max(1, slots))
    }

    deinit { munmap(reports, byteCount) }

    /// Counts one finished connection in `slot` (called by that slot's child only).
    func add(_ summary: SessionSummary, slot: Int) {
        reports[slot].add(summary)
    }

    func tally(slot: Int, label: String) -> WorkerTally {
        var tally = WorkerTally(label: label)
        tally.add(reports[slot])
        return tally
    }
}
