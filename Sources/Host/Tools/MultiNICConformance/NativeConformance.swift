import Foundation
import MultiNICCore
import MultiNICNetlink

/// A native backend in two scratch network namespaces of its own ("host" with a veth `eth1` as master, "pod"):
/// attach, compare the kernel's state with what it returned, check, detach, and make sure nothing is left. Only
/// addresses from TEST-NET-1 (192.0.2.0/24) are used and no traffic is sent. Both namespaces are removed
/// afterwards, whatever happened.
enum NativeConformance {
    static func check(_ backend: any NativeAttaching, name: String) -> [ConformanceCheck] {
        let prefix = "mnverify-\(getpid())"
        let host = prefix + "-host", pod = prefix + "-pod"
        defer {
            ip(["netns", "del", host])
            ip(["netns", "del", pod])
        }
        guard ip(["netns", "add", host]), ip(["netns", "add", pod]),
              ip(["-n", host, "link", "add", "eth1", "type", "veth", "peer", "name", "eth1-peer"]),
              ip(["-n", host, "link", "set", "eth1", "up"]) else {
            return [ConformanceCheck("native attach", .failed, "could not create scratch namespaces with ip(8)")]
        }
        let links: NetlinkLinkOperations
        do {
            links = try NetlinkLinkOperations(host: try NetworkNamespace.netlink(path: "/var/run/netns/" + host),
                                              podNamespacePath: "/var/run/netns/" + pod)
        } catch {
            return [ConformanceCheck("native attach", .failed, "cannot open the scratch namespaces: \(error)")]
        }
        guard let address = IPNetwork("192.0.2.10/24") else { return [] }
        let attachment = NICAttachment(networkName: "verify", cniVersion: "1.0.0", plugin: ["type": .string(name)],
                                       master: "eth1", address: address)
        var checks: [ConformanceCheck] = []
        let made: PodLinkState
        do {
            made = try backend.attach(attachment, ifName: "net1-0", links: links)
        } catch {
            // EOPNOTSUPP: this kernel has no such link type (ipvlan on some builds); nothing to judge here.
            let unsupported = error.description.hasSuffix("errno \(EOPNOTSUPP)")
            return [ConformanceCheck("native attach", unsupported ? .skipped : .failed,
                                     unsupported ? "this kernel cannot create the link type: \(error)" : error.description)]
        }
        let found = try? links.state(ifName: "net1-0")
        checks.append(.expect("native attach: the kernel has what attach returned (up, with its address)",
                              found != nil && found?.isUp == true && found?.addresses.contains(address) == true
                                && found?.kind == made.kind && found?.macAddress == made.macAddress,
                              "returned \(made), the kernel has \(found.map { "\($0)" } ?? "nothing")"))
        do {
            try backend.check(attachment, ifName: "net1-0", links: links)
            checks.append(ConformanceCheck("native check passes on what attach made", .passed))
        } catch {
            checks.append(ConformanceCheck("native check passes on what attach made", .failed, error.description))
        }
        do {
            try backend.detach(ifName: "net1-0", links: links)
            try backend.detach(ifName: "net1-0", links: links)
            let left = try links.linkKinds().keys.filter { $0 != "lo" }.sorted()
            checks.append(.expect("native detach leaves nothing (and succeeds again when nothing is left)", left.isEmpty,
                                  "left in the pod: \(left.joined(separator: ", "))"))
        } catch {
            checks.append(ConformanceCheck("native detach leaves nothing", .failed, "\(error)"))
        }
        let checkAfter = Result { () throws(NativeAttachError) in try backend.check(attachment, ifName: "net1-0", links: links) }
        checks.append(.expect("native check fails once the interface is gone", (try? checkAfter.get()) == nil,
                              "check passed without the interface"))
        return checks
    }

    @discardableResult
    static func ip(_ arguments: [String]) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return false
        }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}
