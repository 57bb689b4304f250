// swift-tools-version: 6.0
// Benchmarks, kept out of the main package so `swift test` never builds them. Run: bench/run
import PackageDescription

let package = Package(
    name: "MultiNICBench",
    dependencies: [.package(path: "../Sources/Host/Core/MultiNICCore"), .package(name: "MultiNIC", path: "..")],
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
        .target(
            name: "BenchFleet",
            dependencies: [.product(name: "MultiNICCore", package: "MultiNICCore"),
                           .product(name: "MultiNICController", package: "MultiNIC")]
        ),
        .executableTarget(
            name: "controller-bench",
            dependencies: ["BenchFleet", .product(name: "MultiNICCore", package: "MultiNICCore"),
                           .product(name: "MultiNICController", package: "MultiNIC")]
        ),
        .executableTarget(
            name: "kube-bench",
            dependencies: ["BenchFleet", .product(name: "MultiNICCore", package: "MultiNICCore"),
                           .product(name: "MultiNICController", package: "MultiNIC"),
                           .product(name: "MultiNICKube", package: "MultiNIC"),
                           .product(name: "MultiNICKubeFake", package: "MultiNIC")]
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
