import CFerry
import Glibc

/// I/O multiplexing with select(2) (UNP 6.8; the csdesign document's server02). One process; the
/// event loop waits on a read set and a write set. Done right where the csdesign document's
/// version cheats: a session that cannot write everything at once waits for
/// writability and resumes where it stopped, instead of blocking the whole server.
public struct SelectModel: ServerModel {
    public static let name = "select"

    public init() {}

    public func run(listeners: [Listener], makeHandler: @escaping HandlerFactory,
                    options: ModelOptions) throws -> [WorkerTally] {
        let loop = try EventLoop(backend: SelectBackend(), source: .listeners(listeners),
                                 handler: makeHandler(), options: options)
        return try loop.run()
    }
}

/// The read and write sets the loop maintains; select(2) gets a copy of each on every
/// wait (it overwrites them with the ready descriptors). An fd_set is a fixed bitmap
/// of FD_SETSIZE (1024) bits: FD_SET on a higher descriptor writes past its end and
/// corrupts memory (h2o#287, cpp-httplib#754), so such a descriptor is refused.
final class SelectBackend: ReadinessBackend {
    static let name = SelectModel.name

    private let setSize = ferry_fd_setsize()
    private var readSet = fd_set()
    private var writeSet = fd_set()
    /// The highest watched descriptor (-1: none); select scans up to it.
    private var highest: Int32 = -1
    /// The loop's token of each watched descriptor, by descriptor.
    private var tokens: [UInt64]

    init() {
        ferry_fd_zero(&readSet)
        ferry_fd_zero(&writeSet)
        tokens = Array(repeating: 0, count: Int(setSize))
    }

    func refusal(for fd: Int32) -> String? {
        guard fd >= setSize else { return nil }
        return "descriptor \(fd) is at or above FD_SETSIZE (\(setSize)), which select(2) cannot watch"
            + " (the poll and epoll models have no such limit)"
    }

    func watch(_ fd: Int32, for interest: Interest, token: UInt64) throws {
        try change(fd, to: interest, token: token)
    }

    func change(_ fd: Int32, to interest: Interest, token: UInt64) throws {
        // The loop never passes a refused descriptor; this keeps FD_SET in bounds regardless.
        guard fd >= 0 && fd < setSize else { throw SystemError("FD_SET(\(fd))", code: EBADF) }
        tokens[Int(fd)] = token
        switch interest {
        case .readable:
            ferry_fd_clr(fd, &writeSet)
            ferry_fd_set(fd, &readSet)
        case .writable:
            ferry_fd_clr(fd, &readSet)
            ferry_fd_set(fd, &writeSet)
        }
        highest = max(highest, fd)
    }

    func forget(_ fd: Int32) {
        guard fd >= 0 && fd < setSize else { return }
        ferry_fd_clr(fd, &readSet)
        ferry_fd_clr(fd, &writeSet)
        while highest >= 0 && !isWatched(highest) { highest -= 1 }
    }

    func wait(timeoutMilliseconds: Int32, into ready: inout [UInt64]) throws -> Bool {
        ready.removeAll(keepingCapacity: true)
        var readable = readSet
        var writable = writeSet
        var timeout = timeval(tv_sec: Int(timeoutMilliseconds / 1000), tv_usec: Int(timeoutMilliseconds % 1000) * 1000)
        let count = timeoutMilliseconds < 0
            ? select(highest + 1, &readable, &writable, nil, nil)
            : select(highest + 1, &readable, &writable, nil, &timeout)
        if count < 0 {
            if errno == EINTR { return false }
            throw SystemError("select")
        }
        guard count > 0 else { return false }
        // select says how many bits are set, not which: scan the sets up to the highest.
        for fd in 0...max(highest, 0) where ferry_fd_isset(fd, &readable) != 0 || ferry_fd_isset(fd, &writable) != 0 {
            ready.append(tokens[Int(fd)])
        }
        return false
    }

    private func isWatched(_ fd: Int32) -> Bool {
        ferry_fd_isset(fd, &readSet) != 0 || ferry_fd_isset(fd, &writeSet) != 0
    }
}
