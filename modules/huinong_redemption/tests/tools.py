# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Helpers for the tests of the redemption counter and of later modules"
import datetime as dt
from decimal import Decimal

from trytond.modules.company.tests import set_company
from trytond.modules.huinong_card.tests.tools import (
    create_household, issue_card)
from trytond.modules.huinong_points.tests.tools import (
    create_programme_company, setup_ledger)
from trytond.modules.huinong_store.tests.tools import (
    create_store, create_user, get_township)
from trytond.modules.huinong_store.tests.tools_goods import (
    approve_prices, create_product, make_ean)
from trytond.pool import Pool
from trytond.transaction import Transaction

PIN = '135790'
# name, barcode serial, points price
GOODS = [
    ("东北大米 5kg", 1, 30),
    ("金龙鱼花生油 1L", 2, 20),
    ("雕牌洗衣皂", 3, 5),
    ]


def stock_in(store, product, quantity, date=None):
    """Put quantity of the product in the store's storage (a done move
    from the supplier); a negative quantity goes back to the supplier"""
    pool = Pool()
    Move = pool.get('stock.move')
    Location = pool.get('stock.location')
    Company = pool.get('company.company')
    company = Company(Transaction().context['company'])
    supplier, = Location.search([('type', '=', 'supplier')], limit=1)
    date = date or dt.date.today()
    move, = Move.create([{
                'product': product.id,
                'unit': product.default_uom.id,
                'quantity': abs(quantity),
                'from_location': (supplier if quantity > 0
                    else store.storage_location).id,
                'to_location': (store.storage_location if quantity > 0
                    else supplier).id,
                'unit_price': Decimal('8'),
                'currency': company.currency.id,
                'company': company.id,
                'effective_date': date,
                'planned_date': date,
                }])
    with Transaction().set_context(_skip_warnings=True):
        Move.do([move])
    return move


def credit(household, points, date=None):
    Ledger = Pool().get('huinong.points.ledger')
    date = date or Pool().get('ir.date').today()
    return Ledger.credit([(household, Decimal(points))], date, "评分积分")


def setup_county(stock=10, points=100):
    """The programme's company and ledger, a store in 七坊镇 (clerk
    "clerk", operator) and one in 元门乡 (clerk "clerk2"), three goods with
    approved prices and `stock` of each in both stores, two households of
    罗任村 with an issued card (PIN) and `points` points each, the township
    office user "office". Return a dict; run it in the company's context
    (set_company(result['company']))."""
    pool = Pool()
    Area = pool.get('huinong.area')
    company = create_programme_company()
    result = {'company': company}
    with set_company(company):
        setup_ledger(company)
        qifang = get_township('七坊镇')
        yuanmen = get_township('元门乡')
        village, = Area.create([
                {'name': "罗任村", 'code': 'QF01', 'parent': qifang.id}])
        clerk = create_user('clerk', 'group_clerk', [qifang])
        clerk2 = create_user('clerk2', 'group_clerk', [yuanmen])
        office = create_user('office', 'group_township_office', [qifang])
        office2 = create_user(
            'office2', 'group_township_office', [yuanmen])
        county = create_user('county', 'group_county_office')
        store = create_store(qifang, 'QF', clerks=[clerk])
        store2 = create_store(yuanmen, 'YM', clerks=[clerk2])
        today = pool.get('ir.date').today()
        products = []
        for name, serial, _ in GOODS:
            products.append(create_product(name, make_ean(serial)))
        for s in [store, store2]:
            approve_prices(s, [(p, points_) for p, (_, _, points_)
                    in zip(products, GOODS)],
                today - dt.timedelta(days=30))
            if stock:
                for product in products:
                    stock_in(s, product, stock)
        households, cards = [], []
        for serial in [1, 2]:
            household = create_household(
                village, serial, huinong_mobile='13800138000')
            households.append(household)
            cards.append(issue_card(household, PIN))
            if points:
                credit(household, points)
    result.update(village=village, township=qifang, store=store,
        store2=store2, clerk=clerk, clerk2=clerk2, office=office,
        office2=office2, county=county, products=products,
        households=households, cards=cards)
    return result
