#!/bin/sh
# Installs the CNI binaries into the host's CNI bin dir (mounted at /host/opt/cni/bin), atomically, then runs
# multi-nicd with the arguments the DaemonSet gives.
set -eu
if [ -d /host/opt/cni/bin ]; then
  for binary in multi-nic multi-nic-ipam; do
    cp "/opt/multinic/cni/$binary" "/host/opt/cni/bin/.$binary.new"
    mv -f "/host/opt/cni/bin/.$binary.new" "/host/opt/cni/bin/$binary"
  done
fi
exec /opt/multinic/multi-nicd --plugins-dir /opt/multinic/plugins.d "$@"
