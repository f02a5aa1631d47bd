# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Tests of the receipt and the registers of the counter, rendered for real
to PDF through LibreOffice and read back with pdftotext, in a database
whose language is Chinese (skipped without soffice or pdftotext, except
in CI)."""
import datetime as dt

from trytond.modules.company.tests import set_company
from trytond.modules.huinong.tests.tools import (
    DatabaseTestCase, SharedFixtureMixin, compact, needs_pdf_tools, pdf_text,
    with_transaction)
from trytond.pool import Pool
from trytond.tests.test_tryton import TestCase
from trytond.transaction import Transaction, check_access

from .tools import PIN, setup_county


class RedemptionReportTestCase(
        SharedFixtureMixin, DatabaseTestCase, TestCase):
    "Test the receipt and the registers"
    module = 'huinong_redemption'
    language = 'zh_CN'
    fixture = staticmethod(setup_county)

    def _redeem(self, c, lines, card=0):
        Redemption = Pool().get('huinong.redemption')
        self._key = getattr(self, '_key', 0) + 1
        with Transaction().set_user(c['clerk'].id), check_access():
            result = Redemption.redeem({
                    'store': c['store'].id,
                    'card': c['cards'][card].number,
                    'pin': PIN, 'key': 'r%d' % self._key,
                    'lines': lines})
        return Redemption(result['id'])

    def _render(self, name, ids, data, user, artifact):
        Report = Pool().get(name, type='report')
        with Transaction().set_user(user.id), check_access():
            ext, content, _, _ = Report.execute(ids, data)
        self.assertEqual(ext, 'pdf')
        return compact(pdf_text(content, artifact))

    @needs_pdf_tools
    @with_transaction()
    def test_receipt(self):
        "The receipt: store, number, goods, total and new balance"
        c = self.shared()
        rice, _, soap = c['products']
        household = c['households'][0]
        with set_company(c['company']):
            redemption = self._redeem(c, [
                    {'product': rice.id, 'quantity': 2},
                    {'product': soap.id}])
            text = self._render('huinong.redemption.receipt',
                [redemption.id], {}, c['clerk'], 'redemption-receipt')
        for expected in ["积分兑换小票", c['store'].name, redemption.number,
                "户主1", "东北大米5kg", "雕牌洗衣皂", "积分合计：65",
                "积分余额：35", "一分抵一元"]:
            self.assertIn(compact(expected), text)
        # The card number only by its last four digits; never an ID
        number = c['cards'][0].number
        self.assertNotIn(number, text)
        self.assertIn(number[-4:], text)
        self.assertNotIn(household.huinong_resident_id, text)
        self.assertNotIn(PIN, text)

    @needs_pdf_tools
    @with_transaction()
    def test_registers(self):
        "The register, the public notice and the cancellations of a store"
        pool = Pool()
        Redemption = pool.get('huinong.redemption')
        c = self.shared()
        rice, oil, soap = c['products']
        today = dt.date.today()
        data = {'store': c['store'].id, 'from_date': today,
            'to_date': today}
        with set_company(c['company']):
            first = self._redeem(c, [{'product': rice.id}])
            second = self._redeem(c, [{'product': oil.id, 'quantity': 2}],
                card=1)
            cancelled = self._redeem(c, [{'product': soap.id}])
            with Transaction().set_user(c['office'].id), check_access():
                Redemption.cancel([cancelled], "顾客退货")

            register = self._render('huinong.redemption.register.report',
                [], dict(data, kind='register'), c['clerk'],
                'redemption-register')
            for expected in ["兑换物品登记表", c['store'].name,
                    first.number, second.number, "户主1", "户主2", "罗任村",
                    "东北大米5kg×1", "金龙鱼花生油1L×2", "兑换笔数：2",
                    "积分合计：70", "clerk"]:
                self.assertIn(compact(expected), register)
            self.assertNotIn(cancelled.number, register)
            self.assertNotIn(c['cards'][0].number, register)

            notice = self._render('huinong.redemption.register.report',
                [], dict(data, kind='notice'), c['office'],
                'redemption-notice')
            for expected in ["积分兑换公示", "户主1", "户主2",
                    "金龙鱼花生油1L×2", "积分合计：70"]:
                self.assertIn(compact(expected), notice)
            # No card numbers, ID numbers, phones or clerks on the board
            for household, card in zip(c['households'], c['cards']):
                self.assertNotIn(card.number[-4:], notice)
                self.assertNotIn(household.huinong_resident_id, notice)
            self.assertNotIn('13800138000', notice)
            self.assertNotIn('clerk', notice)

            cancellations = self._render(
                'huinong.redemption.register.report', [],
                dict(data, kind='cancellations'), c['county'],
                'redemption-cancellations')
            for expected in ["兑换撤销及退货登记", cancelled.number,
                    "顾客退货", "office", "兑换笔数：1"]:
                self.assertIn(compact(expected), cancellations)

            # The clerk of 元门乡 gets an empty register of 七坊镇's store
            other = self._render('huinong.redemption.register.report',
                [], dict(data, kind='register'), c['clerk2'],
                'redemption-register-other')
            self.assertIn("兑换笔数：0", other)
            self.assertNotIn("户主1", other)
