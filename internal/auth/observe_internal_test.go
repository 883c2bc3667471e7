package auth

import (
	"errors"
	"fmt"
	"testing"
)

func TestResultsForTheObserver(t *testing.T) {
	for err, want := range map[error]string{
		nil:                                 LoginSuccess,
		ErrBadCredentials:                   LoginBadCredentials,
		&ThrottledError{RetryAfter: 30}:     LoginThrottled,
		fmt.Errorf("%w: x", ErrOverloaded):  LoginOverloaded,
		fmt.Errorf("%w: x", ErrUnavailable): LoginError,
		errors.New("disk on fire"):          LoginError,
	} {
		if got := loginResult(err); got != want {
			t.Errorf("loginResult(%v) = %s, want %s", err, got, want)
		}
	}
	for _, c := range []struct {
		step rotationStep
		err  error
		want string
	}{
		{stepRetireAndAdd, nil, RefreshRotated},
		{stepReplay, nil, RefreshGraceReplay},
		{stepRevoke, ErrTokenReused, RefreshReuseRevoked},
		{stepRetireAndAdd, ErrTokenReused, RefreshInvalid}, // revoked for reuse before
		{stepRetireAndAdd, fmt.Errorf("%w: expired", ErrTokenInvalid), RefreshInvalid},
		{stepRetireAndAdd, ErrUserInactive, RefreshInvalid},
		{stepRetireAndAdd, fmt.Errorf("%w: x", ErrUnavailable), RefreshError},
	} {
		if got := refreshResult(c.step, c.err); got != c.want {
			t.Errorf("refreshResult(%v, %v) = %s, want %s", c.step, c.err, got, c.want)
		}
	}
}
