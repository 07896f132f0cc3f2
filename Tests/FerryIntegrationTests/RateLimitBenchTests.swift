import Testing

/// bench/rate-limit --smoke against the ferry under test: with --limit-rate 2 MiB/s after
/// 1 MiB, three concurrent downloads through sendfile, the copy loop and the classic
/// prefork-pass must each be paced within 10% of the limit, reach their first MiB at
/// full speed, arrive intact (sha256), and leave a small-file client beside them
/// answered without waiting. The script exits non-zero on any of that.
@Suite struct RateLimitBenchTests {
    @Test func pacedDownloadsHoldTheLimitAndHoldUpNobody() throws {
        let result = try run(packageRoot + "/bench/rate-limit", ["--smoke", "--ferry", ferryBinary], timeout: 120)
        #expect(result.status == 0, "bench/rate-limit --smoke failed:\n\(result.text)\n\(result.stderr.suffix(2000))")
        for label in ["sendfile", "copy", "prefork-pass"] {
            #expect(result.text.contains("\(label): limit 2.000 MiB/s after 1.0 MiB; 3 downloads paced at"),
                    "no result for \(label):\n\(result.text)")
        }
    }
}
