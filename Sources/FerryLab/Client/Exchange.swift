import FerryKit

/// What one connection of the load client says and what it expects back: csdesign's
/// echo request (`EchoExchange`) or an HTTP/1.0 GET (`HTTPExchange`). Each child makes
/// one and runs it on every connection it opens.
protocol Exchange: AnyObject {
    /// Talks over a freshly connected socket, reading until the server closes.
    func run(on connection: ClientConnection) -> ExchangeOutcome
}

/// What one connection achieved.
struct ExchangeOutcome: Equatable {
    /// Payload bytes received: the echo answer, or the HTTP body (not the head).
    var bytes = 0
    /// Why the connection failed; nil when it got exactly what it asked for.
    var failure: ExchangeFailure?
}

/// Reads until the server closes, expecting exactly `expected` payload bytes of which
/// `received` have already arrived. Stops early (a failure) once more have come.
func readPayloadToEnd(on connection: ClientConnection, expected: Int, received: Int,
                      buffer: inout [UInt8]) -> ExchangeOutcome {
    var outcome = ExchangeOutcome(bytes: received)
    do throws(ExchangeFailure) {
        while outcome.bytes <= expected {
            let n = try connection.receive(into: &buffer)
            if n == 0 { break }
            outcome.bytes += n
        }
    } catch {
        outcome.failure = error
        return outcome
    }
    if outcome.bytes < expected { outcome.failure = .short }
    if outcome.bytes > expected { outcome.failure = .long }
    return outcome
}
