/// A content coding Ferry can serve from a precompressed sidecar file.
public enum ContentCoding: String, CaseIterable, Sendable {
    // Declared in the server's order of preference for codings the client weighs
    // equally: brotli packs text tightest, then zstd, then gzip.
    case br, zstd, gzip

    /// The sidecar's suffix after the original name: "app.js" + ".br".
    public var fileSuffix: String {
        switch self {
        case .br: return ".br"
        case .zstd: return ".zst"
        case .gzip: return ".gz"
        }
    }

    /// The Content-Encoding field's value.
    public var fieldValue: FieldValue {
        switch self {
        case .br: return "br"
        case .zstd: return "zstd"
        case .gzip: return "gzip"
        }
    }
}

/// Content negotiation on Accept-Encoding (RFC 9110 §12.5.3) among the codings a file
/// has sidecars for.
public enum AcceptEncoding {
    /// The codings of `available` the field allows, best first: by weight, then by
    /// the server's order. Empty means identity. Without a field nothing is encoded
    /// (a client that sends none may not decode anything). `identity` weighed above
    /// every allowed coding also means identity; "identity;q=0" changes nothing,
    /// since no sidecar may stand in for the file the client would otherwise get.
    public static func preferred(_ field: String?, available: [ContentCoding]) -> [ContentCoding] {
        guard let field, !available.isEmpty else { return [] }
        let weights = parse(Array(field.utf8))
        let wildcard = weights["*"]
        var ranked: [(coding: ContentCoding, weight: Int)] = []
        for coding in ContentCoding.allCases where available.contains(coding) {
            var weight = weights[coding.rawValue] ?? wildcard ?? 0
            if coding == .gzip, weights["gzip"] == nil, let legacy = weights["x-gzip"] { weight = legacy }
            if weight > 0 { ranked.append((coding, weight)) }
        }
        // Stable: equal weights keep the server's order.
        ranked.sort { $0.weight > $1.weight }
        if let identity = weights["identity"], let best = ranked.first, identity > best.weight { return [] }
        return ranked.map(\.coding)
    }

    /// Coding name (lowercased) → weight in thousandths (q=1 is 1000). An element whose
    /// weight is malformed is dropped; a name given twice keeps its first weight.
    static func parse(_ field: [UInt8]) -> [String: Int] {
        var weights: [String: Int] = [:]
        for element in field.split(separator: ASCII.comma) {
            let parts = element.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: false)
            let name = ASCII.trimmingWhitespace(parts[0])
            guard !name.isEmpty, name.allSatisfy(ASCII.isTokenCharacter) else { continue }
            var weight: Int? = 1000
            for parameter in parts.dropFirst() {
                let text = ASCII.trimmingWhitespace(parameter)
                guard text.count >= 2, ASCII.lowercased(text[text.startIndex]) == UInt8(ascii: "q"),
                      text[text.startIndex + 1] == UInt8(ascii: "=") else { continue }
                weight = qvalue(text[(text.startIndex + 2)...])
            }
            guard let weight else { continue }
            let key = String(decoding: name.map(ASCII.lowercased), as: UTF8.self)
            if weights[key] == nil { weights[key] = weight }
        }
        return weights
    }

    /// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )` in thousandths.
    static func qvalue(_ text: ArraySlice<UInt8>) -> Int? {
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
