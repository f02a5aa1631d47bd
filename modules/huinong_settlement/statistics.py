# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Points credited and redeemed per month and township, from the ledger,
for the county office's graphs."""
from sql import Literal, Union
from sql.aggregate import Min, Sum
from sql.operators import Like

from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool

from .settlement import redemption_moves

POINTS_DIGITS = (16, 0)


class PointsMonth(ModelSQL, ModelView):
    "Points per Month and Township"
    __name__ = 'huinong.points.month'

    period = fields.Many2One('account.period', "Month", readonly=True)
    township = fields.Many2One('huinong.area', "Township", readonly=True)
    credited = fields.Numeric(
        "Credited", digits=POINTS_DIGITS, readonly=True,
        help="Points credited to the township's households by posted "
        "evaluation sheets.")
    redeemed = fields.Numeric(
        "Redeemed", digits=POINTS_DIGITS, readonly=True,
        help="Points redeemed at the township's store, less reversals.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [
            ('period', 'ASC'),
            ('township', 'ASC'),
            ('id', 'ASC'),
            ]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Configuration = pool.get('huinong.configuration')
        Move = pool.get('account.move')
        Line = pool.get('account.move.line')
        Party = pool.get('party.party')
        Area = pool.get('huinong.area')
        Location = pool.get('stock.location')
        config = Configuration(1)
        # Not Ledger.config(): it refuses a ledger not yet set up
        points = config.points_account
        payable = config.points_payable_account
        points_id = points.id if points else -1
        payable_id = payable.id if payable else -1

        # Credits of the evaluation sheets, by the household's township
        line = Line.__table__()
        move = Move.__table__()
        party = Party.__table__()
        village = Area.__table__()
        credited = line.join(move, condition=move.id == line.move
            ).join(party, condition=party.id == line.party
            ).join(village, condition=village.id == party.huinong_village
            ).select(
                line.id.as_('line'),
                move.period.as_('period'),
                village.parent.as_('township'),
                (line.credit - line.debit).as_('credited'),
                Literal(0).as_('redeemed'),
                where=(line.account == points_id)
                & Like(move.origin, 'huinong.evaluation,%'))

        # Redemptions and their reversals, by the store's township
        moves = redemption_moves()
        line = Line.__table__()
        move = Move.__table__()
        store = Location.__table__()
        redeemed = moves.join(move, condition=move.id == moves.move
            ).join(line, condition=line.move == move.id
            ).join(store, condition=store.id == moves.store
            ).select(
                line.id.as_('line'),
                move.period.as_('period'),
                store.huinong_township.as_('township'),
                Literal(0).as_('credited'),
                (line.credit - line.debit).as_('redeemed'),
                where=line.account == payable_id)
        union = Union(credited, redeemed, all_=True)
        return union.select(
            Min(union.line).as_('id'),
            union.period.as_('period'),
            union.township.as_('township'),
            Sum(union.credited).as_('credited'),
            Sum(union.redeemed).as_('redeemed'),
            group_by=[union.period, union.township])
