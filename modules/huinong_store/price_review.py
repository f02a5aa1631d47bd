# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The price review (R-GOODS-1): a store proposes points prices for its
goods at market prices, the county office collects the lists and sends them
to the price bureau, which approves or rejects each line; approved prices
take effect from the review's effective date."""
from decimal import Decimal

from sql import Literal
from sql.aggregate import Count, Max, Min

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Unique, Workflow, fields
from trytond.model.exceptions import AccessError
from trytond.modules.huinong.approval import (
    ApprovalMixin, ApprovalStep, approval_at_field, approval_by_field,
    approval_step)
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.transaction import Transaction, without_check_access

from .exceptions import PriceReviewError
from .product import POINTS_DIGITS, round_points

STATES = [
    ('draft', "Draft"),
    ('submitted', "Submitted"),
    ('collected', "Collected"),
    ('sent', "Sent to Price Bureau"),
    ('decided', "Decided"),
    ('cancelled', "Cancelled"),
    ]
# The fields of a line that the store proposes and the price bureau decides
PROPOSAL_FIELDS = {'review', 'product', 'market_price',
    'proposed_points_price', 'sequence'}
DECISION_FIELDS = {'decision', 'decision_reason', 'approved_points_price'}


def user_in_groups(*xml_ids):
    "Whether the current user is in one of the groups (or admin, or root)"
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    if not Transaction().user:
        return True
    groups = set(User.get_groups())
    ids = {ModelData.get_id(*x.split('.')) for x in xml_ids}
    ids.add(ModelData.get_id('res', 'group_admin'))
    return bool(groups & ids)


def check_store_step(cls, records, step, error):
    """Check that the current user does the step of a store's document
    (records with a `store`) as a clerk of that store or as the township
    office of its township (county-wide users pass); error(record)
    returns the exception to raise"""
    pool = Pool()
    User = pool.get('res.user')
    if not Transaction().user or User.is_huinong_county_wide():
        return
    store_ids = set(User.get_huinong_store_ids())
    townships = set(User.get_huinong_scope()[1])
    township_office = user_in_groups('huinong.group_township_office')
    clerk = user_in_groups('huinong.group_clerk')
    for record in records:
        if clerk and record.store.id in store_ids:
            continue
        township = record.store.huinong_township
        if township_office and township and township.id in townships:
            continue
        raise error(record)


class PriceReview(ApprovalMixin, ModelSQL, ModelView):
    "Price Review"
    __name__ = 'huinong.price.review'
    _rec_name = 'number'

    number = fields.Char("Number", readonly=True)
    store = fields.Many2One(
        'stock.location', "Store", required=True, ondelete='RESTRICT',
        domain=[
            ('huinong_store', '=', True),
            ('type', '=', 'warehouse'),
            ],
        states={
            'readonly': (Eval('state') != 'draft') | Eval('lines', [0]),
            })
    township = fields.Function(fields.Many2One(
            'huinong.area', "Township"),
        'on_change_with_township', searcher='search_township')
    date = fields.Date(
        "Date", required=True,
        states={
            'readonly': Eval('state') != 'draft',
            },
        help="When the store drew up the list.")
    effective_date = fields.Date(
        "Effective Date",
        states={
            'readonly': ~Eval('state').in_(['draft', 'sent']),
            'required': Eval('state') == 'decided',
            },
        help="From when the approved points prices apply.")
    description = fields.Char(
        "Description",
        states={
            'readonly': Eval('state') != 'draft',
            })
    lines = fields.One2Many(
        'huinong.price.review.line', 'review', "Lines",
        states={
            'readonly': ~Eval('state').in_(['draft', 'sent']),
            })
    state = fields.Selection(
        STATES, "State", readonly=True, required=True, sort=False)
    submitted_by = approval_by_field("Submitted By")
    submitted_at = approval_at_field("Submitted At")
    collected_by = approval_by_field("Collected By")
    collected_at = approval_at_field("Collected At")
    sent_by = approval_by_field("Sent By")
    sent_at = approval_at_field("Sent At")
    decided_by = approval_by_field("Decided By")
    decided_at = approval_at_field("Decided At")

    _approval_steps = {
        'submit': ApprovalStep(
            ['huinong.group_clerk', 'huinong.group_township_office'],
            'county', 'submitted_by', 'submitted_at'),
        'collect': ApprovalStep(
            ['huinong.group_county_office'],
            'county', 'collected_by', 'collected_at'),
        'send': ApprovalStep(
            ['huinong.group_county_office'],
            'county', 'sent_by', 'sent_at'),
        'decide': ApprovalStep(
            ['huinong.group_price'],
            'county', 'decided_by', 'decided_at'),
        }
    _approval_first = 'submit'
    _approval_next = {
        'submitted': 'collect',
        'collected': 'send',
        'sent': 'decide',
        }

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [
            ('date', 'DESC'),
            ('id', 'DESC'),
            ]
        cls._transitions |= {
            ('draft', 'submitted'),
            ('submitted', 'collected'),
            ('collected', 'sent'),
            ('sent', 'decided'),
            ('submitted', 'draft'),
            ('collected', 'draft'),
            ('sent', 'draft'),
            ('draft', 'cancelled'),
            }
        cls._buttons.update({
                'submit': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                'collect': {
                    'invisible': Eval('state') != 'submitted',
                    'depends': ['state'],
                    },
                'send': {
                    'invisible': Eval('state') != 'collected',
                    'depends': ['state'],
                    },
                'decide': {
                    'invisible': Eval('state') != 'sent',
                    'depends': ['state'],
                    },
                'return_wizard': {
                    'invisible': ~Eval('state').in_(
                        ['submitted', 'collected', 'sent']),
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_date(cls):
        pool = Pool()
        Date = pool.get('ir.date')
        return Date.today()

    @classmethod
    def default_store(cls):
        pool = Pool()
        User = pool.get('res.user')
        store_ids = User.get_huinong_store_ids()
        if len(store_ids) == 1:
            return store_ids[0]

    @fields.depends('store')
    def on_change_with_township(self, name=None):
        if self.store and self.store.huinong_township:
            return self.store.huinong_township

    @classmethod
    def search_township(cls, name, clause):
        nested = clause[0][len(name):]
        return [('store.huinong_township' + nested, *clause[1:])]

    def get_rec_name(self, name):
        return '%s %s %s' % (
            self.number or '#%s' % self.id, self.store.rec_name, self.date)

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
    def check_approval(cls, records, step):
        """The submit is for the clerks of the store or the township office
        of its township; the other steps are county-wide"""
        super().check_approval(records, step)
        if step == 'submit':
            check_store_step(cls, records, step, lambda record: (
                    PriceReviewError(gettext(
                            'huinong_store.msg_price_review_store',
                            step=cls._step_string(step),
                            review=record.rec_name,
                            store=record.store.rec_name))))

    @classmethod
    def _approval_protected_fields(cls):
        return super()._approval_protected_fields() | {'number'}

    @classmethod
    def check_modification(cls, mode, reviews, values=None, external=False):
        super().check_modification(
            mode, reviews, values=values, external=external)
        if mode == 'write' and external and values:
            for review in reviews:
                if review.state == 'draft':
                    continue
                if (review.state == 'sent'
                        and set(values) <= {'effective_date', 'lines'}
                        and user_in_groups('huinong.group_price')):
                    continue
                raise AccessError(gettext(
                        'huinong_store.msg_price_review_write_draft',
                        review=review.rec_name))
        if mode == 'delete':
            for review in reviews:
                if review.state not in {'draft', 'cancelled'}:
                    raise AccessError(gettext(
                            'huinong_store.msg_price_review_delete_draft',
                            review=review.rec_name))

    @classmethod
    def copy(cls, reviews, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('number')
        default.setdefault('effective_date')
        return super().copy(reviews, default=default)

    @classmethod
    def create(cls, vlist):
        reviews = super().create(vlist)
        # A plain number from the id: no shared sequence row to lock
        to_write = [r for r in reviews if not r.number]
        for review in to_write:
            with without_check_access():
                cls.write([review], {'number': 'PR%06d' % review.id})
        return reviews

    @classmethod
    def check_lines(cls, reviews):
        for review in reviews:
            if not review.lines:
                raise PriceReviewError(gettext(
                        'huinong_store.msg_price_review_no_lines',
                        review=review.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('submitted')
    @approval_step('submit')
    def submit(cls, reviews):
        cls.check_lines(reviews)
        with without_check_access():
            cls.write(list(reviews), {'return_reason': None})

    @classmethod
    @ModelView.button
    @Workflow.transition('collected')
    @approval_step('collect')
    def collect(cls, reviews):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('sent')
    @approval_step('send')
    def send(cls, reviews):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('decided')
    @approval_step('decide')
    def decide(cls, reviews):
        "Check every line is decided and put the approved prices in force"
        pool = Pool()
        PointsPrice = pool.get('huinong.product.points_price')
        to_create = []
        for review in reviews:
            for line in review.lines:
                line.check_decision()
            if not review.effective_date:
                raise PriceReviewError(gettext(
                        'huinong_store.msg_price_review_effective_date',
                        review=review.rec_name))
            for line in review.lines:
                if line.decision == 'approved':
                    to_create.append({
                            'product': line.product.id,
                            'points_price': line.approved_points_price,
                            'effective_date': review.effective_date,
                            'review_line': line.id,
                            })
        with without_check_access():
            PointsPrice.create(to_create)

    @classmethod
    @ModelView.button_action('huinong.wizard_approval_return')
    def return_wizard(cls, reviews):
        pass

    @classmethod
    @Workflow.transition('draft')
    def return_(cls, reviews):
        pool = Pool()
        Line = pool.get('huinong.price.review.line')
        # The decisions start again with the next round
        with without_check_access():
            Line.write([l for r in reviews for l in r.lines], {
                    'decision': None,
                    'decision_reason': None,
                    'approved_points_price': None,
                    })

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, reviews):
        if not user_in_groups(
                'huinong.group_clerk', 'huinong.group_township_office',
                'huinong.group_county_office'):
            raise AccessError(gettext(
                    'huinong_store.msg_price_review_cancel_group'))
        cls.record_approval(reviews, 'cancel', action='event')


class PriceReviewLine(ModelSQL, ModelView):
    "Price Review Line"
    __name__ = 'huinong.price.review.line'

    review = fields.Many2One(
        'huinong.price.review', "Review", required=True, ondelete='CASCADE',
        states={
            'readonly': Eval('review_state') != 'draft',
            })
    sequence = fields.Integer("Sequence")
    product = fields.Many2One(
        'product.product', "Product", required=True, ondelete='RESTRICT',
        domain=[('type', '=', 'goods')],
        states={
            'readonly': Eval('review_state') != 'draft',
            })
    barcode = fields.Function(fields.Char("Barcode"), 'get_barcode')
    unit = fields.Function(fields.Many2One('product.uom', "Unit"),
        'on_change_with_unit')
    market_price = fields.Numeric(
        "Market Price", digits=(16, 2), required=True,
        domain=[('market_price', '>', 0)],
        states={
            'readonly': Eval('review_state') != 'draft',
            },
        help="The unit price in yuan (CNY) at the market.")
    proposed_points_price = fields.Numeric(
        "Proposed Points Price", digits=POINTS_DIGITS, required=True,
        domain=[('proposed_points_price', '>', 0)],
        states={
            'readonly': Eval('review_state') != 'draft',
            },
        help="Whole points (PTS) the store proposes for one unit.")
    decision = fields.Selection([
            (None, ""),
            ('approved', "Approved"),
            ('rejected', "Rejected"),
            ], "Decision",
        states={
            'readonly': Eval('review_state') != 'sent',
            'required': Eval('review_state') == 'decided',
            })
    decision_reason = fields.Text(
        "Decision Reason",
        states={
            'readonly': Eval('review_state') != 'sent',
            'required': Eval('decision') == 'rejected',
            },
        help="Required when the line is rejected.")
    approved_points_price = fields.Numeric(
        "Approved Points Price", digits=POINTS_DIGITS,
        domain=[
            If(Eval('approved_points_price', None) != None,  # noqa: E711
                ('approved_points_price', '>', 0),
                ()),
            ],
        states={
            'readonly': ((Eval('review_state') != 'sent')
                | (Eval('decision') != 'approved')),
            'required': Eval('decision') == 'approved',
            'invisible': Eval('decision') == 'rejected',
            })
    review_state = fields.Function(
        fields.Selection(STATES, "Review State"),
        'on_change_with_review_state')
    store = fields.Function(fields.Many2One('stock.location', "Store"),
        'on_change_with_store', searcher='search_store')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('review')
        t = cls.__table__()
        cls._sql_constraints += [
            ('review_product_unique', Unique(t, t.review, t.product),
                'huinong_store.msg_price_review_line_unique'),
            ]
        cls._order = [
            ('review', 'ASC'),
            ('sequence', 'ASC NULLS FIRST'),
            ('id', 'ASC'),
            ]

    @fields.depends('review', '_parent_review.state')
    def on_change_with_review_state(self, name=None):
        if self.review:
            return self.review.state

    @fields.depends('review', '_parent_review.store')
    def on_change_with_store(self, name=None):
        if self.review:
            return self.review.store

    @classmethod
    def search_store(cls, name, clause):
        nested = clause[0][len(name):]
        return [('review.store' + nested, *clause[1:])]

    @fields.depends('product')
    def on_change_with_unit(self, name=None):
        if self.product:
            return self.product.default_uom

    def get_barcode(self, name):
        identifier = self.product.identifier_get('ean')
        if identifier:
            return identifier.code

    @fields.depends('decision', 'approved_points_price',
        'proposed_points_price')
    def on_change_decision(self):
        if self.decision == 'approved':
            if self.approved_points_price is None:
                self.approved_points_price = self.proposed_points_price
        else:
            self.approved_points_price = None

    @fields.depends('market_price', 'proposed_points_price')
    def on_change_market_price(self):
        # One point is one yuan: propose the market price, rounded up
        if self.market_price and self.proposed_points_price is None:
            self.proposed_points_price = self.market_price.quantize(
                Decimal(1), rounding='ROUND_CEILING')

    def get_rec_name(self, name):
        return '%s: %s' % (self.review.rec_name, self.product.rec_name)

    @classmethod
    def validate_fields(cls, lines, field_names):
        super().validate_fields(lines, field_names)
        if field_names & {'product', 'review'}:
            cls.check_duplicate(lines)
        if field_names & {'proposed_points_price', 'approved_points_price'}:
            for line in lines:
                for value in [line.proposed_points_price,
                        line.approved_points_price]:
                    if value is not None and (
                            value <= 0 or value != round_points(value)):
                        raise PriceReviewError(gettext(
                                'huinong_store.msg_price_review_whole_points',
                                product=line.product.rec_name,
                                price=value))

    @classmethod
    def create(cls, vlist):
        cls._check_duplicate_values(vlist)
        return super().create(vlist)

    @classmethod
    def _check_duplicate_values(cls, vlist):
        "Refuse a second line for a product before the unique key does"
        pool = Pool()
        Product = pool.get('product.product')
        Review = pool.get('huinong.price.review')
        keys = [(v.get('review'), v.get('product')) for v in vlist]
        keys = [(r, p) for r, p in keys if r is not None and p is not None]
        if not keys:
            return
        seen = set()
        with without_check_access():
            existing = {(l.review.id, l.product.id) for l in cls.search([
                        ('review', 'in', list({r for r, _ in keys})),
                        ('product', 'in', list({p for _, p in keys})),
                        ])}
        for key in keys:
            if key in seen or key in existing:
                review_id, product_id = key
                with without_check_access():
                    raise PriceReviewError(gettext(
                            'huinong_store.msg_price_review_line_duplicate',
                            product=Product(product_id).rec_name,
                            review=Review(review_id).rec_name))
            seen.add(key)

    @classmethod
    def check_duplicate(cls, lines):
        "A product appears once in a list"
        keys = set()
        for line in cls.search([
                    ('review', 'in', list({l.review.id for l in lines})),
                    ], order=[('id', 'ASC')]):
            key = (line.review.id, line.product.id)
            if key in keys:
                raise PriceReviewError(gettext(
                        'huinong_store.msg_price_review_line_duplicate',
                        product=line.product.rec_name,
                        review=line.review.rec_name))
            keys.add(key)

    def check_decision(self):
        if not self.decision:
            raise PriceReviewError(gettext(
                    'huinong_store.msg_price_review_line_undecided',
                    product=self.product.rec_name,
                    review=self.review.rec_name))
        if self.decision == 'rejected' and not (
                self.decision_reason or '').strip():
            raise PriceReviewError(gettext(
                    'huinong_store.msg_price_review_line_reason',
                    product=self.product.rec_name,
                    review=self.review.rec_name))
        if self.decision == 'approved' and not self.approved_points_price:
            raise PriceReviewError(gettext(
                    'huinong_store.msg_price_review_line_price',
                    product=self.product.rec_name,
                    review=self.review.rec_name))

    @classmethod
    def check_modification(cls, mode, lines, values=None, external=False):
        super().check_modification(
            mode, lines, values=values, external=external)
        if not external:
            return
        if mode in {'create', 'delete'}:
            for line in lines:
                if line.review.state != 'draft':
                    raise AccessError(gettext(
                            'huinong_store.msg_price_review_write_draft',
                            review=line.review.rec_name))
        elif mode == 'write' and values:
            decision = set(values) & DECISION_FIELDS
            proposal = set(values) - DECISION_FIELDS
            for line in lines:
                state = line.review.state
                if proposal and state != 'draft':
                    raise AccessError(gettext(
                            'huinong_store.msg_price_review_write_draft',
                            review=line.review.rec_name))
                if decision and not (state == 'sent'
                        and user_in_groups('huinong.group_price')):
                    raise AccessError(gettext(
                            'huinong_store.msg_price_review_decision',
                            review=line.review.rec_name))

    @classmethod
    def copy(cls, lines, default=None):
        default = default.copy() if default is not None else {}
        for field in DECISION_FIELDS:
            default.setdefault(field)
        return super().copy(lines, default=default)


class PriceReviewCollected(ModelSQL, ModelView):
    "Collected Price Proposal"
    __name__ = 'huinong.price.review.collected'

    product = fields.Many2One('product.product', "Product", readonly=True)
    store = fields.Many2One('stock.location', "Store", readonly=True)
    township = fields.Many2One('huinong.area', "Township", readonly=True)
    review = fields.Many2One('huinong.price.review', "Review", readonly=True)
    review_state = fields.Selection(STATES, "State", readonly=True)
    market_price = fields.Numeric(
        "Market Price", digits=(16, 2), readonly=True)
    proposed_points_price = fields.Numeric(
        "Proposed Points Price", digits=POINTS_DIGITS, readonly=True)
    stores = fields.Integer("Stores Proposing", readonly=True)
    lowest_points_price = fields.Numeric(
        "Lowest Proposal", digits=POINTS_DIGITS, readonly=True)
    highest_points_price = fields.Numeric(
        "Highest Proposal", digits=POINTS_DIGITS, readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [
            ('product', 'ASC'),
            ('store', 'ASC'),
            ('id', 'ASC'),
            ]

    @classmethod
    def table_query(cls):
        """One row per line of the reviews being collected or sent, with the
        range of every store's proposal for the same product"""
        pool = Pool()
        Review = pool.get('huinong.price.review')
        Line = pool.get('huinong.price.review.line')
        Location = pool.get('stock.location')
        line = Line.__table__()
        review = Review.__table__()
        store = Location.__table__()
        other = Line.__table__()
        other_review = Review.__table__()
        states = ['submitted', 'collected', 'sent']
        ranges = (other
            .join(other_review, condition=other.review == other_review.id)
            .select(
                other.product,
                Count(other.id).as_('stores'),
                Min(other.proposed_points_price).as_('lowest'),
                Max(other.proposed_points_price).as_('highest'),
                where=other_review.state.in_(states),
                group_by=[other.product]))
        return (line
            .join(review, condition=line.review == review.id)
            .join(store, condition=review.store == store.id)
            .join(ranges, condition=ranges.product == line.product)
            .select(
                line.id.as_('id'),
                line.product.as_('product'),
                review.store.as_('store'),
                store.huinong_township.as_('township'),
                line.review.as_('review'),
                review.state.as_('review_state'),
                line.market_price.as_('market_price'),
                line.proposed_points_price.as_('proposed_points_price'),
                ranges.stores.as_('stores'),
                ranges.lowest.as_('lowest_points_price'),
                ranges.highest.as_('highest_points_price'),
                where=review.state.in_(states)))
