# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"The points statement of households (积分对账单)"
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from sql.aggregate import Sum
from sql.conditionals import Coalesce

from trytond import backend
from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.report import Report
from trytond.tools import grouped_slice, sqlite_apply_types
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateReport, StateView, Wizard


def _to_date(value):
    if isinstance(value, str):
        return dt.date.fromisoformat(value)
    return value


class StatementStart(ModelView):
    "Points Statement"
    __name__ = 'huinong.points.statement.start'

    from_date = fields.Date(
        "From Date", required=True,
        domain=[
            If(Eval('from_date') & Eval('to_date'),
                ('from_date', '<=', Eval('to_date')),
                ()),
            ])
    to_date = fields.Date(
        "To Date", required=True,
        domain=[
            If(Eval('from_date') & Eval('to_date'),
                ('to_date', '>=', Eval('from_date')),
                ()),
            ])

    @classmethod
    def default_from_date(cls):
        return Pool().get('ir.date').today().replace(month=1, day=1)

    @classmethod
    def default_to_date(cls):
        return Pool().get('ir.date').today()


class Statement(Wizard):
    "Points Statement"
    __name__ = 'huinong.points.statement'

    start = StateView('huinong.points.statement.start',
        'huinong_points.statement_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Print", 'print_', 'tryton-print', default=True),
            ])
    print_ = StateReport('huinong.points.statement.report')

    def do_print_(self, action):
        return action, {
            'ids': [r.id for r in self.records],
            'from_date': self.start.from_date,
            'to_date': self.start.to_date,
            }

    def transition_print_(self):
        return 'end'


class StatementReport(Report):
    "Points Statement"
    __name__ = 'huinong.points.statement.report'

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Date = pool.get('ir.date')
        context = super().get_context(records, header, data)
        today = Date.today()
        from_date = _to_date(data.get('from_date')) or today.replace(
            month=1, day=1)
        to_date = _to_date(data.get('to_date')) or today
        # The households passed the read access check of the report: their
        # own lines are shown whatever the user's access to moves.
        with without_check_access():
            statements = cls.get_statements(
                [r.id for r in records], from_date, to_date)
        context['statements'] = [
            dict(statements[r.id], household=r) for r in records]
        context['from_date'] = from_date
        context['to_date'] = to_date
        context['today'] = today
        return context

    @classmethod
    def get_statements(cls, party_ids, from_date, to_date):
        """Return for each party id a dictionary: opening balance (before
        from_date), lines of the period with their running balance, totals
        and closing balance. Draft moves count, as in the balances."""
        pool = Pool()
        Configuration = pool.get('huinong.configuration')
        Line = pool.get('account.move.line')
        Move = pool.get('account.move')
        config = Configuration(1)
        result = {i: {
                'opening': Decimal(0), 'lines': [],
                'credit': Decimal(0), 'debit': Decimal(0),
                'closing': Decimal(0)} for i in party_ids}
        account = config.points_account
        if not account or not party_ids:
            return result

        cursor = Transaction().connection.cursor()
        line, move = Line.__table__(), Move.__table__()
        for sub_ids in grouped_slice(party_ids, backend.MAX_QUERY_PARAMS):
            query = line.join(move, condition=line.move == move.id).select(
                line.party.as_('party'),
                Sum(Coalesce(line.credit, 0) - Coalesce(line.debit, 0)).as_(
                    'balance'),
                where=(line.account == account.id)
                & fields.SQL_OPERATORS['in'](line.party, list(sub_ids))
                & (move.date < from_date),
                group_by=line.party)
            if backend.name == 'sqlite':
                sqlite_apply_types(query, [None, 'NUMERIC'])
            cursor.execute(*query)
            for party_id, balance in cursor:
                result[party_id]['opening'] = Decimal(balance or 0)

        lines = Line.search([
                ('account', '=', account.id),
                ('party', 'in', party_ids),
                ('move.date', '>=', from_date),
                ('move.date', '<=', to_date),
                ], order=[('id', 'ASC')])
        by_party = defaultdict(list)
        # In the order the moves were made (move ids grow with time)
        for l in sorted(lines, key=lambda l: (l.move.date, l.move.id, l.id)):
            by_party[l.party.id].append(l)
        for party_id, statement in result.items():
            balance = statement['opening']
            for l in by_party[party_id]:
                balance += l.credit - l.debit
                statement['credit'] += l.credit
                statement['debit'] += l.debit
                statement['lines'].append({
                        'date': l.move.date,
                        'number': l.move.number or '',
                        # A line's own description first: a transfer
                        # says on each side where the points went
                        'description': (
                            l.description or l.move.description or ''),
                        'credit': l.credit,
                        'debit': l.debit,
                        'balance': balance,
                        'posted': l.move.state == 'posted',
                        })
            statement['closing'] = balance
        return result
