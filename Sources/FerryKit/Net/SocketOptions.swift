import Glibc

/// Socket options Ferry sets, one named function each.
public enum SocketOptions {
    /// TCP_CORK: hold partial segments until uncorked (or 200 ms pass).
    public static func setCork(_ fd: Int32, _ on: Bool) {
        setInt(fd, Int32(IPPROTO_TCP), TCP_CORK, on ? 1 : 0)
    }

    /// TCP_NODELAY: send small segments at once instead of waiting (Nagle off). Set on
    /// the listeners: an accepted socket inherits it, so no connection pays a call for
    /// it. A response written while the last segment of an earlier one is still
    /// unacknowledged would otherwise wait for the client's delayed ACK (40 ms); the
    /// head still joins its body through MSG_MORE.
    public static func setNoDelay(_ fd: Int32, _ on: Bool) {
        setInt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, on ? 1 : 0)
    }

    /// SO_LINGER {on, 0}: close(2) discards unsent data and sends a RST.
    public static func setResetOnClose(_ fd: Int32) {
        var value = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &value, socklen_t(MemoryLayout<linger>.size))
    }

    /// TCP_DEFER_ACCEPT: wake accept(2) only once the client has sent data.
    public static func setDeferAccept(_ fd: Int32, seconds: Int32) {
        setInt(fd, Int32(IPPROTO_TCP), TCP_DEFER_ACCEPT, seconds)
    }

    public static func setReuseAddress(_ fd: Int32) {
        setInt(fd, SOL_SOCKET, SO_REUSEADDR, 1)
    }

    public static func setReusePort(_ fd: Int32) {
        setInt(fd, SOL_SOCKET, SO_REUSEPORT, 1)
    }

    public static func setIPv6Only(_ fd: Int32) {
        setInt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1)
    }

    /// Bytes received and not yet read (FIONREAD).
    public static func unreadByteCount(_ fd: Int32) -> Int {
        var count: Int32 = 0
        return ioctl(fd, UInt(FIONREAD), &count) == 0 ? Int(count) : 0
    }

    public static func setNonBlocking(_ fd: Int32, _ on: Bool = true) {
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0 else { return }
        _ = fcntl(fd, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK)
    }

    private static func setInt(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) {
        var value = value
        setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
    }
}
