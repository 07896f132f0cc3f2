/// What the parent says about connections refused by max_connections_per_address:
/// at most one line a minute, never one per refusal (a client hammering the server
/// would flood the log): the first refusal at once, then, at the first refusal a
/// minute or more after the last line, how many there were since.
struct PerAddressRefusalNotice {
    static let interval: UInt64 = 60 * 1_000_000_000
    private var lastLine: UInt64 = 0
    private var refusedSinceLine = 0

    /// Counts a refusal of a connection from `key`; returns the line to log, if one is due.
    mutating func refused(_ key: AddressKey, limit: Int, now: UInt64) -> String? {
        refusedSinceLine += 1
        guard lastLine == 0 || now - lastLine >= Self.interval else { return nil }
        let line = lastLine == 0
            ? "ferry: \(key) holds \(limit) connections (max_connections_per_address); refusing its new ones "
                + "with 503 until some close (refusals are reported at most once a minute)"
            : "ferry: refused \(ShutdownNotice.count(refusedSinceLine, "connection", "connections")) over "
                + "max_connections_per_address (\(limit)) since the last report, the latest from \(key)"
        lastLine = now
        refusedSinceLine = 0
        return line
    }
}
