# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Field definitions the huinong modules share.

WholeNumber is an Integer field that refuses what is not a whole number.
trytond's Integer turns whatever a client sends into an int on its way to
the database (int(2.9) == 2: a fractional quantity silently cut, True
stored as 1) and leaves a number beyond the column's range to the
database's own error.  Every count a user types (quantities of goods,
counted entitlements) is a WholeNumber, so the refusal is the field's, on
every path that writes it: create, write, a parent's one2many, an import,
a wizard, a scheduled task."""
import math
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import fields

from .exceptions import WholeNumberError

# an SQL integer column (PostgreSQL's integer)
_MAX = 2 ** 31 - 1


class WholeNumber(fields.Integer):

    def sql_format(self, value):
        if value is not None and not _whole(value):
            from trytond.pool import Pool
            try:
                Model = Pool().get(self.model_name)
                string = Model.fields_get([self.name])[self.name]['string']
            except Exception:
                string = self.string
            raise WholeNumberError(gettext(
                    'huinong.msg_whole_number', field=string,
                    value=_shown(value)))
        return super().sql_format(value)


def _whole(value):
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) <= _MAX
    if isinstance(value, float):
        return (math.isfinite(value) and value == int(value)
            and abs(value) <= _MAX)
    if isinstance(value, Decimal):
        return (value.is_finite() and value == value.to_integral_value()
            and abs(value) <= _MAX)
    return False


def _shown(value):
    "The value for the message: short, printable"
    text = repr(value) if not isinstance(value, str) else value
    text = ''.join(c if c.isprintable() else '?' for c in text)
    return text[:20] + ('…' if len(text) > 20 else '')
