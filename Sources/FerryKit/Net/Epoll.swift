import CFerry
import Glibc

/// A thin wrapper over an epoll instance. Each registration carries a 64-bit token
/// the caller chooses; `wait` returns (token, events) pairs.
public final class Epoll {
    public let fd: Int32
    private var ready: [ferry_epoll_event]

    public init(capacity: Int = 256) throws {
        fd = epoll_create1(Int32(EPOLL_CLOEXEC))
        try check(fd, "epoll_create1")
        ready = Array(repeating: ferry_epoll_event(), count: min(capacity, 256))
    }

    /// The most events one `wait` returns.
    public var capacity: Int { ready.count }

    deinit { close(fd) }

    public func add(_ descriptor: Int32, events: UInt32, token: UInt64) throws {
        try check(ferry_epoll_ctl(fd, EPOLL_CTL_ADD, descriptor, events, token), "epoll_ctl(ADD)")
    }

    public func modify(_ descriptor: Int32, events: UInt32, token: UInt64) throws {
        try check(ferry_epoll_ctl(fd, EPOLL_CTL_MOD, descriptor, events, token), "epoll_ctl(MOD)")
    }

    public func remove(_ descriptor: Int32) {
        _ = ferry_epoll_ctl(fd, EPOLL_CTL_DEL, descriptor, 0, 0)
    }

    /// Waits up to `timeoutMilliseconds` (-1: forever). EINTR gives an empty result.
    public func wait(timeoutMilliseconds: Int32) throws -> ArraySlice<ferry_epoll_event> {
        let count = ready.withUnsafeMutableBufferPointer {
            ferry_epoll_wait(fd, $0.baseAddress, Int32($0.count), timeoutMilliseconds)
        }
        if count < 0 {
            if errno == EINTR { return [] }
            throw SystemError("epoll_wait")
        }
        return ready[0..<Int(count)]
    }
}

public extension UInt32 {
    static let epollIn = UInt32(EPOLLIN.rawValue)
    static let epollOut = UInt32(EPOLLOUT.rawValue)
    static let epollEdgeTriggered = UInt32(EPOLLET.rawValue)
    static let epollExclusive = UInt32(EPOLLEXCLUSIVE.rawValue)
}
