// swift-tools-version: 6.0
// An out-of-tree MultiNIC attach policy: depends only on the core SDK, built on its own, dropped into plugins.d.
import PackageDescription

let package = Package(
    name: "MultiNICRoundRobinPolicy",
    products: [.library(name: "multinic-policy-roundrobin", type: .dynamic, targets: ["RoundRobinPolicy"])],
    dependencies: [.package(path: "../../../Sources/Host/Core/MultiNICCore")],
    targets: [.target(name: "RoundRobinPolicy", dependencies: [.product(name: "MultiNICCore", package: "MultiNICCore")])]
)
