import Foundation
import MultiNICTestSupport
import Testing

/// The fuzz harness's reporter, in a child process (a crash ends the process): a loop that traps, or runs over its
/// time, is named with its seed and case — while another loop runs on another thread, as the suites run in parallel.
@Suite struct FuzzHarnessTests {
    @Test(arguments: ["crash", "hang"]) func aCrashOrHangNamesItsLoopAndCase(mode: String) async throws {
        let helper = try BuiltPlugins.executable("FuzzCrashHelper")
        let (status, output) = try await CapturedRun.runDetached(helper, [mode])
        #expect(status != 0 && !output.contains("no crash"), "\(status) \(output)")
        let line = output.split(separator: "\n").first { $0.hasPrefix("fuzz \(mode): demo seed ") }
        #expect(line?.contains(", case 42") == true, "\(output)")
        #expect(!output.contains("fuzz \(mode): bystander"), "the bystander loop was blamed: \(output)")
    }

    /// Coverage counts accepted inputs and rejections by message, digits blurred, control characters shown as `?`.
    @Test func coverageCountsAcceptedAndRejectedCases() {
        let coverage = FuzzHarness.run(kind: "count", seed: 3, cases: 10) { _, index in
            index % 3 == 0 ? nil : index == 1 ? "bad\u{0}\n" : "bad \(index)"
        }
        #expect(coverage.cases == 10 && coverage.accepted == 4 && coverage.rejections == ["bad #": 5, "bad??": 1])
    }
}
