# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, Unique, fields, tree)
from trytond.pool import Pool
from trytond.pyson import Eval, If

from .exceptions import AreaValidationError

AREA_TYPES = [
    ('county', "County"),
    ('township', "Township"),
    ('village', "Village"),
    ]
# The type a parent must have, by the type of its child.
PARENT_TYPE = {
    'county': None,
    'township': 'county',
    'village': 'township',
    }


class Area(DeactivableMixin, tree(separator=' / '), ModelSQL, ModelView):
    "Administrative area: the county, its townships and their villages"
    __name__ = 'huinong.area'

    name = fields.Char("Name", required=True)
    code = fields.Char(
        "Code", required=True,
        help="The administrative division code, unique in the county.")
    type = fields.Selection(AREA_TYPES, "Type", required=True, sort=False)
    parent = fields.Many2One(
        'huinong.area', "Parent", ondelete='RESTRICT',
        domain=[
            If(Eval('type') == 'village',
                ('type', '=', 'township'),
                ('type', '=', 'county')),
            ],
        states={
            'required': Eval('type') != 'county',
            'invisible': Eval('type') == 'county',
            })
    children = fields.One2Many('huinong.area', 'parent', "Children")
    township = fields.Function(fields.Many2One(
            'huinong.area', "Township",
            help="The township of a village, or the township itself."),
        'get_township', searcher='search_township')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_unique', Unique(t, t.code),
                'huinong.msg_area_code_unique'),
            ]
        cls._order.insert(0, ('code', 'ASC'))

    @classmethod
    def default_type(cls):
        return 'village'

    def get_rec_name(self, name):
        return self.name

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        if operator.startswith('!') or operator.startswith('not '):
            bool_op = 'AND'
        else:
            bool_op = 'OR'
        return [bool_op,
            ('name', operator, operand, *extra),
            ('code', operator, operand, *extra),
            ]

    def get_township(self, name):
        if self.type == 'township':
            return self.id
        elif self.type == 'village' and self.parent:
            return self.parent.id

    @classmethod
    def search_township(cls, name, clause):
        _, operator, operand, *extra = clause
        nested = clause[0][len(name) + 1:]
        if not nested:
            nested = 'rec_name' if isinstance(operand, str) else 'id'
        return ['OR',
            [('type', '=', 'township'),
                (nested, operator, operand, *extra)],
            [('type', '=', 'village'),
                ('parent.' + nested, operator, operand, *extra)],
            ]

    @classmethod
    def _type_label(cls, type_):
        return dict(cls.fields_get(['type'])['type']['selection'])[type_]

    @classmethod
    def validate_fields(cls, areas, field_names):
        super().validate_fields(areas, field_names)
        if field_names & {'type', 'parent'}:
            cls.check_hierarchy(areas)

    @classmethod
    def check_hierarchy(cls, areas):
        "A village belongs to a township, a township to the county"
        for area in areas:
            for record in [area, *area.children]:
                expected = PARENT_TYPE[record.type]
                parent_type = record.parent.type if record.parent else None
                if parent_type == expected:
                    continue
                if expected is None:
                    raise AreaValidationError(gettext(
                            'huinong.msg_area_county_parent',
                            area=record.rec_name))
                raise AreaValidationError(gettext(
                        'huinong.msg_area_parent_type',
                        area=record.rec_name,
                        type=cls._type_label(expected)))

    @classmethod
    def on_modification(cls, mode, areas, field_names=None):
        pool = Pool()
        User = pool.get('res.user')
        super().on_modification(mode, areas, field_names=field_names)
        # The users' scopes are derived from the tree
        User._get_huinong_scope_cache.clear()

    @classmethod
    def get_scope(cls, area_ids):
        """Return the scope of the areas as three sorted tuples:
        - the areas with all their descendants,
        - the townships they cover (a village's township included),
        - the villages they cover (every village of a township or county).
        """
        if not area_ids:
            return (), (), ()
        with_children = cls.search([
                ('parent', 'child_of', list(area_ids)),
                ], order=[])
        townships = {a.id for a in with_children if a.type == 'township'}
        villages = {a.id for a in with_children if a.type == 'village'}
        for area in cls.browse(list(area_ids)):
            if area.type == 'village' and area.parent:
                townships.add(area.parent.id)
        return (
            tuple(sorted(a.id for a in with_children)),
            tuple(sorted(townships)),
            tuple(sorted(villages)))
