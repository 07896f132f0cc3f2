/// nginx's `limit_rate` and `limit_rate_after` for one response body: the first
/// `after` bytes leave at full speed, the rest at `rate` bytes per second on
/// average. Sans-IO: the session asks how much it may send now and, when the
/// answer is nothing, when to ask again; the sending itself stays sendfile (or the
/// copy loop), in paced chunks.
///
/// The pace is measured from the moment the limited part began, with one
/// `quantum` of credit up front so a transfer never starts with a wait. As in
/// nginx, it is an average over the whole limited part: a client that stalled may
/// catch up afterwards, but never beyond `rate` since the limit began.
struct BodyPacer {
    /// Bytes per second; 0: no limit.
    let rate: Int64
    /// Body bytes sent at full speed before the limit applies.
    let after: Int64
    /// The smallest amount worth a wakeup: a twentieth of a second's worth, at least
    /// 1 KiB, never more than a second's worth. Waking for less would cost more
    /// system calls than it saves in accuracy.
    let quantum: Int64
    /// When the limited part began (monotonic ns); 0: not yet.
    private var limitedSince: UInt64 = 0

    init(rate: Int64, after: Int64) {
        self.rate = max(0, rate)
        self.after = max(0, after)
        quantum = rate > 0 ? min(max(rate / 20, 1024), rate) : 0
    }

    /// What the pacer allows now.
    enum Allowance: Equatable {
        /// Send at most this many bytes (`Int64.max`: no limit applies).
        case send(Int64)
        /// Send nothing before this monotonic time (ns).
        case waitUntil(UInt64)
    }

    /// How much of `remaining` may go now, with `sent` body bytes already out.
    mutating func allowance(sent: Int64, remaining: Int64, now: UInt64) -> Allowance {
        guard rate > 0 else { return .send(.max) }
        if sent < after { return .send(after - sent) }
        if limitedSince == 0 { limitedSince = now }
        let paced = sent - after
        let earned = quantum + Self.bytes(at: rate, over: now - limitedSince)
        let wanted = min(quantum, remaining)
        if earned - paced >= wanted { return .send(earned - paced) }
        // Earned reaches paced + wanted at limitedSince + (paced + wanted - quantum) / rate.
        let owed = paced + wanted - quantum
        return .waitUntil(limitedSince + UInt64((Double(owed) / Double(rate) * 1e9).rounded(.up)))
    }

    /// A new response on the same connection: its body starts at full speed again,
    /// as nginx's limit applies per request.
    mutating func reset() {
        limitedSince = 0
    }

    private static func bytes(at rate: Int64, over nanoseconds: UInt64) -> Int64 {
        Int64(Double(rate) * Double(nanoseconds) / 1e9)
    }
}
