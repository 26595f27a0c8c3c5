package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"pingpeer/raw"
)

const service = "/connectrpc.prometheus.test.v1.PingService/"

// scriptCall is one call of a -script: the method's name and its requests, as
// JSON with PingRequest's field names in camelCase ({"value": "a",
// "errorCodeReturned": 5}). Unary methods and PingList send the first request
// (PingEmpty sends Empty); PingClientStream sends them all and then reads the
// response; PingStream sends one and reads one answer at a time, then closes
// its side and reads to the end.
type scriptCall struct {
	Method    string            `json:"method"`
	Requests  []raw.PingRequest `json:"requests"`
	TimeoutMs int               `json:"timeoutMs"`
}

// scriptResult is what one call ended with: its status code (grpc-go's
// codes.Code.String()) and how many response messages it read.
type scriptResult struct {
	Code     string `json:"code"`
	Messages int    `json:"messages"`
}

// runScript makes the calls that r lists, in order, and writes their results
// to w as one JSON line: {"results": [...]}.
func runScript(conn *grpc.ClientConn, r io.Reader, w io.Writer) error {
	var calls []scriptCall
	if err := json.NewDecoder(r).Decode(&calls); err != nil {
		return fmt.Errorf("script: %w", err)
	}
	results := make([]scriptResult, 0, len(calls))
	for _, c := range calls {
		ctx, cancel := context.Background(), context.CancelFunc(func() {})
		if c.TimeoutMs > 0 {
			ctx, cancel = context.WithTimeout(ctx, time.Duration(c.TimeoutMs)*time.Millisecond)
		}
		res, err := scriptOne(ctx, conn, c)
		cancel()
		if err != nil {
			return err
		}
		results = append(results, res)
	}
	return json.NewEncoder(w).Encode(struct {
		Results []scriptResult `json:"results"`
	}{results})
}

func scriptOne(ctx context.Context, conn *grpc.ClientConn, c scriptCall) (scriptResult, error) {
	first := raw.PingRequest{}
	if len(c.Requests) > 0 {
		first = c.Requests[0]
	}
	switch c.Method {
	case "PingEmpty", "Ping", "PingError":
		in := &raw.Frame{B: first.Encode()}
		if c.Method == "PingEmpty" {
			in.B = nil
		}
		var out raw.Frame
		if err := conn.Invoke(ctx, service+c.Method, in, &out); err != nil {
			return scriptResult{status.Code(err).String(), 0}, nil
		}
		return scriptResult{codes.OK.String(), 1}, nil
	case "PingList":
		return stream(ctx, conn, c.Method, grpc.StreamDesc{ServerStreams: true}, c.Requests[:1], false)
	case "PingClientStream":
		return stream(ctx, conn, c.Method, grpc.StreamDesc{ClientStreams: true}, c.Requests, false)
	case "PingStream":
		return stream(ctx, conn, c.Method, grpc.StreamDesc{ClientStreams: true, ServerStreams: true}, c.Requests, true)
	}
	return scriptResult{}, fmt.Errorf("script: unknown method %q", c.Method)
}

// stream sends the requests (with pingPong, reading one answer after each),
// closes its side and reads to the end.
func stream(ctx context.Context, conn *grpc.ClientConn, method string, desc grpc.StreamDesc, reqs []raw.PingRequest, pingPong bool) (scriptResult, error) {
	s, err := conn.NewStream(ctx, &desc, service+method)
	if err != nil {
		return scriptResult{status.Code(err).String(), 0}, nil
	}
	n := 0
	recv := func() error {
		var f raw.Frame
		if err := s.RecvMsg(&f); err != nil {
			return err
		}
		if _, err := raw.DecodePingResponse(f.B); err != nil {
			return status.Error(codes.Internal, "bad message")
		}
		n++
		return nil
	}
	for i := range reqs {
		if err := s.SendMsg(&raw.Frame{B: reqs[i].Encode()}); err != nil {
			// io.EOF: the server has ended the call; RecvMsg says how.
			break
		}
		if pingPong {
			if err := recv(); err != nil {
				return scriptResult{status.Code(err).String(), n}, nil
			}
		}
	}
	if err := s.CloseSend(); err != nil {
		return scriptResult{status.Code(err).String(), n}, nil
	}
	for {
		err := recv()
		if err == io.EOF {
			return scriptResult{codes.OK.String(), n}, nil
		}
		if err != nil {
			return scriptResult{status.Code(err).String(), n}, nil
		}
		if !desc.ServerStreams {
			// grpc-go's RecvMsg of a client stream's single response also
			// reads the end of the call.
			return scriptResult{codes.OK.String(), n}, nil
		}
	}
}
