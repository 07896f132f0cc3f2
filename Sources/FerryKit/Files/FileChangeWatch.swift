import CFerry
import Glibc

/// What a batch of inotify events means for the files a cache holds.
enum FileChanges: Equatable {
    /// Nothing the cache holds changed.
    case none
    /// These paths (relative to the root, as watched) changed, appeared or went away.
    case paths([[UInt8]])
    /// Something that cannot be pinned to a path changed (a directory renamed, chmodded
    /// or removed, or events were lost): every entry must go.
    case everything
}

/// inotify(7) over the directories and files of cached entries, for a cache that is
/// never stale (lighttpd's stat cache keeps itself exact the same way).
///
/// Every directory from the root down to a cached file is watched (so renaming any of
/// them is seen) for changes to its children and itself; every cached file, and each
/// of its sidecars that exists, is watched itself as well, because a write through
/// another hard link reaches only the file's own watch. Watches are added before the
/// file is opened: a change between the two is then in the queue, never missed.
///
/// A watch is added by path, with IN_DONT_FOLLOW; the cache only keeps paths opened
/// without following any symlink, so the path watched is the path opened. The path
/// starts at the root's open descriptor (/proc/self/fd/N), so a worker running as
/// nobody needs no permission on the directories above the root; under chroot the
/// root is "/" itself.
final class FileChangeWatch {
    /// The inotify instance; the worker's event loop watches it for readability.
    private(set) var fd: Int32
    /// Where watched paths start: the root as a path, with a trailing "/".
    private let rootPrefix: [UInt8]
    private var directories: [[UInt8]: Int32] = [:]
    private var watches: [Int32: Watched] = [:]
    private var buffer = [UInt8](repeating: 0, count: 16 * 1024)

    private enum Watched {
        case directory([UInt8])
        /// A file, under every name it was watched by (hard links share one watch).
        case file([[UInt8]])
    }

    /// Bound on watches held; past it the cache starts over (`reset`), which drops
    /// the watches of files it no longer holds.
    let watchLimit: Int

    private static let directoryEvents = UInt32(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_MODIFY
        | IN_ATTRIB | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW)
    private static let fileEvents = UInt32(IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF
        | IN_DONT_FOLLOW)

    /// nil when inotify is unavailable (no instances left for the user, say).
    init?(root: DocumentRoot, watchLimit: Int) {
        fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { return nil }
        rootPrefix = Self.prefix(of: root)
        self.watchLimit = watchLimit
    }

    /// "/" when the process is chrooted to the root; else the root's descriptor
    /// under /proc when that names the root; else the root's path.
    private static func prefix(of root: DocumentRoot) -> [UInt8] {
        guard let info = try? FileInfo.of(root.fd) else { return Array((root.path + "/").utf8) }
        func names(_ path: String) -> Bool {
            var status = stat()
            return stat(path, &status) == 0 && UInt64(status.st_dev) == info.device && UInt64(status.st_ino) == info.inode
        }
        for candidate in ["/", "/proc/self/fd/\(root.fd)/", root.path + "/"] where names(candidate) {
            return Array(candidate.utf8)
        }
        return Array((root.path + "/").utf8)
    }

    deinit {
        close(fd)
    }

    var watchCount: Int { watches.count }

    /// Starts over with a new instance (all watches dropped at once by closing the
    /// old one). The new one is made while the old is still open, so its number
    /// differs and the event loop sees that it must watch it (closing the old one
    /// dropped the loop's registration). Returns false when no new instance can be
    /// made; `fd` is then -1.
    func reset() -> Bool {
        let fresh = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        close(fd)
        fd = fresh
        directories.removeAll()
        watches.removeAll()
        return fd >= 0
    }

    /// Watches every directory from the root to `path`'s parent, and `names` (the
    /// file and its sidecars: those that do not exist are skipped, their directory's
    /// watch sees them appear). False when a directory cannot be watched (the watch
    /// limit, a permission, a file system whose changes inotify does not see): the
    /// file must then not be cached.
    func watch(_ path: [UInt8], names: [[UInt8]]) -> Bool {
        guard fd >= 0, watches.count + names.count + 8 <= watchLimit else { return false }
        var directory: [UInt8] = []
        guard watchDirectory(directory) else { return false }
        for (index, byte) in path.enumerated() where byte == ASCII.slash {
            directory = Array(path[..<index])
            guard watchDirectory(directory) else { return false }
        }
        for name in names {
            let wd = addWatch(name, Self.fileEvents)
            if wd >= 0 {
                if case .file(let others)? = watches[wd], !others.contains(name) {
                    watches[wd] = .file(others + [name])
                } else {
                    watches[wd] = .file([name])
                }
            } else if errno != ENOENT {
                return false
            }
        }
        return true
    }

    private func watchDirectory(_ directory: [UInt8]) -> Bool {
        if directories[directory] != nil { return true }
        guard FileSystemEvents.areReliable(at: cPath(directory)) else { return false }
        let wd = addWatch(directory, Self.directoryEvents)
        guard wd >= 0 else { return false }
        directories[directory] = wd
        watches[wd] = .directory(directory)
        return true
    }

    private func addWatch(_ relative: [UInt8], _ mask: UInt32) -> Int32 {
        cPath(relative).withUnsafeBufferPointer { inotify_add_watch(fd, $0.baseAddress, mask) }
    }

    private func cPath(_ relative: [UInt8]) -> [CChar] {
        (rootPrefix + relative).map { CChar(bitPattern: $0) } + [0]
    }

    /// Reads every queued event (without waiting) and says what changed.
    func readChanges() -> FileChanges {
        var changed: [[UInt8]] = []
        var everything = false
        while true {
            let n = buffer.withUnsafeMutableBytes { raw in
                retryingOnInterrupt { read(fd, raw.baseAddress, raw.count) }
            }
            guard case .success(let count) = n, count > 0 else { break }
            buffer.withUnsafeBytes { raw in
                var offset = 0
                while offset + MemoryLayout<inotify_event>.size <= count {
                    let event = raw.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                    let nameStart = offset + MemoryLayout<inotify_event>.size
                    let nameBytes = UnsafeRawBufferPointer(rebasing: raw[nameStart..<(nameStart + Int(event.len))])
                    let name = nameBytes.prefix { $0 != 0 }
                    offset = nameStart + Int(event.len)
                    switch meaning(of: event, name: name) {
                    case .none: break
                    case .paths(let paths): changed += paths
                    case .everything: everything = true
                    }
                }
            }
        }
        if everything { return .everything }
        return changed.isEmpty ? .none : .paths(changed)
    }

    private func meaning(of event: inotify_event, name: Slice<UnsafeRawBufferPointer>) -> FileChanges {
        let mask = event.mask
        if mask & UInt32(IN_Q_OVERFLOW) != 0 { return .everything }
        guard let watched = watches[event.wd] else { return .none }
        switch watched {
        case .file(let paths):
            if mask & UInt32(IN_IGNORED) != 0 { watches[event.wd] = nil }
            return .paths(paths)
        case .directory(let directory):
            if mask & UInt32(IN_IGNORED) != 0 {
                watches[event.wd] = nil
                directories[directory] = nil
                return .everything
            }
            // The directory itself (no name) renamed, removed or chmodded: every path
            // beneath it may lead elsewhere now.
            if name.isEmpty { return .everything }
            if mask & UInt32(IN_ISDIR) != 0 {
                // A new or removed subdirectory holds nothing cached; one renamed or
                // chmodded may hold anything.
                let harmless = UInt32(IN_CREATE | IN_DELETE)
                return mask & ~harmless & ~UInt32(IN_ISDIR) == 0 ? .none : .everything
            }
            return .paths([directory.isEmpty ? Array(name) : directory + [ASCII.slash] + name])
        }
    }
}

/// Whether inotify sees every change to the files of a file system: true for local
/// disk and memory file systems, false for network and FUSE file systems (changes
/// made on the server or by the FUSE daemon are never reported), which Ferry then
/// serves without caching.
enum FileSystemEvents {
    /// statfs(2) f_type values of file systems whose changes all go through this kernel.
    private static let reliable: Set<Int> = [
        0xEF53,       // ext2, ext3, ext4
        0x5846_5342,  // xfs
        0x9123_683E,  // btrfs
        0x0102_1994,  // tmpfs
        0x8584_58F6,  // ramfs
        0xF2F5_2010,  // f2fs
        0x794C_7630,  // overlayfs (its layers may not be changed beneath it)
        0x2FC1_2FC1,  // zfs
        0xCA45_1A4E,  // bcachefs
        0x3153_464A,  // jfs
        0x5265_4973,  // reiserfs
        0x3434,       // nilfs2
        0x2011_BAB0,  // exfat
        0x4D44,       // vfat, msdos
        0x7366_746E,  // ntfs3
    ]

    static func areReliable(at path: [CChar]) -> Bool {
        let type = path.withUnsafeBufferPointer { ferry_filesystem_type($0.baseAddress) }
        return type >= 0 && reliable.contains(Int(type))
    }
}
