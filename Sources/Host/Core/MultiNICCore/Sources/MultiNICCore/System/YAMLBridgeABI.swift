/// The contract between a program and the YAML bridge, `libmultinic-yaml.so`: a small library that turns YAML text
/// into JSON text, for programs that must not carry a YAML parser (and the Foundation it needs) in their own image.
/// multi-nicd opens it only when it reads a YAML kubeconfig; JSON needs no bridge.
///
/// The library exports one C symbol, ``entrySymbol``, of type ``YAMLBridgeFunction``:
/// `multinic_yaml_to_json(hostABI, yaml, &bridgeABI, &output) -> status`. The bridge always writes its own
/// ``version`` to `bridgeABI` and does nothing else when the caller's differs (status ``Status/abiMismatch``).
/// Otherwise `output` receives a `malloc`ed NUL-terminated string the caller frees with `free`: the JSON text
/// (``Status/converted``) or why the YAML was refused (``Status/refused``).
public enum YAMLBridgeABI {
    /// Bumped whenever the function's signature, statuses or the JSON it produces change incompatibly.
    /// Emitted into the caller, so each side reports the version it was compiled with.
    @_alwaysEmitIntoClient public static var version: UInt32 { 1 }

    /// The one symbol the bridge exports.
    public static let entrySymbol = "multinic_yaml_to_json"

    /// The library's file name (SwiftPM's name for the `multinic-yaml` product), looked for next to the executable.
    public static let libraryName = "libmultinic-yaml.so"

    /// What the entry function returns.
    public enum Status: Int32, Sendable {
        /// `output` holds the JSON text of the (single) YAML document.
        case converted = 0
        /// `output` holds why the text is not YAML the bridge converts (with its line and column when known).
        case refused = 1
        /// The caller was built for another ``version``: nothing was read or written but `bridgeABI`.
        case abiMismatch = 2
    }
}

/// `multinic_yaml_to_json(hostABI, yaml, &bridgeABI, &output) -> YAMLBridgeABI.Status.rawValue`.
public typealias YAMLBridgeFunction = @convention(c) (
    UInt32, UnsafePointer<CChar>?, UnsafeMutablePointer<UInt32>?, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32
