/// Comma-separated lists of names with weights (RFC 9110 §12.4.2), as Accept and
/// Accept-Encoding carry: `name *( OWS ";" OWS parameter )`, the weight being "q=".
enum WeightedList {
    /// Calls `body` with each element's name (trimmed) and weight in thousandths (q=1
    /// is 1000, the default). An element whose weight is malformed is skipped; other
    /// parameters are ignored. Allocates nothing.
    static func forEach<Bytes: BidirectionalCollection>(_ field: Bytes, _ body: (Bytes.SubSequence, Int) -> Void)
    where Bytes.Element == UInt8 {
        var elementStart = field.startIndex
        while elementStart != field.endIndex {
            let elementEnd = field[elementStart...].firstIndex(of: ASCII.comma) ?? field.endIndex
            let element = field[elementStart..<elementEnd]
            elementStart = elementEnd == field.endIndex ? elementEnd : field.index(after: elementEnd)
            let nameEnd = element.firstIndex(of: UInt8(ascii: ";")) ?? element.endIndex
            var weight: Int? = 1000
            var parameterStart = nameEnd
            while parameterStart != element.endIndex {
                parameterStart = element.index(after: parameterStart)
                let parameterEnd = element[parameterStart...].firstIndex(of: UInt8(ascii: ";")) ?? element.endIndex
                let parameter = ASCII.trimmingWhitespace(element[parameterStart..<parameterEnd])
                parameterStart = parameterEnd
                guard parameter.count >= 2, ASCII.lowercased(parameter[parameter.startIndex]) == UInt8(ascii: "q"),
                      parameter[parameter.index(after: parameter.startIndex)] == UInt8(ascii: "=") else { continue }
                weight = qvalue(parameter.dropFirst(2))
            }
            guard let weight else { continue }
            body(ASCII.trimmingWhitespace(field[element.startIndex..<nameEnd]), weight)
        }
    }

    /// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )` in thousandths.
    static func qvalue<Bytes: Collection>(_ text: Bytes) -> Int? where Bytes.Element == UInt8 {
        guard let first = text.first, first == ASCII.zero || first == UInt8(ascii: "1") else { return nil }
        var rest = text.dropFirst()
        var fraction = 0
        if !rest.isEmpty {
            guard rest.first == UInt8(ascii: "."), rest.count <= 4 else { return nil }
            rest = rest.dropFirst()
            guard rest.allSatisfy(ASCII.isDigit) else { return nil }
            var scale = 100
            for digit in rest {
                fraction += Int(digit - ASCII.zero) * scale
                scale /= 10
            }
        }
        if first == UInt8(ascii: "1") { return fraction == 0 ? 1000 : nil }
        return fraction
    }
}
