# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Goods near or past their expiry date per store (R-GOODS-3): the expiry
dates recorded at the inspection of the receipts, with the part of each
receipt that is still in stock."""
import datetime as dt
from collections import defaultdict

from sql import Null
from sql.conditionals import Coalesce

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.report import Report
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateAction, StateView, Wizard

DEFAULT_DAYS = 30


def _context_date():
    pool = Pool()
    Date = pool.get('ir.date')
    return Transaction().context.get('date') or Date.today()


def _context_days():
    days = Transaction().context.get('days')
    return DEFAULT_DAYS if days is None else days


class ExpiryContext(ModelView):
    "Goods Near Expiry Context"
    __name__ = 'huinong.store.expiry.context'

    store = fields.Many2One(
        'stock.location', "Store", domain=[('huinong_store', '=', True)])
    days = fields.Integer(
        "Days Ahead", required=True,
        domain=[('days', '>=', 0)],
        help="Show the goods that expire within this number of days.")
    date = fields.Date("Date", required=True)

    @classmethod
    def default_store(cls):
        pool = Pool()
        User = pool.get('res.user')
        store_ids = User.get_huinong_store_ids()
        if len(store_ids) == 1:
            return store_ids[0]

    @classmethod
    def default_days(cls):
        return DEFAULT_DAYS

    @classmethod
    def default_date(cls):
        pool = Pool()
        Date = pool.get('ir.date')
        return Date.today()


class Expiry(ModelSQL, ModelView):
    "Goods Near Expiry"
    __name__ = 'huinong.store.expiry'

    store = fields.Many2One('stock.location', "Store", readonly=True)
    product = fields.Many2One('product.product', "Product", readonly=True)
    received_date = fields.Date("Received", readonly=True)
    received_quantity = fields.Float("Received Quantity", readonly=True)
    production_date = fields.Date("Production Date", readonly=True)
    expiry_date = fields.Date("Expiry Date", readonly=True)
    certificate = fields.Char("Certificate", readonly=True)
    remaining_quantity = fields.Function(fields.Float(
            "In Stock",
            help="The part of the receipt still in stock, the oldest "
            "receipts being used first."),
        'get_remaining_quantity', searcher='search_remaining_quantity')
    days_left = fields.Function(fields.Integer(
            "Days Left", help="Negative when past the expiry date."),
        'get_days_left')
    status = fields.Function(fields.Selection([
                ('expired', "Expired"),
                ('near', "Near Expiry"),
                ], "Status"),
        'get_days_left')
    status_string = status.translated('status')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [
            ('expiry_date', 'ASC'),
            ('store', 'ASC'),
            ('id', 'ASC'),
            ]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Move = pool.get('stock.move')
        Location = pool.get('stock.location')
        move = Move.__table__()
        supplier = Location.__table__()
        stores = Location._huinong_store_query()
        context = Transaction().context
        limit = _context_date() + dt.timedelta(days=_context_days())
        where = ((move.state == 'done')
            & (move.huinong_expiry_date != Null)
            & (move.huinong_expiry_date <= limit)
            & (supplier.type == 'supplier'))
        if context.get('store'):
            where &= stores.store == context['store']
        return (move
            .join(supplier, condition=move.from_location == supplier.id)
            .join(stores, condition=move.to_location == stores.id)
            .select(
                move.id.as_('id'),
                move.create_uid.as_('create_uid'),
                move.create_date.as_('create_date'),
                move.write_uid.as_('write_uid'),
                move.write_date.as_('write_date'),
                stores.store.as_('store'),
                move.product.as_('product'),
                Coalesce(move.effective_date, move.planned_date).as_(
                    'received_date'),
                move.internal_quantity.as_('received_quantity'),
                move.huinong_production_date.as_('production_date'),
                move.huinong_expiry_date.as_('expiry_date'),
                move.huinong_certificate.as_('certificate'),
                where=where))

    @classmethod
    def get_remaining_quantity(cls, records, name):
        return cls._remaining_quantities(records)

    @classmethod
    def _remaining_quantities(cls, records):
        """Return the quantity still in stock of each receipt: the stock of
        the product in the store is given to the latest receipts first"""
        pool = Pool()
        Move = pool.get('stock.move')
        Product = pool.get('product.product')
        result = {r.id: 0. for r in records}
        by_store = defaultdict(set)
        for record in records:
            by_store[record.store.id].add(record.product.id)
        with without_check_access(), Transaction().set_context(
                stock_date_end=_context_date()):
            for store_id, product_ids in by_store.items():
                product_ids = sorted(product_ids)
                quantities = Product.products_by_location(
                    [store_id], with_childs=True,
                    grouping_filter=(product_ids,))
                moves = Move.search([
                        ('to_location.huinong_store_of', '=', store_id),
                        ('from_location.type', '=', 'supplier'),
                        ('state', '=', 'done'),
                        ('product', 'in', product_ids),
                        ], order=[
                        ('effective_date', 'DESC'),
                        ('id', 'DESC'),
                        ])
                left = {p: max(quantities.get((store_id, p), 0), 0)
                    for p in product_ids}
                for move in moves:
                    quantity = min(move.internal_quantity,
                        left[move.product.id])
                    left[move.product.id] -= quantity
                    if move.id in result:
                        result[move.id] = quantity
        return result

    @classmethod
    def search_remaining_quantity(cls, name, clause):
        _, operator, value = clause[:3]
        operators = {
            '>': lambda a, b: a > b,
            '>=': lambda a, b: a >= b,
            '<': lambda a, b: a < b,
            '<=': lambda a, b: a <= b,
            '=': lambda a, b: a == b,
            '!=': lambda a, b: a != b,
            }
        compare = operators[operator]
        with without_check_access():
            records = cls.search([])
        quantities = cls._remaining_quantities(records)
        return [('id', 'in', [
                    i for i, q in quantities.items()
                    if compare(q, value or 0)])]

    @classmethod
    def get_days_left(cls, records, names):
        date = _context_date()
        result = {n: {} for n in names}
        for record in records:
            days = (record.expiry_date - date).days
            if 'days_left' in result:
                result['days_left'][record.id] = days
            if 'status' in result:
                result['status'][record.id] = (
                    'expired' if days < 0 else 'near')
        return result


class PrintExpiryStart(ModelView):
    "Goods Near Expiry"
    __name__ = 'huinong.store.expiry.print.start'

    store = fields.Many2One(
        'stock.location', "Store", required=True,
        domain=[('huinong_store', '=', True)])
    days = fields.Integer(
        "Days Ahead", required=True,
        domain=[('days', '>=', 0)],
        help="List the goods that expire within this number of days.")

    @classmethod
    def default_store(cls):
        pool = Pool()
        Context = pool.get('huinong.store.expiry.context')
        return Context.default_store()

    @classmethod
    def default_days(cls):
        return DEFAULT_DAYS


class PrintExpiry(Wizard):
    "Goods Near Expiry"
    __name__ = 'huinong.store.expiry.print'
    start = StateView('huinong.store.expiry.print.start',
        'huinong_store.expiry_print_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Print", 'print_', 'tryton-print', default=True),
            ])
    print_ = StateAction('huinong_store.report_expiry')

    def default_start(self, fields):
        defaults = {}
        if (self.model and self.model.__name__ == 'stock.location'
                and self.record and self.record.huinong_store):
            defaults['store'] = self.record.id
        return defaults

    def do_print_(self, action):
        return action, {
            'store': self.start.store.id,
            'days': self.start.days,
            }


class ExpiryReport(Report):
    "Goods Near Expiry"
    __name__ = 'huinong.store.expiry.report'

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Location = pool.get('stock.location')
        Expiry = pool.get('huinong.store.expiry')
        Date = pool.get('ir.date')
        context = super().get_context(records, header, data)
        stores = Location.search([
                ('id', '=', data['store']),
                ('huinong_store', '=', True),
                ])
        if not stores:
            raise AccessError(gettext(
                    'huinong_store.msg_store_not_accessible'))
        store, = stores
        date = data.get('date') or Date.today()
        days = data.get('days', DEFAULT_DAYS)
        with Transaction().set_context(
                store=store.id, days=days, date=date):
            lines = Expiry.search([
                    ('store', '=', store.id),
                    ('remaining_quantity', '>', 0),
                    ])
            rows = [{
                    'product': l.product,
                    'expiry_date': l.expiry_date,
                    'production_date': l.production_date,
                    'received_date': l.received_date,
                    'remaining': l.remaining_quantity,
                    'days_left': l.days_left,
                    'expired': l.status == 'expired',
                    'status': l.status_string,
                    'certificate': l.certificate or '',
                    } for l in lines]
        context['store'] = store
        context['date'] = date
        context['days'] = days
        context['rows'] = rows
        context['format_quantity'] = format_quantity
        return context


def format_quantity(value):
    if value is None:
        return ''
    return ('%.4f' % value).rstrip('0').rstrip('.')
