import BenchFleet
import Foundation
import MultiNICController
import MultiNICCore
import MultiNICKube
import MultiNICOperator
import MultiNICPluginHost
import MultiNICRender
import Synchronization

/// The operator under measurement: in this process, or in a child (`--operator-process`) that reports its simulated
/// daemons' progress on stdout.
final class OperatorRun: Sendable {
    private let fleet: SimulatedFleet?
    private let task: Task<Void, Never>?
    private let child: Process?
    /// The child's last report: (every daemon complete, pool pushes, route pushes).
    private let reported = Mutex<(complete: Bool, pools: Int, routes: Int)>((false, 0, 0))

    private init(fleet: SimulatedFleet?, task: Task<Void, Never>?, child: Process?) {
        self.fleet = fleet
        self.task = task
        self.child = child
    }

    static func inProcess(client: KubeClient, plugins: String, count: Int, noCache: Bool) -> OperatorRun {
        let (controller, fleet) = OperatorChild.make(client: client, plugins: plugins, count: count, noCache: noCache)
        return OperatorRun(fleet: fleet, task: Task { await controller.run(workers: 8) }, child: nil)
    }

    static func child(_ process: Process, output: Pipe) -> OperatorRun {
        let run = OperatorRun(fleet: nil, task: nil, child: process)
        Thread {
            let handle = output.fileHandleForReading
            var pending = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { return }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: pending[..<newline], as: UTF8.self).split(separator: " ")
                    pending.removeSubrange(...newline)
                    if line.count == 4, line[0] == "fleet", let pools = Int(line[2]), let routes = Int(line[3]) {
                        run.reported.withLock { $0 = (line[1] == "complete", pools, routes) }
                    }
                }
            }
        }.start()
        return run
    }

    func complete(expectedRoutes: Int) async -> Bool {
        if let fleet { return await fleet.complete(expectedRoutes: expectedRoutes) }
        return reported.withLock { $0.complete }
    }

    func pushes() async -> (pools: Int, routes: Int) {
        if let fleet { return (await fleet.poolPushes, await fleet.routePushes) }
        return reported.withLock { ($0.pools, $0.routes) }
    }

    /// Peak resident memory (KiB) of the process the operator runs in.
    func peakKiB() -> Int {
        let path = child.map { "/proc/\($0.processIdentifier)/status" } ?? "/proc/self/status"
        let status = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }?.split(separator: " ").compactMap { Int($0) }.first ?? 0
    }

    func stop() {
        task?.cancel()
        if let child {
            child.terminate()
            child.waitUntilExit()
        }
    }
}

/// `kube-bench --operator-child <url> <token> <plugins> <count> <qps> <no-cache 0|1>`: the operator alone, printing
/// `fleet complete|pending <pool pushes> <route pushes>` every 100 ms.
enum OperatorChild {
    static func make(client: KubeClient, plugins: String, count: Int, noCache: Bool) -> (MultiNICController, SimulatedFleet) {
        let store = KubernetesStore(client: client, cached: noCache ? [] : KubernetesStore.controllerKinds)
        let fleet = SimulatedFleet(count: count)
        let loaded = PluginRegistry.load(directory: plugins)
        let controller = MultiNICController(store: store, fleet: fleet, renderer: NetworkRenderer(registry: loaded.registry),
                                            hostPeriod: .seconds(3600))
        return (controller, fleet)
    }

    static func spawn(url: String, token: String, plugins: String, count: Int, qps: Double, noCache: Bool) throws -> OperatorRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = ["--operator-child", url, token, plugins, String(count), String(qps), noCache ? "1" : "0"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        return OperatorRun.child(process, output: output)
    }

    static func run(_ arguments: [String]) async throws -> Never {
        guard let count = Int(arguments[3]), let qps = Double(arguments[4]) else { exit(2) }
        let client = KubeClient(config: KubeConfig(server: arguments[0], token: arguments[1].isEmpty ? nil : arguments[1]), qps: qps, burst: Int(max(qps * 2, 1)))
        let (controller, fleet) = make(client: client, plugins: arguments[2], count: count, noCache: arguments[5] == "1")
        let running = Task { await controller.run(workers: 8) }
        defer { running.cancel() }
        let expectedRoutes = (count - 1) * 2
        while true {
            let complete = await fleet.complete(expectedRoutes: expectedRoutes)
            let line = "fleet \(complete ? "complete" : "pending") \(await fleet.poolPushes) \(await fleet.routePushes)\n"
            FileHandle.standardOutput.write(Data(line.utf8))
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
