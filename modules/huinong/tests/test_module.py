# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError
from trytond.model.exceptions import SQLConstraintError, ValidationError
from trytond.pool import Pool
from trytond.modules.huinong.tests.tools import ClientViewsMixin, with_transaction
from trytond.tests.test_tryton import ModuleTestCase
from trytond.transaction import Transaction

from .test_sms import SMSTestCase  # noqa: F401


class HuinongTestCase(ClientViewsMixin, ModuleTestCase):
    "Test Huinong core module"
    module = 'huinong'

    @with_transaction()
    def test_county_and_townships_shipped(self):
        "The county and its 11 townships ship as data"
        pool = Pool()
        Area = pool.get('huinong.area')
        county, = Area.search([('type', '=', 'county')])
        self.assertEqual(county.name, '白沙黎族自治县')
        townships = Area.search([('type', '=', 'township')])
        self.assertEqual(
            {t.name for t in townships},
            {'牙叉镇', '七坊镇', '邦溪镇', '打安镇', '细水乡', '元门乡',
                '南开乡', '阜龙乡', '青松乡', '金波乡', '荣邦乡'})
        self.assertTrue(all(t.parent == county for t in townships))

    @with_transaction()
    def test_area_hierarchy(self):
        "A village's parent must be a township, a township's the county"
        pool = Pool()
        Area = pool.get('huinong.area')
        county, = Area.search([('type', '=', 'county')])
        township, = Area.search([('name', '=', '七坊镇')])

        village = Area(name="红旗村", code='T1', type='village',
            parent=township)
        village.save()
        self.assertEqual(village.township, township)
        self.assertEqual(township.township, township)
        self.assertEqual(
            Area.search([('township', '=', township.id),
                    ('type', '=', 'village')]), [village])

        with self.assertRaises(ValidationError):
            Area.create([{'name': "坏村", 'code': 'T2', 'type': 'village',
                        'parent': county.id}])
        with self.assertRaises(ValidationError):
            Area.create([{'name': "坏乡", 'code': 'T3', 'type': 'township',
                        'parent': village.id}])
        with self.assertRaises(ValidationError):
            Area.create([{'name': "坏县", 'code': 'T4', 'type': 'county',
                        'parent': county.id}])
        with self.assertRaises(ValidationError):
            # a village without township
            Area.create([{'name': "孤村", 'code': 'T5', 'type': 'village'}])
        with self.assertRaises(ValidationError):
            # turning the township into a village orphans its children
            Area.write([township], {'type': 'village'})

    @with_transaction()
    def test_area_code_unique(self):
        "Area codes are unique"
        pool = Pool()
        Area = pool.get('huinong.area')
        township, = Area.search([('name', '=', '七坊镇')])
        Area.create([{'name': "甲村", 'code': 'X1', 'parent': township.id}])
        with self.assertRaises(SQLConstraintError):
            Area.create([{'name': "乙村", 'code': 'X1',
                        'parent': township.id}])

    @with_transaction()
    def test_user_scope(self):
        "The rule context carries the user's areas, townships and villages"
        pool = Pool()
        Area = pool.get('huinong.area')
        User = pool.get('res.user')
        Rule = pool.get('ir.rule')
        qifang, = Area.search([('name', '=', '七坊镇')])
        yuanmen, = Area.search([('name', '=', '元门乡')])
        v1, v2, v3 = Area.create([
                {'name': "一村", 'code': 'V1', 'parent': qifang.id},
                {'name': "二村", 'code': 'V2', 'parent': qifang.id},
                {'name': "三村", 'code': 'V3', 'parent': yuanmen.id},
                ])
        township_user, village_user, nobody = User.create([
                {'login': 'township', 'name': "乡镇",
                    'huinong_areas': [('add', [qifang.id])]},
                {'login': 'village', 'name': "村",
                    'huinong_areas': [('add', [v3.id])]},
                {'login': 'nobody', 'name': "无"},
                ])

        with Transaction().set_user(township_user.id):
            context = Rule._get_context('huinong.area')
            self.assertEqual(context['huinong_township_ids'], [qifang.id])
            self.assertEqual(
                context['huinong_village_ids'], sorted([v1.id, v2.id]))
            self.assertEqual(
                context['huinong_area_ids'], sorted([qifang.id, v1.id, v2.id]))
        with Transaction().set_user(village_user.id):
            context = Rule._get_context('huinong.area')
            self.assertEqual(context['huinong_township_ids'], [yuanmen.id])
            self.assertEqual(context['huinong_village_ids'], [v3.id])
        with Transaction().set_user(nobody.id):
            context = Rule._get_context('huinong.area')
            self.assertEqual(context['huinong_village_ids'], [])
            self.assertEqual(context['huinong_township_ids'], [])

        # Changing the user's areas or the tree refreshes the scope
        User.write([village_user], {'huinong_areas': [('add', [v1.id])]})
        with Transaction().set_user(village_user.id):
            context = Rule._get_context('huinong.area')
            self.assertEqual(
                context['huinong_village_ids'], sorted([v1.id, v3.id]))
        Area.write([v2], {'parent': yuanmen.id})
        with Transaction().set_user(township_user.id):
            context = Rule._get_context('huinong.area')
            self.assertEqual(context['huinong_village_ids'], [v1.id])

    @with_transaction()
    def test_configuration_county(self):
        "The configuration defaults to the shipped county"
        pool = Pool()
        Configuration = pool.get('huinong.configuration')
        Area = pool.get('huinong.area')
        county, = Area.search([('type', '=', 'county')])
        self.assertEqual(Configuration(1).county, county)

    @with_transaction()
    def test_evaluation_and_supervision_exclusive(self):
        "Nobody is in both a village's evaluation and supervision group"
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        evaluation = ModelData.get_id('huinong', 'group_evaluation')
        supervision = ModelData.get_id('huinong', 'group_supervision')
        committee = ModelData.get_id('huinong', 'group_village_committee')
        user, = User.create([{
                    'login': 'eval', 'name': "评比组",
                    'groups': [('add', [evaluation, committee])],
                    }])
        with self.assertRaises(UserError) as cm:
            User.write([user], {'groups': [('add', [supervision])]})
        self.assertIn("评比组", cm.exception.message)
        with self.assertRaises(UserError):
            User.create([{
                        'login': 'both', 'name': "both",
                        'groups': [('add', [evaluation, supervision])],
                        }])


del ModuleTestCase
