# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""trytond's WSGI application for the redemption benchmark, with one
change: a password or PIN check only verifies, it never rehashes.

trytond's `check_password` is pwdlib's `verify_and_update`, which hashes
again with argon2 any hash that is not argon2 with the current
parameters. The benchmark's "PIN check excluded" runs give the cards a
cheap bcrypt hash, so without this every check would still pay for an
argon2 hash. With trytond's own argon2 hashes (the latency run)
`verify_and_update` only verifies: nothing changes there."""
from trytond.application import app  # noqa: F401  (configuration first)
from trytond.res import user

_hasher = user.PASSWORD_HASH


def _verify_only(password, hash_):
    return _hasher.verify(password, hash_), None


_hasher.verify_and_update = _verify_only
