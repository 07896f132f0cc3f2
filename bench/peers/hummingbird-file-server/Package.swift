// swift-tools-version:6.0
// The file server a Swift developer would write with Hummingbird: the peer that
// bench/compare measures Ferry against. Its own package, so Ferry never depends on it.
import PackageDescription

let package = Package(
    name: "hummingbird-file-server",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        .executableTarget(
            name: "HummingbirdFileServer",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v5]
)
