import Glibc

/// What a request path names beneath the document root.
enum PathLookup {
    /// A file (or a directory's index.html) ready to send.
    case file(FileEntry)
    /// A directory asked for with its slash and without an index.html: the caller
    /// lists it or refuses, and closes the descriptor.
    case directory(OpenedFile)
    /// A directory asked for without its slash.
    case directoryWithoutSlash
    /// A file asked for with a slash after its name ("/file.txt/"): there is no such
    /// directory, as open(2) would say.
    case fileWithSlash
    case failure(OpenFailure)
}

/// Finds what request paths name: from the open-file cache when it holds the path,
/// else by opening it (and, when its directories can be watched, keeping it).
final class FileCatalog {
    private let root: DocumentRoot
    private let maker: FileEntryMaker
    /// nil when the cache is off or inotify is unavailable.
    let cache: OpenFileCache?

    init(root: DocumentRoot, maker: FileEntryMaker, cache: OpenFileCache?) {
        self.root = root
        self.maker = maker
        self.cache = cache
    }

    /// Looks up `key`: the normalized path (its first `relativeCount` bytes), followed
    /// by "/" when the request named a directory ("/" alone for the root). `headTick`
    /// orders the head against the changes the cache has applied (`OpenFileCache`).
    func lookup(key: [UInt8], relativeCount: Int, directory: Bool, headTick: UInt64) -> PathLookup {
        if let cache, let entry = cache.entry(for: key, headTick: headTick) { return .file(entry) }
        let relative = Array(key[..<relativeCount])
        // The file a directory path serves is its index.html.
        let filePath = directory ? (relative.isEmpty ? [] : relative + [ASCII.slash]) + Self.indexName : relative
        // Without openat2 the root opens through realpath, following symlinks a watch on
        // the link would not cover: such a root is served, but not cached.
        let watched = root.usesOpenat2
            && (cache?.prepare(filePath: filePath, names: maker.watchedNames(of: filePath)) ?? false)
        var followSymlinks = !watched
        var opened = root.open(filePath, followSymlinks: followSymlinks)
        if watched, case .failure(.forbidden) = opened {
            // A symlink on the way (or a real refusal, which the retry meets again):
            // served, but not cached, since a watch on the link says nothing of its target.
            followSymlinks = true
            opened = root.open(filePath, followSymlinks: true)
        }
        switch opened {
        case .success(let file) where file.info.kind == .regular:
            let entry = maker.make(key: key, relative: filePath, file: file, followSymlinks: followSymlinks)
            if watched && !followSymlinks { cache?.insert(entry) }
            return .file(entry)
        case .success(let file) where directory:
            // A directory named index.html: list its parent instead.
            close(file.fd)
            return openDirectory(relative)
        case .success(let file):
            close(file.fd)
            return .directoryWithoutSlash
        case .failure where directory:
            return openDirectory(relative)
        case .failure(let failure):
            return .failure(failure)
        }
    }

    /// A directory without a usable index.html.
    private func openDirectory(_ relative: [UInt8]) -> PathLookup {
        switch root.open(relative) {
        case .success(let opened) where opened.info.kind == .directory:
            return .directory(opened)
        case .success(let opened):
            close(opened.fd)
            return .fileWithSlash
        case .failure(let failure):
            return .failure(failure)
        }
    }

    private static let indexName = Array("index.html".utf8)
}
