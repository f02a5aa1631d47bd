# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The figures of the county: points credited and redeemed per month and
township (graphs), the monthly statistics per township (attachment 10) and
the county summary for the finance bureau, from the ledger and the
documents."""
import datetime as dt
from collections import defaultdict

from sql import Literal, Null, Union
from sql.aggregate import Count, Min, Sum
from sql.conditionals import Case
from sql.operators import Like

from trytond.i18n import gettext
from trytond.model import Model, ModelSQL, ModelView, fields
from trytond.modules.huinong_points.evaluation import month_bounds
from trytond.pool import Pool
from trytond.report import Report
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateReport, StateView, Wizard

from .settlement import points_value as _points, redemption_moves

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


class MonthlyStatistics(Model):
    """Monthly Statistics per Township (attachment 10)

    The figures of a month for each township, read with one grouped query
    per kind of document (no record per household or line)."""
    __name__ = 'huinong.settlement.statistics'

    COLUMNS = ['households', 'cards', 'new_cards', 'villages',
        'sheets_posted', 'opening', 'credited', 'redeemed',
        'transferred_out', 'transferred_in', 'outstanding', 'stores',
        'stores_settled', 'settled_points']

    @classmethod
    def figures(cls, month):
        """Return the list of rows (dict: township and COLUMNS) of the
        month, township by township, and the county's total row (township
        None) last"""
        pool = Pool()
        Area = pool.get('huinong.area')
        Party = pool.get('party.party')
        Card = pool.get('huinong.card')
        Evaluation = pool.get('huinong.evaluation')
        Location = pool.get('stock.location')
        Settlement = pool.get('huinong.settlement')
        Configuration = pool.get('huinong.configuration')
        Move = pool.get('account.move')
        Line = pool.get('account.move.line')
        cursor = Transaction().connection.cursor()
        first, last = month_bounds(month)
        with without_check_access():
            townships = Area.search([('type', '=', 'township')])
        rows = {t.id: defaultdict(int) for t in townships}

        def read(query, *names):
            cursor.execute(*query)
            for township, *values in cursor:
                if township not in rows:
                    continue
                for name, value in zip(names, values):
                    rows[township][name] += value or 0

        village = Area.__table__()
        read(village.select(village.parent, Count(),
                where=village.type == 'village',
                group_by=[village.parent]), 'villages')

        party = Party.__table__()
        village = Area.__table__()
        read(party.join(village, condition=village.id == party.huinong_village
                ).select(village.parent, Count(),
                where=(party.huinong_household == Literal(True))
                & (party.active == Literal(True)),
                group_by=[village.parent]), 'households')

        card = Card.__table__()
        party = Party.__table__()
        village = Area.__table__()
        in_force = card.state.in_(['issued', 'locked'])
        new = (card.issue_date >= first) & (card.issue_date <= last)
        read(card.join(party, condition=party.id == card.household
                ).join(village, condition=village.id == party.huinong_village
                ).select(village.parent,
                Sum(Case((in_force, Literal(1)), else_=Literal(0))),
                Sum(Case((new, Literal(1)), else_=Literal(0))),
                where=in_force | new,
                group_by=[village.parent]), 'cards', 'new_cards')

        evaluation = Evaluation.__table__()
        village = Area.__table__()
        read(evaluation.join(village,
                condition=village.id == evaluation.village
                ).select(village.parent, Count(),
                where=(evaluation.state == 'posted')
                & (evaluation.date >= first) & (evaluation.date <= last),
                group_by=[village.parent]), 'sheets_posted')

        config = Configuration(1)
        if config.points_account:
            # The household points account up to the month's end, by the
            # household's township: what the month's moves credit (sheets,
            # corrections), redeem (redemptions less reversals) and
            # transfer, and the balances before and after
            line = Line.__table__()
            move = Move.__table__()
            party = Party.__table__()
            village = Area.__table__()
            moves = redemption_moves()
            amount = line.credit - line.debit
            in_month = move.date >= first
            redemption = moves.move != Null
            transfer = Like(move.origin, 'huinong.points.transfer,%')
            zero = Literal(0)
            read(line.join(move, condition=move.id == line.move
                    ).join(party, condition=party.id == line.party
                    ).join(village,
                    condition=village.id == party.huinong_village
                    ).join(moves, 'LEFT', condition=moves.move == move.id
                    ).select(village.parent,
                    Sum(Case((~in_month, amount), else_=zero)),
                    Sum(Case((in_month & ~redemption
                                & ((move.origin == Null) | ~transfer),
                                amount), else_=zero)),
                    Sum(Case((in_month & redemption, -amount),
                            else_=zero)),
                    Sum(Case((in_month & transfer & (amount < 0), -amount),
                            else_=zero)),
                    Sum(Case((in_month & transfer & (amount > 0), amount),
                            else_=zero)),
                    Sum(amount),
                    where=(line.account == config.points_account.id)
                    & (move.date <= last),
                    group_by=[village.parent]),
                'opening', 'credited', 'redeemed', 'transferred_out',
                'transferred_in', 'outstanding')

        store = Location.__table__()
        read(store.select(store.huinong_township, Count(),
                where=(store.huinong_store == Literal(True))
                & (store.type == 'warehouse')
                & (store.active == Literal(True)),
                group_by=[store.huinong_township]), 'stores')

        settlement = Settlement.__table__()
        store = Location.__table__()
        read(settlement.join(store, condition=store.id == settlement.store
                ).select(store.huinong_township, Count(),
                Sum(settlement.system_points),
                where=(settlement.month == first)
                & settlement.state.in_(['approved', 'paid']),
                group_by=[store.huinong_township]),
            'stores_settled', 'settled_points')

        points = {'opening', 'credited', 'redeemed', 'transferred_out',
            'transferred_in', 'outstanding', 'settled_points'}
        result = []
        total = {n: 0 for n in cls.COLUMNS}
        for township in townships:
            row = {'township': township}
            for name in cls.COLUMNS:
                value = rows[township.id][name]
                row[name] = _points(value) if name in points else int(value)
                total[name] += row[name]
            result.append(row)
        total['township'] = None
        result.append(total)
        return result


class CountySummary(Model):
    """County Summary for the Finance Bureau

    The points the county owes: the households' outstanding balances, and
    for every store what it redeemed not yet settled, settled (approved,
    waiting for payment) and paid, from the ledger and the settlements."""
    __name__ = 'huinong.settlement.summary'

    COLUMNS = ['unsettled', 'in_review', 'settled', 'paid']

    @classmethod
    def figures(cls, date):
        """Return (liability, rows): the sum of the households' balances
        on date, and the rows (dict: store and COLUMNS) of every store,
        the county's total (store None) last. unsettled: redeemed up to
        date in no settlement; in_review: in a settlement not yet
        approved; settled: approved, not paid; paid."""
        pool = Pool()
        Location = pool.get('stock.location')
        Settlement = pool.get('huinong.settlement')
        SettlementMove = pool.get('huinong.settlement.move')
        Configuration = pool.get('huinong.configuration')
        Move = pool.get('account.move')
        Line = pool.get('account.move.line')
        cursor = Transaction().connection.cursor()
        config = Configuration(1)
        with without_check_access():
            stores = Location.search([
                    ('huinong_store', '=', True),
                    ('type', '=', 'warehouse'),
                    ], order=[('huinong_township', 'ASC'), ('code', 'ASC'),
                    ('id', 'ASC')])
        rows = {s.id: defaultdict(int) for s in stores}
        liability = 0
        if config.points_account and config.points_payable_account:
            line = Line.__table__()
            move = Move.__table__()
            cursor.execute(*line.join(move, condition=move.id == line.move
                    ).select(Sum(line.credit - line.debit),
                    where=(line.account == config.points_account.id)
                    & (move.date <= date)))
            liability, = cursor.fetchone()

            moves = redemption_moves()
            line = Line.__table__()
            move = Move.__table__()
            sm = SettlementMove.__table__()
            settlement = Settlement.__table__()
            amount = line.credit - line.debit
            zero = Literal(0)
            cursor.execute(*moves.join(move, condition=move.id == moves.move
                    ).join(line, condition=line.move == move.id
                    ).join(sm, 'LEFT', condition=sm.move == move.id
                    ).join(settlement, 'LEFT',
                    condition=settlement.id == sm.settlement
                    ).select(moves.store,
                    Sum(Case((settlement.id == Null, amount), else_=zero)),
                    Sum(Case((settlement.state.in_(
                                    ['draft', 'submitted', 'verified']),
                                amount), else_=zero)),
                    Sum(Case((settlement.state == 'approved', amount),
                            else_=zero)),
                    Sum(Case((settlement.state == 'paid', amount),
                            else_=zero)),
                    where=(line.account == config.points_payable_account.id)
                    & (move.date <= date),
                    group_by=[moves.store]))
            for store_id, *values in cursor:
                if store_id in rows:
                    for name, value in zip(cls.COLUMNS, values):
                        rows[store_id][name] += value or 0
        result = []
        total = {n: _points(0) for n in cls.COLUMNS}
        for store in stores:
            row = {'store': store}
            for name in cls.COLUMNS:
                row[name] = _points(rows[store.id][name])
                total[name] += row[name]
            result.append(row)
        total['store'] = None
        result.append(total)
        return _points(liability), result


class _PrintMixin:
    @staticmethod
    def _date(value):
        "A date of the wizard's data (a string through JSON-RPC)"
        if isinstance(value, str):
            value = dt.date.fromisoformat(value)
        return value

    @classmethod
    def _context(cls, context):
        pool = Pool()
        Date = pool.get('ir.date')
        Configuration = pool.get('huinong.configuration')
        company = Configuration(1).points_company
        with Transaction().set_context(
                company=company.id if company else None):
            context['today'] = Date.today()
        context['company'] = company
        context['total_label'] = gettext('huinong_settlement.msg_report_total')
        return context


class StatisticsReport(_PrintMixin, Report):
    "Monthly Statistics per Township (attachment 10)"
    __name__ = 'huinong.settlement.statistics.report'

    @classmethod
    def get_context(cls, records, header, data):
        Statistics = Pool().get('huinong.settlement.statistics')
        context = super().get_context(records, header, data)
        month = cls._date(data['month'])
        context['month'] = month.strftime('%Y-%m')
        context['rows'] = Statistics.figures(month)
        return cls._context(context)


class SummaryReport(_PrintMixin, Report):
    "County Summary for the Finance Bureau"
    __name__ = 'huinong.settlement.summary.report'

    @classmethod
    def get_context(cls, records, header, data):
        Summary = Pool().get('huinong.settlement.summary')
        context = super().get_context(records, header, data)
        date = cls._date(data['date'])
        context['date'] = date
        context['liability'], context['rows'] = Summary.figures(date)
        return cls._context(context)


class StatisticsPrintStart(ModelView):
    "Monthly Statistics per Township"
    __name__ = 'huinong.settlement.statistics.print.start'

    month = fields.Date("Month", required=True,
        help="Any day of the month: the statistics are of the whole month.")

    @classmethod
    def default_month(cls):
        today = Pool().get('ir.date').today()
        return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


class StatisticsPrint(Wizard):
    "Monthly Statistics per Township"
    __name__ = 'huinong.settlement.statistics.print'

    start = StateView('huinong.settlement.statistics.print.start',
        'huinong_settlement.statistics_print_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Print", 'print_', 'tryton-print', default=True),
            ])
    print_ = StateReport('huinong.settlement.statistics.report')

    def do_print_(self, action):
        return action, {
            'month': self.start.month.replace(day=1).isoformat(),
            }


class SummaryPrintStart(ModelView):
    "County Summary"
    __name__ = 'huinong.settlement.summary.print.start'

    date = fields.Date("Date", required=True)

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()


class SummaryPrint(Wizard):
    "County Summary"
    __name__ = 'huinong.settlement.summary.print'

    start = StateView('huinong.settlement.summary.print.start',
        'huinong_settlement.summary_print_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Print", 'print_', 'tryton-print', default=True),
            ])
    print_ = StateReport('huinong.settlement.summary.report')

    def do_print_(self, action):
        return action, {'date': self.start.date.isoformat()}
