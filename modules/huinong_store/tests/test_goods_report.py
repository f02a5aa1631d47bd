# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Tests of the shelf labels and of the goods purchase detail sheet
(attachment 13), rendered for real to PDF in a Chinese database.

Set HUINONG_REPORT_ARTIFACTS to a directory to keep the PDFs."""
import datetime as dt
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model.exceptions import AccessError
from trytond.modules.company.tests import create_company, set_company
from trytond.modules.huinong.tests.tools import (
    compact, needs_pdf_tools, pdf_text, with_transaction)
from trytond.modules.huinong_store.tests.tools import (
    create_store, create_user, get_township)
from trytond.modules.huinong_store.tests.tools_goods import (
    approve_prices, create_product, make_ean)
from trytond.modules.huinong.tests.tools import DatabaseTestCase
from trytond.pool import Pool
from trytond.tests.test_tryton import TestCase
from trytond.transaction import Transaction

from .test_goods import as_user

D = Decimal
TODAY = dt.date.today()


class GoodsReportTestCase(DatabaseTestCase, TestCase):
    "Test the shelf labels and the goods purchase detail sheet"
    module = 'huinong_store'
    language = 'zh_CN'

    def _goods(self):
        pool = Pool()
        Band = pool.get('huinong.points.band')
        Product = pool.get('product.product')
        qifang = get_township('七坊镇')
        clerk = create_user('clerk', 'group_clerk', [qifang])
        other_clerk = create_user('other_clerk', 'group_clerk', [qifang])
        store = create_store(qifang, 'QF', "七坊镇电商惠农超市示范店",
            clerks=[clerk])
        other = create_store(qifang, 'QF2', "七坊镇二店",
            clerks=[other_clerk])
        rice = create_product("大米 5kg", make_ean(1))
        oil = create_product("食用油 5L", make_ean(2))
        salt = create_product("食盐 400g", make_ean(3))
        soap = create_product("肥皂 4块", make_ean(4))
        towel = create_product("毛巾", make_ean(5))
        approve_prices(store, [(rice, 32), (oil, 65), (salt, 3),
                (soap, 10)], TODAY - dt.timedelta(days=5))
        approve_prices(other, [(towel, 12)], TODAY - dt.timedelta(days=5))
        Band.create([
                {'name': "10分及以下", 'from_points': D(0),
                    'to_points': D(10)},
                {'name': "11-50分", 'from_points': D(11),
                    'to_points': D(50)},
                ])
        with Transaction().set_user(0):
            Product.huinong_block([soap], "召回")
        return store, other, clerk, other_clerk, (rice, oil, salt, soap,
            towel)

    @with_transaction()
    def test_shelf_label_bands(self):
        "The labels of a store by band; blocked goods and others' left out"
        pool = Pool()
        ShelfLabel = pool.get('huinong.store.shelf_label', type='report')
        store, other, clerk, _, goods = self._goods()
        bands = ShelfLabel.bands(store)
        self.assertEqual(
            [(band, [(l['name'], l['points'], l['code']) for l in labels])
                for band, labels in bands],
            [("10分及以下 (0-10)", [("食盐 400g", '3', make_ean(3))]),
                ("11-50分 (11-50)", [("大米 5kg", '32', make_ean(1))]),
                (gettext('huinong_store.msg_points_band_other'),
                    [("食用油 5L", '65', make_ean(2))])])

    @needs_pdf_tools
    @with_transaction()
    def test_shelf_label_pdf(self):
        "The printed labels show the bands, names, points and barcodes"
        pool = Pool()
        ShelfLabel = pool.get('huinong.store.shelf_label', type='report')
        store, other, clerk, _, goods = self._goods()
        with as_user(clerk):
            ext, content, _, name = ShelfLabel.execute([store.id], {})
        self.assertEqual(ext, 'pdf')
        flat = compact(pdf_text(content, 'shelf_label'))
        for expected in ["按积分整理摆放价签", "七坊镇电商惠农超市示范店",
                "10分及以下", "11-50分", "其他", "食盐400g", "3积分",
                "大米5kg", "32积分", "食用油5L", "65积分"]:
            self.assertIn(expected, flat)
        self.assertNotIn("肥皂", flat)
        self.assertNotIn("毛巾", flat)
        # The human-readable digits of the EAN-13 under each barcode
        self.assertIn(make_ean(1)[1:7], flat)

    def _purchases(self, store, other, goods):
        # Dated TODAY, not the server's today: the run may pass midnight
        pool = Pool()
        Purchase = pool.get('purchase.purchase')
        Party = pool.get('party.party')
        rice, oil, salt, soap, towel = goods
        supplier, = Party.create([{
                    'name': "白沙粮油批发部",
                    'addresses': [('create', [{}])],
                    }])
        purchases = Purchase.create([{
                    'party': supplier.id,
                    'invoice_address': supplier.addresses[0].id,
                    'warehouse': store.id,
                    'invoice_method': 'manual',
                    'purchase_date': TODAY,
                    'lines': [('create', [{
                                    'product': p.id,
                                    'quantity': q,
                                    'unit': p.default_uom.id,
                                    'unit_price': D(price),
                                    } for p, q, price in [
                                    (rice, 20, '30.50'), (oil, 8, '62.00')]])],
                    }, {
                    'party': supplier.id,
                    'invoice_address': supplier.addresses[0].id,
                    'warehouse': other.id,
                    'invoice_method': 'manual',
                    'purchase_date': TODAY,
                    'lines': [('create', [{
                                    'product': towel.id,
                                    'quantity': 5,
                                    'unit': towel.default_uom.id,
                                    'unit_price': D('11.00'),
                                    }])],
                    }, {
                    # A draft is not on the sheet
                    'party': supplier.id,
                    'invoice_address': supplier.addresses[0].id,
                    'warehouse': store.id,
                    'invoice_method': 'manual',
                    'purchase_date': TODAY,
                    'lines': [('create', [{
                                    'product': salt.id,
                                    'quantity': 50,
                                    'unit': salt.default_uom.id,
                                    'unit_price': D('2.50'),
                                    }])],
                    }])
        Purchase.quote(purchases[:2])
        Purchase.confirm(purchases[:2])
        return purchases

    @needs_pdf_tools
    @with_transaction()
    def test_purchase_detail_pdf(self):
        "The sheet lists the store's confirmed purchases of the period"
        pool = Pool()
        Report = pool.get(
            'huinong.store.purchase_detail.report', type='report')
        User = pool.get('res.user')
        store, other, clerk, other_clerk, goods = self._goods()
        company = create_company()
        User.write([clerk, other_clerk], {
                'companies': [('add', [company.id])],
                'company': company.id,
                })
        with set_company(company):
            self._purchases(store, other, goods)
            data = {
                'store': store.id,
                'from_date': TODAY - dt.timedelta(days=1),
                'to_date': TODAY,
                }
            with as_user(clerk):
                ext, content, _, name = Report.execute([], data)
            self.assertEqual(ext, 'pdf')
            self.assertIn('QF', name)
            flat = compact(pdf_text(content, 'purchase_detail'))
            for expected in ["白沙县电商惠农超市货物采购明细表",
                    "七坊镇电商惠农超市示范店", "大米5kg", make_ean(1),
                    "30.50", "610.00", "32", "食用油5L", "62.00", "496.00",
                    "65", "白沙粮油批发部", "1,106.00"]:
                self.assertIn(expected, flat)
            self.assertNotIn("毛巾", flat)
            self.assertNotIn("食盐", flat)

            # Another period is empty
            with as_user(clerk):
                _, content, _, _ = Report.execute([], {
                        'store': store.id,
                        'from_date': TODAY - dt.timedelta(days=40),
                        'to_date': TODAY - dt.timedelta(days=30),
                        })
            flat = compact(pdf_text(content))
            self.assertIn("本期间超市没有已确认的采购", flat)
            self.assertNotIn("大米", flat)

    @with_transaction()
    def test_purchase_detail_access(self):
        "A clerk cannot print the sheet of another store"
        pool = Pool()
        Report = pool.get(
            'huinong.store.purchase_detail.report', type='report')
        store, other, clerk, other_clerk, goods = self._goods()
        with as_user(other_clerk):
            with self.assertRaises(AccessError):
                Report.get_context([], {}, {
                        'store': store.id,
                        'from_date': TODAY,
                        'to_date': TODAY,
                        })
