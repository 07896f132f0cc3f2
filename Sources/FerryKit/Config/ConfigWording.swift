import TOMLKit

/// The words configuration problems use for what they expected and what they got.
enum ConfigWording {
    /// "a string", "an integer", ...: the type a problem says it got.
    static func article(_ type: TOMLType) -> String {
        switch type {
        case .table: return "a table"
        case .array: return "an array"
        case .string: return "a string"
        case .int: return "an integer"
        case .double: return "a floating-point number"
        case .bool: return "a boolean"
        case .date: return "a date"
        case .time: return "a time"
        case .dateTime: return "a date-time"
        }
    }

    /// A string in double quotes, with quotes, backslashes and control characters
    /// escaped as TOML writes them, cut after 40 characters so that one wild value
    /// cannot flood the error line. (Not `debugDescription`: TOMLKit redefines it for
    /// String as the bare string.)
    static func quoted(_ text: String) -> String {
        let limit = 40
        var result = "\""
        for scalar in text.unicodeScalars.prefix(limit) {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + (text.unicodeScalars.count > limit ? "...\"" : "\"")
    }

    /// `"a"`, `"a" or "b"`, `"a", "b" or "c"`.
    static func alternatives(_ items: [String]) -> String {
        guard let last = items.last, items.count > 1 else { return items.first ?? "" }
        return items.dropLast().joined(separator: ", ") + " or " + last
    }

    /// Seconds without a needless ".0": 10, 0.5, inf.
    static func seconds(_ value: Double) -> String {
        if value.isFinite, value == value.rounded(), abs(value) < 1e15 {
            return String(Int(value))
        }
        return String(value)
    }
}
