/// What the static file responder takes from the configuration, once per worker.
struct ResponderOptions {
    /// [http] listing.
    var listing: Bool
    /// [http] precompressed: serve "NAME.br", "NAME.zst", "NAME.gz" when they exist.
    var precompressed: Bool
    /// [[headers]].
    var headerRules: [HeaderRule]
    /// [http] error_pages: a directory path, "" for none.
    var errorPages: String
    /// [limits] max_ranges.
    var maxRanges: Int

    init(_ config: ServerConfig) {
        listing = config.listing
        precompressed = config.precompressed
        headerRules = config.headerRules
        errorPages = config.errorPages
        maxRanges = config.maxRanges
    }
}
