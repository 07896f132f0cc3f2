import FerryKit

/// Properties of `RequestTarget.parse`, which maps a request-target to the path below
/// the document root that `DocumentRoot.open` is given.
public enum TargetChecks {
    public static func check(_ data: UnsafeRawBufferPointer) {
        check(target: String(decoding: data, as: UTF8.self))
        // The same bytes as one literal file name: decoded exactly once, they come back.
        let name = Array(data.lazy.filter { $0 != 0 && $0 != UInt8(ascii: "/") })
        if !name.isEmpty, name != [0x2E], name != [0x2E, 0x2E] {
            checkLiteralName(name)
        }
    }

    static func check(target: String) {
        checkFieldValues(target)
        guard case .success(let path) = RequestTarget.parse(target) else { return }
        let context = target.debugDescription
        let segments = path.relative.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        require(!path.relative.contains(0), "NUL in the path of \(context)")
        if !path.relative.isEmpty {
            for segment in segments {
                require(!segment.isEmpty && !segment.elementsEqual([0x2E]) && !segment.elementsEqual([0x2E, 0x2E]),
                        "segment \(String(decoding: segment, as: UTF8.self).debugDescription) in the path of \(context)")
            }
        }
        let hidden = segments.enumerated().contains { index, segment in
            segment.first == 0x2E && !(index == 0 && segment.elementsEqual(".well-known".utf8))
        }
        require(path.isHidden == hidden, "isHidden \(path.isHidden) for \(context)")
        // The URL form goes into Location: one leading slash, nothing but visible ASCII.
        let url = path.urlPath
        require(url.hasPrefix("/") && !url.hasPrefix("//"), "urlPath \(url) of \(context)")
        require(url.utf8.allSatisfy { (0x21...0x7E).contains($0) }, "urlPath \(url.debugDescription) of \(context)")
        require(path.relative.isEmpty ? url == "/" : url.hasSuffix("/") == path.hasTrailingSlash,
                "urlPath \(url) and the trailing slash of \(context)")
        // The URL form names the same path: normalizing is idempotent, decoding happens once.
        guard case .success(let again) = RequestTarget.parse(url) else {
            fatalError("property failed: urlPath \(url) of \(context) is refused")
        }
        require(again.relative == path.relative && again.hasTrailingSlash == path.hasTrailingSlash
                    && again.urlPath == url, "urlPath \(url) of \(context) parses to \(again)")
        // The directory redirect's Location, query included, is one clean field value.
        let location = FieldValue.uriReference(url + "/" + (path.query.map { "?" + $0 } ?? ""))
        require(location.text.utf8.allSatisfy { (0x21...0x7E).contains($0) },
                "Location \(location.text.debugDescription) for \(context)")
    }

    /// Whatever text reaches a response head passes one of FieldValue's doors, and no
    /// door lets a control character through.
    static func checkFieldValues(_ text: String) {
        if let checked = FieldValue(text) {
            require(checked.text == text && isFieldSafe(text), "FieldValue accepted \(text.debugDescription)")
        } else {
            let edges = [text.utf8.first, text.utf8.last].compactMap { $0 }
            require(!isFieldSafe(text) || edges.contains { $0 == 0x20 || $0 == 0x09 },
                    "FieldValue refused \(text.debugDescription)")
        }
        let type = FieldValue.mediaType(text)
        require(isFieldSafe(type.text) && (type == .octetStream || type.text == text),
                "mediaType(\(text.debugDescription)) = \(type.text.debugDescription)")
        let uri = FieldValue.uriReference(text)
        require(uri.text.utf8.allSatisfy { (0x21...0x7E).contains($0) }, "uriReference(\(text.debugDescription))")
    }

    /// `/<name percent-encoded>` is exactly that one name: "%2e%2e" in a name stays
    /// those six characters, a decoded "%252e" is never decoded again.
    static func checkLiteralName(_ name: [UInt8]) {
        let target = "/" + PercentEncoding.encodeSegment(name)
        guard case .success(let path) = RequestTarget.parse(target) else {
            fatalError("property failed: the encoded name \(target) is refused")
        }
        require(path.relative == name && !path.hasTrailingSlash,
                "\(target) gives \(String(decoding: path.relative, as: UTF8.self).debugDescription)")
    }
}
