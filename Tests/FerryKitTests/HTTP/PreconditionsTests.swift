import Testing
@testable import FerryKit

@Suite struct PreconditionsTests {
    static let etag = "\"1a2b-400-5f3e\""
    /// Sun, 06 Nov 1994 08:49:37 GMT
    static let modified: Int64 = 784_111_777

    private func notModified(inm: String? = nil, ims: String? = nil) -> Bool {
        evaluate(ifNoneMatch: inm, ifModifiedSince: ims) == .notModified
    }

    private func rangeApplies(_ ifRange: String?, etag: String = Self.etag) -> Bool {
        evaluate(ifRange: ifRange, etag: etag) == .proceed(rangeApplies: true)
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
        #expect(!rangeApplies(Self.etag, etag: "W/\(Self.etag)"))
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

    // MARK: If-Match and If-Unmodified-Since

    @Test(arguments: ["\"1a2b-400-5f3e\"", "*", " * ", "\"other\", \"1a2b-400-5f3e\""])
    func ifMatchThatHoldsProceeds(_ field: String) {
        #expect(evaluate(ifMatch: field) == .proceed(rangeApplies: true))
    }

    @Test(arguments: [
        "\"other\"",
        "W/\"1a2b-400-5f3e\"",                    // strong comparison: a weak tag never matches
        "1a2b-400-5f3e",                          // malformed
        "",
    ])
    func ifMatchThatFailsIs412(_ field: String) {
        #expect(evaluate(ifMatch: field) == .failed)
    }

    @Test func ifUnmodifiedSince() {
        #expect(evaluate(ifUnmodifiedSince: "Sun, 06 Nov 1994 08:49:37 GMT") == .proceed(rangeApplies: true))
        #expect(evaluate(ifUnmodifiedSince: "Sun, 06 Nov 1994 08:49:38 GMT") == .proceed(rangeApplies: true))
        #expect(evaluate(ifUnmodifiedSince: "Sun, 06 Nov 1994 08:49:36 GMT") == .failed)   // modified since
        #expect(evaluate(ifUnmodifiedSince: "not a date") == .proceed(rangeApplies: true))  // ignored
        // A file without Last-Modified (an mtime too extreme to format) ignores it.
        #expect(evaluate(ifUnmodifiedSince: "Sun, 06 Nov 1994 08:49:36 GMT", lastModified: nil)
                == .proceed(rangeApplies: true))
    }

    // MARK: RFC 9110 §13.2.2's order

    @Test func ifMatchDecidesBeforeIfUnmodifiedSince() {
        // If-Unmodified-Since is not evaluated when If-Match is present.
        #expect(evaluate(ifMatch: Self.etag, ifUnmodifiedSince: "Sun, 06 Nov 1994 08:49:36 GMT")
                == .proceed(rangeApplies: true))
        #expect(evaluate(ifMatch: "\"other\"", ifUnmodifiedSince: "Sun, 06 Nov 1994 08:49:38 GMT") == .failed)
    }

    @Test func aFailedPreconditionWinsOverNotModified() {
        #expect(evaluate(ifMatch: "\"other\"", ifNoneMatch: Self.etag) == .failed)
        #expect(evaluate(ifUnmodifiedSince: "Sun, 06 Nov 1994 08:49:36 GMT", ifNoneMatch: Self.etag) == .failed)
        #expect(evaluate(ifUnmodifiedSince: "Sun, 06 Nov 1994 08:49:36 GMT",
                         ifModifiedSince: "Sun, 06 Nov 1994 08:49:37 GMT") == .failed)
    }

    @Test func holdingPreconditionsLeaveTheValidatorsToDecide() {
        #expect(evaluate(ifMatch: Self.etag, ifNoneMatch: Self.etag) == .notModified)
        #expect(evaluate(ifUnmodifiedSince: "Sun, 06 Nov 1994 08:49:37 GMT",
                         ifModifiedSince: "Sun, 06 Nov 1994 08:49:37 GMT") == .notModified)
    }

    @Test func aFailedPreconditionWinsOverIfRange() {
        // A client resuming a changed file gets 412, never a 206 of the new version.
        #expect(evaluate(ifMatch: "\"old\"", ifRange: "\"old\"") == .failed)
        #expect(evaluate(ifMatch: Self.etag, ifRange: "\"old\"") == .proceed(rangeApplies: false))
        #expect(evaluate(ifMatch: Self.etag, ifRange: Self.etag) == .proceed(rangeApplies: true))
    }

    @Test func notModifiedWinsOverIfRange() {
        #expect(evaluate(ifNoneMatch: Self.etag, ifRange: Self.etag) == .notModified)
    }

    // MARK: helpers

    /// `Preconditions.evaluate` of fields given as text.
    private func evaluate(ifMatch: String? = nil, ifUnmodifiedSince: String? = nil, ifNoneMatch: String? = nil,
                          ifModifiedSince: String? = nil, ifRange: String? = nil, etag: String = Self.etag,
                          lastModified: Int64? = Self.modified) -> PreconditionOutcome {
        withBytes(ifMatch) { ifMatch in
            withBytes(ifUnmodifiedSince) { ifUnmodifiedSince in
                withBytes(ifNoneMatch) { ifNoneMatch in
                    withBytes(ifModifiedSince) { ifModifiedSince in
                        withBytes(ifRange) { ifRange in
                            Preconditions.evaluate(
                                PreconditionFields(ifMatch: ifMatch, ifUnmodifiedSince: ifUnmodifiedSince,
                                                   ifNoneMatch: ifNoneMatch, ifModifiedSince: ifModifiedSince,
                                                   ifRange: ifRange),
                                etag: Array(etag.utf8), lastModified: lastModified)
                        }
                    }
                }
            }
        }
    }

    private func withBytes<R>(_ text: String?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
        guard let text else { return body(nil) }
        return Array(text.utf8).withUnsafeBytes { body($0) }
    }
}
