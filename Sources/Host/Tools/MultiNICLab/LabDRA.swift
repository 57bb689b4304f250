import Foundation
import MultiNICCore
import MultiNICDRA
import MultiNICHTTP
import MultiNICKube

/// `lab up --dra`: DRA mode in the lab. A stand-in API server (``LabObjectStore``) in the fabric namespace, which
/// every multi-nicd (`--dra-driver`) publishes its NICs to as ResourceSlices and reads claims from; the lab plays
/// the scheduler (``LabScheduler`` over the published slices: a claim per pod, its NICs — and with GPUs one GPU on
/// the same PCIe root) and the kubelet (NodePrepareResources over the daemon's real plugin socket), then Multus (the
/// NAD's config with the first claimed NIC's `k8s.cni.cncf.io/deviceID`) for the CNI ADD.
enum LabDRA {
    static let driver = DRANames.defaultDriver
    /// The lab's GPUs, published by the lab itself (no GPU driver runs here; its devices need no preparing).
    static let gpuDriver = "gpu.lab.multinic.io"
    static let apiAddress = "172.31.0.1"
    static let apiPort = 6443

    /// What a pod got from its claim.
    struct Claimed: Sendable {
        var claim: String
        var uid: String
        /// The ID Multus would hand the ADD (the first claimed NIC's `k8s.cni.cncf.io/deviceID`).
        var deviceID: String
        /// Host NICs in the order the daemon attaches them (device name order).
        var masters: [String]
        var gpu: String?
    }

    /// Starts the API server in the fabric namespace and writes the kubeconfig the daemons use.
    static func startAPIServer(_ record: inout LabRecord, binaries: LabBinaries) throws(LabError) {
        let kubeconfig = """
            apiVersion: v1
            kind: Config
            current-context: lab
            clusters: [{name: lab, cluster: {server: "http://\(apiAddress):\(apiPort)"}}]
            users: [{name: multi-nicd, user: {}}]
            contexts: [{name: lab, context: {cluster: lab, user: multi-nicd}}]
            """
        do {
            try FileManager.default.createDirectory(atPath: record.directory, withIntermediateDirectories: true)
            try kubeconfig.write(toFile: record.kubeconfig, atomically: true, encoding: .utf8)
        } catch {
            throw LabError("cannot write \(record.kubeconfig): \(error)")
        }
        let process = try LabShell.spawn("the lab's API server", in: record.fabric,
                                         [binaries.directory + "/multinicctl", "lab", "apiserver", "--listen", "\(apiAddress):\(apiPort)",
                                          "--socket", record.apiSocket], log: record.directory + "/apiserver.log")
        record.apiServerPID = process.processIdentifier
        try record.save()
        for _ in 0..<300 {
            if (try? call(record, "GET", "/apis/resource.k8s.io/v1/resourceslices")) != nil { return }
            guard process.isRunning else { break }
            usleep(20_000)
        }
        throw LabError("the lab's API server did not answer on \(record.apiSocket); see \(record.directory)/apiserver.log")
    }

    /// The kubelet's plugin directories of a host (short: a unix socket path has at most 107 bytes).
    static func registryDirectory(_ host: LabRecord.Host) -> String { host.directory + "/kr" }
    static func pluginsDirectory(_ host: LabRecord.Host) -> String { host.directory + "/kp" }
    static func pluginSocket(_ host: LabRecord.Host) -> String { pluginsDirectory(host) + "/\(driver)/dra.sock" }

    /// multi-nicd's DRA flags for a host; refused when the plugin's socket path would be too long for a unix socket.
    static func daemonArguments(_ host: LabRecord.Host, record: LabRecord) throws(LabError) -> [String] {
        let longest = max(pluginSocket(host).utf8.count, (registryDirectory(host) + "/\(driver)-reg.sock").utf8.count)
        guard longest <= 107 else {
            throw LabError("the DRA plugin's socket under \(host.directory) would be \(longest) bytes long (a unix socket path has at "
                + "most 107): use a shorter --state-dir")
        }
        return ["--kubeconfig", record.kubeconfig, "--dra-driver", driver, "--dra-publish-seconds", "1",
                "--kubelet-registry-dir", registryDirectory(host), "--kubelet-plugins-dir", pluginsDirectory(host)]
    }

    /// A call to the lab's API server (its unix socket); the JSON answer of a 2xx.
    @discardableResult
    static func call(_ record: LabRecord, _ method: String, _ path: String, _ body: JSONValue? = nil) throws(LabError) -> JSONValue {
        let request = HTTPRequest(endpoint: .unixSocket(path: record.apiSocket), method: method, path: path,
                                  headers: body == nil ? [] : ["Content-Type: application/json"],
                                  body: body.map { Array($0.description.utf8) }, timeoutSeconds: 10)
        let answer: (status: Int, body: [UInt8])
        do {
            answer = try CurlTransport.perform(request)
        } catch {
            throw LabError("lab API server: \(error)")
        }
        let text = String(decoding: answer.body, as: UTF8.self)
        guard (200...299).contains(answer.status), let json = try? JSONValue.parse(text) else {
            throw LabError("lab API server: \(method) \(path): \(answer.status) \(text.prefix(300))")
        }
        return json
    }

    /// The GPUs of a host as a ResourceSlice of the lab's GPU driver (PCIe root, PCI address, UUID).
    static func publishGPUs(_ record: LabRecord, host: LabRecord.Host) throws(LabError) {
        let hardware = LabHardware.lab(nics: host.nics.count, gpus: host.gpus ?? 0)
        let devices: [JSONValue] = hardware.devices.enumerated().compactMap { _, device in
            guard case .gpu(let uuid) = device.kind, let index = hardware.gpus.firstIndex(where: { $0.uuid == uuid }) else { return nil }
            return .object(["name": .string("gpu-\(index)"), "attributes": .object([
                DRADevice.pcieRootAttribute: .object(["string": .string(device.path[0])]),
                "pciAddress": .object(["string": .string(device.address)]),
                "uuid": .object(["string": .string(uuid)]),
            ])])
        }
        guard !devices.isEmpty else { return }
        try call(record, "POST", "/apis/resource.k8s.io/v1/resourceslices", .object([
            "apiVersion": .string("resource.k8s.io/v1"), "kind": .string("ResourceSlice"),
            "metadata": .object(["name": .string("\(host.node)-gpus")]),
            "spec": .object(["driver": .string(gpuDriver), "nodeName": .string(host.node),
                             "pool": .object(["name": .string(host.node), "generation": .integer(1), "resourceSliceCount": .integer(1)]),
                             "devices": .array(devices)]),
        ]))
    }

    /// Waits until every host's daemon published its NICs.
    static func waitForSlices(_ record: LabRecord, progress: @Sendable (String) -> Void) throws(LabError) {
        let deadline = Date().addingTimeInterval(30)
        var published = 0
        while Date() < deadline {
            published = 0
            for host in record.hosts where !(try devices(record, node: host.node, driver: driver)).isEmpty { published += 1 }
            if published == record.hosts.count {
                progress("ResourceSlices: \(published)/\(record.hosts.count) hosts published their NICs (driver \(driver))")
                return
            }
            usleep(100_000)
        }
        throw LabError("only \(published)/\(record.hosts.count) daemons published ResourceSlices within 30 s; see the hosts' multi-nicd.log")
    }

    /// The devices of a node's slices of `driver`.
    static func devices(_ record: LabRecord, node: String, driver: String) throws(LabError) -> [LabScheduler.Device] {
        let selector = KubePaths.escape("spec.nodeName=\(node),spec.driver=\(driver)")
        let slices = try call(record, "GET", "/apis/resource.k8s.io/v1/resourceslices?fieldSelector=" + selector)
        return LabScheduler.Device.all(in: slices.objectValue?["items"]?.arrayValue ?? [])
    }
}
