/// A property of the code under test. A failure traps, so that libFuzzer records the
/// input as a crash and the message says which property broke.
@inline(__always)
func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("property failed: \(message())") }
}

/// Bytes a header field value may never carry: CR, LF, NUL and the other controls
/// but HTAB (RFC 9110 §5.5), and DEL.
func isFieldSafe<Bytes: Sequence>(_ bytes: Bytes) -> Bool where Bytes.Element == UInt8 {
    bytes.allSatisfy { $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }
}

func isFieldSafe(_ text: String) -> Bool { isFieldSafe(text.utf8) }

/// A little-endian integer from the first `count` bytes of `data` (missing bytes are zero).
func littleEndian(_ data: UnsafeRawBufferPointer, count: Int) -> UInt64 {
    var value: UInt64 = 0
    for index in 0..<min(count, data.count, 8) { value |= UInt64(data[index]) << (8 * UInt64(index)) }
    return value
}
