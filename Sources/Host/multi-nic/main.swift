// multi-nic: the CNI plugin Multus runs for every pod of a MultiNIC network. Thin: read the environment and stdin,
// dispatch, print the result or the spec's error JSON, exit. Logs never go to stdout.
#if canImport(Glibc)
import Glibc
#endif
import MultiNICCNI

signal(SIGPIPE, SIG_IGN)
var input: [UInt8] = []
var chunk = [UInt8](repeating: 0, count: 65536)
while true {
    let count = read(0, &chunk, chunk.count)
    if count <= 0 { break }
    input += chunk[0..<count]
}
let variables = CNIProcessEnvironment.variables()
let socket = variables["MULTINIC_SOCKET"] ?? "/run/multinic/multi-nicd.sock"
let (output, code) = await CNIDispatcher.run(CNIEnvironment(variables: variables, stdin: input),
                                             handler: MultiNICHandler(defaultSocket: socket))
if !output.isEmpty { print(output) }
exit(code)
