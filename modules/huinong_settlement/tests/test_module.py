# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt
from decimal import Decimal
from unittest.mock import patch

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.modules.huinong.tests.tools import (
    ClientViewsMixin, SharedFixtureMixin, with_transaction)
from trytond.tests.test_tryton import ModuleTestCase
from trytond.transaction import Transaction, check_access

from .test_reconcile import ReconcileTestCase  # noqa: F401
from .test_report import (  # noqa: F401
    FinanceReportTestCase, SettlementReportTestCase)
from .tools import last_month, redeem_on, setup_settlement_county

SCAN = b'%PDF-1.4 signed statement'


class SettlementTestCase(SharedFixtureMixin, ClientViewsMixin, ModuleTestCase):
    "Test the monthly settlement of the stores"
    fixture = staticmethod(setup_settlement_county)
    module = 'huinong_settlement'

    def as_user(self, user, func, *args, **kwargs):
        with Transaction().set_user(user.id), check_access():
            return func(*args, **kwargs)

    def _month(self, c):
        "Redemptions of last month in both stores and one of today"
        pool = Pool()
        Redemption = pool.get('huinong.redemption')
        rice, oil, soap = c['products']
        month = last_month()
        day1 = month + dt.timedelta(days=2)
        day2 = month + dt.timedelta(days=10)
        r1 = redeem_on(c, day1, [(rice, 2)])                    # 60
        r2 = redeem_on(c, day2, [(oil, 1), (soap, 2)], card=1)  # 30
        r3 = redeem_on(c, day1, [(soap, 1)], store=c['store2'])  # 5
        today = redeem_on(c, Pool().get('ir.date').today(), [(oil, 1)])
        self.assertEqual(
            {r.state for r in [r1, r2, r3, today]}, {'done'})
        del Redemption
        return month, [r1, r2, r3, today]

    def _submit(self, c, settlement, points, user=None):
        Settlement = Pool().get('huinong.settlement')
        self.as_user(user or c['clerk'], Settlement.write, [settlement], {
                'statement_points': Decimal(points),
                'statement_scan': SCAN,
                'statement_filename': 'statement.pdf',
                })
        self.as_user(user or c['clerk'], Settlement.submit, [settlement])

    @with_transaction()
    def test_create_month(self):
        "On the 1st, a draft per store with its ledger figure"
        pool = Pool()
        Settlement = pool.get('huinong.settlement')
        c = self.shared()
        with set_company(c['company']):
            month, redemptions = self._month(c)
            settlements = Settlement.create_month()
            self.assertEqual(len(settlements), 2)
            by_store = {s.store: s for s in settlements}
            qf = by_store[c['store']]
            self.assertEqual(qf.month, month)
            self.assertEqual(qf.state, 'draft')
            self.assertEqual(qf.system_points, Decimal(90))
            self.assertEqual(qf.carried_points, Decimal(0))
            self.assertEqual(qf.redemption_count, 2)
            self.assertEqual(qf.reversal_count, 0)
            self.assertEqual(qf.operator, c['store'].huinong_operator)
            self.assertEqual(qf.amount, Decimal('90.00'))
            self.assertEqual(
                [(d.date, d.redemptions, d.points) for d in qf.days],
                [(month + dt.timedelta(days=2), 1, Decimal(60)),
                    (month + dt.timedelta(days=10), 1, Decimal(30))])
            self.assertEqual(
                {m.move for m in qf.moves},
                {r.ledger_move for r in redemptions[:2]})
            self.assertEqual(by_store[c['store2']].system_points,
                Decimal(5))
            self.assertEqual(qf.deadline,
                (month + dt.timedelta(days=40)).replace(day=5))
            self.assertTrue(qf.number.startswith(
                    'JS' + month.strftime('%Y%m')))

            # Again: nothing new; a second settlement of the month refused
            self.assertEqual(Settlement.create_month(), [])
            with self.assertRaises(UserError):
                Settlement.create([{
                            'store': c['store'].id, 'month': month}])
            # Not a month that is not over
            with self.assertRaises(UserError):
                Settlement.create([{
                            'store': c['store'].id,
                            'month': Pool().get('ir.date').today()}])

    @with_transaction()
    def test_chain(self):
        """Statement differs and is explained, verified, approved: invoice
        posted; paid: settlement paid"""
        pool = Pool()
        Settlement = pool.get('huinong.settlement')
        Line = pool.get('account.move.line')
        Account = pool.get('account.account')
        Invoice = pool.get('account.invoice')
        Date = pool.get('ir.date')
        c = self.shared()
        with set_company(c['company']):
            _, redemptions = self._month(c)
            qf = [s for s in Settlement.create_month()
                if s.store == c['store']][0]
            # Nothing before the statement and its scan
            with self.assertRaises(UserError):
                self.as_user(c['clerk'], Settlement.submit, [qf])
            self.as_user(c['clerk'], Settlement.write, [qf], {
                    'statement_points': Decimal(85)})
            with self.assertRaises(UserError):
                self.as_user(c['clerk'], Settlement.submit, [qf])
            # Not the clerk of the other store
            with self.assertRaises(UserError):
                self._submit(c, qf, 85, user=c['clerk2'])
            self._submit(c, qf, 85)
            qf = Settlement(qf.id)
            self.assertEqual(qf.state, 'submitted')
            self.assertEqual(qf.submitted_by, c['clerk'])
            self.assertEqual(qf.difference, Decimal(-5))
            # The store can no longer change it
            with self.assertRaises(AccessError):
                self.as_user(c['clerk'], Settlement.write, [qf], {
                        'statement_points': Decimal(90)})
            # A difference must be explained before it is verified
            with self.assertRaises(UserError):
                self.as_user(c['county'], Settlement.verify, [qf])
            self.as_user(c['county'], Settlement.write, [qf], {
                    'difference_reason': "超市漏记一笔5积分的兑换"})
            # Only the county office verifies, only finance approves
            with self.assertRaises(UserError):
                self.as_user(c['finance'], Settlement.verify, [qf])
            self.as_user(c['county'], Settlement.verify, [qf])
            with self.assertRaises(UserError):
                self.as_user(c['county'], Settlement.approve, [qf])
            self.as_user(c['finance'], Settlement.approve, [qf])
            qf = Settlement(qf.id)
            self.assertEqual(qf.state, 'approved')
            self.assertEqual(qf.approved_by, c['finance'])

            # The invoice: one yuan per point, from the operator, posted;
            # the settled redemptions' moves posted
            invoice = qf.invoice
            self.assertEqual(invoice.type, 'in')
            self.assertEqual(invoice.state, 'posted')
            self.assertEqual(invoice.party, c['store'].huinong_operator)
            self.assertEqual(invoice.total_amount, Decimal('90.00'))
            self.assertEqual(invoice.lines[0].origin, qf)
            self.assertEqual(
                {r.ledger_move.state for r in redemptions[:2]}, {'posted'})
            self.assertEqual(redemptions[3].ledger_move.state, 'draft')
            store_payable, = Account.search([('code', '=', '2202')])
            operator_payable, = Account.search([('code', '=', '2203')])
            invoice_lines = Line.search([('move', '=', invoice.move.id)])
            self.assertEqual(
                sorted((l.account.code, l.debit, l.credit)
                    for l in invoice_lines),
                [('2202', Decimal(90), Decimal(0)),
                    ('2203', Decimal(0), Decimal(90))])
            # (Tryton shows what a party is owed as a negative payable)
            with Transaction().set_context(
                    date=Date.today(), company=c['company'].id):
                self.assertEqual(
                    c['store'].huinong_operator.payable, Decimal(-90))

            # Paid through the invoice: the settlement follows
            lines = invoice.pay_invoice(Decimal(90), c['payment_method'],
                Date.today())
            Line.reconcile(list(invoice.lines_to_pay) + lines)
            # What the task queued by the reconciliation does after commit
            Invoice.process([invoice])
            qf = Settlement(qf.id)
            self.assertEqual(Invoice(invoice.id).state, 'paid')
            self.assertEqual(qf.state, 'paid')
            self.assertTrue(qf.paid_at)
            del store_payable, operator_payable

    @with_transaction()
    def test_pay_wizard(self):
        """Finance pays the approved settlements of a month at once: the
        only payment method preselected, the invoices and settlements paid"""
        pool = Pool()
        Settlement = pool.get('huinong.settlement')
        Invoice = pool.get('account.invoice')
        Pay = pool.get('huinong.settlement.pay', type='wizard')
        Date = pool.get('ir.date')
        c = self.shared()
        with set_company(c['company']):
            self._month(c)
            settlements = Settlement.create_month()
            for settlement, points in zip(
                    sorted(settlements, key=lambda s: s.store.code),
                    [90, 5]):
                user = (c['clerk'] if settlement.store == c['store']
                    else c['clerk2'])
                self._submit(c, settlement, points, user=user)
                self.as_user(c['county'], Settlement.verify, [settlement])
                self.as_user(c['finance'], Settlement.approve, [settlement])
            ids = [s.id for s in settlements]

            def run(user, date=None):
                with Transaction().set_user(user.id), check_access(), \
                        Transaction().set_context(
                            active_model='huinong.settlement',
                            active_ids=ids, active_id=ids[0]):
                    session_id, _, _ = Pay.create()
                    defaults = Pay.execute(session_id, {}, 'start')[
                        'view']['defaults']
                    if date:
                        defaults['date'] = date
                    # what a client sends: the values, not the rec_names
                    values = {k: v for k, v in defaults.items()
                        if not k.endswith('.')}
                    Pay.execute(session_id, {'start': values}, 'pay')
                    return defaults

            # Only the finance bureau pays
            with self.assertRaises(AccessError):
                run(c['county'])
            # Not after today
            with self.assertRaises(UserError):
                run(c['finance'], Date.today() + dt.timedelta(days=1))
            self.assertEqual(
                {Settlement(i).state for i in ids}, {'approved'})
            defaults = run(c['finance'])
            self.assertEqual(defaults['payment_method'],
                c['payment_method'].id)
            self.assertEqual(sorted(defaults['settlements']), sorted(ids))
            self.assertEqual(defaults['total'], Decimal('95.00'))
            for settlement in Settlement.browse(ids):
                self.assertEqual(settlement.state, 'paid')
                self.assertEqual(
                    Invoice(settlement.invoice.id).state, 'paid')
            # Paid: nothing left to pay
            with self.assertRaises(UserError):
                run(c['finance'])

    @with_transaction()
    def test_return_and_two_steps(self):
        "A review returns with a reason; nobody does two steps"
        pool = Pool()
        Settlement = pool.get('huinong.settlement')
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        c = self.shared()
        with set_company(c['company']):
            self._month(c)
            qf = [s for s in Settlement.create_month()
                if s.store == c['store']][0]
            self._submit(c, qf, 90)
            with self.assertRaises(UserError):
                self.as_user(c['county'], Settlement.approval_return,
                    [qf], " ")
            self.as_user(c['county'], Settlement.approval_return,
                [qf], "扫描件不清楚")
            qf = Settlement(qf.id)
            self.assertEqual(qf.state, 'draft')
            self.assertEqual(qf.return_reason, "扫描件不清楚")
            self.assertIsNone(qf.submitted_by)
            self._submit(c, qf, 90)
            # The county office user also in finance may not approve what
            # they verified
            User.write([c['county']], {'groups': [('add', [
                                ModelData.get_id(
                                    'huinong', 'group_finance')])]})
            self.as_user(c['county'], Settlement.verify, [qf])
            with self.assertRaises(UserError):
                self.as_user(c['county'], Settlement.approve, [qf])
            self.as_user(c['finance'], Settlement.approval_return,
                [qf], "请核对第二周")
            self.assertEqual(Settlement(qf.id).state, 'draft')

    @with_transaction()
    def test_late(self):
        "Not submitted by the 5th of the next month: on the late list"
        pool = Pool()
        Settlement = pool.get('huinong.settlement')
        c = self.shared()
        with set_company(c['company']):
            month = last_month(last_month())
            redeem_on(c, month + dt.timedelta(days=3),
                [(c['products'][2], 1)])
            old, = Settlement.create([{
                        'store': c['store'].id, 'month': month}])
            self.assertTrue(old.late)
            self.assertEqual(Settlement.search([('late', '=', True)]),
                [old])
            self.assertEqual(Settlement.search([('late', '=', False)]), [])
            self._submit(c, old, 5)
            old = Settlement(old.id)
            self.assertTrue(old.submitted_late)
            self.assertTrue(old.late)

    @with_transaction()
    def test_carry_reversal(self):
        "A reversal after its month was settled goes into the next month"
        pool = Pool()
        Settlement = pool.get('huinong.settlement')
        Redemption = pool.get('huinong.redemption')
        Date = pool.get('ir.date')
        c = self.shared()
        with set_company(c['company']):
            earlier = last_month(last_month())
            redemption = redeem_on(c, earlier + dt.timedelta(days=27),
                [(c['products'][0], 1)])
            first, = Settlement.create([{
                        'store': c['store'].id, 'month': earlier}])
            self.assertEqual(first.system_points, Decimal(30))
            # The return is recorded on the redemption's day, after the
            # settlement took it
            with patch.object(Date, 'today', return_value=redemption.date):
                self.as_user(c['office'], Redemption.cancel,
                    [redemption], "顾客退货")
            self.assertEqual(Settlement(first.id).system_points,
                Decimal(30))
            second, = Settlement.create_month()
            self.assertEqual(second.month, last_month())
            self.assertEqual(second.system_points, Decimal(-30))
            self.assertEqual(second.carried_points, Decimal(-30))
            self.assertEqual(second.reversal_count, 1)

    @with_transaction()
    def test_access(self):
        "Each role sees and does only its part"
        pool = Pool()
        Settlement = pool.get('huinong.settlement')
        c = self.shared()
        with set_company(c['company']):
            self._month(c)
            settlements = Settlement.create_month()
            qf = [s for s in settlements if s.store == c['store']][0]
            # Each sees its store or township; the county everything
            self.assertEqual(
                self.as_user(c['clerk'], Settlement.search, []), [qf])
            self.assertEqual(
                self.as_user(c['office'], Settlement.search, []), [qf])
            self.assertEqual(len(
                    self.as_user(c['finance'], Settlement.search, [])), 2)
            # Only the county office creates; nobody writes the figures
            with self.assertRaises(AccessError):
                self.as_user(c['clerk'], Settlement.create, [{
                            'store': c['store'].id,
                            'month': last_month(last_month())}])
            for user in [c['clerk'], c['county']]:
                with self.assertRaises(AccessError):
                    self.as_user(user, Settlement.write, [qf], {
                            'system_points': Decimal(1)})
            with self.assertRaises(AccessError):
                self.as_user(c['clerk'], Settlement.write, [qf], {
                        'state': 'approved'})
            # The clerk does not verify nor approve its own settlement
            self._submit(c, qf, 90)
            for func in [Settlement.verify, Settlement.approve]:
                with self.assertRaises(UserError):
                    self.as_user(c['clerk'], func, [qf])
            with self.assertRaises(AccessError):
                self.as_user(c['county'], Settlement.delete, [qf])
            with self.assertRaises(AccessError):
                Settlement.copy([qf])

    @with_transaction()
    def test_points_month(self):
        "Credited by sheets per household's township, redeemed per store's"
        pool = Pool()
        PointsMonth = pool.get('huinong.points.month')
        Ledger = pool.get('huinong.points.ledger')
        Move = pool.get('account.move')
        Date = pool.get('ir.date')
        c = self.shared()
        with set_company(c['company']):
            self._month(c)
            # A sheet's credit (the move's origin is what tells it; the
            # sheet itself is not what is tested here)
            move = Ledger.credit(
                [(c['households'][0], Decimal(40))], Date.today(), "评分")
            move_table = Move.__table__()
            Transaction().connection.cursor().execute(*move_table.update(
                    [move_table.origin], ['huinong.evaluation,1'],
                    where=move_table.id == move.id))
            rows = {(r.period.start_date, r.township.name):
                (r.credited, r.redeemed) for r in PointsMonth.search([])}
        this_month = Date.today().replace(day=1)
        self.assertEqual(rows, {
                (last_month(), "七坊镇"): (Decimal(0), Decimal(90)),
                (last_month(), "元门乡"): (Decimal(0), Decimal(5)),
                # setup_county's credits have no sheet: not counted
                (this_month, "七坊镇"): (Decimal(40), Decimal(20)),
                })

    @with_transaction()
    def test_demo(self):
        "The demo: last month's settlements submitted but one, before paid"
        pool = Pool()
        Settlement = pool.get('huinong.settlement')
        Date = pool.get('ir.date')
        from trytond.modules.huinong_redemption.demo import (
            create_demo_redemptions)
        from ..demo import create_demo_settlements
        c = self.shared()
        today = Date.today()
        # As setup_db runs it: the administrator, root
        with Transaction().set_user(0):
            create_demo_redemptions(pool, today=today, per_store=4)
            stats = create_demo_settlements(pool, today=today)
        settlements = Settlement.search([], order=[('month', 'ASC')])
        self.assertEqual(stats['settlements'], len(settlements))
        # The cards are of 七坊镇: its store only, the month before last
        # paid, last month's not submitted
        self.assertEqual(
            [(s.store, s.month, s.state) for s in settlements],
            [(c['store'], last_month(last_month()), 'paid'),
                (c['store'], last_month(), 'draft')])
        self.assertEqual(stats['settlements_paid'], 1)
        paid = settlements[0]
        self.assertEqual(paid.invoice.state, 'paid')
        self.assertEqual(paid.amount, paid.system_points)
        with Transaction().set_user(0):
            self.assertEqual(create_demo_settlements(pool, today=today),
                {'settlements': 0, 'settlements_paid': 0})
        # The demo's books agree with its documents
        Reconciliation = pool.get('huinong.settlement.reconciliation')
        self.assertEqual(
            [d.message for d in Reconciliation.check()], [])


del ModuleTestCase
