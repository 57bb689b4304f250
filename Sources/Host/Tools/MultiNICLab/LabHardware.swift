import Foundation

/// A server's PCIe tree written as sysfs and NVIDIA proc files, for hosts that have none of that hardware (the lab's
/// veth NICs, tests): `devices/pci<root>/<bridges…>/<device>` directories with `class`, `vendor`, `device`,
/// `numa_node` (and `net/<name>` for a NIC), `bus/pci/devices/<address>` links to them, and for a GPU
/// `<nvidia>/gpus/<address>/information` with its UUID.
public struct LabHardware: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// A NIC whose kernel name is `interface`.
        case nic(interface: String)
        /// An NVIDIA GPU with this UUID.
        case gpu(uuid: String)
    }

    public struct Device: Sendable, Hashable {
        /// The host bridge, the bridges under it, the device: `["pci0000:17", "0000:17:00.0", "0000:18:00.0"]`.
        public var path: [String]
        public var kind: Kind
        public var numaNode: Int

        public init(path: [String], kind: Kind, numaNode: Int) {
            self.path = path
            self.kind = kind
            self.numaNode = numaNode
        }

        public var address: String { path.last ?? "" }
    }

    public var devices: [Device]

    public init(devices: [Device]) { self.devices = devices }

    /// `GPU-<n>` UUIDs in NVIDIA's form.
    public static func uuid(_ index: Int) -> String {
        "GPU-" + String(format: "%08x-0000-4000-8000-%012x", index, index)
    }

    /// A 2-socket 8-GPU/8-NIC server: four host bridges per socket, each with a PCIe switch whose downstream ports
    /// hold one GPU and one NIC (`eth1`…`eth8`): GPU k pairs with NIC k+1.
    public static func eightGPUServer() -> LabHardware {
        var devices: [Device] = []
        let buses = [0x17, 0x3a, 0x5d, 0x85, 0x97, 0xb0, 0xc9, 0xe2]
        for (index, bus) in buses.enumerated() {
            let root = String(format: "pci0000:%02x", bus)
            let port = String(format: "0000:%02x:00.0", bus)
            let upstream = String(format: "0000:%02x:00.0", bus + 1)
            let gpu = String(format: "0000:%02x:00.0", bus + 3)
            let nic = String(format: "0000:%02x:00.0", bus + 4)
            let numa = index < 4 ? 0 : 1
            devices.append(Device(path: [root, port, upstream, String(format: "0000:%02x:00.0", bus + 2), gpu], kind: .gpu(uuid: uuid(index)),
                                  numaNode: numa))
            devices.append(Device(path: [root, port, upstream, String(format: "0000:%02x:01.0", bus + 2), nic],
                                  kind: .nic(interface: "eth\(index + 1)"), numaNode: numa))
        }
        return LabHardware(devices: devices)
    }

    /// A 4-NIC server with every NIC on socket 0 (two under host bridge pci0000:16, two under pci0000:30) and four
    /// GPUs: two on socket 0 (under pci0000:30 and pci0000:4a), two on socket 1.
    public static func fourNICsOnOneSocket() -> LabHardware {
        LabHardware(devices: [
            Device(path: ["pci0000:16", "0000:16:02.0", "0000:17:00.0"], kind: .nic(interface: "eth1"), numaNode: 0),
            Device(path: ["pci0000:16", "0000:16:02.0", "0000:17:00.1"], kind: .nic(interface: "eth2"), numaNode: 0),
            Device(path: ["pci0000:30", "0000:30:02.0", "0000:31:00.0"], kind: .nic(interface: "eth3"), numaNode: 0),
            Device(path: ["pci0000:30", "0000:30:03.0", "0000:32:00.0"], kind: .nic(interface: "eth4"), numaNode: 0),
            Device(path: ["pci0000:30", "0000:30:04.0", "0000:33:00.0"], kind: .gpu(uuid: uuid(0)), numaNode: 0),
            Device(path: ["pci0000:4a", "0000:4a:02.0", "0000:4b:00.0"], kind: .gpu(uuid: uuid(1)), numaNode: 0),
            Device(path: ["pci0000:97", "0000:97:02.0", "0000:98:00.0"], kind: .gpu(uuid: uuid(2)), numaNode: 1),
            Device(path: ["pci0000:b0", "0000:b0:02.0", "0000:b1:00.0"], kind: .gpu(uuid: uuid(3)), numaNode: 1),
        ])
    }

    /// The lab's host: NIC k (`eth<k>`) and GPU k-1 behind the same switch under their own host bridge, for k in
    /// 1…nics; GPUs beyond the NICs get host bridges of their own.
    public static func lab(nics: Int, gpus: Int) -> LabHardware {
        var devices: [Device] = []
        for index in 0..<max(nics, gpus) {
            let bus = 0x10 + index * 4
            let root = String(format: "pci0000:%02x", bus)
            let port = String(format: "0000:%02x:00.0", bus)
            if index < gpus {
                devices.append(Device(path: [root, port, String(format: "0000:%02x:00.0", bus + 1)], kind: .gpu(uuid: uuid(index)),
                                      numaNode: index % 2))
            }
            if index < nics {
                devices.append(Device(path: [root, port, String(format: "0000:%02x:00.0", bus + 2)],
                                      kind: .nic(interface: "eth\(index + 1)"), numaNode: index % 2))
            }
        }
        return LabHardware(devices: devices)
    }

    /// The GPUs' UUIDs and PCI addresses, in order.
    public var gpus: [(uuid: String, address: String)] {
        devices.compactMap { device in
            if case .gpu(let uuid) = device.kind { return (uuid, device.address) }
            return nil
        }
    }

    /// Writes the tree under `sysfsRoot` (and GPU information under `nvidiaRoot`).
    public func write(sysfsRoot: String, nvidiaRoot: String) throws {
        let files = FileManager.default
        try files.createDirectory(atPath: sysfsRoot + "/bus/pci/devices", withIntermediateDirectories: true)
        for device in devices {
            let relative = "devices/" + device.path.joined(separator: "/")
            let directory = sysfsRoot + "/" + relative
            try files.createDirectory(atPath: directory, withIntermediateDirectories: true)
            // Every bridge on the way is a PCI device too (class 0x0604).
            var bridgePath = sysfsRoot + "/devices/" + device.path[0]
            for bridge in device.path.dropFirst().dropLast() {
                bridgePath += "/" + bridge
                try write("0x060400", to: bridgePath + "/class")
                try link(sysfsRoot: sysfsRoot, address: bridge, to: String(bridgePath.dropFirst(sysfsRoot.count + 1)))
            }
            try write(String(device.numaNode), to: directory + "/numa_node")
            switch device.kind {
            case .nic(let interface):
                try write("0x020000", to: directory + "/class")
                try write("0x15b3", to: directory + "/vendor")
                try write("0x101d", to: directory + "/device")
                try files.createDirectory(atPath: directory + "/net/" + interface, withIntermediateDirectories: true)
            case .gpu(let uuid):
                try write("0x030200", to: directory + "/class")
                try write("0x10de", to: directory + "/vendor")
                try write("0x2330", to: directory + "/device")
                let information = nvidiaRoot + "/gpus/" + device.address
                try files.createDirectory(atPath: information, withIntermediateDirectories: true)
                try write("Model: \t\t NVIDIA H100 80GB HBM3\nGPU UUID: \t " + uuid + "\nBus Type: \t PCIe\nBus Location: \t "
                          + device.address + "\nDevice Minor: \t 0\n", to: information + "/information")
            }
            try link(sysfsRoot: sysfsRoot, address: device.address, to: relative)
        }
    }

    private func write(_ text: String, to path: String) throws {
        try (text + "\n").write(toFile: path, atomically: false, encoding: .utf8)
    }

    /// `bus/pci/devices/<address>` → `../../../<relative>`, as the kernel links them.
    private func link(sysfsRoot: String, address: String, to relative: String) throws {
        let path = sysfsRoot + "/bus/pci/devices/" + address
        if (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) != nil { return }
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "../../../" + relative)
    }
}
