import Glibc
import SystemPackage

/// Ferry's one policy for interrupted system calls: a call that fails with EINTR is
/// made again, every other failure is returned as its `Errno`. Signals reach Ferry's
/// loops through a descriptor, so EINTR is rare; looping keeps it harmless wherever
/// it happens.
@inline(__always)
func retryingOnInterrupt(_ call: () -> Int) -> Result<Int, Errno> {
    while true {
        let result = call()
        if result >= 0 { return .success(result) }
        let code = errno
        if code != EINTR { return .failure(Errno(rawValue: code)) }
    }
}

/// An open descriptor with exactly one owner, which closes it when it goes away.
/// Move-only: it cannot be copied, so it cannot be closed twice or used after its
/// close; whoever needs it shares the object that owns it (an `OpenFile`).
struct OwnedDescriptor: ~Copyable {
    let descriptor: FileDescriptor

    /// Takes ownership of `raw`, an open descriptor nobody else will close.
    init(taking raw: Int32) {
        descriptor = FileDescriptor(rawValue: raw)
    }

    var raw: Int32 { descriptor.rawValue }

    deinit {
        // close(2) is not retried on EINTR: on Linux the descriptor is gone either way.
        try? descriptor.close()
    }
}
