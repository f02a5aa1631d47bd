# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from decimal import Decimal

from sql import Literal, Null
from sql.aggregate import Sum
from sql.conditionals import Coalesce

from trytond import backend
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice, sqlite_apply_types
from trytond.transaction import Transaction


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    huinong_points_balance = fields.Function(fields.Numeric(
            "Points Balance", digits=(16, 0),
            states={
                'invisible': ~Eval('huinong_household'),
                },
            help="Credits less debits of the household on the household "
            "points account, draft moves included."),
        'get_huinong_points_balance',
        searcher='search_huinong_points_balance')

    @classmethod
    def _huinong_points_balance_query(cls, party_ids=None):
        """Return the query of (party, balance) of the household points
        account for the parties (every party with a line when None), or
        None when the ledger is not set up."""
        pool = Pool()
        Configuration = pool.get('huinong.configuration')
        Line = pool.get('account.move.line')
        line = Line.__table__()
        config = Configuration(1)
        if not config.points_account:
            return None
        where = (line.account == config.points_account.id) & (
            line.party != Null)
        if party_ids is not None:
            where &= fields.SQL_OPERATORS['in'](line.party, party_ids)
        # Draft and posted moves alike: a balance counts a move from the
        # moment it exists.
        return line.select(
            line.party,
            Sum(Coalesce(line.credit, 0) - Coalesce(line.debit, 0)).as_(
                'balance'),
            where=where,
            group_by=line.party)

    @classmethod
    def get_huinong_points_balance(cls, parties, name):
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        balances = {p.id: Decimal(0) for p in parties}
        # One query for up to MAX_QUERY_PARAMS parties (thousands)
        for sub_ids in grouped_slice(
                [p.id for p in parties], backend.MAX_QUERY_PARAMS):
            query = cls._huinong_points_balance_query(list(sub_ids))
            if query is None:
                break
            if backend.name == 'sqlite':
                sqlite_apply_types(query, [None, 'NUMERIC'])
            cursor.execute(*query)
            for party_id, balance in cursor:
                balances[party_id] = Decimal(balance or 0).quantize(
                    Decimal(1))
        return balances

    @classmethod
    def search_huinong_points_balance(cls, name, clause):
        pool = Pool()
        Line = pool.get('account.move.line')
        _, operator, value = clause
        Operator = fields.SQL_OPERATORS[operator]
        query = cls._huinong_points_balance_query()
        if query is None:
            query_ = None
        else:
            columns = list(query.columns)
            balance = columns.pop(1).expression
            if operator in {'in', 'not in'}:
                value = [Decimal(v or 0) for v in value]
            else:
                value = Decimal(value or 0)
            if backend.name == 'sqlite':
                cast_ = Line.debit.sql_cast
                if operator in {'in', 'not in'}:
                    value = [cast_(Literal(v)) for v in value]
                else:
                    value = cast_(Literal(value))
                balance = cast_(balance)
            query.columns = columns
            query_ = query
        # A party without any line has a balance of 0
        zero_matches = cls._huinong_points_zero_matches(operator, clause[2])
        if query_ is None:
            return [('id', '!=', None)] if zero_matches else [('id', '=', -1)]
        if zero_matches:
            query_.having = ~Operator(balance, value)
            return [('id', 'not in', query_)]
        query_.having = Operator(balance, value)
        return [('id', 'in', query_)]

    @staticmethod
    def _huinong_points_zero_matches(operator, value):
        zero = Decimal(0)
        if operator in {'in', 'not in'}:
            found = any(Decimal(v or 0) == zero for v in value)
            return found if operator == 'in' else not found
        value = Decimal(value or 0)
        return {
            '=': zero == value,
            '!=': zero != value,
            '<': zero < value,
            '<=': zero <= value,
            '>': zero > value,
            '>=': zero >= value,
            }[operator]


class Card(metaclass=PoolMeta):
    __name__ = 'huinong.card'

    balance = fields.Function(fields.Numeric(
            "Points Balance", digits=(16, 0),
            help="The points of the household: they belong to the household, "
            "not to the card."),
        'get_balance', searcher='search_balance')

    @classmethod
    def get_balance(cls, cards, name):
        Party = Pool().get('party.party')
        households = Party.browse({c.household.id for c in cards})
        balances = Party.get_huinong_points_balance(
            households, 'huinong_points_balance')
        return {c.id: balances[c.household.id] for c in cards}

    @classmethod
    def search_balance(cls, name, clause):
        return [('household.huinong_points_balance',) + tuple(clause[1:])]
