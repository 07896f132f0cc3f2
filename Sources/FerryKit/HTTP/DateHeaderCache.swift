/// The current time as responses and the access log write it, formatted at most once
/// per second however many responses ask: the `Date` field value, the "Date: ..\r\n
/// Server: ..\r\n" lines every head starts with, and the access log's time.
public final class DateHeaderCache {
    private let clock: () -> Int64
    private let server: FieldValue
    private var second: Int64?
    private var value: FieldValue = "Thu, 01 Jan 1970 00:00:00 GMT"
    private var preludeBytes: [UInt8] = []
    private var commonLogBytes: [UInt8] = []
    /// The second an event loop read at its wakeup, used instead of the clock.
    private var pinned: Int64?

    public convenience init(server: FieldValue = "Ferry") {
        self.init(server: server, clock: wallClockSeconds)
    }

    /// `clock` gives wall-clock seconds since the epoch; tests pass their own.
    init(server: FieldValue = "Ferry", clock: @escaping () -> Int64) {
        self.server = server
        self.clock = clock
    }

    public func current() -> FieldValue {
        refresh()
        return value
    }

    /// "Date: <now>\r\nServer: <name>\r\n".
    @_spi(Benchmarks) public func prelude() -> [UInt8] {
        refresh()
        return preludeBytes
    }

    /// The access log's "06/Nov/1994:08:49:37 +0000" for now.
    func commonLogTime() -> [UInt8] {
        refresh()
        return commonLogBytes
    }

    /// Uses `second` (an event loop's wakeup) until the next pin, instead of asking
    /// the clock on every call.
    func pin(_ second: Int64) {
        pinned = second
    }

    private func refresh() {
        let now = pinned ?? clock()
        guard now != second else { return }
        second = now
        // The clock is within 1...9999 unless it is badly wrong; keep the last value then.
        if let formatted = HTTPDate.fieldValue(now) { value = formatted }
        preludeBytes.removeAll(keepingCapacity: true)
        ResponseHead.append("Date", value, to: &preludeBytes)
        ResponseHead.append("Server", server, to: &preludeBytes)
        commonLogBytes = Array(HTTPDate.commonLog(now).utf8)
    }
}
