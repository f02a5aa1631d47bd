# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.cache import Cache
from trytond.i18n import gettext
from trytond.model import ModelSQL, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access

from .exceptions import UserGroupsValidationError


# The roles that answer for the whole county (R-ORG-3)
COUNTY_GROUPS = [
    'group_county_office',
    'group_finance',
    'group_price',
    'group_food_drug',
    'group_hq',
    'group_auditor',
    ]


class User(metaclass=PoolMeta):
    __name__ = 'res.user'

    huinong_areas = fields.Many2Many(
        'res.user-huinong.area', 'user', 'area', "Areas",
        help="The county, townships or villages this user answers for.\n"
        "Township and village staff see only the records of their areas.")

    _get_huinong_scope_cache = Cache(
        __name__ + '.get_huinong_scope', context=False)

    @classmethod
    def get_huinong_scope(cls):
        """Return the current user's scope as a tuple
        (area ids, township ids, village ids), see huinong.area.get_scope"""
        pool = Pool()
        Area = pool.get('huinong.area')
        user_id = Transaction().user
        scope = cls._get_huinong_scope_cache.get(user_id)
        if scope is not None:
            return tuple(tuple(s) for s in scope)
        # The scope feeds the rules: compute it without them
        with without_check_access():
            user = cls(user_id)
            area_ids = [a.id for a in user.huinong_areas] if user_id else []
            scope = Area.get_scope(area_ids)
        cls._get_huinong_scope_cache.set(user_id, scope)
        return scope

    @classmethod
    def is_huinong_county_wide(cls):
        "Whether the current user answers for the whole county"
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        if not Transaction().user:
            return True
        county_groups = {
            ModelData.get_id('huinong', g) for g in COUNTY_GROUPS}
        county_groups.add(ModelData.get_id('res', 'group_admin'))
        return bool(county_groups & set(cls.get_groups()))

    @classmethod
    def get_huinong_villages(cls):
        """Return the ids of the villages the current user answers for, or
        None when the user answers for the whole county"""
        if cls.is_huinong_county_wide():
            return None
        return set(cls.get_huinong_scope()[2])

    @classmethod
    def on_modification(cls, mode, users, field_names=None):
        super().on_modification(mode, users, field_names=field_names)
        if mode == 'write':
            cls._get_huinong_scope_cache.clear()

    @classmethod
    def validate_fields(cls, users, field_names):
        super().validate_fields(users, field_names)
        cls.check_huinong_groups(users, field_names)

    @classmethod
    def check_huinong_groups(cls, users, field_names=None):
        """The supervision group of a village is chosen among people who
        are not in its evaluation group (R-ORG-2): nobody is in both."""
        ModelData = Pool().get('ir.model.data')
        if field_names and 'groups' not in field_names:
            return
        exclusive = {
            ModelData.get_id('huinong', 'group_evaluation'),
            ModelData.get_id('huinong', 'group_supervision'),
            }
        for user in users:
            if exclusive <= {g.id for g in user.groups}:
                raise UserGroupsValidationError(gettext(
                        'huinong.msg_user_evaluation_supervision',
                        user=user.rec_name))


class UserArea(ModelSQL):
    "User - Area"
    __name__ = 'res.user-huinong.area'

    user = fields.Many2One(
        'res.user', "User", ondelete='CASCADE', required=True)
    area = fields.Many2One(
        'huinong.area', "Area", ondelete='CASCADE', required=True)

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        pool = Pool()
        User = pool.get('res.user')
        super().on_modification(mode, records, field_names=field_names)
        User._get_huinong_scope_cache.clear()
