package httpapi

import "net/http"

// maxHeaderBytes is the most request-line and header bytes a request may
// carry: a long bearer token (8 KiB at most, as the spec bounds tokens) and
// ordinary headers fit easily. The server's own limit (http.Server's
// MaxHeaderBytes, set higher by serve) only catches what is far beyond it,
// so that the usual oversized request is answered here, in JSON.
const maxHeaderBytes = 16 << 10

// limitHeaders answers 431 in the Error schema to a request whose request
// line and headers exceed maxHeaderBytes, counted as they were sent.
func limitHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + len("  \r\n") + len("Host: \r\n") + len(r.Host)
		for name, values := range r.Header {
			for _, v := range values {
				n += len(name) + len(": \r\n") + len(v)
			}
		}
		if n > maxHeaderBytes {
			writeError(w, errHeadersTooLarge)
			return
		}
		next.ServeHTTP(w, r)
	})
}
