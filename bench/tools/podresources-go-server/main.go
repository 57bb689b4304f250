// A kubelet PodResources server on grpc-go, the library the kubelet serves PodResources with, for topology-bench.
//
// It answers v1.PodResourcesLister/Get with the bytes of one serialized v1.GetPodResourcesResponse that the bench
// wrote; the messages stay raw bytes (a pass-through codec under the name "proto"), so no generated code is needed.
// Built by bench/run with Debian's golang-go and golang-google-grpc-dev (GOPATH mode, no module download).
//
// Usage: podresources-go-server <unix socket> <response file>
package main

import (
	"context"
	"fmt"
	"io/ioutil"
	"net"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
)

// rawCodec passes message bytes through unchanged.
type rawCodec struct{}

func (rawCodec) Marshal(v interface{}) ([]byte, error) {
	bytes, ok := v.(*[]byte)
	if !ok {
		return nil, fmt.Errorf("raw codec: %T is not *[]byte", v)
	}
	return *bytes, nil
}

func (rawCodec) Unmarshal(data []byte, v interface{}) error {
	bytes, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("raw codec: %T is not *[]byte", v)
	}
	*bytes = append((*bytes)[:0], data...)
	return nil
}

func (rawCodec) Name() string { return "proto" }

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: podresources-go-server <unix socket> <response file>")
		os.Exit(2)
	}
	socketPath, responseFile := os.Args[1], os.Args[2]
	response, err := ioutil.ReadFile(responseFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	encoding.RegisterCodec(rawCodec{})
	get := func(_ interface{}, _ context.Context, decode func(interface{}) error, _ grpc.UnaryServerInterceptor) (interface{}, error) {
		var request []byte
		if err := decode(&request); err != nil {
			return nil, err
		}
		answer := response
		return &answer, nil
	}
	// Default options, as the kubelet's PodResources server: flow-control windows sized by BDP probing (a PING
	// with each call).
	server := grpc.NewServer()
	server.RegisterService(&grpc.ServiceDesc{
		ServiceName: "v1.PodResourcesLister",
		HandlerType: (*interface{})(nil),
		Methods:     []grpc.MethodDesc{{MethodName: "Get", Handler: get}},
	}, struct{}{})
	os.Remove(socketPath)
	listener, err := net.Listen("unix", socketPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := server.Serve(listener); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
