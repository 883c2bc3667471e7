package auth

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The one email rule of the service. Login, createsuperuser, the Django
// import and the OpenAPI document all use it: the document's LoginRequest
// email pattern is EmailPattern itself (a test holds them together), so
// what the request validator accepts is exactly what ValidEmail accepts.

// EmailPattern is a valid address as typed: one @ between two non-empty runs
// without @, white space or control characters, with surrounding spaces
// allowed (they are trimmed). Deliberately loose: deliverability is not the
// service's to judge. Control characters (C0 and DEL) are refused anywhere,
// as in every string the service takes.
const EmailPattern = `^ *[^@\s\x00-\x1F\x7F]+@[^@\s\x00-\x1F\x7F]+ *$`

// MaxEmailLength is the longest address accepted, in characters (RFC 5321's
// path limit less the angle brackets).
const MaxEmailLength = 254

var emailRE = regexp.MustCompile(EmailPattern)

// emailSpace is what EmailPattern allows around an address.
const emailSpace = " "

// ValidEmail reports whether s is an address the service accepts.
func ValidEmail(s string) bool {
	return utf8.RuneCountInString(s) <= MaxEmailLength && emailRE.MatchString(s)
}

// TrimEmail removes the spaces EmailPattern allows around an address:
// the form in which an address is stored and shown.
func TrimEmail(s string) string { return strings.Trim(s, emailSpace) }

// EmailKey is the form in which addresses are compared: two addresses are
// one account when their keys are equal. It trims (TrimEmail), composes
// (Unicode NFC, so that "é" typed as one code point or as "e" and a combining
// accent is the same letter) and lower-cases with Unicode's simple case
// mapping, so "Élodie@Example.com" and "élodie@example.com" are one account.
// It is computed here, never by SQL, so that PostgreSQL and SQLite agree
// whatever their collation.
func EmailKey(s string) string {
	return strings.ToLower(norm.NFC.String(TrimEmail(s)))
}
