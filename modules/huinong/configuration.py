# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.model import ModelSingleton, ModelSQL, ModelView, fields
from trytond.pool import Pool


class Configuration(ModelSingleton, ModelSQL, ModelView):
    "Points Supermarket Configuration"
    __name__ = 'huinong.configuration'

    county = fields.Many2One(
        'huinong.area', "County",
        domain=[('type', '=', 'county')],
        help="The county that runs the programme.")

    @classmethod
    def default_county(cls):
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        try:
            return ModelData.get_id('huinong', 'area_baisha')
        except KeyError:
            return None
