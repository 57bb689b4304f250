import MultiNICCore

/// The calls the CNI binaries make: one typed method per daemon path, so no caller names a path or an answer type.
extension DaemonClient {
    /// `POST /attach`: the NICs of a multi-NIC ADD, in attachment order, with their addresses and delegate configs.
    public func attach(_ request: AttachRequest) throws(DaemonClientError) -> [AttachedNIC] {
        try post(DaemonAPI.attachPath, request, as: AttachResponse.self).nics
    }

    /// `POST /detach`: releases an attachment and names the NICs to remove.
    public func detach(_ request: DetachRequest) throws(DaemonClientError) -> [AttachedNIC] {
        try post(DaemonAPI.detachPath, request, as: AttachResponse.self).nics
    }

    /// `POST /allocate` (upstream's IPAM call): one address per master.
    public func allocate(_ request: AllocateRequest) throws(DaemonClientError) -> [IPAllocation] {
        try post(DaemonAPI.allocatePath, request, as: [IPAllocation].self)
    }

    /// `POST /deallocate`: releases a container's addresses on a network.
    public func deallocate(_ request: AllocateRequest) throws(DaemonClientError) -> [IPAllocation] {
        try post(DaemonAPI.deallocatePath, request, as: [IPAllocation].self)
    }

    /// `POST /leases`: what the daemon holds for a container (CHECK).
    public func leases(_ query: LeaseQuery) throws(DaemonClientError) -> [IPAllocation] {
        try post(DaemonAPI.leasesPath, query, as: [IPAllocation].self)
    }

    /// `POST /gc` (CNI GC): releases everything of a network but the valid attachments.
    public func garbageCollect(_ request: GCRequest) throws(DaemonClientError) -> [IPAllocation] {
        try post(DaemonAPI.gcPath, request, as: [IPAllocation].self)
    }
}
