# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Helpers for goods, points prices and purchases, for the tests of the
store module and of later modules (redemption)."""
from decimal import Decimal

from stdnum import ean

from trytond.pool import Pool
from trytond.transaction import Transaction


def make_ean(serial, prefix='690'):
    "Return a valid EAN-13 made of the prefix and the serial number"
    body = ('%s%09d' % (prefix, serial))[:12]
    return body + ean.calc_check_digit(body)


def create_product(name, code=None, list_price=None, unit='unit', **values):
    "Create purchasable goods with an EAN barcode when code is given"
    pool = Pool()
    Template = pool.get('product.template')
    Uom = pool.get('product.uom')
    ModelData = pool.get('ir.model.data')
    uom = Uom(ModelData.get_id('product', 'uom_%s' % unit))
    template_values = {
        'name': name,
        'type': 'goods',
        'default_uom': uom.id,
        'products': [('create', [{
                        'identifiers': [('create', [{
                                        'type': 'ean', 'code': code}])]
                        if code else [],
                        }])],
        }
    if list_price is not None:
        # The list price is per company: needs one in the context
        template_values['list_price'] = list_price
    if 'purchasable' in Template._fields:
        template_values['purchasable'] = True
        template_values['purchase_uom'] = uom.id
    template_values.update(values)
    template, = Template.create([template_values])
    product, = template.products
    return product


def approve_prices(store, prices, effective_date, market=None):
    """Approve the points prices [(product, points)] for the store from the
    effective date, as the root user; return the decided review"""
    pool = Pool()
    Review = pool.get('huinong.price.review')
    with Transaction().set_user(0):
        review, = Review.create([{
                    'store': store.id,
                    'date': effective_date,
                    'effective_date': effective_date,
                    'lines': [('create', [{
                                    'product': p.id,
                                    'market_price': (market or {}).get(
                                        p, Decimal(points)),
                                    'proposed_points_price': Decimal(points),
                                    } for p, points in prices])],
                    }])
        Review.submit([review])
        Review.collect([review])
        Review.send([review])
        Line = pool.get('huinong.price.review.line')
        for line in review.lines:
            Line.write([line], {
                    'decision': 'approved',
                    'approved_points_price': line.proposed_points_price,
                    })
        Review.decide([review])
    return Review(review.id)
