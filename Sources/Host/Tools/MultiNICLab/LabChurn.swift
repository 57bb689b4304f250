import Foundation
import MultiNICCore
import Synchronization

/// SplitMix64: the chaos schedule and the churn are reproducible from their seed (timing aside).
struct ChaosRandom: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The pods of a chaos run, as the kubelets and the API would know them: every pod exists (in the pods file the lab's
/// controller sweeps against) from before its ADD until its DEL succeeded; `live` pods have their addresses.
final class ChurnState: Sendable {
    struct Pod: Sendable, Hashable, Codable {
        var name: String
        var host: Int
        var node: String
        var namespace: String
        /// Also the pod's UID (K8S_POD_UID).
        var containerID: String
        var addresses: [String] = []
        /// The pod's network attaches through the delegate plugins (`nativeAttach: false`), not in the daemon.
        var delegated = false
    }

    struct Figures: Sendable {
        var adds = 0
        var addFailures = 0
        var dels = 0
        var delFailures = 0
        var addSeconds: [Double] = []
        /// Why ADDs failed (the CNI error's message, numbers and names blurred), with counts.
        var addErrors: [String: Int] = [:]
    }

    struct State {
        /// Pods that exist (ADD started, DEL not yet done).
        var existing: [String: Pod] = [:]
        /// Pods whose ADD succeeded and whose DEL has not.
        var live: [String: Pod] = [:]
        /// Container IDs with a CNI call running.
        var inFlight: Set<String> = []
        /// Pods whose ADD failed or whose DEL failed: DEL again.
        var toDelete: [String: Pod] = [:]
        /// Hosts whose delegate plugins hang for now (``ChaosFault/hangDelegate(host:)``).
        var hung: Set<Int> = []
        var figures = Figures()
        var counter = 0
    }

    let state = Mutex(State())
    let podsFile: String
    /// One writer at a time, each writing the state as it is then: the last write holds every pod that exists (two
    /// threads writing their own snapshots could leave an older one last — and the leak sweep would take a pod's
    /// addresses).
    private let writing = Mutex(())

    init(podsFile: String) { self.podsFile = podsFile }

    var snapshot: State { state.withLock { $0 } }

    /// Writes the existing pods for the lab's controller (its leak sweep's pod directory).
    func publish() {
        writing.withLock { _ in
            let pods = state.withLock { Array($0.existing.values) }.sorted { $0.name < $1.name }
            guard let data = try? JSONEncoder().encode(pods) else { return }
            try? data.write(to: URL(fileURLWithPath: podsFile), options: .atomic)
        }
    }
}

/// Pod churn through the real CNI path: per host, ADDs of new pods and DELs of live ones, one at a time per host,
/// every host at once.
struct LabChurn: Sendable {
    let record: LabRecord
    let config: String
    /// The same network with `nativeAttach: false`: every other pod attaches through the delegates.
    var delegatedConfig: String {
        var fields = (try? JSONValue.parse(config))?.objectValue ?? [:]
        fields["nativeAttach"] = .bool(false)
        return JSONValue.object(fields).description
    }
    /// Where a hanging `macvlan` waits (``ChaosFault/hangDelegate(host:)``), and how long a delegate may take.
    var hangDirectory: String { record.directory + "/chaos-hang" }
    static let delegateTimeoutSeconds = 3
    let binaries: LabBinaries
    let state: ChurnState
    let maxPodsPerHost: Int

    /// One step on `host`: a DEL owed first, else an ADD (below the cap, 60 %) or a DEL of a live pod.
    func step(host: Int, random: inout ChaosRandom) {
        let snapshot = state.snapshot
        if let owed = snapshot.toDelete.values.filter({ $0.host == host && !snapshot.inFlight.contains($0.containerID) })
            .min(by: { $0.name < $1.name }) {
            delete(owed)
            return
        }
        let live = snapshot.live.values.filter { $0.host == host && !snapshot.inFlight.contains($0.containerID) }.sorted { $0.name < $1.name }
        if live.count < maxPodsPerHost && (live.isEmpty || Double.random(in: 0..<1, using: &random) < 0.6) {
            add(host: host)
        } else if let pod = live.randomElement(using: &random) {
            delete(pod)
        }
    }

    /// A new pod on `host`: its namespace, then the ADD (a failed ADD is followed by a DEL, as the runtime does).
    @discardableResult
    func add(host: Int) -> ChurnState.Pod? {
        let number = state.state.withLock { state -> Int in
            state.counter += 1
            return state.counter
        }
        let node = record.hosts[host].node
        var pod = ChurnState.Pod(name: "chaos-\(host)-\(number)", host: host, node: node,
                                 namespace: LabNames.namespace(lab: record.name, "c\(host)-\(number)"),
                                 containerID: "chaos\(host)x\(number)x\(UUID().uuidString.prefix(6).lowercased())",
                                 delegated: number % 2 == 0)
        LabShell.ipIgnoringErrors("netns", "delete", pod.namespace)
        guard (try? LabShell.ip("netns", "add", pod.namespace)) != nil else { return nil }
        state.state.withLock {
            $0.existing[pod.name] = pod
            $0.inFlight.insert(pod.containerID)
        }
        state.publish()
        let start = ContinuousClock.now
        var failure = ""
        let output: String?
        do {
            output = try cni("ADD", pod)
        } catch {
            output = nil
            failure = Self.reason(error.description)
        }
        let seconds = Self.seconds(ContinuousClock.now - start)
        let addresses = output.flatMap { try? LabPods.addresses(in: $0, pod: pod.name) }
        pod.addresses = addresses ?? []
        state.state.withLock { state in
            if addresses != nil {
                state.live[pod.name] = pod
                state.figures.adds += 1
                state.figures.addSeconds.append(seconds)
            } else {
                state.toDelete[pod.name] = pod
                state.figures.addFailures += 1
                state.figures.addErrors[failure, default: 0] += 1
            }
            state.inFlight.remove(pod.containerID)
        }
        return addresses == nil ? nil : pod
    }

    /// DEL of a pod; done (the pod gone) only when the DEL succeeded.
    @discardableResult
    func delete(_ pod: ChurnState.Pod) -> Bool {
        state.state.withLock { $0.inFlight.insert(pod.containerID) }
        let done = (try? cni("DEL", pod)) != nil
        if done { LabShell.ipIgnoringErrors("netns", "delete", pod.namespace) }
        state.state.withLock { state in
            if done {
                state.live[pod.name] = nil
                state.existing[pod.name] = nil
                state.toDelete[pod.name] = nil
                state.figures.dels += 1
            } else {
                state.toDelete[pod.name] = pod
                state.figures.delFailures += 1
            }
            state.inFlight.remove(pod.containerID)
        }
        if done { state.publish() }
        return done
    }

    /// A CNI call for `pod` as its host's runtime makes it now (a host with hanging delegates finds the hanging
    /// `macvlan` first in CNI_PATH).
    func cni(_ command: String, _ pod: ChurnState.Pod) throws(LabError) -> String {
        var paths = binaries
        if state.state.withLock({ $0.hung.contains(pod.host) }) { paths.cniPath = hangDirectory + ":" + binaries.cniPath }
        return try LabPods.run(command, host: record.hosts[pod.host], namespace: pod.namespace, pod: pod.name, containerID: pod.containerID,
                               config: pod.delegated ? delegatedConfig : config, binaries: paths,
                               extra: ["MULTINIC_DELEGATE_TIMEOUT": String(Self.delegateTimeoutSeconds)])
    }

    /// The CNI error's `msg` with digits blurred, so that alike failures count together.
    static func reason(_ text: String) -> String {
        let json = text.firstIndex(of: "{").flatMap { try? JSONValue.parse(String(text[$0...])) }
        let message = json?.objectValue?["msg"]?.stringValue ?? text
        return String(String(message.map { $0.isNumber ? "#" : $0 }).prefix(160))
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
