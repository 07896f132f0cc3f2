// swift-tools-version: 6.0
import Foundation
import PackageDescription

// libFuzzer targets for Ferry's parsers, in a package of their own so that the
// instrumented build (-sanitize=fuzzer,address) never meets the normal one: scripts/fuzz
// builds it with `--scratch-path .build-fuzz`. Each executable is one fuzzed thing; its
// main hands over to libFuzzer's driver (CFuzzDriver). The properties each one checks
// live in FuzzChecks, which traps when one fails so libFuzzer keeps the input.

// A path dependency's identity is its directory's name, which depends on where the
// repository was cloned ("ferry", "wt-fuzz", ...).
let ferryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let ferryIdentity = ferryRoot.lastPathComponent.lowercased()

let fuzzers = ["RequestHeadFuzzer", "RangeFuzzer", "DateFuzzer", "TargetFuzzer"]

let package = Package(
    name: "FerryFuzz",
    dependencies: [
        .package(path: ".."),
    ],
    targets: [
        .target(name: "CFuzzDriver"),
        .target(
            name: "FuzzChecks",
            dependencies: [.product(name: "FerryKit", package: ferryIdentity)],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
    ] + fuzzers.map { name in
        .executableTarget(name: name, dependencies: ["CFuzzDriver", "FuzzChecks"], swiftSettings: [.swiftLanguageMode(.v5)])
    }
)
