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
