# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt
import zoneinfo

from trytond.model.exceptions import AccessError
from trytond.modules.huinong_store.tests.tools import (
    create_operator, create_store, create_user, get_township, hours)
from trytond.pool import Pool
from trytond.modules.huinong.tests.tools import ClientViewsMixin, with_transaction
from trytond.tests.test_tryton import ModuleTestCase
from trytond.transaction import Transaction, check_access

from .test_report import StoreReportTestCase  # noqa: F401
from .test_goods import (  # noqa: F401
    GoodsConcurrencyTestCase, GoodsTestCase)
from .test_goods_report import GoodsReportTestCase  # noqa: F401
from .test_receiving import (  # noqa: F401
    ExpiryTestCase, InventoryConcurrencyTestCase, InventoryTestCase,
    ReceivingTestCase)

from ..exceptions import OpeningHoursValidationError

SHANGHAI = zoneinfo.ZoneInfo('Asia/Shanghai')


class HuinongStoreTestCase(ClientViewsMixin, ModuleTestCase):
    "Test Huinong Store module"
    module = 'huinong_store'

    @with_transaction()
    def test_store_creation(self):
        "A store has its township, operator, clerks and warehouse locations"
        pool = Pool()
        Location = pool.get('stock.location')
        qifang = get_township('七坊镇')
        clerk = create_user('clerk', 'group_clerk', [qifang])
        operator = create_operator("符小二")
        store = create_store(qifang, 'QF', "七坊镇电商惠农超市示范店",
            clerks=[clerk], operator=operator, huinong_phone='0898-27721234')
        self.assertEqual(store.type, 'warehouse')
        self.assertEqual(store.huinong_township, qifang)
        self.assertEqual(store.huinong_operator, operator)
        self.assertEqual(list(store.huinong_clerks), [clerk])
        self.assertEqual(len(store.huinong_opening_hours), 14)
        # The sub-locations a warehouse requires are created in the store
        for location in [store.input_location, store.output_location,
                store.storage_location]:
            self.assertEqual(location.type, 'storage')
            self.assertEqual(location.parent, store)
            self.assertEqual(location.huinong_store_of, store)
            self.assertEqual(location.huinong_store_township, qifang)
        self.assertEqual(store.huinong_store_of, store)
        self.assertEqual(list(clerk.huinong_stores), [store])
        # The searchers
        sub_ids = {store.id, store.input_location.id,
            store.output_location.id, store.storage_location.id}
        self.assertEqual(
            {l.id for l in Location.search(
                    [('huinong_store_of', '=', store.id)])}, sub_ids)
        self.assertEqual(
            {l.id for l in Location.search(
                    [('huinong_store_township', 'in', [qifang.id])])},
            sub_ids)
        others = Location.search([('huinong_store_of', '=', None)])
        self.assertTrue(others)
        self.assertFalse(sub_ids & {l.id for l in others})
        self.assertIn('supplier', {l.type for l in others})

    @with_transaction()
    def test_store_township_required(self):
        "A store requires its township and operator"
        pool = Pool()
        Location = pool.get('stock.location')
        operator = create_operator("符小二")
        with self.assertRaises(Exception):
            Location.create([{
                        'name': "无乡镇超市", 'code': 'X',
                        'huinong_store': True,
                        'huinong_operator': operator.id,
                        'huinong_opening_hours': [('create', hours())],
                        }])

    @with_transaction()
    def test_hours_under_8_refused(self):
        "A weekday under 8 hours is refused, naming the weekday and hours"
        qifang = get_township('七坊镇')
        with self.assertRaises(OpeningHoursValidationError) as cm:
            create_store(qifang, 'QF',
                intervals=[(dt.time(8), dt.time(12)),
                    (dt.time(14), dt.time(17, 30))])
        self.assertIn('Monday', cm.exception.message)
        self.assertIn('7.5', cm.exception.message)
        self.assertIn('08:00-12:00, 14:00-17:30', cm.exception.message)

    @with_transaction()
    def test_hours_under_8_one_day_refused(self):
        "Shortening one day under 8 hours is refused"
        pool = Pool()
        OpeningHours = pool.get('huinong.store.opening_hours')
        store = create_store(get_township('七坊镇'), 'QF')
        sunday = [l for l in store.huinong_opening_hours
            if l.weekday == '7']
        with self.assertRaises(OpeningHoursValidationError) as cm:
            OpeningHours.write(sunday[-1:], {'closes': dt.time(17)})
        self.assertIn('Sunday', cm.exception.message)
        self.assertIn('7', cm.exception.message)

    @with_transaction()
    def test_missing_weekday_refused(self):
        "A store opens every day: a missing weekday is refused"
        pool = Pool()
        Location = pool.get('stock.location')
        OpeningHours = pool.get('huinong.store.opening_hours')
        qifang = get_township('七坊镇')
        operator = create_operator("符小二")
        with self.assertRaises(OpeningHoursValidationError) as cm:
            Location.create([{
                        'name': "六天超市", 'code': 'QF6',
                        'huinong_store': True,
                        'huinong_township': qifang.id,
                        'huinong_operator': operator.id,
                        'huinong_opening_hours': [
                            ('create', hours(weekdays='123456'))],
                        }])
        self.assertIn('Sunday', cm.exception.message)
        # Deleting a day is refused as well
        store = create_store(qifang, 'QF')
        wednesday = [l for l in store.huinong_opening_hours
            if l.weekday == '3']
        with self.assertRaises(OpeningHoursValidationError) as cm:
            OpeningHours.delete(wednesday)
        self.assertIn('Wednesday', cm.exception.message)
        # Replacing the lines through the store is checked once, at the end
        Location.write([store], {
                'huinong_opening_hours': [
                    ('delete', [l.id for l in store.huinong_opening_hours]),
                    ('create', hours([(dt.time(8), dt.time(18))])),
                    ]})
        self.assertEqual(len(store.huinong_opening_hours), 7)

    @with_transaction()
    def test_overlap_refused(self):
        "Overlapping intervals of a day are refused"
        qifang = get_township('七坊镇')
        with self.assertRaises(OpeningHoursValidationError) as cm:
            create_store(qifang, 'QF',
                intervals=[(dt.time(8), dt.time(13)),
                    (dt.time(12), dt.time(18))])
        self.assertIn('overlap', cm.exception.message)
        self.assertIn('08:00-13:00', cm.exception.message)
        self.assertIn('12:00-18:00', cm.exception.message)

    @with_transaction()
    def test_closes_before_opens_refused(self):
        "An interval closes after it opens"
        qifang = get_township('七坊镇')
        with self.assertRaises(Exception):
            create_store(qifang, 'QF',
                intervals=[(dt.time(18), dt.time(8))])

    @with_transaction()
    def test_split_day(self):
        "A day in two intervals counts their sum; 8:00-16:00 is enough"
        qifang = get_township('七坊镇')
        store = create_store(qifang, 'QF')
        self.assertEqual(len(store.huinong_opening_hours), 14)
        store = create_store(get_township('元门乡'), 'YM',
            intervals=[(dt.time(8), dt.time(16))])
        self.assertEqual(len(store.huinong_opening_hours), 7)

    @with_transaction()
    def test_is_open(self):
        "is_open compares in the stores' time, within the intervals"
        pool = Pool()
        OpeningHours = pool.get('huinong.store.opening_hours')
        store = create_store(get_township('七坊镇'), 'QF')
        # 2026-03-02 is a Monday
        for local, expected in [
                (dt.datetime(2026, 3, 2, 7, 59), False),
                (dt.datetime(2026, 3, 2, 8, 0), True),
                (dt.datetime(2026, 3, 2, 11, 59), True),
                (dt.datetime(2026, 3, 2, 12, 0), False),
                (dt.datetime(2026, 3, 2, 13, 0), False),
                (dt.datetime(2026, 3, 2, 18, 29), True),
                (dt.datetime(2026, 3, 2, 18, 30), False),
                (dt.datetime(2026, 3, 8, 9, 0), True),
                (dt.datetime(2026, 3, 8, 22, 0), False),
                ]:
            aware = local.replace(tzinfo=SHANGHAI)
            with self.subTest(local=local):
                self.assertEqual(OpeningHours.is_open(store, aware), expected)
                # Naive datetimes are UTC, as trytond stores them
                naive = aware.astimezone(dt.timezone.utc).replace(
                    tzinfo=None)
                self.assertEqual(OpeningHours.is_open(store, naive), expected)

    @with_transaction()
    def test_non_store_locations_untouched(self):
        "Other warehouses and locations are not checked as stores"
        pool = Pool()
        Location = pool.get('stock.location')
        warehouse, = Location.search([('type', '=', 'warehouse')], limit=1)
        self.assertFalse(warehouse.huinong_store)
        Location.write([warehouse], {'name': "总仓"})
        storage, = Location.create([{'name': "库位", 'type': 'storage'}])
        self.assertIsNone(storage.huinong_store_of)

    @with_transaction()
    def test_access_by_role(self):
        "Each role sees and changes only the stores it answers for"
        pool = Pool()
        Location = pool.get('stock.location')
        OpeningHours = pool.get('huinong.store.opening_hours')
        Area = pool.get('huinong.area')
        qifang = get_township('七坊镇')
        yuanmen = get_township('元门乡')
        county, = Area.search([('type', '=', 'county')])
        village, = Area.create([{
                    'name': "罗任村", 'code': 'QF01', 'parent': qifang.id}])
        users = {
            'county': create_user('county', 'group_county_office', [county]),
            'price': create_user('price', 'group_price', []),
            'township': create_user(
                'township', 'group_township_office', [qifang]),
            'government': create_user(
                'government', 'group_township_government', [qifang]),
            'committee': create_user(
                'committee', 'group_village_committee', [village]),
            'clerk': create_user('clerk', 'group_clerk', [qifang]),
            'far_clerk': create_user('far_clerk', 'group_clerk', [yuanmen]),
            'no_store_clerk': create_user(
                'no_store_clerk', 'group_clerk', [qifang]),
            }
        qf = create_store(qifang, 'QF', clerks=[users['clerk']])
        ym = create_store(yuanmen, 'YM', clerks=[users['far_clerk']])
        qf_subs = {qf.input_location, qf.output_location,
            qf.storage_location}
        ym_subs = {ym.input_location, ym.output_location,
            ym.storage_location}
        supplier, = Location.search([('type', '=', 'supplier')], limit=1)
        visible = {
            'county': {qf, ym},
            'price': {qf, ym},
            'township': {qf},
            'government': {qf},
            'committee': {qf},
            'clerk': {qf},
            'far_clerk': {ym},
            'no_store_clerk': set(),
            }
        write_store = {'county'}
        write_hours = {'county', 'township'}
        subs = {qf: qf_subs, ym: ym_subs}
        for name, user in users.items():
            with self.subTest(role=name), \
                    Transaction().set_user(user.id), check_access():
                self.assertEqual(
                    set(Location.search([('huinong_store', '=', True)])),
                    visible[name])
                # The locations outside the stores stay visible to all
                self.assertIn(supplier, Location.search([]))
                Location.read([supplier.id], ['name'])
                for store in {qf, ym}:
                    seen = store in visible[name]
                    sub_ids = {s.id for s in subs[store]}
                    found = Location.search([('id', 'in', list(sub_ids))])
                    self.assertEqual(
                        {l.id for l in found}, sub_ids if seen else set())
                    lines = OpeningHours.search([('store', '=', store.id)])
                    self.assertEqual(len(lines), 14 if seen else 0)
                    if not seen:
                        with self.assertRaises(AccessError):
                            Location.read([store.id], ['name'])
                        continue
                    if name in write_store:
                        Location.write(
                            [Location(store.id)], {'huinong_phone': '123'})
                    else:
                        with self.assertRaises(AccessError):
                            Location.write([Location(store.id)],
                                {'huinong_phone': '123'})
                    line = lines[-1]
                    if name in write_hours:
                        OpeningHours.write(
                            [line], {'closes': dt.time(19)})
                    else:
                        with self.assertRaises(AccessError):
                            OpeningHours.write(
                                [line], {'closes': dt.time(19)})
        # Store creation is for the county office
        operator = create_operator("符小二")
        for name in ['township', 'clerk']:
            with self.subTest(create=name), \
                    Transaction().set_user(users[name].id), \
                    check_access(), self.assertRaises(AccessError):
                create_store(qifang, 'QF2', operator=operator)
        with Transaction().set_user(users['county'].id), check_access():
            store = create_store(qifang, 'QF2', operator=operator)
        self.assertTrue(store.storage_location)

    @with_transaction()
    def test_clerk_scope_follows_store(self):
        "Adding a clerk to a store opens it to the clerk at once"
        pool = Pool()
        Location = pool.get('stock.location')
        qifang = get_township('七坊镇')
        clerk = create_user('clerk', 'group_clerk', [qifang])
        store = create_store(qifang, 'QF')
        domain = [('huinong_store', '=', True)]
        with Transaction().set_user(clerk.id), check_access():
            self.assertEqual(Location.search(domain), [])
        Location.write([store], {'huinong_clerks': [('add', [clerk.id])]})
        with Transaction().set_user(clerk.id), check_access():
            self.assertEqual(Location.search(domain), [store])
        Location.write(
            [store], {'huinong_clerks': [('remove', [clerk.id])]})
        with Transaction().set_user(clerk.id), check_access():
            self.assertEqual(Location.search(domain), [])

    @with_transaction()
    def test_demo_stores(self):
        "The demo makes one store per township, once"
        pool = Pool()
        Location = pool.get('stock.location')
        Area = pool.get('huinong.area')
        from ..demo import create_demo_stores
        clerk = create_user(
            'qifang_clerk', 'group_clerk', [get_township('七坊镇')])
        stats = create_demo_stores(pool)
        self.assertEqual(
            stats, {'stores': 11, 'operators': 11, 'clerks': 1})
        stores = Location.search([('huinong_store', '=', True)])
        townships = Area.search([('type', '=', 'township')])
        self.assertEqual(
            {s.huinong_township for s in stores}, set(townships))
        qifang, = Location.search([('code', '=', 'STORE-QF01')])
        self.assertEqual(qifang.name, "七坊镇电商惠农超市示范店")
        self.assertEqual(list(qifang.huinong_clerks), [clerk])
        self.assertEqual(
            create_demo_stores(pool),
            {'stores': 0, 'operators': 0, 'clerks': 0})


del ModuleTestCase
