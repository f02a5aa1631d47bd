# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Printed papers of the counter: the receipt (小票) handed to the household,
and per store and period the redemption register (兑换物品登记表,
attachment 12, R-RED-2), the public notice of the redemptions (公示,
R-PTS-6) and the list of cancellations with who approved them."""
import datetime as dt
from decimal import Decimal

from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.report import Report
from trytond.transaction import Transaction, check_access
from trytond.wizard import Button, StateReport, StateView, Wizard

KINDS = [
    ('register', "Redemption Register"),
    ('notice', "Public Notice of Redemptions"),
    ('cancellations', "Cancellations and Returns"),
    ]


def _to_date(value):
    if isinstance(value, str):
        return dt.date.fromisoformat(value)
    return value


def mask_card(number):
    "The card number with all but its last four digits hidden"
    number = number or ''
    return '*' * max(len(number) - 4, 0) + number[-4:]


class ReceiptReport(Report):
    "Redemption Receipt"
    __name__ = 'huinong.redemption.receipt'

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Party = pool.get('party.party')
        context = super().get_context(records, header, data)
        households = [r.household for r in records if r.household]
        balances = Party.get_huinong_points_balance(
            households, 'huinong_points_balance') if households else {}
        context['balance'] = lambda r: balances.get(
            r.household.id if r.household else None, Decimal(0))
        context['mask_card'] = mask_card
        context['local_time'] = cls.local_time
        return context

    @classmethod
    def local_time(cls, value):
        "The UTC datetime in the stores' time zone, as 2026-11-28 09:30"
        Hours = Pool().get('huinong.store.opening_hours')
        if not value:
            return ''
        local = value.replace(tzinfo=dt.timezone.utc).astimezone(
            Hours.local_timezone())
        return local.strftime('%Y-%m-%d %H:%M')


class RegisterStart(ModelView):
    "Print Redemption Register"
    __name__ = 'huinong.redemption.register.start'

    kind = fields.Selection(KINDS, "Kind", required=True, sort=False)
    store = fields.Many2One(
        'stock.location', "Store", required=True,
        domain=[('huinong_store', '=', True)])
    from_date = fields.Date("From Date", required=True,
        domain=[
            If(Eval('to_date'), ('from_date', '<=', Eval('to_date')), ()),
            ])
    to_date = fields.Date("To Date", required=True)

    @classmethod
    def default_kind(cls):
        return 'register'

    @classmethod
    def default_store(cls):
        return Pool().get('huinong.redemption').default_store()

    @classmethod
    def default_from_date(cls):
        today = Pool().get('ir.date').today()
        # The notices go up by the 10th for the month before (R-PTS-6)
        return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)

    @classmethod
    def default_to_date(cls):
        today = Pool().get('ir.date').today()
        return today.replace(day=1) - dt.timedelta(days=1)


class Register(Wizard):
    "Print Redemption Register"
    __name__ = 'huinong.redemption.register'

    start = StateView('huinong.redemption.register.start',
        'huinong_redemption.register_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Print", 'print_', 'tryton-print', default=True),
            ])
    print_ = StateReport('huinong.redemption.register.report')

    def do_print_(self, action):
        return action, {
            'kind': self.start.kind,
            'store': self.start.store.id,
            'from_date': self.start.from_date,
            'to_date': self.start.to_date,
            }

    def transition_print_(self):
        return 'end'


class RegisterReport(Report):
    "Redemption Register"
    __name__ = 'huinong.redemption.register.report'

    @classmethod
    def get_redemptions(cls, kind, store_id, from_date, to_date):
        """Return the redemptions of the store in the period the user may
        read: the done ones (register, notice) or the cancelled ones that
        had been done (cancellations), in order"""
        Redemption = Pool().get('huinong.redemption')
        domain = [
            ('store', '=', store_id),
            ('date', '>=', from_date),
            ('date', '<=', to_date),
            ]
        if kind == 'cancellations':
            domain += [
                ('state', '=', 'cancelled'),
                ('cancelled_by', '!=', None),
                ]
        else:
            domain.append(('state', '=', 'done'))
        with check_access():
            return Redemption.search(domain, order=[
                    ('date', 'ASC'), ('number', 'ASC'), ('id', 'ASC')])

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Location = pool.get('stock.location')
        Date = pool.get('ir.date')
        context = super().get_context(records, header, data)
        kind = data.get('kind') or 'register'
        today = Date.today()
        from_date = _to_date(data.get('from_date')) or today.replace(day=1)
        to_date = _to_date(data.get('to_date')) or today
        store = Location(data['store'])
        redemptions = cls.get_redemptions(
            kind, store.id, from_date, to_date)
        context.update({
                'kind': kind,
                'store': store,
                'from_date': from_date,
                'to_date': to_date,
                'redemptions': redemptions,
                'total_points': sum(
                    (r.total_points for r in redemptions), Decimal(0)),
                'mask_card': mask_card,
                'goods': cls.goods,
                'local_time': ReceiptReport.local_time,
                'printed_by': Transaction().context.get('user_name')
                or '',
                })
        return context

    @classmethod
    def goods(cls, redemption):
        "The goods of the redemption as 大米 5kg ×2、洗衣皂 ×1"
        parts = []
        for line in redemption.lines:
            if line.kind == 'entitlement' and line.entitlement_type:
                name = line.entitlement_type.name
                if line.product:
                    name += '（%s）' % line.product.name
            else:
                name = line.product.name if line.product else ''
            parts.append('%s ×%s' % (name, line.quantity))
        return '、'.join(parts)
