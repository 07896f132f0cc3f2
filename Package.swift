// swift-tools-version: 6.0
import PackageDescription

// Three layers, each seeing only the targets below it:
//   FerryKit  the file server: sockets, HTTP, files, handlers, concurrency models, config.
//   FerryLab  the csdesign document's lab on top of it: signal and measurement demos,
//             the load client, the design bench. The server never imports it.
//   ferry     the executable: argument parsing and wiring of both.
// A server symbol that only the lab or the executable needs is `package`, not `public`.
//
// The Swift targets are compiled in the Swift 5 language mode on purpose: Ferry is a
// forking, single-threaded-by-design server whose signal state and per-process globals
// are process-local, which Swift 6's data-race checking cannot express without noise.
//
// The server's release build skips the run-time exclusivity checks (the compile-time
// ones stay, and debug builds, which the tests run, keep the run-time ones): on a kept
// small-file request they were a tenth of the worker's user time (swift_beginAccess,
// its thread-local access set), for class properties that only one thread touches.
let package = Package(
    name: "Ferry",
    products: [
        .executable(name: "ferry", targets: ["ferry"]),
        // For the fuzz package in fuzz/, which depends on this one by path.
        .library(name: "FerryKit", targets: ["FerryKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    ],
    targets: [
        .target(name: "CFerry"),
        .systemLibrary(
            name: "CMagic",
            pkgConfig: "libmagic",
            providers: [.apt(["libmagic-dev"])]
        ),
        .target(
            name: "FerryKit",
            dependencies: [
                "CFerry",
                "CMagic",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: [
                .swiftLanguageMode(.v5),
                .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
            ]
        ),
        .target(
            name: "FerryLab",
            dependencies: [
                "FerryKit",
                "CFerry",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .executableTarget(
            name: "ferry",
            dependencies: [
                "FerryKit",
                "FerryLab",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .testTarget(
            name: "FerryKitTests",
            dependencies: ["FerryKit"],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .testTarget(
            name: "FerryLabTests",
            dependencies: ["FerryLab"],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .testTarget(
            name: "FerryIntegrationTests",
            dependencies: ["ferry", "FerryKit"],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
    ]
)
