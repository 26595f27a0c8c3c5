// Command ping-server is a grpc-go server for PingService.Ping and PingList,
// instrumented with go-grpc-prometheus: the reference for what a Go server
// records. It serves gRPC (h2c) on -addr and the Prometheus exposition on
// http://-metrics/metrics, and prints "listening <grpc port> <metrics port>"
// once both listen.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	grpc_prometheus "github.com/grpc-ecosystem/go-grpc-prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"pingpeer/raw"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "gRPC listen address")
	metricsAddr := flag.String("metrics", "127.0.0.1:0", "metrics listen address")
	histogram := flag.Bool("histogram", false, "enable grpc_server_handling_seconds")
	flag.Parse()

	if *histogram {
		grpc_prometheus.EnableHandlingTimeHistogram()
	}
	srv := grpc.NewServer(
		grpc.CustomCodec(raw.Codec{}),
		grpc.UnaryInterceptor(grpc_prometheus.UnaryServerInterceptor),
		grpc.StreamInterceptor(grpc_prometheus.StreamServerInterceptor),
	)
	srv.RegisterService(&serviceDesc, struct{}{})
	grpc_prometheus.Register(srv)

	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ping-server:", err)
		os.Exit(2)
	}
	mlis, err := net.Listen("tcp", *metricsAddr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ping-server:", err)
		os.Exit(2)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.Handler())
	go func() { _ = http.Serve(mlis, mux) }()
	fmt.Printf("listening %d %d\n", lis.Addr().(*net.TCPAddr).Port, mlis.Addr().(*net.TCPAddr).Port)
	if err := srv.Serve(lis); err != nil {
		fmt.Fprintln(os.Stderr, "ping-server:", err)
		os.Exit(1)
	}
}

var serviceDesc = grpc.ServiceDesc{
	ServiceName: "connectrpc.prometheus.test.v1.PingService",
	HandlerType: (*interface{})(nil),
	Methods:     []grpc.MethodDesc{{MethodName: "Ping", Handler: ping}},
	Streams: []grpc.StreamDesc{
		{StreamName: "PingList", Handler: pingList, ServerStreams: true},
	},
	Metadata: "connectrpc/prometheus/test/v1/ping.proto",
}

func ping(_ interface{}, ctx context.Context, dec func(interface{}) error, interceptor grpc.UnaryServerInterceptor) (interface{}, error) {
	var in raw.Frame
	if err := dec(&in); err != nil {
		return nil, err
	}
	handler := func(ctx context.Context, m interface{}) (interface{}, error) {
		req, err := raw.DecodePingRequest(m.(*raw.Frame).B)
		if err != nil {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
		if err := behave(ctx, req); err != nil {
			return nil, err
		}
		return &raw.Frame{B: (&raw.PingResponse{Value: req.Value, Counter: 1}).Encode()}, nil
	}
	info := &grpc.UnaryServerInfo{FullMethod: "/connectrpc.prometheus.test.v1.PingService/Ping"}
	return interceptor(ctx, &in, info, handler)
}

func pingList(_ interface{}, stream grpc.ServerStream) error {
	var in raw.Frame
	if err := stream.RecvMsg(&in); err != nil {
		return err
	}
	req, err := raw.DecodePingRequest(in.B)
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	ctx := stream.Context()
	for i := int32(0); i < req.ResponseCount; i++ {
		if err := sleep(ctx, req.SleepTimeMs); err != nil {
			return err
		}
		out := &raw.Frame{B: (&raw.PingResponse{Value: req.Value, Counter: i}).Encode()}
		if err := stream.SendMsg(out); err != nil {
			return err
		}
	}
	req.SleepTimeMs = 0
	return behave(ctx, req)
}

// behave waits and fails as the request asks, like test/support/ping-service.ts.
func behave(ctx context.Context, req *raw.PingRequest) error {
	if req.WaitForCancel {
		<-ctx.Done()
		return status.FromContextError(ctx.Err()).Err()
	}
	if err := sleep(ctx, req.SleepTimeMs); err != nil {
		return err
	}
	if req.ErrorCodeReturned != 0 {
		return status.Errorf(codes.Code(req.ErrorCodeReturned), "failing with %d", req.ErrorCodeReturned)
	}
	return nil
}

func sleep(ctx context.Context, ms int32) error {
	if ms <= 0 {
		return nil
	}
	t := time.NewTimer(time.Duration(ms) * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return status.FromContextError(ctx.Err()).Err()
	}
}
