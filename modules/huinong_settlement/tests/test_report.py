# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The settlement statement, the monthly statistics and the county
summary rendered for real to PDF through LibreOffice
and read back with pdftotext, in a database whose language is Chinese
(skipped without soffice or pdftotext, except in CI)."""
import datetime as dt
from decimal import Decimal

from trytond.model.exceptions import AccessError
from trytond.modules.company.tests import set_company
from trytond.modules.huinong.tests.tools import (
    DatabaseTestCase, SharedFixtureMixin, compact, needs_pdf_tools, pdf_text,
    with_transaction)
from trytond.pool import Pool
from trytond.tests.test_tryton import TestCase
from trytond.transaction import Transaction, check_access

from .tools import books, last_month, redeem_on, setup_settlement_county


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


class FinanceReportTestCase(SharedFixtureMixin, DatabaseTestCase, TestCase):
    "Test the monthly statistics per township and the county summary"
    fixture = staticmethod(books)
    module = 'huinong_settlement'
    language = 'zh_CN'

    @with_transaction()
    def test_statistics_figures(self):
        "The month's figures per township add up, the total row last"
        pool = Pool()
        Statistics = pool.get('huinong.settlement.statistics')
        c = self.shared()
        with set_company(c['company']):
            rows = Statistics.figures(last_month())
        total = rows[-1]
        self.assertIsNone(total['township'])
        qifang, = [r for r in rows if r['township'] == c['township']]
        yuanmen, = [r for r in rows
            if r['township'] == c['store2'].huinong_township]
        self.assertEqual(
            {k: qifang[k] for k in Statistics.COLUMNS},
            {'households': 2, 'cards': 2, 'new_cards': 0, 'villages': 1,
                'sheets_posted': 1,
                'opening': 1000, 'credited': 40 + 25,
                # at both stores, by the households' township
                'redeemed': 60 + 30 + 5,
                'transferred_out': 15, 'transferred_in': 15,
                'outstanding': 1000 + 65 - 95,
                'stores': 1, 'stores_settled': 1, 'settled_points': 90})
        self.assertEqual(
            (yuanmen['households'], yuanmen['stores'],
                yuanmen['stores_settled'], yuanmen['outstanding']),
            (0, 1, 0, 0))
        for name in Statistics.COLUMNS:
            self.assertEqual(total[name], sum(r[name] for r in rows[:-1]))
        for row in rows:
            self.assertEqual(row['outstanding'], row['opening']
                + row['credited'] - row['redeemed']
                - row['transferred_out'] + row['transferred_in'])
        # This month: the opening is last month's outstanding
        with set_company(c['company']):
            rows = Statistics.figures(pool.get('ir.date').today())
        qifang, = [r for r in rows if r['township'] == c['township']]
        self.assertEqual(
            (qifang['opening'], qifang['redeemed'], qifang['outstanding'],
                qifang['sheets_posted'], qifang['stores_settled']),
            (970, 40, 930, 0, 0))

    @with_transaction()
    def test_summary_figures(self):
        "Liability, and per store: unsettled, in review, settled, paid"
        pool = Pool()
        Summary = pool.get('huinong.settlement.summary')
        c = self.shared()
        today = pool.get('ir.date').today()
        with set_company(c['company']):
            liability, rows = Summary.figures(today)
            before, _ = Summary.figures(last_month() - dt.timedelta(days=1))
        self.assertEqual(liability, 1000 + 65 - 95 - 40)
        self.assertEqual(before, 1000)
        by_store = {r['store']: {k: r[k] for k in Summary.COLUMNS}
            for r in rows}
        self.assertEqual(by_store[c['store']], {
                'unsettled': 40, 'in_review': 0, 'settled': 0, 'paid': 90})
        self.assertEqual(by_store[c['store2']], {
                'unsettled': 0, 'in_review': 5, 'settled': 0, 'paid': 0})
        self.assertEqual(by_store[None], {
                'unsettled': 40, 'in_review': 5, 'settled': 0, 'paid': 90})

    @needs_pdf_tools
    @with_transaction()
    def test_statistics_pdf(self):
        "Printed by the finance bureau in Chinese: townships and figures"
        pool = Pool()
        Print = pool.get(
            'huinong.settlement.statistics.print', type='wizard')
        Report = pool.get(
            'huinong.settlement.statistics.report', type='report')
        c = self.shared()
        month = last_month()
        with set_company(c['company']), \
                Transaction().set_user(c['finance'].id), check_access():
            session_id, _, _ = Print.create()
            Print.execute(session_id, {}, 'start')
            action, data = Print(session_id).do_print_({})
            self.assertEqual(data, {'month': month.isoformat()})
            ext, content, _, _ = Report.execute([], data)
        self.assertEqual(ext, 'pdf')
        text = compact(pdf_text(content, 'monthly-statistics'))
        for expected in ["电商惠农超市每月开展情况统计表",
                month.strftime('%Y-%m'), "乡镇", "农户数", "期末余额",
                "七坊镇", "元门乡", "全县合计", "1000", "65", "95", "970",
                "1/1", "90"]:
            self.assertIn(compact(expected), text)

    @needs_pdf_tools
    @with_transaction()
    def test_summary_pdf(self):
        "Printed by the finance bureau in Chinese; a clerk may not"
        pool = Pool()
        Report = pool.get('huinong.settlement.summary.report', type='report')
        Print = pool.get('huinong.settlement.summary.print', type='wizard')
        ModelData = pool.get('ir.model.data')
        c = self.shared()
        today = pool.get('ir.date').today()
        # As the client calls it: with the report's action
        data = {'date': today.isoformat(), 'action_id': ModelData.get_id(
                'huinong_settlement', 'report_summary')}
        with set_company(c['company']):
            with Transaction().set_user(c['finance'].id), check_access():
                ext, content, _, _ = Report.execute([], data)
            with Transaction().set_user(c['clerk'].id), check_access():
                with self.assertRaises(AccessError):
                    Print.create()
                with self.assertRaises(AccessError):
                    Report.execute([], data)
        text = compact(pdf_text(content, 'county-summary'))
        for expected in ["积分负债汇总表", "930", "七坊镇电商惠农超市",
                "已支付", "全县合计", "45", "40", "90"]:
            self.assertIn(compact(expected), text)
