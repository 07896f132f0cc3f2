import Testing
@testable import FerryKit

@Suite struct AcceptEncodingTests {
    let all = ContentCoding.allCases

    @Test func order() {
        #expect(AcceptEncoding.preferred(nil, available: all) == [])
        #expect(AcceptEncoding.preferred("gzip, zstd, br", available: all) == [.br, .zstd, .gzip])
        #expect(AcceptEncoding.preferred("gzip;q=0.9, zstd;q=0.5, br;q=0.1", available: all) == [.gzip, .zstd, .br])
        #expect(AcceptEncoding.preferred("*;q=0.5, gzip", available: all) == [.gzip, .br, .zstd])
        #expect(AcceptEncoding.preferred("br;q=0, *", available: all) == [.zstd, .gzip])
        #expect(AcceptEncoding.preferred("br, gzip", available: [.gzip]) == [.gzip])
        #expect(AcceptEncoding.preferred("gzip", available: []) == [])
    }

    @Test func identity() {
        #expect(AcceptEncoding.preferred("identity", available: all) == [])
        #expect(AcceptEncoding.preferred("identity;q=0.6, gzip;q=0.5", available: all) == [])
        #expect(AcceptEncoding.preferred("identity;q=0.5, gzip;q=0.5", available: all) == [.gzip])
        #expect(AcceptEncoding.preferred("identity;q=0, gzip", available: all) == [.gzip])
    }

    @Test func qvalues() {
        #expect(WeightedList.qvalue(Array("1".utf8)[...]) == 1000)
        #expect(WeightedList.qvalue(Array("1.000".utf8)[...]) == 1000)
        #expect(WeightedList.qvalue(Array("0.5".utf8)[...]) == 500)
        #expect(WeightedList.qvalue(Array("0.125".utf8)[...]) == 125)
        #expect(WeightedList.qvalue(Array("0".utf8)[...]) == 0)
        #expect(WeightedList.qvalue(Array("0.".utf8)[...]) == 0)
        for bad in ["1.5", "2", "0.1234", "-1", "", ".5", "0,5", "1.0001"] {
            #expect(WeightedList.qvalue(Array(bad.utf8)[...]) == nil, "\(bad)")
        }
    }

    @Test func parsing() {
        #expect(AcceptEncoding.parse(Array("GZip ; Q=0.3 ,, br".utf8)) == ["gzip": 300, "br": 1000])
        #expect(AcceptEncoding.parse(Array("gzip;q=x, br;level=5".utf8)) == ["br": 1000])
        #expect(AcceptEncoding.parse(Array("gzip;q=0.2, gzip".utf8)) == ["gzip": 200])
        #expect(AcceptEncoding.parse(Array("g zip, ;q=1".utf8)) == [:])
    }
}
