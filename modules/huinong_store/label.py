# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Shelving by points value (按积分整理摆放, R-GOODS-2): the points bands
that the county sets and the shelf labels of a store, grouped by band."""
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields, sequence_ordered
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.report import Report
from trytond.transaction import Transaction, check_access

from .exceptions import PointsBandError
from .product import POINTS_DIGITS


class PointsBand(sequence_ordered(), ModelSQL, ModelView):
    "Points Band"
    __name__ = 'huinong.points.band'

    name = fields.Char("Name", required=True, translate=True,
        help="Shown above the goods of the band on the shelf labels.")
    from_points = fields.Numeric(
        "From Points", digits=POINTS_DIGITS, required=True,
        domain=[('from_points', '>=', 0)],
        help="The lowest points price of the band (included).")
    to_points = fields.Numeric(
        "To Points", digits=POINTS_DIGITS,
        domain=[
            If(Eval('to_points', None) != None,  # noqa: E711
                ('to_points', '>=', Eval('from_points', 0)),
                ()),
            ],
        help="The highest points price of the band (included); empty for "
        "no limit.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(1, ('from_points', 'ASC'))

    def contains(self, points):
        return (self.from_points <= points
            and (self.to_points is None or points <= self.to_points))

    def get_rec_name(self, name):
        if self.to_points is None:
            return '%s (≥ %s)' % (self.name, self.from_points)
        return '%s (%s-%s)' % (self.name, self.from_points, self.to_points)

    @classmethod
    def validate_fields(cls, bands, field_names):
        super().validate_fields(bands, field_names)
        if field_names & {'from_points', 'to_points'}:
            cls.check_overlap(bands)

    @classmethod
    def check_overlap(cls, bands):
        "Bands do not overlap: a price belongs to one band"
        others = cls.search([])
        for band in bands:
            for other in others:
                if other.id == band.id:
                    continue
                high = band.to_points
                other_high = other.to_points
                if ((other_high is None or band.from_points <= other_high)
                        and (high is None or other.from_points <= high)):
                    raise PointsBandError(gettext(
                            'huinong_store.msg_points_band_overlap',
                            band=band.rec_name, other=other.rec_name))


class ShelfLabel(Report):
    "Shelf Labels"
    __name__ = 'huinong.store.shelf_label'

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        context['bands'] = cls.bands
        return context

    @classmethod
    def goods(cls, store):
        """Return the goods to label in the store: not blocked, with a
        points price today, approved by a review of the store or in its
        stock"""
        pool = Pool()
        Product = pool.get('product.product')
        PointsPrice = pool.get('huinong.product.points_price')
        with check_access():
            approved = {p.product for p in PointsPrice.search([
                        ('review_line.review.store', '=', store.id),
                        ])}
        with Transaction().set_context(_check_access=False):
            priced = {p.product for p in PointsPrice.search([])}
            quantities = Product.products_by_location(
                [store.id], with_childs=True,
                grouping_filter=([p.id for p in priced],)) if priced else {}
        in_stock = {p for p in priced
            if quantities.get((store.id, p.id), 0) > 0}
        products = [p for p in (approved | in_stock)
            if not p.huinong_blocked]
        prices = Product.get_huinong_points_prices(products)
        return [(p, prices[p.id]) for p in products if prices[p.id]]

    @classmethod
    def bands(cls, store):
        """Return [(band name, [label])] of the store by band and points,
        each label a dictionary of name, points, code and unit; goods out of
        every band come last under "Other"."""
        pool = Pool()
        Band = pool.get('huinong.points.band')
        bands = Band.search([])
        grouped = {b.id: [] for b in bands}
        other = []
        for product, points in cls.goods(store):
            identifier = product.identifier_get('ean')
            label = {
                'name': product.name,
                'points': str(points),
                'code': identifier.code if identifier else '',
                'unit': product.default_uom.symbol or product.default_uom.name,
                }
            for band in bands:
                if band.contains(points):
                    grouped[band.id].append((points, product.name, label))
                    break
            else:
                other.append((points, product.name, label))
        result = []
        for band in bands:
            if grouped[band.id]:
                result.append((band.rec_name, [l for _, _, l in sorted(
                                grouped[band.id], key=lambda x: x[:2])]))
        if other:
            result.append((gettext('huinong_store.msg_points_band_other'),
                    [l for _, _, l in sorted(other, key=lambda x: x[:2])]))
        return result
