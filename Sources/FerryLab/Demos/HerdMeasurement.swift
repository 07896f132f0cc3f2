import CFerry
import FerryKit
import Glibc

/// `ferry demo herd`: csdesign's thundering herd, counted. N preforked children
/// wait for connections on one listening socket (or, with SO_REUSEPORT, on one
/// socket each, all on the same port) in one of five ways; the parent connects in
/// small bursts and the children count, in shared memory, every return from their
/// wait (a wakeup), every connection they got, and every wakeup that found none.
public enum HerdMeasurement {
    public enum Variant: CaseIterable {
        /// Every child blocks in accept(2) on the shared, blocking listener.
        case blockingAccept
        /// Every child blocks in select(2) on the shared listener, then accepts once.
        case select
        /// Every child has its own epoll instance watching the shared listener (level-triggered).
        case epoll
        /// The same with EPOLLEXCLUSIVE (Linux 4.5).
        case epollExclusive
        /// Every child has its own listener on the same port (SO_REUSEPORT) and its own epoll.
        case reusePort

        public var label: String {
            switch self {
            case .blockingAccept: return "blocking accept"
            case .select: return "select"
            case .epoll: return "epoll"
            case .epollExclusive: return "epoll EPOLLEXCLUSIVE"
            case .reusePort: return "SO_REUSEPORT"
            }
        }
    }

    public struct Options {
        /// Children waiting for connections.
        public var children = 4
        /// Connections the parent makes.
        public var connections = 200
        /// Connections per burst; the parent waits until a burst is accepted and the
        /// children are idle again before the next.
        public var burst = 4
        public init() {}
    }

    /// What one child counted.
    public struct ChildCounts {
        /// Returns from accept, select or epoll_wait.
        public var wakeups: Int64 = 0
        /// Connections it accepted.
        public var accepts: Int64 = 0
        /// Wakeups after which its (non-blocking) accept found no connection.
        public var wasted: Int64 = 0
        /// Voluntary context switches (wait4's ru_nvcsw): the times it went to sleep.
        public var sleeps: Int = 0
    }

    public struct Result {
        public var variant: Variant
        public var connectionsMade = 0
        public var children: [ChildCounts] = []

        public var accepts: Int64 { children.reduce(0) { $0 + $1.accepts } }
        public var wakeups: Int64 { children.reduce(0) { $0 + $1.wakeups } }
        public var wasted: Int64 { children.reduce(0) { $0 + $1.wasted } }
        public var sleeps: Int { children.reduce(0) { $0 + $1.sleeps } }
        public var sleepsPerConnection: Double {
            connectionsMade == 0 ? 0 : Double(sleeps) / Double(connectionsMade)
        }
    }

    /// Counter slots per child in the shared mapping.
    private enum Slot {
        static let wakeups = 0
        static let accepts = 1
        static let wasted = 2
        static let perChild = 3
    }

    /// After a burst is accepted, time for the children that lost the race to finish
    /// their failed accept and go back to sleep, so the next burst finds them waiting.
    private static let settleMicroseconds: UInt32 = 2_000

    /// Runs one variant: forks the children, connects, stops and reaps them.
    public static func measure(_ variant: Variant, options: Options) throws -> Result {
        let listeners = try openListeners(for: variant, children: options.children)
        let counters: SharedCounters
        do {
            counters = try SharedCounters(count: options.children * Slot.perChild + 1)
        } catch {
            listeners.forEach { close($0.fd) }
            throw error
        }
        let readySlot = options.children * Slot.perChild
        let herd = Herd()
        defer { herd.stop() }
        let parentPID = getpid()
        for child in 0..<options.children {
            let pid = fork()
            if pid < 0 {
                listeners.forEach { close($0.fd) }
                throw SystemError("fork")
            }
            if pid == 0 {
                ferry_set_parent_death_signal(SIGKILL)
                if getppid() != parentPID { _exit(1) }
                ferry_set_process_name("ferry-herd")
                let own = listeners.count == 1 ? listeners[0] : listeners[child]
                for listener in listeners where listener.fd != own.fd { close(listener.fd) }
                runChild(variant, on: own, counters: counters, base: child * Slot.perChild, readySlot: readySlot)
            }
            herd.pids.append(pid)
        }
        // The children hold the listeners now; the parent only connects.
        let address = listeners[0].address
        listeners.forEach { close($0.fd) }

        try waitUntil("every child is waiting") { counters[readySlot] == Int64(options.children) }
        usleep(10_000)  // from "about to wait" to asleep in the wait
        var result = Result(variant: variant)
        let accepted = {
            (0..<options.children).reduce(Int64(0)) { $0 + counters[$1 * Slot.perChild + Slot.accepts] }
        }
        while result.connectionsMade < options.connections {
            let burst = min(options.burst, options.connections - result.connectionsMade)
            for _ in 0..<burst {
                try connectAndClose(address)
                result.connectionsMade += 1
            }
            let made = Int64(result.connectionsMade)
            try waitUntil("the children to accept \(made) connections") { accepted() == made }
            usleep(settleMicroseconds)
        }
        usleep(20_000)  // the last losers of the race go back to their wait
        let sleeps = herd.stop()
        result.children = (0..<options.children).map { child in
            let base = child * Slot.perChild
            return ChildCounts(wakeups: counters[base + Slot.wakeups], accepts: counters[base + Slot.accepts],
                               wasted: counters[base + Slot.wasted], sleeps: sleeps[child])
        }
        return result
    }

    /// The children of one run; `stop` ends and reaps whichever are still there.
    private final class Herd {
        var pids: [pid_t] = []
        private var sleeps: [Int] = []

        /// Ends every child (once) and returns each one's voluntary context switches.
        /// SIGTERM reaches a child only while it waits (it blocks the signal while it
        /// counts), so no wakeup is ever counted without its outcome. A child still
        /// there after 2 s gets SIGKILL.
        @discardableResult
        func stop() -> [Int] {
            guard sleeps.count < pids.count else { return sleeps }
            for pid in pids { kill(pid, SIGTERM) }
            let deadline = monotonicNanoseconds() + 2_000_000_000
            for pid in pids {
                var status: Int32 = 0
                var usage = rusage()
                while true {
                    let reaped = wait4(pid, &status, WNOHANG, &usage)
                    if reaped == pid || (reaped < 0 && errno != EINTR) { break }
                    if monotonicNanoseconds() > deadline { kill(pid, SIGKILL) }
                    usleep(1_000)
                }
                sleeps.append(usage.ru_nvcsw)
            }
            return sleeps
        }
    }

    private static func openListeners(for variant: Variant, children: Int) throws -> [Listener] {
        guard variant == .reusePort else {
            guard let listener = try Listener.open(host: "127.0.0.1", port: 0).first else {
                throw SystemError("listen on 127.0.0.1", code: EADDRNOTAVAIL)
            }
            if variant == .blockingAccept { SocketOptions.setNonBlocking(listener.fd, false) }
            return [listener]
        }
        var options = Listener.Options()
        options.reusePort = true
        var listeners: [Listener] = []
        do {
            for _ in 0..<children {
                let port = listeners.first?.address.port ?? 0
                listeners += try Listener.open(host: "127.0.0.1", port: port, options: options)
            }
        } catch {
            listeners.forEach { close($0.fd) }
            throw error
        }
        return listeners
    }

    /// One connection from the parent: connect (the kernel completes the handshake
    /// and queues it for accept), then close the parent's end at once.
    private static func connectAndClose(_ address: SocketAddress) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try check(fd, "socket")
        defer { close(fd) }
        try check(address.withSockaddr { connect(fd, $0, $1) }, "connect to \(address)")
    }

    private static func waitUntil(_ what: String, _ condition: () -> Bool) throws {
        let deadline = monotonicNanoseconds() + 5_000_000_000
        while !condition() {
            if monotonicNanoseconds() > deadline { throw SystemError("waiting for \(what)", code: ETIMEDOUT) }
            usleep(200)
        }
    }

    // MARK: the children

    /// A child's whole life: wait, accept, count, until the parent's SIGTERM, which is
    /// blocked except during the wait itself.
    private static func runChild(_ variant: Variant, on listener: Listener, counters: SharedCounters,
                                 base: Int, readySlot: Int) -> Never {
        signal(SIGTERM, SIG_DFL)
        var terminate = sigset_t()
        sigemptyset(&terminate)
        sigaddset(&terminate, SIGTERM)
        sigprocmask(SIG_BLOCK, &terminate, nil)
        /// Runs `wait` with SIGTERM deliverable: a pending one ends the child here.
        func interruptible<T>(_ wait: () -> T) -> T {
            sigprocmask(SIG_UNBLOCK, &terminate, nil)
            defer { sigprocmask(SIG_BLOCK, &terminate, nil) }
            return wait()
        }
        let count = { (slot: Int) in counters.add(base + slot) }
        /// After a wakeup: the outcome of its one accept, then the wakeup itself.
        let counted = { (connection: Int32?) in
            if let fd = connection {
                count(Slot.accepts)
                close(fd)
            } else {
                count(Slot.wasted)
            }
            count(Slot.wakeups)
        }
        switch variant {
        case .blockingAccept:
            counters.add(readySlot)
            while true {
                let connection = interruptible { listener.accept(nonBlocking: false) }
                counted(connection?.fd)
            }
        case .select:
            guard listener.fd < ferry_fd_setsize() else { _exit(2) }  // FD_SET would write past the set
            counters.add(readySlot)
            while true {
                var readable = fd_set()
                ferry_fd_zero(&readable)
                ferry_fd_set(listener.fd, &readable)
                let ready = interruptible { Glibc.select(listener.fd + 1, &readable, nil, nil, nil) }
                if ready < 0 && errno == EINTR { continue }
                guard ready >= 0 else { _exit(2) }
                counted(listener.accept(nonBlocking: true)?.fd)
            }
        case .epoll, .epollExclusive, .reusePort:
            var events = UInt32.epollIn
            if variant == .epollExclusive { events |= .epollExclusive }
            guard let epoll = try? Epoll(capacity: 1),
                  (try? epoll.add(listener.fd, events: events, token: 0)) != nil else { _exit(2) }
            counters.add(readySlot)
            while true {
                guard let ready = interruptible({ try? epoll.wait(timeoutMilliseconds: -1) }) else { _exit(2) }
                if ready.isEmpty { continue }  // EINTR
                counted(listener.accept(nonBlocking: true)?.fd)
            }
        }
    }

    // MARK: report

    public static func report(_ results: [Result]) -> [String] {
        var table = TextTable(header: ["variant", "conns", "accepts", "per child", "wakeups", "per child",
                                       "wasted", "per child", "sleeps", "sleeps/conn"])
        for result in results {
            let children = result.children
            table.add([
                result.variant.label, String(result.connectionsMade),
                String(result.accepts), range(children.map(\.accepts)),
                String(result.wakeups), range(children.map(\.wakeups)),
                String(result.wasted), range(children.map(\.wasted)),
                String(result.sleeps), format(result.sleepsPerConnection, decimals: 2),
            ])
        }
        let notes = [
            "wakeups: returns from accept(2), select(2) or epoll_wait(2), each followed by one accept. wasted:"
                + " that accept found no connection (EAGAIN), another child had it. per child: fewest-most."
                + " sleeps: the children's voluntary context switches (wait4 ru_nvcsw), i.e. how often they"
                + " blocked, which is how often the kernel woke them, plus two per child that no connection"
                + " caused (one is the wait it is ended in). sleeps/conn near 1 means one child woke per connection;"
                + " near the number of children means all of them did.",
            "blocking accept: Linux queues accept(2) waiters as exclusive and wakes one per connection, in"
                + " turn: the herd the csdesign document describes for this design is gone.",
            "select, epoll: every child (every epoll instance) is on the listener's wait queue and all are"
                + " woken for each connection: the herd, in the sleeps. Most of it stays inside the kernel:"
                + " select and epoll_wait re-check the listener before returning and go back to sleep if the"
                + " connection is already taken; only a child that re-checks before the winner's accept returns"
                + " to the program and wastes an accept (a machine with more cores should see more of those).",
            "epoll EPOLLEXCLUSIVE: the listener wakes only the first epoll instance in its queue that has a"
                + " child waiting in it (the others still note the event, and may find it gone: the few wasted);"
                + " with the children idle between bursts that is mostly the same child.",
            "SO_REUSEPORT: each connection goes to one listener, chosen by a hash of its addresses and ports;"
                + " only that child wakes, but its connections wait for it even while others are idle.",
        ]
        return table.lines + [""] + notes.flatMap { wrap($0) }
    }

    /// "48-52": the smallest and largest of `values`.
    private static func range(_ values: [Int64]) -> String {
        guard let low = values.min(), let high = values.max() else { return "-" }
        return "\(low)-\(high)"
    }
}
