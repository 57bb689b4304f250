import MultiNICCore
import MultiNICIPAM

/// What NIC selection decides on for one pod: the network's policy and host networks, the pod's cni-args and its
/// devices. Built from a request body once, at the HTTP edge (``DaemonWire``).
public struct NICQuery: Sendable, Hashable {
    /// The network (NAD) name.
    public var network: String
    public var pod: PodRef
    /// The network's host networks (CIDRs); empty means every NIC.
    public var masterNets: [String]
    /// The pod's cni-args.
    public var request: PodRequest
    /// The network's policy; `nil` means `none`.
    public var policy: AttachPolicySpec?
    /// Device-plugin resources of the network (SR-IOV): the masters are the pod's allocated devices.
    public var resourceNames: [String]
    /// The pod's GPUs per NUMA node, for topology; empty when nobody knows.
    public var gpusPerNUMA: [Int: Int]
    /// The pod's GPUs as the node found them (set by ``DaemonServices/withDevices(_:)``); nil when not looked up.
    public var devices: PodDeviceSet?

    public init(network: String, pod: PodRef, masterNets: [String] = [], request: PodRequest = PodRequest(),
                policy: AttachPolicySpec? = nil, resourceNames: [String] = [], gpusPerNUMA: [Int: Int] = [:]) {
        self.network = network
        self.pod = pod
        self.masterNets = masterNets
        self.request = request
        self.policy = policy
        self.resourceNames = resourceNames
        self.gpusPerNUMA = gpusPerNUMA
    }
}

/// One NIC selection chose, in attachment order.
public struct ChosenNIC: Sendable, Hashable {
    /// The host interface.
    public var master: String
    /// The device's PCI address when kubelet gave the pod a device (SR-IOV VF).
    public var deviceID: String?
    /// Why it was chosen.
    public var reason: String

    public init(master: String, deviceID: String? = nil, reason: String) {
        self.master = master
        self.deviceID = deviceID
        self.reason = reason
    }
}

/// One address per host NIC for a container, all or nothing.
public struct AddressRequest: Sendable, Hashable {
    /// A host NIC and the pod interface its address is for.
    public struct Slot: Sendable, Hashable {
        public var master: String
        public var ifName: String

        public init(master: String, ifName: String) {
            self.master = master
            self.ifName = ifName
        }
    }

    public var network: String
    public var pod: PodRef
    public var containerID: String
    public var slots: [Slot]

    public init(network: String, pod: PodRef, containerID: String, slots: [Slot]) {
        self.network = network
        self.pod = pod
        self.containerID = containerID
        self.slots = slots
    }
}

/// A multi-NIC ADD: select, allocate and build one delegate config per NIC.
public struct AttachmentRequest: Sendable, Hashable {
    public var query: NICQuery
    public var containerID: String
    /// The pod interface base name (`CNI_IFNAME`); NIC k becomes `<ifName>-<k>`.
    public var ifName: String
    /// One of ``CNIVersion/supported``: the delegate configs' version.
    public var cniVersion: String
    /// The NAD config's `plugin` section (the backend's input).
    public var plugin: [String: JSONValue]
    /// The network's static pod routes; each NIC carries those it can (``PodRoute/applies(to:)``).
    public var routes: [PodRoute]
    /// The network's own IPAM section when the daemon allocates nothing (`multiNICIPAM: false`).
    public var delegatedIPAM: JSONValue?
    /// The pod's network namespace, validated (``NetworkNamespacePath``): when set (and the network allows it), the
    /// daemon attaches natively where the backend can.
    public var netns: String?
    /// The device Multus handed the ADD (DRA mode: a claimed NIC's ID, ``DRADevice/multusDeviceID(pciAddress:name:)``).
    public var deviceID: String?

    public init(query: NICQuery, containerID: String, ifName: String, cniVersion: String, plugin: [String: JSONValue],
                routes: [PodRoute] = [], delegatedIPAM: JSONValue? = nil, netns: String? = nil, deviceID: String? = nil) {
        self.netns = netns
        self.deviceID = deviceID
        self.query = query
        self.containerID = containerID
        self.ifName = ifName
        self.cniVersion = cniVersion
        self.plugin = plugin
        self.routes = routes
        self.delegatedIPAM = delegatedIPAM
    }
}

/// A multi-NIC DEL: release one attachment (or every address of the container on the network) and name the NICs to
/// remove.
public struct DetachmentRequest: Sendable, Hashable {
    public var network: String
    public var containerID: String
    /// The pod interface whose per-NIC interfaces go; `nil` releases everything of the container on the network.
    public var attachment: String?
    public var cniVersion: String
    public var plugin: [String: JSONValue]
    /// The pod (from the runtime's CNI_ARGS): releases its pod-keyed leases when the container holds none.
    public var pod: PodRef?
    /// The pod's network namespace when its per-NIC links are the daemon's to remove (native attach).
    public var netns: String?

    public init(network: String, containerID: String, attachment: String?, cniVersion: String, plugin: [String: JSONValue],
                pod: PodRef? = nil, netns: String? = nil) {
        self.network = network
        self.containerID = containerID
        self.attachment = attachment
        self.cniVersion = cniVersion
        self.plugin = plugin
        self.pod = pod
        self.netns = netns
    }
}
