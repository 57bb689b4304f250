// swift-tools-version: 6.0
// Benchmarks, kept out of the main package so `swift test` never builds them. Run: bench/run
import PackageDescription

let package = Package(
    name: "MultiNICBench",
    dependencies: [.package(path: "../Sources/Host/MultiNICCore"), .package(name: "MultiNIC", path: "..")],
    targets: [
        .executableTarget(
            name: "cidr-bench",
            dependencies: [.product(name: "MultiNICCore", package: "MultiNICCore")]
        ),
        .executableTarget(
            name: "route-bench",
            dependencies: [.product(name: "MultiNICCore", package: "MultiNICCore"),
                           .product(name: "MultiNICNetlink", package: "MultiNIC")]
        ),
        .executableTarget(name: "daemon-bench"),
        .executableTarget(
            name: "controller-bench",
            dependencies: [.product(name: "MultiNICCore", package: "MultiNICCore"),
                           .product(name: "MultiNICController", package: "MultiNIC")]
        ),
        .executableTarget(
            name: "cni-bench",
            dependencies: [.product(name: "MultiNICCore", package: "MultiNICCore"),
                           .product(name: "MultiNICCNI", package: "MultiNIC")]
        ),
        .executableTarget(
            name: "ipam-bench",
            dependencies: [.product(name: "MultiNICCore", package: "MultiNICCore"),
                           .product(name: "MultiNICIPAM", package: "MultiNIC")]
        ),
    ]
)
