# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Tests of receiving (inspection, rejection, blocked goods, scanning), of
the goods near expiry and of the stock counts with the township office's
approval."""
import datetime as dt
import unittest
from contextlib import contextmanager
from decimal import Decimal

from trytond import backend
from trytond.exceptions import UserError
from trytond.model.exceptions import AccessButtonError, AccessError
from trytond.modules.company.tests import create_company, set_company
from trytond.modules.huinong_store.tests.tools import (
    create_store, create_user, get_township)
from trytond.modules.huinong.tests.tools import DatabaseTestCase, with_transaction
from trytond.pool import Pool
from trytond.tests.test_tryton import USER, TestCase
from trytond.transaction import Transaction, check_access

from ..exceptions import (
    BarcodeError, InspectionError, InventoryApprovalError, ScanError)


@contextmanager
def company_context(company):
    "The company's context, stock's warnings (moves without origin) skipped"
    with set_company(company), Transaction().set_context(
            _skip_warnings=True):
        yield


def create_product(name, barcode=None, cost_price=Decimal('8')):
    pool = Pool()
    Template = pool.get('product.template')
    Uom = pool.get('product.uom')
    unit, = Uom.search([('name', '=', 'Unit')])
    template, = Template.create([{
                'name': name,
                'type': 'goods',
                'default_uom': unit.id,
                'list_price': Decimal('10'),
                'products': [('create', [{
                                'cost_price': cost_price,
                                'identifiers': [('create', [{
                                                'type': 'ean',
                                                'code': barcode,
                                                }])] if barcode else [],
                                }])],
                }])
    product, = template.products
    return product


def create_shipment(store, lines, supplier=None, **values):
    """Create a draft receipt at the store of lines (product, quantity,
    move values)"""
    pool = Pool()
    Shipment = pool.get('stock.shipment.in')
    Party = pool.get('party.party')
    Location = pool.get('stock.location')
    Company = pool.get('company.company')
    if supplier is None:
        supplier, = Party.create([{'name': "海南白沙商贸公司"}])
    supplier_location, = Location.search([('type', '=', 'supplier')],
        limit=1)
    company = Company(Transaction().context['company'])
    shipment = Shipment(
        supplier=supplier, warehouse=store, company=company, **values)
    shipment.on_change_warehouse()
    shipment.save()
    moves = []
    for product, quantity, move_values in lines:
        moves.append({
                'product': product.id,
                'unit': product.default_uom.id,
                'quantity': quantity,
                'from_location': supplier_location.id,
                'to_location': store.input_location.id,
                'unit_price': Decimal('8'),
                'currency': company.currency.id,
                'company': company.id,
                **move_values,
                })
    Shipment.write([shipment], {'incoming_moves': [('create', moves)]})
    return shipment


def passed(**values):
    return {
        'huinong_inspection': 'passed',
        'huinong_inspected_by': Transaction().user or USER,
        'huinong_inspection_date': dt.date.today(),
        **values}


def stock(store, products):
    "Return the quantities of the products in the store"
    pool = Pool()
    Product = pool.get('product.product')
    with Transaction().set_context(locations=[store.id]):
        return {p.name: p.quantity
            for p in Product.browse([p.id for p in products])}


class ReceivingTestCase(DatabaseTestCase, TestCase):
    "Test receiving, expiry and stock counts at the stores"
    module = 'huinong_store'

    def setup(self):
        "A company, the 七坊镇 store with its clerk and goods"
        company = create_company(name="白沙县电商惠农超市")
        qifang = get_township('七坊镇')
        clerk = create_user('clerk', 'group_clerk', [qifang])
        store = create_store(qifang, 'QF', clerks=[clerk])
        for user in [clerk]:
            user.companies = [company]
            user.company = company
            user.save()
        with company_context(company):
            rice = create_product("东北大米", '6901234567892')
            oil = create_product("花生油", '6901234567908')
        return company, store, clerk, rice, oil

    def add_user(self, login, group, areas, company):
        user = create_user(login, group, areas)
        user.companies = [company]
        user.company = company
        user.save()
        return user

    @with_transaction()
    def test_receive_requires_inspection(self):
        "A store's receipt is refused until every line is inspected"
        pool = Pool()
        Shipment = pool.get('stock.shipment.in')
        company, store, clerk, rice, oil = self.setup()
        with company_context(company):
            shipment = create_shipment(store, [
                    (rice, 10, passed()), (oil, 5, {})])
            with self.assertRaises(InspectionError) as cm:
                Shipment.receive([shipment])
            self.assertIn("花生油", cm.exception.message)
            self.assertEqual(shipment.state, 'draft')
            self.assertEqual(
                {m.state for m in shipment.incoming_moves}, {'draft'})
            self.assertEqual(stock(store, [rice, oil]),
                {"东北大米": 0, "花生油": 0})

    @with_transaction()
    def test_receive_blocked_refused(self):
        "A blocked product is refused on receipt, unless all rejected"
        pool = Pool()
        Shipment = pool.get('stock.shipment.in')
        Product = pool.get('product.product')
        company, store, clerk, rice, oil = self.setup()
        with company_context(company):
            shipment = create_shipment(store, [
                    (rice, 10, passed()), (oil, 5, passed())])
            Product.write([oil], {
                    'huinong_blocked': True,
                    'huinong_block_reason': "批次召回",
                    })
            with self.assertRaises(InspectionError) as cm:
                Shipment.receive([shipment])
            self.assertIn("花生油", cm.exception.message)
            self.assertIn("批次召回", cm.exception.message)
            self.assertEqual(shipment.state, 'draft')
            # Rejecting all of it lets the rest be received
            oil_move, = [m for m in shipment.incoming_moves
                if m.product == oil]
            oil_move.huinong_inspection = 'rejected'
            oil_move.huinong_rejected_quantity = 5
            oil_move.huinong_rejection_reason = "召回产品"
            oil_move.save()
            Shipment.receive([shipment])
            Shipment.do([shipment])
            self.assertEqual(stock(store, [rice, oil]),
                {"东北大米": 10, "花生油": 0})

    @with_transaction()
    def test_rejected_quantity_not_in_stock(self):
        "Rejected quantities are cancelled; the passed part is received"
        pool = Pool()
        Shipment = pool.get('stock.shipment.in')
        company, store, clerk, rice, oil = self.setup()
        with company_context(company):
            shipment = create_shipment(store, [
                    (rice, 10, passed(
                            huinong_inspection='rejected',
                            huinong_rejected_quantity=10,
                            huinong_rejection_reason="受潮发霉")),
                    (oil, 12, passed(
                            huinong_inspection='rejected',
                            huinong_rejected_quantity=5,
                            huinong_rejection_reason="瓶身破损")),
                    ])
            Shipment.receive([shipment])
            Shipment.do([shipment])
            self.assertEqual(shipment.state, 'done')
            self.assertEqual(sorted(
                    (m.product.name, m.quantity, m.state,
                        m.huinong_inspection)
                    for m in shipment.incoming_moves), [
                    ("东北大米", 10, 'cancelled', 'rejected'),
                    ("花生油", 5, 'cancelled', 'rejected'),
                    ("花生油", 7, 'done', 'passed'),
                    ])
            self.assertEqual(sorted(
                    (m.product.name, m.quantity, m.state)
                    for m in shipment.inventory_moves),
                [("花生油", 7, 'done')])
            self.assertEqual(stock(store, [rice, oil]),
                {"东北大米": 0, "花生油": 7})
            # The passed part keeps the inspection
            passed_move, = [m for m in shipment.incoming_moves
                if m.state == 'done']
            self.assertEqual(passed_move.huinong_inspected_by.id,
                Transaction().user)

    @with_transaction()
    def test_bad_inspection_refused(self):
        "A rejection needs its reason and at most the move's quantity"
        pool = Pool()
        Move = pool.get('stock.move')
        company, store, clerk, rice, oil = self.setup()
        with company_context(company):
            shipment = create_shipment(store, [(rice, 10, {})])
            move, = shipment.incoming_moves
            # (a failed write is rolled back with its request; in this
            # transaction the values stay, so the order matters)
            with self.assertRaises(UserError):
                # No inspector
                Move.write([move], {'huinong_inspection': 'passed'})
            with self.assertRaises(UserError):
                # No reason
                Move.write([move], passed(
                        huinong_inspection='rejected',
                        huinong_rejected_quantity=3))
            with self.assertRaises(UserError):
                Move.write([move], passed(
                        huinong_inspection='rejected',
                        huinong_rejected_quantity=11,
                        huinong_rejection_reason="破损"))
            with self.assertRaises(UserError):
                Move.write([move], {
                        'huinong_production_date': dt.date(2026, 3, 1),
                        'huinong_expiry_date': dt.date(2026, 2, 1),
                        })

    @with_transaction()
    def test_expiry_date_computed(self):
        "The expiry date is the production date plus the shelf life"
        pool = Pool()
        Move = pool.get('stock.move')
        company, store, clerk, rice, oil = self.setup()
        with company_context(company):
            shipment = create_shipment(store, [
                    (rice, 10, {
                            'huinong_production_date': dt.date(2026, 1, 1),
                            'huinong_shelf_life': 180,
                            })])
            move, = shipment.incoming_moves
            self.assertEqual(move.huinong_expiry_date, dt.date(2026, 6, 30))
            Move.write([move], {'huinong_expiry_date': None})
            Move.write([move], {'huinong_shelf_life': 90})
            self.assertEqual(move.huinong_expiry_date, dt.date(2026, 4, 1))

    @with_transaction()
    def test_scan(self):
        "Scanning adds one to the product's line or adds the line"
        pool = Pool()
        Shipment = pool.get('stock.shipment.in')
        Scan = pool.get('stock.shipment.in.huinong_scan', type='wizard')
        Product = pool.get('product.product')
        company, store, clerk, rice, oil = self.setup()
        with company_context(company):
            shipment = create_shipment(store, [(rice, 10, {})])
            with Transaction().set_user(clerk.id), check_access(), \
                    Transaction().set_context(
                        active_model='stock.shipment.in',
                        active_id=shipment.id, active_ids=[shipment.id]):
                session_id, _, _ = Scan.create()
                scan = Scan(session_id)
                for barcode in [
                        '6901234567892', ' 6901234567908 ', '6901234567908']:
                    scan.start.barcode = barcode
                    self.assertEqual(scan.transition_add(), 'start')
                self.assertEqual(scan.start.last_product, oil)
                self.assertEqual(scan.start.last_quantity, 2)
                # A valid but unknown barcode
                scan.start.barcode = '6900000000007'
                with self.assertRaises(ScanError):
                    scan.transition_add()
                # A wrong check digit
                scan.start.barcode = '6900000000000'
                with self.assertRaises(BarcodeError):
                    scan.transition_add()
            shipment = Shipment(shipment.id)
            self.assertEqual(sorted(
                    (m.product.name, m.quantity)
                    for m in shipment.incoming_moves),
                [("东北大米", 11), ("花生油", 2)])
            oil_move, = [m for m in shipment.incoming_moves
                if m.product == oil]
            self.assertEqual(oil_move.unit_price, Decimal('8'))
            self.assertEqual(oil_move.to_location, store.input_location)
            with Transaction().set_context(
                    active_model='stock.shipment.in',
                    active_id=shipment.id, active_ids=[shipment.id]):
                # A blocked product is refused at the scan
                Product.write([oil], {'huinong_blocked': True})
                scan.start.barcode = '6901234567908'
                with self.assertRaises(ScanError):
                    scan.transition_add()
                # Only into a draft receipt
                Shipment.cancel([shipment])
                scan = Scan(session_id)
                scan.start.barcode = '6901234567892'
                with self.assertRaises(ScanError):
                    scan.transition_add()

    @with_transaction()
    def test_receipt_access(self):
        "Clerks and township roles act only in their stores and townships"
        pool = Pool()
        Shipment = pool.get('stock.shipment.in')
        Move = pool.get('stock.move')
        company, store, clerk, rice, oil = self.setup()
        qifang = get_township('七坊镇')
        yuanmen = get_township('元门乡')
        far_clerk = self.add_user('far_clerk', 'group_clerk', [yuanmen],
            company)
        far_store = create_store(yuanmen, 'YM', clerks=[far_clerk])
        office = self.add_user('office', 'group_township_office', [qifang],
            company)
        far_office = self.add_user('far_office', 'group_township_office',
            [yuanmen], company)
        fooddrug = self.add_user('fooddrug', 'group_food_drug', [], company)
        committee = self.add_user(
            'committee', 'group_village_committee', [qifang], company)
        with company_context(company):
            shipment = create_shipment(store, [(rice, 10, passed())])
            move, = shipment.incoming_moves
            for user, visible in [
                    (clerk, True), (office, True), (fooddrug, True),
                    (far_clerk, False), (far_office, False)]:
                with self.subTest(user=user.login), \
                        Transaction().set_user(user.id), check_access():
                    self.assertEqual(
                        Shipment.search([]) == [shipment], visible)
                    self.assertEqual(
                        Move.search([('id', '=', move.id)]) == [move],
                        visible)
            # A role without access to receipts
            with Transaction().set_user(committee.id), check_access(), \
                    self.assertRaises(AccessError):
                Shipment.search([])
            # Food and drug reads but does not change
            with Transaction().set_user(fooddrug.id), check_access():
                with self.assertRaises(AccessError):
                    Shipment.write([Shipment(shipment.id)],
                        {'reference': 'X'})
                with self.assertRaises(AccessError):
                    Move.write([Move(move.id)],
                        {'huinong_inspection': 'rejected'})
                with self.assertRaises(AccessError):
                    Shipment.receive([Shipment(shipment.id)])
            # The clerk of another store cannot receive it nor receive
            # goods into this store
            with Transaction().set_user(far_clerk.id), check_access():
                with self.assertRaises(AccessError):
                    Shipment.receive([Shipment(shipment.id)])
                with self.assertRaises(AccessError):
                    create_shipment(store, [(rice, 1, {})])
                far_shipment = create_shipment(far_store, [(oil, 1, {})])
            self.assertEqual(far_shipment.warehouse, far_store)
            self.assertEqual(shipment.state, 'draft')
            # The clerk of the store receives
            with Transaction().set_user(clerk.id), check_access():
                Shipment.receive([Shipment(shipment.id)])
                Shipment.do([Shipment(shipment.id)])
            self.assertEqual(stock(store, [rice]), {"东北大米": 10})


class ExpiryTestCase(DatabaseTestCase, TestCase):
    "Test the goods near or past expiry"
    module = 'huinong_store'

    @with_transaction()
    def test_expiry_remaining_fifo(self):
        "The stock left is given to the latest receipts first"
        pool = Pool()
        Shipment = pool.get('stock.shipment.in')
        Expiry = pool.get('huinong.store.expiry')
        Move = pool.get('stock.move')
        Location = pool.get('stock.location')
        company, store, clerk, rice, oil = ReceivingTestCase.setup(self)
        today = dt.date.today()
        with company_context(company):
            old = create_shipment(store, [(rice, 10, passed(
                            huinong_expiry_date=today - dt.timedelta(
                                days=3)))])
            Shipment.receive([old])
            Shipment.do([old])
            new = create_shipment(store, [(rice, 10, passed(
                            huinong_expiry_date=today + dt.timedelta(
                                days=20))),
                    (oil, 5, passed(
                            huinong_expiry_date=today + dt.timedelta(
                                days=200)))])
            Shipment.receive([new])
            Shipment.do([new])
            # 12 bags leave the store: the 10 old ones and 2 new
            customer, = Location.search([('type', '=', 'customer')])
            out, = Move.create([{
                        'product': rice.id,
                        'unit': rice.default_uom.id,
                        'quantity': 12,
                        'from_location': store.storage_location.id,
                        'to_location': customer.id,
                        'unit_price': Decimal('10'),
                        'currency': company.currency.id,
                        'company': company.id,
                        }])
            Move.do([out])
            with Transaction().set_context(days=30, store=store.id):
                lines = Expiry.search([])
                self.assertEqual(sorted(
                        (l.days_left, l.remaining_quantity, l.status)
                        for l in lines),
                    [(-3, 0, 'expired'), (20, 8, 'near')])
                lines = Expiry.search([('remaining_quantity', '>', 0)])
                self.assertEqual([l.days_left for l in lines], [20])
            with Transaction().set_context(days=300, store=store.id):
                lines = Expiry.search([('remaining_quantity', '>', 0)])
                self.assertEqual(
                    [l.product.name for l in lines], ["东北大米", "花生油"])
            with Transaction().set_context(days=10):
                self.assertEqual(
                    Expiry.search([('remaining_quantity', '>', 0)]), [])

    @with_transaction()
    def test_expiry_access(self):
        "A clerk sees the goods near expiry of their store only"
        pool = Pool()
        Shipment = pool.get('stock.shipment.in')
        Expiry = pool.get('huinong.store.expiry')
        ExpiryReport = pool.get(
            'huinong.store.expiry.report', type='report')
        company, store, clerk, rice, oil = ReceivingTestCase.setup(self)
        yuanmen = get_township('元门乡')
        far_clerk = ReceivingTestCase.add_user(
            self, 'far_clerk', 'group_clerk', [yuanmen], company)
        create_store(yuanmen, 'YM', clerks=[far_clerk])
        today = dt.date.today()
        with company_context(company):
            shipment = create_shipment(store, [(rice, 10, passed(
                            huinong_expiry_date=today))])
            Shipment.receive([shipment])
            Shipment.do([shipment])
            with Transaction().set_user(clerk.id), check_access():
                self.assertEqual(len(Expiry.search([])), 1)
            with Transaction().set_user(far_clerk.id), check_access():
                self.assertEqual(Expiry.search([]), [])
                with self.assertRaises(AccessError):
                    ExpiryReport.get_context([], {}, {
                            'store': store.id, 'days': 30})


class InventoryTestCase(DatabaseTestCase, TestCase):
    "Test the stock counts with the township office's approval"
    module = 'huinong_store'

    def setup(self, threshold=Decimal('10')):
        pool = Pool()
        Configuration = pool.get('huinong.configuration')
        Shipment = pool.get('stock.shipment.in')
        company, store, clerk, rice, oil = ReceivingTestCase.setup(self)
        Configuration.write([Configuration(1)], {
                'inventory_threshold': threshold})
        with company_context(company):
            shipment = create_shipment(store, [
                    (rice, 20, passed()), (oil, 10, passed())])
            Shipment.receive([shipment])
            Shipment.do([shipment])
        return company, store, clerk, rice, oil

    def count(self, store, quantities):
        pool = Pool()
        Inventory = pool.get('stock.inventory')
        inventory, = Inventory.create([{
                    'location': store.storage_location.id,
                    }])
        Inventory.complete_lines([inventory])
        for line in inventory.lines:
            line.quantity = quantities.get(line.product.name,
                line.expected_quantity)
            line.save()
        return Inventory(inventory.id)

    @with_transaction()
    def test_within_threshold(self):
        "Differences within the threshold are confirmed without approval"
        pool = Pool()
        Inventory = pool.get('stock.inventory')
        company, store, clerk, rice, oil = self.setup()
        with company_context(company):
            # 2 of 20 is 10%: not beyond
            inventory = self.count(store, {"东北大米": 18})
            self.assertFalse(inventory.huinong_approval_required)
            with Transaction().set_user(clerk.id), check_access():
                Inventory.confirm([Inventory(inventory.id)])
            self.assertEqual(stock(store, [rice, oil]),
                {"东北大米": 18, "花生油": 10})

    @with_transaction()
    def test_beyond_threshold_refused_then_approved(self):
        "Beyond the threshold: refused until the township office approves"
        pool = Pool()
        Inventory = pool.get('stock.inventory')
        Approval = pool.get('huinong.approval')
        company, store, clerk, rice, oil = self.setup()
        qifang = get_township('七坊镇')
        yuanmen = get_township('元门乡')
        office = ReceivingTestCase.add_user(
            self, 'office', 'group_township_office', [qifang], company)
        far_office = ReceivingTestCase.add_user(
            self, 'far_office', 'group_township_office', [yuanmen],
            company)
        # A member of the township office answering for no township
        lost_office = ReceivingTestCase.add_user(
            self, 'lost_office', 'group_township_office', [], company)
        government = ReceivingTestCase.add_user(
            self, 'government', 'group_township_government', [qifang],
            company)
        with company_context(company):
            inventory = self.count(store, {"东北大米": 17, "花生油": 10})
            self.assertTrue(inventory.huinong_approval_required)
            with Transaction().set_user(clerk.id), check_access():
                with self.assertRaises(InventoryApprovalError) as cm:
                    Inventory.confirm([Inventory(inventory.id)])
                self.assertIn("东北大米", cm.exception.message)
                self.assertIn("10%", cm.exception.message)
                # The clerk cannot approve
                with self.assertRaises(AccessButtonError):
                    Inventory.huinong_approve([Inventory(inventory.id)])
            for user, error in [
                    (government, AccessButtonError),
                    (far_office, AccessError),
                    (lost_office, AccessError)]:
                with self.subTest(user=user.login), \
                        Transaction().set_user(user.id), check_access(), \
                        self.assertRaises(error):
                    Inventory.huinong_approve([Inventory(inventory.id)])
            inventory = Inventory(inventory.id)
            self.assertEqual(inventory.state, 'draft')
            self.assertIsNone(inventory.huinong_approved_at)
            with Transaction().set_user(office.id), check_access():
                Inventory.huinong_approve([Inventory(inventory.id)])
                # The office cannot change the count
                with self.assertRaises(AccessError):
                    Inventory.write([Inventory(inventory.id)],
                        {'empty_quantity': 'keep'})
            inventory = Inventory(inventory.id)
            self.assertEqual(inventory.huinong_approved_by, office)
            self.assertTrue(inventory.huinong_approved_at)
            approval, = Approval.search(
                [('document', '=', str(inventory))])
            self.assertEqual(approval.user, office)
            # A change of the count withdraws the approval
            rice_line, = [l for l in inventory.lines if l.product == rice]
            with Transaction().set_user(clerk.id), check_access():
                rice_line = type(rice_line)(rice_line.id)
                rice_line.quantity = 16
                rice_line.save()
                inventory = Inventory(inventory.id)
                self.assertIsNone(inventory.huinong_approved_at)
                with self.assertRaises(InventoryApprovalError):
                    Inventory.confirm([inventory])
            with Transaction().set_user(office.id), check_access():
                Inventory.huinong_approve([Inventory(inventory.id)])
            with Transaction().set_user(clerk.id), check_access():
                Inventory.confirm([Inventory(inventory.id)])
            self.assertEqual(stock(store, [rice, oil]),
                {"东北大米": 16, "花生油": 10})

    @with_transaction()
    def test_zero_threshold_and_new_product(self):
        "With no threshold any difference needs approval; so does a find"
        pool = Pool()
        Inventory = pool.get('stock.inventory')
        InventoryLine = pool.get('stock.inventory.line')
        company, store, clerk, rice, oil = self.setup(threshold=None)
        with company_context(company):
            soap = create_product("洗衣皂")
            inventory = self.count(store, {"东北大米": 19})
            self.assertTrue(inventory.huinong_approval_required)
            inventory = self.count(store, {})
            self.assertFalse(inventory.huinong_approval_required)
            InventoryLine.create([{
                        'inventory': inventory.id,
                        'product': soap.id,
                        'quantity': 1,
                        }])
            inventory = Inventory(inventory.id)
            self.assertTrue(inventory.huinong_approval_required)
            with self.assertRaises(InventoryApprovalError):
                Inventory.confirm([inventory])

    @with_transaction()
    def test_inventory_access(self):
        "A clerk counts only in their store"
        pool = Pool()
        Inventory = pool.get('stock.inventory')
        company, store, clerk, rice, oil = self.setup()
        yuanmen = get_township('元门乡')
        far_clerk = ReceivingTestCase.add_user(
            self, 'far_clerk', 'group_clerk', [yuanmen], company)
        far_store = create_store(yuanmen, 'YM', clerks=[far_clerk])
        with company_context(company):
            inventory = self.count(store, {})
            with Transaction().set_user(far_clerk.id), check_access():
                self.assertEqual(Inventory.search([]), [])
                with self.assertRaises(AccessError):
                    Inventory.confirm([Inventory(inventory.id)])
                with self.assertRaises(AccessError):
                    Inventory.create([{
                                'location': store.storage_location.id}])
                far, = Inventory.create([{
                            'location': far_store.storage_location.id}])
                # a clerk's count is of their store's storage by default,
                # named after the store
                self.assertEqual(Inventory.default_location(),
                    far_store.storage_location.id)
            self.assertEqual(far.huinong_store, far_store)
            self.assertIn(far_store.name, far_store.storage_location.name)



@unittest.skipIf(backend.name == 'sqlite',
    'SQLite has no concurrent transactions')
class InventoryConcurrencyTestCase(DatabaseTestCase, TestCase):
    "Test a count changed while the township office approves it"
    # The test commits: it works in a database of its own
    module = 'huinong_store'

    @with_transaction()
    def test_count_changed_during_approval(self):
        "A change of the count made during its approval fails"
        pool = Pool()
        Inventory = pool.get('stock.inventory')
        InventoryLine = pool.get('stock.inventory.line')
        transaction = Transaction()
        company, store, clerk, rice, oil = InventoryTestCase.setup(self)
        qifang = get_township('七坊镇')
        office = ReceivingTestCase.add_user(
            self, 'office', 'group_township_office', [qifang], company)
        with company_context(company):
            inventory = InventoryTestCase.count(self, store, {"东北大米": 10})
            line, = [l for l in inventory.lines if l.product == rice]
        transaction.commit()
        context = {'company': company.id}
        with transaction.new_transaction() as clerk_transaction, \
                clerk_transaction.set_user(clerk.id), \
                clerk_transaction.set_context(context), check_access():
            # The clerk's transaction has started (its snapshot is taken)
            self.assertEqual(InventoryLine(line.id).quantity, 10)
            with transaction.new_transaction() as office_transaction, \
                    office_transaction.set_user(office.id), \
                    office_transaction.set_context(context), check_access():
                Inventory.huinong_approve([Inventory(inventory.id)])
                office_transaction.commit()
            with self.assertRaises(backend.DatabaseOperationalError):
                InventoryLine.write([InventoryLine(line.id)],
                    {'quantity': 9})
            clerk_transaction.rollback()
        # Retried, the change withdraws the approval
        with transaction.new_transaction() as retry, \
                retry.set_user(clerk.id), retry.set_context(context), \
                check_access():
            InventoryLine.write([InventoryLine(line.id)], {'quantity': 9})
            retry.commit()
        with transaction.new_transaction():
            inventory = Inventory(inventory.id)
            self.assertIsNone(inventory.huinong_approved_at)
            self.assertEqual([l.quantity for l in inventory.lines
                    if l.product == rice], [9])
