# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class AreaValidationError(ValidationError):
    pass


class WholeNumberError(ValidationError):
    pass


class ApprovalError(UserError):
    pass


class SMSValidationError(ValidationError):
    pass


class SMSGatewayError(Exception):
    """A text message could not be handed to the SMS gateway.

    unreachable: the gateway did not answer at all (timeout, refused
    connection, bad configuration): the other messages of the batch wait."""

    def __init__(self, message, unreachable=False):
        super().__init__(message)
        self.unreachable = unreachable


class UserGroupsValidationError(ValidationError):
    pass
