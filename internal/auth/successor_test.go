package auth

import (
	"bytes"
	"testing"
)

func TestSealedSuccessorOpensOnlyWithItsToken(t *testing.T) {
	pair := Pair{Access: "access.jwt.value", Refresh: "refresh.jwt.value"}
	sealed, err := sealSuccessor("the-retired-refresh-token", pair)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte(pair.Refresh)) || bytes.Contains(sealed, []byte(pair.Access)) {
		t.Fatal("the sealed pair holds a token in clear")
	}
	got, err := openSuccessor("the-retired-refresh-token", sealed)
	if err != nil || got != pair {
		t.Fatalf("open = %+v, %v", got, err)
	}
	if _, err := openSuccessor("another-token", sealed); err == nil {
		t.Error("another token opened the sealed pair")
	}
	if _, err := openSuccessor(string(HashToken("the-retired-refresh-token")), sealed); err == nil {
		t.Error("the stored hash of the token opened the sealed pair")
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	if _, err := openSuccessor("the-retired-refresh-token", tampered); err == nil {
		t.Error("a tampered box opened")
	}
	if _, err := openSuccessor("the-retired-refresh-token", sealed[:5]); err == nil {
		t.Error("a truncated box opened")
	}
}
