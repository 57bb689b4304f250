// swift-tools-version: 6.0
// MultiNIC: one network definition → N secondary NICs per pod, with per-host per-interface CIDRs,
// host L3 routes and node-local IPAM. See README.md for the layout; design notes in Sources/*/README.md.
import PackageDescription

let package = Package(
    name: "MultiNIC",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "multinicctl", targets: ["multinicctl"])
    ],
    dependencies: [
        // The core SDK, a nested local package whose product is a dynamic library shared by host and plugins.
        .package(path: "Sources/Host/MultiNICCore"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .target(
            name: "MultiNICManifests",
            dependencies: [
                .product(name: "MultiNICCore", package: "MultiNICCore"),
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Sources/Host/MultiNICManifests"
        ),
        .target(
            name: "MultiNICCLI",
            dependencies: [
                "MultiNICManifests",
                .product(name: "MultiNICCore", package: "MultiNICCore"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/Host/MultiNICCLI"
        ),
        .executableTarget(
            name: "multinicctl",
            dependencies: ["MultiNICCLI"],
            path: "Sources/Host/multinicctl"
        ),
        .testTarget(
            name: "MultiNICCoreTests",
            dependencies: [.product(name: "MultiNICCore", package: "MultiNICCore")],
            path: "Tests/MultiNICCoreTests"
        ),
        .testTarget(
            name: "MultiNICManifestsTests",
            dependencies: ["MultiNICManifests", .product(name: "MultiNICCore", package: "MultiNICCore")],
            path: "Tests/MultiNICManifestsTests"
        ),
        .testTarget(
            name: "MultiNICCLITests",
            dependencies: [
                "MultiNICCLI", "MultiNICManifests", "multinicctl",
                .product(name: "MultiNICCore", package: "MultiNICCore"),
            ],
            path: "Tests/MultiNICCLITests",
            exclude: ["Golden", "Fixtures"]
        ),
    ]
)
