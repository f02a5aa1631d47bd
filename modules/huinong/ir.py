# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.pool import Pool, PoolMeta


class Rule(metaclass=PoolMeta):
    __name__ = 'ir.rule'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.domain.help += (
            '\n- "huinong_area_ids" as list of ids of the user\'s areas '
            'and their descendants'
            '\n- "huinong_township_ids" as list of ids of the townships '
            'the user answers for'
            '\n- "huinong_village_ids" as list of ids of the villages '
            'the user answers for')

    @classmethod
    def _get_cache_key(cls, model_names):
        pool = Pool()
        User = pool.get('res.user')
        key = super()._get_cache_key(model_names)
        return (*key, User.get_huinong_scope())

    @classmethod
    def _get_context(cls, model_name):
        pool = Pool()
        User = pool.get('res.user')
        context = super()._get_context(model_name)
        areas, townships, villages = User.get_huinong_scope()
        context['huinong_area_ids'] = list(areas)
        context['huinong_township_ids'] = list(townships)
        context['huinong_village_ids'] = list(villages)
        return context
