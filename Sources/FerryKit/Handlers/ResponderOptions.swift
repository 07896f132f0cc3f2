/// What the static file responder takes from the configuration, once per worker.
struct ResponderOptions {
    /// [http] listing.
    var listing: Bool
    /// [http] precompressed: serve "NAME.br", "NAME.zst", "NAME.gz" when they exist.
    var precompressed: Bool

    init(_ config: ServerConfig) {
        listing = config.listing
        precompressed = config.precompressed
    }
}
