// Command ping-server is a grpc-go server for all six PingService methods,
// instrumented with go-grpc-prometheus: the reference for what a Go server
// records. Each method behaves as test/support/ping-service.ts does (see the
// comments below for the few things Go cannot do alike). It serves gRPC (h2c)
// on -addr and the Prometheus exposition on http://-metrics/metrics, and
// prints "listening <grpc port> <metrics port>" once both listen.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
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

const service = "connectrpc.prometheus.test.v1.PingService"

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "gRPC listen address")
	metricsAddr := flag.String("metrics", "127.0.0.1:0", "metrics listen address")
	histogram := flag.Bool("histogram", false, "enable grpc_server_handling_seconds")
	initialize := flag.Bool("initialize", true, "grpc_prometheus.Register(server): InitializeMetrics, every series at zero")
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
	if *initialize {
		grpc_prometheus.Register(srv)
	}

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
	ServiceName: service,
	HandlerType: (*interface{})(nil),
	Methods: []grpc.MethodDesc{
		{MethodName: "PingEmpty", Handler: unary("PingEmpty", pingEmpty)},
		{MethodName: "Ping", Handler: unary("Ping", ping)},
		{MethodName: "PingError", Handler: unary("PingError", pingError)},
	},
	Streams: []grpc.StreamDesc{
		{StreamName: "PingList", Handler: pingList, ServerStreams: true},
		{StreamName: "PingClientStream", Handler: pingClientStream, ClientStreams: true},
		{StreamName: "PingStream", Handler: pingStream, ServerStreams: true, ClientStreams: true},
	},
	Metadata: "connectrpc/prometheus/test/v1/ping.proto",
}

// unary makes a grpc.MethodDesc handler, as protoc-gen-go-grpc generates it,
// around a function of the decoded request.
func unary(name string, f func(context.Context, *raw.PingRequest) (*raw.PingResponse, error)) func(interface{}, context.Context, func(interface{}) error, grpc.UnaryServerInterceptor) (interface{}, error) {
	return func(_ interface{}, ctx context.Context, dec func(interface{}) error, interceptor grpc.UnaryServerInterceptor) (interface{}, error) {
		var in raw.Frame
		if err := dec(&in); err != nil {
			return nil, err
		}
		handler := func(ctx context.Context, m interface{}) (interface{}, error) {
			req, err := raw.DecodePingRequest(m.(*raw.Frame).B)
			if err != nil {
				return nil, status.Error(codes.InvalidArgument, err.Error())
			}
			res, err := f(ctx, req)
			if err != nil {
				return nil, err
			}
			return &raw.Frame{B: res.Encode()}, nil
		}
		info := &grpc.UnaryServerInfo{FullMethod: "/" + service + "/" + name}
		return interceptor(ctx, &in, info, handler)
	}
}

func pingEmpty(context.Context, *raw.PingRequest) (*raw.PingResponse, error) {
	return &raw.PingResponse{Value: "empty", Counter: 1}, nil
}

func ping(ctx context.Context, req *raw.PingRequest) (*raw.PingResponse, error) {
	if err := behave(ctx, req); err != nil {
		return nil, err
	}
	return &raw.PingResponse{Value: req.Value, Counter: 1}, nil
}

// pingError answers with Empty, which is never sent: it always fails, with
// Unknown when the request names no code.
func pingError(ctx context.Context, req *raw.PingRequest) (*raw.PingResponse, error) {
	if err := behave(ctx, req); err != nil {
		return nil, err
	}
	if req.ErrorCodeReturned == 0 {
		req.ErrorCodeReturned = uint32(codes.Unknown)
	}
	return nil, failure(req)
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

// pingClientStream reads every request (or read_limit of them, from the
// first request), behaves as the last one asks and answers with the count.
func pingClientStream(_ interface{}, stream grpc.ServerStream) error {
	var last *raw.PingRequest
	count, limit := int32(0), int32(0)
	for {
		var in raw.Frame
		err := stream.RecvMsg(&in)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		req, err := raw.DecodePingRequest(in.B)
		if err != nil {
			return status.Error(codes.InvalidArgument, err.Error())
		}
		count++
		last = req
		if count == 1 {
			limit = req.ReadLimit
		}
		if limit > 0 && count >= limit {
			break
		}
	}
	value := ""
	if last != nil {
		if err := behave(stream.Context(), last); err != nil {
			return err
		}
		value = last.Value
	}
	return stream.SendMsg(&raw.Frame{B: (&raw.PingResponse{Value: value, Counter: count}).Encode()})
}

// pingStream echoes each request with its number, after behaving as it asks;
// it stops after read_limit requests (from the first request), if set.
func pingStream(_ interface{}, stream grpc.ServerStream) error {
	ctx := stream.Context()
	count, limit := int32(0), int32(0)
	for {
		var in raw.Frame
		err := stream.RecvMsg(&in)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		req, err := raw.DecodePingRequest(in.B)
		if err != nil {
			return status.Error(codes.InvalidArgument, err.Error())
		}
		count++
		if count == 1 {
			limit = req.ReadLimit
		}
		if req.ErrorCodeReturned != 0 || req.WaitForCancel || req.IgnoreCancel {
			if err := behave(ctx, req); err != nil {
				return err
			}
		}
		if err := sleep(ctx, req.SleepTimeMs); err != nil {
			return err
		}
		if err := stream.SendMsg(&raw.Frame{B: (&raw.PingResponse{Value: req.Value, Counter: count}).Encode()}); err != nil {
			return err
		}
		if limit > 0 && count >= limit {
			return nil
		}
	}
}

// behave waits and fails as the request asks, like test/support/ping-service.ts.
func behave(ctx context.Context, req *raw.PingRequest) error {
	if req.WaitForCancel {
		<-ctx.Done()
		return status.FromContextError(ctx.Err()).Err()
	}
	if req.IgnoreCancel {
		time.Sleep(time.Duration(req.SleepTimeMs) * time.Millisecond)
	} else if err := sleep(ctx, req.SleepTimeMs); err != nil {
		return err
	}
	if req.ErrorCodeReturned != 0 {
		return failure(req)
	}
	return nil
}

// failure is the error of error_code_returned. A throw_kind other than
// THROW_KIND_CONNECT_ERROR returns a plain Go error, which grpc-go sends (and
// go-grpc-prometheus records) as Unknown; Go has no thrown strings or
// undefined, so all three kinds are a plain error here.
func failure(req *raw.PingRequest) error {
	if req.ThrowKind != 0 {
		return errors.New("plain error for " + req.Value)
	}
	return status.Errorf(codes.Code(req.ErrorCodeReturned), "failing with %d", req.ErrorCodeReturned)
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
