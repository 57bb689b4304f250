// swift-tools-version: 6.0
// Benchmarks, kept out of the main package so `swift test` never builds them. Run: bench/run
import PackageDescription

let package = Package(
    name: "MultiNICBench",
    dependencies: [.package(path: "../Sources/Host/MultiNICCore")],
    targets: [
        .executableTarget(
            name: "cidr-bench",
            dependencies: [.product(name: "MultiNICCore", package: "MultiNICCore")]
        )
    ]
)
