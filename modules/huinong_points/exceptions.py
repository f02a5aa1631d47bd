# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class LedgerError(UserError):
    pass


class LedgerValidationError(ValidationError):
    pass


class EvaluationError(UserError):
    pass


class CapError(UserError):
    pass
