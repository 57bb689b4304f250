/// A plugin as a library built against another SDK version would look: it reports a stamp of ABI 3 (an older SDK)
/// and, the host's being different, hands over nothing.
@_cdecl("multinic_plugin_entry")
public func multinicPluginEntry(_ hostABI: UInt32, _ pluginABI: UnsafeMutablePointer<UInt32>?) -> UnsafeMutableRawPointer? {
    pluginABI?.pointee = 3 << 24 | 0x00c0ffee
    return nil
}
