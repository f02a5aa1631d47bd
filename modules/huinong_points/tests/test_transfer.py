# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Tests of points transfers (转账) and corrections of one credit (更正)"
import unittest
from decimal import Decimal

from trytond import backend
from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError, ValidationError
from trytond.model.modelview import AccessButtonError
from trytond.modules.company.tests import set_company
from trytond.modules.huinong_card.tests.tools import (
    create_household, create_user)
from trytond.modules.huinong_points.exceptions import LedgerError
from trytond.modules.huinong_points.tests.tools import (
    create_programme_company, setup_ledger)
from trytond.modules.huinong.tests.tools import (
    DatabaseTestCase, every_table, with_transaction)
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, USER, TestCase
from trytond.transaction import (
    Transaction, TransactionError, check_access)


def _areas():
    pool = Pool()
    Area = pool.get('huinong.area')
    qifang, = Area.search([('name', '=', '七坊镇')])
    yuanmen, = Area.search([('name', '=', '元门乡')])
    return Area.create([
            {'name': "罗任村", 'code': 'QF01', 'parent': qifang.id},
            {'name': "七坊村", 'code': 'QF02', 'parent': qifang.id},
            {'name': "元门村", 'code': 'YM01', 'parent': yuanmen.id},
            ])


class TransferTestCase(DatabaseTestCase, TestCase):
    "Test points transfers and corrections"
    module = 'huinong_points'

    def _today(self):
        return Pool().get('ir.date').today()

    def _setup(self):
        """The programme, its ledger, three villages (two in 七坊镇, one in
        元门乡), households and the users of each role"""
        company = create_programme_company()
        self.company = company
        with set_company(company):
            setup_ledger(company)
        luoren, qifang_village, yuanmen_village = _areas()
        self.villages = luoren, qifang_village, yuanmen_village
        self.h1 = create_household(luoren, 1)
        self.h2 = create_household(luoren, 2)
        self.h3 = create_household(qifang_village, 3)
        self.h4 = create_household(yuanmen_village, 4)
        users = {}
        for login, group, areas in [
                ('committee', 'group_village_committee', [luoren]),
                ('committee2', 'group_village_committee', [luoren]),
                ('far_committee', 'group_village_committee',
                    [qifang_village]),
                ('evaluation', 'group_evaluation', [luoren]),
                ('office', 'group_township_office', [luoren.parent]),
                ('office2', 'group_township_office', [luoren.parent]),
                ('far_office', 'group_township_office',
                    [yuanmen_village.parent]),
                ('government', 'group_township_government',
                    [luoren.parent]),
                ('county', 'group_county_office', []),
                ('auditor', 'group_auditor', []),
                ('clerk', 'group_clerk', [luoren.parent]),
                ]:
            users[login] = create_user(login, group, areas)
            users[login].companies = [company]
            users[login].company = company
            users[login].save()
        self.users = users

    def _credit(self, lines, description="3月 罗任村积分"):
        Ledger = Pool().get('huinong.points.ledger')
        with set_company(self.company):
            return Ledger.credit(
                [(h, Decimal(p)) for h, p in lines], self._today(),
                description)

    def _as(self, login, func, *args, access=True):
        "Run func as the user, with access checks as over RPC"
        user = self.users[login]
        with Transaction().set_user(user.id), \
                Transaction().set_context(company=self.company.id), \
                check_access(_access=access):
            return func(*args)

    def _create(self, login, from_, to, points, reason="分户"):
        Transfer = Pool().get('huinong.points.transfer')

        def create():
            transfer, = Transfer.create([{
                        'from_household': from_.id,
                        'to_household': to.id,
                        'points': Decimal(points),
                        'reason': reason,
                        }])
            return transfer.id
        return self._as(login, create)

    def _button(self, login, name, transfer_id, *args):
        Transfer = Pool().get('huinong.points.transfer')
        # The return wizard's transition runs without access checks, as
        # every wizard; buttons run with them, as over RPC
        return self._as(
            login, lambda: getattr(Transfer, name)(
                [Transfer(transfer_id)], *args),
            access=name != 'approval_return')

    def _balances(self, *households):
        Party = Pool().get('party.party')
        return [Party(h.id).huinong_points_balance for h in households]

    @with_transaction()
    def test_transfer_chain(self):
        "Requested by the village committee, approved by the township office"
        pool = Pool()
        Transfer = pool.get('huinong.points.transfer')
        Approval = pool.get('huinong.approval')
        Configuration = pool.get('huinong.configuration')
        self._setup()
        self._credit([(self.h1, 110), (self.h2, 68)])

        transfer_id = self._create('committee', self.h1, self.h2, 60,
            "户主去世，积分转给儿子分户")
        self.assertEqual(Transfer(transfer_id).from_balance, Decimal(110))
        # Wrong group, wrong village, wrong township
        with self.assertRaises(AccessButtonError):
            self._button('evaluation', 'request', transfer_id)
        with self.assertRaises(AccessError):
            self._button('far_committee', 'request', transfer_id)
        self._button('committee', 'request', transfer_id)
        self.assertEqual(Transfer(transfer_id).state, 'requested')

        with self.assertRaises(AccessButtonError):
            self._button('committee2', 'approve', transfer_id)
        with self.assertRaises(AccessButtonError):
            self._button('government', 'approve', transfer_id)
        with self.assertRaises(AccessError):
            self._button('far_office', 'approve', transfer_id)
        self.assertEqual(Transfer(transfer_id).state, 'requested')
        self.assertEqual(self._balances(self.h1, self.h2),
            [Decimal(110), Decimal(68)])

        self._button('office', 'approve', transfer_id)
        transfer = Transfer(transfer_id)
        self.assertEqual(transfer.state, 'approved')
        self.assertEqual(transfer.requested_by, self.users['committee'])
        self.assertEqual(transfer.approved_by, self.users['office'])
        self.assertTrue(transfer.approved_at)
        self.assertEqual(
            [(a.step, a.user) for a in transfer.approvals],
            [('request', self.users['committee']),
                ('approve', self.users['office'])])
        self.assertEqual(self._balances(self.h1, self.h2),
            [Decimal(50), Decimal(128)])

        config = Configuration(1)
        move = transfer.move
        self.assertEqual(move.state, 'posted')
        self.assertEqual(move.origin, transfer)
        self.assertEqual(move.journal, config.points_journal)
        self.assertIn("户主去世", move.description)
        lines = {l.party: l for l in move.lines}
        self.assertEqual(len(move.lines), 2)
        self.assertEqual(lines[self.h1].account, config.points_account)
        self.assertEqual(lines[self.h1].debit, Decimal(60))
        self.assertEqual(
            lines[self.h1].amount_second_currency, Decimal(60))
        self.assertEqual(lines[self.h2].credit, Decimal(60))
        self.assertEqual(
            lines[self.h1].description, "转出至 %s" % self.h2.rec_name)
        self.assertEqual(
            lines[self.h2].description, "转入自 %s" % self.h1.rec_name)
        self.assertEqual(Approval.search_count(
                [('document', '=', str(transfer))]), 2)

        # Approved: no more buttons, no more changes
        with self.assertRaises(AccessButtonError):
            self._button('office2', 'approve', transfer_id)
        with self.assertRaises(AccessButtonError):
            self._button('committee', 'cancel', transfer_id)
        with self.assertRaises(AccessError):
            self._as('committee', lambda: Transfer.write(
                    [Transfer(transfer_id)], {'points': Decimal(1)}))
        with self.assertRaises(AccessError):
            self._as('office', lambda: Transfer.delete(
                    [Transfer(transfer_id)]))

    @with_transaction()
    def test_same_user_two_steps(self):
        "The township office that requested cannot approve"
        Transfer = Pool().get('huinong.points.transfer')
        self._setup()
        self._credit([(self.h1, 100)])
        transfer_id = self._create('office', self.h1, self.h3, 10)
        self._button('office', 'request', transfer_id)
        with self.assertRaises(UserError) as cm:
            self._button('office', 'approve', transfer_id)
        self.assertIn("nobody does two steps", cm.exception.message)
        self.assertEqual(Transfer(transfer_id).state, 'requested')
        self._button('office2', 'approve', transfer_id)
        self.assertEqual(Transfer(transfer_id).state, 'approved')
        self.assertEqual(self._balances(self.h1, self.h3),
            [Decimal(90), Decimal(10)])

    @with_transaction()
    def test_balance_too_small(self):
        "Approval refuses a transfer the source balance does not cover"
        pool = Pool()
        Transfer = pool.get('huinong.points.transfer')
        Move = pool.get('account.move')
        self._setup()
        self._credit([(self.h1, 50)])
        transfer_id = self._create('committee', self.h1, self.h2, 51)
        self._button('committee', 'request', transfer_id)
        moves = Move.search_count([])
        with self.assertRaises(LedgerError) as cm:
            self._button('office', 'approve', transfer_id)
        message = cm.exception.message
        self.assertIn(self.h1.rec_name, message)
        self.assertIn("50", message)
        self.assertIn("51", message)
        transfer = Transfer(transfer_id)
        self.assertEqual(transfer.state, 'requested')
        self.assertIsNone(transfer.move)
        self.assertEqual(Move.search_count([]), moves)
        self.assertEqual(self._balances(self.h1, self.h2),
            [Decimal(50), Decimal(0)])

        # The office returns it with a reason; the committee fixes it
        with self.assertRaises(UserError):
            self._button('committee2', 'approval_return', transfer_id, "x")
        with self.assertRaises(UserError):
            self._button('office', 'approval_return', transfer_id, "  ")
        self._button('office', 'approval_return', transfer_id, "积分不足")
        transfer = Transfer(transfer_id)
        self.assertEqual(transfer.state, 'draft')
        self.assertEqual(transfer.return_reason, "积分不足")
        self.assertIsNone(transfer.requested_by)
        self._as('committee', lambda: Transfer.write(
                [Transfer(transfer_id)], {'points': Decimal(50)}))
        self._button('committee', 'request', transfer_id)
        self._button('office', 'approve', transfer_id)
        self.assertEqual(self._balances(self.h1, self.h2),
            [Decimal(0), Decimal(50)])

    @with_transaction()
    def test_two_transfers_in_one_approval(self):
        "Transfers approved together count against the balance together"
        Transfer = Pool().get('huinong.points.transfer')
        self._setup()
        self._credit([(self.h1, 100)])
        first = self._create('committee', self.h1, self.h2, 60)
        second = self._create('committee', self.h1, self.h3, 60)
        self._as('committee', lambda: Transfer.request(
                Transfer.browse([first, second])))
        with self.assertRaises(LedgerError):
            self._as('office', lambda: Transfer.approve(
                    Transfer.browse([first, second])))
        self.assertEqual(
            [t.state for t in Transfer.browse([first, second])],
            ['requested', 'requested'])
        self._as('office', lambda: Transfer.approve(
                Transfer.browse([first])))
        self.assertEqual(self._balances(self.h1, self.h2, self.h3),
            [Decimal(40), Decimal(60), Decimal(0)])

    @with_transaction()
    def test_bad_input(self):
        "The same household on both sides, points <= 0 or fractional"
        Party = Pool().get('party.party')
        self._setup()
        self._credit([(self.h1, 100)])
        with self.assertRaises(ValidationError):
            self._create('committee', self.h1, self.h1, 10)
        for points in ['0', '-5', '1.5', '0.4']:
            with self.assertRaises(ValidationError, msg=points):
                self._create('committee', self.h1, self.h2, Decimal(points))
        company_party = Party(self.company.party.id)
        with self.assertRaises(ValidationError):
            self._create('committee', self.h1, company_party, 10)
        with self.assertRaises(UserError):
            self._create('committee', self.h1, self.h2, 10, reason=None)

    @with_transaction()
    def test_access(self):
        "Who reads, writes and cancels which transfers"
        Transfer = Pool().get('huinong.points.transfer')
        self._setup()
        self._credit([(self.h1, 100), (self.h3, 100)])
        # 罗任村 → 元门村: a transfer between townships
        cross = self._create('committee', self.h1, self.h4, 10)
        local = self._create('far_committee', self.h3, self.h2, 10)

        def visible(login):
            return self._as(login, lambda: {
                    t.id for t in Transfer.search([])})
        self.assertEqual(visible('committee'), {cross, local})
        self.assertEqual(visible('far_committee'), {local})
        self.assertEqual(visible('far_office'), {cross})
        self.assertEqual(visible('office'), {cross, local})
        self.assertEqual(visible('government'), {cross, local})
        self.assertEqual(visible('county'), {cross, local})
        self.assertEqual(visible('auditor'), {cross, local})
        with self.assertRaises(AccessError):
            visible('clerk')
        # The destination's roles read it with the source household's name,
        # and nothing else of that household
        values, = self._as('far_office', lambda: Transfer.read([cross], [
                    'points', 'from_household.rec_name',
                    'to_household.rec_name']))
        self.assertEqual(values['from_household.']['rec_name'],
            self.h1.rec_name)
        self.assertEqual(values['to_household.']['rec_name'],
            self.h4.rec_name)
        self.assertEqual(values['points'], Decimal(10))
        with self.assertRaises(AccessError):
            self._as('far_office', lambda: Transfer.read([cross], [
                        'from_household.huinong_resident_id']))
        with self.assertRaises(AccessError):
            self._as('far_committee', lambda: Transfer.read([cross], [
                        'from_household.rec_name']))
        # The destination's roles read but do not change or act on it
        with self.assertRaises(AccessError):
            self._as('far_office', lambda: Transfer.write(
                    [Transfer(cross)], {'points': Decimal(5)}))
        with self.assertRaises(UserError):
            self._button('far_office', 'request', cross)
        with self.assertRaises(UserError):
            self._button('far_office', 'cancel', cross)
        with self.assertRaises(AccessButtonError):
            self._button('government', 'cancel', cross)
        # The workflow fields are the buttons' only
        with self.assertRaises(AccessError):
            self._as('committee', lambda: Transfer.write(
                    [Transfer(cross)], {'state': 'approved'}))

        self._button('committee', 'request', cross)
        with self.assertRaises(UserError):
            self._button('far_office', 'approve', cross)
        self._button('office', 'approve', cross)
        self.assertEqual(self._balances(self.h1, self.h4),
            [Decimal(90), Decimal(10)])

        # A draft is changed and cancelled by its requesters
        self._as('far_committee', lambda: Transfer.write(
                [Transfer(local)], {'points': Decimal(20)}))
        self._button('far_committee', 'request', local)
        self._button('office', 'cancel', local)
        self.assertEqual(Transfer(local).state, 'cancelled')
        with self.assertRaises(AccessButtonError):
            self._button('office2', 'approve', local)
        self._as('far_committee', lambda: Transfer.delete(
                [Transfer(local)]))

        # Out of a village the user does not answer for (a failed request
        # is rolled back: these come last)
        with self.assertRaises(AccessError):
            self._create('committee', self.h3, self.h1, 10)
        with self.assertRaises(AccessError):
            self._create('far_office', self.h1, self.h4, 10)
        # Roles that only read
        for login in ['government', 'evaluation', 'county', 'auditor']:
            with self.assertRaises(AccessError, msg=login):
                self._create(login, self.h1, self.h2, 10)

    @with_transaction()
    def test_statement(self):
        "A transfer shows on both households' statements"
        pool = Pool()
        Statement = pool.get(
            'huinong.points.statement.report', type='report')
        self._setup()
        self._credit([(self.h1, 100)])
        transfer_id = self._create('committee', self.h1, self.h2, 30)
        self._button('committee', 'request', transfer_id)
        self._button('office', 'approve', transfer_id)
        today = self._today()
        statements = Statement.get_statements(
            [self.h1.id, self.h2.id], today, today)
        out = statements[self.h1.id]['lines'][-1]
        in_ = statements[self.h2.id]['lines'][-1]
        self.assertEqual(out['description'], "转出至 %s" % self.h2.rec_name)
        self.assertEqual(out['debit'], Decimal(30))
        self.assertEqual(out['balance'], Decimal(70))
        self.assertEqual(in_['description'], "转入自 %s" % self.h1.rec_name)
        self.assertEqual(in_['credit'], Decimal(30))
        self.assertEqual(in_['balance'], Decimal(30))
        self.assertEqual(statements[self.h1.id]['closing'], Decimal(70))
        self.assertEqual(statements[self.h2.id]['closing'], Decimal(30))

    @with_transaction()
    def test_correct(self):
        "Take back a wrong credit of one household of a sheet's move"
        pool = Pool()
        Ledger = pool.get('huinong.points.ledger')
        Configuration = pool.get('huinong.configuration')
        Move = pool.get('account.move')
        self._setup()
        config = Configuration(1)
        move = self._credit([(self.h1, 110), (self.h2, 68), (self.h3, 60)])
        line2, = [l for l in move.lines if l.party == self.h2]

        def correct(line, points, reason="王秀英的分录错"):
            with set_company(self.company):
                return Ledger.correct(line, Decimal(points), reason)

        for points in [0, -1, Decimal('1.5')]:
            with self.assertRaises(LedgerError, msg=points):
                correct(line2, points)
        with self.assertRaises(LedgerError):
            correct(line2, 10, reason=" ")
        with self.assertRaises(LedgerError) as cm:
            correct(line2, 69)
        self.assertIn("68", cm.exception.message)

        correction = correct(line2, 8)
        self.assertEqual(correction.state, 'posted')
        self.assertEqual(correction.origin, move)
        self.assertIn("王秀英的分录错", correction.description)
        points_line, = [l for l in correction.lines
            if l.account == config.points_account]
        self.assertEqual(points_line.party, self.h2)
        self.assertEqual(points_line.debit, Decimal(8))
        expense, = [l for l in correction.lines
            if l.account == config.points_expense_account]
        self.assertEqual(expense.credit, Decimal(8))
        self.assertEqual(self._balances(self.h1, self.h2, self.h3),
            [Decimal(110), Decimal(60), Decimal(60)])
        self.assertEqual(Ledger.corrected_points(line2), Decimal(8))

        with self.assertRaises(LedgerError) as cm:
            correct(line2, 61)
        self.assertIn("60", cm.exception.message)

        # The balance no longer covers it: refused, nothing moves
        transfer_id = self._create('committee', self.h2, self.h1, 55)
        self._button('committee', 'request', transfer_id)
        self._button('office', 'approve', transfer_id)
        moves = Move.search_count([])
        with self.assertRaises(LedgerError) as cm:
            correct(line2, 10)
        self.assertIn("5", cm.exception.message)
        self.assertEqual(Move.search_count([]), moves)
        correct(line2, 5)
        self.assertEqual(self._balances(self.h2), [Decimal(0)])

        # The rest of the credit, then nothing is left to take back
        line3, = [l for l in move.lines if l.party == self.h3]
        correct(line3, 60)
        with self.assertRaises(LedgerError) as cm:
            correct(line3, 1)
        self.assertIn(self.h3.rec_name, cm.exception.message)
        self.assertEqual(self._balances(self.h3), [Decimal(0)])

        # Not a credit: the transfer's lines, the expense line, a debit
        transfer_line = [l for l in Move(
                    self._transfer_move(transfer_id)).lines
            if l.credit][0]
        with self.assertRaises(LedgerError):
            correct(transfer_line, 1)
        expense_line, = [l for l in move.lines
            if l.account == config.points_expense_account]
        with self.assertRaises(LedgerError):
            correct(expense_line, 1)
        with self.assertRaises(LedgerError):
            correct(points_line, 1)

        # The whole move cannot be reversed on top of its corrections
        with self.assertRaises(LedgerError), set_company(self.company):
            Ledger.reverse([move], "整张重做")

    def _transfer_move(self, transfer_id):
        Transfer = Pool().get('huinong.points.transfer')
        return Transfer(transfer_id).move.id

    @with_transaction()
    def test_correct_after_reverse(self):
        "A credit already reversed with its whole move is not corrected"
        Ledger = Pool().get('huinong.points.ledger')
        self._setup()
        move = self._credit([(self.h1, 110), (self.h2, 68)])
        with set_company(self.company):
            Ledger.reverse([move], "整张录错")
        line, = [l for l in move.lines if l.party == self.h1]
        with self.assertRaises(LedgerError), set_company(self.company):
            Ledger.correct(line, Decimal(1), "再扣")

    @with_transaction()
    def test_correct_wizard_access(self):
        "The correction wizard is the county office's"
        pool = Pool()
        Correct = pool.get('huinong.points.correct', type='wizard')
        Party = pool.get('party.party')
        self._setup()
        move = self._credit([(self.h1, 110)])
        line, = [l for l in move.lines if l.party == self.h1]
        for login in ['office', 'committee', 'government', 'auditor']:
            with Transaction().set_context(
                    active_model='party.party', active_id=self.h1.id,
                    active_ids=[self.h1.id]):
                with self.assertRaises(AccessError, msg=login):
                    self._as(login, Correct.check_access)

        def run(model, record):
            with Transaction().set_context(
                    active_model=model, active_id=record.id,
                    active_ids=[record.id]):
                Correct.check_access()
                session_id, _, _ = Correct.create()
                wizard = Correct(session_id)
                values = wizard.default_start(None)
                values['reason'] = "重复计分"
                values['points'] = Decimal(10)
                Correct.execute(session_id, {'start': values}, 'correct')
                Correct.delete(session_id)
                return values
        values = self._as('county', run, 'account.move.line', line)
        self.assertEqual(values['household'], self.h1.id)
        self.assertEqual(values['line'], line.id)
        self.assertEqual(values['credited'], Decimal(110))
        self.assertEqual(values['corrected'], Decimal(0))
        self.assertEqual(Party(self.h1.id).huinong_points_balance,
            Decimal(100))

        def start(model, record):
            with Transaction().set_context(
                    active_model=model, active_id=record.id,
                    active_ids=[record.id]):
                Correct.check_access()
                session_id, _, _ = Correct.create()
                values = Correct(session_id).default_start(None)
                Correct.delete(session_id)
                return values
        values = self._as('county', start, 'party.party', self.h1)
        self.assertEqual(values['household'], self.h1.id)
        self.assertNotIn('line', values)
        # What is left of the credit is proposed
        values = self._as('county', start, 'account.move.line', line)
        self.assertEqual(values['corrected'], Decimal(10))
        self.assertEqual(values['points'], Decimal(100))


@unittest.skipIf(backend.name == 'sqlite',
    "SQLite locks the whole database: no two transactions at once")
class TransferConcurrencyTestCase(DatabaseTestCase, TestCase):
    "Two transfers out of one household approved at the same time"
    # The test commits: it runs in a database of its own, dropped after
    module = 'huinong_points'

    def _start(self, user_id, **extras):
        return Transaction(new=True).start(
            DB_NAME, user_id, context={}, **extras)

    def test_concurrent_approvals(self):
        "Of two approvals whose sum exceeds the balance exactly one succeeds"
        ids = {}

        def setup():
            pool = Pool()
            Transfer = pool.get('huinong.points.transfer')
            Ledger = pool.get('huinong.points.ledger')
            company = create_programme_company()
            with set_company(company):
                setup_ledger(company)
            luoren, qifang_village, _ = _areas()
            h1 = create_household(luoren, 1)
            h2 = create_household(luoren, 2)
            h3 = create_household(qifang_village, 3)
            with set_company(company):
                Ledger.credit([(h1, Decimal(100))],
                    Pool().get('ir.date').today(), "3月")
            office = create_user(
                'office', 'group_township_office', [luoren.parent])
            transfers = Transfer.create([{
                        'from_household': h1.id,
                        'to_household': to.id,
                        'points': Decimal(70),
                        'reason': "分户",
                        'state': 'requested',
                        } for to in [h2, h3]])
            ids.update(company=company.id, office=office.id,
                households=[h1.id, h2.id, h3.id],
                transfers=[t.id for t in transfers])
        self._run(USER, setup, commit=True, alone=True)

        def approve(transfer_id):
            pool = Pool()
            Transfer = pool.get('huinong.points.transfer')
            with Transaction().set_context(company=ids['company']), \
                    check_access():
                Transfer.approve([Transfer(transfer_id)])

        first, second = ids['transfers']
        # The first approval holds the household's lock, not committed yet
        extras1 = {}
        while True:
            with self._start(ids['office'], **extras1) as transaction1:
                try:
                    approve(first)
                except TransactionError as e:
                    transaction1.rollback()
                    e.fix(extras1)
                    continue
                # The second, at the same time, cannot take the lock
                with self.assertRaises(backend.DatabaseOperationalError):
                    self._run(ids['office'], approve, second)
                transaction1.commit()
                break
        # Once the first is committed, the second sees the new balance
        with self.assertRaises(LedgerError):
            self._run(ids['office'], approve, second)

        def check():
            pool = Pool()
            Transfer = pool.get('huinong.points.transfer')
            Party = pool.get('party.party')
            return ([t.state for t in Transfer.browse(ids['transfers'])],
                [p.huinong_points_balance
                    for p in Party.browse(ids['households'])])
        states, balances = self._run(USER, check)
        self.assertEqual(states, ['approved', 'requested'])
        self.assertEqual(balances, [Decimal(30), Decimal(70), Decimal(0)])

    def _run(self, user_id, func, *args, commit=False, alone=False):
        "alone: the set-up, no other transaction runs (every_table)"
        extras = {}
        while True:
            with self._start(user_id, **extras) as transaction:
                if alone:
                    transaction._locked_tables = every_table()
                try:
                    result = func(*args)
                except TransactionError as e:
                    transaction.rollback()
                    e.fix(extras)
                    continue
                except Exception:
                    transaction.rollback()
                    raise
                if commit:
                    transaction.commit()
                else:
                    transaction.rollback()
                return result
