import MultiNICCore

extension ManifestDocument {
    /// Checks the document as the resource its `kind` names: a MultiNicNetwork is fully validated (unknown
    /// `spec` keys become warnings); other MultiNIC kinds must decode. Unknown kinds are errors.
    public func validate() -> ValidationReport {
        do {
            switch kind {
            case MultiNicNetworkSpec.kind:
                return NetworkValidator.validate(try decode(MultiNicNetwork.self), specKeys: specKeys)
            case HostInterfaceSpec.kind: _ = try decode(HostInterface.self)
            case CIDRSpec.kind: _ = try decode(CIDR.self)
            case IPPoolSpec.kind: _ = try decode(IPPool.self)
            case DeviceClassSpec.kind: _ = try decode(DeviceClass.self)
            case ConfigSpec.kind: _ = try decode(Config.self)
            case NetworkAttachmentDefinitionSpec.kind: _ = try decode(NetworkAttachmentDefinition.self)
            case nil:
                return ValidationReport(errors: [FieldIssue("kind", "is required")])
            case let other?:
                return ValidationReport(errors: [FieldIssue("kind", "\"\(other)\" is not a MultiNIC resource kind")])
            }
            return ValidationReport()
        } catch {
            if case .invalid(_, let issues) = error { return ValidationReport(errors: issues) }
            return ValidationReport(errors: [FieldIssue("(document)", error.description)])
        }
    }
}
