// swift-tools-version: 6.1
import Foundation
import PackageDescription

// Micro-benchmarks of Ferry's hot path with package-benchmark (ordo-one/benchmark): the
// request head parser, the head writer, the static file responder and the access log
// line, each timed and its heap allocations counted. A package of its own, like fuzz/,
// so that the test build never compiles package-benchmark: scripts/bench-micro builds
// it with `--scratch-path .build-benchmarks`.
//
// Swift tools 6.1 for package traits: naming "MallocInterposer" alone turns off the
// default "RuntimeInterposer", whose package this machine's package copy lacks; the
// interposer counts every malloc without jemalloc.

// A path dependency's identity is its directory's name, which depends on where the
// repository was cloned ("ferry", "wt-microbench", ...).
let ferryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let ferryIdentity = ferryRoot.lastPathComponent.lowercased()

let benchmarkTargets = ["ParserBenchmarks", "HeadWriterBenchmarks", "ResponderBenchmarks", "AccessLogBenchmarks"]

let package = Package(
    name: "FerryBenchmarks",
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        .target(
            name: "BenchmarkFixtures",
            dependencies: [
                .product(name: "FerryKit", package: ferryIdentity),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
    ] + benchmarkTargets.map { name in
        .executableTarget(
            name: name,
            dependencies: [
                "BenchmarkFixtures",
                .product(name: "FerryKit", package: ferryIdentity),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/\(name)",
            swiftSettings: [.swiftLanguageMode(.v5)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    }
)
