import Testing
@testable import FerryKit

@Suite struct PreconditionsTests {
    static let etag = "\"1a2b-400-5f3e\""
    /// Sun, 06 Nov 1994 08:49:37 GMT
    static let modified: Int64 = 784_111_777

    private func notModified(inm: String? = nil, ims: String? = nil) -> Bool {
        Preconditions.isNotModified(ifNoneMatch: inm, ifModifiedSince: ims, etag: Self.etag, lastModified: Self.modified)
    }

    private func rangeApplies(_ ifRange: String?) -> Bool {
        Preconditions.rangeApplies(ifRange: ifRange, etag: Self.etag, lastModified: Self.modified)
    }

    // MARK: If-None-Match

    @Test(arguments: [
        "\"1a2b-400-5f3e\"",
        "W/\"1a2b-400-5f3e\"",                    // weak comparison
        "*",
        " * ",
        "\"other\", \"1a2b-400-5f3e\"",
        "\"other\",W/\"1a2b-400-5f3e\"",
        "\"a\" ,\t\"1a2b-400-5f3e\" , \"b\"",
        ", ,\"1a2b-400-5f3e\",",                  // empty list elements
        "\"a,b\", \"1a2b-400-5f3e\"",             // a comma inside a tag
    ])
    func ifNoneMatchMatches(_ field: String) {
        #expect(notModified(inm: field))
    }

    @Test(arguments: [
        "\"other\"",
        "W/\"other\"",
        "\"1a2b-400-5f3E\"",                      // case-sensitive
        "1a2b-400-5f3e",                          // unquoted
        "w/\"1a2b-400-5f3e\"",                    // "W/" is case-sensitive
        "\"1a2b-400-5f3e",                        // unterminated
        "\"1a2b-400-5f3e\"x",
        "\"a\" \"1a2b-400-5f3e\"",                // no comma
        "*, \"1a2b-400-5f3e\"",                   // "*" only stands alone
        "\"x y\", \"1a2b-400-5f3e\"",             // space inside a tag: malformed list
        "",
    ])
    func ifNoneMatchDoesNotMatch(_ field: String) {
        #expect(!notModified(inm: field))
    }

    /// If-None-Match decides whenever present; If-Modified-Since is then ignored.
    @Test func ifNoneMatchOverridesIfModifiedSince() {
        #expect(!notModified(inm: "\"other\"", ims: "Sun, 06 Nov 1994 08:49:37 GMT"))
        #expect(notModified(inm: Self.etag, ims: "Sat, 01 Jan 1994 00:00:00 GMT"))
        #expect(!notModified(inm: "garbage", ims: "Sun, 06 Nov 1994 08:49:37 GMT"))
    }

    // MARK: If-Modified-Since

    @Test func ifModifiedSince() {
        #expect(notModified(ims: "Sun, 06 Nov 1994 08:49:37 GMT"))    // equal
        #expect(notModified(ims: "Sun, 06 Nov 1994 08:49:38 GMT"))    // file older than the date
        #expect(notModified(ims: "Sunday, 06-Nov-94 08:49:37 GMT"))
        #expect(notModified(ims: "Sun Nov  6 08:49:37 1994"))
        #expect(!notModified(ims: "Sun, 06 Nov 1994 08:49:36 GMT"))   // file newer than the date
        #expect(!notModified(ims: "not a date"))                       // ignored
        #expect(!notModified(ims: ""))
        #expect(!notModified())
    }

    // MARK: If-Range

    @Test func absentIfRangeAllowsTheRange() {
        #expect(rangeApplies(nil))
    }

    @Test func ifRangeEntityTagsUseStrongComparison() {
        #expect(rangeApplies(Self.etag))
        #expect(rangeApplies(" \(Self.etag) "))
        #expect(!rangeApplies("W/\(Self.etag)"))   // a weak tag never matches
        #expect(!rangeApplies("\"other\""))
        #expect(!rangeApplies("\(Self.etag), \(Self.etag)"))
        #expect(!Preconditions.rangeApplies(ifRange: Self.etag, etag: "W/\(Self.etag)", lastModified: Self.modified))
    }

    @Test func ifRangeDatesMustBeEqual() {
        #expect(rangeApplies("Sun, 06 Nov 1994 08:49:37 GMT"))
        #expect(rangeApplies("Sun Nov  6 08:49:37 1994"))
        #expect(!rangeApplies("Sun, 06 Nov 1994 08:49:38 GMT"))
        #expect(!rangeApplies("Sun, 06 Nov 1994 08:49:36 GMT"))
    }

    @Test func otherIfRangeValuesDisableTheRange() {
        #expect(!rangeApplies(""))
        #expect(!rangeApplies("yesterday"))
        #expect(!rangeApplies("1a2b-400-5f3e"))
    }
}
