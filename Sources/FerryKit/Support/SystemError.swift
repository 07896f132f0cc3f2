import Glibc

/// A failed system call: which operation, and the errno it left.
public struct SystemError: Error, CustomStringConvertible, Equatable {
    public let operation: String
    public let code: Int32

    public init(_ operation: String, code: Int32 = errno) {
        self.operation = operation
        self.code = code
    }

    public var description: String {
        "\(operation): \(String(cString: strerror(code)))"
    }
}

/// Returns `result`, or throws the current errno as a `SystemError` when it is -1.
@discardableResult
package func check(_ result: Int32, _ operation: @autoclosure () -> String) throws -> Int32 {
    if result == -1 { throw SystemError(operation()) }
    return result
}
