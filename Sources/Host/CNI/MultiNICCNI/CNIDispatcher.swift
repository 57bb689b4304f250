#if canImport(Glibc)
import Glibc
#endif
import MultiNICCore

/// What a CNI binary does per verb; VERSION is answered by the dispatcher itself.
public protocol CNIHandler: Sendable {
    /// ADD: returns the result to print (in the NetConf's version).
    func add(_ arguments: CNIArguments, stdin: [UInt8]) throws -> String
    /// DEL: nothing to print.
    func delete(_ arguments: CNIArguments, stdin: [UInt8]) throws
    func check(_ arguments: CNIArguments, stdin: [UInt8]) throws
    func status(_ arguments: CNIArguments, stdin: [UInt8]) throws
    func gc(_ arguments: CNIArguments, stdin: [UInt8]) throws
}

/// The one place where a CNI invocation turns into stdout text and an exit code: results on success, the spec's
/// error JSON (with the NetConf's cniVersion when readable) and exit 1 on failure. Nothing else writes stdout.
public enum CNIDispatcher {
    public static func run(_ environment: CNIEnvironment, handler: some CNIHandler) -> (stdout: String, exitCode: Int32) {
        do {
            let arguments = try CNIArguments(environment)
            switch arguments.command {
            case .version: return (CNIVersion.versionInfo, 0)
            case .add: return (try handler.add(arguments, stdin: environment.stdin), 0)
            case .del: try handler.delete(arguments, stdin: environment.stdin)
            case .check: try handler.check(arguments, stdin: environment.stdin)
            case .status: try handler.status(arguments, stdin: environment.stdin)
            case .gc: try handler.gc(arguments, stdin: environment.stdin)
            }
            return ("", 0)
        } catch let error as CNIError {
            return (error.json(cniVersion: requestedVersion(environment.stdin)), 1)
        } catch {
            return (CNIError(CNIError.internalError, "\(error)").json(cniVersion: requestedVersion(environment.stdin)), 1)
        }
    }

    /// The NetConf's cniVersion for the error JSON (only read when there is an error, so the success path parses
    /// stdin once); the latest version when stdin has no usable one.
    static func requestedVersion(_ stdin: [UInt8]) -> String {
        let version = (try? JSONValue.parse(String(decoding: stdin, as: UTF8.self)))?.objectValue?["cniVersion"]?.stringValue
        return version.flatMap { CNIVersion.supported.contains($0) ? $0 : nil } ?? CNIVersion.latest
    }
}

/// The whole life of a CNI binary's process: read stdin and the environment, dispatch, print the result or the
/// spec's error JSON, append one line to the log file, exit with the code.
public enum CNIProcess {
    /// `makeHandler` gets the daemon socket and the CNI state directory: `MULTINIC_SOCKET` and
    /// `MULTINIC_CNI_STATE_DIR` when set (several lab nodes on one machine), else the defaults.
    public static func main<Handler: CNIHandler>(binary: String, defaultLogFile: String,
                                                 handler makeHandler: (_ socket: String, _ stateDirectory: String) -> Handler) -> Never {
        signal(SIGPIPE, SIG_IGN)
        let started = InvocationLog.milliseconds()
        let environment = CNIEnvironment(variables: CNIProcessEnvironment.variables(), stdin: CNIProcessEnvironment.standardInput())
        let handler = makeHandler(environment.variables["MULTINIC_SOCKET"] ?? DaemonAPI.nodeSocket,
                                  environment.variables["MULTINIC_CNI_STATE_DIR"] ?? PendingReleases.defaultCNIStateDirectory)
        let (output, code) = CNIDispatcher.run(environment, handler: handler)
        if !output.isEmpty { print(output) }
        if environment.variables["CNI_COMMAND"] != CNICommand.version.rawValue {
            InvocationLog(binary: binary, defaultPath: defaultLogFile)
                .record(environment, stdout: output, exitCode: code, milliseconds: InvocationLog.milliseconds() - started)
        }
        exit(code)
    }
}
