package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"

	"github.com/ecommerce/auth-service/internal/config"
	"github.com/ecommerce/auth-service/internal/token"
)

// The embedded default (AUTH_DATABASE_URL unset) is for development, and
// runs without AUTH_SECRET_KEY: it signs with a secret it generates once and
// keeps beside the database file. Nothing else ever gets here: config.Load
// fails closed whenever a secret is required.

// developmentSecret returns the generated secret of the embedded default,
// creating it on first use, and warns that it is in use.
func developmentSecret(cfg config.Config, log *slog.Logger) ([]byte, error) {
	path := cfg.SQLitePath() + ".secret_key"
	secret, created, err := embeddedSecret(path)
	if err != nil {
		return nil, fmt.Errorf("AUTH_SECRET_KEY is unset and the generated one cannot be used: %w", err)
	}
	log.Warn("AUTH_SECRET_KEY is unset: signing with a generated secret kept beside the database; "+
		"downstream services cannot verify tokens without it, so set AUTH_SECRET_KEY outside development",
		"path", path, "created", created)
	return secret, nil
}

// embeddedSecret reads the generated secret at path, creating it (mode 0600)
// on first use. created reports whether it was made now.
func embeddedSecret(path string) (secret []byte, created bool, err error) {
	// Two rounds at most: a second process may create the file between our
	// read and our write, and then we read theirs.
	for range 2 {
		data, err := os.ReadFile(path)
		if err == nil {
			if len(data) < token.MinSecretLen {
				return nil, false, fmt.Errorf("%s holds fewer than %d bytes", path, token.MinSecretLen)
			}
			return data, false, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, false, err
		}
		secret, err := writeNewSecret(path)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		return secret, err == nil, err
	}
	return nil, false, fmt.Errorf("%s exists but cannot be read (a dangling link?)", path)
}

// writeNewSecret makes a random secret at path, failing with os.ErrExist if
// path exists. The file appears whole or not at all (written aside, then
// linked into place), so that a crash or a second replica never sees a short
// secret; where the file system has no hard links it is created in place.
func writeNewSecret(path string) ([]byte, error) {
	raw := make([]byte, 48)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	secret := []byte(base64.RawURLEncoding.EncodeToString(raw))
	tmp, err := os.CreateTemp(filepath.Dir(path), ".secret-*") // mode 0600
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(secret)
	if err == nil {
		err = tmp.Sync()
	}
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return nil, err
	}
	err = os.Link(tmp.Name(), path)
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.ENOTSUP) || errors.Is(err, syscall.EOPNOTSUPP) {
		err = createExclusive(path, secret)
	}
	if err != nil {
		return nil, err
	}
	return secret, nil
}

// createExclusive writes data to a new file at path (mode 0600), failing with
// os.ErrExist if it exists.
func createExclusive(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		os.Remove(path) // never leave a short secret behind
	}
	return err
}
