# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt
from decimal import Decimal
from unittest.mock import patch

from trytond.exceptions import UserError
from trytond.modules.company.tests import set_company
from trytond.modules.huinong_card.tests.tools import (
    create_household, issue_card)
from trytond.modules.huinong_points.tests.tools import (
    create_programme_company, setup_ledger)
from trytond.pool import Pool
from trytond.modules.huinong.tests.tools import ClientViewsMixin, with_transaction
from trytond.tests.test_tryton import ModuleTestCase

from .test_evaluation import (  # noqa: F401
    EvaluationConcurrencyTestCase, EvaluationTestCase)
from .test_evaluation_report import EvaluationReportTestCase  # noqa: F401
from .test_evaluation_import import EvaluationImportTestCase  # noqa: F401
from .test_transfer import (  # noqa: F401
    TransferConcurrencyTestCase, TransferTestCase)


class HuinongPointsTestCase(ClientViewsMixin, ModuleTestCase):
    "Test Huinong Points module"
    module = 'huinong_points'

    def _village(self, suffix=''):
        Area = Pool().get('huinong.area')
        qifang, = Area.search([('name', '=', '七坊镇')])
        village, = Area.create([{
                    'name': "罗任村" + suffix, 'code': 'QF01' + suffix,
                    'parent': qifang.id}])
        return village

    def _households(self, count, village=None, start=1):
        village = village or self._village()
        return [create_household(village, start + i) for i in range(count)]

    def _today(self):
        return Pool().get('ir.date').today()

    @with_transaction()
    def test_setup_idempotent(self):
        "The set-up makes the chart, fiscal year and configuration once"
        pool = Pool()
        Account = pool.get('account.account')
        FiscalYear = pool.get('account.fiscalyear')
        Period = pool.get('account.period')
        Journal = pool.get('account.journal')
        company = create_programme_company()
        with set_company(company):
            config = setup_ledger(company)
            accounts = Account.search([('company', '=', company.id)])
            # The root and 1002, 2201, 2202, 2203, 4001, 5001
            self.assertEqual(len(accounts), 7)
            self.assertEqual(config.points_company, company)
            self.assertEqual(config.points_account.code, '2201')
            self.assertTrue(config.points_account.party_required)
            self.assertFalse(config.points_account.reconcile)
            self.assertEqual(
                config.points_account.second_currency.code, 'PTS')
            self.assertEqual(config.points_account.second_currency.digits, 0)
            self.assertTrue(config.points_expense_account.type.expense)
            # A debt (booked by the settlement's supplier invoice), not
            # payable; 2203 is the parties' payable
            self.assertTrue(config.points_payable_account.type.debt)
            self.assertFalse(config.points_payable_account.type.payable)
            AccountConfiguration = Pool().get('account.configuration')
            self.assertEqual(
                AccountConfiguration(1).default_account_payable.code, '2203')
            self.assertTrue(config.points_payable_account.party_required)
            self.assertEqual(config.points_journal.code, 'PTS')
            self.assertEqual(config.points_journal.type, 'general')
            self.assertEqual(len(FiscalYear.search([])), 1)
            self.assertEqual(len(Period.search([])), 12)

            setup_ledger(company)
            setup_ledger(company)
            self.assertEqual(
                len(Account.search([('company', '=', company.id)])), 7)
            self.assertEqual(len(FiscalYear.search([])), 1)
            self.assertEqual(len(Journal.search([('code', '=', 'PTS')])), 1)

            # Next year's fiscal year on demand
            next_year = dt.date(self._today().year + 1, 3, 1)
            setup_ledger(company, next_year)
            self.assertEqual(len(FiscalYear.search([])), 2)

    @with_transaction()
    def test_setup_needs_yuan(self):
        "The programme keeps its books in yuan"
        pool = Pool()
        Currency = pool.get('currency.currency')
        from trytond.modules.company.tests import create_company
        usd, = Currency.create([{'name': "Dollar", 'code': 'USD'}])
        company = create_company(currency=usd)
        with set_company(company), self.assertRaises(UserError):
            setup_ledger(company)

    @with_transaction()
    def test_credit_one_move(self):
        "Crediting three households makes one posted move"
        pool = Pool()
        Ledger = pool.get('huinong.points.ledger')
        company = create_programme_company()
        with set_company(company):
            config = setup_ledger(company)
            h1, h2, h3 = self._households(3)
            move = Ledger.credit(
                [(h1, Decimal(110)), (h2, Decimal(68)), (h3, 5)],
                self._today(), "2026年3月 罗任村积分")
            self.assertEqual(move.state, 'posted')
            self.assertTrue(move.number)
            self.assertEqual(move.journal, config.points_journal)
            self.assertEqual(len(move.lines), 4)
            expense, = [l for l in move.lines
                if l.account == config.points_expense_account]
            self.assertEqual(expense.debit, Decimal(183))
            points = {l.party: l for l in move.lines
                if l.account == config.points_account}
            self.assertEqual(points[h1].credit, Decimal(110))
            self.assertEqual(points[h1].amount_second_currency, Decimal(-110))
            self.assertEqual(points[h1].second_currency.code, 'PTS')
            self.assertEqual(
                [h.huinong_points_balance for h in [h1, h2, h3]],
                [Decimal(110), Decimal(68), Decimal(5)])

    @with_transaction()
    def test_balances_one_query(self):
        "Balances of many households, drafts included, in one query"
        pool = Pool()
        Ledger = pool.get('huinong.points.ledger')
        Party = pool.get('party.party')
        company = create_programme_company()
        with set_company(company):
            setup_ledger(company)
            households = self._households(40)
            Ledger.credit(
                [(h, Decimal(i + 1)) for i, h in enumerate(households)],
                self._today(), "posted")
            draft = Ledger.credit(
                [(households[0], Decimal(7))], self._today(), "draft",
                post=False)
            self.assertEqual(draft.state, 'draft')

            query = Party._huinong_points_balance_query
            with patch.object(Party, '_huinong_points_balance_query',
                    side_effect=query) as built:
                balances = Party.get_huinong_points_balance(
                    households, 'huinong_points_balance')
            executed = built.call_args_list
            self.assertEqual(len(executed), 1)
            self.assertEqual(balances[households[0].id], Decimal(8))
            self.assertEqual(balances[households[39].id], Decimal(40))
            other, = self._households(1, village=households[0].huinong_village,
                start=100)
            self.assertEqual(other.huinong_points_balance, Decimal(0))
            self.assertEqual(Party.read(
                    [h.id for h in households[:2]],
                    ['huinong_points_balance']),
                [{'id': households[0].id,
                        'huinong_points_balance': Decimal(8)},
                    {'id': households[1].id,
                        'huinong_points_balance': Decimal(2)}])

    @with_transaction()
    def test_search_balance(self):
        "Search households and cards by balance"
        pool = Pool()
        Ledger = pool.get('huinong.points.ledger')
        Party = pool.get('party.party')
        Card = pool.get('huinong.card')
        company = create_programme_company()
        with set_company(company):
            setup_ledger(company)
            h1, h2, h3 = self._households(3)
            Ledger.credit(
                [(h1, Decimal(100)), (h2, Decimal(30))], self._today(), "x")
            household = [('huinong_household', '=', True)]
            self.assertEqual(
                Party.search(household + [
                        ('huinong_points_balance', '>', 50)]), [h1])
            self.assertEqual(
                set(Party.search(household + [
                            ('huinong_points_balance', '>=', 30)])),
                {h1, h2})
            self.assertEqual(
                Party.search(household + [
                        ('huinong_points_balance', '=', 0)]), [h3])
            self.assertEqual(
                set(Party.search(household + [
                            ('huinong_points_balance', '<', 50)])),
                {h2, h3})
            self.assertEqual(
                set(Party.search(household + [
                            ('huinong_points_balance', 'in', [0, 100])])),
                {h1, h3})
            card = issue_card(h1)
            issue_card(h3)
            self.assertEqual(card.balance, Decimal(100))
            self.assertEqual(Card.search([('balance', '>', 0)]), [card])

    @with_transaction()
    def test_reverse(self):
        "A reversal restores the balances and cannot be done twice"
        pool = Pool()
        Ledger = pool.get('huinong.points.ledger')
        Move = pool.get('account.move')
        company = create_programme_company()
        with set_company(company):
            setup_ledger(company)
            h1, h2 = self._households(2)
            move = Ledger.credit(
                [(h1, Decimal(50)), (h2, Decimal(20))], self._today(), "x")
            with self.assertRaises(UserError):
                Ledger.reverse([move], " ")
            reversal, = Ledger.reverse([move], "评比表录错")
            self.assertEqual(reversal.state, 'posted')
            self.assertEqual(reversal.origin, move)
            self.assertIn("评比表录错", reversal.description)
            self.assertEqual(
                [h1.huinong_points_balance, h2.huinong_points_balance],
                [Decimal(0), Decimal(0)])
            self.assertEqual(Move(move.id).state, 'posted')
            with self.assertRaises(UserError):
                Ledger.reverse([move], "again")
            with self.assertRaises(UserError):
                Ledger.reverse([reversal], "again")

    @with_transaction()
    def test_refused_input(self):
        "Negative, zero, fractional points and non-households are refused"
        pool = Pool()
        Ledger = pool.get('huinong.points.ledger')
        Party = pool.get('party.party')
        company = create_programme_company()
        with set_company(company):
            setup_ledger(company)
            h1, = self._households(1)
            stranger, = Party.create([{'name': "供应商"}])
            today = self._today()
            for lines in [
                    [], [(h1, Decimal(-5))], [(h1, Decimal(0))],
                    [(h1, Decimal('1.5'))], [(h1, 2.0)], [(h1, True)],
                    [(stranger, Decimal(5))],
                    [(h1, Decimal(5)), (h1, Decimal(3))]]:
                with self.assertRaises(UserError, msg=lines):
                    Ledger.credit(lines, today, "bad")
            self.assertEqual(h1.huinong_points_balance, Decimal(0))

    @with_transaction()
    def test_not_set_up(self):
        "Without set-up the ledger refuses and balances are 0"
        pool = Pool()
        Ledger = pool.get('huinong.points.ledger')
        Party = pool.get('party.party')
        h1, = self._households(1)
        with self.assertRaises(UserError):
            Ledger.credit([(h1, Decimal(1))], self._today(), "x")
        self.assertEqual(h1.huinong_points_balance, Decimal(0))
        self.assertEqual(
            Party.search([('huinong_points_balance', '>', 0)]), [])

    @with_transaction()
    def test_no_cash_payout(self):
        "Household points never move against a bank and are never reconciled"
        pool = Pool()
        Ledger = pool.get('huinong.points.ledger')
        Account = pool.get('account.account')
        Move = pool.get('account.move')
        Line = pool.get('account.move.line')
        Period = pool.get('account.period')
        company = create_programme_company()
        with set_company(company):
            config = setup_ledger(company)
            h1, = self._households(1)
            credit = Ledger.credit([(h1, Decimal(50))], self._today(), "x")
            bank, = Account.search([
                    ('company', '=', company.id), ('code', '=', '1002')])
            funding, = Account.search([
                    ('company', '=', company.id), ('code', '=', '4001')])
            period = Period.find(company, date=self._today())

            def move(lines):
                return Move.create([{
                            'company': company.id,
                            'journal': config.points_journal.id,
                            'period': period.id,
                            'date': self._today(),
                            'lines': [('create', lines)],
                            }])

            pts = config.points_account.second_currency
            payout = [{
                    'account': config.points_account.id, 'party': h1.id,
                    'debit': Decimal(50), 'credit': Decimal(0),
                    'second_currency': pts.id,
                    'amount_second_currency': Decimal(50),
                    }, {
                    'account': bank.id,
                    'debit': Decimal(0), 'credit': Decimal(50),
                    }]
            with self.assertRaises(UserError):
                move(payout)
            # Nor by adding the bank line to a draft move of points later
            draft = Ledger.credit(
                [(h1, Decimal(1))], self._today(), "draft", post=False)
            with self.assertRaises(UserError):
                Line.create([{
                            'move': draft.id, 'account': bank.id,
                            'debit': Decimal(0), 'credit': Decimal(1),
                            }])
            # The household line must be for a household and in whole points
            with self.assertRaises(UserError):
                move([{
                            'account': config.points_account.id,
                            'party': company.party.id,
                            'credit': Decimal(5), 'debit': Decimal(0),
                            'second_currency':
                            config.points_account.second_currency.id,
                            'amount_second_currency': Decimal(-5),
                            }, {
                            'account': config.points_expense_account.id,
                            'debit': Decimal(5), 'credit': Decimal(0),
                            }])
            # Funding the programme through the bank stays possible
            funded, = move([{
                        'account': bank.id,
                        'debit': Decimal(1000), 'credit': Decimal(0),
                        }, {
                        'account': funding.id,
                        'debit': Decimal(0), 'credit': Decimal(1000),
                        }])
            Move.post([funded])
            # No reconciliation (hence no payment) of household points
            credit_line, = [l for l in credit.lines
                if l.account == config.points_account]
            reversal, = Ledger.reverse([credit], "x")
            reversal_line, = [l for l in reversal.lines
                if l.account == config.points_account]
            with self.assertRaises(UserError):
                Line.reconcile([credit_line, reversal_line])

    @with_transaction()
    def test_statement(self):
        "The statement shows opening, running and closing balances, as PDF"
        pool = Pool()
        Ledger = pool.get('huinong.points.ledger')
        Statement = pool.get(
            'huinong.points.statement.report', type='report')
        company = create_programme_company()
        today = self._today()
        with set_company(company):
            setup_ledger(company, dt.date(today.year - 1, 12, 1))
            setup_ledger(company)
            h1, h2 = self._households(2)
            old = dt.date(today.year - 1, 12, 20)
            Ledger.credit([(h1, Decimal(30))], old, "去年12月")
            move = Ledger.credit(
                [(h1, Decimal(110)), (h2, Decimal(68))], today, "本月")
            Ledger.reverse([move], "录错")
            Ledger.credit([(h1, Decimal(100))], today, "本月更正",
                post=False)
            from_date = today.replace(month=1, day=1)
            statements = Statement.get_statements(
                [h1.id, h2.id], from_date, today)
            s1 = statements[h1.id]
            self.assertEqual(s1['opening'], Decimal(30))
            self.assertEqual(
                [l['balance'] for l in s1['lines']],
                [Decimal(140), Decimal(30), Decimal(130)])
            self.assertEqual(
                (s1['credit'], s1['debit'], s1['closing']),
                (Decimal(210), Decimal(110), Decimal(130)))
            self.assertEqual(s1['closing'], h1.huinong_points_balance)
            self.assertFalse(s1['lines'][-1]['posted'])
            self.assertEqual(statements[h2.id]['closing'], Decimal(0))

            ext, content, _, name = Statement.execute([h1.id, h2.id], {
                    'model': 'party.party',
                    'from_date': from_date, 'to_date': today,
                    })
            self.assertEqual(ext, 'pdf')
            self.assertTrue(bytes(content).startswith(b'%PDF'))


del ModuleTestCase
