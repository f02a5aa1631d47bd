# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"The import of a sheet's scores from a spreadsheet"
from decimal import Decimal

from trytond.exceptions import UserError
from trytond.modules.huinong_card.tests.tools import create_household
from trytond.modules.huinong_household.tests.tools import (
    csv_bytes, xlsx_bytes)
from trytond.modules.huinong.tests.tools import (
    DatabaseTestCase, SharedFixtureMixin, with_transaction)
from trytond.pool import Pool
from trytond.tests.test_tryton import TestCase
from trytond.transaction import Transaction

from .test_evaluation import TODAY, _county

HEADER = ['户主身份证号', '参与活动', '政策知晓']


def _import_county():
    """The county of the evaluation tests with three households, one of the
    other village and one without a class"""
    c = _county(households=(('poor', 1), ('ordinary', 2), ('ordinary', 3)))
    c['stranger'] = create_household(c['other_village'], 91)
    c['classless'] = create_household(c['village'], 92)
    return c


class EvaluationImportTestCase(
        SharedFixtureMixin, DatabaseTestCase, TestCase):
    "Test the import of scores"
    module = 'huinong_points'
    fixture = staticmethod(_import_county)

    def _as(self, user, func, *args, **kwargs):
        with Transaction().set_user(user.id), \
                Transaction().set_context(
                    company=self.c['company'].id, _check_access=True):
            return func(*args, **kwargs)

    def _setup(self):
        pool = Pool()
        Evaluation = pool.get('huinong.evaluation')
        self.c = self.shared()
        sheet, = Evaluation.create([{
                    'village': self.c['village'].id, 'date': TODAY}])
        return sheet

    def _rid(self, index):
        return self.c['households'][index].huinong_resident_id

    def _import(self, sheet, data, filename, user='eval1'):
        """Run the wizard on the sheet as the user; return the result"""
        Import = Pool().get('huinong.evaluation.import', type='wizard')

        def run():
            session_id, _, _ = Import.create()
            wizard = Import(session_id)
            wizard.start.file = data
            wizard.start.filename = filename
            with Transaction().set_context(
                    active_model='huinong.evaluation', active_id=sheet.id,
                    active_ids=[sheet.id]):
                wizard.transition_import_()
            return wizard.result
        return self._as(self.c[user], run)

    def _lines(self, sheet):
        Evaluation = Pool().get('huinong.evaluation')
        sheet = Evaluation(sheet.id)
        return {l.household.id: sorted(
                (s.criterion.code, s.score) for s in l.scores)
            for l in sheet.lines}

    @with_transaction()
    def test_import_csv_and_xlsx(self):
        "A good file creates the lines, a second one updates them"
        sheet = self._setup()
        h = self.c['households']
        rows = [
            [self._rid(0), 40, 30],
            [h[1].name, '20', '10'],
            ]
        result = self._import(sheet, csv_bytes(rows, header=HEADER),
            'scores.csv')
        self.assertTrue(result.success, result.errors)
        self.assertEqual((result.created, result.updated), (1 + 1, 0))
        self.assertEqual(self._lines(sheet), {
                h[0].id: [('参与活动', Decimal(40)), ('政策知晓', Decimal(30))],
                h[1].id: [('参与活动', Decimal(20)), ('政策知晓', Decimal(10))],
                })
        # Headers by name, columns in another order, an XLSX file
        rows = [[50, self._rid(0), 0], [1, self._rid(2), 2]]
        header = ['Participation in Activities', '户主身份证号', '政策知晓']
        result = self._import(sheet, xlsx_bytes(rows, header=header),
            'scores.xlsx')
        self.assertTrue(result.success, result.errors)
        self.assertEqual((result.created, result.updated), (1, 1))
        lines = self._lines(sheet)
        self.assertEqual(lines[h[0].id],
            [('参与活动', Decimal(50)), ('政策知晓', Decimal(0))])
        self.assertEqual(lines[h[2].id],
            [('参与活动', Decimal(1)), ('政策知晓', Decimal(2))])
        self.assertEqual(len(lines), 3)

    @with_transaction()
    def test_import_bad_rows(self):
        "Every bad row is reported with its number and nothing changes"
        sheet = self._setup()
        good = self._import(sheet, csv_bytes(
                [[self._rid(0), 1, 1]], header=HEADER), 'scores.csv')
        self.assertTrue(good.success)
        before = self._lines(sheet)
        rows = [
            [self._rid(1), 2, 2],                               # 2: good
            ['110101199003074514', 1, 1],                       # 3: unknown
            [self.c['stranger'].huinong_resident_id, 1, 1],     # 4: village
            [self._rid(1), 3, 3],                               # 5: twice
            [self._rid(2), 1.5, 1],                             # 6: not whole
            [self._rid(0), 61, 1],                              # 7: maximum
            [self.c['classless'].huinong_resident_id, 1, 1],    # 8: class
            ['无此人', 1, 1],                                    # 9: name
            ['', 1, 1],                                         # 10: empty
            ]
        for data, filename in [
                (csv_bytes(rows, header=HEADER), 'scores.csv'),
                (xlsx_bytes(rows, header=HEADER), 'scores.xlsx'),
                ]:
            result = self._import(sheet, data, filename)
            self.assertFalse(result.success)
            errors = result.errors.split('\n')
            self.assertEqual(
                [e.split(':')[0] for e in errors],
                ['Row %d' % n for n in range(3, 11)], result.errors)
            for text, number in [
                    ('No household', 3), ('is not of', 4),
                    ('already on row 2', 5), ('not a whole number', 6),
                    ('above its maximum 60', 7), ('has no class', 8),
                    ('No household "无此人"', 9), ('is missing', 10),
                    ]:
                self.assertIn(text, errors[number - 3])
            self.assertEqual(self._lines(sheet), before)

    @with_transaction()
    def test_import_bad_files(self):
        "Wrong header, empty file, wrong format and ambiguous names"
        sheet = self._setup()
        for data, filename, text in [
                (csv_bytes([[self._rid(0), 1]], header=HEADER[:2]),
                    'a.csv', 'no column for the criteria'),
                (csv_bytes([[self._rid(0), 1, 1, 1]],
                        header=HEADER + ['卫生']),
                    'a.csv', 'The column "卫生" is not a criterion'),
                (csv_bytes([[1, 1]], header=HEADER[1:]),
                    'a.csv', 'no household column'),
                (csv_bytes([], header=HEADER), 'a.csv', 'empty'),
                (b'', 'a.csv', 'empty'),
                (b'not a workbook', 'a.xlsx', 'XLSX'),
                (b'%PDF-1.4', 'a.pdf', 'XLSX and CSV'),
                ]:
            result = self._import(sheet, data, filename)
            self.assertFalse(result.success, filename)
            self.assertIn(text, result.errors)
        self.assertEqual(self._lines(sheet), {})

        # Two households of the village with one name: the ID is needed
        twin = create_household(
            self.c['village'], 93, name=self.c['households'][0].name)
        Pool().get('huinong.household.class').create([{
                    'household': twin.id, 'classification': 'ordinary',
                    'start_date': TODAY.replace(year=2020)}])
        result = self._import(sheet, csv_bytes(
                [[twin.name, 1, 1]], header=HEADER), 'a.csv')
        self.assertFalse(result.success)
        self.assertIn('Row 2: Several households', result.errors)
        self.assertEqual(self._lines(sheet), {})

    @with_transaction()
    def test_import_state_and_access(self):
        "Only an editable sheet, only the village's evaluation group"
        pool = Pool()
        Evaluation = pool.get('huinong.evaluation')
        sheet = self._setup()
        data = csv_bytes([[self._rid(0), 1, 1]], header=HEADER)
        # Another village's evaluator and the committee cannot write it
        for user in ['eval_other', 'committee']:
            with self.assertRaises(UserError):
                self._import(sheet, data, 'a.csv', user=user)
        self.assertEqual(self._lines(sheet), {})
        Evaluation.cancel([sheet])
        with self.assertRaises(UserError):
            self._import(sheet, data, 'a.csv')
        self.assertEqual(self._lines(sheet), {})
