#!/usr/bin/env python3
"""A kubelet PodResources server on grpcio (gRPC's C core) for topology-bench.

The kubelet serves PodResources from native code (Go); the lab's stand-in (`multinicctl lab kubelet`, grpc-swift)
spends about as much CPU per call as our client does, so a lookup measured only against it says more about the
stand-in than about the daemon. This server answers `v1.PodResourcesLister/Get` with the bytes of one serialized
`v1.GetPodResourcesResponse` that the bench wrote (no protobuf code here: the messages stay raw bytes).

Usage: podresources-grpcio-server.py <unix socket> <response file>
"""
import concurrent.futures
import os
import sys

import grpc


def main() -> None:
    socket_path, response_file = sys.argv[1], sys.argv[2]
    with open(response_file, "rb") as handle:
        response = handle.read()

    def get(_request: bytes, _context: grpc.ServicerContext) -> bytes:
        return response

    handler = grpc.method_handlers_generic_handler(
        "v1.PodResourcesLister", {"Get": grpc.unary_unary_rpc_method_handler(get)})
    server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers((handler,))
    if os.path.exists(socket_path):
        os.remove(socket_path)
    server.add_insecure_port("unix:" + socket_path)
    server.start()
    server.wait_for_termination()


if __name__ == "__main__":
    main()
