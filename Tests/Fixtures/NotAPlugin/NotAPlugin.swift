/// A dynamic library that is not a MultiNIC plugin: it exports no `multinic_plugin_entry`.
public func notAPluginMarker() -> Int { 42 }
