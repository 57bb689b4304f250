#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MultiNICCore

/// The YAML bridge library (`libmultinic-yaml.so`, see ``YAMLBridgeABI``), opened with dlopen on first use: YAML text
/// in, JSON text out. Programs that must stay small (multi-nicd) do not link a YAML parser; they load this only when
/// they meet YAML. The library is found next to the executable, then in /opt/multinic, and must pass the same trust
/// checks as a plugin (a regular file owned by root or this user, not writable by group or others).
public struct YAMLBridge: Sendable {
    /// The library's path.
    public let path: String
    private let entry: Entry

    /// A C function pointer, immutable once resolved.
    private struct Entry: @unchecked Sendable {
        let function: YAMLBridgeFunction
    }

    /// Where the library is looked for, in order.
    public static func defaultCandidates() -> [String] {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        var candidates: [String] = []
        if length > 0 {
            let executable = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let directory = executable.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
            candidates.append(directory + "/" + YAMLBridgeABI.libraryName)
        }
        candidates.append("/opt/multinic/" + YAMLBridgeABI.libraryName)
        return candidates
    }

    /// The library at the first of ``defaultCandidates()`` that exists, opened once per process.
    public static func shared() throws(YAMLBridgeError) -> YAMLBridge {
        try sharedResult.get()
    }

    private static let sharedResult: Result<YAMLBridge, YAMLBridgeError> = {
        let candidates = defaultCandidates()
        guard let path = candidates.first(where: { access($0, F_OK) == 0 }) else {
            return .failure(.notFound(tried: candidates))
        }
        return Result { () throws(YAMLBridgeError) in try open(path) }
    }()

    /// Opens the library at `path` (trust-checked like a plugin) and checks its ABI version.
    public static func open(_ path: String) throws(YAMLBridgeError) -> YAMLBridge {
        do {
            try PluginLoader.checkTrusted(path)
        } catch {
            throw .unusable(error)
        }
        // RTLD_NODELETE, never closed: the function pointer stays valid for the life of the process.
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            throw .unusable(.openFailed(path: path, reason: dlerror().map { String(cString: $0) } ?? "unknown dlopen error"))
        }
        guard let symbol = dlsym(handle, YAMLBridgeABI.entrySymbol) else { throw .notABridge(path: path) }
        let function = unsafeBitCast(symbol, to: YAMLBridgeFunction.self)
        // A call without text: the bridge reports its version and, when it matches, refuses the missing text.
        var bridgeABI: UInt32 = 0
        var output: UnsafeMutablePointer<CChar>?
        _ = function(YAMLBridgeABI.version, nil, &bridgeABI, &output)
        free(output)
        guard bridgeABI == YAMLBridgeABI.version else {
            throw .abiMismatch(path: path, bridge: bridgeABI, host: YAMLBridgeABI.version)
        }
        return YAMLBridge(path: path, entry: Entry(function: function))
    }

    /// The JSON text of the one YAML document in `yaml`.
    public func json(fromYAML yaml: String) throws(YAMLBridgeError) -> String {
        guard !yaml.utf8.contains(0) else { throw .refused("the text contains a NUL byte") }
        var bridgeABI: UInt32 = 0
        var output: UnsafeMutablePointer<CChar>?
        let status = yaml.withCString { entry.function(YAMLBridgeABI.version, $0, &bridgeABI, &output) }
        defer { free(output) }
        let text = output.map { String(cString: $0) } ?? ""
        switch YAMLBridgeABI.Status(rawValue: status) {
        case .converted?: return text
        case .refused?: throw .refused(text)
        case .abiMismatch?: throw .abiMismatch(path: path, bridge: bridgeABI, host: YAMLBridgeABI.version)
        case nil: throw .refused("the bridge returned an unknown status \(status)")
        }
    }
}

/// Why YAML could not be turned into JSON.
public enum YAMLBridgeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No library at any of the places looked at.
    case notFound(tried: [String])
    /// The file is not trusted or dlopen refused it.
    case unusable(PluginHostError)
    /// The library has no `multinic_yaml_to_json` symbol.
    case notABridge(path: String)
    /// The library was built for another bridge ABI version.
    case abiMismatch(path: String, bridge: UInt32, host: UInt32)
    /// The text is not YAML the bridge converts (the bridge's message: what and where).
    case refused(String)

    public var description: String {
        switch self {
        case .notFound(let tried):
            "reading YAML needs \(YAMLBridgeABI.libraryName), not found (tried \(tried.joined(separator: ", "))); "
                + "install it next to the executable, or give the file as JSON"
        case .unusable(let error): "cannot load the YAML bridge: \(error)"
        case .notABridge(let path): "\(path) is not the YAML bridge (no \(YAMLBridgeABI.entrySymbol) symbol)"
        case .abiMismatch(let path, let bridge, let host):
            "\(path) was built for YAML bridge ABI \(bridge), this program for \(host): install the matching build"
        case .refused(let reason): "not valid YAML: \(reason)"
        }
    }
}
