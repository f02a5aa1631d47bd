#!/usr/bin/env python3
# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Redemption benchmark: the counters of a county over JSON-RPC.

    .venv/bin/python bench/redemption.py [--households 50000]
        [--products 500] [--duration 20] [--workers 4] [--keep]
        [--uri postgresql://postgres@127.0.0.1:5432/]

Builds, in this process, a PostgreSQL database with huinong_redemption
and Tryton's sale_point: N households with a card and 2,000 points each,
one store per township (11) with its clerk, P goods with approved points
prices and stock in every store; for sale_point, one sale point per store
(its own journal and numbering, the store's stock) taking cash, the goods
salable at their points price in yuan. Then it starts trytond under
gunicorn (`--workers` processes, as the deployment does; the application
is bench/wsgi_cheap_pin.py, whose password check never rehashes) and
drives it with one JSON-RPC client
per store, each redeeming 5-line baskets for random households of its
township through `model.huinong.redemption.redeem`:

- saturation throughput with 11 clients and with 1 client, the PIN check
  made cheap (the cards' PIN hashes are bcrypt with the lowest cost, so
  that the argon2 hasher does not dominate: "PIN check excluded");
- the same: 5-line baskets (one unit of 5 random goods) sold as stock
  sale_point sales by the same clients on the same server, with 1 client
  and with 11: create the sale with its lines, pay it in cash through the
  pay wizard (which processes it: done and numbered), post it (stock moves
  done, account move posted). A sale one of whose calls fails is an
  error, not a sale done; lock failures are counted;
- p50/p95 latency with the real argon2 PIN hashes at an offered load of
  2 redemptions per second spread over the 11 stores;
- the cost of one argon2 PIN check, in process.

The last line is

    redemption per_s=... one_client_per_s=... sale_point_per_s=...
        ratio=... p95_ms=... pin_ms=...

where sale_point_per_s is the sale_point sales done per second with 11
clients and ratio is per_s / sale_point_per_s (both with 11 clients;
under 4,400 households there are fewer than 11 villages of 400, and only
the stores whose township has households get a client, for both).
"""
import argparse
import base64
import datetime as dt
import functools
import html
import importlib.util
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
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


def create_sale_points(stores, product_ids):
    """The same county for stock Tryton sale_point: in the programme's
    company, a revenue, an expense and a cash account, one account category
    (no customer tax), the goods salable at their points price in yuan (one
    point is one yuan), one cash payment method (sale_point allows one per
    company), and per store a sale point (its own revenue journal and
    strict numbering sequence, the store's storage as stock, the customer
    location) with its cash session open and its journal's period of this
    month; the clerks join the sale_point groups (selling and posting).
    Return ({store id: sale point id}, {product id: price}, cash method id)"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool()
    Account = pool.get('account.account')
    AccountType = pool.get('account.account.type')
    Category = pool.get('product.category')
    Date = pool.get('ir.date')
    Journal = pool.get('account.journal')
    JournalPeriod = pool.get('account.journal.period')
    Location = pool.get('stock.location')
    ModelData = pool.get('ir.model.data')
    PaymentMethod = pool.get('sale.point.payment.method')
    Period = pool.get('account.period')
    Point = pool.get('sale.point')
    PointsPrice = pool.get('huinong.product.points_price')
    Product = pool.get('product.product')
    Sequence = pool.get('ir.sequence.strict')
    Session = pool.get('sale.point.cash.session')
    Template = pool.get('product.template')
    User = pool.get('res.user')
    Ledger = pool.get('huinong.points.ledger')
    company = Ledger.config().points_company

    with Transaction().set_context(company=company.id):
        def of_template(Model, xml_id):
            record, = Model.search([
                    ('company', '=', company.id),
                    ('template', '=', ModelData.get_id(
                            'huinong_points', xml_id)),
                    ])
            return record
        root = of_template(Account, 'account_template_root')
        revenue, expense, cash = Account.create([{
                    'code': code, 'name': name, 'company': company.id,
                    'parent': root.id,
                    'type': of_template(AccountType, type_).id,
                    } for code, name, type_ in [
                    ('6001', "主营业务收入", 'account_type_template_income'),
                    ('6401', "主营业务成本", 'account_type_template_expense'),
                    ('1001', "库存现金", 'account_type_template_cash'),
                    ]])
        category, = Category.create([{
                    'name': "超市商品", 'accounting': True,
                    'account_revenue': revenue.id,
                    'account_expense': expense.id,
                    }])
        prices = {p.product.id: p.points_price for p in PointsPrice.search(
                [('product', 'in', product_ids)])}
        unit = ModelData.get_id('product', 'uom_unit')
        templates = [p.template for p in Product.browse(product_ids)]
        for template in templates:
            price = prices[template.products[0].id]
            template.salable = True
            template.sale_uom = unit
            template.account_category = category
            template.list_price = price
            template.gross_price = price
        Template.save(templates)
        method, = PaymentMethod.create([{
                    'name': "现金", 'company': company.id,
                    'account': cash.id, 'cash': True,
                    }])

        customer, = Location.search([('type', '=', 'customer')], limit=1)
        store_ids = sorted(s for s, _, _ in stores.values())
        logins = [login for _, login, _ in stores.values()]
        sequence_type = ModelData.get_id('sale_point', 'sequence_type_sale')
        points = {}
        for i, store in enumerate(Location.browse(store_ids)):
            journal, = Journal.create([{
                        'name': "%s收银" % store.name,
                        'code': 'POS%02d' % i, 'type': 'revenue',
                        }])
            sequence, = Sequence.create([{
                        'name': "%s销售单" % store.name,
                        'sequence_type': sequence_type,
                        'company': company.id,
                        'prefix': '%s-' % store.code,
                        }])
            point, = Point.create([{
                        'name': store.name, 'company': company.id,
                        'tax_included': True,
                        'sequence': sequence.id, 'journal': journal.id,
                        'storage_location': store.storage_location.id,
                        'customer_location': customer.id,
                        }])
            points[store.id] = point.id
        # As in a store that has sold this month already: its journal's
        # period and the day's cash session exist (otherwise the first sale
        # of each store creates them under a lock of the whole table,
        # failing the other stores' sales)
        period = Period.find(company, date=Date.today())
        JournalPeriod.create([{'journal': p.journal.id, 'period': period.id}
                for p in Point.browse(list(points.values()))])
        Session.create([{'point': p} for p in points.values()])
        User.write(User.search([('login', 'in', logins)]), {
                'groups': [('add', [
                            ModelData.get_id('sale_point',
                                'group_sale_point'),
                            ModelData.get_id('sale_point',
                                'group_sale_point_posting'),
                            ])],
                })
    return points, {p: str(v) for p, v in prices.items()}, method.id


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
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                answer = json.load(response)
        except urllib.error.HTTPError as e:
            # trytond answers 503 with the database error (a lock not
            # obtained...) in the body
            body = e.read().decode(errors='replace')
            text = html.unescape(re.sub(r'<[^>]*>', ' ', body))
            raise RuntimeError('%s: HTTP %d %s' % (
                    method, e.code, ' '.join(text.split())[:300])) from e
        if answer.get('error'):
            raise RuntimeError('%s: %s' % (method, answer['error']))
        return answer['result']

    def redeem(self, store, card, products, key):
        return self.call('model.huinong.redemption.redeem', [{
                    'store': store, 'card': card, 'pin': PIN, 'key': key,
                    'lines': [{'product': p, 'quantity': 1}
                        for p in products],
                    }, self.context])

    def sell(self, point, products, prices, method, timings):
        """A stock Tryton sale_point sale of one unit of each product, as
        the POS client does it: create the sale with its lines (the client
        knows the prices), pay it in cash with the pay wizard (which
        processes the sale once it is paid: state done, numbered), post it
        (stock moves done, account move posted). When the sale is done,
        append the milliseconds of each step to timings[step]."""
        steps = {}

        def timed(step, method_name, params):
            t0 = time.monotonic()
            try:
                result = self.call(method_name, params)
            except Exception as e:
                raise RuntimeError('%s: %s' % (step, e)) from e
            steps[step] = steps.get(step, 0) + (time.monotonic() - t0) * 1000
            return result
        sale_id, = timed('create', 'model.sale.point.sale.create', [[{
                        'point': point,
                        'lines': [['create', [{
                                        'product': p, 'quantity': 1,
                                        'unit_list_price': decimal(prices[p]),
                                        'unit_gross_price': decimal(
                                            prices[p]),
                                        } for p in products]]],
                        }], self.context])
        wizard = 'wizard.sale.point.sale.pay.'
        context = dict(self.context, active_model='sale.point.sale',
            active_id=sale_id, active_ids=[sale_id])
        session = timed('pay', wizard + 'create', [context])[0]
        try:
            view = timed('pay', wizard + 'execute',
                [session, {}, 'payment', context])['view']
            amount = view['defaults']['amount']
            result = timed('pay', wizard + 'execute', [session, {
                        'payment': {'method': method, 'amount': amount},
                        }, 'pay', context])
            if 'view' in result:
                raise RuntimeError("pay: sale %d not paid by %r" % (
                        sale_id, amount))
        except Exception:
            try:
                self.call(wizard + 'delete', [session, context])
            except Exception:
                pass  # the first error is the one to report
            raise
        timed('pay', wizard + 'delete', [session, context])
        timed('post', 'model.sale.point.sale.post', [[sale_id],
                self.context])
        for step, ms in steps.items():
            timings.setdefault(step, []).append(ms)
        return sale_id


def decimal(value):
    "A Decimal in trytond's JSON-RPC encoding"
    return {'__class__': 'Decimal', 'decimal': str(value)}


def run_sale_points(counters, points, products, prices, method, duration,
        seed=0):
    """Run one thread per counter; each sells 5-line baskets as stock
    sale_point sales at its store's sale point, as fast as it can for
    `duration` seconds. A sale one of whose calls fails is an error,
    not as done (the next sale starts anew). Return (done, errors,
    latencies in ms, seconds, {step: [ms]})"""
    latencies, errors, timings = [], [], {}
    lock = threading.Lock()
    start = time.monotonic()

    def counter(i, client, store, _cards):
        rng = random.Random(seed * 100 + i)
        mine = {}
        while time.monotonic() - start < duration:
            basket = rng.sample(products, 5)
            t0 = time.monotonic()
            try:
                client.sell(points[store], basket, prices, method, mine)
            except Exception as e:
                with lock:
                    errors.append(str(e)[:300])
                continue
            with lock:
                latencies.append((time.monotonic() - t0) * 1000)
        with lock:
            for step, values in mine.items():
                timings.setdefault(step, []).extend(values)
    threads = [threading.Thread(target=counter, args=(i, *c))
        for i, c in enumerate(counters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return (len(latencies), errors, latencies, time.monotonic() - start,
        timings)


def is_lock_failure(error):
    "A lock not obtained (NOWAIT) or a serialization failure"
    return ('could not obtain lock' in error
        or 'could not serialize access' in error)


def error_summary(errors):
    "'step: count (n lock), ...' of sale_point errors"
    by_step = {}
    for error in errors:
        step = error.split(':', 1)[0]
        count, locks = by_step.get(step, (0, 0))
        by_step[step] = (count + 1, locks + is_lock_failure(error))
    return ', '.join('%s %d (%d lock)' % (step, count, locks)
        for step, (count, locks) in sorted(by_step.items()))


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
    # The deployment's WSGI server, with the PIN check that never rehashes
    # (wsgi_cheap_pin.py)
    command = [os.path.join(bindir, 'gunicorn'),
        '-w', str(args.workers), '-b', '127.0.0.1:%d' % port,
        '--timeout', '300', '--preload', '--pythonpath', HERE,
        'wsgi_cheap_pin:app']
    kind = 'gunicorn, %d workers' % args.workers
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
    for package in ['gunicorn', 'bcrypt']:
        if not importlib.util.find_spec(package):
            raise SystemExit("bench/redemption.py needs %s: "
                ".venv/bin/pip install gunicorn bcrypt" % package)
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
    log("creating database %s with huinong_redemption and sale_point...",
        name)
    create_database(name, ['huinong_redemption', 'sale_point'])
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
        points, prices, cash_method = in_tx(name, functools.partial(
                create_sale_points, stores, products))
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

        # The same baskets as stock sale_point sales, same server
        sp_runs = {}
        for label, some in [('1', counters[:1]), ('n', counters)]:
            done, errors, latencies, seconds, steps = run_sale_points(
                some, points, products, prices, cash_method,
                args.duration, seed=4)
            locks = sum(map(is_lock_failure, errors))
            sp_runs[label] = (done / seconds, done, errors, locks,
                latencies)
            log("sale_point, %d client(s): %d sales in %.1fs: %.1f/s, "
                "p50 %.0f ms, p95 %.0f ms; mean ms of a sale: %s",
                len(some), done, seconds, done / seconds,
                percentile(latencies, 50), percentile(latencies, 95),
                ', '.join('%s %.0f' % (k, sum(v) / len(v))
                    for k, v in steps.items()))
            log("  %d errors (%d lock failures)%s", len(errors), locks,
                (': ' + error_summary(errors)) if errors else '')
            for error in dict.fromkeys(
                    e[:250] for e in errors[:1] + errors[-1:]):
                log("  e.g. %s", error)
        sp_rate = sp_runs['n'][0]
        sp_one_rate = sp_runs['1'][0]

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
    _, sp_done, sp_errors, sp_locks, sp_latencies = sp_runs['n']
    print("sale_point, same baskets, %d clients: %.1f sales/s (%d done, "
        "%d errors of which %d lock failures; p50 %.0f ms, p95 %.0f ms)" % (
            len(counters), sp_rate, sp_done, len(sp_errors), sp_locks,
            percentile(sp_latencies, 50), percentile(sp_latencies, 95)))
    print("sale_point, 1 client: %.1f sales/s (%d errors)" % (
            sp_one_rate, len(sp_runs['1'][2])))
    ratio = rate / sp_rate if sp_rate else float('nan')
    print("redemption per_s=%.1f one_client_per_s=%.1f sale_point_per_s=%.1f "
        "ratio=%.1f p95_ms=%.0f pin_ms=%.0f" % (
            rate, one_rate, sp_rate, ratio, p95, pin_ms))


if __name__ == '__main__':
    main()
