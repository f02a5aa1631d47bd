# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Helpers for the tests of the settlement"
import datetime as dt
from decimal import Decimal

from trytond.modules.company.tests import set_company
from trytond.modules.huinong_redemption.tests.tools import (
    GOODS, credit, setup_county, stock_in)
from trytond.modules.huinong_store.tests.tools import create_user
from trytond.modules.huinong_store.tests.tools_goods import approve_prices
from trytond.pool import Pool
from trytond.transaction import Transaction, check_access


def last_month(today=None):
    "The first day of the month before today's"
    today = today or Pool().get('ir.date').today()
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def setup_settlement_county():
    """The redemption county (setup_county) with prices, stock, 500 points
    for each household and a fiscal year from the first day of the month
    before last, a finance bureau user "finance" and a bank payment
    method. Run it in the company's context."""
    pool = Pool()
    Ledger = pool.get('huinong.points.ledger')
    Journal = pool.get('account.journal')
    Account = pool.get('account.account')
    Method = pool.get('account.invoice.payment.method')
    c = setup_county(stock=0, points=0)
    start = last_month(last_month())
    with set_company(c['company']):
        Ledger.create_fiscalyear(c['company'], start)
        for household in c['households']:
            credit(household, 500, date=start)
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


SCAN = b'%PDF-1.4 signed statement'


def post_sheet(c, day, scores):
    """A posted evaluation sheet of the county's village dated day, with
    one line per household: {household index: points}"""
    pool = Pool()
    Evaluation = pool.get('huinong.evaluation')
    Criterion = pool.get('huinong.evaluation.criterion')
    Class = pool.get('huinong.household.class')
    criterion = Criterion.search([], order=[('sequence', 'ASC')])[0]
    Class.create([{
                'household': c['households'][i].id,
                'classification': 'ordinary',
                'start_date': dt.date(2020, 1, 1),
                } for i in scores
            if not Class.search([('household', '=', c['households'][i].id)])])
    sheet, = Evaluation.create([{
                'village': c['village'].id,
                'date': day,
                'lines': [('create', [{
                                'household': c['households'][i].id,
                                'scores': [('create', [{
                                                'criterion': criterion.id,
                                                'score': Decimal(points),
                                                }])],
                                } for i, points in scores.items()])],
                }])
    Evaluation._post([sheet], date=day)
    return Evaluation(sheet.id)


def transfer(c, day, points):
    "An approved transfer of points from the first household to the second"
    Transfer = Pool().get('huinong.points.transfer')
    transfer, = Transfer.create([{
                'from_household': c['households'][0].id,
                'to_household': c['households'][1].id,
                'points': Decimal(points),
                'date': day,
                'reason': "赡养老人",
                }])
    Transfer.post([transfer])
    Transfer.write([transfer], {'state': 'approved'})
    return Transfer(transfer.id)


def settle(c, store, points):
    "Settle last month of the store up to paid"
    pool = Pool()
    Settlement = pool.get('huinong.settlement')
    settlement, = Settlement.search([('store', '=', store.id)])
    Settlement.write([settlement], {
            'statement_points': Decimal(points),
            'statement_scan': SCAN,
            })
    for user, step in [(c['clerk'], Settlement.submit),
            (c['county'], Settlement.verify),
            (c['finance'], Settlement.approve)]:
        with Transaction().set_user(user.id), check_access():
            step([settlement])
    invoice = Settlement(settlement.id).invoice
    with Transaction().set_user(c['finance'].id), check_access():
        Settlement.pay_invoices([Settlement(settlement.id)],
            c['payment_method'], invoice.invoice_date)
    return Settlement(settlement.id)


def books():
    """A month of the county: a posted sheet, redemptions in both
    stores, one cancelled today, a transfer, the first store's month
    settled and paid, the second's drafted"""
    pool = Pool()
    Settlement = pool.get('huinong.settlement')
    Redemption = pool.get('huinong.redemption')
    c = setup_settlement_county()
    rice, oil, soap = c['products']
    month = last_month()
    today = pool.get('ir.date').today()
    with set_company(c['company']):
        c['sheet'] = post_sheet(c, month + dt.timedelta(days=1),
            {0: 40, 1: 25})
        c['r1'] = redeem_on(c, month + dt.timedelta(days=2), [(rice, 2)])
        c['r2'] = redeem_on(c, month + dt.timedelta(days=3),
            [(oil, 1), (soap, 2)], card=1)
        c['r3'] = redeem_on(c, month + dt.timedelta(days=3),
            [(soap, 1)], store=c['store2'])
        c['transfer'] = transfer(c, month + dt.timedelta(days=4), 15)
        Settlement.create_month()
        c['settlement'] = settle(c, c['store'], 90)
        c['r4'] = redeem_on(c, today, [(oil, 2)])
        c['r5'] = redeem_on(c, today, [(rice, 1)], card=1)
        Redemption.cancel([c['r5']], "顾客退货")
        c['r5'] = Redemption(c['r5'].id)
    assert c['r5'].state == 'cancelled'
    assert c['settlement'].state == 'paid'
    return c
