# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt

from trytond.model.exceptions import (
    AccessError, SQLConstraintError, ValidationError)
from trytond.modules.huinong_household.tests.tools import (
    csv_bytes, household_rows, png, resident_id, xlsx_bytes)
from trytond.pool import Pool
from trytond.modules.huinong.tests.tools import ClientViewsMixin, with_transaction
from trytond.tests.test_tryton import ModuleTestCase
from trytond.transaction import Transaction, check_access


class HuinongHouseholdTestCase(ClientViewsMixin, ModuleTestCase):
    "Test Huinong Household module"
    module = 'huinong_household'

    def _villages(self):
        pool = Pool()
        Area = pool.get('huinong.area')
        qifang, = Area.search([('name', '=', '七坊镇')])
        yuanmen, = Area.search([('name', '=', '元门乡')])
        return Area.create([
                {'name': "罗任村", 'code': 'QF01', 'parent': qifang.id},
                {'name': "白打村", 'code': 'QF02', 'parent': qifang.id},
                {'name': "元门村", 'code': 'YM01', 'parent': yuanmen.id},
                ])

    def _household(self, village, serial, **values):
        pool = Pool()
        Party = pool.get('party.party')
        values.setdefault('name', '户主%s' % serial)
        values.setdefault('huinong_resident_id', resident_id(serial))
        party, = Party.create([{
                    'huinong_household': True,
                    'huinong_village': village.id,
                    **values}])
        return party

    @with_transaction()
    def test_household(self):
        "Register a household with members, ID, mobile and photo"
        pool = Pool()
        Party = pool.get('party.party')
        v1, _, _ = self._villages()
        party = self._household(v1, 1,
            huinong_mobile='13800138000',
            huinong_photo=png(),
            huinong_members=[('create', [{
                            'name': "配偶", 'relation': 'spouse',
                            'resident_id': resident_id(
                                2, dt.date(1972, 5, 6)).lower(),
                            }, {
                            'name': "孩子", 'relation': 'child',
                            'birth_date': dt.date(2010, 1, 1),
                            }])])
        self.assertEqual(party.huinong_resident_id, resident_id(1))
        self.assertEqual(party.huinong_birth_date, dt.date(1970, 1, 1))
        self.assertEqual(party.huinong_mobile, '+86 138 0013 8000')
        self.assertEqual(party.huinong_township, v1.parent)
        self.assertEqual(party.huinong_population, 3)
        spouse = party.huinong_members[0]
        self.assertEqual(spouse.birth_date, dt.date(1972, 5, 6))
        self.assertEqual(spouse.resident_id, resident_id(
                2, dt.date(1972, 5, 6)))

        self.assertEqual(Party.search([
                    ('huinong_resident_id', '=', resident_id(1))]), [party])
        self.assertEqual(Party.search([
                    ('huinong_mobile', '=', '138 0013 8000')]), [party])
        self.assertEqual(Party.search([
                    ('huinong_township', '=', v1.parent.id)]), [party])

        # Changing and clearing through the form fields
        Party.write([party], {'huinong_mobile': '13900139000'})
        self.assertEqual(party.huinong_mobile, '+86 139 0013 9000')
        Party.write([party], {'huinong_mobile': None})
        self.assertIsNone(party.huinong_mobile)

    @with_transaction()
    def test_household_required(self):
        "A household needs a village and the head's resident ID"
        pool = Pool()
        Party = pool.get('party.party')
        v1, _, _ = self._villages()
        with self.assertRaises(ValidationError):
            Party.create([{'name': "无村", 'huinong_household': True,
                        'huinong_resident_id': resident_id(1)}])
        with self.assertRaises(ValidationError):
            Party.create([{'name': "无证", 'huinong_household': True,
                        'huinong_village': v1.id}])
        # and the head's name, never blank
        # (a refused creation is not rolled back here: a serial each)
        for serial, name in [(3, None), (5, ''), (6, '   ')]:
            with self.subTest(name=name):
                with self.assertRaises(ValidationError) as cm:
                    self._household(v1, serial, name=name)
                self.assertIn(resident_id(serial), cm.exception.message)
        household = self._household(v1, 4)
        with self.assertRaises(ValidationError):
            Party.write([household], {'name': ' '})
        # Other parties are not concerned
        Party.create([{'name': "供应商"}])

    @with_transaction()
    def test_resident_id(self):
        "Resident IDs are checked; a person is head or member, not both"
        pool = Pool()
        Member = pool.get('huinong.household.member')
        v1, v2, _ = self._villages()
        party = self._household(v1, 1)
        other = self._household(v2, 4)
        Member.create([{'household': other.id, 'name': "成员",
                    'relation': 'spouse', 'resident_id': resident_id(5)}])
        with self.assertRaises(ValidationError):
            self._household(v1, 2, huinong_resident_id='469025197001010000')
        with self.assertRaises(ValidationError):
            Member.create([{'household': other.id, 'name': "户主本人",
                        'relation': 'spouse',
                        'resident_id': resident_id(1)}])
        with self.assertRaises(ValidationError):
            self._household(v1, 5)
        with self.assertRaises(ValidationError):
            Member.create([{'household': party.id, 'name': "错号",
                        'relation': 'child', 'resident_id': '1234'}])

    @with_transaction()
    def test_resident_id_code_newer_than_birth(self):
        "A Baisha ID (469025, since 2002) of a person born before is valid"
        pool = Pool()
        Party = pool.get('party.party')
        Member = pool.get('huinong.household.member')
        v1, _, _ = self._villages()
        party = self._household(
            v1, 1, huinong_resident_id='469025199501011237')
        self.assertEqual(party.huinong_resident_id, '469025199501011237')
        self.assertEqual(party.huinong_birth_date, dt.date(1995, 1, 1))
        member, = Member.create([{'household': party.id, 'name': "妻",
                    'relation': 'spouse',
                    'resident_id': '46902519960202124x'}])
        self.assertEqual(member.resident_id, '46902519960202124X')
        self.assertEqual(member.birth_date, dt.date(1996, 2, 2))
        self.assertEqual(Party.search([
                    ('huinong_resident_id', '=', '469025199501011237')]),
            [party])
        # an unknown province is refused
        with self.assertRaises(ValidationError):
            self._household(v1, 2, huinong_resident_id='990000199501011235')

    @with_transaction()
    def test_resident_id_unique(self):
        "The database refuses a head's resident ID twice"
        v1, v2, _ = self._villages()
        self._household(v1, 1)
        with self.assertRaises(SQLConstraintError):
            self._household(v2, 3, huinong_resident_id=resident_id(1))

    @with_transaction()
    def test_member_resident_id_unique(self):
        "The database refuses a member's resident ID twice"
        pool = Pool()
        Member = pool.get('huinong.household.member')
        v1, v2, _ = self._villages()
        h1 = self._household(v1, 1)
        h2 = self._household(v2, 2)
        Member.create([{'household': h1.id, 'name': "成员",
                    'relation': 'spouse', 'resident_id': resident_id(5)}])
        with self.assertRaises(SQLConstraintError):
            Member.create([{'household': h2.id, 'name': "同一人",
                        'relation': 'child', 'resident_id': resident_id(5)}])

    @with_transaction()
    def test_mobile(self):
        "Only mobile numbers of mainland China are accepted"
        v1, _, _ = self._villages()
        for serial, bad in enumerate(
                ['12345', '010 6552 9988', '+1 650 253 0000'], 10):
            with self.assertRaises(ValidationError, msg=bad):
                self._household(v1, serial, huinong_mobile=bad)
        party = self._household(v1, 1, huinong_mobile='+8613800138000')
        self.assertEqual(party.huinong_mobile, '+86 138 0013 8000')

    @with_transaction()
    def test_photo(self):
        "The ID photo must be a small image"
        pool = Pool()
        Configuration = pool.get('huinong.configuration')
        v1, _, _ = self._villages()
        with self.assertRaises(ValidationError):
            self._household(v1, 10, huinong_photo=b'%PDF-1.4 not an image')
        config = Configuration(1)
        config.household_photo_max_size = 1
        config.save()
        with self.assertRaises(ValidationError):
            self._household(
                v1, 11, huinong_photo=png(400, 400) + b'\0' * 2048)
        party = self._household(v1, 1, huinong_photo=png())
        self.assertTrue(party.huinong_photo)

    @with_transaction()
    def test_class_history(self):
        "Class periods never overlap and give the class at any date"
        pool = Pool()
        Party = pool.get('party.party')
        Class = pool.get('huinong.household.class')
        Date = pool.get('ir.date')
        v1, _, _ = self._villages()
        h1 = self._household(v1, 1)
        h2 = self._household(v1, 2)
        h3 = self._household(v1, 3)
        today = Date.today()
        Class.create([{
                    'household': h1.id, 'classification': 'poor',
                    'start_date': dt.date(2019, 1, 1),
                    'end_date': dt.date(2020, 12, 31),
                    }, {
                    'household': h1.id, 'classification': 'ordinary',
                    'start_date': dt.date(2021, 1, 1),
                    'reason': "脱贫",
                    }, {
                    'household': h2.id, 'classification': 'poor',
                    'start_date': dt.date(2019, 1, 1),
                    }])
        with self.assertRaises(ValidationError):
            Class.create([{'household': h1.id, 'classification': 'poor',
                        'start_date': dt.date(2020, 6, 1),
                        'end_date': dt.date(2020, 6, 30)}])
        with self.assertRaises(ValidationError):
            Class.create([{'household': h2.id, 'classification': 'poor',
                        'start_date': today + dt.timedelta(days=10)}])
        with self.assertRaises(ValidationError):
            Class.create([{'household': h3.id, 'classification': 'poor',
                        'start_date': dt.date(2020, 1, 1),
                        'end_date': dt.date(2019, 1, 1)}])

        ids = [h1.id, h2.id, h3.id]
        self.assertEqual(Class.get_classification(ids, dt.date(2020, 5, 1)),
            {h1.id: 'poor', h2.id: 'poor'})
        self.assertEqual(Class.get_classification(ids, dt.date(2018, 5, 1)),
            {})
        self.assertEqual(Class.get_classification(ids),
            {h1.id: 'ordinary', h2.id: 'poor'})
        self.assertEqual(
            [h.huinong_class for h in Party.browse(ids)],
            ['ordinary', 'poor', None])
        self.assertEqual(
            Party.search([('huinong_class', '=', 'poor')]), [h2])
        self.assertEqual(
            Party.search([('huinong_class', '=', None)]), [h3])

    @with_transaction()
    def test_access_by_area(self):
        "Each role sees and changes only the households of its areas"
        pool = Pool()
        Party = pool.get('party.party')
        Member = pool.get('huinong.household.member')
        User = pool.get('res.user')
        Group = pool.get('res.group')
        Area = pool.get('huinong.area')
        ModelData = pool.get('ir.model.data')
        v1, v2, v3 = self._villages()
        h1 = self._household(v1, 1, huinong_members=[('create', [{
                            'name': "成员", 'relation': 'spouse'}])])
        h2 = self._household(v2, 2)
        h3 = self._household(v3, 3)
        county, = Area.search([('type', '=', 'county')])

        def user(login, group, areas):
            group = Group(ModelData.get_id('huinong', group))
            user, = User.create([{
                        'login': login, 'name': login,
                        'groups': [('add', [group.id])],
                        'huinong_areas': [('add', [a.id for a in areas])],
                        }])
            return user

        users = {
            'county': user('county', 'group_county_office', [county]),
            'finance': user('finance', 'group_finance', []),
            'township': user('township', 'group_township_office',
                [v1.parent]),
            'government': user('government', 'group_township_government',
                [v1.parent]),
            'committee': user('committee', 'group_village_committee', [v1]),
            'evaluation': user('evaluation', 'group_evaluation', [v2]),
            'clerk': user('clerk', 'group_clerk', [v3.parent]),
            }
        visible = {
            'county': {h1, h2, h3},
            'finance': {h1, h2, h3},
            'township': {h1, h2},
            'government': {h1, h2},
            'committee': {h1},
            'evaluation': {h2},
            'clerk': {h3},
            }
        writable = {'county', 'township', 'committee'}
        domain = [('huinong_household', '=', True)]
        for name, user in users.items():
            with self.subTest(role=name), \
                    Transaction().set_user(user.id), check_access():
                self.assertEqual(set(Party.search(domain)), visible[name])
                for household in {h1, h2, h3} - visible[name]:
                    with self.assertRaises(AccessError):
                        Party.read([household.id], ['name'])
                    with self.assertRaises(AccessError):
                        Party.write([Party(household.id)], {'name': "改"})
                for household in visible[name]:
                    if name in writable:
                        Party.write([Party(household.id)],
                            {'huinong_residence': name})
                    else:
                        with self.assertRaises(AccessError):
                            Party.write([Party(household.id)],
                                {'huinong_residence': name})
                members = Member.search([])
                self.assertEqual(
                    {m.household for m in members},
                    {h1} & visible[name])

        # The class decides the caps: recorded by the township or the
        # county office only, on every path (the class itself, the
        # household's one2many), whatever the household's access
        Class = pool.get('huinong.household.class')
        for name in ['committee', 'evaluation', 'government']:
            with self.subTest(role=name), \
                    Transaction().set_user(users[name].id), check_access():
                household, = [h for h in visible[name]][:1] or [h1]
                with self.assertRaises(AccessError):
                    Class.create([{'household': household.id,
                                'classification': 'poor',
                                'start_date': dt.date(2030, 1, 1)}])
                if name in writable:
                    with self.assertRaises(AccessError):
                        Party.write([Party(household.id)], {
                                'huinong_classes': [('create', [{
                                                'classification': 'poor',
                                                'start_date': dt.date(
                                                    2030, 1, 1)}])]})
        for name in ['county', 'township']:
            with Transaction().set_user(users[name].id), check_access():
                new, = Class.create([{'household': h1.id,
                            'classification': 'ordinary',
                            'start_date': dt.date(2031, 1, 1)
                            if name == 'county' else dt.date(2032, 1, 1),
                            'reason': name}])
                Class.write([new], {'reason': name + " 核实"})
                Class.delete([new])

        # A township office cannot move a household out of its township
        with Transaction().set_user(users['township'].id), check_access():
            with self.assertRaises(AccessError):
                Party.write([Party(h1.id)], {'huinong_village': v3.id})
            with self.assertRaises(AccessError):
                self._household(v3, 9)
            self._household(v2, 10)

    def _import(self, data, filename):
        pool = Pool()
        Import = pool.get('huinong.household.import', type='wizard')
        session_id, _, _ = Import.create()
        wizard = Import(session_id)
        wizard.start.file = data
        wizard.start.filename = filename
        self.assertEqual(wizard.transition_import_(), 'result')
        return wizard.default_result(None)

    @with_transaction()
    def test_import(self):
        "Import all or nothing, then again to update"
        pool = Pool()
        Party = pool.get('party.party')
        Member = pool.get('huinong.household.member')
        v1, v2, _ = self._villages()
        rows = household_rows(10, 'QF01') + household_rows(
            10, '白打村', start=10)

        bad = [list(r) for r in rows]
        bad[3][0] = bad[3][0][:-1] + ('0' if bad[3][0][-1] != '0' else '1')
        bad[7][2] = '朋友'
        result = self._import(xlsx_bytes(bad), 'households.xlsx')
        self.assertFalse(result['success'])
        lines = result['errors'].splitlines()
        self.assertEqual(len(lines), 2, lines)
        self.assertIn('5', lines[0])
        self.assertIn('9', lines[1])
        self.assertEqual(
            Party.search_count([('huinong_household', '=', True)]), 0)
        self.assertEqual(Member.search_count([]), 0)

        result = self._import(xlsx_bytes(rows), 'households.xlsx')
        self.assertTrue(result['success'], result['errors'])
        self.assertEqual((result['created'], result['updated']), (20, 0))
        self.assertEqual(result['members'], 20)
        households = Party.search([('huinong_household', '=', True)])
        self.assertEqual(len(households), 20)
        self.assertEqual(Member.search_count([]), 20)
        self.assertEqual(
            Party.search_count([('huinong_village', '=', v2.id)]), 10)
        self.assertEqual(
            Party.search_count([('huinong_class', '=', 'poor')]), 7)

        # Same file again, one household lifted out of poverty
        rows[0][7] = '一般农户'
        rows[0][8] = '2025-01-01'
        result = self._import(csv_bytes(rows, encoding='gb18030'),
            'households.csv')
        self.assertTrue(result['success'], result['errors'])
        self.assertEqual((result['created'], result['updated']), (0, 20))
        self.assertEqual(
            Party.search_count([('huinong_household', '=', True)]), 20)
        self.assertEqual(Member.search_count([]), 20)
        head, = Party.search([('huinong_resident_id', '=', rows[0][0])])
        self.assertEqual(
            [(c.classification, c.start_date, c.end_date)
                for c in head.huinong_classes],
            [('ordinary', dt.date(2025, 1, 1), None),
                ('poor', dt.date(2024, 1, 1), dt.date(2024, 12, 31))])

    @with_transaction()
    def test_import_bad_files(self):
        "Malformed files are refused with a clear reason"
        pool = Pool()
        Party = pool.get('party.party')
        self._villages()
        rows = household_rows(2, 'QF01')
        cases = [
            (b'PK\x03\x04 not a zip', 'a.xlsx'),
            (b'', 'a.csv'),
            (b'\xff\xfe\x00garbage\x81', 'a.csv'),
            (b'hello', 'a.pdf'),
            (csv_bytes(rows, header=['姓名', '村']), 'a.csv'),
            ]
        for data, filename in cases:
            result = self._import(data, filename)
            self.assertFalse(result['success'])
            self.assertTrue(result['errors'])

        # Row-level problems, each reported with its row
        bad = [list(r) for r in rows]
        bad[0][4] = '不存在村'        # unknown village
        bad[2][5] = '12345'           # bad mobile
        bad.append([rows[0][0], '重复', '子女', rows[1][3],
                '', '', '', '', ''])  # ID used twice
        bad.append([resident_id(99), '孤儿', '子女', '', '', '', '', '', ''])
        result = self._import(csv_bytes(bad), 'a.csv')
        self.assertFalse(result['success'])
        self.assertEqual(len(result['errors'].splitlines()), 4,
            result['errors'])
        self.assertEqual(
            Party.search_count([('huinong_household', '=', True)]), 0)

        # IDs typed as numbers in Excel lose their last digits
        numeric = [list(r) for r in rows]
        numeric[0][0] = float(numeric[0][0][:-1])
        result = self._import(xlsx_bytes(numeric), 'a.xlsx')
        self.assertFalse(result['success'])

    @with_transaction()
    def test_import_scope(self):
        "A township office imports only into its own villages"
        pool = Pool()
        Party = pool.get('party.party')
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        v1, v2, v3 = self._villages()
        user, = User.create([{
                    'login': 'township', 'name': "七坊镇",
                    'groups': [('add', [ModelData.get_id(
                                    'huinong', 'group_township_office')])],
                    'huinong_areas': [('add', [v1.parent.id])],
                    }])
        rows = household_rows(2, 'QF01') + household_rows(
            1, 'YM01', start=2)
        with Transaction().set_user(user.id):
            result = self._import(csv_bytes(rows), 'a.csv')
            self.assertFalse(result['success'])
            self.assertEqual(len(result['errors'].splitlines()), 1)
            result = self._import(csv_bytes(rows[:4]), 'a.csv')
            self.assertTrue(result['success'], result['errors'])
        self.assertEqual(
            Party.search_count([('huinong_household', '=', True)]), 2)


del ModuleTestCase
