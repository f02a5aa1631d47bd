# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The reconciliation check: OK on consistent books, then each invariant
broken on purpose (an SQL update under a savepoint, as a bug or a hand
edit of the database would) and found, then repaired."""
from contextlib import contextmanager
from decimal import Decimal

from trytond.model.exceptions import AccessError
from trytond.modules.company.tests import set_company
from trytond.modules.huinong.tests.tools import (
    DatabaseTestCase, SharedFixtureMixin, with_transaction)
from trytond.pool import Pool
from trytond.tests.test_tryton import TestCase
from trytond.transaction import Transaction, check_access

from .tools import books

class ReconcileTestCase(SharedFixtureMixin, DatabaseTestCase, TestCase):
    "Test the reconciliation check"
    fixture = staticmethod(books)
    module = 'huinong_settlement'

    @contextmanager
    def broken(self, *queries):
        """Run the SQL queries under a savepoint, forget what the
        transaction cached, and roll them back after the block"""
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        cursor.execute('SAVEPOINT reconcile_test')
        try:
            for query in queries:
                cursor.execute(*query)
            self._forget()
            yield
        finally:
            cursor.execute('ROLLBACK TO SAVEPOINT reconcile_test')
            self._forget()

    def _forget(self):
        transaction = Transaction()
        transaction.counter += 1
        for cache in transaction.cache.values():
            cache.clear()

    def check(self, *names):
        Reconciliation = Pool().get('huinong.settlement.reconciliation')
        return Reconciliation.check(list(names) or None)

    def assertFound(self, differences, check, record, expected, found):
        self.assertIn((check, str(record), expected, found),
            [(d.check, d.record, d.expected, d.found) for d in differences],
            msg='\n'.join(d.message for d in differences))

    @with_transaction()
    def test_ok(self):
        "Consistent books: no difference, the wizard says OK"
        pool = Pool()
        Reconcile = pool.get('huinong.settlement.reconcile', type='wizard')
        Reconciliation = pool.get('huinong.settlement.reconciliation')
        c = self.shared()
        with set_company(c['company']):
            self.assertEqual(Reconciliation.check(), [])
            figures = Reconciliation.household_figures(
                pool.get('huinong.configuration')(1))
            first, second = c['households']
            self.assertEqual(
                {k: figures[first.id][k] for k in [
                        'credited', 'adjusted', 'redeemed',
                        'transferred_out', 'transferred_in', 'balance']},
                {'credited': 40, 'adjusted': 500, 'redeemed': 60 + 5 + 40,
                    'transferred_out': 15, 'transferred_in': 0,
                    'balance': 40 + 500 - 105 - 15})
            self.assertEqual(figures[second.id]['balance'],
                25 + 500 - 30 + 15)

            session_id, _, _ = Reconcile.create()
            wizard = Reconcile(session_id)
            self.assertEqual(wizard.transition_check(), 'result')
            result = wizard.default_result(['ok', 'count', 'report'])
        self.assertEqual(result['count'], 0)
        self.assertTrue(result['ok'])
        self.assertIn('OK', result['report'])

    @with_transaction()
    def test_discarded_draft(self):
        """A basket given up at the counter is no difference; a done
        redemption without its moves still is"""
        pool = Pool()
        Redemption = pool.get('huinong.redemption')
        c = self.shared()
        rice = c['products'][0]
        with set_company(c['company']):
            draft, = Redemption.create([{
                        'store': c['store'].id,
                        'card': c['cards'][0].id,
                        'lines': [('create', [{
                                        'kind': 'goods',
                                        'product': rice.id,
                                        'quantity': 2,
                                        'unit_points': Decimal(30),
                                        'points': Decimal(60),
                                        }])],
                        }])
            Redemption.discard([draft])
            self.assertEqual(Redemption(draft.id).state, 'cancelled')
            self.assertEqual(self.check(), [])
            # a done one that lost its ledger move is found
            done = c['r1']
            table = Redemption.__table__()
            with self.broken(table.update([table.ledger_move], [None],
                        where=table.id == done.id)):
                self.assertIn(str(Redemption(done.id)),
                    [d.record for d in self.check()])

    @with_transaction()
    def test_access(self):
        "County office, finance bureau and auditors run it; a clerk not"
        pool = Pool()
        Reconcile = pool.get('huinong.settlement.reconcile', type='wizard')
        c = self.shared()
        for user in [c['county'], c['finance']]:
            with Transaction().set_user(user.id), check_access():
                session_id, _, _ = Reconcile.create()
                result = Reconcile.execute(session_id, {}, 'check')
            self.assertEqual(
                result['view']['defaults']['count'], 0, msg=user.login)
        for user in [c['clerk'], c['office']]:
            with Transaction().set_user(user.id), check_access():
                with self.assertRaises(AccessError):
                    Reconcile.create()

    @with_transaction()
    def test_break_each(self):
        "Each invariant broken on purpose is found, and only where broken"
        pool = Pool()
        Score = pool.get('huinong.evaluation.score')
        EvaluationLine = pool.get('huinong.evaluation.line')
        Redemption = pool.get('huinong.redemption')
        RedemptionLine = pool.get('huinong.redemption.line')
        StockMove = pool.get('stock.move')
        MoveLine = pool.get('account.move.line')
        Settlement = pool.get('huinong.settlement')
        Transfer = pool.get('huinong.points.transfer')
        Configuration = pool.get('huinong.configuration')
        c = self.shared()
        config = Configuration(1)
        payable = config.points_payable_account
        first, second = c['households']
        sheet, settlement = c['sheet'], c['settlement']
        r1, r2, r4, r5 = c['r1'], c['r2'], c['r4'], c['r5']
        store = c['store']
        rice, oil, soap = c['products']
        score = Score.__table__()
        eline = EvaluationLine.__table__()
        redemption = Redemption.__table__()
        rline = RedemptionLine.__table__()
        move = StockMove.__table__()
        mline = MoveLine.__table__()
        settlement_t = Settlement.__table__()
        transfer_t = Transfer.__table__()
        first_line, = [l for l in sheet.lines if l.household == first]

        with set_company(c['company']):
            self.assertEqual(self.check(), [])

            # A score edited after posting: the sheet no longer equals its
            # move, nor the household its balance
            with self.broken(score.update([score.score], [score.score + 5],
                        where=score.line.in_(eline.select(eline.id,
                                where=eline.id == first_line.id)))):
                differences = self.check()
                self.assertFound(differences, 'evaluation', sheet, 70, 65)
                self.assertFound(differences, 'household', first,
                    45 + 500 - 105 - 15, 40 + 500 - 105 - 15)
                self.assertEqual(len(differences), 2)

            # A redemption's payable line edited
            with self.broken(mline.update([mline.credit], [Decimal(50)],
                        where=(mline.move == r1.ledger_move.id)
                        & (mline.account == payable.id))):
                differences = self.check()
                self.assertFound(differences, 'redemption', r1, 60, 60)
                # and the paid settlement no longer equals the ledger
                self.assertFound(differences, 'settlement', settlement,
                    90, 80)
                self.assertEqual(len(differences), 2)

            # A done redemption without its ledger move
            with self.broken(redemption.update([redemption.ledger_move],
                        [None], where=redemption.id == r4.id)):
                differences = self.check('redemption')
                self.assertFound(
                    differences, 'redemption_move', r4, 40, 0)

            # A cancelled redemption whose reversal was lost
            with self.broken(redemption.update([redemption.cancel_move],
                        [None], where=redemption.id == r5.id)):
                differences = self.check('redemption')
                self.assertFound(
                    differences, 'redemption_cancel', r5, 30, 0)

            # A redemption line whose stock move moved one rice, not two:
            # the redemption and the store's rice are off
            rice_move = r1.lines[0].stock_move
            with self.broken(move.update(
                        [move.quantity, move.internal_quantity], [1.0, 1.0],
                        where=move.id == rice_move.id)):
                differences = self.check()
                self.assertFound(differences, 'redemption_stock', r1, 0, 1)
                self.assertFound(differences, 'stock', store,
                    Decimal(2), Decimal(1))
                self.assertEqual(len(differences), 2)

            # The goods of the cancelled redemption never came back
            return_move, = StockMove.search([
                    ('origin', '=', str(r5.lines[0])),
                    ('to_location', '=', store.storage_location.id),
                    ])
            with self.broken(move.update([move.state], ['cancelled'],
                        where=move.id == return_move.id)):
                differences = self.check()
                self.assertFound(differences, 'stock', store,
                    Decimal(2), Decimal(3))
                self.assertEqual(len(differences), 1)

            # A redemption line's points edited: the ledger move no longer
            # equals it, nor the household its balance
            oil_line, = [l for l in r2.lines if l.product == oil]
            with self.broken(rline.update([rline.points], [Decimal(25)],
                        where=rline.id == oil_line.id)):
                differences = self.check()
                self.assertFound(differences, 'redemption', r2, 35, 30)
                self.assertFound(differences, 'household', second,
                    25 + 500 - 35 + 15, 25 + 500 - 30 + 15)
                self.assertEqual(len(differences), 2)

            # A settlement's figure edited after payment
            with self.broken(settlement_t.update(
                        [settlement_t.system_points], [Decimal(95)],
                        where=settlement_t.id == settlement.id)):
                differences = self.check()
                self.assertFound(differences, 'settlement', settlement,
                    95, 90)
                self.assertFound(differences, 'settlement_invoice',
                    settlement, Decimal('95.00'), Decimal('90.00'))
                self.assertEqual(len(differences), 2)

            # A paid invoice, the settlement still approved
            with self.broken(settlement_t.update(
                        [settlement_t.state], ['approved'],
                        where=settlement_t.id == settlement.id)):
                differences = self.check('settlement')
                self.assertEqual(
                    [d.check for d in differences], ['settlement_paid'])

            # A transfer's document edited: both households are off
            with self.broken(transfer_t.update(
                        [transfer_t.points], [Decimal(20)],
                        where=transfer_t.id == c['transfer'].id)):
                differences = self.check()
                self.assertFound(differences, 'household', first,
                    40 + 500 - 105 - 20, 40 + 500 - 105 - 15)
                self.assertFound(differences, 'household', second,
                    25 + 500 - 30 + 20, 25 + 500 - 30 + 15)
                self.assertEqual(len(differences), 2)

            # Repaired (rolled back): OK again
            self.assertEqual(self.check(), [])
