#!/usr/bin/python3
"""Password hashes and user fixtures made by Django's own code.

Usage (PASSWORD is read from the environment in every mode):
  PASSWORD=pw /usr/bin/python3 django_hashes.py
      -> {"pbkdf2_sha256": ..., "argon2": ..., "bcrypt_sha256": ...,
          "bcrypt": ..., "pbkdf2_sha256_low_iter": ...}   (each self-checked)
  PASSWORD=pw /usr/bin/python3 django_hashes.py --fixture N [--indent K]
      -> the output of Django's real `manage.py dumpdata accounts.user`
         (a JSON array of N users; password hashes cycle through the five
         formats above in that order; users are user<i>@example.com, pk i)
  PASSWORD=pw /usr/bin/python3 django_hashes.py --check '<encoded hash>'
      -> {"valid": bool, "algorithm": ..., "must_update": bool}; exit 0 iff
         Django's check_password accepts PASSWORD for the hash (use it to
         prove hashes written by the Go service are readable by Django).

Exit 0 on success, 1 on a failed check, 2 on usage error.
"""
import datetime
import io
import json
import os
import sys

sys.dont_write_bytecode = True  # keep testdata/ free of __pycache__

HERE = os.path.dirname(os.path.abspath(__file__))

HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.BCryptPasswordHasher",
]
LOW_ITERATIONS = 1000


def out(obj, code):
    sys.stdout.write(json.dumps(obj, sort_keys=False) + "\n")
    sys.exit(code)


def setup(with_db):
    import django
    from django.conf import settings

    kwargs = dict(
        SECRET_KEY="interop-testdata",
        USE_TZ=True,
        TIME_ZONE="UTC",
        PASSWORD_HASHERS=HASHERS,
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"],
        DATABASES={},
    )
    if with_db:
        sys.path.insert(0, os.path.join(HERE, "django_app"))
        kwargs.update(
            INSTALLED_APPS=kwargs["INSTALLED_APPS"] + ["accounts"],
            AUTH_USER_MODEL="accounts.User",
            DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
            DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        )
    settings.configure(**kwargs)
    django.setup()


def make_all(password):
    from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password

    class LowIterPBKDF2(PBKDF2PasswordHasher):
        iterations = LOW_ITERATIONS

    return {
        "pbkdf2_sha256": make_password(password, hasher="pbkdf2_sha256"),
        "argon2": make_password(password, hasher="argon2"),
        "bcrypt_sha256": make_password(password, hasher="bcrypt_sha256"),
        "bcrypt": make_password(password, hasher="bcrypt"),
        "pbkdf2_sha256_low_iter": make_password(password, hasher=LowIterPBKDF2()),
    }


def fixture(password, n, indent):
    from django.core.management import call_command

    call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)

    from accounts.models import User

    hashes = list(make_all(password).values())
    utc = datetime.timezone.utc
    for i in range(1, n + 1):
        User.objects.create(
            pk=i,
            password=hashes[(i - 1) % len(hashes)],
            email="user%d@example.com" % i,
            is_active=True,
            is_staff=False,
            is_superuser=False,
            date_joined=datetime.datetime(2024, 1, 1, tzinfo=utc) + datetime.timedelta(days=i - 1),
            # every other user has logged in; 123456 us -> ".123Z" in the dump
            last_login=None if i % 2 else datetime.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=utc),
        )
    buf = io.StringIO()
    call_command("dumpdata", "accounts.user", indent=indent, stdout=buf)
    sys.stdout.write(buf.getvalue().rstrip("\n") + "\n")
    sys.exit(0)


def main():
    password = os.environ.get("PASSWORD")
    if password is None:
        out({"error": "usage", "detail": "PASSWORD env var is required"}, 2)
    args = sys.argv[1:]

    if args[:1] == ["--fixture"]:
        try:
            n = int(args[1])
            indent = None
            if args[2:3] == ["--indent"]:
                indent = int(args[3])
            elif args[2:]:
                raise ValueError
        except (IndexError, ValueError):
            out({"error": "usage", "detail": "--fixture N [--indent K]"}, 2)
        setup(with_db=True)
        fixture(password, n, indent)

    setup(with_db=False)
    from django.contrib.auth.hashers import check_password, get_hasher, identify_hasher

    if args[:1] == ["--check"]:
        if len(args) != 2:
            out({"error": "usage", "detail": "--check '<encoded hash>'"}, 2)
        encoded = args[1]
        try:
            algorithm = identify_hasher(encoded).algorithm
        except ValueError as e:
            out({"valid": False, "algorithm": None, "error": str(e)}, 1)
        ok = check_password(password, encoded)
        must_update = get_hasher(algorithm).must_update(encoded)
        out({"valid": ok, "algorithm": algorithm, "must_update": must_update}, 0 if ok else 1)

    if args:
        out({"error": "usage", "detail": "unknown arguments %r" % args}, 2)
    hashes = make_all(password)
    for name, encoded in hashes.items():
        if not check_password(password, encoded) or check_password(password + "x", encoded):
            out({"error": "self-check failed", "hasher": name, "hash": encoded}, 1)
    out(hashes, 0)


if __name__ == "__main__":
    main()
