import Glibc

/// HTTP dates (RFC 9110 §5.6.7) and the access log's date, always in UTC.
public enum HTTPDate {
    /// IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT"; nil when the year is outside
    /// 1...9999, so that a file with an extreme mtime is served without Last-Modified
    /// instead of crashing the server (darkhttpd, CVE-2020-25691).
    public static func format(_ seconds: Int64) -> String? {
        guard let time = brokenDown(seconds) else { return nil }
        var text = ""
        text.reserveCapacity(29)
        text += dayNames[Int(time.tm_wday)]
        text += ", "
        text += twoDigits(time.tm_mday)
        text += " "
        text += monthNames[Int(time.tm_mon)]
        text += " "
        text += fourDigits(time.tm_year + 1900)
        text += " "
        text += clock(time)
        text += " GMT"
        return text
    }

    /// `format` as a header field value.
    public static func fieldValue(_ seconds: Int64) -> FieldValue? {
        format(seconds).flatMap { FieldValue($0) }
    }

    /// Common Log Format's date, "06/Nov/1994:08:49:37 +0000". Times outside the years
    /// 1...9999 are clamped into them.
    public static func commonLog(_ seconds: Int64) -> String {
        let clamped = min(max(seconds, firstSecond), lastSecond)
        guard let time = brokenDown(clamped) else { return "01/Jan/1970:00:00:00 +0000" }
        return twoDigits(time.tm_mday) + "/" + monthNames[Int(time.tm_mon)] + "/"
            + fourDigits(time.tm_year + 1900) + ":" + clock(time) + " +0000"
    }

    /// Parses IMF-fixdate, RFC 850 and asctime dates, the three forms recipients must
    /// accept; nil if `text` is none of them or names a day that does not exist.
    public static func parse(_ text: String) -> Int64? {
        parse(text, now: wallClockSeconds())
    }

    /// `parse` with the current time given: RFC 850 two-digit years are read relative to it.
    static func parse(_ text: String, now: Int64) -> Int64? {
        var text = text
        return text.withUTF8 { parse(UnsafeRawBufferPointer($0), now: now) }
    }

    /// `parse` of a field value's bytes, without copying them.
    static func parse(_ bytes: UnsafeRawBufferPointer, now: Int64 = wallClockSeconds()) -> Int64? {
        guard let fields = imfFixdate(bytes) ?? rfc850(bytes, now: now) ?? asctime(bytes) else { return nil }
        return seconds(fields)
    }

    // MARK: formatting

    /// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
    static let firstSecond: Int64 = -62_135_596_800
    static let lastSecond: Int64 = 253_402_300_799

    private static let dayNames = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let longDayNames = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    private static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The UTC calendar fields of `seconds`, or nil outside the years 1...9999. The range
    /// is checked before gmtime_r, which is never asked about years it cannot represent.
    private static func brokenDown(_ seconds: Int64) -> tm? {
        guard seconds >= firstSecond && seconds <= lastSecond else { return nil }
        var time = time_t(seconds)
        var fields = tm()
        guard gmtime_r(&time, &fields) != nil else { return nil }
        return fields
    }

    private static func clock(_ time: tm) -> String {
        twoDigits(time.tm_hour) + ":" + twoDigits(time.tm_min) + ":" + twoDigits(time.tm_sec)
    }

    private static func twoDigits(_ value: Int32) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }

    private static func fourDigits(_ value: Int32) -> String {
        let digits = "\(value)"
        return String(repeating: "0", count: max(0, 4 - digits.utf8.count)) + digits
    }

    // MARK: parsing

    private struct Fields {
        var year: Int
        var month: Int  // 0...11
        var day: Int
        var hour: Int
        var minute: Int
        var second: Int
    }

    /// "Sun, 06 Nov 1994 08:49:37 GMT"
    private static func imfFixdate(_ bytes: UnsafeRawBufferPointer) -> Fields? {
        guard bytes.count == 29, dayNames.contains(where: { matches(bytes, at: 0, $0) }),
              matches(bytes, at: 3, ", "), bytes[7] == ASCII.space, bytes[11] == ASCII.space,
              bytes[16] == ASCII.space, matches(bytes, at: 25, " GMT"),
              let day = number(bytes, at: 5, digits: 2), let month = month(bytes, at: 8),
              let year = number(bytes, at: 12, digits: 4),
              let (hour, minute, second) = timeOfDay(bytes, at: 17) else { return nil }
        return Fields(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    }

    /// "Sunday, 06-Nov-94 08:49:37 GMT"
    private static func rfc850(_ bytes: UnsafeRawBufferPointer, now: Int64) -> Fields? {
        guard let name = longDayNames.first(where: { matches(bytes, at: 0, $0) }) else { return nil }
        let start = name.utf8.count
        guard bytes.count == start + 24, matches(bytes, at: start, ", "),
              bytes[start + 4] == UInt8(ascii: "-"), bytes[start + 8] == UInt8(ascii: "-"),
              bytes[start + 11] == ASCII.space, matches(bytes, at: start + 20, " GMT"),
              let day = number(bytes, at: start + 2, digits: 2), let month = month(bytes, at: start + 5),
              let shortYear = number(bytes, at: start + 9, digits: 2),
              let (hour, minute, second) = timeOfDay(bytes, at: start + 12),
              let currentYear = brokenDown(now).map({ Int($0.tm_year) + 1900 }) else { return nil }
        return Fields(year: fullYear(shortYear, currentYear: currentYear), month: month, day: day,
                      hour: hour, minute: minute, second: second)
    }

    /// RFC 9110 §5.6.7: a two-digit year more than 50 years in the future is the most
    /// recent past year with those digits.
    static func fullYear(_ shortYear: Int, currentYear: Int) -> Int {
        var year = currentYear - currentYear % 100 + shortYear
        if year > currentYear + 50 {
            year -= 100
        } else if year + 100 <= currentYear + 50 {
            year += 100
        }
        return year
    }

    /// "Sun Nov  6 08:49:37 1994" (a one-digit day is padded with a space)
    private static func asctime(_ bytes: UnsafeRawBufferPointer) -> Fields? {
        guard bytes.count == 24, dayNames.contains(where: { matches(bytes, at: 0, $0) }),
              bytes[3] == ASCII.space, bytes[7] == ASCII.space, bytes[10] == ASCII.space,
              bytes[19] == ASCII.space, let month = month(bytes, at: 4),
              let day = bytes[8] == ASCII.space ? number(bytes, at: 9, digits: 1) : number(bytes, at: 8, digits: 2),
              let (hour, minute, second) = timeOfDay(bytes, at: 11),
              let year = number(bytes, at: 20, digits: 4) else { return nil }
        return Fields(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    }

    /// "08:49:37"; a leap second (60) is allowed, as RFC 9110 allows.
    private static func timeOfDay(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> (Int, Int, Int)? {
        guard bytes[offset + 2] == ASCII.colon, bytes[offset + 5] == ASCII.colon,
              let hour = number(bytes, at: offset, digits: 2), hour < 24,
              let minute = number(bytes, at: offset + 3, digits: 2), minute < 60,
              let second = number(bytes, at: offset + 6, digits: 2), second <= 60 else { return nil }
        return (hour, minute, second)
    }

    private static func month(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Int? {
        monthNames.firstIndex { matches(bytes, at: offset, $0) }
    }

    private static func matches(_ bytes: UnsafeRawBufferPointer, at offset: Int, _ expected: String) -> Bool {
        bytes.count >= offset + expected.utf8.count && bytes[offset...].starts(with: expected.utf8)
    }

    private static func number(_ bytes: UnsafeRawBufferPointer, at offset: Int, digits: Int) -> Int? {
        var value = 0
        for byte in bytes[offset..<(offset + digits)] {
            guard ASCII.isDigit(byte) else { return nil }
            value = value * 10 + Int(byte - ASCII.zero)
        }
        return value
    }

    /// Seconds since the epoch, or nil for a day that does not exist (Feb 30, year 0),
    /// which timegm would silently roll over into the next month.
    private static func seconds(_ fields: Fields) -> Int64? {
        guard fields.year >= 1, fields.day >= 1, fields.day <= daysIn(month: fields.month, year: fields.year) else {
            return nil
        }
        var time = tm()
        time.tm_year = Int32(fields.year - 1900)
        time.tm_mon = Int32(fields.month)
        time.tm_mday = Int32(fields.day)
        time.tm_hour = Int32(fields.hour)
        time.tm_min = Int32(fields.minute)
        time.tm_sec = Int32(fields.second)
        return Int64(timegm(&time))
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 1:
            let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
            return leap ? 29 : 28
        case 3, 5, 8, 10:
            return 30
        default:
            return 31
        }
    }
}
