# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.model import fields
from trytond.pool import PoolMeta
from trytond.pyson import Eval


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    huinong_redemptions = fields.One2Many(
        'huinong.redemption', 'household', "Redemptions", readonly=True,
        states={
            'invisible': ~Eval('huinong_household'),
            })
