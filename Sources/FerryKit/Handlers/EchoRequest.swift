/// The echo protocol's request, a decimal byte count, as its bytes arrive. Pure: the
/// session reads the socket and tells this what came (`append`), that nothing more is
/// arriving for now (`pause`), or that the input ended (`end`). The rule is written in
/// `EchoHandler`'s documentation.
struct EchoRequest {
    /// What is known about the count so far.
    enum Outcome: Equatable {
        /// No end yet: wait for more.
        case incomplete
        case count(Int)
        /// Not a count this server answers; the reason, for the log.
        case refused(String)
    }

    /// Most bytes before the end of the count (a 1 GiB count is 10 digits; the rest
    /// leaves room for surrounding whitespace).
    static let maximumLength = 20

    private var text: [UInt8] = []
    private var sawDigit = false

    init() {}

    /// Takes bytes that arrived. Stops at the first newline; whatever follows it is
    /// not looked at.
    mutating func append(_ bytes: some Sequence<UInt8>) -> Outcome {
        for byte in bytes {
            if byte == UInt8(ascii: "\n") { return finish() }
            if ASCII.isDigit(byte) {
                sawDigit = true
            } else if !Self.isWhitespace(byte) {
                return .refused("not a decimal byte count")
            }
            text.append(byte)
            if text.count > Self.maximumLength {
                return .refused("more than \(Self.maximumLength) bytes without a newline")
            }
        }
        return .incomplete
    }

    /// The client sent nothing more for now: once a digit has come, the count is what
    /// arrived, as for a server that reads it with one recv(2).
    func pause() -> Outcome {
        sawDigit ? finish() : .incomplete
    }

    /// The client's input ended (it half-closed or closed).
    func end() -> Outcome {
        finish()
    }

    /// Digits with optional whitespace either side, as Python's int() accepts them.
    private func finish() -> Outcome {
        let digits = text.drop(while: Self.isWhitespace).reversed().drop(while: Self.isWhitespace).reversed()
        guard !digits.isEmpty else { return .refused("no byte count") }
        guard digits.allSatisfy(ASCII.isDigit) else { return .refused("not a decimal byte count") }
        guard let count = Int(String(decoding: digits, as: UTF8.self)), count <= EchoHandler.maximumCount else {
            return .refused("more than \(EchoHandler.maximumCount) bytes asked for")
        }
        return .count(count)
    }

    /// Space, tab, carriage return, vertical tab, form feed: the ASCII whitespace
    /// Python's int() strips (newline ends the count before it gets here).
    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || (0x09...0x0D).contains(byte)
    }
}
