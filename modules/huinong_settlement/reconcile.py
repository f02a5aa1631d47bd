# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The reconciliation check: the books against the documents.

Five invariants, each read with a few grouped queries (no record per
row), compared in Python on dictionaries keyed by document:

evaluation   every posted evaluation sheet's total equals what its move
             credits the household points account;
redemption   every done (or cancelled) redemption has its ledger move with
             its points on both sides (household points and store
             redemptions payable), a cancelled one its reversing move, and
             each goods line its done stock move of the same product and
             quantity out of the store;
stock        the goods leaving each store for redemptions, less what came
             back, equal the store's done redemption lines, per product;
settlement   each computed settlement equals the ledger of its moves, and
             the invoice of an approved one its amount;
household    credited − redeemed − transferred out + transferred in =
             the ledger balance, for every household (credited: the posted
             sheets' lines, plus the ledger's other credits and
             corrections, which have no other document).
"""
from collections import defaultdict, namedtuple
from decimal import Decimal

from sql import Literal, Null
from sql.aggregate import Sum
from sql.conditionals import Case, Coalesce
from sql.operators import Like

from trytond.i18n import gettext
from trytond.model import Model, ModelView, fields
from trytond.pool import Pool
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .settlement import points_value as _points, redemption_moves

CHECKS = ['evaluation', 'redemption', 'stock', 'settlement', 'household']

Difference = namedtuple(
    'Difference', ['check', 'record', 'expected', 'found', 'message'])


def _quantity(value):
    "A stock quantity (a float column) rounded as units"
    return Decimal(str(round(float(value or 0), 4))).normalize()


class Reconciliation(Model):
    "Reconciliation of the Books with the Documents"
    __name__ = 'huinong.settlement.reconciliation'

    @classmethod
    def check(cls, checks=None):
        """Return the list of Difference of the checks (all by default),
        the records named in the user's language; empty when the books
        agree with the documents"""
        pool = Pool()
        Configuration = pool.get('huinong.configuration')
        config = Configuration(1)
        if not config.points_account or not config.points_payable_account:
            return []
        differences = []
        with without_check_access():
            for name in checks or CHECKS:
                differences.extend(getattr(cls, 'check_%s' % name)(config))
        return differences

    @classmethod
    def _difference(cls, check, record, expected, found, **values):
        message = gettext('huinong_settlement.msg_reconcile_%s' % check,
            record=record.rec_name, expected=expected, found=found,
            **values)
        return Difference(check, str(record), expected, found, message)

    # evaluation ----------------------------------------------------------

    @classmethod
    def check_evaluation(cls, config):
        pool = Pool()
        Evaluation = pool.get('huinong.evaluation')
        EvaluationLine = pool.get('huinong.evaluation.line')
        Score = pool.get('huinong.evaluation.score')
        MoveLine = pool.get('account.move.line')
        cursor = Transaction().connection.cursor()

        evaluation = Evaluation.__table__()
        line = EvaluationLine.__table__()
        score = Score.__table__()
        cursor.execute(*evaluation.join(line, 'LEFT',
                condition=line.evaluation == evaluation.id
                ).join(score, 'LEFT', condition=score.line == line.id
                ).select(
                evaluation.id, Sum(score.score),
                where=evaluation.state == 'posted',
                group_by=[evaluation.id]))
        sheets = {e: _points(p) for e, p in cursor}

        evaluation = Evaluation.__table__()
        move_line = MoveLine.__table__()
        cursor.execute(*evaluation.join(move_line,
                condition=move_line.move == evaluation.move
                ).select(
                evaluation.id,
                Sum(move_line.credit - move_line.debit),
                where=(evaluation.state == 'posted')
                & (move_line.account == config.points_account.id),
                group_by=[evaluation.id]))
        credited = {e: _points(p) for e, p in cursor}

        differences = []
        for evaluation_id, points in sorted(sheets.items()):
            found = credited.get(evaluation_id, _points(0))
            if found != points:
                differences.append(cls._difference('evaluation',
                        Evaluation(evaluation_id), points, found))
        return differences

    # redemption ----------------------------------------------------------

    @classmethod
    def check_redemption(cls, config):
        pool = Pool()
        Redemption = pool.get('huinong.redemption')
        RedemptionLine = pool.get('huinong.redemption.line')
        Location = pool.get('stock.location')
        StockMove = pool.get('stock.move')
        MoveLine = pool.get('account.move.line')
        cursor = Transaction().connection.cursor()
        points_id = config.points_account.id
        payable_id = config.points_payable_account.id

        # The lines: points, and the goods lines whose stock move is not
        # what the line says
        redemption = Redemption.__table__()
        line = RedemptionLine.__table__()
        store = Location.__table__()
        move = StockMove.__table__()
        goods = line.kind == 'goods'
        bad_move = goods & (
            (move.id == Null)
            | (move.state != 'done')
            | (move.product != line.product)
            | (move.quantity - line.quantity != 0)
            | (move.from_location != store.storage_location))
        cursor.execute(*redemption.join(store,
                condition=store.id == redemption.store
                ).join(line, 'LEFT', condition=line.redemption == redemption.id
                ).join(move, 'LEFT', condition=move.id == line.stock_move
                ).select(
                redemption.id, redemption.state,
                redemption.ledger_move, redemption.cancel_move,
                Sum(Coalesce(line.points, 0)),
                Sum(Case((bad_move, Literal(1)), else_=Literal(0))),
                # done, or cancelled once done; a draft given up at the
                # counter (discarded) never moved anything
                where=(redemption.state == 'done')
                | ((redemption.state == 'cancelled')
                    & (redemption.done_at != Null)),
                group_by=[redemption.id, redemption.state,
                    redemption.ledger_move, redemption.cancel_move]))
        documents = {r: (s, m, c, _points(p), b or 0)
            for r, s, m, c, p, b in cursor}

        # What each of their moves books on both accounts
        moves = redemption_moves()
        move_line = MoveLine.__table__()
        cursor.execute(*moves.join(move_line,
                condition=move_line.move == moves.move
                ).select(
                move_line.move,
                Sum(Case((move_line.account == points_id,
                            move_line.debit - move_line.credit),
                        else_=Literal(0))),
                Sum(Case((move_line.account == payable_id,
                            move_line.credit - move_line.debit),
                        else_=Literal(0))),
                group_by=[move_line.move]))
        booked = {m: (_points(d), _points(c)) for m, d, c in cursor}

        differences = []
        zero = _points(0)
        for redemption_id, (state, move_id, cancel_id, points, bad) in sorted(
                documents.items()):
            record = Redemption(redemption_id)  # an instance, not a read
            if not move_id and points:
                differences.append(cls._difference('redemption_move',
                        record, points, zero))
            elif move_id:
                debit, credit = booked.get(move_id, (zero, zero))
                if debit != points or credit != points:
                    differences.append(cls._difference('redemption',
                            record, points, debit, payable=credit))
            if state == 'cancelled' and move_id:
                debit, credit = booked.get(cancel_id, (zero, zero))
                if not cancel_id or debit != -points or credit != -points:
                    differences.append(cls._difference('redemption_cancel',
                            record, points, -debit, payable=-credit))
            if bad:
                differences.append(cls._difference('redemption_stock',
                        record, 0, bad))
        return differences

    # stock ---------------------------------------------------------------

    @classmethod
    def check_stock(cls, config):
        pool = Pool()
        Redemption = pool.get('huinong.redemption')
        RedemptionLine = pool.get('huinong.redemption.line')
        Location = pool.get('stock.location')
        StockMove = pool.get('stock.move')
        Product = pool.get('product.product')
        cursor = Transaction().connection.cursor()

        redemption = Redemption.__table__()
        line = RedemptionLine.__table__()
        cursor.execute(*line.join(redemption,
                condition=redemption.id == line.redemption
                ).select(
                redemption.store, line.product, Sum(line.quantity),
                where=(redemption.state == 'done') & (line.kind == 'goods'),
                group_by=[redemption.store, line.product]))
        expected = {(s, p): _quantity(q) for s, p, q in cursor}

        # The stock moves of redemption lines, whatever their document
        # says: out of a store's storage, and back into it
        store = Location.__table__()
        move = StockMove.__table__()
        out = move.from_location == store.storage_location
        back = move.to_location == store.storage_location
        cursor.execute(*move.join(store,
                condition=out | back
                ).select(
                store.id, move.product,
                Sum(Case((out, move.quantity), else_=-move.quantity)),
                where=Like(move.origin, 'huinong.redemption.line,%')
                & (move.state == 'done')
                & (store.huinong_store == Literal(True))
                & (store.type == 'warehouse'),
                group_by=[store.id, move.product]))
        moved = {(s, p): _quantity(q) for s, p, q in cursor}

        differences = []
        for key in sorted(set(expected) | set(moved)):
            wanted = expected.get(key, _quantity(0))
            found = moved.get(key, _quantity(0))
            if wanted != found:
                store_id, product_id = key
                differences.append(cls._difference('stock',
                        Location(store_id), wanted, found,
                        product=Product(product_id).rec_name))
        return differences

    # settlement ----------------------------------------------------------

    @classmethod
    def check_settlement(cls, config):
        pool = Pool()
        Settlement = pool.get('huinong.settlement')
        SettlementMove = pool.get('huinong.settlement.move')
        Invoice = pool.get('account.invoice')
        MoveLine = pool.get('account.move.line')
        cursor = Transaction().connection.cursor()
        payable_id = config.points_payable_account.id

        settlement = Settlement.__table__()
        sm = SettlementMove.__table__()
        move_line = MoveLine.__table__()
        cursor.execute(*settlement.join(sm, 'LEFT',
                condition=sm.settlement == settlement.id
                ).join(move_line, 'LEFT',
                condition=(move_line.move == sm.move)
                & (move_line.account == payable_id)
                ).select(
                settlement.id, settlement.system_points,
                Sum(Coalesce(move_line.credit, 0)
                    - Coalesce(move_line.debit, 0)),
                where=settlement.computed_at != Null,
                group_by=[settlement.id, settlement.system_points]))
        figures = [(s, _points(p), _points(f)) for s, p, f in cursor]

        differences = []
        for settlement_id, system, ledger in sorted(figures):
            if system != ledger:
                differences.append(cls._difference('settlement',
                        Settlement(settlement_id), system, ledger))
        settlements = Settlement.search([
                ('state', 'in', ['approved', 'paid']),
                ])
        for settlement in settlements:
            amount = settlement.on_change_with_amount() or Decimal(0)
            invoice = settlement.invoice
            found = invoice.total_amount if invoice else Decimal(0)
            if (not invoice or invoice.state not in {'posted', 'paid'}
                    or found != amount):
                differences.append(cls._difference('settlement_invoice',
                        settlement, amount, found))
            elif (settlement.state == 'paid') != (invoice.state == 'paid'):
                differences.append(cls._difference('settlement_paid',
                        settlement, settlement.state_string,
                        dict(Invoice.fields_get(['state'])['state'][
                                'selection'])[invoice.state]))
        return differences

    # household -----------------------------------------------------------

    @classmethod
    def household_figures(cls, config):
        """Return {household id: {credited, adjusted, redeemed,
        transferred_out, transferred_in, balance}} of every household with
        any of them"""
        pool = Pool()
        Evaluation = pool.get('huinong.evaluation')
        EvaluationLine = pool.get('huinong.evaluation.line')
        Score = pool.get('huinong.evaluation.score')
        Redemption = pool.get('huinong.redemption')
        RedemptionLine = pool.get('huinong.redemption.line')
        Transfer = pool.get('huinong.points.transfer')
        Move = pool.get('account.move')
        MoveLine = pool.get('account.move.line')
        Party = pool.get('party.party')
        cursor = Transaction().connection.cursor()
        figures = defaultdict(lambda: defaultdict(lambda: _points(0)))

        def read(name, query):
            cursor.execute(*query)
            for household, value in cursor:
                if household is not None:
                    figures[household][name] += _points(value)

        evaluation = Evaluation.__table__()
        line = EvaluationLine.__table__()
        score = Score.__table__()
        read('credited', line.join(evaluation,
                condition=evaluation.id == line.evaluation
                ).join(score, condition=score.line == line.id
                ).select(line.household, Sum(score.score),
                where=evaluation.state == 'posted',
                group_by=[line.household]))

        # Corrections, reversals and credits of no sheet: only the ledger
        # has them
        move = Move.__table__()
        move_line = MoveLine.__table__()
        moves = redemption_moves()
        read('adjusted', move_line.join(move,
                condition=move.id == move_line.move
                ).join(moves, 'LEFT', condition=moves.move == move.id
                ).select(move_line.party,
                Sum(move_line.credit - move_line.debit),
                where=(move_line.account == config.points_account.id)
                & (move_line.party != Null)
                & ((move.origin == Null)
                    | (~Like(move.origin, 'huinong.evaluation,%')
                        & ~Like(move.origin, 'huinong.points.transfer,%')))
                # not a redemption's: an anti-join, not NOT IN (whose
                # subplan outgrows memory as the months add up)
                & (moves.move == Null),
                group_by=[move_line.party]))

        redemption = Redemption.__table__()
        line = RedemptionLine.__table__()
        read('redeemed', line.join(redemption,
                condition=redemption.id == line.redemption
                ).select(redemption.household, Sum(line.points),
                where=redemption.state == 'done',
                group_by=[redemption.household]))

        for name, column in [
                ('transferred_out', 'from_household'),
                ('transferred_in', 'to_household')]:
            transfer = Transfer.__table__()
            read(name, transfer.select(
                    getattr(transfer, column), Sum(transfer.points),
                    where=transfer.state == 'approved',
                    group_by=[getattr(transfer, column)]))

        read('balance', Party._huinong_points_balance_query())
        return figures

    @classmethod
    def check_household(cls, config):
        Party = Pool().get('party.party')
        differences = []
        for household_id, f in sorted(cls.household_figures(config).items()):
            expected = (f['credited'] + f['adjusted'] - f['redeemed']
                - f['transferred_out'] + f['transferred_in'])
            if expected != f['balance']:
                differences.append(cls._difference('household',
                        Party(household_id), expected, f['balance'],
                        credited=f['credited'] + f['adjusted'],
                        redeemed=f['redeemed'],
                        transferred_out=f['transferred_out'],
                        transferred_in=f['transferred_in']))
        return differences


class ReconcileStart(ModelView):
    "Reconciliation Check"
    __name__ = 'huinong.settlement.reconcile.start'


class ReconcileResult(ModelView):
    "Reconciliation Check"
    __name__ = 'huinong.settlement.reconcile.result'

    ok = fields.Boolean("Books Agree", readonly=True)
    count = fields.Integer("Differences", readonly=True)
    report = fields.Text("Result", readonly=True)


class Reconcile(Wizard):
    "Reconciliation Check"
    __name__ = 'huinong.settlement.reconcile'

    start = StateView('huinong.settlement.reconcile.start',
        'huinong_settlement.reconcile_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Check", 'check', 'tryton-ok', default=True),
            ])
    check = StateTransition()
    result = StateView('huinong.settlement.reconcile.result',
        'huinong_settlement.reconcile_result_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def transition_check(self):
        return 'result'

    def default_result(self, fields):
        Reconciliation = Pool().get('huinong.settlement.reconciliation')
        differences = Reconciliation.check()
        if differences:
            report = '\n'.join(d.message for d in differences)
        else:
            report = gettext('huinong_settlement.msg_reconcile_ok')
        return {
            'ok': not differences,
            'count': len(differences),
            'report': report,
            }
