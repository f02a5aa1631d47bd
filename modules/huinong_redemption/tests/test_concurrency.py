# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Confirmations racing in real parallel transactions (PostgreSQL), and a
failure in the middle of a confirmation (both backends)."""
import threading
import unittest
from decimal import Decimal
from unittest.mock import patch

from trytond import backend
from trytond.exceptions import UserError
from trytond.modules.company.tests import set_company
from trytond.modules.huinong.tests.tools import DatabaseTestCase
from trytond.modules.huinong_card.tests.tools import in_transaction
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, USER
from trytond.transaction import Transaction

from .tools import PIN, setup_county, stock_in


def request(user_id, func, *args, commit=True, company=None, check=True,
        alone=False):
    """Run func as one RPC request of the user would run: restarted with
    the locks it asks for, sent again while a lock is busy (trytond takes
    them without waiting, also at the start of the transaction), committed
    at the end or rolled back on an error (which propagates)"""
    return in_transaction(func, *args, commit=commit, user=user_id,
        context={'company': company} if company else None, check=check,
        busy_retries=200, alone=alone)


class _Committed(DatabaseTestCase):
    module = 'huinong_redemption'

    def setUp(self):
        super().setUp()
        self.ids = {}

        def setup():
            c = setup_county(stock=10, points=100)
            with set_company(c['company']):
                # One bottle of oil left in the 七坊镇 store
                stock_in(c['store'], c['products'][1], -9)
            self.ids.update(
                company=c['company'].id, store=c['store'].id,
                clerk=c['clerk'].id,
                products=[p.id for p in c['products']],
                households=[h.id for h in c['households']],
                cards=[card.number for card in c['cards']])
        request(USER, setup, check=False, alone=True)

    def tearDown(self):
        super().tearDown()
        # The next test starts from a fresh database
        from trytond.tests.test_tryton import activate_module, drop_db
        drop_db()
        activate_module(self.module)

    def redeem(self, card, lines, key, pin=PIN):
        Redemption = Pool().get('huinong.redemption')
        return Redemption.redeem({
                'store': self.ids['store'],
                'card': card,
                'pin': pin,
                'key': key,
                'lines': lines,
                })

    def state(self):
        "Balances, stock of the store and the redemptions, committed"
        def read():
            pool = Pool()
            Party = pool.get('party.party')
            Product = pool.get('product.product')
            Location = pool.get('stock.location')
            Redemption = pool.get('huinong.redemption')
            Move = pool.get('stock.move')
            Use = pool.get('huinong.entitlement.use')
            store = Location(self.ids['store'])
            with Transaction().set_context(
                    locations=[store.storage_location.id]):
                stock = [Product(p).quantity for p in self.ids['products']]
            return {
                'balances': [Party(h).huinong_points_balance
                    for h in self.ids['households']],
                'stock': stock,
                'redemptions': Redemption.search_count(
                    [('state', '=', 'done')]),
                'customer_moves': Move.search_count(
                    [('to_location.type', '=', 'customer')]),
                'uses': Use.search_count([]),
                }
        return request(USER, read, commit=False,
            company=self.ids['company'], check=False)

    def race(self, calls):
        """Run the calls [(card, lines, key)] at once, each in a thread of
        its own as the clerk; return the outcomes: the result or the
        error's message"""
        outcomes = [None] * len(calls)
        barrier = threading.Barrier(len(calls))

        def run(i, card, lines, key):
            barrier.wait()
            try:
                outcomes[i] = request(self.ids['clerk'], self.redeem,
                    card, lines, key, company=self.ids['company'])
            except UserError as e:
                outcomes[i] = e.message
            except Exception as e:  # reported by the assertions
                outcomes[i] = repr(e)
        threads = [threading.Thread(target=run, args=(i, *call))
            for i, call in enumerate(calls)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        return outcomes


@unittest.skipIf(backend.name == 'sqlite',
    "SQLite runs one writing transaction at a time")
class RedemptionConcurrencyTestCase(_Committed):
    "Confirmations racing in parallel transactions"

    def test_ten_on_one_card(self):
        "Ten confirms on a card that covers three: exactly three succeed"
        card = self.ids['cards'][0]
        rice = self.ids['products'][0]
        outcomes = self.race([
                (card, [{'product': rice, 'quantity': 1}], 'ten-%d' % i)
                for i in range(10)])
        done = [o for o in outcomes if isinstance(o, dict)]
        refused = [o for o in outcomes if not isinstance(o, dict)]
        self.assertEqual(len(done), 3, outcomes)
        for message in refused:
            self.assertIn('not enough for 30', message)
        state = self.state()
        self.assertEqual(state['balances'][0], Decimal(10))
        self.assertEqual(state['stock'][0], 7)
        self.assertEqual(state['redemptions'], 3)
        self.assertEqual(state['customer_moves'], 3)

    def test_last_unit(self):
        "Two households race for the last bottle: one gets it"
        oil = self.ids['products'][1]
        outcomes = self.race([
                (card, [{'product': oil, 'quantity': 1}], 'last-%d' % i)
                for i, card in enumerate(self.ids['cards'])])
        done = [o for o in outcomes if isinstance(o, dict)]
        self.assertEqual(len(done), 1, outcomes)
        refused, = [o for o in outcomes if not isinstance(o, dict)]
        self.assertIn('in stock', refused)
        state = self.state()
        self.assertEqual(state['stock'][1], 0)
        self.assertEqual(sorted(state['balances']),
            [Decimal(80), Decimal(100)])

    def test_stock_freed_between_lock_statements(self):
        """The last bottle's lock comes free after the second counter took
        its household's: the second still sees the first one's sale"""
        oil = self.ids['products'][1]
        first_has_all, second_has_household, first_done = (
            threading.Event(), threading.Event(), threading.Event())
        lock_records = backend.Database.lock_records.__func__

        def pausing_lock_records(cls, connection, table, ids):
            # trytond takes a restarted transaction's locks table by table:
            # hold each counter between two of them
            lock_records(cls, connection, table, ids)
            name = threading.current_thread().name
            if name == 'second' and table == 'party_party':
                second_has_household.set()
                first_done.wait(60)
            elif name == 'first' and table == (
                    'huinong_redemption_stock_lock'):
                first_has_all.set()
                second_has_household.wait(60)
        outcomes = {}

        def run(name, card, key):
            try:
                outcomes[name] = request(self.ids['clerk'], self.redeem,
                    card, [{'product': oil, 'quantity': 1}], key,
                    company=self.ids['company'])
            except UserError as e:
                outcomes[name] = e.message
            except Exception as e:
                outcomes[name] = repr(e)
            finally:
                if name == 'first':
                    first_done.set()
        with patch.object(backend.Database, 'lock_records',
                classmethod(pausing_lock_records)):
            first = threading.Thread(name='first', target=run,
                args=('first', self.ids['cards'][0], 'freed-1'))
            first.start()
            self.assertTrue(first_has_all.wait(60))
            second = threading.Thread(name='second', target=run,
                args=('second', self.ids['cards'][1], 'freed-2'))
            second.start()
            first.join(120)
            second.join(120)
        self.assertIsInstance(outcomes['first'], dict, outcomes)
        self.assertIn('in stock', outcomes['second'])
        state = self.state()
        self.assertEqual(state['stock'][1], 0)

    def test_same_key_at_once(self):
        "The same key sent twice at once: one redemption"
        card = self.ids['cards'][0]
        soap = self.ids['products'][2]
        outcomes = self.race([
                (card, [{'product': soap, 'quantity': 1}], 'same-key')
                for _ in range(2)])
        self.assertEqual(outcomes[0], outcomes[1])
        self.assertIsInstance(outcomes[0], dict)
        state = self.state()
        self.assertEqual(state['redemptions'], 1)
        self.assertEqual(state['balances'][0], Decimal(95))
        self.assertEqual(state['stock'][2], 9)


class RedemptionFailureTestCase(_Committed):
    "Refused and failed confirmations leave nothing behind"

    def test_wrong_pin(self):
        "A wrong PIN: refused, nothing moved, the failure stays counted"
        before = self.state()
        card = self.ids['cards'][0]
        lines = [{'product': self.ids['products'][0], 'quantity': 1}]

        def redeem_wrong():
            Redemption = Pool().get('huinong.redemption')
            return Redemption.redeem({
                    'store': self.ids['store'], 'card': card,
                    'pin': '000000', 'key': 'pin-1', 'lines': lines})
        with self.assertRaises(UserError) as cm:
            request(self.ids['clerk'], redeem_wrong,
                company=self.ids['company'])
        self.assertIn(card, cm.exception.message)
        self.assertEqual(self.state(), before)

        def failures():
            Card = Pool().get('huinong.card')
            card_, = Card.search([('number', '=', card)])
            return card_.pin_failures
        self.assertEqual(request(USER, failures, check=False), 1)
        # The right PIN afterwards: done, the count reset
        request(self.ids['clerk'], self.redeem, card, lines, 'pin-2',
            company=self.ids['company'])
        self.assertEqual(request(USER, failures, check=False), 0)

    def test_wrong_pins_of_one_user(self):
        """A clerk's wrong PINs over several cards: at the day's limit every
        PIN check of that clerk is refused, nothing counted on the cards;
        another user is not affected"""
        cards = self.ids['cards']
        lines = [{'product': self.ids['products'][2], 'quantity': 1}]

        def configure():
            Configuration = Pool().get('huinong.configuration')
            Configuration.write([Configuration(1)],
                {'card_pin_user_max_failures': 2})
        request(USER, configure, check=False)

        def card_failures():
            Card = Pool().get('huinong.card')
            return [Card.search([('number', '=', n)])[0].pin_failures or 0
                for n in cards]
        for i, card in enumerate(cards):
            with self.assertRaises(UserError):
                request(self.ids['clerk'],
                    lambda *a: self.redeem(*a, pin='000000'), card, lines,
                    'wrong-%d' % i, company=self.ids['company'])
        self.assertEqual(request(USER, card_failures, check=False), [1, 1])
        before = self.state()
        # the right PIN now: refused for this clerk, the cards untouched
        with self.assertRaises(UserError) as cm:
            request(self.ids['clerk'], self.redeem, cards[0], lines,
                'right-1', company=self.ids['company'])
        self.assertIn('24', cm.exception.message)
        self.assertNotIn(cards[0], cm.exception.message)
        self.assertEqual(self.state(), before)
        self.assertEqual(request(USER, card_failures, check=False), [1, 1])

        # the county office reads who typed them
        def failures():
            Failure = Pool().get('huinong.card.pin_failure')
            return [(f.user.id, f.card.number) for f in Failure.search(
                    [], order=[('id', 'ASC')])]
        self.assertEqual(request(USER, failures, check=False),
            [(self.ids['clerk'], card) for card in cards])

    def test_failure_after_stock(self):
        "No stock move, no ledger line, no count used, no redemption"
        pool = Pool(DB_NAME)
        Ledger = pool.get('huinong.points.ledger')
        type_ids = []

        def grant():
            Type = Pool().get('huinong.entitlement.type')
            Grant = Pool().get('huinong.entitlement.grant')
            type_, = Type.create([{
                        'name': "理发", 'code': 'HAIR', 'unit': "次"}])
            Grant.create([{
                        'household': self.ids['households'][0],
                        'type': type_.id, 'quantity': 3}])
            type_ids.append(type_.id)
        request(USER, grant, company=self.ids['company'], check=False)
        before = self.state()

        def fail(*args, **kwargs):
            raise RuntimeError("the disk is full")
        card = self.ids['cards'][0]
        lines = [
            {'product': self.ids['products'][0], 'quantity': 2},
            {'entitlement_type': type_ids[0], 'quantity': 1},
            ]
        with patch.object(Ledger, 'redeem', side_effect=fail):
            with self.assertRaises(RuntimeError):
                request(self.ids['clerk'], self.redeem, card, lines,
                    'fail-1', company=self.ids['company'])
        self.assertEqual(self.state(), before)
        # The stock moves were made before the failure
        with patch.object(pool.get('huinong.redemption'), '_use_entitlements',
                side_effect=fail):
            with self.assertRaises(RuntimeError):
                request(self.ids['clerk'], self.redeem, card, lines,
                    'fail-2', company=self.ids['company'])
        self.assertEqual(self.state(), before)
        # And it works once the fault is gone
        result = request(self.ids['clerk'], self.redeem, card, lines,
            'fail-3', company=self.ids['company'])
        self.assertEqual(result['points'], Decimal(60))
        after = self.state()
        self.assertEqual(after['uses'], 1)
        self.assertEqual(after['balances'][0], Decimal(40))
