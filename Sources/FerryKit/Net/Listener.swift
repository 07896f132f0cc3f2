import CFerry
import Glibc

/// A bound, listening TCP socket (non-blocking, close-on-exec).
public struct Listener {
    public let fd: Int32
    public let address: SocketAddress

    /// Options for `Listener.open`.
    public struct Options {
        public var backlog: Int32 = 1024
        /// Seconds for TCP_DEFER_ACCEPT, 0 for off.
        public var deferAcceptSeconds: Int32 = 0
        public var reusePort = false
        public init() {}
    }

    /// Listens on every address `host` resolves to ("localhost" gives 127.0.0.1 and
    /// ::1). Port 0 lets the kernel pick a port for the first address; the others
    /// then use the same one. An IPv6 address the machine lacks is skipped.
    public static func open(host: String, port: Int, options: Options = Options()) throws -> [Listener] {
        var listeners: [Listener] = []
        var port = port
        for candidate in try SocketAddress.resolve(host: host, port: port, passive: true) {
            var address = candidate
            setPort(&address, port)
            do {
                let listener = try bindAndListen(address, options: options)
                port = listener.address.port
                listeners.append(listener)
            } catch let error as SystemError
                where !listeners.isEmpty && (error.code == EADDRNOTAVAIL || error.code == EAFNOSUPPORT) {
                continue
            } catch {
                listeners.forEach { close($0.fd) }
                throw error
            }
        }
        return listeners
    }

    /// One accept(2), and what its result means for the caller: the single place where
    /// accept errors are judged, for every model. The connection is non-blocking and
    /// close-on-exec whatever the listener is.
    public func acceptConnection() -> AcceptOutcome {
        if let (fd, peer) = accept(nonBlocking: true) { return .connection(fd: fd, peer: peer) }
        let code = errno
        switch code {
        case EAGAIN:
            return .empty
        case EINVAL, EBADF:
            return .closed
        case EINTR, ECONNABORTED, EPERM,
             // accept(2), "Error handling": Linux passes the new connection's pending network
             // errors on as accept errors; "treat them like EAGAIN by retrying".
             EPROTO, ENOPROTOOPT, ENETDOWN, EHOSTDOWN, ENONET, EHOSTUNREACH, EOPNOTSUPP, ENETUNREACH:
            return .retry
        default:
            // EMFILE, ENFILE, ENOBUFS, ENOMEM, or anything unforeseen: the connection stays
            // queued and the listener readable, so an immediate retry would only spin.
            return .backOff(code: code)
        }
    }

    /// Accepts one connection; nil when none is waiting (EAGAIN) or it failed (errno says why).
    public func accept(nonBlocking: Bool = true) -> (fd: Int32, peer: SocketAddress)? {
        var peer = SocketAddress()
        let fd = withUnsafeMutableBytes(of: &peer.storage) { raw in
            ferry_accept(self.fd, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), &peer.length,
                         nonBlocking ? 1 : 0)
        }
        return fd >= 0 ? (fd, peer) : nil
    }

    /// The URL a browser would use: "http://127.0.0.1:8080/".
    public var url: String { "http://\(address)/" }

    private static func bindAndListen(_ address: SocketAddress, options: Options) throws -> Listener {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
                            | Int32(SOCK_CLOEXEC.rawValue), 0)
        try check(fd, "socket")
        do {
            SocketOptions.setReuseAddress(fd)
            if options.reusePort { SocketOptions.setReusePort(fd) }
            if address.family == AF_INET6 { SocketOptions.setIPv6Only(fd) }
            try check(address.withSockaddr { Glibc.bind(fd, $0, $1) }, "bind \(address)")
            try check(Glibc.listen(fd, options.backlog), "listen \(address)")
            if options.deferAcceptSeconds > 0 {
                SocketOptions.setDeferAccept(fd, seconds: options.deferAcceptSeconds)
            }
            SocketOptions.setNoDelay(fd, true)
            return Listener(fd: fd, address: try SocketAddress.local(of: fd))
        } catch {
            close(fd)
            throw error
        }
    }

    private static func setPort(_ address: inout SocketAddress, _ port: Int) {
        let family = address.family
        withUnsafeMutableBytes(of: &address.storage) { raw in
            if family == AF_INET {
                raw.baseAddress!.assumingMemoryBound(to: sockaddr_in.self).pointee.sin_port = in_port_t(port).bigEndian
            } else {
                raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self).pointee.sin6_port = in_port_t(port).bigEndian
            }
        }
    }
}

/// What one `Listener.acceptConnection()` came to.
public enum AcceptOutcome {
    case connection(fd: Int32, peer: SocketAddress)
    /// The call was interrupted, or the connection failed before it was taken
    /// (ECONNABORTED, a network error): the next one may be fine, call accept again now.
    case retry
    /// Out of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM): the connections
    /// stay in the backlog. Free what you can, and try again after `Listener.backOffPause`
    /// (a level-triggered waiter stops watching the listener meanwhile; an
    /// edge-triggered one needs a timer, since no new event comes for what is queued).
    case backOff(code: Int32)
    /// The backlog is empty (EAGAIN).
    case empty
    /// The listener was shut down (EINVAL) or closed (EBADF).
    case closed
}

public extension Listener {
    /// How long accepting pauses after `AcceptOutcome.backOff`.
    static let backOffPause = 0.1
}
