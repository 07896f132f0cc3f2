/// The `Date` field value for responses: the current time as an IMF-fixdate,
/// formatted at most once per second however many responses ask.
public final class DateHeaderCache {
    private let clock: () -> Int64
    private var second: Int64?
    private var text = ""

    public convenience init() {
        self.init(clock: wallClockSeconds)
    }

    /// `clock` gives wall-clock seconds since the epoch; tests pass their own.
    init(clock: @escaping () -> Int64) {
        self.clock = clock
    }

    public func current() -> String {
        let now = clock()
        if now != second {
            // The clock is within 1...9999 unless it is badly wrong; keep the last value then.
            if let formatted = HTTPDate.format(now) { text = formatted }
            second = now
        }
        return text
    }
}
