/// The `Date` field value for responses: the current time as an IMF-fixdate,
/// formatted at most once per second however many responses ask.
public final class DateHeaderCache {
    private let clock: () -> Int64
    private var second: Int64?
    private var value: FieldValue = "Thu, 01 Jan 1970 00:00:00 GMT"

    public convenience init() {
        self.init(clock: wallClockSeconds)
    }

    /// `clock` gives wall-clock seconds since the epoch; tests pass their own.
    init(clock: @escaping () -> Int64) {
        self.clock = clock
    }

    public func current() -> FieldValue {
        let now = clock()
        if now != second {
            // The clock is within 1...9999 unless it is badly wrong; keep the last value then.
            if let formatted = HTTPDate.fieldValue(now) { value = formatted }
            second = now
        }
        return value
    }
}
