#!/usr/bin/env python3
# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Settlement benchmark: the month's settlements, statistics and
reconciliation of a county with a year of history.

    .venv/bin/python bench/settlement.py [--households 50000]
        [--lines 100000] [--products 500] [--keep]
        [--uri postgresql://postgres@127.0.0.1:5432/] [-d NAME]

Builds, in this process, a PostgreSQL database with huinong_settlement
(`bench_settlement_<pid>`, dropped at the end unless --keep) and:

- N households in villages of about 400 over the 11 townships, one store
  per township with its clerk, P goods with their points price and stock
  in every store, an issued card per household and 2,000 points credited
  today (bench/month_end.py's and bench/redemption.py's helpers; the
  prices, the opening stock and the cards are dated back to the start of
  the history, the counter would refuse the redemptions before them);
- a year of history: for each of the 12 months before the month M (the
  month before the current one), one sheet per village scored on the 25th
  (through the ORM; its lines, one per eligible household, and its scores
  by INSERT ... SELECT), published, and credited on the 4th of the month
  after as Evaluation._post does as root: one move per sheet made and
  posted by the ledger's own methods, its lines (Dr points expense, Cr
  each household) written by one INSERT ... SELECT of Ledger's rows, the
  sheet written posted (Evaluation._post itself takes a minute a month at
  this size);
- in M, --lines redemption lines (1 to 5 a redemption, 3 on average) at
  the 11 stores, for random households of the store's township with the
  points (credited before M), random goods, quantities 1-3, written by
  COPY exactly as the counter writes them (Redemption._confirm, _do_stock,
  Ledger.redeem): the done redemption and its lines, a done stock move per
  line out of the store, one draft move of the points journal per
  redemption (Dr household points / Cr store redemptions payable, party
  the store's operator), the stores' stock lock rows.

Then it times, each in its own transaction as root in the programme's
company: Settlement.create_month (the 11 draft settlements of M, computed),
the monthly statistics per township of M, and the reconciliation check
(which must find no difference). The last line is

    settlement settle_s=... stats_s=... reconcile_s=... lines=...
        households=...
"""
import argparse
import datetime as dt
import functools
import os
import random
import sys
import time
from collections import Counter
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, 'scripts'))
sys.path.insert(0, HERE)

import setup_db  # noqa: E402  (standard library only at import)
import month_end  # noqa: E402  (idem)
import redemption as redemption_bench  # noqa: E402  (idem)

HISTORY_MONTHS = 12
# Lines of a redemption: 3 on average
BASKET_SIZES = [1, 2, 3, 3, 4, 5]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--households', type=int, default=50000)
    parser.add_argument('--lines', type=int, default=100000,
        help="redemption lines of the month (default %(default)s)")
    parser.add_argument('--products', type=int, default=500,
        help="goods (default %(default)s)")
    parser.add_argument('--uri', default=os.environ.get(
            'TRYTOND_DATABASE_URI', 'postgresql://postgres@127.0.0.1:5432/'))
    parser.add_argument('-d', '--database',
        default='bench_settlement_%d' % os.getpid())
    parser.add_argument('--keep', action='store_true',
        help="keep the database at the end")
    return parser.parse_args(argv)


def log(message, *args):
    print('[settlement] ' + (message % args if args else message),
        file=sys.stderr, flush=True)


def add_months(date, months):
    "The first day of the month `months` after date's (negative: before)"
    index = date.year * 12 + date.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def history(month):
    """[(scoring date, notice end, posting date)] of the sheets of the
    HISTORY_MONTHS months before month, as the demo data does them: scored
    on the 25th, on notice until the 27th, credited on the 4th of the
    month after"""
    result = []
    for k in range(HISTORY_MONTHS, 0, -1):
        first = add_months(month, -k)
        scoring = first.replace(day=25)
        result.append((scoring, scoring + dt.timedelta(days=2),
                add_months(first, 1).replace(day=4)))
    return result


def company_id():
    from trytond.pool import Pool
    return Pool().get('huinong.configuration')(1).points_company.id


def backdate_county(date):
    """bench/redemption.py's county is made for today: its points prices
    and opening stock are of 30 days ago, its cards issued today. The
    counter would refuse the month's redemptions before them, so date them
    back to the start of the history."""
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool()
    PointsPrice = pool.get('huinong.product.points_price')
    Move = pool.get('stock.move')
    Location = pool.get('stock.location')
    Card = pool.get('huinong.card')
    cursor = Transaction().connection.cursor()
    price = PointsPrice.__table__()
    cursor.execute(*price.update([price.effective_date], [date]))
    move = Move.__table__()
    location = Location.__table__()
    cursor.execute(*move.update(
            [move.effective_date, move.planned_date], [date, date],
            where=move.from_location.in_(location.select(location.id,
                    where=location.type == 'supplier'))))
    card = Card.__table__()
    cursor.execute(*card.update([card.issue_date], [date]))


def create_fiscalyears(dates):
    from trytond.pool import Pool
    pool = Pool()
    Ledger = pool.get('huinong.points.ledger')
    company = Ledger.config().points_company
    for date in dates:
        Ledger.create_fiscalyear(company, date)


def create_month_sheets(scoring, notice_end):
    """One sheet per village scored at scoring (through the ORM), with a
    line per eligible household (what Evaluation.eligible_households
    returns: active households of the village with a class at that date,
    in name order) and a score per criterion, written by INSERT ... SELECT,
    then published with the notice ending at notice_end (as
    bench/month_end.py's create_sheets, without a query per village).
    The scores, from the line ids, stay under the monthly and yearly caps
    of both classes (under 60 a month). Return (sheets, lines)."""
    from sql import Column, Literal
    from sql.conditionals import Coalesce
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool()
    Area = pool.get('huinong.area')
    Evaluation = pool.get('huinong.evaluation')
    Line = pool.get('huinong.evaluation.line')
    Score = pool.get('huinong.evaluation.score')
    Criterion = pool.get('huinong.evaluation.criterion')
    Party = pool.get('party.party')
    Class = pool.get('huinong.household.class')
    transaction = Transaction()
    cursor = transaction.connection.cursor()
    villages = Area.search([('type', '=', 'village')], order=[('id', 'ASC')])
    sheets = Evaluation.create([{
                'village': v.id, 'date': scoring} for v in villages])
    sheet_ids = [s.id for s in sheets]
    now = dt.datetime.now()
    user = transaction.user

    evaluation = Evaluation.__table__()
    line = Line.__table__()
    party = Party.__table__()
    class_ = Class.__table__()
    cursor.execute(*line.insert(
            [line.evaluation, line.household, line.classification,
                line.create_uid, line.create_date],
            evaluation.join(party,
                condition=(party.huinong_village == evaluation.village)
                & (party.huinong_household == Literal(True))
                & (party.active == Literal(True))
                ).join(class_,
                condition=(class_.household == party.id)
                & (class_.start_date <= scoring)
                & (Coalesce(class_.end_date, dt.date.max) >= scoring)
                ).select(evaluation.id, party.id, class_.classification,
                Literal(user), Literal(now),
                where=evaluation.id.in_(sheet_ids),
                order_by=[evaluation.id, party.name, party.id])))
    lines = cursor.rowcount
    score = Score.__table__()
    salt = scoring.month
    for k, criterion in enumerate(Criterion.search([])):
        bound = min(int(criterion.maximum), 30 >> k) + 1
        line = Line.__table__()
        cursor.execute(*score.insert(
                [score.line, score.criterion, score.score, score.create_uid,
                    score.create_date],
                line.select(line.id, Literal(criterion.id),
                    (line.id * (37 + 16 * k) + salt) % bound,
                    Literal(user), Literal(now),
                    where=line.evaluation.in_(sheet_ids))))
    cursor.execute(*evaluation.update(
            [evaluation.state, Column(evaluation, 'notice_start'),
                Column(evaluation, 'notice_end')],
            ['published', notice_end - dt.timedelta(days=2), notice_end],
            where=evaluation.id.in_(sheet_ids)))
    return len(sheets), lines


def credit_sheets(scoring, posting):
    """Credit the published sheets scored at scoring on the posting date
    as Evaluation._post does as root (one move per sheet by the ledger:
    Dr points expense / Cr each household its points, validated and
    posted; the sheet written posted with its move), the move lines of
    each sheet in one INSERT ... SELECT instead of a row per household
    from Python, and the moves posted together. No cap check: the scores
    are made under the caps. Return the number of sheets."""
    from sql import Literal
    from sql.aggregate import Sum
    from trytond.i18n import gettext
    from trytond.pool import Pool
    from trytond.transaction import Transaction, without_check_access
    pool = Pool()
    Evaluation = pool.get('huinong.evaluation')
    Line = pool.get('huinong.evaluation.line')
    Score = pool.get('huinong.evaluation.score')
    Move = pool.get('account.move')
    MoveLine = pool.get('account.move.line')
    Period = pool.get('account.period')
    Ledger = pool.get('huinong.points.ledger')
    transaction = Transaction()
    cursor = transaction.connection.cursor()
    config = Ledger.config()
    company = config.points_company
    # The post numbering's lock first: trytond restarts the transaction
    # to take it, better before anything is done
    period = Period.find(company, date=posting)
    period.move_sequence_used.lock()
    with without_check_access():
        sheets = Evaluation.search([
                ('state', '=', 'published'),
                ('date', '=', scoring),
                ], order=[('id', 'ASC')])
    line = Line.__table__()
    score = Score.__table__()
    cursor.execute(*line.join(score, condition=score.line == line.id
            ).select(line.evaluation, Sum(score.score),
            where=line.evaluation.in_([s.id for s in sheets]),
            group_by=[line.evaluation]))
    totals = {e: Decimal(t) for e, t in cursor if t}
    credited = [s for s in sheets if s.id in totals]
    moves = [Ledger._move(posting, gettext(
                'huinong_points.msg_evaluation_move_description',
                evaluation=s.rec_name), s) for s in credited]
    Move.save(moves)
    MoveLine.check_journal_period_modify(period, config.points_journal)

    # Ledger.credit's rows: the expense, then a household per line
    table = MoveLine.__table__()
    defaults = Ledger._line_defaults()
    now = dt.datetime.now()
    user = transaction.user
    for sheet, move in zip(credited, moves):
        rows = {
            'expense': Ledger._expense_row(config, totals[sheet.id]),
            'household': Ledger._household_row(config, 0, Decimal(1)),
            }
        names = sorted(set(defaults) | set(rows['expense']))
        columns = [getattr(table, n) for n in names] + [
            table.move, table.create_uid, table.create_date]
        values = dict(defaults, **rows['expense'])
        cursor.execute(*table.insert(columns, [
                    [values[n] for n in names] + [move.id, user, now]]))
        line = Line.__table__()
        score = Score.__table__()
        points = Sum(score.score)
        household = {n: Literal(v) for n, v in dict(
                defaults, **rows['household']).items()}
        household.update({
                'party': line.household,
                'credit': points,
                'amount_second_currency': -points,
                })
        cursor.execute(*table.insert(columns, line.join(score,
                    condition=score.line == line.id
                    ).select(*[household[n] for n in names],
                    Literal(move.id), Literal(user), Literal(now),
                    where=line.evaluation == sheet.id,
                    group_by=[line.id, line.household],
                    having=points > 0,
                    order_by=[line.id])))
    transaction.counter += 1
    for cache in transaction.cache.values():
        cache.pop(MoveLine.__name__, None)
    moves = Move.browse([m.id for m in moves])
    Move.validate_move(moves)
    Move.check_huinong_points(moves)
    Move.post(moves)
    with without_check_access():
        by_sheet = dict(zip([s.id for s in credited], moves))
        for sheet in sheets:
            move = by_sheet.get(sheet.id)
            Evaluation.write([sheet], {
                    'state': 'posted',
                    'move': move.id if move else None,
                    'posted_by': transaction.user or None,
                    'posted_at': now,
                    })
    Evaluation.record_approval(sheets, 'post', action='event')
    return len(sheets)


def insert_rows(Model, rows, extra=None):
    """Write rows (dicts of the same keys) into Model's table by one COPY
    (the fastest bulk insert of PostgreSQL); extra is a dict of values
    common to all"""
    from psycopg import sql
    from trytond.transaction import Transaction
    if not rows:
        return
    extra = extra or {}
    names = sorted(set(rows[0]) | set(extra))
    statement = sql.SQL('COPY {} ({}) FROM STDIN').format(
        sql.Identifier(Model._table),
        sql.SQL(', ').join(map(sql.Identifier, names)))
    cursor = Transaction().connection.cursor()
    with cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([extra[n] if n in extra else row[n]
                    for n in names])


def create_redemptions(stores, product_ids, month, n_lines, seed=11):
    """n_lines goods lines of done redemptions in the month at the stores
    ({township: (store id, clerk login, card numbers)}), for random
    households of the store's township with points credited before the
    month, written in bulk SQL as Redemption._confirm writes them.
    Return (redemptions, lines, points, stores)."""
    from sql.aggregate import Sum
    from trytond.i18n import gettext
    from trytond.modules.huinong.tools import stored_defaults
    from trytond.modules.huinong_points.evaluation import month_bounds
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool()
    Redemption = pool.get('huinong.redemption')
    RedemptionLine = pool.get('huinong.redemption.line')
    StockLock = pool.get('huinong.redemption.stock_lock')
    StockMove = pool.get('stock.move')
    StockPeriod = pool.get('stock.period')
    Move = pool.get('account.move')
    MoveLine = pool.get('account.move.line')
    Period = pool.get('account.period')
    Card = pool.get('huinong.card')
    Party = pool.get('party.party')
    Area = pool.get('huinong.area')
    Location = pool.get('stock.location')
    Product = pool.get('product.product')
    User = pool.get('res.user')
    Sequence = pool.get('ir.sequence')
    ModelData = pool.get('ir.model.data')
    Ledger = pool.get('huinong.points.ledger')
    Hours = pool.get('huinong.store.opening_hours')
    transaction = Transaction()
    database = transaction.database
    connection = transaction.connection
    cursor = connection.cursor()
    config = Ledger.config()
    company = config.points_company
    first, last = month_bounds(month)
    rng = random.Random(seed)

    # What each household may spend: the points credited before the month
    line = MoveLine.__table__()
    move = Move.__table__()
    cursor.execute(*line.join(move, condition=move.id == line.move
            ).select(line.party, Sum(line.credit - line.debit),
            where=(line.account == config.points_account.id)
            & (move.date < first),
            group_by=[line.party]))
    budgets = {h: int(b) for h, b in cursor if b and b > 0}

    # The issued card and the township of every household
    card = Card.__table__()
    party = Party.__table__()
    village = Area.__table__()
    cursor.execute(*card.join(party, condition=party.id == card.household
            ).join(village, condition=village.id == party.huinong_village
            ).select(card.household, card.id, village.parent,
            where=card.state == 'issued',
            order_by=[card.household]))
    cards, townships = {}, {}
    for household_id, card_id, township_id in cursor:
        cards[household_id] = card_id
        townships[household_id] = township_id
    households = [h for h in sorted(budgets)
        if h in cards and townships[h] in stores]
    if not households:
        raise SystemExit("settlement: no household with points and a card")

    stores_ = {s.id: s for s in Location.browse(
            [s for s, _, _ in stores.values()])}
    clerks = {u.login: u.id for u in User.search([
                ('login', 'in', [l for _, l, _ in stores.values()]),
                ])}
    store_of = {t: (stores_[s], clerks[l]) for t, (s, l, _) in stores.items()}

    with transaction.set_context(company=company.id):
        products = Product.browse(product_ids)
        prices = Product.check_huinong_redeemable(products, date=first)
        if prices != Product.check_huinong_redeemable(products, date=last):
            raise SystemExit("settlement: points prices change in the month")
        cost_prices = {p.id: p.cost_price for p in products}
    units = {p.id: p.default_uom.id for p in products}
    prices = {p: Decimal(v).quantize(Decimal(1)) for p, v in prices.items()}
    cheapest = min(prices.values())

    # The baskets: who, where, when, what
    zone = Hours.local_timezone()
    days = (last - first).days + 1
    baskets = []
    remaining = n_lines
    while remaining > 0:
        if not households:
            raise SystemExit("settlement: the households have no points left")
        i = rng.randrange(len(households))
        household = households[i]
        budget = budgets[household]
        lines = []
        for product in rng.sample(product_ids,
                min(remaining, rng.choice(BASKET_SIZES))):
            quantity = rng.randint(1, 3)
            points = prices[product] * quantity
            if points <= budget:
                budget -= points
                lines.append((product, quantity, prices[product], points))
        if budget < cheapest:
            households[i] = households[-1]
            households.pop()
        if not lines:
            continue
        budgets[household] = budget
        remaining -= len(lines)
        # In the stores' local day (the counter dates a redemption of its
        # local day, done_at is UTC)
        local = dt.datetime.combine(
            first + dt.timedelta(days=rng.randrange(days)),
            dt.time(rng.randint(8, 19), rng.randint(0, 59),
                rng.randint(0, 59)), tzinfo=zone)
        at = local.astimezone(dt.timezone.utc).replace(tzinfo=None)
        baskets.append((at, local.date(), household, lines))
    baskets.sort(key=lambda b: b[0])
    n_redemptions = len(baskets)
    n_goods = sum(len(b[3]) for b in baskets)

    # Names in the move descriptions
    used = sorted({b[2] for b in baskets})
    names = {}
    for start in range(0, len(used), 500):
        for party_ in Party.browse(used[start:start + 500]):
            names[party_.id] = party_.rec_name

    # Ids first: the rows refer to each other
    redemption_ids = database.nextid(
        connection, Redemption._table, count=n_redemptions)
    move_ids = database.nextid(connection, Move._table, count=n_redemptions)
    line_ids = database.nextid(
        connection, RedemptionLine._table, count=n_goods)
    stock_ids = database.nextid(connection, StockMove._table, count=n_goods)
    if n_redemptions == 1:
        redemption_ids, move_ids = [redemption_ids], [move_ids]
    if n_goods == 1:
        line_ids, stock_ids = [line_ids], [stock_ids]
    sequence = Sequence(ModelData.get_id(
            'huinong_redemption', 'sequence_redemption'))
    with transaction.set_context(date=first):
        numbers = list(sequence.get_many(n_redemptions))

    customer = ModelData.get_id('stock', 'location_customer')
    points_journal = config.points_journal
    payable = config.points_payable_account
    # The checks the counter's path makes on each redemption that are the
    # same for all: the journal-period is open (created when missing), no
    # stock period of the month is closed
    periods = {d: Period.find(company, date=d)
        for d in {b[1] for b in baskets}}
    for period in set(periods.values()):
        MoveLine.check_journal_period_modify(period, points_journal)
    if StockPeriod.search([
                ('company', '=', company.id),
                ('state', '=', 'closed'),
                ('date', '>=', first),
                ], limit=1):
        raise SystemExit("settlement: a stock period of the month is closed")

    move_defaults = stored_defaults(Move)
    line_defaults = Ledger._line_defaults()
    redemption_defaults = stored_defaults(Redemption)
    rline_defaults = stored_defaults(RedemptionLine)
    stock_defaults = Redemption._move_defaults()
    moves, move_lines, redemptions, rlines, stock_moves = [], [], [], [], []

    def flush():
        "Insert the rows made so far, referred ones first"
        for Model, rows in [
                (Move, moves),
                (MoveLine, move_lines),
                (Redemption, redemptions),
                (StockMove, stock_moves),
                (RedemptionLine, rlines),
                ]:
            insert_rows(Model, rows)
            rows.clear()

    locks = set()
    store_ids = set()
    total_points = Decimal(0)
    line_index = 0
    for i, (at, date, household, lines) in enumerate(baskets):
        store, clerk = store_of[townships[household]]
        store_ids.add(store.id)
        redemption_id, move_id = redemption_ids[i], move_ids[i]
        points = sum(p for _, _, _, p in lines)
        total_points += points
        # Ledger.redeem: the draft move and its two lines
        values = dict(move_defaults)
        values.update({
                'id': move_id,
                'company': company.id,
                'journal': points_journal.id,
                'period': periods[date].id,
                'date': date,
                'description': gettext(
                    'huinong_redemption.msg_ledger_description',
                    store=store.rec_name, household=names[household]),
                'origin': 'huinong.redemption,%d' % redemption_id,
                'state': 'draft',
                'create_uid': clerk,
                'create_date': at,
                })
        moves.append(values)
        for row in [
                Ledger._household_row(config, household, -points), {
                    'account': payable.id,
                    'party': store.huinong_operator.id,
                    'debit': Decimal(0),
                    'credit': points,
                    'second_currency': None,
                    'amount_second_currency': None,
                    }]:
            values = dict(line_defaults)
            values.update(row)
            # Move.validate_move: the lines of a balanced move are valid
            values.update({
                    'move': move_id, 'state': 'valid',
                    'create_uid': clerk, 'create_date': at,
                    })
            move_lines.append(values)
        # The redemption, created at the counter and written done
        values = dict(redemption_defaults)
        values.update({
                'id': redemption_id,
                'number': numbers[i],
                'key': 'bench-%d' % redemption_id,
                'store': store.id,
                'card': cards[household],
                'household': household,
                'date': date,
                'clerk': clerk,
                'done_at': at,
                'out_of_hours': not Redemption._is_open(store, at),
                'ledger_move': move_id,
                'state': 'done',
                'create_uid': clerk, 'create_date': at,
                'write_uid': clerk, 'write_date': at,
                })
        redemptions.append(values)
        for product, quantity, unit_points, line_points in lines:
            line_id = line_ids[line_index]
            stock_id = stock_ids[line_index]
            line_index += 1
            # Redemption._do_stock
            values = dict(stock_defaults)
            values.update({
                    'id': stock_id,
                    'product': product,
                    'unit': units[product],
                    'quantity': float(quantity),
                    'internal_quantity': float(quantity),
                    'from_location': store.storage_location.id,
                    'to_location': customer,
                    'effective_date': date,
                    'planned_date': date,
                    'company': company.id,
                    'unit_price': unit_points,
                    'currency': company.currency.id,
                    'cost_price': cost_prices[product],
                    'state': 'done',
                    'origin': 'huinong.redemption.line,%d' % line_id,
                    'create_uid': clerk,
                    'create_date': at,
                    })
            stock_moves.append(values)
            values = dict(rline_defaults)
            values.update({
                    'id': line_id,
                    'redemption': redemption_id,
                    'kind': 'goods',
                    'product': product,
                    'quantity': quantity,
                    'unit_points': unit_points,
                    'points': line_points,
                    'stock_move': stock_id,
                    'create_uid': clerk, 'create_date': at,
                    'write_uid': clerk, 'write_date': at,
                    })
            rlines.append(values)
            locks.add((store.id, product))
        if len(rlines) >= 10000:
            flush()
    flush()

    # The counters' stock lock rows (huinong.redemption.stock_lock), made
    # by the first confirmation of each product at each store
    table = StockLock.__table__()
    cursor.execute(*table.select(table.store, table.product))
    locks -= set(cursor)
    insert_rows(StockLock, [
            {'store': s, 'product': p} for s, p in sorted(locks)],
        extra={'create_uid': 0, 'create_date': dt.datetime.now()})
    transaction.counter += 1
    for cache in transaction.cache.values():
        for Model in [Move, MoveLine, Redemption, RedemptionLine, StockMove]:
            cache.pop(Model.__name__, None)

    # No household below zero at the end of the month
    line = MoveLine.__table__()
    move = Move.__table__()
    cursor.execute(*line.join(move, condition=move.id == line.move
            ).select(line.party,
            where=(line.account == config.points_account.id)
            & (move.date <= last),
            group_by=[line.party],
            having=Sum(line.credit - line.debit) < 0))
    negative = [h for h, in cursor]
    if negative:
        raise SystemExit("settlement: %d households below zero, e.g. %s" % (
                len(negative), negative[:5]))
    return n_redemptions, n_goods, total_points, len(store_ids)


def settle(month):
    from trytond.pool import Pool
    Settlement = Pool().get('huinong.settlement')
    settlements = Settlement.create_month(date=add_months(month, 1))
    return (len(settlements),
        sum(s.system_points for s in settlements),
        sum(s.redemption_count for s in settlements))


def statistics(month):
    from trytond.pool import Pool
    Statistics = Pool().get('huinong.settlement.statistics')
    rows = Statistics.figures(month)
    return len(rows) - 1, rows[-1]


def reconcile():
    from trytond.pool import Pool
    Reconciliation = Pool().get('huinong.settlement.reconciliation')
    return [(d.check, d.message) for d in Reconciliation.check()]


def main(argv=None):
    args = parse_args(argv)
    from trytond import config
    config.update_etc([])
    config.set('database', 'uri', args.uri)
    config.set('database', 'language', 'en')
    if 'trytond.modules' in sys.modules:
        raise RuntimeError("trytond.modules imported before the configuration")

    name = args.database
    today = dt.date.today()
    month = add_months(today, -1)
    months = history(month)
    in_tx = setup_db.in_transaction
    start = time.monotonic()
    log("creating database %s with huinong_settlement...", name)
    month_end.create_database(name, 'huinong_settlement')
    try:
        log("modules ready in %.0fs", time.monotonic() - start)
        t0 = time.monotonic()
        village_ids = in_tx(name, functools.partial(
                month_end.create_ledger_and_villages, args.households))
        generated = setup_db.generate_households(
            args.households, 'bench', today)
        household_ids = in_tx(name, functools.partial(
                month_end.create_households, generated, village_ids))
        del generated
        log("%d households in %d villages in %.0fs", len(household_ids),
            len(village_ids), time.monotonic() - t0)
        t0 = time.monotonic()
        stores, product_ids = in_tx(name, functools.partial(
                redemption_bench.create_county, household_ids,
                args.products))
        in_tx(name, functools.partial(backdate_county, months[0][0].replace(
                    day=1)))
        company = in_tx(name, company_id)
        context = {'company': company}
        log("%d stores, %d goods, cards in %.0fs", len(stores),
            len(product_ids), time.monotonic() - t0)

        in_tx(name, functools.partial(create_fiscalyears,
                sorted({p for _, _, p in months})), context=context)
        for scoring, notice_end, posting in months:
            t0 = time.monotonic()
            sheets, lines = in_tx(name, functools.partial(
                    create_month_sheets, scoring, notice_end))
            posted = in_tx(name, functools.partial(
                    credit_sheets, scoring, posting), context=context)
            log("sheets of %s: %d sheets, %d lines, %d posted on %s "
                "in %.0fs", scoring.strftime('%Y-%m'), sheets, lines,
                posted, posting, time.monotonic() - t0)

        t0 = time.monotonic()
        n_redemptions, n_lines, points, n_stores = in_tx(
            name, functools.partial(create_redemptions, stores, product_ids,
                month, args.lines),
            context=context)
        log("%d redemptions, %d lines, %s points in %s in %.0fs",
            n_redemptions, n_lines, points, month.strftime('%Y-%m'),
            time.monotonic() - t0)
        build_s = time.monotonic() - start
        log("data built in %.0fs", build_s)

        t0 = time.monotonic()
        count, system_points, settled_redemptions = in_tx(
            name, functools.partial(settle, month), context=context)
        settle_s = time.monotonic() - t0
        log("create_month: %d settlements in %.2fs", count, settle_s)

        t0 = time.monotonic()
        townships, total = in_tx(
            name, functools.partial(statistics, month), context=context)
        stats_s = time.monotonic() - t0
        log("statistics: %d townships in %.2fs", townships, stats_s)

        t0 = time.monotonic()
        differences = in_tx(name, reconcile, context=context)
        reconcile_s = time.monotonic() - t0
        log("reconciliation: %d differences in %.2fs", len(differences),
            reconcile_s)
        for _, message in differences[:5]:
            log("  %s", message)
    finally:
        if args.keep:
            log("kept database %s", name)
        else:
            month_end.drop_database(name)

    from trytond.modules.huinong_settlement.reconcile import CHECKS
    by_check = Counter(check for check, _ in differences)
    peak = month_end.peak_rss_mb()
    errors = []
    if count != n_stores:
        errors.append("%d settlements for %d stores" % (count, n_stores))
    if settled_redemptions != n_redemptions:
        errors.append("%d redemptions settled, %d inserted" % (
                settled_redemptions, n_redemptions))
    if system_points != points:
        errors.append("settled %s points, %s redeemed" % (
                system_points, points))
    if total['redeemed'] != points:
        errors.append("statistics: %s points redeemed, %s inserted" % (
                total['redeemed'], points))
    if differences:
        errors.append("%d reconciliation differences" % len(differences))
    print("households=%d stores=%d goods=%d month=%s build_s=%.0f" % (
            len(household_ids), len(stores), len(product_ids),
            month.strftime('%Y-%m'), build_s))
    print("redemptions: %d, lines: %d, points: %s" % (
            n_redemptions, n_lines, points))
    print("create_month: %d settlements (%d stores), system points %s "
        "(inserted %s), %d redemptions, %.2f s" % (
            count, n_stores, system_points, points, settled_redemptions,
            settle_s))
    print("statistics of %s: county credited %s, redeemed %s, "
        "outstanding %s (opening %s), %.2f s" % (
            month.strftime('%Y-%m'), total['credited'], total['redeemed'],
            total['outstanding'], total['opening'], stats_s))
    print("reconciliation: %d differences (%s), %.2f s" % (
            len(differences), ', '.join('%s %d' % (c, by_check[c])
                for c in sorted(set(CHECKS) | set(by_check))), reconcile_s))
    print("peak RSS: %.0f MB" % peak)
    print("settlement settle_s=%.2f stats_s=%.2f reconcile_s=%.2f "
        "lines=%d households=%d" % (
            settle_s, stats_s, reconcile_s, n_lines, len(household_ids)))
    if errors:
        log("INCONSISTENT: %s", '; '.join(errors))
        sys.exit(1)


if __name__ == '__main__':
    main()
