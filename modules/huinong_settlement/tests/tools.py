# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Helpers for the tests of the settlement"
import datetime as dt

from trytond.modules.company.tests import set_company
from trytond.modules.huinong_redemption.tests.tools import (
    GOODS, setup_county, stock_in)
from trytond.modules.huinong_store.tests.tools import create_user
from trytond.modules.huinong_store.tests.tools_goods import approve_prices
from trytond.pool import Pool
from trytond.transaction import Transaction


def last_month(today=None):
    "The first day of the month before today's"
    today = today or Pool().get('ir.date').today()
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def setup_settlement_county():
    """The redemption county (setup_county) with prices, stock and a fiscal
    year from the first day of the month before last, a finance bureau
    user "finance" and a bank payment method. Run it in the company's
    context."""
    pool = Pool()
    Ledger = pool.get('huinong.points.ledger')
    Journal = pool.get('account.journal')
    Account = pool.get('account.account')
    Method = pool.get('account.invoice.payment.method')
    c = setup_county(stock=0, points=500)
    start = last_month(last_month())
    with set_company(c['company']):
        Ledger.create_fiscalyear(c['company'], start)
        for store in [c['store'], c['store2']]:
            approve_prices(store, [(p, points) for p, (_, _, points)
                    in zip(c['products'], GOODS)], start)
            for product in c['products']:
                stock_in(store, product, 50, date=start)
        cash, = Journal.search([('type', '=', 'cash')], limit=1)
        bank, = Account.search([('code', '=', '1002')])
        method, = Method.create([{
                    'name': "银行转账",
                    'company': c['company'].id,
                    'journal': cash.id,
                    'credit_account': bank.id,
                    'debit_account': bank.id,
                    }])
    c['finance'] = create_user('finance', 'group_finance')
    c['payment_method'] = method
    return c


def redeem_on(c, day, lines, store=None, card=0):
    """A done redemption at the store on day (10 o'clock), as the root
    user; lines: [(product, quantity)]"""
    pool = Pool()
    Redemption = pool.get('huinong.redemption')
    redemption, = Redemption.create([{
                'store': (store or c['store']).id,
                'card': c['cards'][card].id,
                'lines': [('create', [{
                                'kind': 'goods',
                                'product': p.id,
                                'quantity': q,
                                } for p, q in lines])],
                }])
    with Transaction().set_user(0):
        Redemption._confirm(redemption, None, pin_checked=True,
            at=dt.datetime.combine(day, dt.time(10)), notify=False)
    return Redemption(redemption.id)
