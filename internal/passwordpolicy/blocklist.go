package passwordpolicy

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
)

// passwordsGz is the blocklist: common passwords, lower-cased, sorted in byte
// order, one per line, gzip-compressed (source and licence in NOTICE.md).
//
//go:embed passwords.txt.gz
var passwordsGz []byte

// blocklist decompresses the list once, on first use, into one string and a
// sorted slice of its lines (which share the string's memory): about 1 MB,
// searched by bisection.
var blocklist = sync.OnceValue(func() []string {
	r, err := gzip.NewReader(bytes.NewReader(passwordsGz))
	if err != nil {
		panic("passwordpolicy: embedded blocklist: " + err.Error())
	}
	data, err := io.ReadAll(r)
	if err != nil {
		panic("passwordpolicy: embedded blocklist: " + err.Error())
	}
	words := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if !slices.IsSorted(words) {
		// The file is ours and tested; a mis-sorted one would silently miss entries.
		panic("passwordpolicy: embedded blocklist is not sorted")
	}
	return words
})

// Blocklisted reports whether key, a password already NFKC-normalized and
// lower-cased, is on the list.
func Blocklisted(key string) bool {
	words := blocklist()
	i := sort.SearchStrings(words, key)
	return i < len(words) && words[i] == key
}
