// swift-tools-version:6.0
// The protoc plugins that generate Sources/Host/Node/MultiNICKubelet/Generated (see .ci/generate-protos). Built only by
// that script, never by the project's build: the plugins take minutes to compile and their output is committed.
import PackageDescription

let package = Package(
    name: "protoc-plugins",
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
    ],
    targets: []
)
