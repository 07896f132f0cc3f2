/// What the static file responder takes from the configuration, once per worker.
struct ResponderOptions {
    /// [http] listing.
    var listing: Bool
    /// [[headers]].
    var headerRules: [HeaderRule]
    /// [http] error_pages, opened once by the server (before privileges are dropped),
    /// nil for none.
    var errorPages: ErrorPages?
    /// [limits] max_ranges.
    var maxRanges: Int

    init(_ config: ServerConfig, errorPages: ErrorPages?) {
        listing = config.listing
        headerRules = config.headerRules
        self.errorPages = errorPages
        maxRanges = config.maxRanges
    }
}
