import Glibc
import HTTPTypes

/// Maps a parsed request to a response plan: method, target, file, preconditions,
/// ranges. Like nginx's static module it only decides: finding files (FileCatalog and
/// its cache), naming types (ContentTypeResolver) and sending bodies (the session's
/// transmitter) live elsewhere. It writes the whole head once, into the worker's
/// output buffer, with the version and Connection field the session decided.
@_spi(Benchmarks) public final class StaticFileResponder {
    private let catalog: FileCatalog
    private let listing: Bool
    private let headerRules: [HeaderRule]
    private let maxRanges: Int
    private let errorPages: ErrorPages?
    private let dates: DateHeaderCache
    /// The normalized path of the request being answered, its storage reused.
    private var path: [UInt8] = []

    init(catalog: FileCatalog, options: ResponderOptions, dates: DateHeaderCache) {
        self.catalog = catalog
        self.dates = dates
        listing = options.listing
        headerRules = options.headerRules
        maxRanges = options.maxRanges
        errorPages = options.errorPages
    }

    /// The plan for `request`, its head (and any in-memory body) appended to `output`.
    /// HEAD gets the head GET would get, with no body. `headTick` says when the head
    /// began (`OpenFileCache`). The [[headers]] rules apply to whatever is answered for
    /// a matching path: 200, 206, 304, HEAD, redirects and errors alike.
    @_spi(Benchmarks) public func respond(to request: RequestView, framing: HeadFraming, headTick: UInt64,
                                          into output: inout [UInt8]) -> ResponsePlan {
        let answer = Answer(framing: framing, isHead: request.method == .head)
        let shape: TargetShape
        switch RequestTarget.normalize(request.target, into: &path) {
        case .success(let normalized): shape = normalized
        case .failure(let failure):
            guard request.method == .get || answer.isHead else { return refuseMethod(request, answer, into: &output) }
            return error(failure.status, failure.reason, answer, into: &output)
        }
        let relativeCount = path.count
        // The cache key, and the path the [[headers]] rules see: a directory's ends in "/".
        if shape.hasTrailingSlash { path.append(ASCII.slash) }
        guard request.method == .get || answer.isHead else { return refuseMethod(request, answer.ruled(), into: &output) }
        if shape.isHidden { return error(.notFound, nil, answer.ruled(), into: &output) }

        switch catalog.lookup(key: path, relativeCount: relativeCount, directory: shape.hasTrailingSlash,
                              headTick: headTick) {
        case .file(let entry):
            return file(entry, request: request, answer, into: &output)
        case .directory(let opened):
            defer { close(opened.fd) }
            return listDirectory(opened, relativeCount: relativeCount, shape: shape, request: request, answer.ruled(),
                                 into: &output)
        case .directoryWithoutSlash:
            return redirectToDirectory(relativeCount: relativeCount, query: shape.query.map { request.target[$0] },
                                       answer.ruled(), into: &output)
        case .fileWithSlash:
            return error(.notFound, nil, answer.ruled(), into: &output)
        case .failure(.notFound):
            return error(.notFound, nil, answer.ruled(), into: &output)
        case .failure(.forbidden):
            return error(.forbidden, nil, answer.ruled(), into: &output)
        case .failure(.failed(let code)):
            return error(.internalServerError, String(cString: strerror(code)), answer.ruled(), into: &output)
        }
    }

    /// A request refused before it could be read whole (400, 408, 413, ...): an error
    /// page under no path, so no [[headers]] rule applies.
    func refusal(_ status: HTTPResponse.Status, _ detail: String, framing: HeadFraming,
                 into output: inout [UInt8]) -> ResponsePlan {
        error(status, detail, Answer(framing: framing, isHead: false), into: &output)
    }

    /// How the response being written is framed, and whether the rules apply to it.
    private struct Answer {
        var framing: HeadFraming
        var isHead: Bool
        /// The rules for the request's path apply (the target was understood).
        var rules = false

        func ruled() -> Answer {
            var answer = self
            answer.rules = true
            return answer
        }
    }

    /// The path the [[headers]] rules match: "/" + the key ("/docs/", "/a.txt", "/").
    private var rulePath: [UInt8] {
        path == [ASCII.slash] ? path : [ASCII.slash] + path
    }

    // MARK: files

    private func file(_ entry: FileEntry, request: RequestView, _ answer: Answer,
                      into output: inout [UInt8]) -> ResponsePlan {
        // The representation sent: the file itself, or a precompressed sidecar of it.
        let coding = AcceptEncoding.best(request.value(.acceptEncoding), available: entry.codings)
        let sent = entry.representation(coding)
        let preconditions = PreconditionFields(
            ifMatch: request.value(.ifMatch), ifUnmodifiedSince: request.value(.ifUnmodifiedSince),
            ifNoneMatch: request.value(.ifNoneMatch), ifModifiedSince: request.value(.ifModifiedSince),
            ifRange: request.value(.ifRange))
        let rangeApplies: Bool
        switch Preconditions.evaluate(preconditions, etag: sent.etag, lastModified: sent.lastModified) {
        case .failed:
            return error(.preconditionFailed, "a precondition of the request does not hold", answer.ruled(),
                         into: &output)
        case .notModified:
            head(.notModified, answer.framing, fields: sent.notModifiedFields, contentLength: nil, into: &output)
            return ResponsePlan(status: 304, memoryBodyLength: 0, body: .none)
        case .proceed(let applies):
            rangeApplies = applies
        }

        var decision = RangeDecision.full
        if rangeApplies, let range = request.value(.range) {
            decision = ByteRange.evaluate(range, length: sent.length, maxRanges: maxRanges)
        }
        let plan: ResponsePlan
        switch decision {
        case .full:
            head(.ok, answer.framing, fields: sent.fields, contentLength: sent.length, into: &output)
            plan = ResponsePlan(status: 200, memoryBodyLength: 0,
                                body: .file(FileRange(file: sent.file, offset: 0, length: sent.length)))
        case .partial(let start, let count):
            HeadWriter.statusLine(.partialContent, version: answer.framing.version, into: &output)
            output += dates.prelude()
            output.append("Content-Range: bytes ")
            HeadWriter.decimal(start, into: &output)
            output.append(UInt8(ascii: "-"))
            HeadWriter.decimal(start + count - 1, into: &output)
            output.append(ASCII.slash)
            HeadWriter.decimal(sent.length, into: &output)
            output.append("\r\n")
            output += sent.fields
            HeadWriter.framing(contentLength: count, connection: answer.framing.connection, into: &output)
            plan = ResponsePlan(status: 206, memoryBodyLength: 0,
                                body: .file(FileRange(file: sent.file, offset: start, length: count)))
        case .multiple(let spans):
            plan = multipart(spans, of: sent, entry: entry, answer, into: &output)
        case .unsatisfiable:
            // "bytes */LEN" tells `wget -c` and `curl -C -` the file is already complete.
            return error(.rangeNotSatisfiable, "the range starts beyond the end of the file", answer.ruled(),
                         extra: [("Content-Range", "bytes */\(sent.length)")] + sent.varyFields, into: &output)
        }
        return answer.isHead ? ResponsePlan(status: plan.status, memoryBodyLength: 0, body: .none) : plan
    }

    /// Several ranges: multipart/byteranges, whose head names the boundary instead of
    /// the file's type (each part carries that).
    private func multipart(_ spans: [ByteSpan], of sent: Representation, entry: FileEntry, _ answer: Answer,
                           into output: inout [UInt8]) -> ResponsePlan {
        let boundary = MultipartByteranges.makeBoundary()
        var head = ResponseHead(status: .partialContent)
        head.add("Content-Type", MultipartByteranges.contentType(boundary: boundary))
        if let coding = sent.coding { head.add("Content-Encoding", coding.fieldValue) }
        for (name, value) in sent.varyFields { head.add(name, value) }
        if let lastModified = sent.lastModifiedField { head.add("Last-Modified", lastModified) }
        if let etag = FieldValue(String(decoding: sent.etag, as: UTF8.self)) { head.add("ETag", etag) }
        head.add("Accept-Ranges", "bytes")
        head.apply(headerRules, path: rulePath)
        let parts = MultipartBody(file: sent.file, segments: MultipartByteranges.segments(
            spans, length: sent.length, contentType: entry.contentType, boundary: boundary))
        head.serialize(version: answer.framing.version, contentLength: parts.length,
                       connection: answer.framing.connection, prelude: dates.prelude(), into: &output)
        return ResponsePlan(status: 206, memoryBodyLength: 0, body: .parts(parts))
    }

    /// A head from a cache entry's prepared fields.
    private func head(_ status: HTTPResponse.Status, _ framing: HeadFraming, fields: [UInt8], contentLength: Int64?,
                      into output: inout [UInt8]) {
        HeadWriter.statusLine(status, version: framing.version, into: &output)
        output += dates.prelude()
        output += fields
        HeadWriter.framing(contentLength: contentLength, connection: framing.connection, into: &output)
    }

    // MARK: directories

    /// The slash form, from the normalized path: never "//host" (an open redirect).
    /// The query is the client's raw text; percent-encoding whatever a URI cannot hold
    /// keeps a file name or query with CR or LF from ending the field.
    private func redirectToDirectory(relativeCount: Int, query: Slice<UnsafeRawBufferPointer>?, _ answer: Answer,
                                     into output: inout [UInt8]) -> ResponsePlan {
        var location = RequestTarget.urlPath(of: Array(path[..<relativeCount]), hasTrailingSlash: true)
        if let query { location += "?" + String(decoding: query, as: UTF8.self) }
        let value = FieldValue.uriReference(location)
        return error(.movedPermanently, "moved to \(value)", answer, extra: [("Location", value)], into: &output)
    }

    private func listDirectory(_ opened: OpenedFile, relativeCount: Int, shape: TargetShape, request: RequestView,
                               _ answer: Answer, into output: inout [UInt8]) -> ResponsePlan {
        guard listing else { return error(.forbidden, "directory listing is off", answer, into: &output) }
        let relative = path[..<relativeCount]
        let query = shape.query.map { String(decoding: request.target[$0], as: UTF8.self) }
        let order = ListingOrder(query: query)
        let rendered: [UInt8]?
        var head = ResponseHead(status: .ok)
        switch ListingFormat.choose(query: query, accept: request.text(.accept)) {
        case .html:
            let shownPath = "/" + String(decoding: relative, as: UTF8.self) + (relative.isEmpty ? "" : "/")
            rendered = try? DirectoryListing.render(directory: opened.fd, urlPath: shownPath, order: order)
            head.add("Content-Type", DirectoryListing.contentType)
        case .json:
            rendered = try? DirectoryListingJSON.render(directory: opened.fd, order: order)
            head.add("Content-Type", DirectoryListingJSON.contentType)
        }
        guard let rendered else { return error(.internalServerError, "cannot list the directory", answer, into: &output) }
        // The same URL is HTML or JSON by the Accept field.
        head.add("Vary", "Accept")
        return inMemory(head, rendered, answer, into: &output)
    }

    // MARK: errors

    /// Methods Ferry knows but does not allow on files get 405; any other token 501.
    private func refuseMethod(_ request: RequestView, _ answer: Answer, into output: inout [UInt8]) -> ResponsePlan {
        if request.method == .known {
            return error(.methodNotAllowed, "\(request.methodText) is not allowed here", answer,
                         extra: [("Allow", "GET, HEAD")], into: &output)
        }
        return error(.notImplemented, "unknown method \(request.methodText)", answer, into: &output)
    }

    /// Errors as small HTML pages (HEAD gets the same head without the page): the
    /// operator's page for the status from [http] error_pages when there is one.
    private func error(_ status: HTTPResponse.Status, _ detail: String?, _ answer: Answer,
                       extra: [(FieldName, FieldValue)] = [], into output: inout [UInt8]) -> ResponsePlan {
        var head = ResponseHead(status: status)
        for (name, value) in extra { head.add(name, value) }
        head.add("Content-Type", "text/html; charset=utf-8")
        let custom = status.code >= 400 ? errorPages?.page(for: status.code) : nil
        return inMemory(head, custom ?? ErrorPage.html(status, detail: detail), answer, into: &output)
    }

    /// A response whose body is `body`, written after the head; HEAD gets only its length.
    private func inMemory(_ head: ResponseHead, _ body: [UInt8], _ answer: Answer,
                          into output: inout [UInt8]) -> ResponsePlan {
        var head = head
        if answer.rules { head.apply(headerRules, path: rulePath) }
        head.serialize(version: answer.framing.version, contentLength: Int64(body.count),
                       connection: answer.framing.connection, prelude: dates.prelude(), into: &output)
        if !answer.isHead { output += body }
        return ResponsePlan(status: head.status.code, memoryBodyLength: answer.isHead ? 0 : body.count, body: .none)
    }
}
