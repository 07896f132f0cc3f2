import FerryKit

/// Properties of `HTTPDate`: parsing the three forms, and formatting any instant.
///
/// Input: the text to parse; its first 8 bytes are also an instant to format.
public enum DateChecks {
    public static func check(_ data: UnsafeRawBufferPointer) {
        let text = String(decoding: data, as: UTF8.self)
        if let instant = HTTPDate.parse(text) {
            checkRoundTrip(instant, from: text)
        }
        // Any Int64, extremes included, formats without trapping.
        for seconds in [Int64(bitPattern: littleEndian(data, count: 8)), Int64(Int32(truncatingIfNeeded: littleEndian(data, count: 4)))] {
            let log = HTTPDate.commonLog(seconds)
            require(log.utf8.count == 26 && isFieldSafe(log), "commonLog(\(seconds)) = \(log.debugDescription)")
            if let formatted = HTTPDate.format(seconds) {
                require(HTTPDate.parse(formatted) == seconds, "format(\(seconds)) = \(formatted) does not parse back")
                checkRoundTrip(seconds, from: formatted)
            }
        }
    }

    /// A parsed instant formats as an IMF-fixdate that parses to the same instant, and
    /// the asctime form of that date does too.
    static func checkRoundTrip(_ instant: Int64, from text: String) {
        // A leap second at the end of 9999 rolls over into 10000, which has no IMF-fixdate.
        guard let formatted = HTTPDate.format(instant) else {
            require(instant > 253_402_300_799 || instant < -62_135_596_800,
                    "\(text.debugDescription) parses to \(instant), which does not format")
            return
        }
        require(formatted.utf8.count == 29 && isFieldSafe(formatted), "format(\(instant)) = \(formatted.debugDescription)")
        require(HTTPDate.parse(formatted) == instant, "\(formatted) (from \(text.debugDescription)) does not parse to \(instant)")
        let asctime = asctimeForm(formatted)
        require(HTTPDate.parse(asctime) == instant, "\(asctime) (from \(formatted)) does not parse to \(instant)")
    }

    /// "Sun, 06 Nov 1994 08:49:37 GMT" → "Sun Nov  6 08:49:37 1994".
    static func asctimeForm(_ imf: String) -> String {
        let bytes = Array(imf.utf8)
        let day = bytes[5] == UInt8(ascii: "0") ? [UInt8(ascii: " "), bytes[6]] : Array(bytes[5...6])
        let parts: [[UInt8]] = [Array(bytes[0...2]), [0x20], Array(bytes[8...10]), [0x20], day, [0x20],
                                Array(bytes[17...24]), [0x20], Array(bytes[12...15])]
        return String(decoding: parts.joined(), as: UTF8.self)
    }
}
