import Glibc

/// A path's bytes as a dictionary key, hashed in one pass over its bytes.
struct PathKey: Hashable {
    let bytes: [UInt8]

    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    static func == (lhs: PathKey, rhs: PathKey) -> Bool {
        lhs.bytes.count == rhs.bytes.count && lhs.bytes.withUnsafeBytes { left in
            rhs.bytes.withUnsafeBytes { right in memcmp(left.baseAddress!, right.baseAddress!, left.count) == 0 }
        }
    }
}

/// The open-file cache of one worker (nginx's open_file_cache, lighttpd's stat cache,
/// h2o's filecache): for each path served recently, its `FileEntry` — the open
/// descriptors, validators, content type, sidecars and head fields — so that a
/// request for it costs no open, stat or close.
///
/// **Never stale.** A request that begins after a change to a file or its directory
/// has completed is answered from the new state. inotify (`FileChangeWatch`) reports
/// every change to what the cache holds; the worker's event loop watches its
/// descriptor and hands over its readiness before any session of the same wakeup
/// (`noteWakeup`), so events queued before the wakeup are applied before any request
/// read in it. A head that may have begun later than the wakeup (the first on a new
/// connection, or one that was pipelined behind another) carries a later tick, and
/// the cache reads the queue again before answering it (`entry(for:headTick:)`).
/// On overflow, or a change it cannot pin to paths, the cache empties. A path whose
/// directories cannot be watched, or that leads through a symlink, is not cached.
///
/// **Bounded**: at most `openFiles` descriptors (each entry holds its file and its
/// sidecars), evicted by second chance (CLOCK) when full, and entries unused for
/// `inactiveSeconds` are dropped. An entry dropped while a response still sends its
/// file keeps the file open until that response ends (`OpenFile` is shared).
final class OpenFileCache {
    struct Limits: Equatable {
        /// Most descriptors held open.
        var openFiles: Int
        /// Seconds an unused entry is kept.
        var inactiveSeconds: Double

        init(openFiles: Int, inactiveSeconds: Double) {
            self.openFiles = openFiles
            self.inactiveSeconds = inactiveSeconds
        }

        /// [cache] open_files and inactive.
        init(_ config: ServerConfig) {
            self.init(openFiles: config.openFiles, inactiveSeconds: config.fileCacheInactive)
        }

        /// `inactiveSeconds` on the cache's clock of whole seconds, where a use is
        /// dated to the second it fell in: rounded up, plus that second, so an entry is
        /// kept at least as long as asked (0.5 would otherwise become 0 and drop every
        /// entry at the next sweep) and at most a second more.
        var inactiveTicks: UInt64 { UInt64(inactiveSeconds.rounded(.up)) + 1 }
    }

    let limits: Limits
    private let root: DocumentRoot
    /// Made at the first file the cache keeps, so a process that never serves (a pool's
    /// parent) holds no inotify instance; nil until then, or when none can be made.
    private var watch: FileChangeWatch?
    /// inotify could not give an instance: nothing is cached.
    private var unavailable = false
    /// The instance was made (or remade) since the loop last woke up: the loop did not
    /// watch it then, so its queue is read at the next wakeup whatever the loop saw.
    private var unobserved = false
    private var slotOf: [PathKey: Int] = [:]
    private var slots: [FileEntry?] = []
    private var freeSlots: [Int] = []
    private var hand = 0
    private var openDescriptors = 0

    /// Orders wakeups and reads: each wakeup of the event loop and each read of a head
    /// that may have begun after the last wakeup takes the next tick.
    private var tick: UInt64 = 1
    /// The tick up to which every queued change has been applied.
    private var appliedTick: UInt64 = 0
    /// Whether an event loop reports its wakeups (`noteWakeup`); without one (a
    /// blocking driver), every head reads the queue before it is answered.
    private var loopDriven = false
    /// Monotonic seconds at the last wakeup or lookup, for inactivity.
    private var now: UInt64 = 0
    private var nextSweep: UInt64 = 0

    init(root: DocumentRoot, limits: Limits) {
        self.root = root
        self.limits = limits
    }

    /// The inotify descriptor an event loop watches; it changes when the cache empties
    /// itself after an overflow (-1 if no new one could be made: nothing is cached then).
    var changeDescriptor: Int32 { watch?.fd ?? -1 }

    var count: Int { slotOf.count }

    // MARK: freshness

    /// An event loop woke up: `changesReady` when its wakeup reported the inotify
    /// descriptor readable (or may have missed it, the wakeup's list being full).
    /// Called before any session of the wakeup runs.
    func noteWakeup(changesReady: Bool, now: UInt64) {
        loopDriven = true
        tick += 1
        if changesReady || unobserved { applyChanges() }
        unobserved = false
        // Nothing queued at the wakeup, or everything queued now applied.
        appliedTick = tick
        self.now = now / 1_000_000_000
    }

    /// The tick for a head whose first byte was read just now: the current wakeup's
    /// when it was read because the wakeup reported its socket readable (it began
    /// before the wakeup), else a later one.
    func tickForHead(readOnWakeup: Bool) -> UInt64 {
        if readOnWakeup && loopDriven { return tick }
        tick += 1
        return tick
    }

    // MARK: lookup

    /// The entry cached for `key`, after applying every change that completed before
    /// the head with `headTick` began. Marks it used.
    func entry(for key: [UInt8], headTick: UInt64) -> FileEntry? {
        if headTick > appliedTick {
            applyChanges()
            appliedTick = tick
            if !loopDriven { now = monotonicNanoseconds() / 1_000_000_000 }
        }
        guard let slot = slotOf[PathKey(bytes: key)], let entry = slots[slot] else { return nil }
        entry.recentlyUsed = true
        entry.lastUsed = now
        return entry
    }

    /// Watches what `entry` depends on before its files are opened: call with the
    /// file's relative path and the names to watch, then open, then `insert`. False
    /// when they cannot be watched: the entry must not be cached.
    func prepare(filePath: [UInt8], names: [[UInt8]]) -> Bool {
        guard let watch = startWatching() else { return false }
        if watch.watchCount + names.count + 8 > watch.watchLimit { reset() }
        return watch.watch(filePath, names: names)
    }

    private func startWatching() -> FileChangeWatch? {
        if let watch { return watch }
        guard !unavailable else { return nil }
        guard let made = FileChangeWatch(root: root, watchLimit: 4 * limits.openFiles + 64) else {
            unavailable = true
            Console.error("ferry: open-file cache: inotify is unavailable (\(String(cString: strerror(errno))));"
                          + " serving without it")
            return nil
        }
        watch = made
        unobserved = true
        slots.reserveCapacity(limits.openFiles)
        return made
    }

    /// Keeps `entry` (made after a successful `prepare`), evicting others to stay
    /// within `openFiles`.
    func insert(_ entry: FileEntry) {
        guard entry.descriptorCount <= limits.openFiles, (watch?.fd ?? -1) >= 0 else { return }
        remove(entry.key)
        while openDescriptors + entry.descriptorCount > limits.openFiles { evictOne() }
        entry.lastUsed = now
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            slots[slot] = entry
        } else {
            slot = slots.count
            slots.append(entry)
        }
        if slotOf.isEmpty { nextSweep = now + limits.inactiveTicks }
        slotOf[PathKey(bytes: entry.key)] = slot
        openDescriptors += entry.descriptorCount
    }

    // MARK: changes and eviction

    private func applyChanges() {
        guard let watch else { return }
        switch watch.readChanges() {
        case .none:
            break
        case .paths(let paths):
            for path in paths { forget(changed: path) }
        case .everything:
            reset()
        }
    }

    /// Drops the entries a change to `path` affects: its own, the file it is a
    /// sidecar of, and the directory it is the index.html of.
    private func forget(changed path: [UInt8]) {
        remove(path)
        var base = path[...]
        if let suffix = SidecarNames.suffixes.first(where: { path.count > $0.count && path.suffix($0.count).elementsEqual($0) }) {
            base = base.dropLast(suffix.count)
            remove(Array(base))
        }
        let slash = base.lastIndex(of: ASCII.slash)
        if (slash.map { base[($0 + 1)...] } ?? base).elementsEqual("index.html".utf8) {
            remove(slash.map { Array(base[...$0]) } ?? [ASCII.slash])
        }
    }

    private func remove(_ key: [UInt8]) {
        guard let slot = slotOf.removeValue(forKey: PathKey(bytes: key)) else { return }
        release(slot)
    }

    private func release(_ slot: Int) {
        guard let entry = slots[slot] else { return }
        openDescriptors -= entry.descriptorCount
        slots[slot] = nil
        freeSlots.append(slot)
    }

    /// Second chance: the hand clears the mark of recently used entries and evicts
    /// the first one it finds unmarked.
    private func evictOne() {
        guard !slotOf.isEmpty else { return }
        while true {
            hand = hand >= slots.count - 1 ? 0 : hand + 1
            guard let entry = slots[hand] else { continue }
            if entry.recentlyUsed {
                entry.recentlyUsed = false
                continue
            }
            slotOf[PathKey(bytes: entry.key)] = nil
            release(hand)
            return
        }
    }

    /// Empties the cache and starts watching afresh.
    private func reset() {
        slotOf.removeAll(keepingCapacity: true)
        slots.removeAll(keepingCapacity: true)
        freeSlots.removeAll(keepingCapacity: true)
        openDescriptors = 0
        hand = 0
        unobserved = true
        if watch?.reset() == false {
            Console.error("ferry: open-file cache: cannot make a new inotify instance; caching stops")
        }
    }

    /// Drops entries unused for `inactiveSeconds`; the loop calls it on every
    /// iteration, and it does something only once the earliest of them may be due.
    func sweepInactive() {
        guard now >= nextSweep, !slotOf.isEmpty else { return }
        let inactive = limits.inactiveTicks
        // The earliest time a kept entry can become inactive: nothing to do before it.
        nextSweep = now + inactive
        for (slot, entry) in slots.enumerated() {
            guard let entry else { continue }
            if now >= entry.lastUsed + inactive {
                slotOf[PathKey(bytes: entry.key)] = nil
                release(slot)
            } else {
                nextSweep = min(nextSweep, entry.lastUsed + inactive)
            }
        }
    }

    /// When the loop should wake to sweep, in monotonic nanoseconds (0: never, the
    /// cache is empty).
    var nextSweepTime: UInt64 {
        slotOf.isEmpty ? 0 : nextSweep * 1_000_000_000
    }
}

/// The names Ferry looks for beside a file.
enum SidecarNames {
    /// Suffixes of the precompressed sidecars, as bytes.
    static let precompressed = ContentCoding.allCases.map { Array($0.fileSuffix.utf8) }
    /// Every suffix whose file changes what is sent for the file without it.
    static let suffixes = precompressed + [DigestSidecar.suffix]
}
