# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.model import fields
from trytond.pool import PoolMeta


class Configuration(metaclass=PoolMeta):
    __name__ = 'huinong.configuration'

    household_photo_max_size = fields.Integer(
        "Household Photo Maximum Size",
        domain=['OR',
            ('household_photo_max_size', '=', None),
            ('household_photo_max_size', '>', 0),
            ],
        help="In kilobytes. Larger ID photos are refused.\n"
        "Empty means the default of 1024 KB.")

    @classmethod
    def default_household_photo_max_size(cls):
        return 1024

    def get_household_photo_max_bytes(self):
        return (self.household_photo_max_size
            or self.default_household_photo_max_size()) * 1024
