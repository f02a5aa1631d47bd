# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Paying approved settlements: one store or every store of a month at
once, from the settlements themselves (the finance bureau's last step,
attachment 9)."""
from decimal import Decimal

from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard



class PayStart(ModelView):
    "Pay Settlements"
    __name__ = 'huinong.settlement.pay.start'

    company = fields.Many2One('company.company', "Company", readonly=True)
    payment_method = fields.Many2One(
        'account.invoice.payment.method', "Payment Method", required=True,
        domain=[('company', '=', Eval('company', -1))])
    date = fields.Date("Payment Date", required=True)
    settlements = fields.Many2Many(
        'huinong.settlement', None, None, "Settlements", readonly=True)
    total = fields.Numeric("Total (CNY)", digits=(16, 2), readonly=True)


class Pay(Wizard):
    "Pay Settlements"
    __name__ = 'huinong.settlement.pay'

    start = StateView(
        'huinong.settlement.pay.start',
        'huinong_settlement.settlement_pay_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Pay", 'pay', 'tryton-ok', default=True),
            ])
    pay = StateTransition()

    def default_start(self, fields):
        pool = Pool()
        Method = pool.get('account.invoice.payment.method')
        Ledger = pool.get('huinong.points.ledger')
        Date = pool.get('ir.date')
        Settlement = pool.get('huinong.settlement')
        settlements = Settlement.payable(self.records)
        company = Ledger.config().points_company
        methods = Method.search([('company', '=', company.id)])
        with Transaction().set_context(company=company.id):
            today = Date.today()
        return {
            'company': company.id,
            # the county has one way to pay its stores: take it
            'payment_method': methods[0].id if len(methods) == 1 else None,
            'date': today,
            'settlements': [s.id for s in settlements],
            'total': sum((s.invoice.amount_to_pay for s in settlements),
                Decimal(0)),
            }

    def transition_pay(self):
        pool = Pool()
        Settlement = pool.get('huinong.settlement')
        Settlement.pay_invoices(
            Settlement.payable(self.records), self.start.payment_method,
            self.start.date)
        return 'end'
