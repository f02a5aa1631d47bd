# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Tests of the goods: points prices, the price review, the food and drug
block, barcodes, purchases of the stores and the points bands."""
import datetime as dt
import unittest
from decimal import Decimal

from trytond import backend
from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.modules.company.tests import create_company, set_company
from trytond.modules.huinong_store.tests.tools import (
    create_store, create_user, get_township)
from trytond.modules.huinong_store.tests.tools_goods import (
    approve_prices, create_product, make_ean)
from trytond.modules.huinong.tests.tools import DatabaseTestCase, with_transaction
from trytond.pool import Pool
from trytond.transaction import Transaction, check_access

from ..exceptions import (
    BarcodeError, BlockError, NotRedeemableError, PointsBandError,
    PointsPriceError, PriceReviewError, PurchaseError)

D = Decimal
TODAY = dt.date.today()


def as_user(user):
    "Act as the user with access rights and record rules, as through RPC"
    class _Context:
        def __enter__(self):
            self._user = Transaction().set_user(user.id)
            self._user.__enter__()
            self._access = check_access()
            self._access.__enter__()

        def __exit__(self, *args):
            self._access.__exit__(*args)
            self._user.__exit__(*args)
    return _Context()


class GoodsTestCase(DatabaseTestCase):
    "Test the goods, the price review and the purchases of the stores"
    module = 'huinong_store'

    def _setup(self):
        "Two stores of 七坊镇 and one of 元门乡, with the users of the chain"
        qifang = get_township('七坊镇')
        yuanmen = get_township('元门乡')
        users = {
            'clerk': create_user('clerk', 'group_clerk', [qifang]),
            'clerk2': create_user('clerk2', 'group_clerk', [qifang]),
            'office': create_user('office', 'group_township_office',
                [qifang]),
            'ym_office': create_user('ym_office', 'group_township_office',
                [yuanmen]),
            'county': create_user('county', 'group_county_office'),
            'county2': create_user('county2', 'group_county_office'),
            'price': create_user('price', 'group_price'),
            'fooddrug': create_user('fooddrug', 'group_food_drug'),
            }
        stores = {
            'qf': create_store(qifang, 'QF', "七坊镇示范店",
                clerks=[users['clerk']]),
            'qf2': create_store(qifang, 'QF2', "七坊镇二店",
                clerks=[users['clerk2']]),
            'ym': create_store(yuanmen, 'YM', "元门乡示范店"),
            }
        return users, stores

    def _products(self):
        return [
            create_product("大米 5kg", make_ean(1)),
            create_product("食用油 5L", make_ean(2)),
            create_product("洗衣粉", make_ean(3)),
            ]

    @with_transaction()
    def test_points_price_history(self):
        "The price at a date is the latest effective one; one call, many"
        pool = Pool()
        Product = pool.get('product.product')
        _, stores = self._setup()
        rice, oil, powder = self._products()
        day1 = TODAY - dt.timedelta(days=30)
        day2 = TODAY - dt.timedelta(days=10)
        approve_prices(stores['qf'], [(rice, 40), (oil, 60)], day1)
        approve_prices(stores['ym'], [(rice, 45)], day2)

        self.assertEqual(
            Product.get_huinong_points_prices(
                [rice, oil, powder], date=day1 - dt.timedelta(days=1)),
            {rice.id: None, oil.id: None, powder.id: None})
        self.assertEqual(
            Product.get_huinong_points_prices([rice, oil, powder], date=day1),
            {rice.id: D(40), oil.id: D(60), powder.id: None})
        self.assertEqual(
            Product.get_huinong_points_prices([rice, oil, powder]),
            {rice.id: D(45), oil.id: D(60), powder.id: None})
        self.assertEqual(Product(rice.id).huinong_points_price, D(45))
        self.assertIsNone(Product(powder.id).huinong_points_price)
        self.assertEqual(len(Product(rice.id).huinong_points_prices), 2)
        self.assertEqual(Product.get_huinong_points_prices([]), {})

    @with_transaction()
    def test_points_price_batch(self):
        "The batch call serves many products with one query per slice"
        pool = Pool()
        Product = pool.get('product.product')
        _, stores = self._setup()
        products = [create_product("商品%s" % i, make_ean(100 + i))
            for i in range(12)]
        approve_prices(stores['qf'],
            [(p, i + 1) for i, p in enumerate(products[:10])],
            TODAY - dt.timedelta(days=1))
        try:
            Product._huinong_price_slice = 5
            prices = Product.get_huinong_points_prices(products)
        finally:
            Product._huinong_price_slice = None
        self.assertEqual(prices, {
                **{p.id: D(i + 1) for i, p in enumerate(products[:10])},
                products[10].id: None, products[11].id: None})

    @with_transaction()
    def test_points_price_immutable(self):
        "Points prices are whole, above zero and never changed"
        pool = Pool()
        PointsPrice = pool.get('huinong.product.points_price')
        _, stores = self._setup()
        rice, = self._products()[:1]
        review = approve_prices(stores['qf'], [(rice, 40)], TODAY)
        price, = PointsPrice.search([('product', '=', rice.id)])
        self.assertEqual(price.review, review)
        self.assertEqual(price.review_line, review.lines[0])
        with self.assertRaises(AccessError):
            PointsPrice.write([price], {'points_price': D(30)})
        with self.assertRaises(AccessError):
            PointsPrice.delete([price])
        for value in [D('10.5'), D(0), D(-3)]:
            with self.assertRaises((PointsPriceError, UserError)):
                PointsPrice.create([{
                            'product': rice.id,
                            'points_price': value,
                            'effective_date': TODAY,
                            }])

    @with_transaction()
    def test_points_price_access(self):
        "No role creates a points price directly, not even the county office"
        pool = Pool()
        PointsPrice = pool.get('huinong.product.points_price')
        users, _ = self._setup()
        rice, = self._products()[:1]
        for login in ['county', 'price', 'clerk']:
            with as_user(users[login]):
                with self.assertRaises(AccessError):
                    PointsPrice.create([{
                                'product': rice.id,
                                'points_price': D(10),
                                'effective_date': TODAY,
                                }])

    @with_transaction()
    def test_barcode(self):
        "Scanning an EAN-13 finds the product; a wrong check digit refused"
        pool = Pool()
        Product = pool.get('product.product')
        Identifier = pool.get('product.identifier')
        rice, oil, _ = self._products()
        code = make_ean(1)
        self.assertEqual(Product.search_huinong_barcode(code), rice)
        self.assertEqual(Product.search_huinong_barcode(' %s ' % code), rice)
        self.assertEqual(
            Product.search([('rec_name', '=', code)]), [rice])
        self.assertIsNone(Product.search_huinong_barcode(make_ean(999)))
        wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
        with self.assertRaises(BarcodeError) as cm:
            Product.search_huinong_barcode(wrong)
        self.assertIn(wrong, cm.exception.message)
        with self.assertRaises(BarcodeError):
            Product.search_huinong_barcode('12345')
        with self.assertRaises(BarcodeError):
            Product.search_huinong_barcode('')
        # The product module refuses a wrong check digit on the identifier
        with self.assertRaises(UserError):
            Identifier.create([{
                        'product': oil.id, 'type': 'ean', 'code': wrong}])
        identifier = rice.huinong_barcode()
        self.assertEqual(identifier.code, code)

    @with_transaction()
    def test_block(self):
        "Food and drug blocks and unblocks with a reason; others cannot"
        pool = Pool()
        Product = pool.get('product.product')
        Block = pool.get('huinong.product.block')
        users, stores = self._setup()
        rice, oil, powder = self._products()
        approve_prices(stores['qf'], [(rice, 40), (oil, 60)], TODAY)
        self.assertEqual(
            Product.check_huinong_redeemable([rice, oil]),
            {rice.id: D(40), oil.id: D(60)})
        with self.assertRaises(NotRedeemableError) as cm:
            Product.check_huinong_redeemable([rice, powder])
        self.assertIn("洗衣粉", cm.exception.message)

        for login in ['clerk', 'county', 'price', 'office']:
            with as_user(users[login]):
                with self.assertRaises(AccessError):
                    Product.huinong_block([rice], "召回")
                # Nor by writing the fields
                with self.assertRaises(AccessError):
                    Product.write([Product(rice.id)], {
                            'huinong_blocked': True})
        with as_user(users['fooddrug']):
            with self.assertRaises(BlockError):
                Product.huinong_block([rice], "  ")
            Product.huinong_block([rice], "批次抽检不合格")
        rice = Product(rice.id)
        self.assertTrue(rice.huinong_blocked)
        self.assertEqual(rice.huinong_block_reason, "批次抽检不合格")
        self.assertEqual(rice.huinong_blocked_by, users['fooddrug'])
        self.assertTrue(rice.huinong_blocked_at)
        with self.assertRaises(NotRedeemableError) as cm:
            Product.check_huinong_redeemable([oil, rice])
        self.assertIn("大米", cm.exception.message)
        self.assertIn("批次抽检不合格", cm.exception.message)

        with as_user(users['fooddrug']):
            Product.huinong_unblock([rice], "复检合格")
        rice = Product(rice.id)
        self.assertFalse(rice.huinong_blocked)
        self.assertIsNone(rice.huinong_blocked_by)
        Product.check_huinong_redeemable([rice])
        blocks = Block.search([('product', '=', rice.id)],
            order=[('id', 'ASC')])
        self.assertEqual([(b.action, b.reason, b.user) for b in blocks], [
                ('block', "批次抽检不合格", users['fooddrug']),
                ('unblock', "复检合格", users['fooddrug']),
                ])
        with self.assertRaises(AccessError):
            Block.delete(blocks)

    def _review(self, store, products, user=None):
        pool = Pool()
        Review = pool.get('huinong.price.review')
        values = {
            'store': store.id,
            'lines': [('create', [{
                            'product': p.id,
                            'market_price': D(price),
                            'proposed_points_price': D(price),
                            } for p, price in products])],
            }
        if user:
            with as_user(user):
                review, = Review.create([values])
        else:
            review, = Review.create([values])
        return Review(review.id)

    @with_transaction()
    def test_review_chain(self):
        "Each step by its group and store; nobody does two steps"
        pool = Pool()
        Review = pool.get('huinong.price.review')
        Line = pool.get('huinong.price.review.line')
        PointsPrice = pool.get('huinong.product.points_price')
        Product = pool.get('product.product')
        users, stores = self._setup()
        rice, oil, powder = self._products()
        review = self._review(stores['qf'],
            [(rice, 40), (oil, 60), (powder, 12)], user=users['clerk'])
        self.assertEqual(review.state, 'draft')
        self.assertTrue(review.number)

        # Submit: not the clerk of another store, nor another township
        for login, error in [('clerk2', (PriceReviewError, AccessError)),
                ('ym_office', (UserError, AccessError)),
                ('county', (UserError, AccessError)),
                ('price', (UserError, AccessError))]:
            with as_user(users[login]):
                with self.assertRaises(error):
                    Review.submit([Review(review.id)])
        with as_user(users['clerk']):
            Review.submit([review])
        review = Review(review.id)
        self.assertEqual(review.state, 'submitted')
        self.assertEqual(review.submitted_by, users['clerk'])

        # The clerk can no longer change the lines
        with as_user(users['clerk']):
            with self.assertRaises(AccessError):
                Line.write([review.lines[0]], {'market_price': D(1)})

        for login in ['clerk', 'office', 'price']:
            with as_user(users[login]):
                with self.assertRaises((UserError, AccessError)):
                    Review.collect([Review(review.id)])
        with as_user(users['county']):
            Review.collect([review])
        # The same county officer cannot also send
        with as_user(users['county']):
            with self.assertRaises(UserError):
                Review.send([Review(review.id)])
        with as_user(users['price']):
            with self.assertRaises((UserError, AccessError)):
                Review.send([Review(review.id)])
        with as_user(users['county2']):
            Review.send([review])
        review = Review(review.id)
        self.assertEqual(review.state, 'sent')
        self.assertEqual(
            (review.collected_by, review.sent_by),
            (users['county'], users['county2']))

        # Only the price bureau decides
        with as_user(users['county']):
            with self.assertRaises(AccessError):
                Line.write([review.lines[0]], {'decision': 'approved'})
        with as_user(users['price']):
            rice_line, oil_line, powder_line = review.lines
            Line.write([rice_line], {
                    'decision': 'approved', 'approved_points_price': D(38)})
            Line.write([oil_line], {
                    'decision': 'approved', 'approved_points_price': D(60)})
            # Undecided line
            with self.assertRaises(PriceReviewError) as cm:
                Review.decide([Review(review.id)])
            self.assertIn("洗衣粉", cm.exception.message)
            # Rejected without a reason
            with self.assertRaises(UserError):
                Line.write([powder_line], {'decision': 'rejected'})
            Line.write([powder_line], {
                    'decision': 'rejected', 'decision_reason': "高于市场价"})
            # No effective date yet
            with self.assertRaises(PriceReviewError):
                Review.decide([Review(review.id)])
            Review.write([review], {'effective_date': TODAY})
            # Not a whole number of points
            with self.assertRaises(UserError):
                Line.write([oil_line], {'approved_points_price': D('59.5')})
            Line.write([oil_line], {'approved_points_price': D(60)})
        for login in ['county', 'clerk']:
            with as_user(users[login]):
                with self.assertRaises((UserError, AccessError)):
                    Review.decide([Review(review.id)])
        with as_user(users['price']):
            Review.decide([Review(review.id)])
        review = Review(review.id)
        self.assertEqual(review.state, 'decided')
        self.assertEqual(review.decided_by, users['price'])
        self.assertEqual(len(PointsPrice.search([
                        ('review_line.review', '=', review.id)])), 2)
        self.assertEqual(
            Product.get_huinong_points_prices([rice, oil, powder]),
            {rice.id: D(38), oil.id: D(60), powder.id: None})
        # Decided: nothing changes any more
        with as_user(users['price']):
            with self.assertRaises(AccessError):
                Line.write([review.lines[0]], {
                        'approved_points_price': D(10)})
            with self.assertRaises(AccessError):
                Review.write([review], {'effective_date': TODAY})

    @with_transaction()
    def test_review_return(self):
        "The county office returns a list with a reason; it starts again"
        pool = Pool()
        Review = pool.get('huinong.price.review')
        users, stores = self._setup()
        rice, oil, _ = self._products()
        review = self._review(stores['qf'], [(rice, 40)], user=users['clerk'])
        with as_user(users['office']):
            Review.submit([review])
        with Transaction().set_user(users['clerk'].id):
            with self.assertRaises(UserError):
                Review.approval_return([Review(review.id)], "价格偏高")
        # As the return wizard does
        with Transaction().set_user(users['county'].id):
            with self.assertRaises(UserError):
                Review.approval_return([Review(review.id)], " ")
            Review.approval_return([Review(review.id)], "价格偏高")
        review = Review(review.id)
        self.assertEqual(review.state, 'draft')
        self.assertEqual(review.return_reason, "价格偏高")
        self.assertIsNone(review.submitted_by)
        with as_user(users['clerk']):
            Review.cancel([review])
        self.assertEqual(Review(review.id).state, 'cancelled')

    @with_transaction()
    def test_review_no_lines(self):
        "An empty list cannot be submitted"
        pool = Pool()
        Review = pool.get('huinong.price.review')
        users, stores = self._setup()
        review = self._review(stores['qf'], [], user=users['clerk'])
        with as_user(users['clerk']):
            with self.assertRaises(PriceReviewError):
                Review.submit([review])

    @with_transaction()
    def test_review_duplicate_line(self):
        "A second line for the same product in one list is refused"
        pool = Pool()
        Line = pool.get('huinong.price.review.line')
        users, stores = self._setup()
        rice, oil, _ = self._products()
        review = self._review(stores['qf'], [(rice, 40)], user=users['clerk'])
        with as_user(users['clerk']):
            Line.create([{
                        'review': review.id,
                        'product': oil.id,
                        'market_price': D(60),
                        'proposed_points_price': D(60),
                        }])
        # The same product in another store's list is fine
        self._review(stores['qf2'], [(rice, 42)])
        self.assertEqual(len(Line.search([('product', '=', rice.id)])), 2)
        with as_user(users['clerk']):
            with self.assertRaises(UserError) as cm:
                Line.create([{
                            'review': review.id,
                            'product': rice.id,
                            'market_price': D(41),
                            'proposed_points_price': D(41),
                            }])
            self.assertIn("大米", cm.exception.message)

    @with_transaction()
    def test_review_access(self):
        "A clerk sees the own store's lists; a township its townships'"
        pool = Pool()
        Review = pool.get('huinong.price.review')
        Line = pool.get('huinong.price.review.line')
        users, stores = self._setup()
        rice, _, _ = self._products()
        mine = self._review(stores['qf'], [(rice, 40)])
        other = self._review(stores['qf2'], [(rice, 41)])
        ym = self._review(stores['ym'], [(rice, 42)])
        with as_user(users['clerk']):
            self.assertEqual(Review.search([]), [mine])
            self.assertEqual(len(Line.search([])), 1)
            with self.assertRaises(AccessError):
                Review.read([other.id], ['number'])
        with as_user(users['office']):
            self.assertEqual(set(Review.search([])), {mine, other})
        with as_user(users['ym_office']):
            self.assertEqual(Review.search([]), [ym])
        for login in ['county', 'price']:
            with as_user(users[login]):
                self.assertEqual(len(Review.search([])), 3)
        with as_user(users['fooddrug']):
            with self.assertRaises(AccessError):
                Review.search([])
        # Nor may a clerk create a list for another store
        with as_user(users['clerk']):
            with self.assertRaises(AccessError):
                Review.create([{'store': stores['qf2'].id}])

    @with_transaction()
    def test_collected(self):
        "The county office sees each store's proposal per product"
        pool = Pool()
        Review = pool.get('huinong.price.review')
        Collected = pool.get('huinong.price.review.collected')
        users, stores = self._setup()
        rice, oil, _ = self._products()
        first = self._review(stores['qf'], [(rice, 40), (oil, 60)])
        second = self._review(stores['ym'], [(rice, 44)])
        self._review(stores['qf2'], [(rice, 50)])  # draft: not collected
        with Transaction().set_user(0):
            Review.submit([first, second])
        with as_user(users['county']):
            rows = Collected.search([])
            self.assertEqual(
                sorted((r.product.name, r.store.code,
                        r.proposed_points_price, r.stores,
                        r.lowest_points_price, r.highest_points_price)
                    for r in rows),
                [("大米 5kg", 'QF', D(40), 2, D(40), D(44)),
                    ("大米 5kg", 'YM', D(44), 2, D(40), D(44)),
                    ("食用油 5L", 'QF', D(60), 1, D(60), D(60))])
        with as_user(users['clerk']):
            with self.assertRaises(AccessError):
                Collected.search([])

    @with_transaction()
    def test_purchase(self):
        "A store buys approved goods only; a blocked product is refused"
        pool = Pool()
        Purchase = pool.get('purchase.purchase')
        Line = pool.get('purchase.line')
        Product = pool.get('product.product')
        Party = pool.get('party.party')
        users, stores = self._setup()
        rice, oil, powder = self._products()
        company = create_company()
        User = pool.get('res.user')
        User.write(list(users.values()), {
                'companies': [('add', [company.id])],
                'company': company.id,
                })
        with set_company(company):
            approve_prices(stores['qf'], [(rice, 40), (oil, 60)], TODAY)
            supplier, = Party.create([{
                        'name': "白沙粮油批发部",
                        'addresses': [('create', [{}])],
                        }])

            def purchase(products):
                purchase, = Purchase.create([{
                            'party': supplier.id,
                            'warehouse': stores['qf'].id,
                            'invoice_method': 'manual',
                            'lines': [('create', [{
                                            'product': p.id,
                                            'quantity': 10,
                                            'unit': p.default_uom.id,
                                            'unit_price': D('35.00'),
                                            } for p in products])],
                            }])
                return purchase

            with as_user(users['clerk']):
                ok = purchase([rice, oil])
                with self.assertRaises(PurchaseError) as cm:
                    purchase([rice, powder])
                self.assertIn("洗衣粉", cm.exception.message)
                self.assertIn("七坊镇示范店", cm.exception.message)
            self.assertEqual(
                [l.huinong_points_price for l in Purchase(ok.id).lines],
                [D(40), D(60)])

            with Transaction().set_user(0):
                Product.huinong_block([oil], "召回")
            with as_user(users['clerk']):
                with self.assertRaises(PurchaseError) as cm:
                    Purchase.quote([Purchase(ok.id)])
                self.assertIn("召回", cm.exception.message)
            with Transaction().set_user(0):
                Product.huinong_unblock([oil], "解除")
            with as_user(users['clerk']):
                Purchase.quote([Purchase(ok.id)])
            self.assertEqual(Purchase(ok.id).state, 'quotation')

            # A purchase outside the stores is not concerned
            warehouse, = pool.get('stock.location').search(
                [('code', '=', 'WH')])
            other, = Purchase.create([{
                        'party': supplier.id,
                        'warehouse': warehouse.id,
                        'lines': [('create', [{
                                        'product': powder.id,
                                        'quantity': 1,
                                        'unit': powder.default_uom.id,
                                        'unit_price': D(1),
                                        }])],
                        }])
            # Moving it to a store checks its lines
            with self.assertRaises(PurchaseError):
                Purchase.write([other], {'warehouse': stores['qf'].id})
            with as_user(users['clerk']):
                # Nor a line without product
                draft, = Purchase.create([{
                            'party': supplier.id,
                            'warehouse': stores['qf'].id,
                            }])
                with self.assertRaises(PurchaseError):
                    Line.create([{
                                'purchase': draft.id,
                                'quantity': 1,
                                'unit_price': D(1),
                                'description': "杂货",
                                }])

    @with_transaction()
    def test_purchase_access(self):
        "A clerk sees and buys only for the own store"
        pool = Pool()
        Purchase = pool.get('purchase.purchase')
        Party = pool.get('party.party')
        users, stores = self._setup()
        rice, _, _ = self._products()
        company = create_company()
        User = pool.get('res.user')
        User.write(list(users.values()), {
                'companies': [('add', [company.id])],
                'company': company.id,
                })
        with set_company(company):
            approve_prices(stores['qf'], [(rice, 40)], TODAY)
            supplier, = Party.create([{
                        'name': "供应商", 'addresses': [('create', [{}])]}])
            theirs, = Purchase.create([{
                        'party': supplier.id,
                        'warehouse': stores['qf2'].id,
                        }])
            with as_user(users['clerk']):
                self.assertEqual(Purchase.search([]), [])
            with as_user(users['clerk2']):
                self.assertEqual(Purchase.search([]), [theirs])
            with as_user(users['county']):
                self.assertEqual(Purchase.search([]), [theirs])
            for login in ['price', 'clerk']:
                with as_user(users[login]):
                    with self.assertRaises(AccessError):
                        Purchase.create([{
                                    'party': supplier.id,
                                    'warehouse': stores['qf2'].id,
                                    }])

    @with_transaction()
    def test_points_band(self):
        "Bands do not overlap; the county office keeps them"
        pool = Pool()
        Band = pool.get('huinong.points.band')
        users, _ = self._setup()
        with as_user(users['county']):
            low, high = Band.create([
                    {'name': "10分以下", 'from_points': D(0),
                        'to_points': D(10)},
                    {'name': "50分以上", 'from_points': D(50)},
                    ])
            Band.create([{'name': "11-49", 'from_points': D(11),
                        'to_points': D(49)}])
        self.assertTrue(low.contains(D(10)))
        self.assertFalse(low.contains(D(11)))
        self.assertTrue(high.contains(D(1000)))
        with as_user(users['clerk']):
            with self.assertRaises(AccessError):
                Band.write([low], {'name': "x"})
        with as_user(users['county']):
            with self.assertRaises(PointsBandError):
                Band.create([{'name': "错", 'from_points': D(60)}])

    @with_transaction()
    def test_points_band_overlap(self):
        "A band overlapping another is refused"
        pool = Pool()
        Band = pool.get('huinong.points.band')
        Band.create([{'name': "10分以下", 'from_points': D(0),
                    'to_points': D(10)}])
        with self.assertRaises(PointsBandError):
            Band.create([{'name': "错", 'from_points': D(10),
                        'to_points': D(20)}])

    @with_transaction()
    def test_demo_goods(self):
        "The demo goods, prices and stock; running it again adds nothing"
        from ..demo import (
            DEMO_GOODS, DEMO_STORES, create_demo_goods, create_demo_stores,
            demo_ean, demo_period_start)
        pool = Pool()
        Product = pool.get('product.product')
        Review = pool.get('huinong.price.review')
        Location = pool.get('stock.location')
        create_demo_stores(pool)
        company = create_company()
        with set_company(company):
            with Transaction().set_user(0):
                stats = create_demo_goods(pool)
            self.assertEqual(stats, {
                    'goods': len(DEMO_GOODS), 'bands': 4,
                    'price_reviews': len(DEMO_STORES),
                    'stock_moves': len(DEMO_GOODS) * len(DEMO_STORES)})
            with Transaction().set_user(0):
                again = create_demo_goods(pool)
            self.assertEqual(set(again.values()), {0})

            products = [Product.search_huinong_barcode(demo_ean(i))
                for i in range(len(DEMO_GOODS))]
            self.assertEqual([p.name for p in products],
                [g[0] for g in DEMO_GOODS])
            prices = Product.get_huinong_points_prices(
                products, date=demo_period_start())
            self.assertEqual([prices[p.id] for p in products],
                [D(g[2]) for g in DEMO_GOODS])
            for _, market, points in DEMO_GOODS:
                # Sensible: about one point per yuan of market price
                self.assertLess(abs(D(market) - points), 1)
            self.assertEqual(Review.search_count([('state', '=', 'decided')]),
                len(DEMO_STORES))
            stores = Location.search([('huinong_store', '=', True)])
            quantities = Product.products_by_location(
                [s.id for s in stores], with_childs=True,
                grouping_filter=([p.id for p in products],))
            for store in stores:
                for product in products:
                    self.assertGreater(
                        quantities[(store.id, product.id)], 0)


@unittest.skipIf(backend.name == 'sqlite',
    'SQLite has no concurrent transactions')
class GoodsConcurrencyTestCase(DatabaseTestCase):
    "Test two clerks adding the same product to one list at once"
    # The test commits: it works in a database of its own
    module = 'huinong_store'

    @with_transaction()
    def test_duplicate_line_concurrent(self):
        "The unique key refuses the line the Python check could not see"
        pool = Pool()
        Review = pool.get('huinong.price.review')
        Line = pool.get('huinong.price.review.line')
        transaction = Transaction()
        qifang = get_township('七坊镇')
        store = create_store(qifang, 'QF', "七坊镇示范店")
        rice = create_product("大米 5kg", make_ean(1))
        review, = Review.create([{'store': store.id}])
        transaction.commit()
        values = {
            'review': review.id,
            'product': rice.id,
            'market_price': D(40),
            'proposed_points_price': D(40),
            }
        with transaction.new_transaction() as second:
            # The second request has started (its snapshot is taken)
            self.assertEqual(Line.search([]), [])
            with transaction.new_transaction() as first:
                Line.create([values])
                first.commit()
            # The integrity error comes back as the key's translated message
            with self.assertRaises(
                    (UserError, backend.DatabaseOperationalError)):
                Line.create([values])
            second.rollback()
        with transaction.new_transaction():
            self.assertEqual(
                Line.search_count([('review', '=', review.id)]), 1)
