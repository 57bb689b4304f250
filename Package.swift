// swift-tools-version: 6.1
// MultiNIC: one network definition → N secondary NICs per pod, with per-host per-interface CIDRs,
// host L3 routes and node-local IPAM. See README.md for the layout; design notes in Sources/*/README.md.
import Foundation
import PackageDescription

/// `MULTINIC_WITHOUT_GRPC=1`: a build without the kubelet's gRPC APIs (grpc-swift, swift-protobuf), for the main
/// job's quick lab build (examples/run). The daemon then learns a pod's GPUs from the device plugins' checkpoint only,
/// and `lab up --gpus-per-host` is refused. CI and the images build everything.
let withoutGRPC = ProcessInfo.processInfo.environment["MULTINIC_WITHOUT_GRPC"] == "1"
/// `MULTINIC_WITHOUT_TLS=1`: multi-nicd without its TLS listener (swift-nio-ssl compiles BoringSSL: the largest part of
/// the main job's build). The lab's daemons serve unix sockets only; `--tls-cert` is then refused with this reason.
let withoutTLS = ProcessInfo.processInfo.environment["MULTINIC_WITHOUT_TLS"] == "1"

/// Member lookup only through a file's own imports: with Foundation imported anywhere in a module, `"…".contains("…")`
/// would otherwise resolve to Foundation's `range(of:)` and tie multi-nicd to Foundation proper (see multi-nicd's link).
let onlyImportedMembers = SwiftSetting.enableUpcomingFeature("MemberImportVisibility")

let package = Package(
    name: "MultiNIC",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "multinicctl", targets: ["multinicctl"]),
        .executable(name: "multi-nicd", targets: ["multi-nicd"]),
        .executable(name: "multi-nic", targets: ["multi-nic"]),
        .executable(name: "multi-nic-ipam", targets: ["multi-nic-ipam"]),
        .executable(name: "multi-nic-operator", targets: ["multi-nic-operator"]),
        // Benchmarks (bench/run builds each with --product, in the main build directory).
        .executable(name: "cidr-bench", targets: ["cidr-bench"]),
        .executable(name: "route-bench", targets: ["route-bench"]),
        .executable(name: "daemon-bench", targets: ["daemon-bench"]),
        .executable(name: "controller-bench", targets: ["controller-bench"]),
        .executable(name: "kube-bench", targets: ["kube-bench"]),
        .executable(name: "cni-bench", targets: ["cni-bench"]),
        .executable(name: "ipam-bench", targets: ["ipam-bench"]),
        .executable(name: "topology-bench", targets: ["topology-bench"]),
        .executable(name: "dra-bench", targets: ["dra-bench"]),
        // Plugins: one dynamic library each, loaded with dlopen from plugins.d (see .ci/build-plugins).
        .library(name: "multinic-backend-ipvlan", type: .dynamic, targets: ["IPVLANBackend"]),
        .library(name: "multinic-backend-macvlan", type: .dynamic, targets: ["MACVLANBackend"]),
        .library(name: "multinic-backend-sriov", type: .dynamic, targets: ["SRIOVBackend"]),
        .library(name: "multinic-backend-hostdevice", type: .dynamic, targets: ["HostDeviceBackend"]),
        .library(name: "multinic-backend-awsipvlan", type: .dynamic, targets: ["AWSIPVLANBackend"]),
        .library(name: "multinic-policy-none", type: .dynamic, targets: ["NonePolicy"]),
        .library(name: "multinic-policy-devclass", type: .dynamic, targets: ["DevClassPolicy"]),
        .library(name: "multinic-policy-topology", type: .dynamic, targets: ["TopologyPolicy"]),
        .library(name: "multinic-policy-costopt", type: .dynamic, targets: ["CostOptPolicy"]),
        .library(name: "multinic-policy-perfopt", type: .dynamic, targets: ["PerfOptPolicy"]),
        // The YAML bridge: YAML → JSON behind one C symbol, dlopen'ed by programs that link no YAML parser (multi-nicd).
        .library(name: "multinic-yaml", type: .dynamic, targets: ["MultiNICYAMLBridge"]),
        // Test fixtures: a library without the entry symbol and one built for another ABI version.
        .library(name: "multinic-fixture-notaplugin", type: .dynamic, targets: ["FixtureNotAPlugin"]),
        .library(name: "multinic-fixture-otherabi", type: .dynamic, targets: ["FixtureOtherABI"]),
    ],
    dependencies: [
        // The core SDK, a nested local package whose product is a dynamic library shared by host and plugins.
        .package(path: "Sources/Host/Core/MultiNICCore"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // Without its default traits: ConfigurationSupport (swift-configuration is not used here and costs a minute of build)
        // and FullFoundation (URL-encoded forms with DateFormatter: unused, and it would tie multi-nicd to Foundation proper).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // Prometheus exposition (daemon and operator /metrics), a backend of swift-metrics.
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // NIOSSL for the daemon's TLS listener (through HummingbirdTLS); X.509 issuance for the operator's daemon CA.
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        // The kubelet's gRPC APIs (PodResources): grpc-swift 2 over NIO's HTTP/2 on unix sockets, swift-protobuf for the
        // messages. The generated code is committed (.ci/generate-protos regenerates it; the build never runs protoc).
        // Without gRPC (the main job), not even checked out: fewer packages to clone and to load at every build.
    ] + (withoutGRPC ? [] : [
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ]),
    targets: [
        .target(
            name: "MultiNICManifests",
            dependencies: [
                .product(name: "MultiNICCore", package: "MultiNICCore"),
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Sources/Host/Tools/MultiNICManifests"
        ),
        .target(
            // libmultinic-yaml.so (see YAMLBridgeABI): Yams, and with it Foundation, only in processes that read YAML.
            name: "MultiNICYAMLBridge",
            dependencies: [
                .product(name: "MultiNICCore", package: "MultiNICCore"),
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Sources/Host/Common/MultiNICYAMLBridge"
        ),
        .target(
            name: "MultiNICPluginHost",
            dependencies: [.product(name: "MultiNICCore", package: "MultiNICCore")],
            path: "Sources/Host/Common/MultiNICPluginHost"
        ),
        .systemLibrary(
            name: "CMNL",
            path: "Sources/Host/Common/CMNL",
            pkgConfig: "libmnl",
            providers: [.apt(["libmnl-dev"])]
        ),
        .systemLibrary(
            // Headers only at build time (no pkg-config: that would link -lcurl); libcurl.so.4 is dlopen'ed on
            // first use (see shim.h).
            name: "CCurl",
            path: "Sources/Host/Common/CCurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(
            name: "MultiNICNetlink",
            dependencies: ["CMNL", .product(name: "MultiNICCore", package: "MultiNICCore")],
            path: "Sources/Host/Common/MultiNICNetlink"
        ),
        .target(
            name: "MultiNICDiscovery",
            dependencies: ["MultiNICNetlink", .product(name: "MultiNICCore", package: "MultiNICCore")],
            path: "Sources/Host/Node/MultiNICDiscovery"
        ),
        .target(
            name: "MultiNICIPAM",
            dependencies: [.product(name: "MultiNICCore", package: "MultiNICCore")],
            path: "Sources/Host/Node/MultiNICIPAM",
            swiftSettings: [onlyImportedMembers]
        ),
        .target(
            // What the kubelet says about a pod's devices (PodResources over gRPC, the device-plugin checkpoint) and
            // where those devices sit (sysfs, /proc/driver/nvidia).
            name: "MultiNICKubelet",
            dependencies: ["MultiNICDiscovery", .product(name: "MultiNICCore", package: "MultiNICCore")] + (withoutGRPC ? [] : [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]),
            path: "Sources/Host/Node/MultiNICKubelet",
            exclude: withoutGRPC ? ["Generated", "PodResourcesClient.swift", "PodResourcesServer.swift"] : []
        ),
        .target(
            // DRA: the node's NICs as resource.k8s.io/v1 ResourceSlices (and, later, the kubelet plugin).
            name: "MultiNICDRA",
            dependencies: ["MultiNICKube", .product(name: "MultiNICCore", package: "MultiNICCore")] + (withoutGRPC ? [] : [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]),
            path: "Sources/Host/Node/MultiNICDRA",
            exclude: withoutGRPC ? ["Generated", "DRAKubeletPlugin.swift", "DRAKubeletClient.swift"] : []
        ),
        .target(
            // Cloud APIs the daemon keeps pod addresses in (EC2 for aws-ipvlan): SigV4, IMDSv2, the Query API over libcurl.
            name: "MultiNICCloud",
            dependencies: ["MultiNICHTTP", .product(name: "MultiNICCore", package: "MultiNICCore")],
            path: "Sources/Host/Node/MultiNICCloud"
        ),
        .target(
            name: "MultiNICDaemon",
            dependencies: [
                "MultiNICIPAM", "MultiNICNetlink", "MultiNICDiscovery", "MultiNICPluginHost", "MultiNICKube", "MultiNICKubelet", "MultiNICCloud",
                "MultiNICDRA",
                .product(name: "MultiNICCore", package: "MultiNICCore"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ] + (withoutTLS ? [] : [
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]),
            path: "Sources/Host/Node/MultiNICDaemon",
            // A condition, not `canImport`: a module left in .build by an earlier full build must not switch TLS on.
            swiftSettings: (withoutTLS ? [] : [.define("MULTINIC_TLS")]) + (withoutGRPC ? [] : [.define("MULTINIC_GRPC")])
        ),
        .target(
            // HTTP over libcurl (unix socket or TCP/TLS, whole or streamed bodies): the daemon and Kubernetes clients.
            name: "MultiNICHTTP",
            dependencies: ["CCurl", "MultiNICDaemonClient", .product(name: "MultiNICCore", package: "MultiNICCore")],
            path: "Sources/Host/Common/MultiNICHTTP"
        ),
        .target(
            // The one client of the daemon's API: used by the CNI binaries, the lab and the operator's fleet. Its unix-socket
            // transport is a small HTTP/1.1 client without libcurl; the TCP/TLS transport is in MultiNICHTTP.
            name: "MultiNICDaemonClient",
            dependencies: [.product(name: "MultiNICCore", package: "MultiNICCore")],
            path: "Sources/Host/Common/MultiNICDaemonClient"
        ),
        .target(
            // The CNI binaries' library: spec types and the dispatcher. Core, the daemon client's unix-socket transport and
            // the Foundation-free netlink module (CHECK, DEL clean-up): no libcurl, no Hummingbird, no plugin host.
            name: "MultiNICCNI",
            dependencies: ["MultiNICDaemonClient", "MultiNICNetlink",
                           .product(name: "MultiNICCore", package: "MultiNICCore")],
            path: "Sources/Host/CNI/MultiNICCNI"
        ),
        .target(
            name: "MultiNICRender",
            dependencies: ["MultiNICPluginHost", .product(name: "MultiNICCore", package: "MultiNICCore")],
            path: "Sources/Host/Cluster/MultiNICRender"
        ),
        .target(
            // The Kubernetes API client over libcurl (config, paths, watches, leader election): no controller types, so the
            // daemon can use it too.
            name: "MultiNICKube",
            dependencies: ["MultiNICHTTP", "MultiNICPluginHost", .product(name: "MultiNICCore", package: "MultiNICCore")],
            path: "Sources/Host/Common/MultiNICKube",
            swiftSettings: [onlyImportedMembers]
        ),
        .target(
            // The operator's side of Kubernetes: the ResourceStore and informers on the client, the daemon fleet found
            // through the DaemonSet's pods, its credentials, the pod directory of the leak sweep, the cluster concheck.
            name: "MultiNICOperator",
            dependencies: ["MultiNICKube", "MultiNICHTTP", "MultiNICDaemonClient", "MultiNICController",
                           .product(name: "MultiNICCore", package: "MultiNICCore"),
                           .product(name: "Prometheus", package: "swift-prometheus")],
            path: "Sources/Host/Cluster/MultiNICOperator"
        ),
        .target(
            // The operator's CA for the operator → daemon channel and the Secrets that hold it.
            name: "MultiNICCertificates",
            dependencies: ["MultiNICKube", "MultiNICOperator", "MultiNICDaemonClient", .product(name: "MultiNICCore", package: "MultiNICCore"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "X509", package: "swift-certificates"),
                           .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "SwiftASN1", package: "swift-asn1")],
            path: "Sources/Host/Cluster/MultiNICCertificates"
        ),
        .target(
            // Reconcilers (network → NADs/CIDR/IPPools/routes, host interfaces), the store protocol and the
            // embedded store: the operator's logic, run by the lab and by the Kubernetes operator alike.
            name: "MultiNICController",
            dependencies: ["MultiNICRender", "MultiNICPluginHost", "MultiNICDaemonClient",
                           .product(name: "MultiNICCore", package: "MultiNICCore"), .product(name: "Logging", package: "swift-log")],
            path: "Sources/Host/Cluster/MultiNICController"
        ),
        .target(
            // The local lab (a multi-NIC cluster in network namespaces) and the connection check.
            name: "MultiNICLab",
            dependencies: ["MultiNICController", "MultiNICCNI", "MultiNICDaemonClient", "MultiNICRender", "MultiNICPluginHost",
                           "MultiNICKubelet", "MultiNICDRA", "MultiNICKube", "MultiNICHTTP",
                           .product(name: "MultiNICCore", package: "MultiNICCore"),
                           .product(name: "Hummingbird", package: "hummingbird"), .product(name: "Logging", package: "swift-log")],
            path: "Sources/Host/Tools/MultiNICLab",
            // A condition, not `canImport`: the main job's quick build has no DRA plugin client.
            swiftSettings: withoutGRPC ? [] : [.define("MULTINIC_GRPC")]
        ),
        .target(
            // `multinicctl plugins verify`: what a third-party plugin must get right, checked against its library.
            name: "MultiNICConformance",
            dependencies: ["MultiNICPluginHost", "MultiNICRender", "MultiNICNetlink",
                           .product(name: "MultiNICCore", package: "MultiNICCore")],
            path: "Sources/Host/Tools/MultiNICConformance"
        ),
        .target(
            // Taking over a cluster of the original Multi-NIC CNI (multinic.fms.io): plan, apply, rollback.
            name: "MultiNICTakeover",
            dependencies: ["MultiNICKube", .product(name: "MultiNICCore", package: "MultiNICCore")],
            path: "Sources/Host/Cluster/MultiNICTakeover"
        ),
        .target(
            name: "MultiNICCLI",
            dependencies: [
                "MultiNICManifests", "MultiNICPluginHost", "MultiNICRender", "MultiNICLab", "MultiNICKube", "MultiNICOperator",
                "MultiNICDiscovery", "MultiNICKubelet", "MultiNICTakeover", "MultiNICConformance",
                .product(name: "MultiNICCore", package: "MultiNICCore"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/Host/Tools/MultiNICCLI"
        ),
        .executableTarget(
            name: "multi-nicd",
            dependencies: ["MultiNICDaemon", "MultiNICCloud", .product(name: "MultiNICCore", package: "MultiNICCore"),
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Host/Executables/multi-nicd",
            swiftSettings: [onlyImportedMembers],
            // Packed relative relocations (DT_RELR, glibc ≥ 2.36: bookworm) through the toolchain's lld: the loader reads
            // 15 KB of them instead of a 1.7 MB table at every start, and those pages stay resident (-1.7 MiB RSS).
            // --as-needed (.ci/link-as-needed.cfg): libraries autolinked by an `import` but never called are not loaded
            // (Foundation proper, FoundationInternationalization and ICU: 7.7 MiB resident).
            linkerSettings: [.unsafeFlags(["-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs",
                                           "-Xclang-linker", "--config=" + Context.packageDirectory + "/.ci/link-as-needed.cfg"],
                                          .when(platforms: [.linux]))]
        ),
        .executableTarget(
            name: "multi-nic",
            dependencies: ["MultiNICCNI"],
            path: "Sources/Host/Executables/multi-nic"
        ),
        .executableTarget(
            name: "multi-nic-ipam",
            dependencies: ["MultiNICCNI"],
            path: "Sources/Host/Executables/multi-nic-ipam"
        ),
        .executableTarget(
            name: "multi-nic-operator",
            dependencies: [
                "MultiNICKube", "MultiNICOperator", "MultiNICCertificates", "MultiNICController", "MultiNICRender", "MultiNICPluginHost",
                .product(name: "MultiNICCore", package: "MultiNICCore"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Host/Executables/multi-nic-operator"
        ),
        .executableTarget(
            name: "multinicctl",
            dependencies: ["MultiNICCLI", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Host/Executables/multinicctl"
        ),
        plugin("IPVLANBackend", "Plugins/IPVLAN"),
        plugin("MACVLANBackend", "Plugins/MACVLAN"),
        plugin("SRIOVBackend", "Plugins/SRIOV"),
        plugin("HostDeviceBackend", "Plugins/HostDevice"),
        plugin("AWSIPVLANBackend", "Plugins/AWSIPVLAN"),
        plugin("NonePolicy", "Policies/None"),
        plugin("DevClassPolicy", "Policies/DevClass"),
        plugin("TopologyPolicy", "Policies/Topology"),
        plugin("CostOptPolicy", "Policies/CostOpt"),
        plugin("PerfOptPolicy", "Policies/PerfOpt"),
        .target(name: "FixtureNotAPlugin", path: "Tests/Fixtures/NotAPlugin"),
        .target(name: "FixtureOtherABI", path: "Tests/Fixtures/OtherABI"),
        .target(
            name: "MultiNICTestSupport",
            dependencies: ["MultiNICPluginHost", "MultiNICNetlink", "MultiNICHTTP", .product(name: "MultiNICCore", package: "MultiNICCore")],
            path: "Tests/MultiNICTestSupport"
        ),
        .testTarget(
            name: "MultiNICPluginTests",
            dependencies: [
                "MultiNICTestSupport", "MultiNICPluginHost", "MultiNICRender", "MultiNICManifests", "MultiNICConformance",
                .product(name: "MultiNICCore", package: "MultiNICCore"),
            ],
            path: "Tests/MultiNICPluginTests",
            exclude: ["Golden", "Fixtures"]
        ),
        .executableTarget(
            name: "IPAMCrashHelper",
            dependencies: ["MultiNICIPAM", .product(name: "MultiNICCore", package: "MultiNICCore")],
            path: "Tests/Fixtures/IPAMCrashHelper"
        ),
        .testTarget(
            // The EC2 client (SigV4, IMDSv2, throttling) and multi-nicd's aws pools against moto, a real EC2 emulator.
            name: "MultiNICCloudTests",
            dependencies: [
                "MultiNICCloud", "MultiNICDaemon", "MultiNICIPAM", "MultiNICNetlink", "MultiNICHTTP", "MultiNICTestSupport",
                .product(name: "MultiNICCore", package: "MultiNICCore"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/MultiNICCloudTests"
        ),
        .testTarget(
            name: "MultiNICControllerTests",
            dependencies: [
                "MultiNICController", "MultiNICTestSupport", "MultiNICManifests", "MultiNICRender", "MultiNICLab", "MultiNICCLI",
                "MultiNICKube", "MultiNICOperator", "MultiNICKubeFake",
                .product(name: "MultiNICCore", package: "MultiNICCore"),
            ],
            path: "Tests/MultiNICControllerTests"
        ),
        .target(
            // An in-process API server that follows the Kubernetes API's conventions, for tests and bench/.
            name: "MultiNICKubeFake",
            dependencies: [
                "MultiNICManifests",
                .product(name: "MultiNICCore", package: "MultiNICCore"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/MultiNICKubeFake"
        ),
        .testTarget(
            name: "MultiNICKubeTests",
            dependencies: [
                "MultiNICKube", "MultiNICOperator", "MultiNICKubeFake", "MultiNICController", "MultiNICDaemon", "MultiNICTestSupport", "MultiNICCLI", "MultiNICTakeover", "MultiNICManifests",
                "MultiNICCertificates", "MultiNICHTTP", "MultiNICDaemonClient", "MultiNICIPAM", "MultiNICNetlink", "MultiNICDRA", "MultiNICLab",
                "MultiNICRender", "MultiNICPluginHost",
                "multi-nic-operator", "multi-nicd",
                .product(name: "MultiNICCore", package: "MultiNICCore"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Yams", package: "Yams"),
            ] + (withoutGRPC ? [] : [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
            ]),
            path: "Tests/MultiNICKubeTests",
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "MultiNICLabTests",
            dependencies: ["MultiNICTestSupport", "MultiNICLab", "multinicctl", "multi-nicd", "multi-nic",
                           .product(name: "MultiNICCore", package: "MultiNICCore")],
            path: "Tests/MultiNICLabTests"
        ),
        .testTarget(
            name: "MultiNICCNITests",
            dependencies: ["MultiNICCNI", "MultiNICDaemonClient", "MultiNICRender", "MultiNICTestSupport", "MultiNICKubeFake", "MultiNICHTTP",
                           "MultiNICDRA", "multi-nicd", "multi-nic", "multi-nic-ipam", .product(name: "MultiNICCore", package: "MultiNICCore")]
                + (withoutGRPC ? [] : [.product(name: "GRPCCore", package: "grpc-swift-2"),
                                       .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport")]),
            path: "Tests/MultiNICCNITests"
        ),
        .testTarget(
            name: "MultiNICDaemonTests",
            dependencies: [
                "MultiNICDaemon", "MultiNICKubelet", "MultiNICLab", "MultiNICDiscovery", "MultiNICTestSupport", "MultiNICNetlink", "MultiNICIPAM", "multi-nicd",
                .product(name: "MultiNICCore", package: "MultiNICCore"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ] + (withoutGRPC ? [] : [.product(name: "SwiftProtobuf", package: "swift-protobuf")]),
            path: "Tests/MultiNICDaemonTests"
        ),
        .testTarget(
            name: "MultiNICNetlinkTests",
            dependencies: ["MultiNICNetlink", "MultiNICDiscovery", "MultiNICPluginHost", "MultiNICTestSupport",
                           .product(name: "MultiNICCore", package: "MultiNICCore")],
            path: "Tests/MultiNICNetlinkTests"
        ),
        .testTarget(
            name: "MultiNICIPAMTests",
            dependencies: ["MultiNICIPAM", "IPAMCrashHelper", "MultiNICTestSupport",
                           .product(name: "MultiNICCore", package: "MultiNICCore")],
            path: "Tests/MultiNICIPAMTests"
        ),
        .executableTarget(name: "FuzzCrashHelper", dependencies: ["MultiNICTestSupport"], path: "Tests/Fixtures/FuzzCrashHelper"),
        .testTarget(
            name: "MultiNICCoreTests",
            dependencies: ["MultiNICTestSupport", "FuzzCrashHelper", .product(name: "MultiNICCore", package: "MultiNICCore")],
            path: "Tests/MultiNICCoreTests"
        ),
        .testTarget(
            name: "MultiNICManifestsTests",
            dependencies: ["MultiNICManifests", "MultiNICTestSupport", .product(name: "MultiNICCore", package: "MultiNICCore")],
            path: "Tests/MultiNICManifestsTests"
        ),
        .testTarget(
            name: "MultiNICCLITests",
            dependencies: [
                "MultiNICCLI", "MultiNICManifests", "MultiNICTakeover", "MultiNICTestSupport", "multinicctl",
                .product(name: "MultiNICCore", package: "MultiNICCore"),
            ],
            path: "Tests/MultiNICCLITests",
            exclude: ["Golden", "Fixtures"]
        ),
        // Benchmarks: run by hand or by bench/run, never by the tests.
        .executableTarget(name: "cidr-bench", dependencies: [.product(name: "MultiNICCore", package: "MultiNICCore")],
                          path: "bench/Sources/cidr-bench"),
        .executableTarget(name: "route-bench", dependencies: ["MultiNICNetlink", .product(name: "MultiNICCore", package: "MultiNICCore")],
                          path: "bench/Sources/route-bench"),
        .executableTarget(name: "daemon-bench", path: "bench/Sources/daemon-bench"),
        .target(name: "BenchFleet", dependencies: ["MultiNICController", .product(name: "MultiNICCore", package: "MultiNICCore")],
                path: "bench/Sources/BenchFleet"),
        .executableTarget(name: "controller-bench",
                          dependencies: ["BenchFleet", "MultiNICController", "MultiNICRender", "MultiNICPluginHost",
                                         .product(name: "MultiNICCore", package: "MultiNICCore")],
                          path: "bench/Sources/controller-bench"),
        .executableTarget(name: "kube-bench",
                          dependencies: ["BenchFleet", "MultiNICController", "MultiNICRender", "MultiNICPluginHost", "MultiNICKube",
                                         "MultiNICOperator", "MultiNICKubeFake", .product(name: "MultiNICCore", package: "MultiNICCore")],
                          path: "bench/Sources/kube-bench"),
        .executableTarget(name: "cni-bench",
                          dependencies: ["MultiNICCNI", "MultiNICDaemonClient", .product(name: "MultiNICCore", package: "MultiNICCore")],
                          path: "bench/Sources/cni-bench"),
        .executableTarget(name: "ipam-bench", dependencies: ["MultiNICIPAM", .product(name: "MultiNICCore", package: "MultiNICCore")],
                          path: "bench/Sources/ipam-bench"),
        .executableTarget(name: "topology-bench",
                          dependencies: ["MultiNICDaemon", "MultiNICIPAM", "MultiNICKubelet", "MultiNICLab", "MultiNICNetlink", "MultiNICPluginHost",
                                         "MultiNICTestSupport", .product(name: "MultiNICCore", package: "MultiNICCore")]
                            + (withoutGRPC ? [] : [.product(name: "SwiftProtobuf", package: "swift-protobuf")]),
                          path: "bench/Sources/topology-bench"),
        .executableTarget(name: "dra-bench",
                          dependencies: ["MultiNICDaemon", "MultiNICDRA", "MultiNICIPAM", "MultiNICNetlink", "MultiNICPluginHost",
                                         "MultiNICTestSupport", .product(name: "MultiNICCore", package: "MultiNICCore")]
                            + (withoutGRPC ? [] : [.product(name: "GRPCCore", package: "grpc-swift-2"),
                                                   .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport")]),
                          path: "bench/Sources/dra-bench"),
    ]
)

/// A backend or policy: one small target under Sources/Plugins or Sources/Policies that depends only on the core.
func plugin(_ name: String, _ path: String) -> Target {
    .target(name: name, dependencies: [.product(name: "MultiNICCore", package: "MultiNICCore")], path: "Sources/" + path)
}

/// `MULTINIC_LAB_BUILD=1` (examples/run): only the lab's programs and the plugins, and the targets they need, so one
/// `swift build` plans once and builds them all in parallel (instead of one planning pass per product).
if ProcessInfo.processInfo.environment["MULTINIC_LAB_BUILD"] == "1" {
    let programs: Set<String> = ["multinicctl", "multi-nicd", "multi-nic", "multi-nic-ipam"]
    package.products = package.products.filter {
        programs.contains($0.name) || $0.name == "multinic-yaml" || $0.name.hasPrefix("multinic-backend-")
            || $0.name.hasPrefix("multinic-policy-")
    }
    var needed = Set(package.products.flatMap { ($0 as? Product.Executable)?.targets ?? ($0 as? Product.Library)?.targets ?? [] })
    var pending = Array(needed)
    while let name = pending.popLast() {
        for dependency in package.targets.first(where: { $0.name == name })?.dependencies ?? [] {
            switch dependency {
            case .targetItem(let target, _), .byNameItem(let target, _):
                if needed.insert(target).inserted { pending.append(target) }
            default: break
            }
        }
    }
    package.targets = package.targets.filter { needed.contains($0.name) }
    // Nor clone packages only the rest uses (swift-certificates, swift-crypto, …).
    var used: Set<String> = []
    for target in package.targets {
        for case .productItem(_, let name?, _, _) in target.dependencies { used.insert(name.lowercased()) }
    }
    package.dependencies = package.dependencies.filter { dependency in
        switch dependency.kind {
        case .sourceControl(_, let location, _):
            let last = location.split(separator: "/").last.map(String.init) ?? location
            return used.contains((last.hasSuffix(".git") ? String(last.dropLast(4)) : last).lowercased())
        default: return true
        }
    }
}
