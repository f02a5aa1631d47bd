# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class StoreValidationError(ValidationError):
    pass


class OpeningHoursValidationError(ValidationError):
    pass


class BarcodeError(UserError):
    pass


class BlockError(UserError):
    pass


class NotRedeemableError(UserError):
    pass


class PointsPriceError(ValidationError):
    pass


class PriceReviewError(UserError):
    pass


class PurchaseError(UserError):
    pass


class InspectionError(UserError):
    pass


class ScanError(UserError):
    pass


class InventoryApprovalError(UserError):
    pass


class PointsBandError(ValidationError):
    pass
