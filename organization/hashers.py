"""The hasher of one-time passwords (issue 16: people imported from the workbook).

A one-time password is 72 random bits, shown once and changed at first login, so it needs no
million PBKDF2 rounds: with them, importing 200 people would hash for minutes inside one
request. Django re-hashes it with the preferred hasher at the first login (``check_password``),
and the person must replace it then anyway (``must_change_password``)."""

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class OneTimePasswordHasher(PBKDF2PasswordHasher):
    algorithm = "pbkdf2_sha256_otp"
    iterations = 1000
