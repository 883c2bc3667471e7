package auth

import (
	"bytes"
	"testing"
)

func TestSealedSuccessorOpensOnlyWithItsToken(t *testing.T) {
	secret := []byte("the-service-signing-secret-of-32-bytes")
	pair := Pair{Access: "access.jwt.value", Refresh: "refresh.jwt.value"}
	sealed, err := sealSuccessor(secret, "the-retired-refresh-token", pair)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte(pair.Refresh)) || bytes.Contains(sealed, []byte(pair.Access)) {
		t.Fatal("the sealed pair holds a token in clear")
	}
	got, err := openSuccessor(secret, "the-retired-refresh-token", sealed)
	if err != nil || got != pair {
		t.Fatalf("open = %+v, %v", got, err)
	}
	if _, err := openSuccessor(secret, "another-token", sealed); err == nil {
		t.Error("another token opened the sealed pair")
	}
	if _, err := openSuccessor(secret, string(HashToken("the-retired-refresh-token")), sealed); err == nil {
		t.Error("the stored hash of the token opened the sealed pair")
	}
	// A copy of the database and an old token are not enough: the box also
	// needs the service's secret.
	if _, err := openSuccessor([]byte("another-secret-of-the-same-length-xx"), "the-retired-refresh-token", sealed); err == nil {
		t.Error("the sealed pair opened without the service's secret")
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	if _, err := openSuccessor(secret, "the-retired-refresh-token", tampered); err == nil {
		t.Error("a tampered box opened")
	}
	if _, err := openSuccessor(secret, "the-retired-refresh-token", sealed[:5]); err == nil {
		t.Error("a truncated box opened")
	}
}
