#!/bin/sh
# Installs the CNI binaries into the host's CNI bin dir (mounted at /host/opt/cni/bin), atomically: each is written
# under a temporary name in that directory, made executable, then renamed over the old one, so a pod being attached
# while the daemon restarts runs either the old binary or the new one, never half of one. Then runs multi-nicd with
# the arguments the DaemonSet gives. MULTINIC_HOME and HOST_CNI_BIN_DIR exist for tests.
set -eu
home="${MULTINIC_HOME:-/opt/multinic}"
bin_dir="${HOST_CNI_BIN_DIR:-/host/opt/cni/bin}"
if [ -d "$bin_dir" ]; then
  for binary in multi-nic multi-nic-ipam; do
    temporary="$bin_dir/.$binary.new.$$"
    trap 'rm -f "$temporary"' EXIT
    cp "$home/cni/$binary" "$temporary"
    chmod 0755 "$temporary"
    mv -f "$temporary" "$bin_dir/$binary"
    trap - EXIT
  done
else
  echo "multi-nicd: $bin_dir is not mounted: the CNI binaries are not installed" >&2
fi
exec "$home/multi-nicd" --plugins-dir "$home/plugins.d" "$@"
