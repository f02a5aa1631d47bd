# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Rules of the card's 6-digit PIN"
from trytond.i18n import gettext

from .exceptions import PINValidationError

PIN_LENGTH = 6


def _sequential(pin):
    steps = {int(b) - int(a) for a, b in zip(pin, pin[1:])}
    return steps in ({1}, {-1})


def check_new_pin(pin, confirm, resident_id=None, birth_date=None):
    """Raise a translated error unless the PIN is a good new PIN:
    6 digits, typed the same twice, not guessable (one digit repeated,
    a run like 123456 or 654321, a repeated pair or triple like 121212 or
    123123, the last six of the resident ID, the birth date)."""
    # ASCII digits only: str.isdigit() also takes Arabic-Indic or
    # full-width digits (and a PIN equal to the ID's last six in another
    # script would pass the guessable check)
    if (not isinstance(pin, str) or len(pin) != PIN_LENGTH
            or not pin.isascii() or not pin.isdigit()):
        raise PINValidationError(gettext('huinong_card.msg_pin_format'))
    if pin != confirm:
        raise PINValidationError(gettext('huinong_card.msg_pin_mismatch'))
    guessable = (
        len(set(pin)) == 1
        or _sequential(pin)
        or pin[:2] * 3 == pin
        or pin[:3] * 2 == pin)
    if resident_id and pin == resident_id[-6:].upper():
        guessable = True
    if birth_date:
        if pin in {
                birth_date.strftime('%y%m%d'),
                birth_date.strftime('%d%m%y'),
                birth_date.strftime('%m%d%y')}:
            guessable = True
    if guessable:
        raise PINValidationError(gettext('huinong_card.msg_pin_guessable'))
