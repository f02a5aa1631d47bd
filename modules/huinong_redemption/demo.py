# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Demo redemptions: in every store, some households redeem goods in each
of the months after the demo's posted evaluation sheets."""
import datetime as dt
import random
from collections import defaultdict

from trytond.modules.huinong_points.demo import previous_months
from trytond.modules.huinong_points.evaluation import month_bounds
from trytond.transaction import Transaction

from trytond.exceptions import UserError


def create_demo_redemptions(pool, today=None, months=3, per_store=6,
        seed=20190301):
    """Create done redemptions in every store for each of the `months`
    months that follow a month of posted sheets, up to yesterday, as
    the administrator (no PIN, no text message), and post their ledger
    moves. Idempotent: nothing is done when a redemption exists. Return
    statistics."""
    Redemption = pool.get('huinong.redemption')
    Card = pool.get('huinong.card')
    Location = pool.get('stock.location')
    Product = pool.get('product.product')
    Party = pool.get('party.party')
    Ledger = pool.get('huinong.points.ledger')
    Hours = pool.get('huinong.store.opening_hours')
    Date = pool.get('ir.date')
    transaction = Transaction()
    stats = {'redemptions': 0}
    config = Ledger.config()
    if not config.points_company or Redemption.search([], limit=1):
        return stats
    company = config.points_company
    if today is None:
        with transaction.set_context(company=company.id):
            today = Date.today()
    rng = random.Random(seed)
    stores = Location.search([('huinong_store', '=', True)],
        order=[('code', 'ASC')])
    cards = defaultdict(list)
    for card in Card.search([('state', '=', 'issued')],
            order=[('number', 'ASC')]):
        cards[card.township.id if card.township else None].append(card)
    goods = Product.search([
            ('type', '=', 'goods'),
            ('huinong_blocked', '!=', True),
            ], order=[('id', 'ASC')])
    prices = {p: v for p, v in Product.get_huinong_points_prices(
            goods, today).items() if v}
    goods = [g for g in goods if g.id in prices]
    if not stores or not goods:
        return stats
    # Every lock at once (trytond restarts the transaction for each new
    # lock): the households of the cards and the stores' goods
    Redemption._lock(stores[0],
        [c.household for cs in cards.values() for c in cs], [])
    for store in stores:
        Redemption._lock(store, [], goods)
    balances = Party.get_huinong_points_balance(
        [c.household for cs in cards.values() for c in cs],
        'huinong_points_balance')
    zone = Hours.local_timezone()
    with transaction.set_context(company=company.id):
        for month in previous_months(today, months):
            _, last = month_bounds(month)
            first = last + dt.timedelta(days=6)
            _, end = month_bounds(first)
            end = min(end, today - dt.timedelta(days=1))
            if end < first:
                continue
            for store in stores:
                store_cards = cards.get(store.huinong_township.id) or []
                if not store_cards:
                    continue
                for _ in range(per_store):
                    card = rng.choice(store_cards)
                    balance = balances[card.household.id]
                    # At most half the balance: the households keep
                    # points for the counter of the demo
                    budget = balance // 2
                    lines = []
                    for product in rng.sample(goods, rng.randint(1, 3)):
                        points = prices[product.id]
                        if points <= budget:
                            quantity = 1 if points * 2 > budget else (
                                rng.randint(1, 2))
                            budget -= points * quantity
                            balance -= points * quantity
                            lines.append({
                                    'kind': 'goods',
                                    'product': product.id,
                                    'quantity': quantity,
                                    })
                    if not lines:
                        continue
                    day = first + dt.timedelta(
                        days=rng.randint(0, (end - first).days))
                    # Mostly in the opening hours (8-12, 14-18:30); now
                    # and then at lunch time, for the township office's
                    # list of redemptions outside the opening hours
                    hour = rng.choice([8, 9, 10, 11, 14, 15, 16, 17] * 5
                        + [12])
                    local = dt.datetime.combine(day, dt.time(
                            hour, rng.randint(0, 59)), tzinfo=zone)
                    at = local.astimezone(dt.timezone.utc).replace(
                        tzinfo=None)
                    redemption, = Redemption.create([{
                                'store': store.id,
                                'card': card.id,
                                'lines': [('create', lines)],
                                }])
                    try:
                        Redemption._confirm(redemption, None,
                            pin_checked=True, at=at, notify=False)
                    except UserError:
                        # Not in stock that day, say: the checks come
                        # before anything is written
                        Redemption.delete([redemption])
                        continue
                    balances[card.household.id] = balance
                    stats['redemptions'] += 1
        Ledger.post_drafts(today)
    return stats
