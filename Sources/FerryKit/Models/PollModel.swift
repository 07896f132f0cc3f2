import Glibc

/// I/O multiplexing with poll(2) (UNP 6.10; on the csdesign document's roadmap). The same event
/// loop as select, without FD_SETSIZE: poll takes an array of (descriptor, events)
/// of any length. The kernel still walks the whole array on every call, so the cost
/// per wait grows with the number of connections, ready or not.
public struct PollModel: ServerModel {
    public static let name = "poll"

    public init() {}

    public func run(listeners: [Listener], makeHandler: @escaping HandlerFactory,
                    options: ModelOptions) throws -> [WorkerTally] {
        let loop = try EventLoop(backend: PollBackend(), source: .listeners(listeners),
                                 handler: makeHandler(), options: options)
        return try loop.run()
    }
}

/// The pollfd array, maintained in place rather than rebuilt for every wait: a new
/// descriptor is appended, an interest change rewrites its entry's events, and a
/// forgotten descriptor's entry is replaced by the last one. `slots` finds an entry;
/// `tokens`, beside the array, holds each entry's token for the loop.
final class PollBackend: ReadinessBackend {
    static let name = PollModel.name

    private var entries: [pollfd] = []
    private var tokens: [UInt64] = []
    private var slots: [Int32: Int] = [:]

    func refusal(for fd: Int32) -> String? { nil }

    func watch(_ fd: Int32, for interest: Interest, token: UInt64) throws {
        slots[fd] = entries.count
        entries.append(pollfd(fd: fd, events: Self.events(for: interest), revents: 0))
        tokens.append(token)
    }

    func change(_ fd: Int32, to interest: Interest, token: UInt64) throws {
        guard let slot = slots[fd] else { throw SystemError("poll: descriptor \(fd) is not watched", code: EBADF) }
        entries[slot].events = Self.events(for: interest)
        tokens[slot] = token
    }

    func forget(_ fd: Int32) {
        guard let slot = slots.removeValue(forKey: fd) else { return }
        let last = entries.removeLast()
        let lastToken = tokens.removeLast()
        if slot < entries.count {
            entries[slot] = last
            tokens[slot] = lastToken
            slots[last.fd] = slot
        }
    }

    func wait(timeoutMilliseconds: Int32, into ready: inout [UInt64]) throws -> Bool {
        ready.removeAll(keepingCapacity: true)
        let count = poll(&entries, nfds_t(entries.count), timeoutMilliseconds)
        if count < 0 {
            if errno == EINTR { return false }
            throw SystemError("poll")
        }
        guard count > 0 else { return false }
        // POLLERR, POLLHUP and POLLNVAL come back without being asked for; they wake
        // the session too, whose next read or write reports the failure.
        for (slot, entry) in entries.enumerated() where entry.revents != 0 {
            ready.append(tokens[slot])
            if ready.count == count { break }
        }
        return false
    }

    private static func events(for interest: Interest) -> Int16 {
        Int16(interest == .readable ? POLLIN : POLLOUT)
    }
}
