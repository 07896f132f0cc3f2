/// What `ferry --version` prints; raise it with each release.
enum FerryVersion {
    static let current = "0.1.0"
}
