import FerryKit
import Glibc

/// The csdesign document's rstserver.py: an iterative server that answers every connection with a
/// TCP RST. It accepts, sets SO_LINGER {on, 0} and closes: with a zero linger time,
/// close(2) discards the connection at once and sends a RST instead of a FIN.
public enum RSTServer {
    /// Serves `listeners` until SIGINT or SIGTERM, printing "sent RST to HOST:PORT"
    /// per connection. Returns how many connections it reset.
    public static func run(listeners: [Listener]) throws -> Int {
        let signals = try SignalDescriptor([SIGINT, SIGTERM])
        var watched = listeners.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
        watched.append(pollfd(fd: signals.fd, events: Int16(POLLIN), revents: 0))
        var resets = 0
        while true {
            if poll(&watched, nfds_t(watched.count), -1) < 0 {
                if errno == EINTR { continue }
                throw SystemError("poll")
            }
            if watched[listeners.count].revents != 0 && !signals.drain().isEmpty {
                return resets
            }
            for (index, listener) in listeners.enumerated() where watched[index].revents != 0 {
                // One connection at a time: accept, reset, next.
                while let (connection, peer) = listener.accept() {
                    SocketOptions.setResetOnClose(connection)
                    close(connection)
                    resets += 1
                    Console.out("sent RST to \(peer)")
                }
            }
        }
    }
}
