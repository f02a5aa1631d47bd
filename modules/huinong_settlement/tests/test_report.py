# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The settlement statement rendered for real to PDF through LibreOffice
and read back with pdftotext, in a database whose language is Chinese
(skipped without soffice or pdftotext, except in CI)."""
import datetime as dt
from decimal import Decimal

from trytond.modules.company.tests import set_company
from trytond.modules.huinong.tests.tools import (
    DatabaseTestCase, compact, needs_pdf_tools, pdf_text)
from trytond.pool import Pool
from trytond.tests.test_tryton import TestCase, with_transaction
from trytond.transaction import Transaction, check_access

from .tools import last_month, redeem_on, setup_settlement_county


class SettlementReportTestCase(DatabaseTestCase, TestCase):
    "Test the settlement statement"
    module = 'huinong_settlement'
    language = 'zh_CN'

    @needs_pdf_tools
    @with_transaction()
    def test_statement(self):
        "Store, month, figures, days, the difference explained, sign-offs"
        pool = Pool()
        Settlement = pool.get('huinong.settlement')
        Report = pool.get('huinong.settlement.statement', type='report')
        c = setup_settlement_county()
        rice, oil, soap = c['products']
        month = last_month()
        with set_company(c['company']):
            redeem_on(c, month + dt.timedelta(days=2), [(rice, 2)])
            redeem_on(c, month + dt.timedelta(days=10),
                [(oil, 1), (soap, 2)], card=1)
            settlement, = Settlement.create_month()
            Settlement.write([settlement], {
                    'statement_points': Decimal(85),
                    'statement_scan': b'%PDF-1.4 scan',
                    'difference_reason': "漏记一笔",
                    })
            for user, step in [(c['clerk'], Settlement.submit),
                    (c['county'], Settlement.verify),
                    (c['finance'], Settlement.approve)]:
                with Transaction().set_user(user.id), check_access():
                    step([settlement])
            settlement = Settlement(settlement.id)
            with Transaction().set_user(c['finance'].id), check_access():
                ext, content, _, name = Report.execute([settlement.id], {})
        self.assertEqual(ext, 'pdf')
        text = compact(pdf_text(content, 'settlement-statement'))
        for expected in ["积分兑现结算单", settlement.number,
                month.strftime('%Y-%m'), c['store'].name,
                c['store'].huinong_operator.name, "系统积分", "90",
                "超市报送积分", "85", "-5", "90.00", "漏记一笔",
                (month + dt.timedelta(days=2)).strftime('%Y-%m-%d'),
                "60", "30", "县电商办审核", "县财政局核准",
                c['county'].name, c['finance'].name, "已核准"]:
            self.assertIn(compact(expected), text)
