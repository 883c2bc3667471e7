package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/ecommerce/auth-service/gen/oapi"
)

// JSONServerErrors wraps the listener a server serves the handler on, so
// that the few answers net/http writes by itself, before any handler runs,
// are in the Error schema too: 400 for a request it cannot parse (a control
// character in a header, a missing Host, a malformed request line) and 431
// for headers beyond http.Server's MaxHeaderBytes. net/http writes each of
// them whole, in one Write on the connection, in a fixed form (status line,
// Content-Type: text/plain, Connection: close, the status as the body),
// which no response of a handler has: net/http adds Date and Content-Length
// to those.
func JSONServerErrors(ln net.Listener) net.Listener { return jsonErrorListener{ln} }

type jsonErrorListener struct{ net.Listener }

func (l jsonErrorListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return jsonErrorConn{c}, nil
}

type jsonErrorConn struct{ net.Conn }

func (c jsonErrorConn) Write(p []byte) (int, error) {
	rewritten, ok := rewriteServerError(p)
	if !ok {
		return c.Conn.Write(p)
	}
	if _, err := c.Conn.Write(rewritten); err != nil {
		return 0, err
	}
	return len(p), nil
}

// serverErrorHeaders are the headers net/http gives its own error answers.
const serverErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// serverErrorRows are the rows of errorTable net/http's own answers become,
// by status; other statuses (501 for an unknown transfer encoding) are left
// as they are.
var serverErrorRows = map[int]error{
	http.StatusBadRequest:                  errParse,
	http.StatusRequestHeaderFieldsTooLarge: errHeadersTooLarge,
}

// rewriteServerError returns p, one of net/http's own error answers, as the
// same answer with a JSON Error body; ok is false for anything else.
func rewriteServerError(p []byte) ([]byte, bool) {
	rest, ok := bytes.CutPrefix(p, []byte("HTTP/1."))
	if !ok || len(rest) < len("1 400 ") {
		return nil, false
	}
	// Every response starts so: look no further than its status unless it
	// is one rewritten, since this runs on every response written.
	if !bytes.HasPrefix(rest[2:], []byte("400 ")) && !bytes.HasPrefix(rest[2:], []byte("431 ")) {
		return nil, false
	}
	statusLine, body, ok := bytes.Cut(rest[2:], []byte(serverErrorHeaders))
	if !ok || !bytes.Equal(statusLine, body) {
		return nil, false
	}
	code, err := strconv.Atoi(string(statusLine[:min(3, len(statusLine))]))
	if err != nil {
		return nil, false
	}
	target, ok := serverErrorRows[code]
	if !ok {
		return nil, false
	}
	row := rowOf(target)
	answer := oapi.Error{Code: row.code, Detail: row.detail}
	// net/http says why after the status ("400 Bad Request: missing
	// required Host header"): the client is told.
	if _, why, found := strings.Cut(string(body), ": "); found && code == http.StatusBadRequest {
		answer.Detail = "The request could not be parsed: " + why + "."
	}
	data, err := json.Marshal(answer)
	if err != nil {
		return nil, false
	}
	return fmt.Appendf(nil, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		code, http.StatusText(code), len(data), data), true
}
