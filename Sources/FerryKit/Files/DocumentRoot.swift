import CFerry
import Glibc

/// Why a path beneath the document root could not be opened. Callers map these to
/// 404, 403 and 500.
public enum OpenFailure: Error, Equatable {
    case notFound
    case forbidden
    /// Any other failure, with its errno (EMFILE, EIO, ...).
    case failed(Int32)
}

/// A descriptor opened beneath the root, with its `fstat`. The caller closes `fd`.
/// It is close-on-exec and keeps the O_NONBLOCK it was opened with, which regular
/// files and directories (the only kinds handed out) ignore.
public struct OpenedFile {
    public let fd: Int32
    public let info: FileInfo
}

/// Why the document root itself is unusable; the description is one line for the
/// operator, naming the path as given.
public enum DocumentRootError: Error, Equatable, CustomStringConvertible {
    case doesNotExist(String)
    case notADirectory(String)
    case cannotOpen(String, Int32)

    public var description: String {
        switch self {
        case .doesNotExist(let path):
            return "document root \(path) does not exist"
        case .notADirectory(let path):
            return "document root \(path) is not a directory"
        case .cannotOpen(let path, let code):
            return "document root \(path) cannot be opened: \(String(cString: strerror(code)))"
        }
    }
}

/// The served directory, and the one way to open anything beneath it.
///
/// Paths are resolved by the kernel with `openat2(RESOLVE_BENEATH)`, so neither `..`
/// nor a symbolic link can lead outside the root, whatever the request bytes are.
/// Relative symlinks that stay inside work; absolute symlinks are refused by
/// `RESOLVE_BENEATH` even when they point inside (use relative links in a site).
/// Kernels without openat2 (before 5.6) get a realpath-based fallback, which
/// accepts absolute symlinks that land inside.
public final class DocumentRoot {
    /// Absolute, with symlinks resolved (realpath).
    public let path: String
    /// O_PATH | O_DIRECTORY | O_CLOEXEC, kept for the life of the process.
    public let fd: Int32

    /// The resolved path as bytes: a root whose name is not UTF-8 must still be
    /// found again by the realpath fallback, and `path` repairs invalid UTF-8.
    private let pathBytes: [UInt8]

    /// Whether openat2 resolves paths: decided once, at init, by asking the kernel
    /// (Linux before 5.6 answers ENOSYS), so threads sharing the root never write it.
    let usesOpenat2: Bool

    /// O_NONBLOCK makes opening a FIFO return at once instead of blocking the worker
    /// until a writer appears; O_NOCTTY keeps a terminal device from becoming ours.
    private static let openFlags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY

    /// O_PATH from <linux/fcntl.h> (asm-generic value, as on x86-64 and arm64):
    /// glibc declares it only under _GNU_SOURCE, which Swift's Glibc module lacks.
    private static let openPathOnly: Int32 = 0o10000000

    public convenience init(path: String) throws {
        try self.init(path: path, allowOpenat2: true)
    }

    /// `allowOpenat2: false` uses the fallback even where openat2 exists (tests).
    init(path: String, allowOpenat2: Bool) throws {
        guard let resolved = realpath(path, nil) else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { throw DocumentRootError.doesNotExist(path) }
            throw DocumentRootError.cannotOpen(path, code)
        }
        defer { free(resolved) }
        let fd = Glibc.open(resolved, Self.openPathOnly | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            switch errno {
            case ENOTDIR: throw DocumentRootError.notADirectory(path)
            case ENOENT: throw DocumentRootError.doesNotExist(path)
            case let code: throw DocumentRootError.cannotOpen(path, code)
            }
        }
        self.fd = fd
        usesOpenat2 = allowOpenat2 && Self.kernelHasOpenat2(fd)
        self.path = String(cString: resolved)
        self.pathBytes = Array(UnsafeRawBufferPointer(start: resolved, count: strlen(resolved)))
    }

    deinit {
        close(fd)
    }

    /// Opens `relative` (decoded, normalized bytes like "docs/a b.txt", [] for the
    /// root itself) beneath the root. Only regular files and directories are
    /// returned; FIFOs, sockets and devices are `.forbidden`.
    ///
    /// `followSymlinks: false` refuses a path that leads through any symbolic link
    /// (ELOOP, `.forbidden`): the open-file cache keeps only paths whose every
    /// component it can watch. It needs openat2; the fallback always follows them.
    public func open(_ relative: [UInt8], followSymlinks: Bool = true) -> Result<OpenedFile, OpenFailure> {
        // A NUL would cut the C string short and open a different name.
        guard !relative.contains(0) else { return .failure(.notFound) }

        let fd = usesOpenat2 ? openBeneath(relative, followSymlinks: followSymlinks) : openResolved(relative)
        guard fd >= 0 else { return .failure(Self.failure(errno: errno)) }

        var status = stat()
        guard fstat(fd, &status) == 0 else {
            let code = errno
            close(fd)
            return .failure(.failed(code))
        }
        let info = FileInfo(status)
        guard info.kind != .other else {
            close(fd)
            return .failure(.forbidden)
        }
        // O_NONBLOCK stays set: it made the open safe against FIFOs, and regular files
        // and directories ignore it (pread, sendfile and getdents never wait on it).
        return .success(OpenedFile(fd: fd, info: info))
    }

    /// The kernel resolves the path and fails with EXDEV on any escape: `..` above
    /// the root, an absolute path, or a symlink leading out. Magic links under /proc
    /// are refused too.
    private func openBeneath(_ relative: [UInt8], followSymlinks: Bool) -> Int32 {
        let path = Self.cString(relative.isEmpty ? Array(".".utf8) : relative)
        let resolve = UInt64(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | (followSymlinks ? 0 : RESOLVE_NO_SYMLINKS))
        return ferry_openat2(self.fd, path, UInt64(Self.openFlags), resolve)
    }

    private static func kernelHasOpenat2(_ root: Int32) -> Bool {
        let probe = ferry_openat2(root, ".", UInt64(O_RDONLY | O_DIRECTORY | O_CLOEXEC), UInt64(RESOLVE_BENEATH))
        if probe >= 0 { close(probe) }
        return !(probe < 0 && errno == ENOSYS)
    }

    /// Fallback for kernels without openat2: resolve every `..` and symlink with
    /// realpath, accept the result only when it is the root or beneath it, then open
    /// that resolved path with O_NOFOLLOW. An escape fails with EXDEV, like openat2.
    ///
    /// There is a small TOCTOU window: someone who can write inside the root could
    /// swap a directory on the resolved path for a symlink between realpath and open.
    /// O_NOFOLLOW covers only the last component. openat2 has no such window, which
    /// is why this path is used only when the kernel lacks it.
    private func openResolved(_ relative: [UInt8]) -> Int32 {
        guard let resolved = realpath(Self.cString(pathBytes + [UInt8(ascii: "/")] + relative), nil) else {
            return -1
        }
        defer { free(resolved) }
        let resolvedBytes = UnsafeRawBufferPointer(start: resolved, count: strlen(resolved))
        let prefix = pathBytes == [UInt8(ascii: "/")] ? pathBytes : pathBytes + [UInt8(ascii: "/")]
        guard resolvedBytes.elementsEqual(pathBytes) || resolvedBytes.starts(with: prefix) else {
            errno = EXDEV
            return -1
        }
        return Glibc.open(resolved, Self.openFlags | O_NOFOLLOW)
    }

    /// One mapping from errno to the three outcomes. ENXIO (a UNIX socket) and
    /// ENODEV (a device without a driver) are special files, refused like the others.
    static func failure(errno code: Int32) -> OpenFailure {
        switch code {
        case ENOENT, ENOTDIR, ENAMETOOLONG: return .notFound
        case EACCES, EPERM, ELOOP, EXDEV, ENXIO, ENODEV: return .forbidden
        default: return .failed(code)
        }
    }

    private static func cString(_ bytes: [UInt8]) -> [CChar] {
        bytes.map { CChar(bitPattern: $0) } + [0]
    }
}
