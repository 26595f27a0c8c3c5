// Command ping-client is a grpc-go client for PingService.
//
// By default it makes PingList calls that it cancels after reading a given
// number of messages, as a Go program does when it stops reading and cancels
// its context: -calls calls, -concurrency at a time, on one connection, and
// prints one JSON line: the status codes it saw and how many messages it read.
// With -v it also prints one line per call to stderr.
//
// With -script it reads a JSON list of calls of any method from stdin (see
// scriptCall in script.go), makes them one after the other on one
// connection, and prints one JSON line with each call's code and messages.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	"pingpeer/raw"
)

const listMethod = "/connectrpc.prometheus.test.v1.PingService/PingList"

type summary struct {
	Calls    int            `json:"calls"`
	Codes    map[string]int `json:"codes"`
	Messages map[int]int    `json:"messages"`
	Seconds  float64        `json:"seconds"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "server host:port (h2c)")
	calls := flag.Int("calls", 1, "how many PingList calls")
	concurrency := flag.Int("concurrency", 1, "calls in flight at a time")
	responses := flag.Int("responses", 10, "PingRequest.response_count")
	sleepMs := flag.Int("sleep", 0, "PingRequest.sleep_time_ms")
	cancelAfter := flag.Int("cancel-after", 3, "cancel the call after reading this many messages (0: never)")
	waitForCancel := flag.Bool("wait-for-cancel", false, "PingRequest.wait_for_cancel")
	value := flag.String("value", "go", "PingRequest.value")
	valueBytes := flag.Int("value-bytes", 0, "if set, PingRequest.value is this many 'x' (the server echoes it in every response)")
	verbose := flag.Bool("v", false, "one line per call on stderr")
	linger := flag.Duration("linger", 0, "wait this long after the last call before closing the connection and exiting")
	script := flag.Bool("script", false, "read a JSON list of calls from stdin and make them in order")
	flag.Parse()

	conn, err := grpc.Dial(*addr, grpc.WithInsecure(), grpc.WithBlock(),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(raw.Codec{})))
	if err != nil {
		fmt.Fprintln(os.Stderr, "ping-client: dial:", err)
		os.Exit(2)
	}
	defer conn.Close()

	if *script {
		if err := runScript(conn, os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "ping-client:", err)
			os.Exit(2)
		}
		return
	}

	if *valueBytes > 0 {
		*value = strings.Repeat("x", *valueBytes)
	}
	req := (&raw.PingRequest{
		Value:         *value,
		ResponseCount: int32(*responses),
		SleepTimeMs:   int32(*sleepMs),
		WaitForCancel: *waitForCancel,
	}).Encode()

	s := summary{Calls: *calls, Codes: map[string]int{}, Messages: map[int]int{}}
	var mu sync.Mutex
	work := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < *concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				code, n := call(conn, req, *cancelAfter)
				mu.Lock()
				s.Codes[code]++
				s.Messages[n]++
				mu.Unlock()
				if *verbose {
					fmt.Fprintf(os.Stderr, "call %d: %s after %d messages\n", i, code, n)
				}
			}
		}()
	}
	for i := 0; i < *calls; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	s.Seconds = time.Since(start).Seconds()
	out, _ := json.Marshal(s)
	fmt.Println(string(out))
	time.Sleep(*linger)
}

// call makes one PingList call and returns the status code it ended with and
// the number of messages it read.
func call(conn *grpc.ClientConn, req []byte, cancelAfter int) (string, int) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, listMethod)
	if err != nil {
		return status.Code(err).String(), 0
	}
	if err := stream.SendMsg(&raw.Frame{B: req}); err != nil && err != io.EOF {
		return status.Code(err).String(), 0
	}
	if err := stream.CloseSend(); err != nil {
		return status.Code(err).String(), 0
	}
	n := 0
	for {
		var f raw.Frame
		err := stream.RecvMsg(&f)
		if err == io.EOF {
			return "OK", n
		}
		if err != nil {
			return status.Code(err).String(), n
		}
		if _, err := raw.DecodePingResponse(f.B); err != nil {
			return "bad-message", n
		}
		n++
		if cancelAfter > 0 && n == cancelAfter {
			cancel()
		}
	}
}
