package passwordpolicy

import (
	"errors"
	"strings"
	"testing"
)

func TestBlocklistIsLargeAndLoads(t *testing.T) {
	if n := len(blocklist()); n < 20000 {
		t.Fatalf("blocklist has %d entries, want at least 20,000", n)
	}
	for _, w := range []string{"password", "123456", "iloveyou", "qwertyuiop", "trustno1"} {
		if !Blocklisted(w) {
			t.Errorf("%q is not blocklisted", w)
		}
	}
	if Blocklisted("correct-horse-battery-staple-4729") {
		t.Error("a random passphrase is blocklisted")
	}
}

func TestCheck(t *testing.T) {
	p := Policy{MinLength: 12}
	const email = "Jane.Doe+shop@example.com"
	cases := []struct {
		pw   string
		want error
	}{
		{"correct horse battery staple", nil},
		{"tr0ub4dor&3-zebra", nil},
		{"short-pw", ErrTooShort},
		// 11 code points, although 22 bytes: length counts characters.
		{"ééééééééééé", ErrTooShort},
		// NFKC: the ligature "ﬀ" is two letters, so this is 12 long.
		{"ﬀﬀﬀﬀﬀﬀ", ErrTooCommon}, // "ffffffffffff": one unit repeated
		{strings.Repeat("x", MaxLength+1), ErrTooLong},
		{"qwertyuiopasdfgh", nil},
		{"PasswordPassword", ErrTooCommon},
		{"1qaz2wsx3edc4rfv", ErrTooCommon},
		{"iloveyou12345678", ErrTooCommon},
		{"!!Sunshine2024!!", ErrTooCommon},
		{"abcabcabcabcabc", ErrTooCommon},
		{"aaaaaaaaaaaaaaaa", ErrTooCommon},
		{"123456789012", ErrTooCommon},   // sequential, digits wrapping
		{"9876543210987", ErrTooCommon},  // and downwards
		{"abcdefghijklmn", ErrTooCommon}, // letters
		{"123456789013", nil},            // one step out of sequence

		{"my-JANE.DOE+shop-secret", ErrTooSimilar},
		{"jane.doe-rides-a-bike", ErrTooSimilar},
		{"ＪＡＮＥ.ＤＯＥ-rides-a-bike", ErrTooSimilar}, // full-width letters, NFKC
	}
	for _, c := range cases {
		err := p.Check(c.pw, email)
		if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("Check(%q) = %v, want %v", c.pw, err, c.want)
			continue
		}
		var r *Refusal
		if err != nil && (!errors.As(err, &r) || r.Message == "") {
			t.Errorf("Check(%q): %v is not a *Refusal with a message", c.pw, err)
		}
	}
	// A short local part does not count: "jo" occurs by chance.
	if err := p.Check("a-long-journey-home", "jo@example.com"); err != nil {
		t.Errorf("a two-letter local part refused a password: %v", err)
	}
	if err := (Policy{}).Check("elevenchars", email); !errors.Is(err, ErrTooShort) {
		t.Errorf("the zero Policy does not default to %d: %v", DefaultMinLength, err)
	}
	var r *Refusal
	if errors.As(p.Check("short", email), &r); !strings.Contains(r.Message, "12") {
		t.Errorf("too-short message does not say the minimum: %q", r.Message)
	}
}

func FuzzCheckNeverPanics(f *testing.F) {
	f.Add("correct horse battery staple", "a@b.c")
	f.Add("\xff\xfe", "@@")
	f.Fuzz(func(t *testing.T, pw, email string) {
		_ = Policy{MinLength: 8}.Check(pw, email)
	})
}
