# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""A household's points history: every line of its points account with
the running balance, as the points statement counts them, readable by
whoever may read the household."""
from sql import Window
from sql.aggregate import Sum
from sql.conditionals import Coalesce

from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval

DIGITS = (16, 0)


class PointsHistory(ModelSQL, ModelView):
    "Points History"
    __name__ = 'huinong.points.history'

    household = fields.Many2One(
        'party.party', "Household", required=True, readonly=True)
    date = fields.Date("Date", readonly=True)
    number = fields.Char("Number", readonly=True)
    description = fields.Char("Description", readonly=True)
    origin = fields.Reference("Origin", selection='get_origin',
        readonly=True)
    credit = fields.Numeric("Credited", digits=DIGITS, readonly=True)
    debit = fields.Numeric("Used", digits=DIGITS, readonly=True)
    balance = fields.Numeric("Balance", digits=DIGITS, readonly=True,
        help="The balance after this line, drafts included, in the order "
        "of the points statement.")
    posted = fields.Boolean("Posted", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # who may read the household reads its history
        cls.__access__.add('household')
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def get_origin(cls):
        Move = Pool().get('account.move')
        return Move.get_origin()

    @classmethod
    def table_query(cls):
        pool = Pool()
        Configuration = pool.get('huinong.configuration')
        Line = pool.get('account.move.line')
        Move = pool.get('account.move')
        line, move = Line.__table__(), Move.__table__()
        config = Configuration(1)
        account = config.points_account.id if config.points_account else -1
        amount = Coalesce(line.credit, 0) - Coalesce(line.debit, 0)
        window = Window([line.party],
            order_by=[move.date.asc, move.id.asc, line.id.asc])
        return line.join(move, condition=line.move == move.id).select(
            line.id.as_('id'),
            line.create_uid.as_('create_uid'),
            line.create_date.as_('create_date'),
            line.write_uid.as_('write_uid'),
            line.write_date.as_('write_date'),
            line.party.as_('household'),
            move.date.as_('date'),
            move.number.as_('number'),
            Coalesce(line.description, move.description).as_('description'),
            move.origin.as_('origin'),
            line.credit.as_('credit'),
            line.debit.as_('debit'),
            Sum(amount, window=window).as_('balance'),
            (move.state == 'posted').as_('posted'),
            where=(line.account == account) & (line.party != None))  # noqa


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    huinong_points_history = fields.One2Many(
        'huinong.points.history', 'household', "Points History",
        readonly=True,
        states={
            'invisible': ~Eval('huinong_household'),
            })
