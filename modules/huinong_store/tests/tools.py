# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Helpers for the tests of the store module and of later modules"
import datetime as dt

from trytond.pool import Pool

# 8:00-12:00 and 14:00-18:30 (8.5 hours)
SPLIT_DAY = [(dt.time(8), dt.time(12)), (dt.time(14), dt.time(18, 30))]


def hours(intervals=None, weekdays='1234567'):
    "Return the values of opening hours lines for each weekday"
    if intervals is None:
        intervals = SPLIT_DAY
    return [{'weekday': w, 'opens': o, 'closes': c}
        for w in weekdays for o, c in intervals]


def create_user(login, group, areas=(), module='huinong'):
    "Create a user in the group (xml id) answering for the areas"
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    user, = User.create([{
                'login': login,
                'name': login,
                'groups': [('add', [ModelData.get_id(module, group)])],
                'huinong_areas': [('add', [a.id for a in areas])],
                }])
    return user


def get_township(name):
    pool = Pool()
    Area = pool.get('huinong.area')
    township, = Area.search([('name', '=', name), ('type', '=', 'township')])
    return township


def create_operator(name):
    pool = Pool()
    Party = pool.get('party.party')
    party, = Party.create([{'name': name}])
    return party


def create_store(township, code, name=None, clerks=(), operator=None,
        intervals=None, **values):
    "Create a store of the township open on the intervals every day"
    pool = Pool()
    Location = pool.get('stock.location')
    if operator is None:
        operator = create_operator("%s服务站" % township.name)
    store, = Location.create([{
                'name': name or "%s电商惠农超市" % township.name,
                'code': code,
                'type': 'warehouse',
                'huinong_store': True,
                'huinong_township': township.id,
                'huinong_operator': operator.id,
                'huinong_clerks': [('add', [c.id for c in clerks])],
                'huinong_opening_hours': [('create', hours(intervals))],
                **values}])
    return store
