# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Demo stores: one per township (not registered in the pool).

Call inside a transaction of a database where huinong_store is activated,
as root (or a user of the county office)::

    from trytond.modules.huinong_store.demo import create_demo_stores
    stats = create_demo_stores(Pool())

Running it again adds nothing: the stores are matched by their code, the
operators by their name.
"""
import datetime as dt

from trytond.transaction import inactive_records

# The demo stores by township XML id (module huinong): code, store name,
# operator (the party running the village e-commerce service station),
# phone. The first two are the model stores of the programme.
DEMO_STORES = [
    ('area_qifang', 'STORE-QF01', "七坊镇电商惠农超市示范店",
        "七坊镇罗任村村淘服务站（符美玲）", '0898-27721101'),
    ('area_yuanmen', 'STORE-YM01', "元门乡电商惠农超市示范店",
        "元门乡向民村村淘服务站（王海英）", '0898-27721201'),
    ('area_yacha', 'STORE-YC01', "牙叉镇电商惠农超市",
        "牙叉镇村淘服务站（陈家兴）", '0898-27721301'),
    ('area_bangxi', 'STORE-BX01', "邦溪镇电商惠农超市",
        "邦溪镇村淘服务站（吉文清）", '0898-27721401'),
    ('area_daan', 'STORE-DA01', "打安镇电商惠农超市",
        "打安镇村淘服务站（符少军）", '0898-27721501'),
    ('area_xishui', 'STORE-XS01', "细水乡电商惠农超市",
        "细水乡村淘服务站（羊春燕）", '0898-27721601'),
    ('area_nankai', 'STORE-NK01', "南开乡电商惠农超市",
        "南开乡村淘服务站（王德福）", '0898-27721701'),
    ('area_fulong', 'STORE-FL01', "阜龙乡电商惠农超市",
        "阜龙乡村淘服务站（李玉珍）", '0898-27721801'),
    ('area_qingsong', 'STORE-QS01', "青松乡电商惠农超市",
        "青松乡村淘服务站（符国强）", '0898-27721901'),
    ('area_jinbo', 'STORE-JB01', "金波乡电商惠农超市",
        "金波乡村淘服务站（黄秀兰）", '0898-27722001'),
    ('area_rongbang', 'STORE-RB01', "荣邦乡电商惠农超市",
        "荣邦乡村淘服务站（吉明华）", '0898-27722101'),
    ]
DEMO_HOURS = [(dt.time(8), dt.time(12)), (dt.time(14), dt.time(18, 30))]
# The demo clerks by login and the code of their store
DEMO_CLERKS = {
    'qifang_clerk': 'STORE-QF01',
    }


def create_demo_stores(pool):
    """Create the demo stores and their operators, put the demo clerks in
    their store; return the counts of what was created"""
    ModelData = pool.get('ir.model.data')
    Location = pool.get('stock.location')
    Party = pool.get('party.party')
    User = pool.get('res.user')

    stats = {'stores': 0, 'operators': 0, 'clerks': 0}
    with inactive_records():
        existing = {s.code: s for s in Location.search([
                    ('code', 'in', [s[1] for s in DEMO_STORES]),
                    ])}
        operators = {p.name: p for p in Party.search([
                    ('name', 'in', [s[3] for s in DEMO_STORES]),
                    ])}
    new_operators = [Party(name=s[3]) for s in DEMO_STORES
        if s[3] not in operators]
    Party.save(new_operators)
    operators.update((p.name, p) for p in new_operators)
    stats['operators'] = len(new_operators)

    to_create = []
    for township, code, name, operator, phone in DEMO_STORES:
        if code in existing:
            continue
        to_create.append({
                'name': name,
                'code': code,
                'type': 'warehouse',
                'huinong_store': True,
                'huinong_township': ModelData.get_id('huinong', township),
                'huinong_operator': operators[operator].id,
                'huinong_phone': phone,
                'huinong_opening_hours': [('create', [{
                                'weekday': str(weekday),
                                'opens': opens,
                                'closes': closes,
                                }
                            for weekday in range(1, 8)
                            for opens, closes in DEMO_HOURS])],
                })
    if to_create:
        existing.update((s.code, s) for s in Location.create(to_create))
    stats['stores'] = len(to_create)

    users = {u.login: u for u in User.search([
                ('login', 'in', list(DEMO_CLERKS)),
                ])}
    for login, code in DEMO_CLERKS.items():
        user = users.get(login)
        store = existing.get(code)
        if not user or not store or user in store.huinong_clerks:
            continue
        Location.write([store], {'huinong_clerks': [('add', [user.id])]})
        stats['clerks'] += 1
    return stats


# The demo goods: name, market price (yuan), points price; their EAN-13 is
# made from DEMO_EAN_PREFIX and the index (a valid check digit)
DEMO_GOODS = [
    ("大米 5kg", '32.00', 32),
    ("大米 10kg", '62.00', 62),
    ("食用油 5L", '65.00', 65),
    ("花生油 1.8L", '42.50', 43),
    ("面粉 2.5kg", '16.80', 17),
    ("挂面 1kg", '8.50', 9),
    ("鸡蛋 30枚", '28.00', 28),
    ("食盐 400g", '2.50', 3),
    ("白糖 1kg", '9.80', 10),
    ("酱油 500ml", '7.50', 8),
    ("米醋 500ml", '5.50', 6),
    ("蚝油 700g", '9.90', 10),
    ("味精 200g", '4.50', 5),
    ("方便面 5连包", '12.50', 13),
    ("八宝粥 6罐", '21.00', 21),
    ("纯牛奶 12盒", '48.00', 48),
    ("茶叶 250g", '35.00', 35),
    ("洗衣粉 2kg", '19.90', 20),
    ("洗洁精 1.5kg", '12.90', 13),
    ("肥皂 4块", '10.00', 10),
    ("洗发水 750ml", '39.00', 39),
    ("沐浴露 1L", '36.00', 36),
    ("牙膏 120g", '8.90', 9),
    ("牙刷 4支", '9.90', 10),
    ("毛巾", '12.00', 12),
    ("卫生纸 10卷", '22.00', 22),
    ("洗衣皂 2块", '6.00', 6),
    ("蚊香 40单圈", '15.00', 15),
    ("电池 5号 4节", '10.00', 10),
    ("塑料水桶", '18.00', 18),
    ]
DEMO_EAN_PREFIX = '6921168'
# The demo points bands (按积分整理摆放): name, from, to
DEMO_BANDS = [
    ("10分及以下", 0, 10),
    ("11-30分", 11, 30),
    ("31-50分", 31, 50),
    ("51分及以上", 51, None),
    ]


def demo_ean(index):
    "The EAN-13 of the index-th demo goods"
    from stdnum import ean
    body = '%s%05d' % (DEMO_EAN_PREFIX, index + 1)
    return body + ean.calc_check_digit(body)


def demo_period_start(today=None):
    "The first day of the month a year before today: the demo's start"
    today = today or dt.date.today()
    return (today - dt.timedelta(days=365)).replace(day=1)


def create_demo_goods(pool, start=None):
    """Create the demo goods with their barcode, the points bands, one
    decided price review per demo store with the prices effective from the
    start of the demo period, and the initial stock of every demo store
    (done moves from the supplier to the store). Run as root after the
    stores and the company; running it again adds nothing."""
    from decimal import Decimal

    Band = pool.get('huinong.points.band')
    Company = pool.get('company.company')
    Identifier = pool.get('product.identifier')
    Line = pool.get('huinong.price.review.line')
    Location = pool.get('stock.location')
    ModelData = pool.get('ir.model.data')
    Move = pool.get('stock.move')
    Review = pool.get('huinong.price.review')
    Template = pool.get('product.template')

    start = start or demo_period_start()
    stats = {'goods': 0, 'bands': 0, 'price_reviews': 0, 'stock_moves': 0}
    unit = ModelData.get_id('product', 'uom_unit')

    # Goods, matched by their barcode
    codes = [demo_ean(i) for i in range(len(DEMO_GOODS))]
    with inactive_records():
        existing = {i.code: i.product for i in Identifier.search([
                    ('type', '=', 'ean'),
                    ('code', 'in', codes),
                    ])}
    to_create = []
    for code, (name, market, points) in zip(codes, DEMO_GOODS):
        if code in existing:
            continue
        values = {
            'name': name,
            'type': 'goods',
            'default_uom': unit,
            'products': [('create', [{
                            'identifiers': [('create', [{
                                            'type': 'ean', 'code': code,
                                            }])],
                            }])],
            }
        if 'purchasable' in Template._fields:
            values['purchasable'] = True
            values['purchase_uom'] = unit
        to_create.append(values)
    if to_create:
        for template in Template.create(to_create):
            product, = template.products
            existing[product.identifiers[0].code] = product
        stats['goods'] = len(to_create)
    goods = [(existing[c], Decimal(m), Decimal(p))
        for c, (_, m, p) in zip(codes, DEMO_GOODS)]

    # Points bands
    if not Band.search([], limit=1):
        Band.create([{
                    'name': name,
                    'sequence': i,
                    'from_points': Decimal(low),
                    'to_points': Decimal(high) if high is not None else None,
                    } for i, (name, low, high) in enumerate(DEMO_BANDS)])
        stats['bands'] = len(DEMO_BANDS)

    stores = Location.search([
            ('code', 'in', [s[1] for s in DEMO_STORES]),
            ('huinong_store', '=', True),
            ], order=[('code', 'ASC')])

    # One decided review per store, effective from the start
    reviewed = {r.store.id for r in Review.search([
                ('store', 'in', [s.id for s in stores]),
                ('state', '=', 'decided'),
                ])}
    to_review = [s for s in stores if s.id not in reviewed]
    if to_review:
        reviews = Review.create([{
                    'store': store.id,
                    'date': start,
                    'effective_date': start,
                    'description': "首批商品积分价格审核",
                    'lines': [('create', [{
                                    'sequence': i,
                                    'product': product.id,
                                    'market_price': market,
                                    'proposed_points_price': points,
                                    } for i, (product, market, points)
                                in enumerate(goods)])],
                    } for store in to_review])
        Review.submit(reviews)
        Review.collect(reviews)
        Review.send(reviews)
        lines = [l for r in reviews for l in r.lines]
        for line in lines:
            line.decision = 'approved'
            line.approved_points_price = line.proposed_points_price
        Line.save(lines)
        Review.decide(reviews)
        stats['price_reviews'] = len(reviews)

    # Initial stock: done moves from the supplier, unless already stocked
    companies = Company.search([], limit=1)
    if not companies:
        return stats
    company, = companies
    supplier, = Location.search([('type', '=', 'supplier')], limit=1)
    stocked = {m.to_location.id for m in Move.search([
                ('from_location', '=', supplier.id),
                ('to_location', 'in', [s.storage_location.id for s in stores]),
                ('state', '=', 'done'),
                ])}
    moves = []
    for store in stores:
        if store.storage_location.id in stocked:
            continue
        for i, (product, market, _) in enumerate(goods):
            moves.append(Move(
                    product=product,
                    unit=unit,
                    quantity=float(10 + (i * 7 + len(store.code)) % 40),
                    from_location=supplier,
                    to_location=store.storage_location,
                    company=company,
                    unit_price=market,
                    currency=company.currency,
                    planned_date=start,
                    effective_date=start,
                    ))
    if moves:
        Move.save(moves)
        Move.do(moves)
        stats['stock_moves'] = len(moves)
    return stats
