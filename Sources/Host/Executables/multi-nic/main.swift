// multi-nic: the CNI plugin Multus runs for every pod of a MultiNIC network. Thin: everything is in MultiNICCNI.
// Logs go to /var/log/multi-nic-cni.log (or MULTINIC_CNI_LOG from the environment; never a path from the NetConf), never to stdout.
import MultiNICCNI

CNIProcess.main(binary: "multi-nic", defaultLogFile: "/var/log/multi-nic-cni.log") {
    MultiNICHandler(defaultSocket: $0, defaultStateDirectory: $1)
}
