package main

import (
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/ecommerce/auth-service/internal/config"
	"github.com/ecommerce/auth-service/internal/token"
)

// loadKeys builds the signing and verification keys the configuration names,
// under the claims policy it sets, and logs each key (never its material).
func loadKeys(cfg config.Config, log *slog.Logger) (*token.Keys, error) {
	keys, err := loadKeyMaterial(cfg, log)
	if err != nil {
		return nil, err
	}
	for _, k := range keys.Loaded() {
		log.Info("key loaded", "kid", k.Kid, "alg", k.Alg, "signing", k.Signing)
	}
	return keys.WithPolicy(claimsPolicy(cfg)), nil
}

// claimsPolicy is what tokens are held to: the leeway, issuer and audience
// configured, and lifetimes no longer than the configured TTLs.
func claimsPolicy(cfg config.Config) token.Policy {
	return token.Policy{
		Leeway: cfg.JWTLeeway, Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience,
		MaxLifetime: map[token.Type]time.Duration{token.Access: cfg.AccessTTL, token.Refresh: cfg.RefreshTTL},
	}
}

func loadKeyMaterial(cfg config.Config, log *slog.Logger) (*token.Keys, error) {
	if cfg.JWTAlgorithm != token.HS256 {
		pems := make([][]byte, 0, len(cfg.JWTKeyFiles))
		for _, f := range cfg.JWTKeyFiles {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("AUTH_JWT_PRIVATE_KEYS: %w", err)
			}
			warnIfExposed(f, data, log)
			pems = append(pems, data)
		}
		keys, err := token.NewAsymmetric(cfg.JWTAlgorithm, pems, cfg.JWTSigningKeyID)
		if errors.Is(err, token.ErrNoSigningKey) {
			return nil, fmt.Errorf("AUTH_JWT_SIGNING_KEY_ID: %w", err)
		} else if err != nil {
			return nil, fmt.Errorf("AUTH_JWT_PRIVATE_KEYS: %w", err)
		}
		return keys, nil
	}
	secret := cfg.SecretKey
	if len(secret) == 0 {
		// Only the embedded default gets here (config.Load fails closed otherwise).
		var err error
		if secret, err = developmentSecret(cfg, log); err != nil {
			return nil, err
		}
	}
	keys, err := token.NewHS256(secret, cfg.PreviousSecretKeys...)
	if err != nil {
		return nil, fmt.Errorf("AUTH_SECRET_KEY: %w", err)
	}
	return keys, nil
}

// warnIfExposed warns when a file holding a private key can be read by
// anyone but its owner: serve still starts (the file may be mounted so on
// purpose), but it says how to fix it.
func warnIfExposed(path string, data []byte, log *slog.Logger) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type == "PUBLIC KEY" {
		return
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm()&0o077 == 0 {
		return
	}
	log.Warn("AUTH_JWT_PRIVATE_KEYS: a private key file is readable by group or others; restrict it (chmod 600)",
		"file", path, "mode", fmt.Sprintf("%04o", info.Mode().Perm()))
}
