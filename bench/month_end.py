#!/usr/bin/env python3
# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Month-end benchmark: credit one month of evaluation sheets.

    .venv/bin/python bench/month_end.py [--households 50000] [--keep]
        [--uri postgresql://postgres@127.0.0.1:5432/] [--profile FILE]

Builds, in this process, a PostgreSQL database with huinong_points, N
households with a class in villages of about 400 households over the 11
townships, and one sheet per village for the current month, approved and
published, whose public notice is over.  Then it times the crediting of
all the sheets by the scheduled task (Evaluation.post_due: for each sheet,
the cap check, the household locks and one posted move), and the naive
way on 2,000 of the same households: one account.move per household
created through the ORM and posted, one by one.  It prints households per
second of both, their ratio and the peak memory; the last line is

    month_end households_per_s=... naive_per_s=... ratio=... peak_rss_mb=...

The database is dropped at the end unless --keep is given.
"""
import argparse
import cProfile
import functools
import datetime as dt
import os
import random
import resource
import sys
import time
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'scripts'))

import setup_db  # noqa: E402  (standard library only at import)

VILLAGE_SIZE = 400
NAIVE_SAMPLE = 2000


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--households', type=int, default=50000)
    parser.add_argument('--uri', default=os.environ.get(
            'TRYTOND_DATABASE_URI', 'postgresql://postgres@127.0.0.1:5432/'))
    parser.add_argument('-d', '--database',
        default='bench_month_end_%d' % os.getpid())
    parser.add_argument('--keep', action='store_true',
        help="keep the database at the end")
    parser.add_argument('--naive', type=int, default=NAIVE_SAMPLE,
        help="households credited the naive way (default %(default)s)")
    parser.add_argument('--profile', metavar='FILE',
        help="write a cProfile of the posting to FILE")
    return parser.parse_args(argv)


def log(message, *args):
    print('[month_end] ' + (message % args if args else message),
        file=sys.stderr, flush=True)


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def create_database(name, modules='huinong_points'):
    """Create the database and activate modules (a module name or a list
    of them) with their dependencies"""
    from trytond import backend
    from trytond.pool import Pool
    database = backend.Database().connect()
    connection = database.get_connection(autocommit=True)
    try:
        database.create(connection, name)
    finally:
        database.put_connection(connection)
        database.close()
    database = backend.Database(name).connect()
    database.init()
    database.close()
    pool = Pool(name)
    if isinstance(modules, str):
        modules = [modules]
    pool.init(update=list(modules), lang=['en'], activatedeps=True)


def drop_database(name):
    from trytond import backend
    from trytond.pool import Pool
    Pool.stop(name)
    backend.Database(name).close()
    database = backend.Database().connect()
    connection = database.get_connection(autocommit=True)
    try:
        database.drop(connection, name)
    finally:
        database.put_connection(connection)
        database.close()


def create_ledger_and_villages(count):
    """The programme's company and ledger; villages of VILLAGE_SIZE
    households spread over the townships. Return the village ids."""
    from trytond.pool import Pool
    pool = Pool()
    ModelData = pool.get('ir.model.data')
    Area = pool.get('huinong.area')
    setup_db.Setup.create_ledger(None)
    townships = list(setup_db.TOWNSHIP_CODES)
    n_villages = max(1, round(count / VILLAGE_SIZE))
    values = []
    for i in range(n_villages):
        township = townships[i % len(townships)]
        index = i // len(townships)
        values.append({
                'name': '%s%d村' % ('测试', i + 1),
                'code': '%s%03d' % (setup_db.TOWNSHIP_CODES[township],
                    201 + index),
                'type': 'village',
                'parent': ModelData.get_id('huinong', township),
                })
    return [v.id for v in Area.create(values)]


def create_households(generated, village_ids):
    "Households (head's resident ID, village, class); return their ids"
    from trytond.pool import Pool
    pool = Pool()
    Party = pool.get('party.party')
    Class = pool.get('huinong.household.class')
    ids = []
    for start in range(0, len(generated), 1000):
        batch = generated[start:start + 1000]
        parties = Party.create([{
                    'name': h['name'],
                    'huinong_household': True,
                    'huinong_village': village_ids[
                        (start + i) % len(village_ids)],
                    'huinong_resident_id': h['resident_id'],
                    } for i, h in enumerate(batch)])
        Class.create([{'household': p.id, **c}
                for p, h in zip(parties, batch) for c in h['classes']])
        ids.extend(p.id for p in parties)
        log("  %d/%d households", start + len(batch), len(generated))
    return ids


def create_sheets(date, notice_end):
    """One sheet per village at date with a line per eligible household
    and a score per criterion (under the monthly caps), made through the
    ORM for the sheets and in bulk SQL for the lines and scores, then put
    in the published state with the notice over."""
    from sql import Column
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool()
    Area = pool.get('huinong.area')
    Evaluation = pool.get('huinong.evaluation')
    Line = pool.get('huinong.evaluation.line')
    Score = pool.get('huinong.evaluation.score')
    Criterion = pool.get('huinong.evaluation.criterion')
    transaction = Transaction()
    cursor = transaction.connection.cursor()
    criteria = Criterion.search([])
    villages = Area.search([('type', '=', 'village')])
    sheets = Evaluation.create([{
                'village': v.id, 'date': date} for v in villages])
    rng = random.Random(42)
    line_table = Line.__table__()
    score_table = Score.__table__()
    now = dt.datetime.now()
    user = transaction.user
    count = 0
    for sheet in sheets:
        households = Evaluation.eligible_households(sheet.village, date)
        if not households:
            continue
        cursor.execute(*line_table.insert(
                [line_table.evaluation, line_table.household,
                    line_table.classification, line_table.create_uid,
                    line_table.create_date],
                [[sheet.id, h.id, c, user, now] for h, c in households]))
        cursor.execute(*line_table.select(line_table.id,
                where=line_table.evaluation == sheet.id))
        line_ids = [i for i, in cursor]
        rows = []
        for line_id in line_ids:
            budget = 60
            for criterion in criteria:
                score = min(criterion.maximum, rng.randint(0, budget // 2))
                budget -= score
                rows.append([line_id, criterion.id, Decimal(score),
                        user, now])
        cursor.execute(*score_table.insert(
                [score_table.line, score_table.criterion, score_table.score,
                    score_table.create_uid, score_table.create_date],
                rows))
        count += len(line_ids)
    table = Evaluation.__table__()
    cursor.execute(*table.update(
            [table.state, Column(table, 'notice_start'),
                Column(table, 'notice_end')],
            ['published', notice_end - dt.timedelta(days=2), notice_end],
            where=table.id.in_([s.id for s in sheets])))
    return len(sheets), count


def post_sheets():
    "Credit every sheet the way the scheduled task does"
    from trytond.pool import Pool
    Evaluation = Pool().get('huinong.evaluation')
    Evaluation.post_due()
    posted = Evaluation.search([('state', '=', 'posted')])
    return len(posted), sum(e.household_count for e in posted)


def post_naive(household_ids):
    """One move per household through the ORM, created and posted one by
    one: the way without the ledger's bulk path"""
    from trytond.pool import Pool
    pool = Pool()
    Move = pool.get('account.move')
    Line = pool.get('account.move.line')
    Period = pool.get('account.period')
    Party = pool.get('party.party')
    Configuration = pool.get('huinong.configuration')
    config = Configuration(1)
    company = config.points_company
    today = dt.date.today()
    period = Period.find(company, date=today)
    pts = config.points_account.second_currency
    for household in Party.browse(household_ids):
        points = Decimal(10)
        move = Move(
            company=company, journal=config.points_journal, period=period,
            date=today, description="naive")
        move.lines = [
            Line(account=config.points_expense_account,
                debit=points, credit=Decimal(0)),
            Line(account=config.points_account, party=household,
                debit=Decimal(0), credit=points, second_currency=pts,
                amount_second_currency=-points),
            ]
        move.save()
        Move.post([move])
    return len(household_ids)


def main(argv=None):
    args = parse_args(argv)
    from trytond import config
    config.update_etc([])
    config.set('database', 'uri', args.uri)
    config.set('database', 'language', 'en')
    if 'trytond.modules' in sys.modules:
        raise RuntimeError("trytond.modules imported before the configuration")
    from trytond.transaction import Transaction

    name = args.database
    today = dt.date.today()
    date = today.replace(day=1)
    if date == today:
        # The notice must be over: score on the last month's first day
        date = (date - dt.timedelta(days=1)).replace(day=1)
    notice_end = today - dt.timedelta(days=1)
    start = time.monotonic()
    log("creating database %s with huinong_points...", name)
    create_database(name)
    try:
        log("modules ready in %.0fs", time.monotonic() - start)
        in_tx = setup_db.in_transaction
        village_ids = in_tx(
            name, lambda: create_ledger_and_villages(args.households))
        t0 = time.monotonic()
        generated = setup_db.generate_households(
            args.households, 'bench', today)
        household_ids = in_tx(name, functools.partial(
                create_households, generated, village_ids))
        del generated
        log("%d households in %d villages in %.0fs", len(household_ids),
            len(village_ids), time.monotonic() - t0)
        t0 = time.monotonic()
        sheets, lines = in_tx(name, lambda: create_sheets(date, notice_end))
        log("%d published sheets, %d lines in %.0fs", sheets, lines,
            time.monotonic() - t0)

        context = {'company': None}

        def fast():
            if args.profile:
                profiler = cProfile.Profile()
                result = profiler.runcall(post_sheets)
                profiler.dump_stats(args.profile)
                return result
            return post_sheets()
        t0 = time.monotonic()
        posted, credited = in_tx(name, fast, context=context)
        fast_time = time.monotonic() - t0
        fast_rate = credited / fast_time
        log("posted %d sheets, %d households in %.1fs: %.0f households/s",
            posted, credited, fast_time, fast_rate)

        rng = random.Random(7)
        sample = rng.sample(household_ids, min(args.naive,
                len(household_ids)))
        t0 = time.monotonic()
        naive_count = in_tx(name, lambda: post_naive(sample),
            context=context)
        naive_time = time.monotonic() - t0
        naive_rate = naive_count / naive_time
        log("naive: %d households in %.1fs: %.1f households/s",
            naive_count, naive_time, naive_rate)

        def check():
            from trytond.pool import Pool
            Line = Pool().get('account.move.line')
            Move = Pool().get('account.move')
            return (Move.search_count([('state', '!=', 'posted')]),
                Line.search_count([]))
        unposted, line_count = in_tx(name, check)
        log("moves not posted: %d, move lines: %d", unposted, line_count)
        if unposted:
            raise SystemExit("month_end: some moves are not posted")
    finally:
        Transaction  # noqa: B018
        if args.keep:
            log("kept database %s", name)
        else:
            drop_database(name)
    ratio = fast_rate / naive_rate
    peak = peak_rss_mb()
    print("households=%d villages=%d sheets=%d" % (
            len(household_ids), len(village_ids), posted))
    print("posting: %.0f households/s (%.1f s)" % (fast_rate, fast_time))
    print("naive:   %.1f households/s (%.1f s for %d)" % (
            naive_rate, naive_time, naive_count))
    print("ratio:   %.1f" % ratio)
    print("peak RSS: %.0f MB" % peak)
    print("month_end households_per_s=%.0f naive_per_s=%.1f ratio=%.1f "
        "peak_rss_mb=%.0f" % (fast_rate, naive_rate, ratio, peak))


if __name__ == '__main__':
    main()
