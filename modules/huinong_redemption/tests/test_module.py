# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt
from decimal import Decimal

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.modules.company.tests import set_company
from trytond.modules.huinong_card.tests.tools import create_household
from trytond.pool import Pool
from trytond.modules.huinong.tests.tools import (
    ClientViewsMixin, DatabaseTestCase, SharedFixtureMixin, with_transaction)
from trytond.tests.test_tryton import ModuleTestCase, TestCase
from trytond.transaction import Transaction, check_access

from .test_concurrency import (  # noqa: F401
    RedemptionConcurrencyTestCase, RedemptionFailureTestCase)
from .test_report import RedemptionReportTestCase  # noqa: F401
from .tools import PIN, make_ean, setup_county, stock_in


class _Redeem:
    "Shortcuts of the tests on one county"

    def as_user(self, user, func, *args, **kwargs):
        with Transaction().set_user(user.id), check_access():
            return func(*args, **kwargs)

    def redeem(self, c, lines, card=0, pin=PIN, key=None, store=None,
            user=None):
        Redemption = Pool().get('huinong.redemption')
        self._key = getattr(self, '_key', 0) + 1
        values = {
            'store': (store or c['store']).id,
            'card': c['cards'][card].number,
            'pin': pin,
            'key': key or 'k%d' % self._key,
            'lines': lines,
            }
        return self.as_user(user or c['clerk'], Redemption.redeem, values)

    def balance(self, household):
        Party = Pool().get('party.party')
        return Party(household.id).huinong_points_balance

    def stock(self, store, product):
        Product = Pool().get('product.product')
        with Transaction().set_context(
                locations=[store.storage_location.id],
                stock_date_end=dt.date.today()):
            return Product(product.id).quantity

    def counts(self):
        pool = Pool()
        # A refused request is rolled back whole; here, in one test
        # transaction, its draft stays: count the confirmed ones
        counts = {name: pool.get(name).search_count([]) for name in [
                'stock.move', 'account.move.line',
                'huinong.entitlement.use', 'huinong.sms']}
        counts['done'] = pool.get('huinong.redemption').search_count(
            [('state', '=', 'done')])
        return counts


class HuinongRedemptionTestCase(
        _Redeem, SharedFixtureMixin, ClientViewsMixin, ModuleTestCase):
    "Test the redemption counter"
    module = 'huinong_redemption'
    fixture = staticmethod(setup_county)

    @with_transaction()
    def test_redeem(self):
        "A clerk redeems goods: points, stock and ledger move together"
        pool = Pool()
        Redemption = pool.get('huinong.redemption')
        SMS = pool.get('huinong.sms')
        Config = pool.get('huinong.configuration')
        c = self.shared()
        rice, oil, soap = c['products']
        household = c['households'][0]
        with set_company(c['company']):
            result = self.redeem(c, [
                    {'barcode': make_ean(1), 'quantity': 2},
                    {'product': soap.id, 'quantity': 1},
                    ])
            self.assertEqual(result['points'], Decimal(65))
            self.assertEqual(result['balance'], Decimal(35))
            self.assertEqual(self.balance(household), Decimal(35))
            self.assertEqual(self.stock(c['store'], rice), 8)
            self.assertEqual(self.stock(c['store'], soap), 9)
            self.assertEqual(self.stock(c['store2'], rice), 10)

            redemption = Redemption(result['id'])
            self.assertEqual(redemption.state, 'done')
            self.assertTrue(redemption.number.startswith('DH'))
            self.assertEqual(redemption.household, household)
            self.assertEqual(redemption.clerk, c['clerk'])
            self.assertEqual(
                [(l.product, l.quantity, l.unit_points, l.points)
                    for l in redemption.lines],
                [(rice, 2, Decimal(30), Decimal(60)),
                    (soap, 1, Decimal(5), Decimal(5))])
            for line in redemption.lines:
                self.assertEqual(line.stock_move.state, 'done')
                self.assertEqual(line.stock_move.to_location.type, 'customer')
                self.assertEqual(line.stock_move.unit_price, line.unit_points)
            # The ledger move: a draft counted at once, Dr 2201 / Cr 2202
            config = Config(1)
            move = redemption.ledger_move
            self.assertEqual(move.state, 'draft')
            self.assertEqual(
                sorted((l.account, l.party, l.debit, l.credit)
                    for l in move.lines),
                sorted([
                        (config.points_account, household,
                            Decimal(65), Decimal(0)),
                        (config.points_payable_account,
                            c['store'].huinong_operator,
                            Decimal(0), Decimal(65)),
                        ]))
            sms, = SMS.search([('origin', '=', str(redemption))])
            self.assertIn('65', sms.text)
            self.assertIn('35', sms.text)
            self.assertNotIn(PIN, sms.text)

    @with_transaction()
    def test_counter_form(self):
        "Scanning adds one, a repeated scan raises the quantity; confirm"
        pool = Pool()
        Redemption = pool.get('huinong.redemption')
        c = self.shared()
        rice, oil, _ = c['products']
        with set_company(c['company']):
            def counter():
                redemption = Redemption(card=c['cards'][0])
                redemption.store = Redemption.default_store()
                redemption.date = Redemption.default_date()
                redemption.on_change_card()
                self.assertEqual(redemption.head, "户主1")
                self.assertEqual(redemption.balance, Decimal(100))
                for code in [make_ean(1), make_ean(2), make_ean(1)]:
                    redemption.scan = code
                    redemption.on_change_scan()
                self.assertEqual(
                    [(l.product, l.quantity, l.points)
                        for l in redemption.lines],
                    [(rice, 2, Decimal(60)), (oil, 1, Decimal(20))])
                with self.assertRaises(UserError):
                    redemption.scan = '6901234567890'
                    redemption.on_change_scan()
                redemption.save()
                return redemption
            redemption = self.as_user(c['clerk'], counter)
            self.assertEqual(redemption.store, c['store'])
            self.as_user(c['clerk'], Redemption.confirm, [redemption], PIN)
            self.assertEqual(redemption.state, 'done')
            self.assertEqual(redemption.total_points, Decimal(80))
            # Confirming again (a repeated request) changes nothing
            self.as_user(c['clerk'], Redemption.confirm, [redemption], PIN)
            self.assertEqual(
                self.balance(c['households'][0]), Decimal(20))
            # Confirmed: no change, no deletion
            with self.assertRaises(AccessError):
                self.as_user(c['clerk'], Redemption.write,
                    [redemption], {'lines': [('delete',
                                [redemption.lines[0].id])]})
            with self.assertRaises(AccessError):
                self.as_user(c['clerk'], Redemption.delete, [redemption])

    @with_transaction()
    def test_refusals(self):
        "Every refusal has its reason and changes nothing"
        pool = Pool()
        Card = pool.get('huinong.card')
        Product = pool.get('product.product')
        User = pool.get('res.user')
        Type = pool.get('huinong.entitlement.type')
        c = self.shared()
        rice, oil, soap = c['products']
        household = c['households'][0]
        with set_company(c['company']):
            before = self.counts()

            def refused(lines, message, **kwargs):
                with self.assertRaises(UserError) as cm:
                    self.redeem(c, lines, **kwargs)
                self.assertIn(message, cm.exception.message)
                self.assertEqual(self.counts(), before)
                self.assertEqual(self.balance(household), Decimal(100))
                self.assertEqual(self.stock(c['store'], rice), 10)

            # Balance: 4 × 30 > 100
            refused([{'product': rice.id, 'quantity': 4}], '100')
            # Stock: 11 soaps, 10 in the store
            stock_in(c['store2'], soap, 5)
            before = self.counts()
            refused([{'product': soap.id, 'quantity': 11}], '10')
            # Nothing to redeem, a bad quantity
            refused([], c['cards'][0].number)
            refused([{'product': rice.id, 'quantity': 0}], rice.rec_name)
            # An unknown card number, a wrong barcode
            with self.assertRaises(UserError):
                self.redeem(c, [{'barcode': make_ean(99)}])
            # The clerk of another store, and a township office user
            refused([{'product': soap.id}], c['store'].rec_name,
                user=c['clerk2'])
            with self.assertRaises(UserError):
                self.redeem(c, [{'product': soap.id}], user=c['office'])
            self.assertEqual(self.counts(), before)
            # The clerk's own household
            User.write([c['clerk']], {'huinong_household': household.id})
            refused([{'product': soap.id}], household.rec_name)
            User.write([c['clerk']], {'huinong_household': None})
            # Blocked goods, goods without an approved price
            Product.write([oil], {
                    'huinong_blocked': True,
                    'huinong_block_reason': "抽检不合格"})
            refused([{'product': oil.id}], "抽检不合格")
            Product.write([oil], {'huinong_blocked': False})
            other = Product.create([{'template': rice.template.id}])[0]
            stock_in(c['store'], other, 3)
            before = self.counts()
            refused([{'product': other.id}], other.rec_name)
            # A count not granted
            type_, = Type.create([{
                        'name': "理发", 'code': 'HAIR', 'unit': "次"}])
            refused([{'entitlement_type': type_.id, 'quantity': 1}],
                "理发")
            # A wrong PIN: RedemptionFailureTestCase (committed data)
            # A locked card
            Card.write([c['cards'][0]], {
                    'state': 'locked', 'lock_reason': "挂失"})
            refused([{'product': soap.id}], c['cards'][0].number)

    @with_transaction()
    def test_service_area(self):
        """A store serves its township's households only: refused on every
        path, with nothing said of the household"""
        pool = Pool()
        Redemption = pool.get('huinong.redemption')
        c = self.shared()
        soap = c['products'][2]
        household = c['households'][0]
        with set_company(c['company']):
            before = self.counts()
            # 罗任村 is of 七坊镇; the store of 元门乡 and its clerk
            with self.assertRaises(UserError) as cm:
                self.redeem(c, [{'product': soap.id}], store=c['store2'],
                    user=c['clerk2'])
            message = cm.exception.message
            self.assertIn(c['store2'].rec_name, message)
            for secret in [household.name, '100', c['cards'][0].number]:
                self.assertNotIn(secret, message)

            def create_and_confirm():
                redemption, = Redemption.create([{
                            'store': c['store2'].id,
                            'card': c['cards'][0].id,
                            'lines': [('create', [{
                                            'kind': 'goods',
                                            'product': soap.id,
                                            'quantity': 1}])],
                            }])
                Redemption.confirm([redemption], PIN)
            with self.assertRaises(UserError) as cm:
                self.as_user(c['clerk2'], create_and_confirm)
            self.assertEqual(cm.exception.message, message)
            self.assertEqual(self.counts(), before)
            self.assertEqual(self.balance(household), Decimal(100))

    @with_transaction()
    def test_pin_check_needs_the_card(self):
        """A clerk checks PINs only of cards of the store's township: trying
        the ids of other cards counts nothing, locks nothing"""
        pool = Pool()
        Card = pool.get('huinong.card')
        c = self.shared()
        card = c['cards'][0]
        with set_company(c['company']):
            for user in [c['clerk2'], c['office2']]:
                with self.subTest(user=user.login):
                    with self.assertRaises(AccessError):
                        self.as_user(user, Card.check_pin_rpc,
                            [Card(card.id)], '000000')
                    # nor report it lost
                    with self.assertRaises(AccessError):
                        self.as_user(user, Card.report_lost,
                            [Card(card.id)])
            self.assertEqual(Card(card.id).pin_failures or 0, 0)
            self.assertEqual(Card(card.id).state, 'issued')
            # the clerk of its township may
            self.assertTrue(self.as_user(c['clerk'], Card.check_pin_rpc,
                    [Card(card.id)], PIN))

    @with_transaction()
    def test_quantities_are_whole(self):
        """A fraction, a boolean, a text, NaN or 10^10 as a quantity: a
        translated refusal, never a cut value, nothing written"""
        pool = Pool()
        Redemption = pool.get('huinong.redemption')
        c = self.shared()
        soap = c['products'][2]
        with set_company(c['company']):
            before = self.counts()
            for quantity in [2.9, 0.5, Decimal('1.5'), True, '2',
                    float('nan'), float('inf'), 10 ** 10]:
                with self.subTest(quantity=quantity):
                    with self.assertRaises(UserError) as cm:
                        self.redeem(c, [{'product': soap.id,
                                    'quantity': quantity}])
                    message = cm.exception.message
                    self.assertNotIn('Traceback', message)
                    self.assertNotIn('integer', message.lower())
                    self.assertEqual(self.counts(), before)
                    self.assertEqual(
                        self.balance(c['households'][0]), Decimal(100))
            # a whole number sent as 2.0 is the number 2
            result = self.redeem(c, [{'product': soap.id, 'quantity': 2.0}])
            self.assertEqual(result['points'], Decimal(10))

    @with_transaction()
    def test_idempotent_key(self):
        "The same key again returns the first result and changes nothing"
        pool = Pool()
        Redemption = pool.get('huinong.redemption')
        c = self.shared()
        soap = c['products'][2]
        with set_company(c['company']):
            first = self.redeem(c, [{'product': soap.id}], key='abc')
            again = self.redeem(c, [{'product': soap.id, 'quantity': 5}],
                key='abc')
            self.assertEqual(first, again)
            self.assertEqual(Redemption.search_count([]), 1)
            self.assertEqual(
                self.balance(c['households'][0]), Decimal(95))
            with self.assertRaises(UserError):
                self.redeem(c, [{'product': soap.id}], key=' ')

    @with_transaction()
    def test_entitlement(self):
        "A counted entitlement: the count is used, goods leave, no points"
        pool = Pool()
        Type = pool.get('huinong.entitlement.type')
        Grant = pool.get('huinong.entitlement.grant')
        Use = pool.get('huinong.entitlement.use')
        c = self.shared()
        rice = c['products'][0]
        household = c['households'][0]
        with set_company(c['company']):
            type_, = Type.create([{
                        'name': "大米一袋", 'code': 'RICE', 'unit': "袋"}])
            Grant.create([{
                        'household': household.id, 'type': type_.id,
                        'quantity': 2,
                        'start_date': dt.date.today().replace(day=1)}])
            result = self.redeem(c, [{
                        'entitlement_type': type_.id,
                        'product': rice.id, 'quantity': 2}])
            self.assertEqual(result['points'], Decimal(0))
            self.assertEqual(self.balance(household), Decimal(100))
            self.assertEqual(self.stock(c['store'], rice), 8)
            self.assertEqual(sum(u.quantity for u in Use.search([])), 2)
            self.assertEqual(Grant.get_remaining_counts(
                    [household.id])[household.id], {})
            with self.assertRaises(UserError):
                self.redeem(c, [{
                            'entitlement_type': type_.id, 'quantity': 1}])

    @with_transaction()
    def test_cancel(self):
        "The township office cancels the same day: everything reversed"
        pool = Pool()
        Redemption = pool.get('huinong.redemption')
        Use = pool.get('huinong.entitlement.use')
        c = self.shared()
        rice = c['products'][0]
        household = c['households'][0]
        with set_company(c['company']):
            result = self.redeem(c, [{'product': rice.id, 'quantity': 2}])
            redemption = Redemption(result['id'])
            # Not the clerk, not the office of another township, not
            # without a reason
            with self.assertRaises(UserError):
                self.as_user(c['clerk'], Redemption.cancel_wizard,
                    [redemption])
            with self.assertRaises(UserError):
                self.as_user(c['office2'], Redemption.cancel,
                    [redemption], "退货")
            with self.assertRaises(UserError):
                self.as_user(c['office'], Redemption.cancel,
                    [redemption], " ")
            self.as_user(c['office'], Redemption.cancel,
                [redemption], "顾客退货")
            redemption = Redemption(redemption.id)
            self.assertEqual(redemption.state, 'cancelled')
            self.assertEqual(redemption.cancelled_by, c['office'])
            self.assertEqual(redemption.cancel_reason, "顾客退货")
            self.assertEqual(self.balance(household), Decimal(100))
            self.assertEqual(self.stock(c['store'], rice), 10)
            # Reversed, never deleted
            self.assertEqual(redemption.ledger_move.state, 'draft')
            self.assertEqual(redemption.cancel_move.origin,
                redemption.ledger_move)
            self.assertEqual(Use.search_count([]), 0)
            with self.assertRaises(UserError):
                self.as_user(c['office'], Redemption.cancel,
                    [redemption], "again")
            # Only on the day of the redemption
            result = self.redeem(c, [{'product': rice.id}])
            Redemption.write([Redemption(result['id'])], {
                    'date': dt.date.today() - dt.timedelta(days=1)})
            with self.assertRaises(UserError):
                self.as_user(c['office'], Redemption.cancel,
                    [Redemption(result['id'])], "退货")

    @with_transaction()
    def test_post_drafts(self):
        "The scheduled task posts the drafts of the days before"
        pool = Pool()
        Ledger = pool.get('huinong.points.ledger')
        Redemption = pool.get('huinong.redemption')
        Move = pool.get('account.move')
        c = self.shared()
        soap = c['products'][2]
        with set_company(c['company']):
            result = self.redeem(c, [{'product': soap.id}])
            move = Redemption(result['id']).ledger_move
            self.assertEqual(Ledger.post_drafts(), [])
            tomorrow = dt.date.today() + dt.timedelta(days=1)
            posted = Ledger.post_drafts(tomorrow)
            self.assertEqual(posted, [move])
            self.assertEqual(Move(move.id).state, 'posted')
            self.assertEqual(
                self.balance(c['households'][0]), Decimal(95))

    @with_transaction()
    def test_access(self):
        "Clerks see their store's redemptions, townships their stores'"
        pool = Pool()
        Redemption = pool.get('huinong.redemption')
        c = self.shared()
        soap = c['products'][2]
        with set_company(c['company']):
            result = self.redeem(c, [{'product': soap.id}])

            def visible(user):
                return self.as_user(user, Redemption.search, [])
            self.assertEqual([r.id for r in visible(c['clerk'])],
                [result['id']])
            self.assertEqual(visible(c['clerk2']), [])
            self.assertEqual(len(visible(c['office'])), 1)
            self.assertEqual(visible(c['office2']), [])
            self.assertEqual(len(visible(c['county'])), 1)
            # The county office reads but does not redeem
            with self.assertRaises(UserError):
                self.redeem(c, [{'product': soap.id}], user=c['county'])
            other = create_household(c['village'], 9)
            with self.assertRaises(AccessError):
                self.as_user(c['clerk2'], Redemption.write,
                    [Redemption(result['id'])], {'card': None,
                        'household': other.id})



class RedemptionDemoTestCase(_Redeem, DatabaseTestCase, TestCase):
    "The demo's redemptions (a county without stock)"
    module = 'huinong_redemption'

    @with_transaction()
    def test_demo(self):
        "The demo redemptions: done and posted in past months, once"
        pool = Pool()
        Redemption = pool.get('huinong.redemption')
        from ..demo import create_demo_redemptions
        c = setup_county(stock=0)
        today = dt.date.today()
        with set_company(c['company']):
            for product in c['products']:
                stock_in(c['store'], product, 50,
                    date=today - dt.timedelta(days=120))
        # As setup_db runs it: the administrator, root
        with Transaction().set_user(0):
            stats = create_demo_redemptions(pool, today=today, per_store=4)
        redemptions = Redemption.search([])
        self.assertEqual(stats['redemptions'], len(redemptions))
        self.assertTrue(redemptions)
        self.assertEqual({r.state for r in redemptions}, {'done'})
        # The cards are of 七坊镇: its store only
        self.assertEqual({r.store for r in redemptions}, {c['store']})
        self.assertTrue(all(r.date < today for r in redemptions))
        self.assertTrue(all(r.ledger_move.state == 'posted'
                for r in redemptions))
        for household in c['households']:
            self.assertGreaterEqual(self.balance(household), 0)
        with Transaction().set_user(0):
            self.assertEqual(create_demo_redemptions(pool, today=today),
                {'redemptions': 0})


del ModuleTestCase
