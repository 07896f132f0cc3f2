import FerryKit

/// A request head parsed once and kept with its bytes, so that every iteration can
/// hand the responder a `RequestView`, as a session does with the head it has just read.
public final class HeldRequest {
    private let bytes: UnsafeMutableRawBufferPointer
    public let head: RequestHead

    /// `text` must be exactly one complete head that the parser accepts.
    public init(_ text: [UInt8]) throws {
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: text.count, alignment: 16)
        text.withUnsafeBytes { bytes.copyMemory(from: $0) }
        self.bytes = bytes
        var parser = RequestHeadParser()
        guard case .complete(let head, let consumed) = parser.parse(UnsafeRawBufferPointer(bytes)),
              consumed == text.count else {
            bytes.deallocate()
            throw FixtureError("not one complete request head: \(String(decoding: text, as: UTF8.self))")
        }
        self.head = head
    }

    deinit { bytes.deallocate() }

    public var view: RequestView { RequestView(head: head, bytes: UnsafeRawBufferPointer(bytes)) }
}
