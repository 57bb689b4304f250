// multi-nic-ipam: the node daemon's IPAM for a single standard plugin (`"ipam": {"type": "multi-nic-ipam"}`).
// Thin: everything is in MultiNICCNI. Logs go to /var/log/multi-nic-ipam.log (or MULTINIC_CNI_LOG), never to stdout.
import MultiNICCNI

CNIProcess.main(binary: "multi-nic-ipam", defaultLogFile: "/var/log/multi-nic-ipam.log") {
    MultiNICIPAMHandler(defaultSocket: $0, defaultStateDirectory: $1)
}
