#!/usr/bin/python3
"""Verify a JWT against a JWKS document (as served at
/auth/.well-known/jwks.json) with PyJWT, the way a third-party relying party
would: pick the key by the token header's `kid`, verify with exactly that
key's algorithm, require `exp`. Loads the JWKS from a file (no network).

Usage:  /usr/bin/python3 pyjwt_jwks_verify.py <jwks.json> <token>
Optional env: AUDIENCE, ISSUER (verified only when set).

stdout (exit 0): {"kid": ..., "alg": ..., "header": {...}, "claims": {...}}
stdout (exit 1): {"error": "<exception class>", "detail": "..."}  rejected
exit 2: usage error / unreadable or unusable JWKS file.

Supports ES256/384/512 (kty EC), RS256/384/512 and PS* (kty RSA) and EdDSA
(kty OKP, crv Ed25519).
"""
import json
import os
import sys

import jwt
from jwt import PyJWKSet


def out(obj, code):
    sys.stdout.write(json.dumps(obj, default=str, sort_keys=True) + "\n")
    sys.exit(code)


def jwk_alg(jwk_dict):
    """The algorithm PyJWK itself would pick for this key (PyJWT 2.6 does not
    expose it), i.e. the JWK's "alg", else inferred from kty/crv."""
    alg = jwk_dict.get("alg")
    if alg:
        return alg
    kty, crv = jwk_dict.get("kty"), jwk_dict.get("crv")
    if kty == "EC":
        return {"P-256": "ES256", None: "ES256", "P-384": "ES384",
                "P-521": "ES512", "secp256k1": "ES256K"}.get(crv)
    if kty == "RSA":
        return "RS256"
    if kty == "OKP" and crv == "Ed25519":
        return "EdDSA"
    if kty == "oct":
        return "HS256"
    return None


def main():
    if len(sys.argv) != 3:
        out({"error": "usage", "detail": "pyjwt_jwks_verify.py <jwks.json> <token>"}, 2)
    path, token = sys.argv[1], sys.argv[2].strip()
    try:
        with open(path, "r", encoding="utf-8") as f:
            doc = json.load(f)
        jwks = PyJWKSet.from_dict(doc)
    except Exception as e:  # noqa: BLE001
        out({"error": type(e).__name__, "detail": "bad JWKS: %s" % e}, 2)

    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as e:
        out({"error": type(e).__name__, "detail": str(e)}, 1)
    kid = header.get("kid")
    if kid is None:
        out({"error": "MissingKid", "detail": "token header has no kid", "header": header}, 1)
    try:
        jwk = jwks[kid]
    except KeyError as e:
        out({"error": "UnknownKid", "detail": str(e), "header": header}, 1)

    raw = jwk._jwk_data  # the JWK dict as loaded
    alg = jwk_alg(raw)
    if raw.get("use") not in (None, "sig"):
        out({"error": "WrongKeyUse", "detail": "key use is %r" % raw.get("use")}, 1)

    audience = os.environ.get("AUDIENCE") or None
    issuer = os.environ.get("ISSUER") or None
    try:
        claims = jwt.decode(
            token,
            key=jwk.key,
            algorithms=[alg],
            audience=audience,
            issuer=issuer,
            options={"require": ["exp"], "verify_aud": audience is not None},
        )
    except jwt.PyJWTError as e:
        out({"error": type(e).__name__, "detail": str(e), "kid": kid, "alg": alg}, 1)
    out({"kid": kid, "alg": alg, "header": header, "claims": claims}, 0)


if __name__ == "__main__":
    main()
