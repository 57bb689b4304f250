import Foundation
import MultiNICCore
import MultiNICDRA
#if MULTINIC_GRPC

extension LabDRA {
    /// The scheduler and the kubelet for one pod: a claim for `nics` NICs of the host (with GPUs: one GPU and one NIC
    /// on its PCIe root), allocated from the published slices and reserved for the pod, then prepared through the
    /// host daemon's plugin socket.
    static func claim(for pod: LabRecord.Pod, on host: LabRecord.Host, record: LabRecord, nics: Int) async throws(LabError) -> Claimed {
        let gpus = (host.gpus ?? 0) > 0
        var requests = [LabScheduler.Request(name: "nics", driver: driver, count: gpus ? 1 : nics)]
        var constraints: [LabScheduler.Constraint] = []
        var devices = try Self.devices(record, node: host.node, driver: driver)
        if gpus {
            requests.insert(LabScheduler.Request(name: "gpu", driver: gpuDriver, count: 1), at: 0)
            constraints.append(LabScheduler.Constraint(requests: ["gpu", "nics"], attribute: DRADevice.pcieRootAttribute))
            devices += try Self.devices(record, node: host.node, driver: gpuDriver)
        }
        let allocated: [(request: String, device: LabScheduler.Device)]
        switch LabScheduler.allocate(requests, constraints: constraints, devices: devices, taken: try taken(record)) {
        case .success(let chosen): allocated = chosen
        case .failure(let reason): throw LabError("pod \(pod.name) cannot be scheduled on \(host.node): \(reason)")
        }
        let name = pod.name + "-nics"
        let opaque: JSONValue = .object(["driver": .string(driver), "parameters": .object(["network": .string(record.network)])])
        let spec: JSONValue = .object(["devices": .object([
            "requests": .array(requests.map { request in
                .object(["name": .string(request.name), "exactly": .object([
                    "deviceClassName": .string(request.driver == driver ? "multinic-nic" : "lab-gpu"), "count": .integer(Int64(request.count))])])
            }),
            "constraints": .array(constraints.map { constraint in
                .object(["requests": .array(constraint.requests.map(JSONValue.string)), "matchAttribute": .string(constraint.attribute)])
            }),
            "config": .array([.object(["requests": .array([.string("nics")]), "opaque": opaque])]),
        ])])
        var claim = try call(record, "POST", "/apis/resource.k8s.io/v1/namespaces/default/resourceclaims", .object([
            "apiVersion": .string("resource.k8s.io/v1"), "kind": .string("ResourceClaim"),
            "metadata": .object(["name": .string(name), "namespace": .string("default")]), "spec": spec,
        ])).objectValue ?? [:]
        let uid = claim["metadata"]?.objectValue?["uid"]?.stringValue ?? ""
        claim["status"] = .object([
            "allocation": .object(["devices": .object([
                "results": .array(allocated.map { .object(["request": .string($0.request), "driver": .string($0.device.driver),
                                                            "pool": .string($0.device.pool), "device": .string($0.device.name)]) }),
                "config": .array([.object(["source": .string("FromClaim"), "requests": .array([.string("nics")]), "opaque": opaque])]),
            ])]),
            "reservedFor": .array([.object(["resource": .string("pods"), "name": .string(pod.name), "uid": .string(pod.containerID)])]),
        ])
        try call(record, "PUT", "/apis/resource.k8s.io/v1/namespaces/default/resourceclaims/\(name)/status", .object(claim))
        // The kubelet: NodePrepareResources over the plugin's socket.
        let socket = pluginSocket(host)
        let outcome: Result<[String], DRAClaimFailure>?
        do {
            outcome = try await DRAKubeletClient(socket: socket).prepare([.init(namespace: "default", name: name, uid: uid)])[uid]
        } catch {
            throw LabError("NodePrepareResources on \(socket): \(error)")
        }
        if case .failure(let failure)? = outcome { throw LabError("NodePrepareResources of \(name): \(failure)") }
        let nicDevices = allocated.filter { $0.device.driver == driver }.map(\.device).sorted { $0.name < $1.name }
        guard let deviceID = nicDevices.first?.attributes[DRANames.multusDeviceIDAttribute] else {
            throw LabError("the slice of \(host.node) names no \(DRANames.multusDeviceIDAttribute) for \(nicDevices.first?.name ?? "its NICs")")
        }
        let gpu = allocated.first { $0.device.driver == gpuDriver }?.device.attributes[gpuDriver + "/pciAddress"]
        return Claimed(claim: name, uid: uid, deviceID: deviceID,
                       masters: nicDevices.map { $0.attributes[driver + "/ifName"] ?? $0.name }, gpu: gpu)
    }

    /// Devices the claims in the lab hold.
    static func taken(_ record: LabRecord) throws(LabError) -> Set<String> {
        let claims = try call(record, "GET", "/apis/resource.k8s.io/v1/resourceclaims").objectValue?["items"]?.arrayValue ?? []
        return Set(claims.flatMap { claim in
            (claim.objectValue?["status"]?.objectValue?["allocation"]?.objectValue?["devices"]?.objectValue?["results"]?.arrayValue ?? [])
                .compactMap { result -> String? in
                    let fields = result.objectValue ?? [:]
                    guard let driver = fields["driver"]?.stringValue, let pool = fields["pool"]?.stringValue,
                          let device = fields["device"]?.stringValue else { return nil }
                    return driver + "/" + pool + "/" + device
                }
        })
    }
}
#endif
