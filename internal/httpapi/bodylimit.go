package httpapi

import "net/http"

// maxBodyBytes is the largest request body accepted.
const maxBodyBytes = 1 << 20

// limitBody refuses bodies over maxBodyBytes on every request that may carry
// one, whatever its route: at once when Content-Length says so, else while
// the body is read (readBody). GET and HEAD bodies are never read, so never
// refused.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		if r.ContentLength > maxBodyBytes {
			writeError(w, errTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		next.ServeHTTP(w, r)
	})
}
