import CFerry
import FerryKit
import Glibc

/// 64-bit counters in one MAP_SHARED | MAP_ANONYMOUS mapping: made before fork,
/// they are the same memory in the parent and every child, so children count and
/// the parent reads the totals while they run. Updates and reads are atomic.
final class SharedCounters {
    let count: Int
    private let base: UnsafeMutablePointer<Int64>

    /// `count` counters, all zero.
    init(count: Int) throws {
        let bytes = max(count, 1) * MemoryLayout<Int64>.stride
        let address = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)
        guard let address, address != MAP_FAILED else { throw SystemError("mmap") }
        self.count = count
        base = address.bindMemory(to: Int64.self, capacity: max(count, 1))
    }

    deinit {
        munmap(base, max(count, 1) * MemoryLayout<Int64>.stride)
    }

    func add(_ index: Int, _ delta: Int64 = 1) {
        precondition(index < count)
        ferry_counter_add(base + index, delta)
    }

    subscript(index: Int) -> Int64 {
        precondition(index < count)
        return ferry_counter_load(base + index)
    }
}
