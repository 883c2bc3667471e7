package load

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Conn is one persistent HTTP/1.1 connection to a server, used by one worker
// at a time. It writes prebuilt request bytes and parses the response with
// net/http's reader: no Transport, no per-connection goroutines, so that the
// load generator spends as little of the shared CPU as wrk would, while the
// parsing stays the standard library's.
type Conn struct {
	addr    string
	local   *net.TCPAddr // the address to dial from; nil: any
	timeout time.Duration
	// mu guards nc against abort, which another goroutine calls; Do, the only
	// writer, reads nc without it.
	mu      sync.Mutex
	nc      net.Conn
	aborted bool
	br      *bufio.Reader
	body    bytes.Buffer
	// Dials counts the connections opened, so that a server closing
	// keep-alive connections shows up in the report.
	Dials int
}

// NewConn returns a connection to addr (host:port) that dials on first use.
// Every request must complete within timeout.
func NewConn(addr string, timeout time.Duration) *Conn {
	return &Conn{addr: addr, timeout: timeout}
}

// NewConnFrom is NewConn dialling from the local address local: on loopback,
// any of 127.0.0.0/8, so that each connection is a client of its own.
func NewConnFrom(local *net.TCPAddr, addr string, timeout time.Duration) *Conn {
	return &Conn{addr: addr, local: local, timeout: timeout}
}

// Do sends req, a complete HTTP/1.1 request (see NewRequest), and reads the
// response. The returned body is valid until the next call. On any transport
// error the connection is closed, to be redialled by the next call.
func (c *Conn) Do(req []byte) (status int, body []byte, err error) {
	if c.nc == nil {
		d := net.Dialer{Timeout: c.timeout}
		if c.local != nil {
			d.LocalAddr = c.local
		}
		nc, err := d.Dial("tcp", c.addr)
		if err != nil {
			return 0, nil, err
		}
		c.mu.Lock()
		if c.aborted {
			c.mu.Unlock()
			nc.Close()
			return 0, nil, net.ErrClosed
		}
		c.nc, c.Dials = nc, c.Dials+1
		c.mu.Unlock()
		if c.br == nil {
			c.br = bufio.NewReaderSize(nc, 16<<10)
		} else {
			c.br.Reset(nc)
		}
	}
	if err := c.nc.SetDeadline(time.Now().Add(c.timeout)); err != nil {
		c.Close()
		return 0, nil, err
	}
	if _, err := c.nc.Write(req); err != nil {
		c.Close()
		return 0, nil, err
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		c.Close()
		return 0, nil, err
	}
	c.body.Reset()
	_, err = c.body.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		c.Close()
		return 0, nil, err
	}
	if resp.Close {
		c.Close()
	}
	return resp.StatusCode, c.body.Bytes(), nil
}

// Close closes the underlying connection, if open.
func (c *Conn) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nc != nil {
		c.nc.Close()
		c.nc = nil
	}
}

// abort closes the connection from another goroutine, making a Do in
// progress fail at once and later ones fail without dialling.
func (c *Conn) abort() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.aborted = true
	if c.nc != nil {
		c.nc.Close()
	}
}

// NewRequest returns the bytes of an HTTP/1.1 request for host. headers are
// name, value pairs; a non-nil body is sent as JSON with its Content-Length.
func NewRequest(method, path, host string, body []byte, headers ...string) []byte {
	if len(headers)%2 != 0 {
		panic("load.NewRequest: headers must be name, value pairs")
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: auth-bench\r\n", method, path, host)
	for i := 0; i < len(headers); i += 2 {
		b.WriteString(headers[i] + ": " + headers[i+1] + "\r\n")
	}
	if body != nil {
		b.WriteString("Content-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n")
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}
