// swift-tools-version: 6.0
// The MultiNIC core SDK: the resource model, IP/CIDR math, the CIDR engine and the backend and policy protocols.
// It is a *dynamic* library so that the host executables and every dlopen'ed plugin share one copy of each type;
// linking it statically into both sides would break every cast across the boundary.
//
// One exception, for processes that never load a plugin: the CNI binaries (`multi-nic`, `multi-nic-ipam`) are built
// separately by .ci/build-cni with MULTINIC_STATIC_CORE=1 and --static-swift-stdlib, so that they are self-contained
// (they are copied into the node's CNI bin dir) and start like a Go plugin.
import Foundation
import PackageDescription

let staticCore = ProcessInfo.processInfo.environment["MULTINIC_STATIC_CORE"] == "1"

let package = Package(
    name: "MultiNICCore",
    products: [
        .library(name: "MultiNICCore", type: staticCore ? .static : .dynamic, targets: ["MultiNICCore"])
    ],
    targets: [
        .target(name: "MultiNICCore")
    ]
)
