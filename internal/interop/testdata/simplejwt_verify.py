#!/usr/bin/python3
"""Authenticate a bearer token exactly as the legacy Django+DRF+SimpleJWT
service's resource servers do, with
rest_framework_simplejwt.authentication.JWTStatelessUserAuthentication.

Usage:  SECRET=<hs256 secret> /usr/bin/python3 simplejwt_verify.py <token>
Optional env: LEEWAY (seconds, default 0), AUDIENCE, ISSUER (default unset,
as in the legacy settings).

stdout (exit 0): {"user_id": ..., "token_type": "access", "claims": {...}}
stdout (exit 1): {"error": "<exception class>", "detail": ...}  token rejected
exit 2: usage error (missing SECRET or token).

No database is configured: the stateless authenticator never touches one.
"""
import json
import os
import sys


def out(obj, code):
    sys.stdout.write(json.dumps(obj, default=str, sort_keys=True) + "\n")
    sys.exit(code)


def main():
    secret = os.environ.get("SECRET")
    if not secret or len(sys.argv) != 2:
        out({"error": "usage", "detail": "SECRET=... simplejwt_verify.py <token>"}, 2)
    token = sys.argv[1].strip()

    import django
    from django.conf import settings

    simple_jwt = {
        "ALGORITHM": "HS256",
        "SIGNING_KEY": secret,
        "USER_ID_CLAIM": "user_id",
        "USER_ID_FIELD": "id",
        "AUTH_HEADER_TYPES": ("Bearer",),
        "TOKEN_TYPE_CLAIM": "token_type",
        "JTI_CLAIM": "jti",
        "LEEWAY": int(os.environ.get("LEEWAY", "0")),
        "AUDIENCE": os.environ.get("AUDIENCE") or None,
        "ISSUER": os.environ.get("ISSUER") or None,
    }
    settings.configure(
        SECRET_KEY=secret,
        DEBUG=False,
        USE_TZ=True,
        ALLOWED_HOSTS=["*"],
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "rest_framework",
            "rest_framework_simplejwt",
        ],
        DATABASES={},
        SIMPLE_JWT=simple_jwt,
        REST_FRAMEWORK={
            "DEFAULT_AUTHENTICATION_CLASSES": [
                "rest_framework_simplejwt.authentication.JWTStatelessUserAuthentication",
            ],
            "UNAUTHENTICATED_USER": None,
        },
    )
    django.setup()

    from rest_framework.exceptions import APIException
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory
    from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication

    factory = APIRequestFactory()
    django_request = factory.get("/api/me/", HTTP_AUTHORIZATION="Bearer " + token)
    request = Request(django_request, authenticators=[JWTStatelessUserAuthentication()])
    try:
        user = request.user  # runs the authenticator
    except APIException as e:
        out({"error": type(e).__name__, "detail": e.detail}, 1)
    if user is None or request.auth is None:
        out({"error": "NotAuthenticated", "detail": "authenticator returned None"}, 1)

    validated = request.auth
    out(
        {
            "user_id": user.id,
            "token_type": validated.get("token_type"),
            "claims": validated.payload,
        },
        0,
    )


if __name__ == "__main__":
    main()
