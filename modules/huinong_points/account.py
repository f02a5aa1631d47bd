# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Guards of the household points account (R-PTS-1: never paid in cash)"

from sql.operators import Exists

from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond import backend
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .exceptions import LedgerValidationError


def _points_config():
    Configuration = Pool().get('huinong.configuration')
    config = Configuration(1)
    if not config.points_account:
        return None
    return config


class Move(metaclass=PoolMeta):
    __name__ = 'account.move'

    @classmethod
    def validate(cls, moves):
        super().validate(moves)
        cls.check_huinong_points(moves)

    @classmethod
    def check_huinong_points(cls, moves):
        """A move that touches household points moves them only against
        household points, the points expense or the store redemptions
        payable: never against a bank, cash or any other account.
        One query a slice of moves: a month-end move has hundreds of lines."""
        pool = Pool()
        Line = pool.get('account.move.line')
        Account = pool.get('account.account')
        config = _points_config()
        if not config:
            return
        allowed = [a.id for a in [config.points_account,
                config.points_expense_account, config.points_payable_account]
            if a]
        line = Line.__table__()
        points_line = Line.__table__()
        cursor = Transaction().connection.cursor()
        for sub_ids in grouped_slice(
                [m.id for m in moves], backend.MAX_QUERY_PARAMS):
            cursor.execute(*line.select(line.move, line.account,
                    where=fields.SQL_OPERATORS['in'](line.move, list(sub_ids))
                    & ~line.account.in_(allowed)
                    & Exists(points_line.select(points_line.id,
                            where=(points_line.move == line.move)
                            & (points_line.account
                                == config.points_account.id))),
                    limit=1))
            row = cursor.fetchone()
            if row:
                move_id, account_id = row
                raise LedgerValidationError(gettext(
                        'huinong_points.msg_line_points_counterpart',
                        move=cls(move_id).rec_name,
                        account=Account(account_id).rec_name))


class MoveLine(metaclass=PoolMeta):
    __name__ = 'account.move.line'

    @classmethod
    def validate(cls, lines):
        pool = Pool()
        Move = pool.get('account.move')
        super().validate(lines)
        config = _points_config()
        if not config:
            return
        for line in lines:
            if line.account != config.points_account:
                continue
            if not line.party or not line.party.huinong_household:
                raise LedgerValidationError(gettext(
                        'huinong_points.msg_line_points_party',
                        line=line.rec_name,
                        party=line.party.rec_name if line.party else ''))
            amount = (line.credit or 0) - (line.debit or 0)
            if (amount % 1
                    or line.amount_second_currency is None
                    or -line.amount_second_currency != amount):
                raise LedgerValidationError(gettext(
                        'huinong_points.msg_line_points_amount',
                        line=line.rec_name))
        # A counterpart added to a move of points is checked too
        Move.check_huinong_points(Move.browse({l.move for l in lines}))

    @classmethod
    def reconcile(cls, *lines_list, **kwargs):
        config = _points_config()
        if config:
            for lines in lines_list:
                if any(l.account == config.points_account for l in lines):
                    raise LedgerValidationError(gettext(
                            'huinong_points.msg_reconcile_points'))
        return super().reconcile(*lines_list, **kwargs)


class Reconciliation(metaclass=PoolMeta):
    __name__ = 'account.move.reconciliation'

    @classmethod
    def validate(cls, reconciliations):
        super().validate(reconciliations)
        config = _points_config()
        if not config:
            return
        for reconciliation in reconciliations:
            if any(l.account == config.points_account
                    for l in reconciliation.lines):
                raise LedgerValidationError(gettext(
                        'huinong_points.msg_reconcile_points'))
