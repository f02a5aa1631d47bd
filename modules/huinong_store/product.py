# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Goods: points prices that come only from an approved price review, the
food and drug block (recall) and EAN-13 barcodes (R-GOODS-1, R-GOODS-3)."""
import datetime as dt

from decimal import Decimal

from sql import Null, Window
from sql.functions import RowNumber
from sql.operators import Equal
from stdnum import ean
from stdnum.exceptions import InvalidChecksum, ValidationError as StdnumError

from trytond import backend
from trytond.i18n import gettext
from trytond.model import Exclude, Index, ModelSQL, ModelView, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .exceptions import (
    BarcodeError, BlockError, NotRedeemableError, PointsPriceError)

# Points are whole: PTS has no decimals
POINTS_DIGITS = (16, 0)


def round_points(value):
    "Return the value as whole points"
    return Decimal(value).quantize(Decimal(1))


def _is_food_drug():
    "Whether the current user is of the food and drug supervision"
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    if not Transaction().user:
        return True
    groups = set(User.get_groups())
    return bool(groups & {
            ModelData.get_id('huinong', 'group_food_drug'),
            ModelData.get_id('res', 'group_admin'),
            })


class Product(metaclass=PoolMeta):
    __name__ = 'product.product'

    huinong_points_price = fields.Function(fields.Numeric(
            "Points Price", digits=POINTS_DIGITS,
            help="Today's approved points price (PTS), from the price "
            "review."),
        'get_huinong_points_price')
    huinong_points_prices = fields.One2Many(
        'huinong.product.points_price', 'product', "Points Price History",
        readonly=True)
    huinong_blocked = fields.Boolean(
        "Blocked", readonly=True,
        help="Blocked by the food and drug supervision (recall): the "
        "product can be neither bought nor redeemed.")
    huinong_block_reason = fields.Text(
        "Block Reason", readonly=True,
        states={
            'invisible': ~Eval('huinong_blocked'),
            })
    huinong_blocked_by = fields.Many2One(
        'res.user', "Blocked By", readonly=True,
        states={
            'invisible': ~Eval('huinong_blocked'),
            })
    huinong_blocked_at = fields.DateTime(
        "Blocked At", readonly=True,
        states={
            'invisible': ~Eval('huinong_blocked'),
            })
    huinong_blocks = fields.One2Many(
        'huinong.product.block', 'product', "Blocks and Unblocks",
        readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'huinong_block_wizard': {
                    'invisible': Bool(Eval('huinong_blocked')),
                    'depends': ['huinong_blocked'],
                    },
                'huinong_unblock_wizard': {
                    'invisible': ~Eval('huinong_blocked'),
                    'depends': ['huinong_blocked'],
                    },
                })

    @classmethod
    def default_huinong_blocked(cls):
        return False

    # The number of products per query of get_huinong_points_prices
    _huinong_price_slice = None

    @classmethod
    def get_huinong_points_prices(cls, products, date=None):
        """Return {product id: points price or None} of the products at the
        date (today by default): the approved price of the latest
        effective date on or before the date; the latest approval wins on
        one date. One SQL query (per slice of IN_MAX products)."""
        pool = Pool()
        Date = pool.get('ir.date')
        PointsPrice = pool.get('huinong.product.points_price')
        if date is None:
            date = Date.today()
        product_ids = [int(p) for p in products]
        result = dict.fromkeys(product_ids)
        if not product_ids:
            return result
        table = PointsPrice.__table__()
        cursor = Transaction().connection.cursor()
        size = cls._huinong_price_slice or backend.MAX_QUERY_PARAMS
        for sub_ids in grouped_slice(sorted(set(product_ids)), size):
            ranked = table.select(
                table.product, table.points_price,
                RowNumber(window=Window([table.product],
                        order_by=[
                            table.effective_date.desc, table.id.desc])
                    ).as_('rank'),
                where=fields.SQL_OPERATORS['in'](table.product, list(sub_ids))
                & (table.effective_date <= date))
            cursor.execute(*ranked.select(
                    ranked.product, ranked.points_price,
                    where=ranked.rank == 1))
            for product_id, price in cursor:
                if price is not None:
                    result[product_id] = round_points(price)
        return result

    @classmethod
    def get_huinong_points_price(cls, products, name):
        return cls.get_huinong_points_prices(products)

    @classmethod
    def check_huinong_redeemable(cls, products, date=None):
        """Raise NotRedeemableError naming the first product that has no
        approved points price at the date or is blocked"""
        prices = cls.get_huinong_points_prices(products, date=date)
        for product in products:
            if product.huinong_blocked:
                raise NotRedeemableError(gettext(
                        'huinong_store.msg_product_blocked',
                        product=product.rec_name,
                        reason=product.huinong_block_reason or ''))
            if not prices.get(product.id):
                raise NotRedeemableError(gettext(
                        'huinong_store.msg_product_no_points_price',
                        product=product.rec_name))
        return prices

    @classmethod
    def check_huinong_barcode(cls, code):
        "Return the code compacted, or raise BarcodeError when not an EAN"
        code = (code or '').strip()
        try:
            return ean.validate(code)
        except InvalidChecksum:
            raise BarcodeError(gettext(
                    'huinong_store.msg_barcode_check_digit', code=code))
        except StdnumError:
            raise BarcodeError(gettext(
                    'huinong_store.msg_barcode_invalid', code=code))

    @classmethod
    def search_huinong_barcode(cls, code):
        """Return the product of the scanned EAN barcode or None.
        A code with a wrong check digit raises BarcodeError."""
        code = cls.check_huinong_barcode(code)
        products = cls.search([
                ('identifiers', 'where', [
                        ('type', '=', 'ean'),
                        ('code', '=', code),
                        ]),
                ], limit=1)
        if products:
            return products[0]

    def huinong_barcode(self):
        "Return the first EAN identifier of the product or None"
        return self.identifier_get('ean')

    @classmethod
    @ModelView.button_action('huinong_store.wizard_product_block')
    def huinong_block_wizard(cls, products):
        pass

    @classmethod
    @ModelView.button_action('huinong_store.wizard_product_unblock')
    def huinong_unblock_wizard(cls, products):
        pass

    @classmethod
    def _check_block(cls, reason):
        if not _is_food_drug():
            raise AccessError(gettext('huinong_store.msg_product_block_group'))
        if not reason or not reason.strip():
            raise BlockError(gettext('huinong_store.msg_product_block_reason'))
        return reason.strip()

    @classmethod
    def huinong_block(cls, products, reason):
        "Block the products (recall) with the reason"
        pool = Pool()
        Block = pool.get('huinong.product.block')
        reason = cls._check_block(reason)
        now = dt.datetime.now()
        user = Transaction().user or None
        with without_check_access():
            cls.write(list(products), {
                    'huinong_blocked': True,
                    'huinong_block_reason': reason,
                    'huinong_blocked_by': user,
                    'huinong_blocked_at': now,
                    })
            Block.create([{
                        'product': p.id,
                        'action': 'block',
                        'reason': reason,
                        'user': user,
                        'date': now,
                        } for p in products])

    @classmethod
    def huinong_unblock(cls, products, reason):
        "Lift the block of the products with the reason"
        pool = Pool()
        Block = pool.get('huinong.product.block')
        reason = cls._check_block(reason)
        now = dt.datetime.now()
        user = Transaction().user or None
        with without_check_access():
            cls.write(list(products), {
                    'huinong_blocked': False,
                    'huinong_block_reason': None,
                    'huinong_blocked_by': None,
                    'huinong_blocked_at': None,
                    })
            Block.create([{
                        'product': p.id,
                        'action': 'unblock',
                        'reason': reason,
                        'user': user,
                        'date': now,
                        } for p in products])

    @classmethod
    def check_modification(cls, mode, products, values=None, external=False):
        super().check_modification(
            mode, products, values=values, external=external)
        if mode == 'write' and external and values:
            protected = set(values) & {
                'huinong_blocked', 'huinong_block_reason',
                'huinong_blocked_by', 'huinong_blocked_at'}
            if protected:
                raise AccessError(gettext(
                        'huinong_store.msg_product_block_field'))

    @classmethod
    def copy(cls, products, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('huinong_points_prices')
        default.setdefault('huinong_blocks')
        default.setdefault('huinong_blocked', False)
        default.setdefault('huinong_block_reason')
        default.setdefault('huinong_blocked_by')
        default.setdefault('huinong_blocked_at')
        return super().copy(products, default=default)


class PointsPrice(ModelSQL, ModelView):
    "Product Points Price"
    __name__ = 'huinong.product.points_price'

    product = fields.Many2One(
        'product.product', "Product", required=True, ondelete='CASCADE',
        readonly=True)
    points_price = fields.Numeric(
        "Points Price", digits=POINTS_DIGITS, required=True, readonly=True,
        domain=[('points_price', '>', 0)],
        help="Whole points (PTS), one point being one yuan.")
    effective_date = fields.Date(
        "Effective Date", required=True, readonly=True)
    review_line = fields.Many2One(
        'huinong.price.review.line', "Review Line", readonly=True,
        ondelete='RESTRICT')
    review = fields.Function(fields.Many2One(
            'huinong.price.review', "Price Review"), 'get_review')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('review_line_unique',
                Exclude(t, (t.review_line, Equal),
                    where=t.review_line != Null),
                'huinong_store.msg_points_price_review_line_unique'),
            ]
        cls._sql_indexes.add(
            Index(t, (t.product, Index.Range()),
                (t.effective_date, Index.Range())))
        cls._order = [
            ('product', 'ASC'),
            ('effective_date', 'DESC'),
            ('id', 'DESC'),
            ]

    def get_review(self, name):
        if self.review_line:
            return self.review_line.review.id

    def get_rec_name(self, name):
        return '%s: %s @ %s' % (
            self.product.rec_name, self.points_price, self.effective_date)

    @classmethod
    def validate_fields(cls, prices, field_names):
        super().validate_fields(prices, field_names)
        for price in prices:
            if (price.points_price is None or price.points_price <= 0
                    or price.points_price != round_points(price.points_price)):
                raise PointsPriceError(gettext(
                        'huinong_store.msg_points_price_whole',
                        product=price.product.rec_name,
                        price=price.points_price))

    @classmethod
    def check_modification(cls, mode, prices, values=None, external=False):
        super().check_modification(
            mode, prices, values=values, external=external)
        # The history is a register: a correction comes from a new review
        if mode in {'write', 'delete'}:
            raise AccessError(gettext(
                    'huinong_store.msg_points_price_immutable'))


class ProductBlock(ModelSQL, ModelView):
    "Product Block"
    __name__ = 'huinong.product.block'

    product = fields.Many2One(
        'product.product', "Product", required=True, readonly=True,
        ondelete='CASCADE')
    action = fields.Selection([
            ('block', "Blocked"),
            ('unblock', "Unblocked"),
            ], "Action", required=True, readonly=True)
    reason = fields.Text("Reason", required=True, readonly=True)
    user = fields.Many2One('res.user', "User", readonly=True,
        ondelete='RESTRICT')
    date = fields.DateTime("Date", required=True, readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def check_modification(cls, mode, records, values=None, external=False):
        super().check_modification(
            mode, records, values=values, external=external)
        if mode in {'write', 'delete'}:
            raise AccessError(gettext(
                    'huinong_store.msg_product_block_immutable'))


class BlockStart(ModelView):
    "Block Product"
    __name__ = 'huinong.product.block.start'

    reason = fields.Text("Reason", required=True,
        help="Why the product is blocked or unblocked (recall notice, "
        "inspection report…).")


class Block(Wizard):
    "Block Product"
    __name__ = 'huinong.product.block_wizard'

    start = StateView('huinong.product.block.start',
        'huinong_store.product_block_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Block", 'block', 'tryton-ok', default=True),
            ])
    block = StateTransition()

    def transition_block(self):
        self.model.huinong_block(self.records, self.start.reason)
        return 'end'


class Unblock(Wizard):
    "Unblock Product"
    __name__ = 'huinong.product.unblock_wizard'

    start = StateView('huinong.product.block.start',
        'huinong_store.product_block_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Unblock", 'unblock', 'tryton-ok', default=True),
            ])
    unblock = StateTransition()

    def transition_unblock(self):
        self.model.huinong_unblock(self.records, self.start.reason)
        return 'end'
