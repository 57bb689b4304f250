// swift-tools-version: 6.0
// An out-of-tree MultiNIC backend: depends only on the core SDK, built on its own, dropped into plugins.d.
import PackageDescription

let package = Package(
    name: "MultiNICBridgeBackend",
    products: [.library(name: "multinic-backend-bridge", type: .dynamic, targets: ["BridgeBackend"])],
    dependencies: [.package(path: "../../../Sources/Host/Core/MultiNICCore")],
    targets: [.target(name: "BridgeBackend", dependencies: [.product(name: "MultiNICCore", package: "MultiNICCore")])]
)
