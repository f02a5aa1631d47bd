# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The redemption counter (兑换): a household spends points and counted
entitlements on goods at its township's store.

Confirming a redemption is one transaction: the checks, then under the
household's lock (the one lock every change of a household's points takes,
see huinong.points.ledger.lock_households) and the store's product locks,
the stock moves, the ledger move and the entitlement uses. A refusal
changes nothing."""
import datetime as dt
import functools
from decimal import Decimal

from sql import Conflict, Literal
from sql.aggregate import Sum

from trytond import backend
from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.model.exceptions import AccessError
from trytond.modules.huinong.fields import WholeNumber
from trytond.modules.huinong.tools import record_gettext, stored_defaults
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.rpc import RPC
from trytond.tools import grouped_slice
from trytond.transaction import (
    Transaction, TransactionError, without_check_access)
from trytond.wizard import (
    Button, StateReport, StateTransition, StateView, Wizard)

from .exceptions import RedemptionError

STATES = [
    ('draft', "Draft"),
    ('done', "Done"),
    ('cancelled', "Cancelled"),
    ]
POINTS_DIGITS = (16, 0)


def _points(value):
    return Decimal(value or 0).quantize(Decimal(1))


class Redemption(Workflow, ModelSQL, ModelView):
    "Redemption"
    __name__ = 'huinong.redemption'
    _rec_name = 'number'

    _draft = {'readonly': Eval('state') != 'draft'}

    number = fields.Char("Number", readonly=True)
    key = fields.Char("Request Key", readonly=True,
        help="Sent by the counter with each confirmation: the same key "
        "again returns the first result.")
    store = fields.Many2One(
        'stock.location', "Store", required=True, ondelete='RESTRICT',
        domain=[('huinong_store', '=', True)], states=_draft)
    township = fields.Function(fields.Many2One(
            'huinong.area', "Township"),
        'on_change_with_township', searcher='search_township')
    card = fields.Many2One(
        'huinong.card', "Card", required=True, ondelete='RESTRICT',
        domain=[If(Eval('state') == 'draft',
                ('state', '=', 'issued'), ())],
        states=_draft)
    card_number = fields.Function(fields.Char("Card Number",
            states={'readonly': Eval('state') != 'draft'},
            help="Type or swipe the card's number: the card is selected "
            "at once."),
        'get_card_number', setter='set_card_number')
    household = fields.Many2One(
        'party.party', "Household", readonly=True, ondelete='RESTRICT')
    head = fields.Function(fields.Char("Head of Household"),
        'on_change_with_head')
    photo = fields.Function(fields.Binary("Photo"), 'on_change_with_photo')
    balance = fields.Function(fields.Numeric(
            "Points Balance", digits=POINTS_DIGITS),
        'on_change_with_balance')
    entitlements_text = fields.Function(fields.Text("Remaining Counts"),
        'on_change_with_entitlements_text')
    scan = fields.Function(fields.Char("Scan",
            states={'invisible': Eval('state') != 'draft'},
            help="Scan or type a barcode: each scan adds one."),
        'get_scan', setter='set_scan')
    date = fields.Date("Date", readonly=True)
    lines = fields.One2Many(
        'huinong.redemption.line', 'redemption', "Lines", states=_draft)
    total_points = fields.Function(fields.Numeric(
            "Total Points", digits=POINTS_DIGITS),
        'get_total_points')
    clerk = fields.Many2One('res.user', "Clerk", readonly=True)
    done_at = fields.DateTime("Confirmed At", readonly=True)
    out_of_hours = fields.Boolean("Outside Opening Hours", readonly=True,
        help="Confirmed while the store was closed.")
    ledger_move = fields.Many2One(
        'account.move', "Ledger Move", readonly=True, ondelete='RESTRICT')
    cancel_reason = fields.Text("Cancellation Reason", readonly=True)
    cancelled_by = fields.Many2One('res.user', "Cancelled By", readonly=True)
    cancelled_at = fields.DateTime("Cancelled At", readonly=True)
    cancel_move = fields.Many2One(
        'account.move', "Reversing Move", readonly=True, ondelete='RESTRICT')
    state = fields.Selection(STATES, "State", readonly=True, required=True,
        sort=False)

    del _draft

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('key_unique', Unique(t, t.key),
                'huinong_redemption.msg_redemption_key_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.household, Index.Range()),
                    (t.date, Index.Range())),
                Index(t, (t.store, Index.Range()), (t.date, Index.Range())),
                Index(t, (t.state, Index.Equality()),
                    where=t.state == 'draft'),
                })
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'done'),
            ('draft', 'cancelled'),
            ('done', 'cancelled'),
            }
        cls._buttons.update({
                'confirm_wizard': {
                    'invisible': Eval('state') != 'draft',
                    'readonly': ~Eval('lines', []),
                    'depends': ['state', 'lines'],
                    },
                'cancel_wizard': {
                    'invisible': Eval('state') != 'done',
                    'depends': ['state'],
                    },
                'discard': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                })
        cls.__rpc__.update({
                'redeem': RPC(readonly=False),
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def default_store(cls):
        User = Pool().get('res.user')
        store_ids = User.get_huinong_store_ids()
        if len(store_ids) == 1:
            return store_ids[0]

    def get_rec_name(self, name):
        if self.number:
            return self.number
        card = self.card.number if self.card else ''
        head = self.card.household.name if self.card else ''
        return '%s %s' % (card, head)

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        if operator.startswith('!') or operator.startswith('not '):
            bool_op = 'AND'
        else:
            bool_op = 'OR'
        return [bool_op,
            ('number', operator, operand, *extra),
            ('card.number', operator, operand, *extra),
            ('household.name', operator, operand, *extra),
            ]

    @fields.depends('store')
    def on_change_with_township(self, name=None):
        if self.store and self.store.huinong_township:
            return self.store.huinong_township.id

    @classmethod
    def search_township(cls, name, clause):
        return [('store.huinong_township',) + tuple(clause[1:])]

    @fields.depends('card', 'household')
    def on_change_card(self):
        self.household = self.card.household if self.card else None

    def get_card_number(self, name):
        return self.card.number if self.card else None

    @classmethod
    def set_card_number(cls, redemptions, name, value):
        # the card field is what is stored; the number only finds it
        pass

    @fields.depends('card_number', 'card', 'date',
        methods=['on_change_card', 'on_change_with_head',
            'on_change_with_photo', 'on_change_with_balance',
            'on_change_with_entitlements_text'])
    def on_change_card_number(self):
        """The card of the exact number typed or swiped, among the cards
        the clerk may read; the same answer for a number that does not
        exist and for a card of somewhere else"""
        pool = Pool()
        Card = pool.get('huinong.card')
        number = ''.join((self.card_number or '').split())
        if not number:
            self.card = None
        elif not self.card or self.card.number != number:
            cards = Card.search([
                    ('number', '=', number),
                    ('state', '=', 'issued'),
                    ], limit=1)
            if not cards:
                self.card_number = None
                raise RedemptionError(gettext(
                        'huinong_redemption.msg_card_number_unknown',
                        number=number))
            self.card, = cards
        self.card_number = self.card.number if self.card else None
        self.on_change_card()
        # the client does not chain the on_change_with of the card
        self.head = self.on_change_with_head()
        self.photo = self.on_change_with_photo()
        self.balance = self.on_change_with_balance()
        self.entitlements_text = self.on_change_with_entitlements_text()

    @fields.depends('card')
    def on_change_with_head(self, name=None):
        if self.card and self.card.household:
            return self.card.household.name

    @fields.depends('card')
    def on_change_with_photo(self, name=None):
        if self.card:
            return self.card.photo

    @fields.depends('card')
    def on_change_with_balance(self, name=None):
        if self.card and self.card.household:
            return self.card.household.huinong_points_balance

    @fields.depends('card', 'date')
    def on_change_with_entitlements_text(self, name=None):
        pool = Pool()
        Grant = pool.get('huinong.entitlement.grant')
        Type = pool.get('huinong.entitlement.type')
        if not self.card or not self.card.household:
            return
        counts = Grant.get_remaining_counts(
            [self.card.household.id], self.date)[self.card.household.id]
        return '\n'.join('%s: %s %s' % (t.name, counts[t.id], t.unit)
            for t in Type.browse(sorted(counts)))

    def get_scan(self, name):
        return None

    @classmethod
    def set_scan(cls, redemptions, name, value):
        pass

    @fields.depends('scan', 'lines', 'date', 'store',
        methods=['_add_scanned', 'on_change_with_total_points'])
    def on_change_scan(self):
        code = (self.scan or '').strip()
        self.scan = None
        if code:
            self._add_scanned(code)
            # The client does not chain the on_change_with of the lines
            self.total_points = self.on_change_with_total_points()

    @fields.depends('lines', 'date')
    def _add_scanned(self, code):
        "Add one of the product of the barcode, or one more to its line"
        pool = Pool()
        Product = pool.get('product.product')
        Line = pool.get('huinong.redemption.line')
        product = Product.search_huinong_barcode(code)
        if not product:
            raise RedemptionError(gettext(
                    'huinong_redemption.msg_barcode_unknown', code=code))
        lines = list(self.lines or [])
        for line in lines:
            if line.kind == 'goods' and line.product == product:
                line.quantity = (line.quantity or 0) + 1
                line.on_change_quantity()
                break
        else:
            line = Line(kind='goods', product=product, quantity=1)
            line.redemption = self
            line.on_change_product()
            lines.append(line)
        self.lines = lines

    @fields.depends('lines')
    def on_change_with_total_points(self, name=None):
        "The total as the counter shows it while scanning"
        return sum((l.points or Decimal(0) for l in self.lines or []),
            Decimal(0))

    @classmethod
    def get_total_points(cls, redemptions, name):
        pool = Pool()
        Line = pool.get('huinong.redemption.line')
        line = Line.__table__()
        cursor = Transaction().connection.cursor()
        result = {r.id: Decimal(0) for r in redemptions}
        for sub_ids in grouped_slice(list(result), backend.MAX_QUERY_PARAMS):
            cursor.execute(*line.select(line.redemption, Sum(line.points),
                    where=fields.SQL_OPERATORS['in'](
                        line.redemption, list(sub_ids)),
                    group_by=[line.redemption]))
            for redemption_id, total in cursor:
                result[redemption_id] = _points(total)
        return result

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Card = pool.get('huinong.card')
        values = super().preprocess_values(mode, values)
        if values.get('card'):
            values['household'] = Card(values['card']).household.id
        return values

    @classmethod
    def check_modification(cls, mode, redemptions, values=None,
            external=False):
        super().check_modification(
            mode, redemptions, values=values, external=external)
        if mode == 'delete':
            for redemption in redemptions:
                if redemption.state != 'draft':
                    raise AccessError(gettext(
                            'huinong_redemption.msg_redemption_delete',
                            redemption=redemption.rec_name))
        elif mode == 'write' and external:
            for redemption in redemptions:
                if redemption.state != 'draft':
                    raise AccessError(gettext(
                            'huinong_redemption.msg_redemption_write',
                            redemption=redemption.rec_name))

    @classmethod
    def copy(cls, redemptions, default=None):
        default = default.copy() if default is not None else {}
        for name in ['number', 'key', 'clerk', 'done_at', 'ledger_move',
                'cancel_reason', 'cancelled_by', 'cancelled_at',
                'cancel_move', 'out_of_hours']:
            default.setdefault(name, None)
        default.setdefault('date', None)
        return super().copy(redemptions, default=default)

    # The counter -----------------------------------------------------------

    @classmethod
    @ModelView.button_action('huinong_redemption.wizard_confirm')
    def confirm_wizard(cls, redemptions):
        pass

    @classmethod
    @ModelView.button_action('huinong_redemption.wizard_cancel')
    def cancel_wizard(cls, redemptions):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def discard(cls, redemptions):
        "Give up a draft at the counter: nothing was moved"
        for redemption in redemptions:
            if redemption.state != 'draft':
                raise RedemptionError(gettext(
                        'huinong_redemption.msg_redemption_discard',
                        redemption=redemption.rec_name))

    @classmethod
    def redeem(cls, values):
        """Create and confirm a redemption in one call (the counter's RPC).

        values: {'store': id, 'card': card number, 'pin': PIN,
        'key': a unique key made by the client for this confirmation,
        'lines': [{'product': id | 'barcode': EAN, 'quantity': n}
            | {'entitlement_type': id, 'quantity': n}]}
        The same key again returns the first result and changes nothing.
        Return {'id', 'number', 'points', 'balance'}."""
        pool = Pool()
        Card = pool.get('huinong.card')
        Product = pool.get('product.product')
        Location = pool.get('stock.location')
        key = (values.get('key') or '').strip()
        if not key:
            raise RedemptionError(gettext(
                    'huinong_redemption.msg_redemption_key_required'))
        with without_check_access():
            done = cls.search([('key', '=', key)], limit=1)
        if done:
            redemption, = done
            if redemption.state == 'done':
                return redemption._result()
            raise RedemptionError(gettext(
                    'huinong_redemption.msg_redemption_key_used',
                    key=key))
        number = (values.get('card') or '').strip()
        with without_check_access():
            cards = Card.search([('number', '=', number)], limit=1)
        if not cards:
            raise RedemptionError(gettext(
                    'huinong_redemption.msg_card_unknown', number=number))
        card, = cards
        # Who may redeem where, with its own message, before the record
        # rules refuse the creation
        store = Location(values.get('store') or -1)
        if not values.get('store') or not store.huinong_store:
            raise RedemptionError(gettext(
                    'huinong_redemption.msg_store_unknown'))
        cls._check_clerk(store, card.household)
        lines = []
        for line in values.get('lines') or []:
            quantity = line.get('quantity', 1)
            if line.get('entitlement_type'):
                lines.append({
                        'kind': 'entitlement',
                        'entitlement_type': line['entitlement_type'],
                        'product': line.get('product'),
                        'quantity': quantity,
                        })
                continue
            product = line.get('product')
            if not product and line.get('barcode'):
                found = Product.search_huinong_barcode(line['barcode'])
                if not found:
                    raise RedemptionError(gettext(
                            'huinong_redemption.msg_barcode_unknown',
                            code=line['barcode']))
                product = found.id
            lines.append({
                    'kind': 'goods',
                    'product': product,
                    'quantity': quantity,
                    })
        # The locks and the PIN before the redemption exists: creating it
        # share-locks the card's row, which the PIN's failure counter
        # (a transaction of its own) must lock
        cls._lock(store, [card.household], [
                Product(l['product']) for l in lines if l.get('product')])
        card.check_pin(values.get('pin'))
        redemption, = cls.create([{
                    'store': store.id,
                    'card': card.id,
                    'key': key,
                    'lines': [('create', lines)],
                    }])
        cls._confirm(redemption, None, pin_checked=True)
        return cls(redemption.id)._result()

    def _result(self):
        return {
            'id': self.id,
            'number': self.number,
            'points': self.total_points,
            'balance': self.household.huinong_points_balance,
            }

    @classmethod
    def confirm(cls, redemptions, pin):
        """Confirm the redemptions at the counter with the household's PIN.
        A done one is left as it is (a repeated request)."""
        for redemption in redemptions:
            if redemption.state == 'done':
                continue
            cls._confirm(redemption, pin)

    @classmethod
    def _lock(cls, store, households, products):
        """Take the locks, at the start of the transaction (trytond
        restarts it with them): the household's points and counts, then
        the store's stock of these products, so that what is read after is
        what the other counters committed before"""
        pool = Pool()
        Ledger = pool.get('huinong.points.ledger')
        StockLock = pool.get('huinong.redemption.stock_lock')
        # Both kinds at once: one restart of the request, not two
        missing = []
        with without_check_access():
            for lock in [
                    functools.partial(Ledger.lock_households, households),
                    functools.partial(
                        StockLock.lock_stock, store, products),
                    ]:
                try:
                    lock()
                except TransactionError as error:
                    missing.append(error)
        if missing:
            raise _LocksError(missing)
        cls._touch_locks(store, households, products)

    @classmethod
    def _touch_locks(cls, store, households, products):
        """Update the locked rows (to themselves), so that no transaction
        that saw the database before this one commits can take them after.

        PostgreSQL runs trytond's transactions in REPEATABLE READ and takes
        the locks of a restarted transaction one table after the other:
        its snapshot is from the first lock statement, and a counter whose
        stock lock came free between two of them would not see the stock
        moves of the counter that held it. A row this transaction updated
        makes that later lock fail with a serialization error instead, and
        trytond takes the locks again in a fresh transaction."""
        pool = Pool()
        Party = pool.get('party.party')
        StockLock = pool.get('huinong.redemption.stock_lock')
        if backend.name == 'sqlite':
            return
        cursor = Transaction().connection.cursor()
        party = Party.__table__()
        household_ids = sorted({int(h) for h in households})
        if household_ids:
            cursor.execute(*party.update(
                    [party.write_uid], [party.write_uid],
                    where=fields.SQL_OPERATORS['in'](
                        party.id, household_ids)))
        product_ids = sorted({int(p) for p in products})
        if product_ids:
            lock = StockLock.__table__()
            cursor.execute(*lock.update(
                    [lock.write_date], [dt.datetime.now()],
                    where=(lock.store == store.id)
                    & fields.SQL_OPERATORS['in'](lock.product, product_ids)))

    @classmethod
    def _confirm(cls, redemption, pin, pin_checked=False, at=None,
            notify=True):
        """Confirm the draft; at is the time of the confirmation (now by
        default, an earlier one for the demo data)"""
        pool = Pool()
        Ledger = pool.get('huinong.points.ledger')
        Party = pool.get('party.party')
        Product = pool.get('product.product')
        Grant = pool.get('huinong.entitlement.grant')
        Date = pool.get('ir.date')
        Line = pool.get('huinong.redemption.line')
        transaction = Transaction()

        if redemption.state != 'draft':
            raise RedemptionError(gettext(
                    'huinong_redemption.msg_redemption_not_draft',
                    redemption=redemption.rec_name))
        card = redemption.card
        household = card.household
        store = redemption.store
        cls._check_clerk(store, household)
        if card.state != 'issued':
            raise RedemptionError(gettext(
                    'huinong_card.msg_card_not_usable_%s' % (
                        card.state if card.state in {
                            'locked', 'lost', 'replaced', 'cancelled'}
                        else 'not_issued'),
                    card=card.number or household.rec_name))
        config = Ledger.config()
        if at is None:
            at = dt.datetime.now()
            with transaction.set_context(company=config.points_company.id):
                date = Date.today()
        else:
            date = at.date()
        lines = list(redemption.lines)
        if not lines:
            raise RedemptionError(gettext(
                    'huinong_redemption.msg_redemption_no_lines',
                    redemption=redemption.rec_name))
        for line in lines:
            line.check_line()
        products = list({l.product for l in lines if l.product})

        cls._lock(store, [household], products)
        # The PIN after the locks: a restart does not check it twice
        if not pin_checked:
            card.check_pin(pin)

        goods = [l for l in lines if l.kind == 'goods']
        prices = Product.check_huinong_redeemable(
            [l.product for l in goods], date=date)
        for line in goods:
            line.unit_points = _points(prices[line.product.id])
            line.points = line.unit_points * line.quantity
        for line in lines:
            if line.kind == 'entitlement':
                if line.product:
                    Product.check_huinong_redeemable(
                        [line.product], date=date)
                line.unit_points = Decimal(0)
                line.points = Decimal(0)
        total = sum((l.points for l in lines), Decimal(0))

        with without_check_access():
            balance = Party.get_huinong_points_balance(
                [household], 'huinong_points_balance')[household.id]
        if total > balance:
            raise RedemptionError(gettext(
                    'huinong_redemption.msg_balance_short',
                    household=household.rec_name,
                    balance=balance, points=total))
        cls._check_stock(store, lines, date)
        used = {}
        for line in lines:
            if line.kind == 'entitlement':
                used[line.entitlement_type] = (
                    used.get(line.entitlement_type, 0) + line.quantity)
        if used:
            with without_check_access():
                remaining = Grant.get_remaining_counts(
                    [household.id], date)[household.id]
            for type_, quantity in used.items():
                if remaining.get(type_.id, 0) < quantity:
                    raise RedemptionError(gettext(
                            'huinong_card.msg_entitlement_not_enough',
                            household=household.rec_name,
                            type=type_.rec_name,
                            remaining=remaining.get(type_.id, 0),
                            quantity=quantity))

        with without_check_access():
            cls._do_stock(redemption, lines, date)
            Line.save(lines)
            move = None
            if total:
                move = Ledger.redeem(
                    household, total, store, date,
                    record_gettext(
                        'huinong_redemption.msg_ledger_description',
                        store=store.rec_name, household=household.rec_name),
                    redemption)
            cls._use_entitlements(redemption, lines, date)
            cls.write([redemption], {
                    'number': cls._next_number(),
                    'date': date,
                    'clerk': transaction.user or None,
                    'done_at': at,
                    'out_of_hours': not cls._is_open(store, at),
                    'ledger_move': move.id if move else None,
                    'household': household.id,
                    'state': 'done',
                    })
        if notify:
            cls._notify(redemption, total, balance - total)

    @classmethod
    def _check_clerk(cls, store, household):
        """The user serves at the store, the household is of the store's
        township and the user is not of the household"""
        pool = Pool()
        User = pool.get('res.user')
        user_id = Transaction().user
        if not user_id:
            return
        if store.id not in User.get_huinong_store_ids():
            raise RedemptionError(gettext(
                    'huinong_redemption.msg_clerk_store',
                    store=store.rec_name))
        with without_check_access():
            user = User(user_id)
            own = user.huinong_household
            township = household.huinong_township
        # A store serves the households registered in its township
        # (服务范围为户籍在本辖区内的农户); the answer says nothing of the
        # card's household (no name, no balance)
        if not township or township != store.huinong_township:
            raise RedemptionError(gettext(
                    'huinong_redemption.msg_store_service_area',
                    store=store.rec_name))
        if own and own.id == household.id:
            raise RedemptionError(gettext(
                    'huinong_redemption.msg_clerk_own_household',
                    household=household.rec_name))

    @classmethod
    def _is_open(cls, store, now):
        Hours = Pool().get('huinong.store.opening_hours')
        return Hours.is_open(store, now)

    @classmethod
    def _check_stock(cls, store, lines, date):
        "Every product of the lines is in stock at the store in quantity"
        pool = Pool()
        Product = pool.get('product.product')
        wanted = {}
        for line in lines:
            if line.product:
                wanted[line.product] = (
                    wanted.get(line.product, 0) + line.quantity)
        if not wanted:
            return
        storage = store.storage_location
        with Transaction().set_context(
                stock_date_end=date, with_childs=True), \
                without_check_access():
            quantities = Product.products_by_location(
                [storage.id], with_childs=True,
                grouping_filter=([p.id for p in wanted],))
        for product, quantity in wanted.items():
            available = quantities.get((storage.id, product.id), 0)
            if available < quantity:
                raise RedemptionError(gettext(
                        'huinong_redemption.msg_stock_short',
                        product=product.rec_name,
                        store=store.rec_name,
                        available=int(max(available, 0)),
                        quantity=quantity))

    @classmethod
    def _do_stock(cls, redemption, lines, date):
        """Move the goods out of the store to the household, done, and
        link each line to its move.

        The moves are written in one INSERT, already done, after the checks
        stock.move makes that can fail here (see doc/design.rst, "The stock
        moves"): the products are goods of their default unit, leaving the
        store's storage for the customer location, in a stock period that
        is not closed. Nothing of stock's `do` applies to such a move but
        its cost price, the product's, which is written with it."""
        pool = Pool()
        Move = pool.get('stock.move')
        Ledger = pool.get('huinong.points.ledger')
        ModelData = pool.get('ir.model.data')
        Product = pool.get('product.product')
        transaction = Transaction()
        goods_lines = [l for l in lines if l.product]
        if not goods_lines:
            return
        config = Ledger.config()
        company = config.points_company
        storage = redemption.store.storage_location
        customer = ModelData.get_id('stock', 'location_customer')
        products = list({l.product for l in goods_lines})
        with transaction.set_context(company=company.id):
            cost_prices = {p.id: p.cost_price
                for p in Product.browse(products)}
        for product in products:
            if product.type != 'goods':
                raise RedemptionError(gettext(
                        'huinong_redemption.msg_line_product'))

        table = Move.__table__()
        defaults = cls._move_defaults()
        now = dt.datetime.now()
        moves = []
        database = transaction.database
        cursor = transaction.connection.cursor()
        for line in goods_lines:
            product = line.product
            value = dict(defaults)
            value.update({
                    'product': product.id,
                    'unit': product.default_uom.id,
                    'quantity': float(line.quantity),
                    'internal_quantity': float(line.quantity),
                    'from_location': storage.id,
                    'to_location': customer,
                    'effective_date': date,
                    'planned_date': date,
                    'company': company.id,
                    # One point is one yuan (R-PTS-1)
                    'unit_price': line.unit_points,
                    'currency': company.currency.id,
                    'cost_price': cost_prices[product.id],
                    'state': 'done',
                    'origin': str(line),
                    'create_uid': transaction.user,
                    'create_date': now,
                    })
            names = sorted(value)
            columns = [getattr(table, n) for n in names]
            values = [[value[n] for n in names]]
            if database.has_returning():
                cursor.execute(*table.insert(columns, values, [table.id]))
                move_id, = cursor.fetchone()
            else:
                cursor.execute(*table.insert(columns, values))
                move_id = database.lastid(cursor)
            moves.append(move_id)
        transaction.counter += 1
        for cache in transaction.cache.values():
            cache.pop(Move.__name__, None)
        moves = Move.browse(moves)
        Move.check_period_closed(moves)
        for line, move in zip(goods_lines, moves):
            line.stock_move = move

    @classmethod
    def _move_defaults(cls):
        "The defaults of the stored columns of a stock move, other modules'"
        return stored_defaults(Pool().get('stock.move'))

    @classmethod
    def _use_entitlements(cls, redemption, lines, date):
        Use = Pool().get('huinong.entitlement.use')
        for line in lines:
            if line.kind == 'entitlement':
                Use.record_use(redemption.household or line.redemption.card
                    .household, line.entitlement_type, line.quantity,
                    date=date, origin=line)

    @classmethod
    def _next_number(cls):
        """An ordinary sequence: on PostgreSQL a database sequence, which
        no two counters wait on (a strict one would lock one row)"""
        pool = Pool()
        Sequence = pool.get('ir.sequence')
        ModelData = pool.get('ir.model.data')
        return Sequence(ModelData.get_id(
                'huinong_redemption', 'sequence_redemption')).get()

    @classmethod
    def _notify(cls, redemption, points, balance):
        "Queue the text message to the household"
        SMS = Pool().get('huinong.sms')
        household = redemption.card.household
        if not household.huinong_mobile:
            return
        language = household.lang.code if household.lang else 'zh_CN'
        with without_check_access():
            SMS.queue([{
                        'phone': household.huinong_mobile,
                        'text': gettext(
                            'huinong_redemption.msg_sms_redeemed', language,
                            store=redemption.store.name,
                            points=points, balance=balance),
                        'origin': redemption,
                        }])

    # Cancel / return -------------------------------------------------------

    @classmethod
    def cancel(cls, redemptions, reason):
        """Reverse done redemptions of today (township office): stock moves
        back to the store, a reversing ledger move, the counts given back.
        Nothing is deleted."""
        pool = Pool()
        User = pool.get('res.user')
        Date = pool.get('ir.date')
        Ledger = pool.get('huinong.points.ledger')
        Move = pool.get('stock.move')
        Use = pool.get('huinong.entitlement.use')
        reason = (reason or '').strip()
        if not reason:
            raise RedemptionError(gettext(
                    'huinong_redemption.msg_cancel_reason'))
        townships = None
        if not User.is_huinong_county_wide():
            townships = set(User.get_huinong_scope()[1])
        config = Ledger.config()
        with Transaction().set_context(company=config.points_company.id):
            today = Date.today()
        for redemption in redemptions:
            if redemption.state != 'done':
                raise RedemptionError(gettext(
                        'huinong_redemption.msg_cancel_not_done',
                        redemption=redemption.rec_name))
            if redemption.date != today:
                raise RedemptionError(gettext(
                        'huinong_redemption.msg_cancel_same_day',
                        redemption=redemption.rec_name))
            if (townships is not None
                    and redemption.store.huinong_township.id
                    not in townships):
                raise RedemptionError(gettext(
                        'huinong_redemption.msg_cancel_area',
                        redemption=redemption.rec_name))
        with without_check_access():
            Ledger.lock_households([r.household for r in redemptions])
            now = dt.datetime.now()
            for redemption in redemptions:
                returns = []
                for line in redemption.lines:
                    if line.stock_move:
                        move = line.stock_move
                        returns.append(Move(
                                product=move.product,
                                unit=move.unit,
                                quantity=move.quantity,
                                from_location=move.to_location,
                                to_location=move.from_location,
                                effective_date=today,
                                planned_date=today,
                                company=move.company,
                                unit_price=move.unit_price,
                                currency=move.currency,
                                origin=line))
                if returns:
                    Move.save(returns)
                    Move.do(returns)
                uses = Use.search([
                        ('origin', 'in', [str(l) for l in redemption.lines]),
                        ('reverses', '=', None),
                        ('quantity', '>', 0),
                        ])
                if uses:
                    Use.reverse(uses, reason, date=today)
                cancel_move = None
                if redemption.ledger_move:
                    cancel_move, = Ledger.reverse(
                        [redemption.ledger_move], reason, date=today,
                        post=False)
                cls.write([redemption], {
                        'state': 'cancelled',
                        'cancel_reason': reason,
                        'cancelled_by': Transaction().user or None,
                        'cancelled_at': now,
                        'cancel_move': cancel_move.id if cancel_move else None,
                        })


class _LocksError(TransactionError):
    "Several locks to take at the start of the transaction"

    def __init__(self, errors):
        super().__init__()
        self.errors = errors

    def fix(self, extras):
        super().fix(extras)
        for error in self.errors:
            error.fix(extras)


class RedemptionLine(ModelSQL, ModelView):
    "Redemption Line"
    __name__ = 'huinong.redemption.line'

    _draft = {'readonly': Eval('redemption_state') != 'draft'}

    redemption = fields.Many2One(
        'huinong.redemption', "Redemption", required=True,
        ondelete='CASCADE')
    redemption_state = fields.Function(fields.Selection(
            STATES, "Redemption State"),
        'on_change_with_redemption_state')
    kind = fields.Selection([
            ('goods', "Goods for Points"),
            ('entitlement', "Counted Entitlement"),
            ], "Kind", required=True, states=_draft)
    product = fields.Many2One(
        'product.product', "Product", ondelete='RESTRICT',
        domain=[('type', '=', 'goods')],
        states={
            'required': Eval('kind') == 'goods',
            'readonly': Eval('redemption_state') != 'draft',
            })
    entitlement_type = fields.Many2One(
        'huinong.entitlement.type', "Entitlement", ondelete='RESTRICT',
        states={
            'required': Eval('kind') == 'entitlement',
            'invisible': Eval('kind') != 'entitlement',
            'readonly': Eval('redemption_state') != 'draft',
            })
    quantity = WholeNumber("Quantity", required=True, states=_draft,
        domain=[('quantity', '>', 0)])
    unit_points = fields.Numeric("Points Price", digits=POINTS_DIGITS,
        readonly=True)
    points = fields.Numeric("Points", digits=POINTS_DIGITS, readonly=True)
    stock_move = fields.Many2One(
        'stock.move', "Stock Move", readonly=True, ondelete='RESTRICT')

    del _draft

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('redemption')
        cls._order = [('redemption', 'DESC'), ('id', 'ASC')]

    @classmethod
    def default_kind(cls):
        return 'goods'

    @classmethod
    def default_quantity(cls):
        return 1

    @fields.depends('redemption', '_parent_redemption.state')
    def on_change_with_redemption_state(self, name=None):
        if self.redemption:
            return self.redemption.state

    @fields.depends('product', 'quantity', 'kind', 'redemption',
        '_parent_redemption.date')
    def on_change_product(self):
        "Show the points price of today (set again on confirmation)"
        pool = Pool()
        Product = pool.get('product.product')
        self.unit_points = None
        if self.product and self.kind == 'goods':
            date = self.redemption.date if self.redemption else None
            price = Product.get_huinong_points_prices(
                [self.product], date=date)[self.product.id]
            if price is not None:
                self.unit_points = _points(price)
        self.on_change_quantity()

    @fields.depends('quantity', 'unit_points', 'kind')
    def on_change_quantity(self):
        if self.kind == 'entitlement':
            self.points = Decimal(0)
        elif self.unit_points is not None and self.quantity:
            self.points = self.unit_points * self.quantity
        else:
            self.points = None

    def get_rec_name(self, name):
        if self.kind == 'entitlement' and self.entitlement_type:
            what = self.entitlement_type.rec_name
        else:
            what = self.product.rec_name if self.product else ''
        return '%s × %s' % (what, self.quantity)

    def check_line(self):
        "Raise when the line cannot be confirmed as it is"
        quantity = self.quantity
        if (not isinstance(quantity, int) or isinstance(quantity, bool)
                or quantity <= 0):
            raise RedemptionError(gettext(
                    'huinong_redemption.msg_line_quantity',
                    line=self.rec_name))
        if self.kind == 'goods' and not self.product:
            raise RedemptionError(gettext(
                    'huinong_redemption.msg_line_product'))
        if self.kind == 'entitlement' and not self.entitlement_type:
            raise RedemptionError(gettext(
                    'huinong_redemption.msg_line_entitlement'))

    @classmethod
    def check_modification(cls, mode, lines, values=None, external=False):
        super().check_modification(
            mode, lines, values=values, external=external)
        if external and mode in {'write', 'delete'}:
            for line in lines:
                if line.redemption.state != 'draft':
                    raise AccessError(gettext(
                            'huinong_redemption.msg_redemption_write',
                            redemption=line.redemption.rec_name))

    @classmethod
    def on_modification(cls, mode, lines, field_names=None):
        super().on_modification(mode, lines, field_names=field_names)
        if mode in {'create', 'write'} and (field_names is None
                or field_names & {'product', 'quantity', 'kind'}):
            cls._set_draft_points(lines)

    @classmethod
    def _set_draft_points(cls, lines):
        """Store the points of draft lines at the day's approved price, as
        the counter shows them (set again on confirmation). By SQL: the
        fields are read-only, and a write would come back here."""
        pool = Pool()
        Product = pool.get('product.product')
        Date = pool.get('ir.date')
        lines = [l for l in lines if l.redemption.state == 'draft']
        if not lines:
            return
        prices = Product.get_huinong_points_prices(
            [l.product for l in lines if l.product], Date.today())
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        for line in lines:
            unit_points = points = None
            if line.kind == 'entitlement':
                unit_points = points = Decimal(0)
            elif line.product and prices.get(line.product.id) is not None:
                unit_points = _points(prices[line.product.id])
                if isinstance(line.quantity, int):
                    points = unit_points * line.quantity
            cursor.execute(*table.update(
                    [table.unit_points, table.points],
                    [unit_points, points],
                    where=table.id == line.id))
        Transaction().counter += 1
        for cache in Transaction().cache.values():
            cache.pop(cls.__name__, None)


class StockLock(ModelSQL):
    """Redemption Stock Lock

    One row per store and product, locked by a confirmation for the goods
    it takes: two counters of the same store cannot both take the last
    unit, and counters of different stores never wait on each other."""
    __name__ = 'huinong.redemption.stock_lock'

    store = fields.Many2One(
        'stock.location', "Store", required=True, ondelete='CASCADE')
    product = fields.Many2One(
        'product.product', "Product", required=True, ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('store_product_unique', Unique(t, t.store, t.product),
                'huinong_redemption.msg_stock_lock_unique'),
            ]

    @classmethod
    def lock_stock(cls, store, products):
        """Lock the rows of the store's products (SQLite locks the whole
        database on any write: nothing to do there).

        A missing row is created in a transaction of its own and committed
        at once, so that the next confirmation of another counter finds it
        and waits on it. When the store or the product is not committed
        yet (in the same transaction), the row is created here: nobody else
        can see them anyway."""
        if backend.name == 'sqlite' or not products:
            return
        product_ids = sorted({p.id for p in products})
        ids = cls._lock_ids(store.id, product_ids)
        missing = [p for p in product_ids if p not in ids]
        if missing:
            transaction = Transaction()
            try:
                with transaction.new_transaction() as side:
                    table = cls.__table__()
                    cursor = side.connection.cursor()
                    now = dt.datetime.now()
                    cursor.execute(*table.insert(
                            [table.store, table.product, table.create_uid,
                                table.create_date],
                            [[store.id, p, Literal(0), now]
                                for p in missing],
                            on_conflict=Conflict(table,
                                indexed_columns=[table.store, table.product]
                                )))
                    side.commit()
                with transaction.new_transaction() as side:
                    ids = cls._lock_ids(store.id, product_ids)
            except backend.DatabaseIntegrityError:
                cls.create([{'store': store.id, 'product': p}
                        for p in missing])
        if ids:
            cls.lock(cls.browse(sorted(ids.values())))

    @classmethod
    def _lock_ids(cls, store_id, product_ids):
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.product, table.id,
                where=(table.store == store_id)
                & fields.SQL_OPERATORS['in'](table.product, product_ids)))
        return dict(cursor)


class ConfirmStart(ModelView):
    "Confirm Redemption"
    __name__ = 'huinong.redemption.confirm.start'

    head = fields.Char("Head of Household", readonly=True)
    total_points = fields.Numeric(
        "Total Points", digits=POINTS_DIGITS, readonly=True)
    balance = fields.Numeric(
        "Points Balance", digits=POINTS_DIGITS, readonly=True)
    pin = fields.Char("PIN", required=True,
        help="The household types the card's PIN.")


class Confirm(Wizard):
    "Confirm Redemption"
    __name__ = 'huinong.redemption.confirm'

    start = StateView('huinong.redemption.confirm.start',
        'huinong_redemption.confirm_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Confirm", 'confirm', 'tryton-ok', default=True),
            ])
    confirm = StateTransition()
    print_ = StateReport('huinong.redemption.receipt')

    def default_start(self, fields):
        redemption = self.record
        return {
            'head': redemption.head,
            'total_points': sum(
                (l.points or 0 for l in redemption.lines), Decimal(0)),
            'balance': redemption.balance,
            }

    def transition_confirm(self):
        pin = self.start.pin
        # The PIN is never kept in the wizard's session
        self.start.pin = None
        self.model.confirm([self.record], pin)
        return 'print_'

    def do_print_(self, action):
        "The receipt for the household"
        return action, {'ids': [self.record.id]}

    def transition_print_(self):
        return 'end'

    def end(self):
        return 'reload'


class CancelStart(ModelView):
    "Cancel Redemption"
    __name__ = 'huinong.redemption.cancel.start'

    reason = fields.Text("Reason", required=True)


class Cancel(Wizard):
    "Cancel Redemption"
    __name__ = 'huinong.redemption.cancel'

    start = StateView('huinong.redemption.cancel.start',
        'huinong_redemption.cancel_start_view_form', [
            Button("Back", 'end', 'tryton-cancel'),
            Button("Cancel Redemption", 'cancel', 'tryton-ok', default=True),
            ])
    cancel = StateTransition()

    def transition_cancel(self):
        self.model.cancel(self.records, self.start.reason)
        return 'end'

    def end(self):
        return 'reload'


class User(metaclass=PoolMeta):
    __name__ = 'res.user'

    huinong_household = fields.Many2One(
        'party.party', "Own Household", ondelete='SET NULL',
        domain=[('huinong_household', '=', True)],
        help="The household the user belongs to: a clerk cannot redeem "
        "for it.")


class SMS(metaclass=PoolMeta):
    __name__ = 'huinong.sms'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['huinong.redemption']


class StockMove(metaclass=PoolMeta):
    __name__ = 'stock.move'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['huinong.redemption.line']


class EntitlementUse(metaclass=PoolMeta):
    __name__ = 'huinong.entitlement.use'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['huinong.redemption.line']


class AccountMove(metaclass=PoolMeta):
    __name__ = 'account.move'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['huinong.redemption']


class Ledger(metaclass=PoolMeta):
    __name__ = 'huinong.points.ledger'

    @classmethod
    def redeem(cls, household, points, store, date, description, origin):
        """Return a draft move of a redemption: Dr household points /
        Cr store redemptions payable (party the store's operator).

        It counts in the household's balance at once; post_drafts posts
        it later with others, so that the counters never wait on the
        fiscal year's post numbering (one row)."""
        pool = Pool()
        Move = pool.get('account.move')
        config = cls.config()
        if not config.points_payable_account:
            raise RedemptionError(gettext(
                    'huinong_points.msg_ledger_not_set_up'))
        if not store.huinong_operator:
            raise RedemptionError(gettext(
                    'huinong_redemption.msg_store_operator',
                    store=store.rec_name))
        points = _points(points)
        move = cls._move(date, description, origin)
        move.save()
        # The lines in one INSERT, as the month's credit (no per-line
        # validation of the ORM: a tenth of the counter's time)
        cls._insert_lines(move, [
                cls._household_row(config, household.id, -points), {
                    'account': config.points_payable_account.id,
                    'party': store.huinong_operator.id,
                    'debit': Decimal(0),
                    'credit': points,
                    'second_currency': None,
                    'amount_second_currency': None,
                    }])
        move = Move(move.id)
        Move.validate_move([move])
        Move.check_huinong_points([move])
        return move

    @classmethod
    def post_drafts(cls, date=None):
        """Post the draft moves of the points journal (redemptions and
        their reversals) dated before date (today by default), a thousand
        at a time: one wait on the post numbering for all of them"""
        pool = Pool()
        Move = pool.get('account.move')
        Date = pool.get('ir.date')
        config = cls.config()
        if not config.points_company:
            return []
        if date is None:
            with Transaction().set_context(
                    company=config.points_company.id):
                date = Date.today()
        with without_check_access():
            # Redemptions and their reversals: the only drafts of the
            # points journal
            moves = Move.search([
                    ('state', '=', 'draft'),
                    ('journal', '=', config.points_journal.id),
                    ('date', '<', date),
                    ], order=[('date', 'ASC'), ('id', 'ASC')])
            for sub in grouped_slice(moves, 1000):
                Move.post(list(sub))
        return moves


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('huinong.points.ledger|post_drafts',
                "Post the Redemptions' Ledger Moves"))
