// A process whose fuzz loop crashes (or hangs) at case 42 while a second loop, started after it, runs on another
// thread: for the test of the fuzz harness's reporter, which must name the crashing loop and its case, not the
// bystander's.
// Usage: FuzzCrashHelper crash|hang
import Foundation
import MultiNICTestSupport

let mode = CommandLine.arguments.dropFirst().first ?? "crash"
let bystanderRunning = DispatchSemaphore(value: 0)
let bystander = Thread {
    _ = FuzzHarness.run(kind: "bystander", seed: 1, cases: Int.max) { _, index in
        if index == 1 { bystanderRunning.signal() }
        usleep(1000)
        return nil
    }
}
let empty: [Int] = []
_ = FuzzHarness.run(kind: "demo", seed: 7, cases: 100, hangSeconds: 1) { _, index in
    if index == 0 {
        bystander.start()
        bystanderRunning.wait()
    }
    if index == 42 {
        if mode == "hang" {
            sleep(30)
        } else {
            _ = empty[index]  // out of range: a trap
        }
    }
    return nil
}
print("no crash")
