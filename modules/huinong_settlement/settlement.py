# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The monthly settlement of a store (积分兑现, R-SET-1): the points the
store redeemed according to the ledger, checked against the store's own
statement by the county e-commerce office, approved by the finance bureau
and paid to the store's operator at one yuan per point through a supplier
invoice."""
import datetime as dt
from decimal import Decimal

from sql import Literal, Null, Union
from sql.aggregate import Min, Sum
from sql.conditionals import Case
from sql.operators import Exists

from trytond import backend
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Unique, Workflow, fields
from trytond.model.exceptions import AccessError
from trytond.modules.huinong.approval import (
    ApprovalMixin, ApprovalStep, approval_at_field, approval_by_field,
    approval_step)
from trytond.modules.huinong_points.evaluation import month_bounds
from trytond.modules.huinong_store.price_review import (
    check_store_step, user_in_groups)
from trytond.modules.huinong.tools import record_gettext
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval, If
from trytond.report import Report
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

from .exceptions import SettlementError

STATES = [
    ('draft', "Draft"),
    ('submitted', "Submitted"),
    ('verified', "Verified"),
    ('approved', "Approved"),
    ('paid', "Paid"),
    ]
POINTS_DIGITS = (16, 0)


def redemption_moves(store_id=None):
    """A query of (move, store): the ledger moves of the redemptions and
    of their reversals, of one store or of all"""
    Redemption = Pool().get('huinong.redemption')
    queries = []
    for name in ['ledger_move', 'cancel_move']:
        redemption = Redemption.__table__()
        column = getattr(redemption, name)
        where = column != Null
        if store_id is not None:
            where &= redemption.store == store_id
        queries.append(redemption.select(
                column.as_('move'), redemption.store.as_('store'),
                where=where))
    return Union(*queries, all_=True)


def points_value(value):
    """A sum of points read from the database as a Decimal: whole (points
    have no decimals), or to 0.01 when something made it otherwise"""
    value = Decimal(str(value or 0)).quantize(Decimal('0.01'))
    if value == value.to_integral_value():
        value = value.quantize(Decimal(1))
    return value


def _today():
    "Today for the programme's company"
    pool = Pool()
    Date = pool.get('ir.date')
    Configuration = pool.get('huinong.configuration')
    company = Configuration(1).points_company
    with Transaction().set_context(
            company=company.id if company else None):
        return Date.today()


class Configuration(metaclass=PoolMeta):
    __name__ = 'huinong.configuration'

    settlement_deadline_day = fields.Integer(
        "Settlement Deadline (Day)", required=True,
        domain=[
            ('settlement_deadline_day', '>=', 1),
            ('settlement_deadline_day', '<=', 28),
            ],
        help="Day of the following month by which a store submits its "
        "redemption statement of the month.")

    @classmethod
    def default_settlement_deadline_day(cls):
        return 5


class Settlement(ApprovalMixin, ModelSQL, ModelView):
    "Store Settlement"
    __name__ = 'huinong.settlement'
    _rec_name = 'number'

    _draft = {'readonly': Eval('state') != 'draft'}

    number = fields.Char("Number", readonly=True)
    store = fields.Many2One(
        'stock.location', "Store", required=True, ondelete='RESTRICT',
        domain=[
            ('huinong_store', '=', True),
            ('type', '=', 'warehouse'),
            ],
        states={
            'readonly': Eval('id', -1) >= 0,
            })
    township = fields.Function(fields.Many2One(
            'huinong.area', "Township"),
        'on_change_with_township', searcher='search_township')
    operator = fields.Many2One(
        'party.party', "Operator", readonly=True, ondelete='RESTRICT',
        help="The party paid for the store's redemptions.")
    month = fields.Date(
        "Month", required=True,
        domain=[
            If(Bool(Eval('month')),
                ('month', '<', Eval('month_limit', dt.date.max)),
                ()),
            ],
        states={
            'readonly': Eval('id', -1) >= 0,
            },
        help="The first day of the month settled.")
    month_limit = fields.Function(
        fields.Date("Month Limit"), 'get_month_limit')
    month_end = fields.Function(
        fields.Date("Month End"), 'on_change_with_month_end')
    deadline = fields.Date(
        "Deadline", readonly=True,
        help="The day by which the store submits its statement.")

    # The system's figure, from the ledger
    moves = fields.One2Many(
        'huinong.settlement.move', 'settlement', "Ledger Moves",
        readonly=True)
    days = fields.One2Many(
        'huinong.settlement.day', 'settlement', "Days", readonly=True)
    system_points = fields.Numeric(
        "System Points", digits=POINTS_DIGITS, readonly=True,
        help="The points the store redeemed according to the ledger: done "
        "redemptions less reversals, with those of earlier months not yet "
        "settled.")
    carried_points = fields.Numeric(
        "Carried Points", digits=POINTS_DIGITS, readonly=True,
        help="The part of the system points dated before the month: "
        "redemptions or reversals not in an earlier settlement.")
    redemption_count = fields.Integer("Redemptions", readonly=True)
    reversal_count = fields.Integer("Reversals", readonly=True)
    computed_at = fields.DateTime("Computed At", readonly=True)

    # The store's own statement
    statement_points = fields.Numeric(
        "Statement Points", digits=POINTS_DIGITS,
        domain=[
            If(Bool(Eval('statement_points')),
                ('statement_points', '>=', 0),
                ()),
            ],
        states={
            'readonly': Eval('state') != 'draft',
            'required': Eval('state') != 'draft',
            },
        help="The total of the store's signed redemption statement.")
    statement_scan = fields.Binary(
        "Signed Statement", filename='statement_filename',
        file_id='statement_file_id',
        states={
            'readonly': Eval('state') != 'draft',
            },
        help="A scan of the paper statement signed by the store.")
    statement_filename = fields.Char(
        "Statement File Name", states=_draft)
    statement_file_id = fields.Char("Statement File ID", readonly=True)
    difference = fields.Function(fields.Numeric(
            "Difference", digits=POINTS_DIGITS,
            help="Statement points less system points."),
        'on_change_with_difference')
    difference_reason = fields.Text(
        "Explanation of the Difference",
        states={
            'readonly': ~Eval('state').in_(['draft', 'submitted']),
            'invisible': ~Eval('difference'),
            },
        help="Why the store's statement differs from the system.")

    # Payment
    amount = fields.Function(fields.Numeric(
            "Amount", digits=(16, 2),
            help="What the operator is paid: one yuan per point."),
        'on_change_with_amount')
    invoice = fields.Many2One(
        'account.invoice', "Supplier Invoice", readonly=True,
        ondelete='RESTRICT')
    paid_at = fields.DateTime("Paid At", readonly=True)

    state = fields.Selection(
        STATES, "State", readonly=True, required=True, sort=False)
    state_string = state.translated('state')
    submitted_by = approval_by_field("Submitted By")
    submitted_at = approval_at_field("Submitted At")
    submitted_late = fields.Boolean("Submitted Late", readonly=True)
    late = fields.Function(fields.Boolean(
            "Late", help="Not submitted by the deadline."),
        'get_late', searcher='search_late')
    verified_by = approval_by_field("Verified By")
    verified_at = approval_at_field("Verified At")
    approved_by = approval_by_field("Approved By")
    approved_at = approval_at_field("Approved At")

    del _draft

    _approval_steps = {
        'submit': ApprovalStep(
            ['huinong.group_clerk', 'huinong.group_township_office'],
            'county', 'submitted_by', 'submitted_at'),
        'verify': ApprovalStep(
            ['huinong.group_county_office'],
            'county', 'verified_by', 'verified_at'),
        'approve': ApprovalStep(
            ['huinong.group_finance'],
            'county', 'approved_by', 'approved_at'),
        }
    _approval_first = 'submit'
    _approval_next = {
        'submitted': 'verify',
        'verified': 'approve',
        }

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('store_month_unique', Unique(t, t.store, t.month),
                'huinong_settlement.msg_settlement_store_month_unique'),
            ]
        cls._order = [
            ('month', 'DESC'),
            ('store', 'ASC'),
            ('id', 'DESC'),
            ]
        cls._transitions |= {
            ('draft', 'submitted'),
            ('submitted', 'verified'),
            ('verified', 'approved'),
            ('approved', 'paid'),
            ('paid', 'approved'),
            ('submitted', 'draft'),
            ('verified', 'draft'),
            }
        cls._buttons.update({
                'compute': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                'submit': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                'verify': {
                    'invisible': Eval('state') != 'submitted',
                    'depends': ['state'],
                    },
                'approve': {
                    'invisible': Eval('state') != 'verified',
                    'depends': ['state'],
                    },
                'return_wizard': {
                    'invisible': ~Eval('state').in_(
                        ['submitted', 'verified']),
                    'depends': ['state'],
                    },
                'pay_wizard': {
                    'invisible': (Eval('state') != 'approved')
                    | ~Eval('invoice'),
                    'depends': ['state', 'invoice'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_store(cls):
        User = Pool().get('res.user')
        store_ids = User.get_huinong_store_ids()
        if len(store_ids) == 1:
            return store_ids[0]

    @classmethod
    def default_month(cls):
        "The month before this one"
        first = _today().replace(day=1)
        return (first - dt.timedelta(days=1)).replace(day=1)

    @classmethod
    def default_submitted_late(cls):
        return False

    def get_month_limit(self, name):
        return _today().replace(day=1)

    @fields.depends('month')
    def on_change_with_month_end(self, name=None):
        if self.month:
            return month_bounds(self.month)[1]

    @fields.depends('store')
    def on_change_with_township(self, name=None):
        if self.store and self.store.huinong_township:
            return self.store.huinong_township

    @classmethod
    def search_township(cls, name, clause):
        nested = clause[0][len(name):]
        return [('store.huinong_township' + nested, *clause[1:])]

    @fields.depends('statement_points', 'system_points')
    def on_change_with_difference(self, name=None):
        if self.statement_points is not None and self.system_points is not None:
            return self.statement_points - self.system_points

    @fields.depends('system_points')
    def on_change_with_amount(self, name=None):
        "One yuan per point (R-SET-1)"
        if self.system_points is not None:
            return Decimal(self.system_points).quantize(Decimal('0.01'))

    def get_late(self, name):
        if self.submitted_late:
            return True
        return (self.state == 'draft' and self.deadline is not None
            and _today() > self.deadline)

    @classmethod
    def search_late(cls, name, clause):
        _, operator, value = clause
        late = ['OR',
            ('submitted_late', '=', True),
            [('state', '=', 'draft'), ('deadline', '<', _today())],
            ]
        if (operator == '=') == bool(value):
            return late
        return ['AND',
            ('submitted_late', '!=', True),
            ['OR', ('state', '!=', 'draft'), ('deadline', '=', None),
                ('deadline', '>=', _today())],
            ]

    def get_rec_name(self, name):
        return '%s %s %s' % (
            self.number or '#%s' % self.id, self.store.rec_name,
            self.month.strftime('%Y-%m') if self.month else '')

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        if operator.startswith('!') or operator.startswith('not '):
            bool_op = 'AND'
        else:
            bool_op = 'OR'
        return [bool_op,
            ('number', operator, operand, *extra),
            ('store.rec_name', operator, operand, *extra),
            ]

    def get_approval_area(self, scope):
        return self.store.huinong_township

    @classmethod
    def deadline_of(cls, month):
        "The day of the next month by which the statement is due"
        Configuration = Pool().get('huinong.configuration')
        day = Configuration(1).settlement_deadline_day or 5
        _, last = month_bounds(month)
        return (last + dt.timedelta(days=1)).replace(day=day)

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        Location = Pool().get('stock.location')
        if mode == 'create':
            if values.get('month'):
                month = values['month'].replace(day=1)
                values['month'] = month
                values['deadline'] = cls.deadline_of(month)
            if values.get('store') and not values.get('operator'):
                store = Location(values['store'])
                if store.huinong_operator:
                    values['operator'] = store.huinong_operator.id
        return values

    @classmethod
    def create(cls, vlist):
        # The SQL constraint guards races; this says it before the insert
        # fails (and aborts the transaction on PostgreSQL)
        keys = [(v.get('store'), v['month'].replace(day=1))
            for v in vlist if v.get('store') and v.get('month')]
        if keys:
            with without_check_access():
                existing = cls.search(['OR'] + [
                        [('store', '=', store), ('month', '=', month)]
                        for store, month in keys], limit=1)
            if existing or len(set(keys)) < len(keys):
                raise SettlementError(gettext(
                        'huinong_settlement'
                        '.msg_settlement_store_month_unique'))
        settlements = super().create(vlist)
        # A plain number from the id: no shared sequence row to lock
        with without_check_access():
            for settlement in settlements:
                cls.write([settlement], {
                        'number': 'JS%s%04d' % (
                            settlement.month.strftime('%Y%m'),
                            settlement.id)})
            cls.compute(settlements)
        return settlements

    @classmethod
    def check_modification(cls, mode, settlements, values=None,
            external=False):
        super().check_modification(
            mode, settlements, values=values, external=external)
        if mode == 'create' and external:
            if not user_in_groups('huinong.group_county_office'):
                raise AccessError(gettext(
                        'huinong_settlement.msg_settlement_create'))
        if mode == 'write' and external and values:
            protected = set(values) & {
                'store', 'month', 'operator', 'deadline', 'number',
                'system_points', 'carried_points', 'redemption_count',
                'reversal_count', 'computed_at', 'invoice', 'paid_at',
                'submitted_late'}
            if protected:
                raise AccessError(gettext(
                        'huinong.msg_approval_protected_field',
                        fields=', '.join(sorted(protected))))
            for settlement in settlements:
                if settlement.state == 'draft':
                    continue
                if (settlement.state == 'submitted'
                        and set(values) <= {'difference_reason'}
                        and user_in_groups('huinong.group_county_office')):
                    continue
                raise AccessError(gettext(
                        'huinong_settlement.msg_settlement_write_draft',
                        settlement=settlement.rec_name))
        if mode == 'delete':
            for settlement in settlements:
                if settlement.state != 'draft':
                    raise AccessError(gettext(
                            'huinong_settlement.msg_settlement_delete_draft',
                            settlement=settlement.rec_name))

    @classmethod
    def copy(cls, settlements, default=None):
        if not settlements:
            return []
        raise AccessError(gettext('huinong_settlement.msg_settlement_copy'))

    # The system's figure -------------------------------------------------

    @classmethod
    @ModelView.button
    def compute(cls, settlements):
        """Take the store's ledger moves of redemptions and reversals dated
        up to the end of the month that no other settlement has, and sum
        what they credit the store's redemptions payable"""
        pool = Pool()
        SettlementMove = pool.get('huinong.settlement.move')
        Ledger = pool.get('huinong.points.ledger')
        Move = pool.get('account.move')
        Line = pool.get('account.move.line')
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        for settlement in settlements:
            if settlement.state != 'draft':
                raise SettlementError(gettext(
                        'huinong_settlement.msg_settlement_compute_draft',
                        settlement=settlement.rec_name))
        config = Ledger.config()
        payable = config.points_payable_account
        if not payable:
            raise SettlementError(gettext(
                    'huinong_points.msg_ledger_not_set_up'))
        sm = SettlementMove.__table__()
        # In SQL: thousands of links a store, no record of each to delete
        for sub_ids in grouped_slice(
                [s.id for s in settlements], backend.MAX_QUERY_PARAMS):
            cursor.execute(*sm.delete(
                    where=fields.SQL_OPERATORS['in'](
                        sm.settlement, list(sub_ids))))
        now = dt.datetime.now()
        for settlement in settlements:
            move = Move.__table__()
            taken = SettlementMove.__table__()
            month_end = settlement.on_change_with_month_end()
            candidates = redemption_moves(settlement.store.id)
            query = candidates.join(
                move, condition=move.id == candidates.move
                ).select(
                    Literal(settlement.id), move.id,
                    Literal(transaction.user), Literal(now),
                    # NOT EXISTS, not NOT IN: the settled moves grow
                    # every month past what a hashed subplan holds
                    where=(move.date <= month_end)
                    & ~Exists(taken.select(taken.id,
                            where=taken.move == move.id)))
            cursor.execute(*sm.insert(
                    [sm.settlement, sm.move, sm.create_uid, sm.create_date],
                    query))

            line = Line.__table__()
            move = Move.__table__()
            sm2 = SettlementMove.__table__()
            month_start = settlement.month
            cursor.execute(*sm2.join(line, condition=line.move == sm2.move
                    ).join(move, condition=move.id == line.move
                    ).select(
                    Sum(line.credit - line.debit),
                    Sum(Case((move.date < month_start,
                                line.credit - line.debit),
                            else_=Literal(0))),
                    # Differences, not columns: SQLite compares a stored
                    # Decimal as text
                    Sum(Case((line.credit - line.debit > 0, Literal(1)),
                            else_=Literal(0))),
                    Sum(Case((line.credit - line.debit < 0, Literal(1)),
                            else_=Literal(0))),
                    where=(sm2.settlement == settlement.id)
                    & (line.account == payable.id)))
            total, carried, redemptions, reversals = cursor.fetchone()
            with without_check_access():
                cls.write([settlement], {
                        'system_points': Decimal(total or 0),
                        'carried_points': Decimal(carried or 0),
                        'redemption_count': int(redemptions or 0),
                        'reversal_count': int(reversals or 0),
                        'computed_at': now,
                        })
        transaction.counter += 1
        for cache in transaction.cache.values():
            cache.pop(SettlementMove.__name__, None)

    @classmethod
    def create_month(cls, date=None):
        """Create the draft settlement of the month before date's (today)
        for every store with unsettled redemptions up to its end; a store
        that has it already is left as it is. Return the new ones."""
        pool = Pool()
        Location = pool.get('stock.location')
        Move = pool.get('account.move')
        SettlementMove = pool.get('huinong.settlement.move')
        if date is None:
            date = _today()
        month = (date.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
        _, month_end = month_bounds(month)
        moves = redemption_moves()
        move = Move.__table__()
        taken = SettlementMove.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*moves.join(
                move, condition=move.id == moves.move
                ).select(moves.store,
                where=(move.date <= month_end)
                & ~Exists(taken.select(taken.id,
                        where=taken.move == move.id)),
                group_by=[moves.store]))
        store_ids = {s for s, in cursor}
        with without_check_access():
            existing = {s.store.id for s in cls.search([
                        ('month', '=', month),
                        ])}
            stores = Location.browse(sorted(store_ids - existing))
            return cls.create([{
                        'store': s.id,
                        'month': month,
                        } for s in stores])

    # The steps -----------------------------------------------------------

    @classmethod
    def check_approval(cls, records, step):
        """The submit is for the clerks of the store or the township office
        of its township; the other steps are county-wide"""
        super().check_approval(records, step)
        if step == 'submit':
            check_store_step(cls, records, step, lambda record: (
                    SettlementError(gettext(
                            'huinong_settlement.msg_settlement_store',
                            step=cls._step_string(step),
                            settlement=record.rec_name,
                            store=record.store.rec_name))))

    @classmethod
    @ModelView.button
    @Workflow.transition('submitted')
    @approval_step('submit')
    def submit(cls, settlements):
        today = _today()
        for settlement in settlements:
            if settlement.statement_points is None:
                raise SettlementError(gettext(
                        'huinong_settlement.msg_settlement_statement',
                        settlement=settlement.rec_name))
            if not settlement.statement_file_id and not (
                    settlement.statement_scan):
                raise SettlementError(gettext(
                        'huinong_settlement.msg_settlement_scan',
                        settlement=settlement.rec_name))
            if settlement.computed_at is None:
                raise SettlementError(gettext(
                        'huinong_settlement.msg_settlement_not_computed',
                        settlement=settlement.rec_name))
        with without_check_access():
            for settlement in settlements:
                cls.write([settlement], {
                        'return_reason': None,
                        'submitted_late': bool(
                            settlement.deadline
                            and today > settlement.deadline),
                        })

    @classmethod
    @ModelView.button
    @Workflow.transition('verified')
    @approval_step('verify')
    def verify(cls, settlements):
        for settlement in settlements:
            if (settlement.on_change_with_difference()
                    and not (settlement.difference_reason or '').strip()):
                raise SettlementError(gettext(
                        'huinong_settlement.msg_settlement_difference',
                        settlement=settlement.rec_name,
                        statement=settlement.statement_points,
                        system=settlement.system_points))

    @classmethod
    @ModelView.button
    @Workflow.transition('approved')
    @approval_step('approve')
    def approve(cls, settlements):
        """Post the settled ledger moves still in draft, then book what is
        owed to the operator by a posted supplier invoice: Dr store
        redemptions payable / Cr the operator's payable"""
        pool = Pool()
        Move = pool.get('account.move')
        Invoice = pool.get('account.invoice')
        with without_check_access():
            drafts = Move.search([
                    ('id', 'in', [m.move.id for s in settlements
                            for m in s.moves]),
                    ('state', '=', 'draft'),
                    ], order=[('date', 'ASC'), ('id', 'ASC')])
            if drafts:
                Move.post(drafts)
            invoices = []
            for settlement in settlements:
                invoice = settlement._get_invoice()
                if invoice:
                    invoice.save()
                    invoices.append(invoice)
                    cls.write([settlement], {'invoice': invoice.id})
            if invoices:
                Invoice.post(invoices)

    def _get_invoice(self):
        "Return the supplier invoice of the settlement (not saved)"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        InvoiceLine = pool.get('account.invoice.line')
        Ledger = pool.get('huinong.points.ledger')
        Journal = pool.get('account.journal')
        Address = pool.get('party.address')
        config = Ledger.config()
        company = config.points_company
        if not self.system_points:
            return None
        if not self.operator:
            raise SettlementError(gettext(
                    'huinong_redemption.msg_store_operator',
                    store=self.store.rec_name))
        journals = Journal.search([('type', '=', 'expense')], limit=1)
        if not journals:
            raise SettlementError(gettext(
                    'huinong_settlement.msg_settlement_no_journal'))
        journal, = journals
        with Transaction().set_context(company=company.id):
            account = self.operator.account_payable_used
        if not account:
            raise SettlementError(gettext(
                    'huinong_settlement.msg_settlement_no_payable',
                    party=self.operator.rec_name))
        address = self.operator.address_get(type='invoice')
        if not address:
            # An operator registered without an address: the invoice
            # needs one
            address, = Address.create([{'party': self.operator.id}])
        today = _today()
        self._ensure_invoice_sequences(company, today)
        description = record_gettext(
            'huinong_settlement.msg_settlement_invoice_description',
            store=self.store.name, month=self.month.strftime('%Y-%m'))
        line = InvoiceLine(
            type='line',
            company=company,
            currency=company.currency,
            account=config.points_payable_account,
            quantity=1,
            unit_price=self.on_change_with_amount(),
            description=description,
            origin=self)
        return Invoice(
            type='in',
            company=company,
            currency=company.currency,
            party=self.operator,
            invoice_address=address,
            account=account,
            journal=journal,
            invoice_date=today,
            accounting_date=today,
            reference=self.number,
            description=description,
            lines=[line])

    @classmethod
    def _ensure_invoice_sequences(cls, company, date):
        """Give the fiscal year of date its invoice sequences when it has
        none (the ledger set-up makes fiscal years without them)"""
        pool = Pool()
        FiscalYear = pool.get('account.fiscalyear')
        InvoiceSequence = pool.get('account.fiscalyear.invoice_sequence')
        Sequence = pool.get('ir.sequence.strict')
        ModelData = pool.get('ir.model.data')
        fiscalyear = FiscalYear.find(company, date=date)
        if fiscalyear.invoice_sequences:
            return
        values = {}
        for name, prefix in [
                ('in_invoice_sequence', 'JSFP'),
                ('in_credit_note_sequence', 'JSHC'),
                ('out_invoice_sequence', 'XSFP'),
                ('out_credit_note_sequence', 'XSHC'),
                ]:
            sequence, = Sequence.create([{
                        'name': '%s %s' % (fiscalyear.name, name),
                        'sequence_type': ModelData.get_id(
                            'account_invoice', 'sequence_type_account_invoice'),
                        'company': company.id,
                        'prefix': '%s%s-' % (prefix, fiscalyear.name),
                        }])
            values[name] = sequence.id
        InvoiceSequence.create([{
                    'company': company.id,
                    'fiscalyear': fiscalyear.id,
                    **values,
                    }])

    @classmethod
    @ModelView.button_action('huinong.wizard_approval_return')
    def return_wizard(cls, settlements):
        pass

    @classmethod
    @Workflow.transition('draft')
    def return_(cls, settlements):
        pass

    @classmethod
    @ModelView.button_action('huinong_settlement.wizard_pay')
    def pay_wizard(cls, settlements):
        pass

    @classmethod
    def payable(cls, settlements):
        """The settlements among these that can be paid: approved, with an
        invoice to pay; raise when there is none"""
        payable = [s for s in settlements
            if s.state == 'approved' and s.invoice
            and s.invoice.state == 'posted' and s.invoice.amount_to_pay]
        if not payable:
            raise SettlementError(gettext(
                    'huinong_settlement.msg_settlement_nothing_to_pay'))
        return payable

    @classmethod
    def pay_invoices(cls, settlements, payment_method, date):
        """Pay the invoice of each settlement in full on date with the
        payment method and reconcile it: the invoice becomes paid and so
        does the settlement (account.invoice.paid)"""
        pool = Pool()
        MoveLine = pool.get('account.move.line')
        Invoice = pool.get('account.invoice')
        Ledger = pool.get('huinong.points.ledger')
        Date = pool.get('ir.date')
        company = Ledger.config().points_company
        with Transaction().set_context(company=company.id):
            today = Date.today()
        if date > today:
            raise SettlementError(gettext(
                    'huinong_settlement.msg_settlement_pay_future',
                    date=date))
        if payment_method.company != company:
            raise SettlementError(gettext(
                    'huinong_settlement.msg_settlement_pay_method_company',
                    method=payment_method.rec_name))
        invoices = []
        for settlement in cls.payable(settlements):
            invoice = settlement.invoice
            amount = invoice.amount_to_pay
            description = record_gettext(
                'huinong_settlement.msg_settlement_payment_description',
                number=settlement.number or '', store=settlement.store.name)
            # The finance bureau pays through its settlements (the pay
            # button and wizard are its own), not through the accounting
            # screens it has no right to write in: the payment's move, its
            # posting and the reconciliation are the system's work.
            with Transaction().set_context(company=company.id), \
                    without_check_access():
                lines = invoice.pay_invoice(
                    amount, payment_method, date, description)
                to_reconcile = [l for l in invoice.lines_to_pay
                    if not l.reconciliation] + list(lines)
                MoveLine.reconcile(to_reconcile)
            invoices.append(invoice)
        # paid invoices mark their settlements paid (Invoice.paid)
        with without_check_access():
            Invoice.process(invoices)

    @classmethod
    @Workflow.transition('paid')
    def pay(cls, settlements):
        with without_check_access():
            cls.write(list(settlements), {'paid_at': dt.datetime.now()})
        cls.record_approval(settlements, 'pay', action='event')

    @classmethod
    @Workflow.transition('approved')
    def unpay(cls, settlements):
        with without_check_access():
            cls.write(list(settlements), {'paid_at': None})


class StatementReport(Report):
    "Settlement Statement (attachment 9: the points redemption flow)"
    __name__ = 'huinong.settlement.statement'

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Lang = pool.get('ir.lang')
        Hours = pool.get('huinong.store.opening_hours')
        context = super().get_context(records, header, data)
        lang = Lang.get()
        zone = Hours.local_timezone()

        def local_time(value):
            if not value:
                return ''
            return value.replace(tzinfo=dt.timezone.utc).astimezone(
                zone).strftime('%Y-%m-%d %H:%M')
        context['local_time'] = local_time
        context['format_amount'] = lambda v: (
            lang.format_number(v, digits=2, grouping=True)
            if v is not None else '')
        context['today'] = _today()
        return context


class SettlementMove(ModelSQL):
    """Settled Ledger Move

    A redemption's or a reversal's ledger move counted in a settlement:
    a move is settled once (unique), and one dated in a month already
    settled goes into the next settlement of its store."""
    __name__ = 'huinong.settlement.move'

    settlement = fields.Many2One(
        'huinong.settlement', "Settlement", required=True,
        ondelete='CASCADE')
    move = fields.Many2One(
        'account.move', "Move", required=True, ondelete='RESTRICT')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('settlement')
        t = cls.__table__()
        cls._sql_constraints += [
            ('move_unique', Unique(t, t.move),
                'huinong_settlement.msg_settlement_move_unique'),
            ]


class SettlementDay(ModelSQL, ModelView):
    "Settlement Day"
    __name__ = 'huinong.settlement.day'

    settlement = fields.Many2One(
        'huinong.settlement', "Settlement", required=True, readonly=True)
    date = fields.Date("Date", readonly=True)
    redemptions = fields.Integer("Redemptions", readonly=True)
    reversals = fields.Integer("Reversals", readonly=True)
    points = fields.Numeric("Points", digits=POINTS_DIGITS, readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('settlement')
        cls._order = [('date', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        SettlementMove = pool.get('huinong.settlement.move')
        Move = pool.get('account.move')
        Line = pool.get('account.move.line')
        Configuration = pool.get('huinong.configuration')
        sm = SettlementMove.__table__()
        move = Move.__table__()
        line = Line.__table__()
        # Not Ledger.config(): it refuses a ledger not yet set up
        payable = Configuration(1).points_payable_account
        return sm.join(move, condition=move.id == sm.move
            ).join(line, condition=line.move == move.id
            ).select(
                Min(sm.id).as_('id'),
                sm.settlement.as_('settlement'),
                move.date.as_('date'),
                Sum(Case((line.credit - line.debit > 0, Literal(1)),
                        else_=Literal(0))).as_('redemptions'),
                Sum(Case((line.credit - line.debit < 0, Literal(1)),
                        else_=Literal(0))).as_('reversals'),
                Sum(line.credit - line.debit).as_('points'),
                where=line.account == (payable.id if payable else -1),
                group_by=[sm.settlement, move.date])


class Ledger(metaclass=PoolMeta):
    __name__ = 'huinong.points.ledger'

    @classmethod
    def create_fiscalyear(cls, company, date):
        Settlement = Pool().get('huinong.settlement')
        fiscalyear = super().create_fiscalyear(company, date)
        Settlement._ensure_invoice_sequences(company, date)
        return fiscalyear


class InvoiceLine(metaclass=PoolMeta):
    __name__ = 'account.invoice.line'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['huinong.settlement']


class Invoice(metaclass=PoolMeta):
    __name__ = 'account.invoice'

    @classmethod
    def paid(cls, invoices):
        "Paying a settlement's invoice marks the settlement paid"
        Settlement = Pool().get('huinong.settlement')
        super().paid(invoices)
        with without_check_access():
            settlements = Settlement.search([
                    ('invoice', 'in', [i.id for i in invoices]),
                    ('state', '=', 'approved'),
                    ])
        if settlements:
            Settlement.pay(settlements)

    @classmethod
    def _post(cls, invoices):
        "An invoice no longer paid takes its settlement back to approved"
        Settlement = Pool().get('huinong.settlement')
        super()._post(invoices)
        with without_check_access():
            settlements = Settlement.search([
                    ('invoice', 'in', [i.id for i in invoices]),
                    ('state', '=', 'paid'),
                    ])
        if settlements:
            Settlement.unpay(settlements)


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('huinong.settlement|create_month',
                "Create the Stores' Settlements of the Last Month"))
