import FerryKit
import Glibc

/// One blocking TCP connection of the load client. Every wait is bounded: SO_SNDTIMEO
/// bounds connect(2) and each send, SO_RCVTIMEO each receive, and `deadline` the whole
/// exchange (checked after every call, so a server that trickles bytes cannot hold a
/// connection much past it).
struct ClientConnection {
    let fd: Int32
    let deadline: UInt64

    /// Connects to the first of `addresses` that accepts; the failure is the last
    /// address's. `timeout` (seconds) bounds each wait; the exchange must end by `deadline`.
    init(connectingTo addresses: [SocketAddress], timeout: Double, deadline: UInt64) throws(ExchangeFailure) {
        var failure = ExchangeFailure.connectFailed
        for address in addresses {
            let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw ExchangeFailure.from(errno: errno, connecting: true) }
            ClientConnection.setTimeout(fd, SO_SNDTIMEO, seconds: timeout)
            ClientConnection.setTimeout(fd, SO_RCVTIMEO, seconds: timeout)
            if let error = ClientConnection.connect(fd, to: address, deadline: deadline) {
                Glibc.close(fd)
                failure = error
                continue
            }
            self.fd = fd
            self.deadline = deadline
            return
        }
        throw failure
    }

    /// Sends all of `bytes`, looping over partial sends.
    func send(_ bytes: [UInt8]) throws(ExchangeFailure) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw ExchangeFailure.from(errno: errno)
            }
            offset += n
            try checkDeadline()
        }
    }

    /// Half-closes: our FIN goes out now, ahead of the server's, so this side is the
    /// one that closes first and keeps the TIME_WAIT state.
    func finishSending() {
        shutdown(fd, Int32(SHUT_WR))
    }

    /// Receives what has arrived into `buffer` (up to its size): the byte count,
    /// 0 once the server has closed.
    func receive(into buffer: inout [UInt8]) throws(ExchangeFailure) -> Int {
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                // EINTR also comes without a handler, after SIGSTOP/SIGCONT (signal(7)).
                if errno == EINTR { continue }
                throw ExchangeFailure.from(errno: errno)
            }
            if n > 0 { try checkDeadline() }
            return n
        }
    }

    /// A plain close: no linger, no reset.
    func close() { Glibc.close(fd) }

    private func checkDeadline() throws(ExchangeFailure) {
        if monotonicNanoseconds() > deadline { throw .timeout }
    }

    /// connect(2) bounded by SO_SNDTIMEO; nil once connected.
    private static func connect(_ fd: Int32, to address: SocketAddress, deadline: UInt64) -> ExchangeFailure? {
        if address.withSockaddr({ Glibc.connect(fd, $0, $1) }) == 0 { return nil }
        guard errno == EINTR else { return .from(errno: errno, connecting: true) }
        // Interrupted: the handshake goes on in the kernel. Wait for it, then ask how it went.
        var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        while true {
            let ready = poll(&descriptor, 1, pollTimeout(until: deadline))
            if ready > 0 { break }
            if ready == 0 { return .timeout }
            if errno != EINTR { return .from(errno: errno, connecting: true) }
        }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        return error == 0 ? nil : .from(errno: error, connecting: true)
    }

    private static func setTimeout(_ fd: Int32, _ option: Int32, seconds: Double) {
        var value = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, option, &value, socklen_t(MemoryLayout<timeval>.size))
    }
}
