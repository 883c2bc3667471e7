package auth

import (
	"errors"
	"testing"
	"time"
)

// Every rule of decideRotation, one case each: a test that fails when any
// one is dropped.
func TestDecideRotation(t *testing.T) {
	now := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	const grace = 10 * time.Second
	at := func(d time.Duration) *time.Time { v := now.Add(d); return &v }
	live := Session{ID: "s"}
	retired := func(ago time.Duration) StoredRefreshToken {
		return StoredRefreshToken{SessionID: "s", RetiredAt: at(-ago), Successor: []byte("sealed")}
	}
	exposed := retired(time.Second)
	exposed.ExposedAt = at(-2 * time.Second)
	noSuccessor := retired(time.Second)
	noSuccessor.Successor = nil
	errSealed := errors.New("box does not open")

	unused := func() (bool, error) { return false, nil }
	used := func() (bool, error) { return true, nil }
	sealedOff := func() (bool, error) { return false, errSealed }
	notAsked := func() (bool, error) {
		t.Error("the successor was looked up where the rules do not need it")
		return false, nil
	}

	tests := []struct {
		name      string
		sess      Session
		tok       StoredRefreshToken
		grace     time.Duration
		successor func() (bool, error)
		want      rotationStep
		wantErr   error
	}{
		{"live token rotates", live, StoredRefreshToken{SessionID: "s"}, grace, notAsked, stepRetireAndAdd, nil},
		{"live exposed token rotates", live, StoredRefreshToken{SessionID: "s", ExposedAt: at(-time.Hour)}, grace, notAsked, stepRetireAndAdd, nil},
		{"retired just now, successor unused: replay", live, retired(0), grace, unused, stepReplay, nil},
		{"retired exactly grace ago: replay", live, retired(grace), grace, unused, stepReplay, nil},
		{"retired beyond grace: reuse", live, retired(grace + time.Microsecond), grace, notAsked, stepRevoke, nil},
		{"strict rotation: reuse at once", live, retired(0), 0, notAsked, stepRevoke, nil},
		{"exposed, within grace: reuse", live, exposed, grace, notAsked, stepRevoke, nil},
		{"no successor: reuse", live, noSuccessor, grace, notAsked, stepRevoke, nil},
		{"successor used: reuse", live, retired(time.Second), grace, used, stepRevoke, nil},
		{"box sealed under another key: fails closed", live, retired(time.Second), grace, sealedOff, 0, errSealed},
		{"token of another session", live, StoredRefreshToken{SessionID: "other"}, grace, notAsked, 0, ErrTokenInvalid},
		{"session revoked for reuse", Session{ID: "s", RevokedAt: at(-time.Hour), RevokedReason: ReasonReuse}, retired(0), grace, notAsked, 0, ErrTokenReused},
		{"session logged out", Session{ID: "s", RevokedAt: at(-time.Hour), RevokedReason: ReasonLogout}, StoredRefreshToken{SessionID: "s"}, grace, notAsked, 0, ErrTokenInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step, why, err := decideRotation("s", tt.sess, tt.tok, now, tt.grace, tt.successor)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || step != tt.want {
				t.Fatalf("decideRotation = %v, %q, %v; want step %v", step, why, err, tt.want)
			}
			if (step == stepRevoke) != (why != "") {
				t.Errorf("why = %q for step %v: a revocation says why, nothing else does", why, step)
			}
		})
	}
}
