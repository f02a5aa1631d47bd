#!/usr/bin/env python3
# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Redemption benchmark: the counters of a county over JSON-RPC.

    .venv/bin/python bench/redemption.py [--households 50000]
        [--products 500] [--duration 20] [--workers 4] [--keep]
        [--uri postgresql://postgres@127.0.0.1:5432/]

Builds, in this process, a PostgreSQL database with huinong_redemption:
N households with a card and 2,000 points each, one store per township
(11) with its clerk, P goods with approved points prices and stock in
every store. Then it starts trytond under gunicorn (`--workers` processes,
as the deployment does; trytond's own threaded server without gunicorn)
and drives it with one JSON-RPC client per store, each redeeming 5-line
baskets for random households of its township through
`model.huinong.redemption.redeem`:

- saturation throughput with 11 clients and with 1 client, the PIN check
  made cheap (the cards' PIN hashes are bcrypt with the lowest cost, so
  that the argon2 hasher does not dominate: "PIN check excluded");
- p50/p95 latency with the real argon2 PIN hashes at an offered load of
  2 redemptions per second spread over the 11 stores;
- the cost of one argon2 PIN check, in process.

The last line is

    redemption per_s=... one_client_per_s=... sale_point_per_s=...
        ratio=... p95_ms=... pin_ms=...

sale_point_per_s and ratio are "n/a": the same baskets as stock Tryton
sale_point sales are not driven yet (see bench/README.md).
"""
import argparse
import base64
import datetime as dt
import functools
import importlib.util
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, 'scripts'))
sys.path.insert(0, HERE)

import setup_db  # noqa: E402  (standard library only at import)

PIN = '135790'
CLERK_PASSWORD = 'bench-clerk-2026'
POINTS = 2000


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--households', type=int, default=50000)
    parser.add_argument('--products', type=int, default=500)
    parser.add_argument('--duration', type=float, default=20,
        help="seconds of each throughput run (default %(default)s)")
    parser.add_argument('--latency-count', type=int, default=60,
        help="redemptions of the latency run (default %(default)s)")
    parser.add_argument('--workers', type=int, default=4,
        help="gunicorn worker processes (default %(default)s)")
    parser.add_argument('--uri', default=os.environ.get(
            'TRYTOND_DATABASE_URI', 'postgresql://postgres@127.0.0.1:5432/'))
    parser.add_argument('-d', '--database',
        default='bench_redemption_%d' % os.getpid())
    parser.add_argument('--keep', action='store_true',
        help="keep the database at the end")
    return parser.parse_args(argv)


def log(message, *args):
    print('[redemption] ' + (message % args if args else message),
        file=sys.stderr, flush=True)


def create_county(household_ids, n_products):
    """Stores with clerks, goods with prices and stock, cards and points.
    Return {township area id: (store id, clerk login, [card numbers])}"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool()
    Area = pool.get('huinong.area')
    Location = pool.get('stock.location')
    Party = pool.get('party.party')
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    Template = pool.get('product.template')
    PointsPrice = pool.get('huinong.product.points_price')
    Move = pool.get('stock.move')
    Card = pool.get('huinong.card')
    Ledger = pool.get('huinong.points.ledger')
    config = Ledger.config()
    company = config.points_company
    today = dt.date.today()
    start = today - dt.timedelta(days=30)
    transaction = Transaction()

    townships = Area.search([('type', '=', 'township')],
        order=[('code', 'ASC')])
    clerk_group = ModelData.get_id('huinong', 'group_clerk')
    stores = {}
    for i, township in enumerate(townships):
        login = 'clerk%02d' % i
        clerk, = User.create([{
                    'login': login, 'name': login,
                    'password': CLERK_PASSWORD,
                    'groups': [('add', [clerk_group])],
                    'huinong_areas': [('add', [township.id])],
                    'companies': [('add', [company.id])],
                    'company': company.id,
                    }])
        operator, = Party.create([{'name': "%s服务站" % township.name}])
        store, = Location.create([{
                    'name': "%s惠农超市" % township.name,
                    'code': 'B%02d' % i,
                    'type': 'warehouse',
                    'huinong_store': True,
                    'huinong_township': township.id,
                    'huinong_operator': operator.id,
                    'huinong_clerks': [('add', [clerk.id])],
                    'huinong_opening_hours': [('create', [{
                                    'weekday': str(d),
                                    'opens': dt.time(0),
                                    'closes': dt.time(23, 59)}
                                for d in range(1, 8)])],
                    }])
        stores[township.id] = (store, login)

    unit = ModelData.get_id('product', 'uom_unit')
    templates = Template.create([{
                'name': "商品%03d" % i,
                'type': 'goods',
                'default_uom': unit,
                'products': [('create', [{}])],
                } for i in range(n_products)])
    products = [t.products[0] for t in templates]
    rng = random.Random(1)
    PointsPrice.create([{
                'product': p.id,
                'points_price': Decimal(rng.randint(2, 30)),
                'effective_date': start,
                } for p in products])
    supplier, = Location.search([('type', '=', 'supplier')], limit=1)
    with transaction.set_context(company=company.id, _skip_warnings=True):
        for store, _ in stores.values():
            moves = Move.create([{
                        'product': p.id, 'unit': unit, 'quantity': 100000,
                        'from_location': supplier.id,
                        'to_location': store.storage_location.id,
                        'unit_price': Decimal(5),
                        'currency': company.currency.id,
                        'company': company.id,
                        'effective_date': start, 'planned_date': start,
                        } for p in products])
            Move.do(moves)

    # Cards by SQL (the issuance chain is not what is measured), all with
    # the cheap hash of the PIN (see set_pin_hashes)
    card = Card.__table__()
    party = Party.__table__()
    cursor = transaction.connection.cursor()
    cursor.execute(*party.select(party.id, party.huinong_village,
            where=party.id.in_(household_ids)))
    villages = dict(cursor)
    parents = {a.id: a.parent.id for a in Area.search(
            [('type', '=', 'village')])}
    now = dt.datetime.now()
    numbers = {}
    rows = []
    for household_id in household_ids:
        number = 'B%014d' % household_id
        township = parents[villages[household_id]]
        numbers.setdefault(township, []).append(number)
        rows.append([number, household_id, 'issued', today, 0, 0, now])
    for i in range(0, len(rows), 1000):
        cursor.execute(*card.insert([card.number, card.household,
                    card.state, card.issue_date, card.pin_failures,
                    card.create_uid, card.create_date], rows[i:i + 1000]))
    for i in range(0, len(household_ids), 500):
        Ledger.credit(
            [(Party(h), Decimal(POINTS))
                for h in household_ids[i:i + 500]],
            today, "基准测试积分")
    return {t: (s.id, login, numbers.get(t, []))
        for t, (s, login) in stores.items()}, [p.id for p in products]


def set_pin_hashes(cheap):
    """Give every card the same hash of the PIN: argon2 as trytond makes
    it, or bcrypt of the lowest cost (about a millisecond to check)"""
    import bcrypt
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool()
    User = pool.get('res.user')
    Card = pool.get('huinong.card')
    if cheap:
        hash_ = bcrypt.hashpw(PIN.encode(), bcrypt.gensalt(4)).decode()
    else:
        hash_ = User.hash_password(PIN)
    card = Card.__table__()
    Transaction().connection.cursor().execute(
        *card.update([card.pin_hash], [hash_]))


def pin_cost():
    "Milliseconds of one argon2 PIN check, as trytond's hasher does it"
    from trytond.pool import Pool
    User = Pool().get('res.user')
    hash_ = User.hash_password(PIN)
    start = time.perf_counter()
    for _ in range(10):
        User.check_password(PIN, hash_)
    return (time.perf_counter() - start) / 10 * 1000


class Client:
    "A counter: a clerk logged in over JSON-RPC"

    def __init__(self, url, database, login, context):
        self.url = '%s%s/rpc/' % (url, database)
        self.context = context
        user_id, token = self.call('common.db.login',
            [login, {'password': CLERK_PASSWORD}, 'zh_CN'])[:2]
        self.session = base64.b64encode(
            ('%s:%s:%s' % (login, user_id, token)).encode()).decode()

    def call(self, method, params):
        headers = {'Content-Type': 'application/json'}
        if getattr(self, 'session', None):
            headers['Authorization'] = 'Session ' + self.session
        request = urllib.request.Request(self.url, headers=headers,
            data=json.dumps({'id': 1, 'method': method,
                    'params': params}).encode())
        with urllib.request.urlopen(request, timeout=120) as response:
            answer = json.load(response)
        if answer.get('error'):
            raise RuntimeError('%s: %s' % (method, answer['error']))
        return answer['result']

    def redeem(self, store, card, products, key):
        return self.call('model.huinong.redemption.redeem', [{
                    'store': store, 'card': card, 'pin': PIN, 'key': key,
                    'lines': [{'product': p, 'quantity': 1}
                        for p in products],
                    }, self.context])


def run_clients(counters, products, duration=None, count=None, rate=None,
        seed=0):
    """Run one thread per counter; each redeems 5-line baskets for random
    cards of its township, as fast as it can for `duration` seconds, or
    `count` redemptions in all at `rate` per second (open loop, spread
    over the counters). Return (done, errors, latencies in ms, seconds)"""
    latencies, errors = [], []
    lock = threading.Lock()
    start = time.monotonic()
    schedule = None
    if rate:
        # Poisson arrivals: each counter takes every n-th of them
        rng = random.Random(seed)
        at, schedule = 0.0, []
        for _ in range(count):
            at += rng.expovariate(rate)
            schedule.append(at)

    def counter(i, client, store, cards):
        rng = random.Random(seed * 100 + i)
        n = 0
        mine = (schedule[i::len(counters)] if schedule is not None
            else None)
        while True:
            if mine is not None:
                if n >= len(mine):
                    return
                wait = start + mine[n] - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            elif time.monotonic() - start >= duration:
                return
            n += 1
            basket = rng.sample(products, 5)
            t0 = time.monotonic()
            try:
                client.redeem(store, rng.choice(cards), basket,
                    'bench-%d-%d-%d-%d' % (os.getpid(), seed, i, n))
            except Exception as e:
                with lock:
                    errors.append(str(e)[:200])
                continue
            with lock:
                latencies.append((time.monotonic() - t0) * 1000)
    threads = [threading.Thread(target=counter, args=(i, *c))
        for i, c in enumerate(counters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies), errors, latencies, time.monotonic() - start


def percentile(values, p):
    values = sorted(values)
    if not values:
        return float('nan')
    k = max(0, min(len(values) - 1, round(p / 100 * len(values)) - 1))
    return values[k]


def free_port():
    import socket
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def start_server(args, config_path, port):
    env = {k: v for k, v in os.environ.items()
        if not k.startswith('TRYTOND_')}
    env.update(TRYTOND_CONFIG=config_path,
        TRYTOND_DATABASE_NAMES=args.database, PYTHONUNBUFFERED='1')
    bindir = os.path.dirname(sys.executable)
    if importlib.util.find_spec('gunicorn'):
        command = [os.path.join(bindir, 'gunicorn'),
            '-w', str(args.workers), '-b', '127.0.0.1:%d' % port,
            '--timeout', '300', '--preload', 'trytond.application:app']
        kind = 'gunicorn, %d workers' % args.workers
    else:
        command = [sys.executable, '-m', 'trytond.cli', '-c', config_path,
            '-d', args.database]
        kind = "trytond's threaded server"
    log_file = tempfile.NamedTemporaryFile(
        'w+', prefix='bench-redemption-', suffix='.log', delete=False)
    server = subprocess.Popen(command, env=env, stdout=log_file,
        stderr=subprocess.STDOUT, cwd=ROOT)
    url = 'http://127.0.0.1:%d/' % port
    deadline = time.monotonic() + 120
    while True:
        try:
            request = urllib.request.Request(url + 'rpc/', headers={
                    'Content-Type': 'application/json'},
                data=json.dumps({'id': 1,
                        'method': 'common.server.version',
                        'params': []}).encode())
            with urllib.request.urlopen(request, timeout=5):
                break
        except Exception:
            if server.poll() is not None or time.monotonic() > deadline:
                log_file.seek(0)
                raise SystemExit("the server did not start:\n%s"
                    % log_file.read()[-3000:])
            time.sleep(0.5)
    log("server: %s on %s (log %s)", kind, url, log_file.name)
    return server, url


def main(argv=None):
    args = parse_args(argv)
    from trytond import config
    config.update_etc([])
    config.set('database', 'uri', args.uri)
    config.set('database', 'language', 'en')
    if 'trytond.modules' in sys.modules:
        raise RuntimeError("trytond.modules imported before the configuration")
    from month_end import (
        create_database, create_households, create_ledger_and_villages,
        drop_database)

    name = args.database
    start = time.monotonic()
    log("creating database %s with huinong_redemption...", name)
    create_database(name, 'huinong_redemption')
    server = None
    try:
        in_tx = setup_db.in_transaction
        village_ids = in_tx(
            name, lambda: create_ledger_and_villages(args.households))
        generated = setup_db.generate_households(
            args.households, 'bench', dt.date.today())
        household_ids = in_tx(name, functools.partial(
                create_households, generated, village_ids))
        del generated
        stores, products = in_tx(name, functools.partial(
                create_county, household_ids, args.products))
        company = in_tx(name, lambda: __import__(
                'trytond.pool', fromlist=['Pool']).Pool().get(
                'huinong.points.ledger').config().points_company.id)
        pin_ms = in_tx(name, pin_cost)
        log("county ready in %.0fs: %d households, %d stores, %d goods; "
            "argon2 PIN check %.0f ms", time.monotonic() - start,
            len(household_ids), len(stores), len(products), pin_ms)

        config = tempfile.NamedTemporaryFile('w', suffix='.conf',
            delete=False)
        config.write('[database]\nuri = %s\n[session]\nmax_attempt = 1000\n'
            % args.uri)
        config.close()
        port = free_port()
        server, url = start_server(args, config.name, port)
        context = {'company': company}
        counters = [(Client(url, name, login, context), store, cards)
            for store, login, cards in stores.values() if cards]

        in_tx(name, functools.partial(set_pin_hashes, True))
        done1, errors1, _, seconds1 = run_clients(
            counters[:1], products, duration=args.duration, seed=1)
        one_rate = done1 / seconds1
        log("1 client: %d redemptions in %.1fs: %.1f/s, %d errors",
            done1, seconds1, one_rate, len(errors1))
        done11, errors11, _, seconds11 = run_clients(
            counters, products, duration=args.duration, seed=2)
        rate = done11 / seconds11
        log("%d clients: %d redemptions in %.1fs: %.1f/s, %d errors%s",
            len(counters), done11, seconds11, rate, len(errors11),
            (': ' + errors11[0]) if errors11 else '')

        in_tx(name, functools.partial(set_pin_hashes, False))
        done, errors, latencies, seconds = run_clients(
            counters, products, count=args.latency_count, rate=2.0,
            seed=3)
        p50 = percentile(latencies, 50)
        p95 = percentile(latencies, 95)
        log("2/s offered over %d stores, argon2 PIN: %d done, %d errors, "
            "p50 %.0f ms, p95 %.0f ms", len(counters), done, len(errors),
            p50, p95)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        if args.keep:
            log("kept database %s", name)
        else:
            drop_database(name)
    print("households=%d stores=%d goods=%d" % (
            len(household_ids), len(stores), len(products)))
    print("11 clients: %.1f redemptions/s (PIN check cheap)" % rate)
    print("1 client:   %.1f redemptions/s; scaling %.2f×" % (
            one_rate, rate / one_rate if one_rate else float('nan')))
    print("latency at 2/s with the argon2 PIN: p50 %.0f ms, p95 %.0f ms" % (
            p50, p95))
    print("argon2 PIN check: %.0f ms" % pin_ms)
    print("redemption per_s=%.1f one_client_per_s=%.1f sale_point_per_s=n/a "
        "ratio=n/a p95_ms=%.0f pin_ms=%.0f" % (rate, one_rate, p95, pin_ms))


if __name__ == '__main__':
    main()
