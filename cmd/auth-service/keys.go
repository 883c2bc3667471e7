package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/ecommerce/auth-service/internal/config"
	"github.com/ecommerce/auth-service/internal/token"
)

// loadKeys builds the signing and verification keys the configuration names.
func loadKeys(cfg config.Config, log *slog.Logger) (*token.Keys, error) {
	if cfg.JWTAlgorithm != token.HS256 {
		pems := make([][]byte, 0, len(cfg.JWTKeyFiles))
		for _, f := range cfg.JWTKeyFiles {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("AUTH_JWT_PRIVATE_KEYS: %w", err)
			}
			pems = append(pems, data)
		}
		keys, err := token.NewAsymmetric(cfg.JWTAlgorithm, pems, "")
		if err != nil {
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
	keys, err := token.NewHS256(secret)
	if err != nil {
		return nil, fmt.Errorf("AUTH_SECRET_KEY: %w", err)
	}
	return keys, nil
}
