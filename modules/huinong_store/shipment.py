# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Receiving goods at a store (R-GOODS-2, R-GOODS-3): Tryton's supplier
shipments with an inspection on every incoming move, rejected quantities
kept out of stock, blocked products refused and barcode scanning."""
import datetime as dt

from trytond.i18n import gettext
from trytond.model import ModelView, Workflow, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval, If
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .exceptions import InspectionError, ScanError

INSPECTIONS = [
    (None, ""),
    ('passed', "Passed"),
    ('rejected', "Rejected"),
    ]


class Move(metaclass=PoolMeta):
    __name__ = 'stock.move'

    _huinong_states = {
        'readonly': ~Eval('state').in_(['staging', 'draft']),
        }

    huinong_inspection = fields.Selection(
        INSPECTIONS, "Inspection", sort=False, states=_huinong_states,
        help="The result of the inspection of the goods on receipt.")
    huinong_rejected_quantity = fields.Float(
        "Rejected Quantity", digits='unit',
        domain=[
            If(Eval('huinong_inspection') == 'rejected',
                [('huinong_rejected_quantity', '>', 0),
                    ('huinong_rejected_quantity', '<=', Eval('quantity', 0))],
                [('huinong_rejected_quantity', 'in', [None, 0])]),
            ],
        states={
            'invisible': Eval('huinong_inspection') != 'rejected',
            'required': Eval('huinong_inspection') == 'rejected',
            **_huinong_states,
            },
        help="The part of the quantity that is refused; it never enters "
        "the stock.")
    huinong_rejection_reason = fields.Char(
        "Rejection Reason",
        states={
            'invisible': Eval('huinong_inspection') != 'rejected',
            'required': Eval('huinong_inspection') == 'rejected',
            **_huinong_states,
            })
    huinong_inspected_by = fields.Many2One(
        'res.user', "Inspector", ondelete='RESTRICT',
        states={
            'required': Bool(Eval('huinong_inspection')),
            **_huinong_states,
            })
    huinong_inspection_date = fields.Date(
        "Inspection Date",
        states={
            'required': Bool(Eval('huinong_inspection')),
            **_huinong_states,
            })
    huinong_production_date = fields.Date(
        "Production Date", states=_huinong_states,
        help="For food: the production date printed on the goods.")
    huinong_shelf_life = fields.Integer(
        "Shelf Life (days)", states=_huinong_states,
        domain=[
            If(Eval('huinong_shelf_life'),
                ('huinong_shelf_life', '>', 0),
                ()),
            ],
        help="For food: the shelf life from the production date.")
    huinong_expiry_date = fields.Date(
        "Expiry Date", states=_huinong_states,
        domain=[
            If(Eval('huinong_expiry_date') & Eval('huinong_production_date'),
                ('huinong_expiry_date', '>=',
                    Eval('huinong_production_date')),
                ()),
            ],
        help="For food: the last day the goods may be used; computed from "
        "the production date and the shelf life when empty.")
    huinong_certificate = fields.Char(
        "Certificate", states=_huinong_states,
        help="For food: the reference of the inspection or quarantine "
        "certificate of the batch.")

    del _huinong_states

    @fields.depends('huinong_inspection', 'huinong_inspected_by',
        'huinong_inspection_date', 'huinong_rejected_quantity', 'quantity')
    def on_change_huinong_inspection(self):
        pool = Pool()
        Date = pool.get('ir.date')
        User = pool.get('res.user')
        if self.huinong_inspection:
            if not self.huinong_inspected_by and Transaction().user:
                self.huinong_inspected_by = User(Transaction().user)
            if not self.huinong_inspection_date:
                self.huinong_inspection_date = Date.today()
        if self.huinong_inspection == 'rejected':
            if not self.huinong_rejected_quantity:
                self.huinong_rejected_quantity = self.quantity
        else:
            self.huinong_rejected_quantity = None

    @fields.depends('huinong_production_date', 'huinong_shelf_life',
        'huinong_expiry_date')
    def on_change_with_huinong_expiry_date(self):
        return self._huinong_expiry_date(
            self.huinong_production_date, self.huinong_shelf_life,
            self.huinong_expiry_date)

    @staticmethod
    def _huinong_expiry_date(production_date, shelf_life, expiry_date):
        if not expiry_date and production_date and shelf_life:
            return production_date + dt.timedelta(days=shelf_life)
        return expiry_date

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if ('huinong_production_date' in values
                or 'huinong_shelf_life' in values):
            if mode == 'create' and not values.get('huinong_expiry_date'):
                expiry = cls._huinong_expiry_date(
                    values.get('huinong_production_date'),
                    values.get('huinong_shelf_life'), None)
                if expiry:
                    values['huinong_expiry_date'] = expiry
        if values.get('huinong_inspection') in {None, 'passed'} and (
                'huinong_inspection' in values):
            values['huinong_rejected_quantity'] = None
        return values

    @classmethod
    def validate_fields(cls, moves, field_names):
        super().validate_fields(moves, field_names)
        if field_names & {
                'huinong_inspection', 'huinong_inspected_by',
                'huinong_inspection_date', 'huinong_rejection_reason',
                'huinong_rejected_quantity', 'huinong_expiry_date',
                'huinong_production_date'}:
            cls.check_huinong_inspection_values(moves)

    @classmethod
    def check_huinong_inspection_values(cls, moves):
        "An inspection has its inspector and date, a rejection its reason"
        for move in moves:
            if (move.huinong_expiry_date and move.huinong_production_date
                    and move.huinong_expiry_date
                    < move.huinong_production_date):
                raise InspectionError(gettext(
                        'huinong_store.msg_expiry_before_production',
                        move=move.rec_name))
            if not move.huinong_inspection:
                continue
            if (not move.huinong_inspected_by
                    or not move.huinong_inspection_date):
                raise InspectionError(gettext(
                        'huinong_store.msg_inspection_incomplete',
                        move=move.rec_name))
            if move.huinong_inspection == 'rejected' and (
                    not (move.huinong_rejection_reason or '').strip()
                    or not move.huinong_rejected_quantity):
                raise InspectionError(gettext(
                        'huinong_store.msg_rejection_incomplete',
                        move=move.rec_name))

    @classmethod
    def on_modification(cls, mode, moves, field_names=None):
        super().on_modification(mode, moves, field_names=field_names)
        if mode == 'write' and field_names and (
                {'huinong_production_date', 'huinong_shelf_life'}
                & field_names):
            # Fill the expiry date left empty
            to_write = []
            for move in moves:
                expiry = cls._huinong_expiry_date(
                    move.huinong_production_date, move.huinong_shelf_life,
                    move.huinong_expiry_date)
                if expiry != move.huinong_expiry_date:
                    to_write.extend(([move], {'huinong_expiry_date': expiry}))
            if to_write:
                cls.write(*to_write)

    @classmethod
    def copy(cls, moves, default=None):
        default = default.copy() if default is not None else {}
        for fname in ['huinong_inspection', 'huinong_rejected_quantity',
                'huinong_rejection_reason', 'huinong_inspected_by',
                'huinong_inspection_date']:
            default.setdefault(fname)
        return super().copy(moves, default=default)

    @property
    def huinong_store(self):
        "The store the move brings goods into, if any"
        for location in [self.to_location, self.from_location]:
            if location and location.huinong_store_of:
                return location.huinong_store_of


class ShipmentIn(metaclass=PoolMeta):
    __name__ = 'stock.shipment.in'

    huinong_store = fields.Function(fields.Boolean(
            "Huinong Store",
            help="Whether the shipment is received at a points store."),
        'on_change_with_huinong_store')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'huinong_scan': {
                    'invisible': Eval('state') != 'draft',
                    'readonly': ~Eval('warehouse') | ~Eval('supplier'),
                    'depends': ['state', 'warehouse', 'supplier'],
                    },
                })

    @fields.depends('warehouse')
    def on_change_with_huinong_store(self, name=None):
        return bool(self.warehouse and self.warehouse.huinong_store)

    @classmethod
    def check_huinong_inspection(cls, shipments):
        """Check that every incoming move of the stores' shipments is
        inspected and that no blocked product is received"""
        for shipment in shipments:
            if not shipment.warehouse.huinong_store:
                continue
            for move in shipment.incoming_moves:
                if move.state == 'cancelled':
                    continue
                fully_rejected = (move.huinong_inspection == 'rejected'
                    and move.huinong_rejected_quantity is not None
                    and move.huinong_rejected_quantity >= move.quantity)
                if (not fully_rejected
                        and getattr(move.product, 'huinong_blocked', False)):
                    raise InspectionError(gettext(
                            'huinong_store.msg_receive_blocked_product',
                            product=move.product.rec_name,
                            shipment=shipment.rec_name,
                            reason=getattr(
                                move.product, 'huinong_block_reason', None)
                            or ''))
                if not move.huinong_inspection:
                    raise InspectionError(gettext(
                            'huinong_store.msg_receive_not_inspected',
                            product=move.product.rec_name,
                            shipment=shipment.rec_name))

    @classmethod
    def _huinong_reject(cls, shipments):
        """Keep the rejected quantities out of stock: a rejected incoming
        move is cancelled; when only a part is rejected, the passed part is
        split off into a new move that is received."""
        pool = Pool()
        Move = pool.get('stock.move')
        to_cancel, to_split = [], []
        for shipment in shipments:
            if not shipment.warehouse.huinong_store:
                continue
            for move in shipment.incoming_moves:
                if (move.state in {'done', 'cancelled'}
                        or move.huinong_inspection != 'rejected'):
                    continue
                rejected = move.unit.round(move.huinong_rejected_quantity)
                passed = move.unit.round(move.quantity - rejected)
                if passed > 0:
                    to_split.append((move, passed, rejected))
                to_cancel.append(move)
        for move, passed, rejected in to_split:
            Move.copy([move], default={
                    'quantity': passed,
                    'origin': str(move.origin) if move.origin else None,
                    'shipment': str(move.shipment),
                    'huinong_inspection': 'passed',
                    'huinong_inspected_by': move.huinong_inspected_by.id,
                    'huinong_inspection_date': move.huinong_inspection_date,
                    })
            Move.write([move], {'quantity': rejected})
        if to_cancel:
            Move.cancel(to_cancel)

    @classmethod
    @ModelView.button
    @Workflow.transition('received')
    def receive(cls, shipments):
        cls.check_huinong_inspection(shipments)
        cls._huinong_reject(shipments)
        super().receive(shipments)

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def do(cls, shipments):
        cls.check_huinong_inspection(shipments)
        super().do(shipments)

    @property
    def _check_quantity_source_moves(self):
        # The rejected (cancelled) moves are not put away
        return [m for m in super()._check_quantity_source_moves
            if m.state != 'cancelled']

    def _get_inventory_move(self, incoming_move):
        # A cancelled (rejected) incoming move puts nothing away
        if incoming_move.state == 'cancelled':
            return None
        return super()._get_inventory_move(incoming_move)

    @classmethod
    @ModelView.button_action('huinong_store.wizard_shipment_in_scan')
    def huinong_scan(cls, shipments):
        pass

    def huinong_add_scanned(self, product, quantity=1):
        """Add the quantity to the draft incoming move of the product,
        creating the move when there is none; return the move"""
        pool = Pool()
        Move = pool.get('stock.move')
        for move in self.incoming_moves:
            if move.product == product and move.state == 'draft':
                move.quantity = move.unit.round(
                    move.quantity + move.unit.round(quantity))
                move.save()
                return move
        move = Move(
            product=product,
            unit=product.default_uom,
            quantity=quantity,
            from_location=self.supplier_location,
            to_location=self.warehouse_input,
            company=self.company,
            shipment=self,
            planned_date=self.planned_date,
            state='draft',
            )
        if move.on_change_with_unit_price_required():
            move.unit_price = product.cost_price or 0
            move.currency = self.company.currency
        move.save()
        return move


class ShipmentInScanStart(ModelView):
    "Scan Goods"
    __name__ = 'stock.shipment.in.huinong_scan.start'

    barcode = fields.Char(
        "Barcode",
        help="Scan or type the EAN-13 barcode of one item: it adds one to "
        "the received quantity of the product.")
    last_product = fields.Many2One(
        'product.product', "Last Product", readonly=True)
    last_quantity = fields.Float(
        "Quantity Received", readonly=True, digits=(16, 4))


class ShipmentInScan(Wizard):
    "Scan Goods"
    __name__ = 'stock.shipment.in.huinong_scan'
    start = StateView('stock.shipment.in.huinong_scan.start',
        'huinong_store.shipment_in_scan_start_view_form', [
            Button("Close", 'end', 'tryton-close'),
            Button("Add", 'add', 'tryton-ok', default=True),
            ])
    add = StateTransition()

    def default_start(self, fields):
        defaults = {}
        if getattr(self.start, 'last_product', None):
            defaults['last_product'] = self.start.last_product.id
            defaults['last_quantity'] = self.start.last_quantity
        return defaults

    @classmethod
    def find_product(cls, code):
        """Return the product of the EAN-13 barcode or None; a wrong check
        digit raises BarcodeError"""
        pool = Pool()
        Product = pool.get('product.product')
        return Product.search_huinong_barcode(code)

    def transition_add(self):
        shipment = self.record
        code = (self.start.barcode or '').strip().replace(' ', '')
        if not code:
            return 'start'
        if shipment.state != 'draft':
            raise ScanError(gettext(
                    'huinong_store.msg_scan_shipment_state',
                    shipment=shipment.rec_name))
        product = self.find_product(code)
        if not product:
            raise ScanError(gettext(
                    'huinong_store.msg_scan_unknown', barcode=code))
        if getattr(product, 'huinong_blocked', False):
            raise ScanError(gettext(
                    'huinong_store.msg_receive_blocked_product',
                    product=product.rec_name, shipment=shipment.rec_name,
                    reason=getattr(product, 'huinong_block_reason', None)
                    or ''))
        move = shipment.huinong_add_scanned(product)
        self.start.barcode = None
        self.start.last_product = product
        self.start.last_quantity = move.quantity
        return 'start'
