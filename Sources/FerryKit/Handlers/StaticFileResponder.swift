import Glibc
import HTTPTypes

/// Maps a parsed request to a response: method, target, file, conditionals, ranges.
/// Like nginx's static module it only decides; opening files (DocumentRoot), naming
/// types (ContentTypeResolver) and sending bodies (HTTPSession) live elsewhere.
final class StaticFileResponder {
    private let root: DocumentRoot
    private let types: ContentTypeResolver
    private let listing: Bool
    /// nil when precompressed sidecars are off.
    private let sidecars: PrecompressedSidecars?
    private let headerRules: [HeaderRule]
    private let maxRanges: Int
    private let errorPages: ErrorPages?
    private var modificationTimes: [Int64: FieldValue?] = [:]

    init(root: DocumentRoot, types: ContentTypeResolver, options: ResponderOptions) {
        self.root = root
        self.types = types
        listing = options.listing
        sidecars = options.precompressed ? PrecompressedSidecars(root: root) : nil
        headerRules = options.headerRules
        maxRanges = options.maxRanges
        errorPages = options.errorPages
    }

    /// Methods Ferry knows but does not allow on files (405); any other token is 501.
    private static let knownMethods: Set<String> = ["POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]

    /// The response to `request`. HEAD gets the head GET would get, with no body.
    /// The [[headers]] rules apply to whatever is answered for a matching path: 200,
    /// 206, 304, HEAD, redirects and errors alike.
    func respond(to request: RequestHead) -> Response {
        var response = route(request, isHead: request.method == .head)
        if !headerRules.isEmpty, case .success(let target) = RequestTarget.parse(request.target) {
            let slash = target.hasTrailingSlash && !target.relative.isEmpty ? [ASCII.slash] : []
            response.head.apply(headerRules, path: [ASCII.slash] + target.relative + slash)
        }
        return response
    }

    private func route(_ request: RequestHead, isHead: Bool) -> Response {
        guard request.method == .get || isHead else {
            if Self.knownMethods.contains(request.method.rawValue) {
                return error(.methodNotAllowed, "\(request.method.rawValue) is not allowed here",
                             extra: [("Allow", "GET, HEAD")])
            }
            return error(.notImplemented, "unknown method \(request.method.rawValue)")
        }
        let target: TargetPath
        switch RequestTarget.parse(request.target) {
        case .success(let parsed): target = parsed
        case .failure(let failure): return error(failure.status, failure.reason, forHead: isHead)
        }
        if target.isHidden { return error(.notFound, nil, forHead: isHead) }

        switch root.open(target.relative) {
        case .failure(let failure):
            return openFailure(failure, isHead: isHead)
        case .success(let opened) where opened.info.kind == .directory:
            return directory(opened, target: target, request: request, isHead: isHead)
        case .success(let opened) where target.hasTrailingSlash:
            // "/file.txt/" names a directory that is not there, as open(2) would say.
            close(opened.fd)
            return error(.notFound, nil, forHead: isHead)
        case .success(let opened):
            return file(opened, name: target.relative, request: request, isHead: isHead)
        }
    }

    /// Errors as small HTML pages (HEAD gets the same head without the page): the
    /// operator's page for the status from [http] error_pages when there is one.
    func error(_ status: HTTPResponse.Status, _ detail: String?, extra: [(FieldName, FieldValue)] = [],
               forHead: Bool = false) -> Response {
        var head = ResponseHead(status: status)
        for (name, value) in extra { head.add(name, value) }
        head.add("Content-Type", "text/html; charset=utf-8")
        let custom = status.code >= 400 ? errorPages?.page(for: status.code) : nil
        return .inMemory(head, custom ?? ErrorPage.html(status, detail: detail), forHead: forHead)
    }

    private func openFailure(_ failure: OpenFailure, isHead: Bool) -> Response {
        switch failure {
        case .notFound: return error(.notFound, nil, forHead: isHead)
        case .forbidden: return error(.forbidden, nil, forHead: isHead)
        case .failed(let code): return error(.internalServerError, String(cString: strerror(code)), forHead: isHead)
        }
    }

    // MARK: directories

    private func directory(_ opened: OpenedFile, target: TargetPath, request: RequestHead,
                           isHead: Bool) -> Response {
        defer { close(opened.fd) }
        guard target.hasTrailingSlash else {
            // The slash form, from the normalized path: never "//host" (an open redirect).
            // The query is the client's raw text; percent-encoding whatever a URI cannot
            // hold keeps a file name or query with CR or LF from ending the field.
            var location = target.urlPath + "/"
            if let query = target.query { location += "?" + query }
            let value = FieldValue.uriReference(location)
            return error(.movedPermanently, "moved to \(value)", extra: [("Location", value)], forHead: isHead)
        }
        let index = target.relative + (target.relative.isEmpty ? [] : [UInt8(ascii: "/")]) + Array("index.html".utf8)
        if case .success(let page) = root.open(index) {
            if page.info.kind == .regular { return file(page, name: index, request: request, isHead: isHead) }
            close(page.fd)
        }
        guard listing else { return error(.forbidden, "directory listing is off", forHead: isHead) }
        let order = ListingOrder(query: target.query)
        let rendered: [UInt8]?
        var head = ResponseHead(status: .ok)
        switch ListingFormat.choose(query: target.query, accept: request.accept) {
        case .html:
            let shownPath = "/" + String(decoding: target.relative, as: UTF8.self) + (target.relative.isEmpty ? "" : "/")
            rendered = try? DirectoryListing.render(directory: opened.fd, urlPath: shownPath, order: order)
            head.add("Content-Type", DirectoryListing.contentType)
        case .json:
            rendered = try? DirectoryListingJSON.render(directory: opened.fd, order: order)
            head.add("Content-Type", DirectoryListingJSON.contentType)
        }
        guard let rendered else { return error(.internalServerError, "cannot list the directory", forHead: isHead) }
        // The same URL is HTML or JSON by the Accept field.
        head.add("Vary", "Accept")
        return .inMemory(head, rendered, forHead: isHead)
    }

    // MARK: files

    private func file(_ opened: OpenedFile, name: [UInt8], request: RequestHead, isHead: Bool) -> Response {
        // The representation sent: the file itself, or a precompressed sidecar of it.
        var sent = opened
        var coding: ContentCoding?
        var hasSidecar = false
        if let sidecars {
            let usable = sidecars.usable(for: name, original: opened.info)
            hasSidecar = !usable.isEmpty
            for candidate in AcceptEncoding.preferred(request.acceptEncoding, available: usable) {
                guard let sidecar = sidecars.open(candidate, for: name, original: opened.info) else { continue }
                (sent, coding) = (sidecar, candidate)
                break
            }
        }
        // The original stays open until its type is known (libmagic may read it).
        defer { if coding != nil { close(opened.fd) } }
        // Every response for a file with a sidecar varies, the identity one too, so a
        // cache never hands a gzip body to a client that did not ask for it.
        let vary: [(FieldName, FieldValue)] = hasSidecar ? [("Vary", "Accept-Encoding")] : []

        let info = sent.info
        // The sidecar's own inode, size and mtime make its tag differ from the original's.
        let etag = EntityTag.make(inode: info.inode, size: info.size, mtimeSeconds: info.modifiedSeconds,
                                  mtimeNanoseconds: info.modifiedNanoseconds)
        // An mtime too extreme to format leaves out Last-Modified instead of failing.
        let lastModified = formattedModificationTime(info.modifiedSeconds)
        // Hex digits, dashes and quotes: always a field value, left out if ever not.
        let etagField = FieldValue(etag)

        if Preconditions.isNotModified(ifNoneMatch: request.ifNoneMatch, ifModifiedSince: request.ifModifiedSince,
                                       etag: etag, lastModified: info.modifiedSeconds) {
            close(sent.fd)
            var head = ResponseHead(status: .notModified)
            if let etagField { head.add("ETag", etagField) }
            if let lastModified { head.add("Last-Modified", lastModified) }
            for (name, value) in vary { head.add(name, value) }
            return Response(head: head, contentLength: nil, body: .none)
        }

        var decision = RangeDecision.full
        if Preconditions.rangeApplies(ifRange: request.ifRange, etag: etag, lastModified: info.modifiedSeconds) {
            decision = ByteRange.evaluate(request.range, length: info.size, maxRanges: maxRanges)
        }
        if decision == .unsatisfiable {
            close(sent.fd)
            // "bytes */LEN" tells `wget -c` and `curl -C -` the file is already complete.
            return error(.rangeNotSatisfiable, "the range starts beyond the end of the file",
                         extra: [("Content-Range", "bytes */\(info.size)")] + vary, forHead: isHead)
        }

        // The last segment, without splitting the whole path into pieces per request.
        let fileName = name.lastIndex(of: UInt8(ascii: "/")).map { Array(name[(name.index(after: $0))...]) } ?? name
        // A type from mime.types or libmagic that is not a media type becomes octet-stream.
        let contentType = FieldValue.mediaType(types.contentType(fileName: fileName, fd: opened.fd, info: opened.info))
        var head: ResponseHead
        var body: Response.Body
        let length: Int64
        switch decision {
        case .partial(let start, let count):
            head = ResponseHead(status: .partialContent)
            head.add("Content-Range", "bytes \(start)-\(start + count - 1)/\(info.size)")
            head.add("Content-Type", contentType)
            body = .file(Response.FileBody(fd: sent.fd, offset: start, length: count))
            length = count
        case .multiple(let spans):
            let boundary = MultipartByteranges.makeBoundary()
            head = ResponseHead(status: .partialContent)
            head.add("Content-Type", MultipartByteranges.contentType(boundary: boundary))
            let parts = Response.MultipartBody(
                fd: sent.fd, segments: MultipartByteranges.segments(spans, length: info.size, contentType: contentType,
                                                                    boundary: boundary))
            body = .multipart(parts)
            length = parts.length
        case .full, .unsatisfiable:
            head = ResponseHead(status: .ok)
            head.add("Content-Type", contentType)
            body = .file(Response.FileBody(fd: sent.fd, offset: 0, length: info.size))
            length = info.size
        }
        if let coding { head.add("Content-Encoding", coding.fieldValue) }
        for (name, value) in vary { head.add(name, value) }
        if let lastModified { head.add("Last-Modified", lastModified) }
        if let etagField { head.add("ETag", etagField) }
        head.add("Accept-Ranges", "bytes")

        if isHead || length == 0 {
            close(sent.fd)
            body = .none
        }
        return Response(head: head, contentLength: length, body: body)
    }

    /// Last-Modified for an mtime: formatted once per distinct time, not per request.
    private func formattedModificationTime(_ seconds: Int64) -> FieldValue? {
        if let known = modificationTimes[seconds] { return known }
        if modificationTimes.count >= 4096 { modificationTimes.removeAll(keepingCapacity: true) }
        let text = HTTPDate.fieldValue(seconds)
        modificationTimes[seconds] = text
        return text
    }
}
