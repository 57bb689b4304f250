/// A plugin as a library built against another SDK version would look: it reports ABI 999 and, the host's version
/// being different, hands over nothing.
@_cdecl("multinic_plugin_entry")
public func multinicPluginEntry(_ hostABI: UInt32, _ pluginABI: UnsafeMutablePointer<UInt32>?) -> UnsafeMutableRawPointer? {
    pluginABI?.pointee = 999
    return nil
}
