# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Stock counts at the stores (R-GOODS-4): Tryton's inventories with a
threshold beyond which the township office approves the differences before
the count is confirmed, and the discrepancy report per store and period."""
from decimal import Decimal

from sql import Null

from trytond.i18n import gettext
from trytond.model import ModelView, Workflow, fields
from trytond.model.exceptions import AccessError
from trytond.modules.huinong.approval import (
    ApprovalMixin, ApprovalStep, approval_at_field, approval_by_field)
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.report import Report
from trytond.transaction import Transaction
from trytond.wizard import Button, StateAction, StateView, Wizard

from .exceptions import InventoryApprovalError


class Configuration(metaclass=PoolMeta):
    __name__ = 'huinong.configuration'

    inventory_threshold = fields.Numeric(
        "Stock Count Threshold (%)", digits=(16, 2),
        domain=['OR',
            ('inventory_threshold', '=', None),
            ('inventory_threshold', '>=', 0),
            ],
        help="A counted quantity that differs from the expected quantity "
        "by more than this percentage of the expected quantity needs the "
        "approval of the township office before the stock count is "
        "confirmed. Empty or 0: every difference needs it.")

    @classmethod
    def get_inventory_threshold(cls):
        "Return the threshold as a Decimal percentage"
        configuration = cls(1)
        return configuration.inventory_threshold or Decimal(0)


class Location(metaclass=PoolMeta):
    __name__ = 'stock.location'

    @property
    def lost_found_used(self):
        location = super().lost_found_used
        if (not location and self.warehouse
                and self.warehouse.huinong_store):
            # A store counts against the lost and found of the stock module
            pool = Pool()
            ModelData = pool.get('ir.model.data')
            location = self.__class__(
                ModelData.get_id('stock', 'location_lost_found'))
        return location


class Inventory(ApprovalMixin, metaclass=PoolMeta):
    __name__ = 'stock.inventory'

    huinong_store = fields.Function(fields.Many2One(
            'stock.location', "Store"),
        'on_change_with_huinong_store', searcher='search_huinong_store')
    huinong_approval_required = fields.Function(fields.Boolean(
            "Approval Required",
            help="Whether differences beyond the threshold need the "
            "approval of the township office."),
        'get_huinong_approval_required')
    huinong_approved_by = approval_by_field("Approved by")
    huinong_approved_at = approval_at_field("Approved at")

    _approval_steps = {
        'huinong_approve': ApprovalStep(
            ['huinong.group_township_office'], 'township',
            'huinong_approved_by', 'huinong_approved_at'),
        }

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'huinong_approve': {
                    'invisible': ((Eval('state') != 'draft')
                        | ~Eval('huinong_store')),
                    'readonly': Bool(Eval('huinong_approved_at')),
                    'depends': ['state', 'huinong_store',
                        'huinong_approved_at'],
                    },
                })

    @classmethod
    def default_location(cls):
        "A clerk counts the storage of the store: theirs when they have one"
        pool = Pool()
        User = pool.get('res.user')
        Location = pool.get('stock.location')
        store_ids = User.get_huinong_store_ids()
        if len(store_ids) == 1:
            store = Location(store_ids[0])
            if store.storage_location:
                return store.storage_location.id

    @fields.depends('location')
    def on_change_with_huinong_store(self, name=None):
        if self.location and self.location.huinong_store_of:
            return self.location.huinong_store_of

    @classmethod
    def search_huinong_store(cls, name, clause):
        nested = clause[0][len(name):]
        return [('location.huinong_store_of' + nested, *clause[1:])]

    def get_approval_area(self, scope):
        if self.huinong_store:
            return self.huinong_store.huinong_township

    @classmethod
    def get_huinong_approval_required(cls, inventories, name):
        return {i.id: bool(i.huinong_lines_beyond_threshold())
            for i in inventories}

    def huinong_lines_beyond_threshold(self):
        "Return the lines of a store's count beyond the threshold"
        pool = Pool()
        Configuration = pool.get('huinong.configuration')
        if not self.huinong_store:
            return []
        threshold = Configuration.get_inventory_threshold()
        return [l for l in self.lines if l.huinong_beyond(threshold)]

    @classmethod
    @ModelView.button
    def huinong_approve(cls, inventories):
        "The township office approves the differences of the count"
        for inventory in inventories:
            if inventory.state != 'draft' or not inventory.huinong_store:
                raise InventoryApprovalError(gettext(
                        'huinong_store.msg_inventory_approve_state',
                        inventory=inventory.rec_name))
        cls.check_approval(inventories, 'huinong_approve')
        # Update the expected quantities first: a change afterwards would
        # withdraw the approval
        cls.complete_lines(inventories, fill=False)
        cls.record_approval(inventories, 'huinong_approve')

    @classmethod
    def huinong_withdraw_approval(cls, inventories):
        """A change of the count withdraws its approval.

        The inventory row is updated even when it holds no approval, so
        that a change of the count and an approval made at the same time
        conflict on it: one of the two transactions fails and is retried,
        and no approval covers a count its approver did not see."""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        ids = [i.id for i in inventories if i.id is not None and i.id >= 0]
        if not ids:
            return
        cursor.execute(*table.update(
                [table.huinong_approved_by, table.huinong_approved_at],
                [Null, Null],
                where=table.id.in_(ids) & (table.state == 'draft')))
        # The rows were changed without the ORM: clear the caches
        transaction = Transaction()
        transaction.counter += 1
        for cache in transaction.cache.values():
            if cls.__name__ in cache:
                for id_ in ids:
                    cache[cls.__name__].pop(id_, None)
        for inventory in inventories:
            inventory._local_cache.pop(inventory.id, None)

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def confirm(cls, inventories):
        pool = Pool()
        Configuration = pool.get('huinong.configuration')
        threshold = Configuration.get_inventory_threshold()
        for inventory in inventories:
            if inventory.huinong_approved_at:
                continue
            lines = inventory.huinong_lines_beyond_threshold()
            if lines:
                raise InventoryApprovalError(gettext(
                        'huinong_store.msg_inventory_needs_approval',
                        inventory=inventory.rec_name,
                        threshold=format_quantity(threshold),
                        lines=', '.join(
                            '%s (%s → %s)' % (l.product.rec_name,
                                format_quantity(l.expected_quantity),
                                format_quantity(l.quantity or 0))
                            for l in lines[:5])))
        super().confirm(inventories)

    @classmethod
    def return_(cls, records):
        raise NotImplementedError

    @classmethod
    def copy(cls, inventories, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('huinong_approved_by')
        default.setdefault('huinong_approved_at')
        return super().copy(inventories, default=default)


class InventoryLine(metaclass=PoolMeta):
    __name__ = 'stock.inventory.line'

    huinong_difference = fields.Function(fields.Float(
            "Difference", digits='unit',
            help="The actual quantity minus the expected quantity."),
        'get_huinong_difference')

    def get_huinong_difference(self, name=None):
        quantity = self.quantity
        if quantity is None:
            if self.inventory.empty_quantity == 'empty':
                quantity = 0
            else:
                return 0
        return self.unit.round(quantity - self.expected_quantity)

    def huinong_beyond(self, threshold):
        "Whether the difference is beyond the threshold (a percentage)"
        difference = Decimal(str(abs(self.get_huinong_difference())))
        if not difference:
            return False
        expected = Decimal(str(abs(self.expected_quantity or 0)))
        return difference > expected * threshold / 100

    @classmethod
    def on_modification(cls, mode, lines, field_names=None):
        pool = Pool()
        Inventory = pool.get('stock.inventory')
        super().on_modification(mode, lines, field_names=field_names)
        if mode == 'create' or (mode == 'write' and field_names
                and {'product', 'quantity', 'expected_quantity'}
                & field_names):
            Inventory.huinong_withdraw_approval(
                list({l.inventory for l in lines}))

    @classmethod
    def on_delete(cls, lines):
        pool = Pool()
        Inventory = pool.get('stock.inventory')
        callback = super().on_delete(lines)
        inventories = list({l.inventory for l in lines})
        if inventories:
            callback.append(
                lambda: Inventory.huinong_withdraw_approval(
                    Inventory.browse([i.id for i in inventories])))
        return callback


class DiscrepancyStart(ModelView):
    "Stock Count Discrepancies"
    __name__ = 'huinong.store.inventory.discrepancy.start'

    store = fields.Many2One(
        'stock.location', "Store", required=True,
        domain=[('huinong_store', '=', True)])
    from_date = fields.Date("From Date", required=True)
    to_date = fields.Date(
        "To Date", required=True,
        domain=[('to_date', '>=', Eval('from_date'))])

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


class Discrepancy(Wizard):
    "Stock Count Discrepancies"
    __name__ = 'huinong.store.inventory.discrepancy'
    start = StateView('huinong.store.inventory.discrepancy.start',
        'huinong_store.inventory_discrepancy_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Print", 'print_', 'tryton-print', default=True),
            ])
    print_ = StateAction('huinong_store.report_inventory_discrepancy')

    def default_start(self, fields):
        defaults = {}
        if self.model and self.model.__name__ == 'stock.location':
            if self.record and self.record.huinong_store:
                defaults['store'] = self.record.id
        return defaults

    def do_print_(self, action):
        return action, {
            'store': self.start.store.id,
            'from_date': self.start.from_date,
            'to_date': self.start.to_date,
            }


class DiscrepancyReport(Report):
    "Stock Count Discrepancies"
    __name__ = 'huinong.store.inventory.discrepancy.report'

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Location = pool.get('stock.location')
        Inventory = pool.get('stock.inventory')
        context = super().get_context(records, header, data)
        # Read through the rules: a store of another area is refused
        stores = Location.search([
                ('id', '=', data['store']),
                ('huinong_store', '=', True),
                ])
        if not stores:
            raise AccessError(gettext(
                    'huinong_store.msg_store_not_accessible'))
        store, = stores
        inventories = Inventory.search([
                ('huinong_store', '=', store.id),
                ('state', '=', 'done'),
                ('date', '>=', data['from_date']),
                ('date', '<=', data['to_date']),
                ], order=[('date', 'ASC'), ('id', 'ASC')])
        rows = []
        for inventory in inventories:
            for line in inventory.lines:
                difference = line.get_huinong_difference()
                if not difference:
                    continue
                rows.append({
                        'inventory': inventory,
                        'line': line,
                        'difference': difference,
                        })
        context['store'] = store
        context['from_date'] = data['from_date']
        context['to_date'] = data['to_date']
        context['inventories'] = inventories
        context['rows'] = rows
        context['format_quantity'] = format_quantity
        context['format_difference'] = format_difference
        return context


def format_quantity(value):
    "A quantity without trailing zeros: 12, 0.5"
    if value is None:
        return ''
    return ('%.4f' % value).rstrip('0').rstrip('.')


def format_difference(value):
    "A difference with its sign: +2, -1.5"
    text = format_quantity(value)
    return '+' + text if value and value > 0 else text
