# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Purchases of the stores (R-GOODS-1): a store buys only goods with an
approved points price that are not blocked."""
import datetime as dt
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.report import Report
from trytond.transaction import check_access
from trytond.wizard import Button, StateReport, StateView, Wizard

from .exceptions import PurchaseError
from .product import POINTS_DIGITS


class Purchase(metaclass=PoolMeta):
    __name__ = 'purchase.purchase'

    huinong_store = fields.Function(fields.Many2One(
            'stock.location', "Store",
            help="The points supermarket the purchase is for."),
        'on_change_with_huinong_store', searcher='search_huinong_store')

    @fields.depends('warehouse')
    def on_change_with_huinong_store(self, name=None):
        if self.warehouse and self.warehouse.huinong_store:
            return self.warehouse

    @classmethod
    def search_huinong_store(cls, name, clause):
        nested = clause[0][len(name):]
        return [
            ('warehouse.huinong_store', '=', True),
            ('warehouse' + nested, *clause[1:]),
            ]

    def _huinong_date(self):
        pool = Pool()
        Date = pool.get('ir.date')
        return self.purchase_date or Date.today()

    @classmethod
    def check_huinong_goods(cls, purchases):
        """Check that the purchases of stores buy only goods with an
        approved points price at the purchase date, not blocked"""
        pool = Pool()
        Line = pool.get('purchase.line')
        Line.check_huinong_goods(
            [l for p in purchases for l in p.lines])

    @classmethod
    def validate_fields(cls, purchases, field_names):
        super().validate_fields(purchases, field_names)
        if field_names & {'warehouse', 'purchase_date'}:
            cls.check_huinong_goods(
                [p for p in purchases if p.state in {'draft', 'quotation'}])

    @classmethod
    def quote(cls, purchases):
        cls.check_huinong_goods(purchases)
        super().quote(purchases)

    @classmethod
    def confirm(cls, purchases):
        # Again: a price review or a block may have come in meanwhile
        cls.check_huinong_goods(purchases)
        super().confirm(purchases)


class PurchaseLine(metaclass=PoolMeta):
    __name__ = 'purchase.line'

    huinong_points_price = fields.Function(fields.Numeric(
            "Points Price", digits=POINTS_DIGITS,
            help="The approved points price of the product at the purchase "
            "date."),
        'get_huinong_points_price')

    @classmethod
    def get_huinong_points_price(cls, lines, name):
        pool = Pool()
        Product = pool.get('product.product')
        result = dict.fromkeys([l.id for l in lines])
        by_date = {}
        for line in lines:
            if line.product:
                by_date.setdefault(
                    line.purchase._huinong_date(), []).append(line)
        for date, date_lines in by_date.items():
            prices = Product.get_huinong_points_prices(
                {l.product for l in date_lines}, date=date)
            for line in date_lines:
                result[line.id] = prices[line.product.id]
        return result

    @classmethod
    def validate_fields(cls, lines, field_names):
        super().validate_fields(lines, field_names)
        if field_names & {'product', 'purchase', 'type'}:
            cls.check_huinong_goods([l for l in lines
                    if l.purchase.state in {'draft', 'quotation'}])

    @classmethod
    def check_huinong_goods(cls, lines):
        "Raise PurchaseError for the first line a store may not buy"
        pool = Pool()
        Product = pool.get('product.product')
        by_date = {}
        for line in lines:
            purchase = line.purchase
            store = purchase.warehouse
            if (not store or not store.huinong_store
                    or line.type != 'line'):
                continue
            if not line.product:
                raise PurchaseError(gettext(
                        'huinong_store.msg_purchase_line_product',
                        purchase=purchase.rec_name,
                        store=store.rec_name,
                        line=line.rec_name))
            by_date.setdefault(purchase._huinong_date(), []).append(line)
        for date, date_lines in by_date.items():
            prices = Product.get_huinong_points_prices(
                {l.product for l in date_lines}, date=date)
            for line in date_lines:
                product = line.product
                store = line.purchase.warehouse
                if product.huinong_blocked:
                    raise PurchaseError(gettext(
                            'huinong_store.msg_purchase_blocked',
                            product=product.rec_name,
                            store=store.rec_name,
                            reason=product.huinong_block_reason or ''))
                if not prices[product.id]:
                    raise PurchaseError(gettext(
                            'huinong_store.msg_purchase_no_points_price',
                            product=product.rec_name,
                            store=store.rec_name,
                            date=date))


class PurchaseDetailStart(ModelView):
    "Goods Purchase Detail Sheet"
    __name__ = 'huinong.store.purchase_detail.start'

    store = fields.Many2One(
        'stock.location', "Store", required=True,
        domain=[('huinong_store', '=', True)])
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
    def default_store(cls):
        pool = Pool()
        User = pool.get('res.user')
        store_ids = User.get_huinong_store_ids()
        if len(store_ids) == 1:
            return store_ids[0]

    @classmethod
    def default_from_date(cls):
        pool = Pool()
        Date = pool.get('ir.date')
        return Date.today().replace(day=1)

    @classmethod
    def default_to_date(cls):
        pool = Pool()
        Date = pool.get('ir.date')
        return Date.today()


class PurchaseDetail(Wizard):
    "Goods Purchase Detail Sheet"
    __name__ = 'huinong.store.purchase_detail'

    start = StateView('huinong.store.purchase_detail.start',
        'huinong_store.purchase_detail_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Print", 'print_', 'tryton-print', default=True),
            ])
    print_ = StateReport('huinong.store.purchase_detail.report')

    def do_print_(self, action):
        return action, {
            'store': self.start.store.id,
            'from_date': self.start.from_date,
            'to_date': self.start.to_date,
            }

    def transition_print_(self):
        return 'end'


def _to_date(value):
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value)
    return value


class PurchaseDetailReport(Report):
    "Goods Purchase Detail Sheet"
    __name__ = 'huinong.store.purchase_detail.report'

    @classmethod
    def execute(cls, ids, data):
        pool = Pool()
        Location = pool.get('stock.location')
        ext, content, direct_print, name = super().execute(ids, data)
        store = Location(data['store'])
        name = '-'.join([name, store.code or store.name,
                _to_date(data['from_date']).isoformat(),
                _to_date(data['to_date']).isoformat()])
        return ext, content, direct_print, name

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Location = pool.get('stock.location')
        Date = pool.get('ir.date')
        context = super().get_context(records, header, data)
        from_date = _to_date(data['from_date'])
        to_date = _to_date(data['to_date'])
        if from_date > to_date:
            raise PurchaseError(gettext(
                    'huinong_store.msg_purchase_detail_dates'))
        with check_access():
            # The store must be one the user may see
            stores = Location.search([('id', '=', data['store'])])
        if not stores:
            raise AccessError(gettext(
                    'huinong_store.msg_purchase_detail_store'))
        store, = stores
        lines, total = cls.get_lines(store, from_date, to_date)
        context['store'] = store
        context['from_date'] = from_date
        context['to_date'] = to_date
        context['lines'] = lines
        context['total_amount'] = total
        context['today'] = Date.today()
        return context

    @classmethod
    def get_lines(cls, store, from_date, to_date):
        """Return the printable lines of the confirmed purchases of the store
        dated in the period, and their total amount. Searched with the
        user's access rights and record rules."""
        pool = Pool()
        Line = pool.get('purchase.line')
        Lang = pool.get('ir.lang')
        lang = Lang.get()
        with check_access():
            lines = Line.search([
                    ('purchase.warehouse', '=', store.id),
                    ('purchase.state', 'in',
                        ['confirmed', 'processing', 'done']),
                    ('purchase.purchase_date', '>=', from_date),
                    ('purchase.purchase_date', '<=', to_date),
                    ('type', '=', 'line'),
                    ], order=[
                    ('purchase.purchase_date', 'ASC'),
                    ('purchase.id', 'ASC'),
                    ('sequence', 'ASC NULLS FIRST'),
                    ('id', 'ASC'),
                    ])
            result = []
            total = Decimal(0)
            for i, line in enumerate(lines, 1):
                product = line.product
                barcode = product.identifier_get('ean') if product else None
                amount = line.amount or Decimal(0)
                total += amount
                result.append({
                        'sequence': i,
                        'product': product.name if product else (
                            line.description or ''),
                        'barcode': barcode.code if barcode else '',
                        'quantity': lang.format_number(
                            line.quantity, digits=line.unit.digits
                            if line.unit else 2),
                        'unit': line.unit.symbol if line.unit else '',
                        'unit_price': lang.format_number(
                            line.unit_price, digits=2),
                        'amount': lang.format_number(amount, digits=2),
                        'points_price': (
                            lang.format_number(
                                line.huinong_points_price, digits=0)
                            if line.huinong_points_price is not None
                            else ''),
                        'supplier': line.purchase.party.rec_name,
                        'date': lang.strftime(line.purchase.purchase_date),
                        })
        return result, lang.format_number(total, digits=2)
