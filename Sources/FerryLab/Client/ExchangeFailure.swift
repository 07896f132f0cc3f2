import FerryKit
import Glibc

/// Why one client connection did not complete: the causes the load client counts and
/// reports instead of crashing.
public enum ExchangeFailure: Int, Error, CaseIterable, Equatable {
    /// connect(2) found nobody listening (ECONNREFUSED).
    case refused
    /// connect(2) failed otherwise: no route, no free local port (EADDRNOTAVAIL), ...
    case connectFailed
    /// The peer reset the connection (ECONNRESET) or closed it under our write (EPIPE).
    case reset
    /// Connecting, sending or receiving took longer than the timeout.
    case timeout
    /// The server closed before sending all the bytes it owed.
    case short
    /// The server sent more bytes than it owed.
    case long
    /// HTTP: a status other than 200.
    case badStatus
    /// HTTP: an answer without a readable status line or Content-Length.
    case badHead
    /// Any other failed system call.
    case otherError
    /// Never made or never reported: its child could not start, or died.
    case childLost

    /// Short lowercase words for the failure report.
    public var description: String {
        switch self {
        case .refused: return "connection refused"
        case .connectFailed: return "connect failed"
        case .reset: return "connection reset"
        case .timeout: return "timed out"
        case .short: return "short answer"
        case .long: return "answer too long"
        case .badStatus: return "HTTP status not 200"
        case .badHead: return "unreadable HTTP head"
        case .otherError: return "other socket error"
        case .childLost: return "lost with their child"
        }
    }

    /// The failure a socket call's errno means.
    static func from(errno code: Int32, connecting: Bool = false) -> ExchangeFailure {
        switch code {
        case ECONNREFUSED: return .refused
        case ECONNRESET, EPIPE: return .reset
        // SO_RCVTIMEO/SO_SNDTIMEO expiring: EAGAIN for recv/send, EINPROGRESS for connect.
        case EAGAIN, EWOULDBLOCK, EINPROGRESS, ETIMEDOUT: return .timeout
        default: return connecting ? .connectFailed : .otherError
        }
    }
}
