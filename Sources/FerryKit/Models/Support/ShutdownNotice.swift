import Glibc

/// The lines the blocking models log on the way down, worded alike.
enum ShutdownNotice {
    static func name(of signal: Int32) -> String {
        switch signal {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        default: return "signal \(signal)"
        }
    }

    /// "ferry: SIGTERM: no longer accepting; letting the 3 busy children finish (up to 30 s)".
    static func draining(_ signal: Int32, what: String, drainTimeout: Double) -> String {
        "ferry: \(name(of: signal)): no longer accepting; letting \(what) finish (up to \(Int(drainTimeout)) s)"
    }

    /// "1 busy child", "3 busy children".
    static func count(_ number: Int, _ singular: String, _ plural: String) -> String {
        "\(number) \(number == 1 ? singular : plural)"
    }

    static let secondSignal = "ferry: second signal; stopping now"

    /// The drain deadline `drainTimeout` seconds from now (never 0, which means "none").
    static func deadline(after drainTimeout: Double) -> UInt64 {
        monotonicNanoseconds() + max(drainTimeout, 0.001).nanoseconds
    }
}
