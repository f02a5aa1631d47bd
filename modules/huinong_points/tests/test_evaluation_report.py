# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The reports of the monthly evaluation: notice, detail sheet, approval
sheet, villages without a sheet and the township's monthly report.

The reports are rendered for real to PDF through LibreOffice and read back
with pdftotext, in a database whose language is Chinese. Without `soffice`
or `pdftotext` the PDF tests are skipped, except when CI is 'true'."""
import datetime as dt
import re
from decimal import Decimal
from unittest.mock import patch

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.modules.huinong.tests.tools import (
    DatabaseTestCase, SharedFixtureMixin, compact, needs_pdf_tools, pdf_text,
    with_transaction)
from trytond.modules.huinong_points.tests import test_evaluation
from trytond.modules.huinong_points.tests.test_evaluation import (
    TODAY, _county)
from trytond.pool import Pool
from trytond.tests.test_tryton import TestCase
from trytond.transaction import Transaction

MOBILE = '13907551234'
LATIN = re.compile(r'[A-Za-z]{3,}')


def _named_county():
    "The county of the evaluation tests on TODAY, with Chinese names"
    pool = Pool()
    Party = pool.get('party.party')
    User = pool.get('res.user')
    with patch.object(pool.get('ir.date'), 'today', return_value=TODAY):
        c = _county(
            households=(('poor', 1), ('ordinary', 2), ('ordinary', 3)))
    for login, name in [('eval1', "评议员甲"), ('eval2', "评议员乙"),
            ('eval3', "评议员丙"), ('office', "乡镇办"),
            ('committee', "村委会"), ('government', "乡镇政府"),
            ('county', "县办"), ('supervisor', "监督员")]:
        User.write([c[login]], {'name': name})
    for household, name in zip(c['households'],
            ["符大明", "王小红", "陈阿三"]):
        Party.write([household], {
                'name': name, 'huinong_mobile': MOBILE})
    return c


class EvaluationReportTestCase(
        SharedFixtureMixin, DatabaseTestCase, TestCase):
    "Test the reports of the monthly evaluation"
    module = 'huinong_points'
    language = 'zh_CN'
    fixture = staticmethod(_named_county)

    def setUp(self):
        super().setUp()
        self.today = TODAY

    # The fixture of the evaluation tests (the class itself is not
    # imported, so that its tests do not run twice)
    _patch_today = test_evaluation.EvaluationTestCase._patch_today
    _as = test_evaluation.EvaluationTestCase._as
    _sheet = test_evaluation.EvaluationTestCase._sheet
    _through = test_evaluation.EvaluationTestCase._through
    _post = test_evaluation.EvaluationTestCase._post

    def _county(self):
        "The county of the evaluation tests, with Chinese names"
        self._patch_today()
        self.c = self.shared()
        return self.c

    def _render(self, name, records, data=None, user=None):
        Report = Pool().get(name, type='report')
        if user:
            with Transaction().set_user(user.id), \
                    Transaction().set_context(_check_access=True):
                ext, content, _, _ = Report.execute(
                    [r.id for r in records], data or {})
        else:
            ext, content, _, _ = Report.execute(
                [r.id for r in records], data or {})
        self.assertEqual(ext, 'pdf')
        return pdf_text(content, name.replace('.', '_'))

    @needs_pdf_tools
    @with_transaction()
    def test_notice(self):
        "The notice shows names and points, never an ID number or a phone"
        c = self._county()
        sheet = self._sheet({0: (60, 40), 1: (40, 20), 2: (30, 10)})
        # Not on the notice board before it is published
        with self.assertRaises(UserError):
            self._render('huinong.evaluation.notice', [sheet])
        sheet = self._through(sheet)
        text = self._render(
            'huinong.evaluation.notice', [sheet], user=c['eval1'])
        flat = compact(text)
        for expected in ["公示", "七坊镇", "罗任村", "2026-10",
                "符大明", "王小红", "陈阿三", "评议员甲", "评议员乙", "评议员丙",
                "异议"]:
            self.assertIn(expected, flat)
        # Points this month and, before posting, cumulative the same
        self.assertIn("符大明100100", flat)
        self.assertIn("王小红6060", flat)
        for household in c['households']:
            self.assertNotIn(household.huinong_resident_id, flat)
        self.assertNotIn(MOBILE, flat)
        self.assertIsNone(LATIN.search(text))

        # After posting, a second month adds up
        self._post(sheet)
        self.today = TODAY + dt.timedelta(days=31)
        second = self._sheet({0: (10, 5)}, date=self.today)
        second = self._through(second)
        flat = compact(self._render('huinong.evaluation.notice', [second]))
        self.assertIn("符大明15115", flat)
        self.assertNotIn("王小红", flat)
        self.assertNotIn(MOBILE, flat)

    @needs_pdf_tools
    @with_transaction()
    def test_detail(self):
        "The detail sheet has each criterion's score, the class and total"
        pool = Pool()
        Criterion = pool.get('huinong.evaluation.criterion')
        c = self._county()
        sheet = self._sheet({0: (60, 40), 1: (40, 20)})
        # A third criterion added later is listed with no score
        Criterion.create([{
                    'name': "环境卫生", 'code': 'HYG',
                    'maximum': Decimal(10)}])
        with Transaction().set_context(language='zh_CN'):
            names = [x.name for x in Criterion.search(
                        [('code', '!=', 'HYG')],
                        order=[('sequence', 'ASC'), ('id', 'ASC')])]
        self.assertEqual(len(names), 2)
        text = self._render(
            'huinong.evaluation.detail', [sheet], user=c['committee'])
        flat = compact(text)
        for expected in ["附件2", "评比明细表", "罗任村", "符大明", "王小红",
                "评议员甲", "评议员丙"] + names:
            self.assertIn(expected, flat)
        self.assertIn("%s：60" % names[0], flat)
        self.assertIn("%s：20" % names[1], flat)
        self.assertIn("环境卫生：-", flat)
        self.assertIn("100", flat)
        self.assertIn("160", flat)
        self.assertNotIn(MOBILE, flat)
        self.assertIsNone(LATIN.search(text))

    @needs_pdf_tools
    @with_transaction()
    def test_approval_sheet(self):
        "The approval sheet lists every sign-off, returns and objections"
        pool = Pool()
        Evaluation = pool.get('huinong.evaluation')
        c = self._county()
        sheet = self._sheet({0: (60, 40), 1: (40, 20), 2: (5, 5)})
        self._as(c['eval1'], Evaluation.submit, [sheet])
        self._as(c['committee'], Evaluation.approval_return, [sheet],
            "分数有误请核实")
        sheet = self._through(Evaluation(sheet.id))
        self._as(c['supervisor'], Evaluation.objection, [sheet],
            "该户当月未参加活动", household=c['households'][2],
            raised_by="符某")
        sheet = self._through(Evaluation(sheet.id))
        text = self._render('huinong.evaluation.approval_sheet', [sheet],
            user=c['office'])
        flat = compact(text)
        for expected in ["附件11", "审批表", "罗任村", "分数有误请核实",
                "该户当月未参加活动", "符某", "陈阿三", "评议员甲", "村委会",
                "乡镇办", "乡镇政府", "退回"]:
            self.assertIn(expected, flat)
        self.assertIn("3170", flat)  # 3 households, 170 points
        self.assertIsNone(LATIN.search(text))

    @with_transaction()
    def test_report_access(self):
        "A role of another village cannot print a sheet"
        c = self._county()
        sheet = self._sheet({0: (60, 40)})
        for login in ['eval_other', 'committee_other', 'office_other']:
            with self.assertRaises(AccessError, msg=login):
                self._render('huinong.evaluation.detail', [sheet],
                    user=c[login])

    @with_transaction()
    def test_missing(self):
        "The villages without a sheet in the month, in the user's scope"
        pool = Pool()
        Missing = pool.get('huinong.evaluation.missing.report', type='report')
        Evaluation = pool.get('huinong.evaluation')
        c = self._county()
        luoren, yuanmen = c['village'], c['other_village']

        def missing(user, month=TODAY, township=None):
            with Transaction().set_user(user.id), \
                    Transaction().set_context(_check_access=True):
                return Missing.get_missing(month, township)
        # No sheet at all yet
        self.assertEqual(missing(c['county']), [luoren, yuanmen])
        self.assertEqual(missing(c['office']), [luoren])
        self.assertEqual(missing(c['office_other']), [yuanmen])
        sheet = self._sheet({0: (10, 10)})
        self.assertEqual(missing(c['county']), [yuanmen])
        self.assertEqual(
            missing(c['county'], township=luoren.parent.id), [])
        self.assertEqual(missing(c['office']), [])
        # Another month, or a cancelled sheet, does not count
        self.assertEqual(
            missing(c['office'], month=dt.date(2026, 11, 3)), [luoren])
        self._as(c['eval1'], Evaluation.cancel, [sheet])
        self.assertEqual(missing(c['office']), [luoren])

    @needs_pdf_tools
    @with_transaction()
    def test_missing_report(self):
        "The wizard prints the villages without a sheet"
        pool = Pool()
        Missing = pool.get('huinong.evaluation.missing', type='wizard')
        c = self._county()
        with Transaction().set_user(c['county'].id), \
                Transaction().set_context(_check_access=True):
            session_id, _, _ = Missing.create()
            wizard = Missing(session_id)
            wizard.start.month = TODAY
            wizard.start.township = None
            action, data = wizard.do_print_({})
        self.assertEqual(data['month'], TODAY)
        text = self._render('huinong.evaluation.missing.report', [],
            data=data, user=c['county'])
        flat = compact(text)
        for expected in ["2026-10", "罗任村", "元门村", "七坊镇", "元门乡"]:
            self.assertIn(expected, flat)
        self.assertIsNone(LATIN.search(text))

    def _township_report(self, user=None, month=dt.date(2026, 10, 15)):
        pool = Pool()
        Report = pool.get('huinong.evaluation.township_report')

        def create():
            report, = Report.create([{
                        'township': self.c['village'].parent.id,
                        'month': month,
                        }])
            return report
        if user:
            return self._as(user, create)
        return create()

    @needs_pdf_tools
    @with_transaction()
    def test_township_report(self):
        "The figures of the township's month, sent once to the county HQ"
        pool = Pool()
        Report = pool.get('huinong.evaluation.township_report')
        Evaluation = pool.get('huinong.evaluation')
        c = self._county()
        posted = self._through(self._sheet({0: (60, 40), 1: (40, 20)}))
        self._as(c['supervisor'], Evaluation.objection, [posted],
            "有异议", raised_by="某人")
        posted = self._through(Evaluation(posted.id))
        self._post(posted)
        # A sheet not posted counts no points, one of another township
        # nothing
        self._sheet({2: (10, 10)})
        report = self._township_report(c['office'])
        self.assertEqual(report.month, dt.date(2026, 10, 1))
        self.assertEqual(report.villages, 1)
        self.assertEqual(report.villages_posted, 1)
        self.assertEqual(report.households, 2)
        self.assertEqual(report.poor_points, Decimal(100))
        self.assertEqual(report.ordinary_points, Decimal(60))
        self.assertEqual(report.points, Decimal(160))
        self.assertEqual(report.objections, 1)
        self.assertEqual(report.deadline, dt.date(2026, 11, 20))

        # Only its township sends it, by the button
        with self.assertRaises(AccessError):
            self._as(c['office'], Report.write, [report], {'state': 'sent'})
        with self.assertRaises(AccessError):
            self._as(c['office_other'], Report.send, [report])
        with self.assertRaises(UserError):  # no access to the button
            self._as(c['county'], Report.send, [report])
        self.today = dt.date(2026, 11, 5)
        self._as(c['government'], Report.send, [report])
        report = Report(report.id)
        self.assertEqual(report.state, 'sent')
        self.assertEqual(report.sent_by, c['government'])
        self.assertEqual(report.sent_at.date(), dt.date(2026, 11, 5))
        self.assertFalse(report.late)
        # Sent: read-only
        with self.assertRaises(AccessError):
            self._as(c['office'], Report.write, [report],
                {'month': dt.date(2026, 9, 1)})
        with self.assertRaises(AccessError):
            self._as(c['office'], Report.delete, [report])

        text = self._render(
            'huinong.evaluation.township_report.report', [report],
            user=c['county'])
        flat = compact(text)
        for expected in ["附件10", "七坊镇", "2026-10", "160", "100", "60",
                "乡镇政府", "2026-11-20"]:
            self.assertIn(expected, flat)
        self.assertIsNone(LATIN.search(text))

    @with_transaction()
    def test_township_report_late(self):
        "Late when not sent by the configured day of the following month"
        pool = Pool()
        Report = pool.get('huinong.evaluation.township_report')
        Configuration = pool.get('huinong.configuration')
        c = self._county()
        report = self._township_report(c['office'])

        def late_ids():
            return [r.id for r in self._as(
                    c['county'], Report.search, [('late', '=', True)])]

        def on_time_ids():
            return [r.id for r in self._as(
                    c['county'], Report.search, [('late', '=', False)])]
        self.today = dt.date(2026, 11, 20)
        self.assertFalse(Report(report.id).late)
        self.assertEqual(late_ids(), [])
        self.assertEqual(on_time_ids(), [report.id])
        self.today = dt.date(2026, 11, 21)
        self.assertTrue(Report(report.id).late)
        self.assertEqual(late_ids(), [report.id])
        self.assertEqual(on_time_ids(), [])
        # A later deadline in the configuration
        config = Configuration(1)
        config.township_report_day = 25
        config.save()
        self.assertFalse(Report(report.id).late)
        # Sent after the deadline: stays late
        self.today = dt.date(2026, 11, 26)
        self._as(c['office'], Report.send, [report])
        self.today = dt.date(2026, 12, 1)
        self.assertTrue(Report(report.id).late)
        self.assertEqual(late_ids(), [report.id])

    @with_transaction()
    def test_township_report_access(self):
        "Township roles see their township's reports, county roles all"
        pool = Pool()
        Report = pool.get('huinong.evaluation.township_report')
        c = self._county()
        report = self._township_report(c['office'])
        for login, expected in [('office', 1), ('government', 1),
                ('office_other', 0), ('county', 1), ('committee', 0)]:
            try:
                count = self._as(c[login], Report.search_count, [])
            except AccessError:
                count = 0
            self.assertEqual(count, expected, msg=login)
        # Not for another township, nor twice a month
        with self.assertRaises(AccessError):
            self._as(c['office_other'], Report.write, [report],
                {'month': dt.date(2026, 9, 1)})
        with self.assertRaises(AccessError):
            self._as(c['county'], Report.create, [{
                        'township': c['village'].parent.id,
                        'month': dt.date(2026, 9, 1)}])
        # Nobody marks a report as sent but the button
        with self.assertRaises(AccessError):
            self._as(c['office'], Report.create, [{
                        'township': c['village'].parent.id,
                        'month': dt.date(2026, 8, 1), 'state': 'sent'}])
        # Last: the unique violation aborts the transaction on PostgreSQL
        with self.assertRaises(UserError):
            self._township_report(c['government'])
