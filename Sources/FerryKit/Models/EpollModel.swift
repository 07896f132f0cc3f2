/// I/O multiplexing with epoll(7) (on the csdesign document's roadmap). The interest list lives in
/// the kernel: a descriptor is registered once and changed when its session switches
/// between reading and writing, and epoll_wait returns only the ready descriptors, so
/// a wait costs O(ready), not O(watched) as with select and poll.
///
/// Level-triggered, on purpose. Edge-triggered would save the one EPOLL_CTL_MOD a
/// connection costs here (echo and HTTP sessions switch from reading to writing once):
/// register EPOLLIN|EPOLLOUT|EPOLLET at accept and never touch it again, at the price
/// of a wakeup for EPOLLOUT while the session still waits to read. But edge-triggered
/// is only correct while every session runs each step until EAGAIN: one that stops
/// early (to give other connections a turn during a long send, say) would never be
/// woken again. Level-triggered wakes a ready socket on every wait until it is
/// served, so the loop stays correct whatever a session does.
public struct EpollModel: ServerModel {
    public static let name = "epoll"

    public init() {}

    public func run(listeners: [Listener], makeHandler: @escaping HandlerFactory,
                    options: ModelOptions) throws -> [WorkerTally] {
        let loop = try EventLoop(backend: EpollBackend(), source: .listeners(listeners),
                                 handler: makeHandler(), options: options)
        return try loop.run()
    }
}

/// The epoll instance; each registration carries the loop's token in its data.
final class EpollBackend: ReadinessBackend {
    static let name = EpollModel.name

    private let epoll: Epoll

    init() throws {
        epoll = try Epoll()
    }

    func refusal(for fd: Int32) -> String? { nil }

    func watch(_ fd: Int32, for interest: Interest, token: UInt64) throws {
        try epoll.add(fd, events: Self.events(for: interest), token: token)
    }

    func change(_ fd: Int32, to interest: Interest, token: UInt64) throws {
        try epoll.modify(fd, events: Self.events(for: interest), token: token)
    }

    func forget(_ fd: Int32) {
        // Needed for listeners, which stay open during an accept pause. For a session's
        // socket close(2) would drop the registration by itself (nothing here duplicates
        // a socket); the explicit EPOLL_CTL_DEL keeps the backend's state exact anyway.
        epoll.remove(fd)
    }

    func wait(timeoutMilliseconds: Int32, into ready: inout [UInt64]) throws -> Bool {
        ready.removeAll(keepingCapacity: true)
        // EPOLLERR and EPOLLHUP are always reported; they wake the session like readiness.
        let events = try epoll.wait(timeoutMilliseconds: timeoutMilliseconds)
        for event in events { ready.append(event.data) }
        return events.count == epoll.capacity
    }

    private static func events(for interest: Interest) -> UInt32 {
        interest == .readable ? .epollIn : .epollOut
    }
}
