"""Stand-in for the legacy Django service's custom user model (app label
"accounts"), used only by django_hashes.py --fixture so that the fixture is
produced by Django's real `dumpdata accounts.user`.

Field order matters for dumpdata output: AbstractBaseUser (password,
last_login), PermissionsMixin (is_superuser; m2m groups, user_permissions),
then this model's own fields.
"""
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone


class UserManager(BaseUserManager):
    use_in_migrations = True


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(unique=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        app_label = "accounts"
