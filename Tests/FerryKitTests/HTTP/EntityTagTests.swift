import Testing
@testable import FerryKit

@Suite struct EntityTagTests {
    @Test func isAStrongQuotedTagOfHexFields() {
        #expect(EntityTag.make(inode: 0x1a2b, size: 1024, mtimeSeconds: 0x5f3e_0000, mtimeNanoseconds: 5)
            == "\"1a2b-400-5f3e0000-5\"")
        #expect(EntityTag.make(inode: 0, size: 0, mtimeSeconds: 0, mtimeNanoseconds: 0) == "\"0-0-0-0\"")
    }

    @Test func negativeMtimesStayOneField() {
        #expect(EntityTag.make(inode: 1, size: 1, mtimeSeconds: -1, mtimeNanoseconds: 0)
            == "\"1-1-ffffffffffffffff-0\"")
    }

    @Test func changesWithEveryInput() {
        let base = EntityTag.make(inode: 7, size: 100, mtimeSeconds: 1_700_000_000, mtimeNanoseconds: 1)
        #expect(base != EntityTag.make(inode: 8, size: 100, mtimeSeconds: 1_700_000_000, mtimeNanoseconds: 1))
        #expect(base != EntityTag.make(inode: 7, size: 101, mtimeSeconds: 1_700_000_000, mtimeNanoseconds: 1))
        #expect(base != EntityTag.make(inode: 7, size: 100, mtimeSeconds: 1_700_000_001, mtimeNanoseconds: 1))
        #expect(base != EntityTag.make(inode: 7, size: 100, mtimeSeconds: 1_700_000_000, mtimeNanoseconds: 2))
    }

    @Test func isAcceptedByPreconditions() {
        let tag = EntityTag.make(inode: UInt64.max, size: Int64.max, mtimeSeconds: Int64.min, mtimeNanoseconds: 999_999_999)
        let bytes = Array(tag.utf8)
        bytes.withUnsafeBytes { field in
            #expect(Preconditions.evaluate(PreconditionFields(ifNoneMatch: field), etag: bytes, lastModified: 0)
                    == .notModified)
            #expect(Preconditions.evaluate(PreconditionFields(ifMatch: field, ifRange: field), etag: bytes, lastModified: 0)
                    == .proceed(rangeApplies: true))
        }
    }
}
