// swift-tools-version: 6.0
// The MultiNIC core SDK: the resource model, IP/CIDR math, the CIDR engine and (later) the backend and
// policy protocols. It is a *dynamic* library so that the host executables and every dlopen'ed plugin share
// one copy of each type; linking it statically into both sides would break every cast across the boundary.
import PackageDescription

let package = Package(
    name: "MultiNICCore",
    products: [
        .library(name: "MultiNICCore", type: .dynamic, targets: ["MultiNICCore"])
    ],
    targets: [
        .target(name: "MultiNICCore")
    ]
)
