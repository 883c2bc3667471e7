// Package passwordpolicy decides whether a password may be chosen, after
// NIST SP 800-63B: long enough, not absurdly long, not a common or breached
// password, and not built on the account's own email address. There are no
// composition rules (no "one digit, one symbol"): they make passwords harder
// to remember without making them harder to guess.
//
// The policy applies where a password is chosen (sign-up, change, reset and
// the admin commands), never at login: existing passwords keep working.
package passwordpolicy

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Lengths are Unicode code points after NFKC normalization, so that a
// password counts the same however the keyboard composed it.
const (
	// DefaultMinLength is the minimum when none is configured.
	DefaultMinLength = 12
	// FloorMinLength is the lowest minimum a deployment may configure: NIST's
	// floor for a password that is the only factor.
	FloorMinLength = 8
	// MaxLength is the longest password accepted: long enough for any
	// passphrase or password manager (NIST asks for at least 64), short enough
	// that nobody sends a megabyte to the hasher.
	MaxLength = 128
	// minEmailPart is the shortest email local part that a password may not
	// contain: shorter ones ("jo") occur by chance in good passwords.
	minEmailPart = 3
	// minCommonCore is the shortest blocklisted word found inside digits and
	// symbols ("!!summer2024" → "summer") that refuses a password.
	minCommonCore = 4
	// maxRepeatedUnit is the longest unit whose repetition ("abcabcabcabc")
	// refuses a password whatever the unit is.
	maxRepeatedUnit = 3
)

// The reasons a password is refused; a *Refusal unwraps to one of them.
var (
	ErrTooShort   = errors.New("password too short")
	ErrTooLong    = errors.New("password too long")
	ErrTooCommon  = errors.New("password too common")
	ErrTooSimilar = errors.New("password contains the email address")
)

// Refusal is why a password was refused: Reason is one of the Err values,
// Message says it to the person who chose it.
type Refusal struct {
	Reason  error
	Message string
}

func (r *Refusal) Error() string { return "passwordpolicy: " + r.Message }
func (r *Refusal) Unwrap() error { return r.Reason }

// Policy is the configured policy.
type Policy struct {
	// MinLength is the minimum length in code points (DefaultMinLength if 0).
	MinLength int
}

// Check returns nil if pw may be the password of the account with this email,
// or a *Refusal saying why not. Checks run from the cheapest; the first
// failing one is reported.
func (p Policy) Check(pw, email string) error {
	minLen := p.MinLength
	if minLen == 0 {
		minLen = DefaultMinLength
	}
	normalized := norm.NFKC.String(pw)
	switch n := utf8.RuneCountInString(normalized); {
	case n < minLen:
		return &Refusal{ErrTooShort, fmt.Sprintf("This password is too short. It must contain at least %d characters.", minLen)}
	case n > MaxLength:
		return &Refusal{ErrTooLong, fmt.Sprintf("This password is too long. It must contain at most %d characters.", MaxLength)}
	}
	key := strings.ToLower(normalized)
	if containsEmailName(key, email) {
		return &Refusal{ErrTooSimilar, "This password contains the name part of the email address."}
	}
	if common(key) {
		return &Refusal{ErrTooCommon, "This password is too common."}
	}
	return nil
}

// containsEmailName reports whether key (a normalized, lower-cased password)
// contains the local part of email, or its part before a "+" sub-address,
// where that part has at least minEmailPart code points.
func containsEmailName(key, email string) bool {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return false
	}
	local := strings.ToLower(norm.NFKC.String(strings.TrimSpace(email[:at])))
	candidates := []string{local}
	if base, _, ok := strings.Cut(local, "+"); ok {
		candidates = append(candidates, base)
	}
	for _, c := range candidates {
		if utf8.RuneCountInString(c) >= minEmailPart && strings.Contains(key, c) {
			return true
		}
	}
	return false
}

// common reports whether key (normalized, lower-cased) is a common password
// or a thin disguise of one: a blocklisted password itself; one wrapped in
// digits and symbols ("password2024!"); a blocklisted password or a unit of
// at most maxRepeatedUnit characters repeated ("passwordpassword",
// "abcabcabcabc"); a run of consecutive characters ("123456789012").
func common(key string) bool {
	if Blocklisted(key) {
		return true
	}
	core := strings.TrimFunc(key, func(r rune) bool { return !unicode.IsLetter(r) })
	if core != key && utf8.RuneCountInString(core) >= minCommonCore && Blocklisted(core) {
		return true
	}
	if unit, ok := repeatedUnit(key); ok && (utf8.RuneCountInString(unit) <= maxRepeatedUnit || Blocklisted(unit)) {
		return true
	}
	return sequential(key)
}

// sequential reports whether key is one run of consecutive characters, up or
// down, digits wrapping around ("123456789012", "abcdefghijkl",
// "987654321098"): what NIST SP 800-63B names as sequential characters.
func sequential(key string) bool {
	runes := []rune(key)
	if len(runes) < 2 {
		return false
	}
	next := func(r rune, step rune) rune {
		switch {
		case step > 0 && r == '9':
			return '0'
		case step < 0 && r == '0':
			return '9'
		}
		return r + step
	}
	for _, step := range []rune{1, -1} {
		run := true
		for i := 1; i < len(runes) && run; i++ {
			run = runes[i] == next(runes[i-1], step)
		}
		if run {
			return true
		}
	}
	return false
}

// repeatedUnit returns the shortest unit that s is two or more copies of.
func repeatedUnit(s string) (string, bool) {
	for size := 1; size <= len(s)/2; size++ {
		if len(s)%size == 0 && strings.Repeat(s[:size], len(s)/size) == s && utf8.ValidString(s[:size]) {
			return s[:size], true
		}
	}
	return "", false
}
