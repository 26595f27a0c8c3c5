// Package raw is a gRPC codec that passes message bytes through, and the few
// protobuf encoding helpers that PingService's messages need. With it the Go
// peers need no generated code: they speak ping.proto by hand.
package raw

import (
	"errors"
	"fmt"
)

// Frame is one message's bytes on the wire.
type Frame struct{ B []byte }

// Codec passes Frame bytes through. It registers as "proto", so that the
// content-type stays application/grpc. It satisfies both grpc.Codec (String)
// and encoding.Codec (Name).
type Codec struct{}

// Marshal returns the frame's bytes.
func (Codec) Marshal(v interface{}) ([]byte, error) {
	f, ok := v.(*Frame)
	if !ok {
		return nil, fmt.Errorf("raw codec: cannot marshal %T", v)
	}
	return f.B, nil
}

// Unmarshal stores a copy of the bytes in the frame.
func (Codec) Unmarshal(data []byte, v interface{}) error {
	f, ok := v.(*Frame)
	if !ok {
		return fmt.Errorf("raw codec: cannot unmarshal into %T", v)
	}
	f.B = append([]byte(nil), data...)
	return nil
}

// Name is the encoding.Codec name.
func (Codec) Name() string { return "proto" }

// String is the grpc.Codec name.
func (Codec) String() string { return "proto" }

// PingRequest is connectrpc.prometheus.test.v1.PingRequest.
type PingRequest struct {
	Value             string
	ResponseCount     int32
	ErrorCodeReturned uint32
	ThrowKind         int32
	SleepTimeMs       int32
	WaitForCancel     bool
	IgnoreCancel      bool
	ReadLimit         int32
}

// PingResponse is connectrpc.prometheus.test.v1.PingResponse.
type PingResponse struct {
	Value   string
	Counter int32
}

// Encode writes the request in protobuf binary form.
func (r *PingRequest) Encode() []byte {
	var b []byte
	b = str(b, 1, r.Value)
	b = varint(b, 2, uint64(int64(r.ResponseCount)))
	b = varint(b, 3, uint64(r.ErrorCodeReturned))
	b = varint(b, 4, uint64(int64(r.ThrowKind)))
	b = varint(b, 5, uint64(int64(r.SleepTimeMs)))
	b = boolean(b, 6, r.WaitForCancel)
	b = boolean(b, 7, r.IgnoreCancel)
	b = varint(b, 8, uint64(int64(r.ReadLimit)))
	return b
}

// Encode writes the response in protobuf binary form.
func (r *PingResponse) Encode() []byte {
	var b []byte
	b = str(b, 1, r.Value)
	b = varint(b, 2, uint64(int64(r.Counter)))
	return b
}

// DecodePingRequest reads a request; unknown fields are skipped.
func DecodePingRequest(b []byte) (*PingRequest, error) {
	r := &PingRequest{}
	err := fields(b, func(n int, v uint64, s []byte) {
		switch n {
		case 1:
			r.Value = string(s)
		case 2:
			r.ResponseCount = int32(v)
		case 3:
			r.ErrorCodeReturned = uint32(v)
		case 4:
			r.ThrowKind = int32(v)
		case 5:
			r.SleepTimeMs = int32(v)
		case 6:
			r.WaitForCancel = v != 0
		case 7:
			r.IgnoreCancel = v != 0
		case 8:
			r.ReadLimit = int32(v)
		}
	})
	return r, err
}

// DecodePingResponse reads a response; unknown fields are skipped.
func DecodePingResponse(b []byte) (*PingResponse, error) {
	r := &PingResponse{}
	err := fields(b, func(n int, v uint64, s []byte) {
		switch n {
		case 1:
			r.Value = string(s)
		case 2:
			r.Counter = int32(v)
		}
	})
	return r, err
}

func tag(b []byte, n int, wire uint64) []byte { return appendVarint(b, uint64(n)<<3|wire) }

func varint(b []byte, n int, v uint64) []byte {
	if v == 0 {
		return b
	}
	return appendVarint(tag(b, n, 0), v)
}

func boolean(b []byte, n int, v bool) []byte {
	if !v {
		return b
	}
	return varint(b, n, 1)
}

func str(b []byte, n int, s string) []byte {
	if s == "" {
		return b
	}
	b = appendVarint(tag(b, n, 2), uint64(len(s)))
	return append(b, s...)
}

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

var errTruncated = errors.New("raw: truncated protobuf message")

func readVarint(b []byte) (uint64, int, error) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * uint(i))
		if b[i] < 0x80 {
			return v, i + 1, nil
		}
	}
	return 0, 0, errTruncated
}

// fields calls f for each varint (v) or length-delimited (s) field.
func fields(b []byte, f func(n int, v uint64, s []byte)) error {
	for len(b) > 0 {
		t, k, err := readVarint(b)
		if err != nil {
			return err
		}
		b = b[k:]
		n := int(t >> 3)
		switch t & 7 {
		case 0:
			v, k, err := readVarint(b)
			if err != nil {
				return err
			}
			b = b[k:]
			f(n, v, nil)
		case 1:
			if len(b) < 8 {
				return errTruncated
			}
			b = b[8:]
		case 2:
			l, k, err := readVarint(b)
			if err != nil || uint64(len(b)-k) < l {
				return errTruncated
			}
			f(n, 0, b[k:k+int(l)])
			b = b[k+int(l):]
		case 5:
			if len(b) < 4 {
				return errTruncated
			}
			b = b[4:]
		default:
			return fmt.Errorf("raw: unsupported wire type %d", t&7)
		}
	}
	return nil
}
