import FerryKit

/// The echo request: the decimal byte count and a newline; the answer is exactly that
/// many bytes, then the server closes. `3000\n` is what Python's int() takes too, so
/// servers written the csdesign document's way (one recv, then int()) read it.
///
/// The client half-closes right after the request. Without that, the server, which
/// closes as soon as it has written, would always send the first FIN and hold every
/// TIME_WAIT; the csdesign document's client means to keep them on the client.
final class EchoExchange: Exchange {
    let count: Int
    private let request: [UInt8]
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)

    init(count: Int) {
        self.count = count
        request = Array("\(count)\n".utf8)
    }

    func run(on connection: ClientConnection) -> ExchangeOutcome {
        do throws(ExchangeFailure) {
            try connection.send(request)
            connection.finishSending()
        } catch {
            return ExchangeOutcome(failure: error)
        }
        return readPayloadToEnd(on: connection, expected: count, received: 0, buffer: &buffer)
    }
}
