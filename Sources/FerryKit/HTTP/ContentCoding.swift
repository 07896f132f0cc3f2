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

/// A set of content codings, as bits: no allocation.
public struct ContentCodingSet: Equatable, Sendable {
    private var bits: UInt8 = 0

    public init() {}

    public init(_ codings: [ContentCoding]) {
        for coding in codings { insert(coding) }
    }

    public mutating func insert(_ coding: ContentCoding) {
        bits |= Self.bit(coding)
    }

    public func contains(_ coding: ContentCoding) -> Bool {
        bits & Self.bit(coding) != 0
    }

    public var isEmpty: Bool { bits == 0 }

    private static func bit(_ coding: ContentCoding) -> UInt8 {
        switch coding {
        case .br: return 1
        case .zstd: return 2
        case .gzip: return 4
        }
    }
}

/// Content negotiation on Accept-Encoding (RFC 9110 §12.5.3) among the codings a file
/// has sidecars for.
public enum AcceptEncoding {
    /// The coding of `available` the field prefers: the highest weight, ties going by
    /// the server's order; nil means identity. Without a field nothing is encoded (a
    /// client that sends none may not decode anything). `identity` weighed above every
    /// allowed coding also means identity; "identity;q=0" changes nothing, since no
    /// sidecar may stand in for the file the client would otherwise get. Allocates
    /// nothing: browsers send this field with every request.
    static func best(_ field: UnsafeRawBufferPointer?, available: ContentCodingSet) -> ContentCoding? {
        guard let field, !available.isEmpty else { return nil }
        let weights = Weights(field)
        var best: (coding: ContentCoding, weight: Int)?
        // The server's order breaks ties: a later coding must weigh more to win.
        for coding in ContentCoding.allCases where available.contains(coding) {
            let weight = weights.weight(of: coding)
            if weight > 0 && weight > best?.weight ?? 0 { best = (coding, weight) }
        }
        guard let best else { return nil }
        if let identity = weights.identity, identity > best.weight { return nil }
        return best.coding
    }

    /// Every coding of `available` the field allows, best first (for tests and the
    /// fuzzer: the server sends `best`).
    public static func preferred(_ field: String?, available: [ContentCoding]) -> [ContentCoding] {
        guard let field, !available.isEmpty else { return [] }
        return ranked(Weights(Array(field.utf8)), available: ContentCodingSet(available))
    }

    private static func ranked(_ weights: Weights, available: ContentCodingSet) -> [ContentCoding] {
        var ranked: [(coding: ContentCoding, weight: Int)] = []
        ranked.reserveCapacity(ContentCoding.allCases.count)
        for coding in ContentCoding.allCases where available.contains(coding) {
            let weight = weights.weight(of: coding)
            if weight > 0 { ranked.append((coding, weight)) }
        }
        // Stable: equal weights keep the server's order.
        ranked.sort { $0.weight > $1.weight }
        if let identity = weights.identity, let best = ranked.first, identity > best.weight { return [] }
        return ranked.map(\.coding)
    }

    /// Coding name (lowercased) → weight in thousandths (q=1 is 1000). An element whose
    /// weight is malformed is dropped; a name given twice keeps its first weight.
    static func parse(_ field: [UInt8]) -> [String: Int] {
        var weights: [String: Int] = [:]
        WeightedList.forEach(field) { name, weight in
            guard !name.isEmpty, name.allSatisfy(ASCII.isTokenCharacter) else { return }
            let key = String(decoding: name.map(ASCII.lowercased), as: UTF8.self)
            if weights[key] == nil { weights[key] = weight }
        }
        return weights
    }

    /// The weights a field gives the names Ferry can act on, first mention winning.
    private struct Weights {
        var br, zstd, gzip, xGzip, identity, wildcard: Int?

        init<Bytes: BidirectionalCollection>(_ field: Bytes) where Bytes.Element == UInt8 {
            WeightedList.forEach(field) { name, weight in
                if ASCII.equalsIgnoringCase(name, "br") { br = br ?? weight }
                if ASCII.equalsIgnoringCase(name, "zstd") { zstd = zstd ?? weight }
                if ASCII.equalsIgnoringCase(name, "gzip") { gzip = gzip ?? weight }
                if ASCII.equalsIgnoringCase(name, "x-gzip") { xGzip = xGzip ?? weight }
                if ASCII.equalsIgnoringCase(name, "identity") { identity = identity ?? weight }
                if ASCII.equals(name, "*") { wildcard = wildcard ?? weight }
            }
        }

        /// The coding's own weight, else the wildcard's, else 0; "x-gzip" counts for gzip.
        func weight(of coding: ContentCoding) -> Int {
            switch coding {
            case .br: return br ?? wildcard ?? 0
            case .zstd: return zstd ?? wildcard ?? 0
            case .gzip: return gzip ?? xGzip ?? wildcard ?? 0
            }
        }
    }
}
