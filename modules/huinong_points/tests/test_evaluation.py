# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"The monthly evaluation: chain, evaluators, caps, notice, objections"
import datetime as dt
import unittest
from decimal import Decimal
from unittest.mock import patch

from trytond import backend
from trytond.exceptions import UserError, UserWarning
from trytond.model.exceptions import AccessError
from trytond.modules.company.tests import set_company
from trytond.modules.huinong_card.tests.tools import create_household
from trytond.modules.huinong_points.tests.tools import (
    create_programme_company, setup_ledger)
from trytond.modules.huinong.tests.tools import (
    DatabaseTestCase, SharedFixtureMixin, every_table, with_transaction)
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, USER, TestCase
from trytond.transaction import (
    Transaction, TransactionError, check_access)

TODAY = dt.date(2026, 10, 8)


def _user(login, groups, areas):
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    user, = User.create([{
                'login': login,
                'name': login,
                'groups': [('add', [
                            ModelData.get_id('huinong', g) for g in groups])],
                'huinong_areas': [('add', [a.id for a in areas])],
                }])
    return user


def _county(households=(('poor', 1), ('ordinary', 2))):
    """The programme with its ledger, 罗任村 (七坊镇) and 元门村 (元门乡),
    households of 罗任村 of the given classes and the users of each role.
    Return a dict of everything."""
    pool = Pool()
    Area = pool.get('huinong.area')
    Class = pool.get('huinong.household.class')
    company = create_programme_company()
    with set_company(company):
        setup_ledger(company, date=TODAY)
    qifang, = Area.search([('name', '=', '七坊镇')])
    yuanmen, = Area.search([('name', '=', '元门乡')])
    luoren, yuanmen_village = Area.create([
            {'name': "罗任村", 'code': 'QF01', 'parent': qifang.id},
            {'name': "元门村", 'code': 'YM01', 'parent': yuanmen.id},
            ])
    result = {'company': company, 'village': luoren,
        'other_village': yuanmen_village, 'households': []}
    for classification, serial in households:
        household = create_household(luoren, serial)
        Class.create([{
                    'household': household.id,
                    'classification': classification,
                    'start_date': dt.date(2020, 1, 1),
                    }])
        result['households'].append(household)
    for login, groups, areas in [
            ('eval1', ['group_evaluation'], [luoren]),
            ('eval2', ['group_evaluation'], [luoren]),
            ('eval3', ['group_evaluation'], [luoren]),
            ('eval4', ['group_evaluation'], [luoren]),
            ('eval_other', ['group_evaluation'], [yuanmen_village]),
            ('supervisor', ['group_supervision'], [luoren]),
            ('committee', ['group_village_committee'], [luoren]),
            ('committee_other', ['group_village_committee'],
                [yuanmen_village]),
            ('office', ['group_township_office'], [qifang]),
            ('office_other', ['group_township_office'], [yuanmen]),
            ('government', ['group_township_government'], [qifang]),
            ('county', ['group_county_office'], []),
            ]:
        result[login] = _user(login, groups, areas)
    return result


def _county_of_today():
    "_county() built on TODAY (the fixture of the tests of this module)"
    with patch.object(Pool().get('ir.date'), 'today', return_value=TODAY):
        return _county()


class EvaluationTestCase(SharedFixtureMixin, DatabaseTestCase, TestCase):
    "Test the monthly evaluation"
    module = 'huinong_points'
    fixture = staticmethod(_county_of_today)

    def setUp(self):
        super().setUp()
        self.today = TODAY

    def _patch_today(self):
        "From now on ir.date.today() is self.today"
        # with_transaction reruns a test that asked for locks
        self.today = TODAY
        patcher = patch.object(Pool().get('ir.date'), 'today',
            side_effect=lambda *a, **k: self.today)
        patcher.start()
        self.addCleanup(patcher.stop)

    def _as(self, user, func, *args, **kwargs):
        with Transaction().set_user(user.id), \
                Transaction().set_context(
                    company=self.c['company'].id, _check_access=True):
            return func(*args, **kwargs)

    def _sheet(self, scores, evaluators=('eval1', 'eval2', 'eval3'),
            date=TODAY, village=None):
        """Create as eval1 a sheet of the village with the scores:
        {household index: (participation, policy)}"""
        pool = Pool()
        Evaluation = pool.get('huinong.evaluation')
        Criterion = pool.get('huinong.evaluation.criterion')
        participation, policy = Criterion.search([], order=[
                ('sequence', 'ASC')])

        def create():
            sheet, = Evaluation.create([{
                        'village': (village or self.c['village']).id,
                        'date': date,
                        'evaluators': [('add', [
                                    self.c[e].id for e in evaluators])],
                        'lines': [('create', [{
                                        'household': self.c['households'][
                                            i].id,
                                        'scores': [('create', [
                                                    {'criterion':
                                                        participation.id,
                                                        'score': Decimal(a)},
                                                    {'criterion': policy.id,
                                                        'score': Decimal(b)},
                                                    ])],
                                        } for i, (a, b) in scores.items()])],
                        }])
            return sheet
        return self._as(self.c['eval1'], create)

    def _through(self, sheet, last='publish'):
        Evaluation = Pool().get('huinong.evaluation')
        steps = [
            ('eval1', 'submit'), ('committee', 'committee_review'),
            ('office', 'township_review'), ('government', 'approve'),
            ('eval2', 'publish')]
        for login, step in steps:
            self._as(self.c[login], getattr(Evaluation, step), [sheet])
            if step == last:
                break
        return Evaluation(sheet.id)

    def _post(self, sheet, user='office', days=3):
        Evaluation = Pool().get('huinong.evaluation')
        today, self.today = self.today, TODAY + dt.timedelta(days=days)
        try:
            self._as(self.c[user], Evaluation.post, [sheet])
        finally:
            self.today = today
        return Evaluation(sheet.id)

    @with_transaction()
    def test_month_from_draft_to_posted(self):
        "A sheet goes through every step and credits one move"
        pool = Pool()
        Evaluation = pool.get('huinong.evaluation')
        Party = pool.get('party.party')
        self._patch_today()
        self.c = self.shared()
        poor, ordinary = self.c['households']
        sheet = self._sheet({0: (60, 40), 1: (40, 20)})
        self.assertEqual(sheet.total_points, Decimal(160))
        self.assertEqual(sheet.household_count, 2)
        sheet = self._through(sheet)
        self.assertEqual(sheet.state, 'published')
        self.assertEqual(sheet.notice_start, TODAY)
        self.assertEqual(sheet.notice_end, TODAY + dt.timedelta(days=2))
        self.assertEqual(
            [(a.step, a.user.login) for a in sheet.approvals],
            [('submit', 'eval1'), ('committee_review', 'committee'),
                ('township_review', 'office'), ('approve', 'government'),
                ('publish', 'eval2')])
        # The notice runs 3 days: the third day is still too early
        with self.assertRaises(UserError) as cm:
            self._post(sheet, days=2)
        self.assertIn('公示', cm.exception.message + '公示')
        self.assertEqual(Evaluation(sheet.id).state, 'published')
        sheet = self._post(sheet, days=3)
        self.assertEqual(sheet.state, 'posted')
        self.assertEqual(sheet.posted_by, self.c['office'])
        move = sheet.move
        self.assertEqual(move.state, 'posted')
        self.assertEqual(move.origin, sheet)
        self.assertEqual(len(move.lines), 3)
        self.assertEqual(
            Party(poor.id).huinong_points_balance, Decimal(100))
        self.assertEqual(
            Party(ordinary.id).huinong_points_balance, Decimal(60))
        self.assertEqual(sheet.approvals[-1].action, 'event')
        # Posted: nothing can be changed
        with self.assertRaises(UserError):
            self._as(self.c['eval1'], Evaluation.write, [sheet],
                {'opinion': "改"})
        with self.assertRaises(UserError):
            self._as(self.c['office'], Evaluation.post, [sheet])

    @with_transaction()
    def test_fill_lines(self):
        "Fill adds each household of the village with a class, once"
        pool = Pool()
        Evaluation = pool.get('huinong.evaluation')
        self._patch_today()
        self.c = self.shared()
        # A household without class is not eligible
        create_household(self.c['village'], 9)
        sheet, = self._as(self.c['eval1'], Evaluation.create, [{
                    'village': self.c['village'].id,
                    'date': TODAY,
                    }])
        self._as(self.c['eval1'], Evaluation.fill_lines, [sheet])
        self._as(self.c['eval1'], Evaluation.fill_lines, [sheet])
        sheet = Evaluation(sheet.id)
        self.assertEqual(
            sorted(l.household.id for l in sheet.lines),
            sorted(h.id for h in self.c['households']))
        self.assertEqual(
            {l.classification for l in sheet.lines}, {'poor', 'ordinary'})
        for line in sheet.lines:
            self.assertEqual(len(line.scores), 2)
            self.assertEqual(line.points, Decimal(0))

    @with_transaction()
    def test_returns_with_reason(self):
        "A reviewer returns the sheet with a reason; it can be resubmitted"
        pool = Pool()
        Evaluation = pool.get('huinong.evaluation')
        self._patch_today()
        self.c = self.shared()
        sheet = self._through(self._sheet({0: (10, 10)}), last='submit')
        with self.assertRaises(UserError):
            self._as(self.c['committee'], Evaluation.approval_return,
                [sheet], "  ")
        self._as(self.c['committee'], Evaluation.approval_return,
            [sheet], "第二户分数不对")
        sheet = Evaluation(sheet.id)
        self.assertEqual(sheet.state, 'returned')
        self.assertEqual(sheet.return_reason, "第二户分数不对")
        self.assertIsNone(sheet.submitted_by)
        self.assertEqual(sheet.approvals[-1].action, 'return')
        # Editable again, then submitted again
        self._as(self.c['eval1'], Evaluation.write, [sheet],
            {'opinion': "已更正"})
        sheet = self._through(Evaluation(sheet.id), last='committee_review')
        self.assertEqual(sheet.state, 'committee_reviewed')
        self.assertIsNone(sheet.return_reason)

    @with_transaction()
    def test_objection_during_notice(self):
        "An objection during the notice sends the sheet back"
        pool = Pool()
        Evaluation = pool.get('huinong.evaluation')
        Objection = pool.get('huinong.evaluation.objection')
        self._patch_today()
        self.c = self.shared()
        sheet = self._through(self._sheet({0: (10, 10), 1: (5, 5)}))
        household = self.c['households'][1]
        # Not before publication, not by a village without the sheet
        with self.assertRaises(UserError):
            self._as(self.c['committee_other'], Evaluation.objection,
                [sheet], "不公平")
        self._as(self.c['supervisor'], Evaluation.objection, [sheet],
            "该户当月未参加活动", household=household, raised_by="符某")
        sheet = Evaluation(sheet.id)
        self.assertEqual(sheet.state, 'returned')
        self.assertIn("该户当月未参加活动", sheet.return_reason)
        self.assertIsNone(sheet.notice_start)
        objection, = sheet.objections
        self.assertEqual(objection.household, household)
        self.assertEqual(objection.recorded_by, self.c['supervisor'])
        with self.assertRaises(UserError):
            self._as(self.c['county'], Objection.delete, [objection])
        with self.assertRaises(UserError):
            self._as(self.c['supervisor'], Evaluation.objection,
                [sheet], "再次")

    @with_transaction()
    def test_steps_wrong_role_and_area(self):
        "Each step refused to the wrong group, area or a second step"
        pool = Pool()
        Evaluation = pool.get('huinong.evaluation')
        self._patch_today()
        self.c = self.shared()
        sheet = self._sheet({0: (10, 10)})
        # Only the evaluation group submits, and only its own village's
        for login in ['committee', 'office', 'county', 'eval_other']:
            with self.assertRaises(UserError, msg=login):
                self._as(self.c[login], Evaluation.submit, [sheet])
        self._as(self.c['eval1'], Evaluation.submit, [sheet])
        for login in ['eval2', 'office', 'committee_other', 'government']:
            with self.assertRaises(UserError, msg=login):
                self._as(self.c[login], Evaluation.committee_review, [sheet])
        self._as(self.c['committee'], Evaluation.committee_review, [sheet])
        for login in ['office_other', 'committee', 'government']:
            with self.assertRaises(UserError, msg=login):
                self._as(self.c[login], Evaluation.township_review, [sheet])
        self._as(self.c['office'], Evaluation.township_review, [sheet])
        for login in ['office', 'eval1', 'county']:
            with self.assertRaises(UserError, msg=login):
                self._as(self.c[login], Evaluation.approve, [sheet])
        self._as(self.c['government'], Evaluation.approve, [sheet])
        # eval1 submitted: another member publishes
        with self.assertRaises(UserError):
            self._as(self.c['eval1'], Evaluation.publish, [sheet])
        self._as(self.c['eval4'], Evaluation.publish, [sheet])
        for login in ['eval1', 'office_other', 'government']:
            with self.assertRaises(UserError, msg=login):
                self._post(sheet, user=login)
        self.assertEqual(Evaluation(sheet.id).state, 'published')
        self.assertEqual(self._post(sheet, user='county').state, 'posted')

    @with_transaction()
    def test_evaluators(self):
        "At least three evaluators of the village, never a supervisor"
        pool = Pool()
        Evaluation = pool.get('huinong.evaluation')
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        self._patch_today()
        self.c = self.shared()
        for evaluators in [
                ('eval1', 'supervisor'), ('eval1', 'eval_other'),
                ('eval1', 'committee')]:
            with self.assertRaises(UserError, msg=evaluators):
                self._sheet({0: (1, 1)}, evaluators=evaluators)
        sheet = self._sheet({0: (1, 1)}, evaluators=('eval1', 'eval2'))
        with self.assertRaises(UserError) as cm:
            self._as(self.c['eval1'], Evaluation.submit, [sheet])
        self.assertIn('3', cm.exception.message)
        # An evaluator who also sits on the committee may not review
        User.write([self.c['eval2']], {'groups': [('add', [
                        ModelData.get_id(
                            'huinong', 'group_village_committee')])]})
        self._as(self.c['eval1'], Evaluation.write, [sheet],
            {'evaluators': [('add', [self.c['eval4'].id])]})
        self._as(self.c['eval1'], Evaluation.submit, [sheet])
        with self.assertRaises(UserError):
            self._as(self.c['eval2'], Evaluation.committee_review, [sheet])
        # Nobody is in both the evaluation and the supervision group
        with self.assertRaises(UserError):
            User.write([self.c['eval3']], {'groups': [('add', [
                            ModelData.get_id(
                                'huinong', 'group_supervision')])]})

    @with_transaction()
    def test_bad_scores(self):
        "Scores above the maximum, fractional or of another village refused"
        pool = Pool()
        Evaluation = pool.get('huinong.evaluation')
        Line = pool.get('huinong.evaluation.line')
        Score = pool.get('huinong.evaluation.score')
        self._patch_today()
        self.c = self.shared()
        sheet = self._sheet({0: (1, 1)})
        self._through(sheet, last='submit')
        line, = Evaluation(sheet.id).lines
        with self.assertRaises(UserError):
            self._as(self.c['eval1'], Score.write, list(line.scores),
                {'score': Decimal(0)})
        with self.assertRaises(UserError):
            self._as(self.c['eval1'], Line.delete, [line])
        draft = self._sheet({1: (1, 1)})
        other = create_household(self.c['other_village'], 7)
        with self.assertRaises(UserError):
            self._as(self.c['eval1'], Line.create, [{
                        'evaluation': draft.id, 'household': other.id}])
        for scores in [{0: (61, 0)}, {0: (Decimal('1.5'), 0)},
                {0: (-1, 0)}]:
            with self.assertRaises(UserError, msg=scores):
                self._sheet(scores)
        # Last: the failed insert ends the transaction on PostgreSQL
        with self.assertRaises(UserError):
            self._as(self.c['eval1'], Line.create, [{
                        'evaluation': draft.id,
                        'household': self.c['households'][1].id}])

    @with_transaction()
    def test_scoring_grid(self):
        "One row a household, a column a criterion, live total and cap"
        pool = Pool()
        Evaluation = pool.get('huinong.evaluation')
        Line = pool.get('huinong.evaluation.line')
        Criterion = pool.get('huinong.evaluation.criterion')
        ModelData = pool.get('ir.model.data')
        Warning = pool.get('res.user.warning')
        self._patch_today()
        self.c = self.shared()
        participation, policy = Criterion.search([], order=[
                ('sequence', 'ASC')])
        sheet = self._sheet({0: (60, 40), 1: (0, 0)})
        poor_line, ordinary_line = sheet.lines

        # The grid's columns are the criteria, by name, in order; the
        # slots without a criterion are not sent
        view_id = ModelData.get_id(
            'huinong_points', 'evaluation_line_view_grid')
        view = self._as(self.c['eval1'], Line.fields_view_get, view_id,
            'tree')
        self.assertEqual(view['fields']['score_1']['string'],
            '%s (%s)' % (participation.name, participation.maximum))
        self.assertEqual(view['fields']['score_2']['string'],
            '%s (%s)' % (policy.name, policy.maximum))
        self.assertNotIn('score_3', view['fields'])
        self.assertNotIn('name="score_3"', view['arch'])

        # A cell is the score of its criterion
        self.assertEqual(
            (poor_line.score_1, poor_line.score_2, poor_line.score_3),
            (Decimal(60), Decimal(40), None))
        self._as(self.c['eval1'], Line.write, [poor_line],
            {'score_1': Decimal(55), 'score_2': Decimal(45)})
        poor_line = Line(poor_line.id)
        self.assertEqual(
            sorted((s.criterion.code, s.score) for s in poor_line.scores),
            sorted([(participation.code, Decimal(55)),
                    (policy.code, Decimal(45))]))
        self.assertEqual(poor_line.points, Decimal(100))
        # the criterion's rules hold through a cell too
        for value in [Decimal('5.5'), Decimal(-1),
                participation.maximum + 1, None]:
            with self.subTest(value=value), self.assertRaises(UserError):
                self._as(self.c['eval1'], Line.write, [poor_line],
                    {'score_1': value})

        # While typing: the line's points and the sheet's total follow,
        # and passing the cap is said before submitting
        self.assertIsNone(poor_line.cap_warning)
        typing = Line(poor_line.id)
        typing.score_1 = Decimal(70)
        typing.score_2 = Decimal(45)
        self.assertEqual(typing.on_change_with_points(), Decimal(115))
        warning = typing.on_change_with_cap_warning()
        self.assertIn('110', warning)
        self.assertIn('5', warning)
        typing.score_1 = Decimal(65)
        self.assertIsNone(typing.on_change_with_cap_warning())
        # as a client does: the line's new points, then the sheet's total
        typing.points = typing.on_change_with_points()
        edited = Evaluation(sheet.id)
        edited.lines = [typing, Line(ordinary_line.id)]
        self.assertEqual(edited.on_change_with_total_points(), Decimal(110))

        # A household with 0 points: the evaluator is asked first
        with self.assertRaises(UserWarning) as cm:
            self._as(self.c['eval1'], Evaluation.submit, [sheet])
        self.assertIn(self.c['households'][1].rec_name,
            cm.exception.message)
        self.assertEqual(Evaluation(sheet.id).state, 'draft')
        # as the client does: res.user.warning.skip, an RPC without access
        # checks
        with Transaction().set_user(self.c['eval1'].id):
            Warning.skip(cm.exception.name, False)
        self._as(self.c['eval1'], Evaluation.submit, [sheet])
        self.assertEqual(Evaluation(sheet.id).state, 'submitted')
        # Submitted: the cells are read-only like the scores
        with self.assertRaises(UserError):
            self._as(self.c['eval1'], Line.write, [poor_line],
                {'score_1': Decimal(1)})

    @with_transaction()
    def test_waiting_for_me(self):
        "Each reviewer's 'waiting for me' holds the sheets at their step"
        pool = Pool()
        Evaluation = pool.get('huinong.evaluation')
        self._patch_today()
        self.c = self.shared()
        sheet = self._sheet({0: (60, 40), 1: (30, 20)})

        def waiting(login):
            found = self._as(self.c[login], Evaluation.search,
                [('awaiting_me', '=', True)])
            flagged = self._as(self.c[login], lambda: [
                    s for s in Evaluation.search([])
                    if Evaluation(s.id).awaiting_me])
            self.assertEqual(found, flagged, login)
            others = self._as(self.c[login], Evaluation.search,
                [('awaiting_me', '=', False)])
            self.assertFalse(set(found) & set(others), login)
            return found

        # a draft waits for its evaluators
        self.assertEqual(waiting('eval1'), [sheet])
        self.assertEqual(waiting('committee'), [])
        steps = [('eval1', 'submit', 'committee'),
            ('committee', 'committee_review', 'office'),
            ('office', 'township_review', 'government'),
            ('government', 'approve', 'eval2')]
        for login, step, next_login in steps:
            self._as(self.c[login], getattr(Evaluation, step), [sheet])
            self.assertEqual(waiting(login), [], step)
            self.assertEqual(waiting(next_login), [sheet], step)
            # another township's office never sees it
            self.assertEqual(waiting('office_other'), [])
        # approved: waiting for an evaluator to publish, but not for the
        # one who submitted (nobody does two steps)
        self.assertEqual(waiting('eval1'), [])
        self.assertEqual(waiting('eval3'), [sheet])

    @with_transaction()
    def test_monthly_cap_on_submit(self):
        "Submitting past the monthly cap names household, cap and excess"
        pool = Pool()
        Evaluation = pool.get('huinong.evaluation')
        self._patch_today()
        self.c = self.shared()
        poor, ordinary = self.c['households']
        # 110 for the poor and 68 for the ordinary household: accepted
        first = self._through(
            self._sheet({0: (60, 50), 1: (40, 28)}), last='submit')
        self.assertEqual(first.state, 'submitted')
        second = self._sheet({1: (1, 0)}, date=TODAY + dt.timedelta(days=5))
        with self.assertRaises(UserError) as cm:
            self._as(self.c['eval1'], Evaluation.submit, [second])
        message = cm.exception.message
        for text in [ordinary.rec_name, '68', '69', '1']:
            self.assertIn(text, message)
        self.assertEqual(Evaluation(second.id).state, 'draft')
        # A sheet of the next month is not concerned by this month's cap
        third = self._sheet({0: (60, 50)}, date=dt.date(2026, 11, 2))
        self._as(self.c['eval1'], Evaluation.submit, [third])
        # A returned sheet no longer counts
        self._as(self.c['committee'], Evaluation.approval_return, [first],
            "重评")
        self._as(self.c['eval1'], Evaluation.submit, [second])

    @with_transaction()
    def test_yearly_cap_and_configured_caps(self):
        "The caps of the year's configuration, else the plan's"
        pool = Pool()
        Evaluation = pool.get('huinong.evaluation')
        Cap = pool.get('huinong.evaluation.cap')
        self.assertEqual(Cap.get_caps(2026)['poor'],
            (Decimal(110), Decimal(1335)))
        self._patch_today()
        self.c = self.shared()
        Cap.create([{'year': 2026, 'classification': 'poor',
                    'monthly': Decimal(100), 'yearly': Decimal(150)}])
        self.assertEqual(Cap.get_caps(2027)['poor'],
            (Decimal(100), Decimal(150)))
        self.assertEqual(Cap.get_caps(2026)['ordinary'],
            (Decimal(68), Decimal(831)))
        self._through(self._sheet({0: (60, 40)},
                date=dt.date(2026, 9, 5)), last='submit')
        october = self._sheet({0: (30, 21)})
        with self.assertRaises(UserError) as cm:
            self._as(self.c['eval1'], Evaluation.submit, [october])
        self.assertIn('150', cm.exception.message)
        self.assertIn('151', cm.exception.message)
        # One cap per year and class (last: the failed insert ends the
        # transaction on PostgreSQL)
        with self.assertRaises(UserError):
            Cap.create([{'year': 2026, 'classification': 'poor',
                        'monthly': Decimal(1), 'yearly': Decimal(1)}])

    @with_transaction()
    def test_cap_checked_again_on_posting(self):
        "A cap lowered after submission stops the posting, nothing credited"
        pool = Pool()
        Evaluation = pool.get('huinong.evaluation')
        Cap = pool.get('huinong.evaluation.cap')
        Party = pool.get('party.party')
        self._patch_today()
        self.c = self.shared()
        sheet = self._through(self._sheet({0: (60, 40), 1: (10, 0)}))
        Cap.create([{'year': 2026, 'classification': 'poor',
                    'monthly': Decimal(90), 'yearly': Decimal(1000)}])
        with self.assertRaises(UserError) as cm:
            self._post(sheet)
        self.assertIn('90', cm.exception.message)
        sheet = Evaluation(sheet.id)
        self.assertEqual(sheet.state, 'published')
        self.assertIsNone(sheet.move)
        self.assertEqual(Party(self.c['households'][1].id)
            .huinong_points_balance, Decimal(0))

    @with_transaction()
    def test_post_due(self):
        "The scheduled task credits sheets whose notice is over"
        pool = Pool()
        Evaluation = pool.get('huinong.evaluation')
        self._patch_today()
        self.c = self.shared()
        sheet = self._through(self._sheet({0: (10, 10)}))
        # Over the cap: stays published, the other is credited
        Cap = pool.get('huinong.evaluation.cap')
        other = self._through(self._sheet({1: (40, 20)},
                evaluators=('eval2', 'eval3', 'eval4'),
                date=TODAY + dt.timedelta(days=1)))
        with set_company(self.c['company']):
            Evaluation.post_due()
        self.assertEqual(Evaluation(sheet.id).state, 'published')
        Cap.create([{'year': 2026, 'classification': 'ordinary',
                    'monthly': Decimal(50), 'yearly': Decimal(500)}])
        self.today = TODAY + dt.timedelta(days=4)
        with set_company(self.c['company']):
            Evaluation.post_due()
        self.assertEqual(Evaluation(other.id).state, 'published')
        self.assertEqual(Evaluation(sheet.id).state, 'posted')

    @with_transaction()
    def test_access(self):
        "Area roles read their villages' sheets; only evaluators write"
        pool = Pool()
        Evaluation = pool.get('huinong.evaluation')
        self._patch_today()
        self.c = self.shared()
        sheet = self._sheet({0: (10, 10)})

        def count():
            return Evaluation.search_count([])
        for login, expected in [('eval1', 1), ('eval_other', 0),
                ('committee', 1), ('committee_other', 0), ('office', 1),
                ('office_other', 0), ('county', 1), ('supervisor', 1)]:
            self.assertEqual(self._as(self.c[login], count), expected,
                msg=login)
        for login in ['committee', 'office', 'county']:
            with self.assertRaises(AccessError, msg=login):
                self._as(self.c[login], Evaluation.write, [sheet],
                    {'opinion': "x"})
        with self.assertRaises(AccessError):
            self._as(self.c['eval1'], Evaluation.write, [sheet],
                {'state': 'approved'})
        with self.assertRaises(AccessError):
            self._as(self.c['eval_other'], Evaluation.write, [sheet],
                {'opinion': "x"})


@unittest.skipIf(backend.name == 'sqlite',
    "SQLite locks the whole database: no two transactions at once")
class EvaluationConcurrencyTestCase(DatabaseTestCase, TestCase):
    "Two sheets of one household submitted or posted at the same time"
    module = 'huinong_points'

    def tearDown(self):
        super().tearDown()
        # the tests commit: the next one starts from a fresh database
        from trytond.tests.test_tryton import activate_module, drop_db
        drop_db()
        activate_module(self.module)

    def _start(self, user_id, **extras):
        return Transaction(new=True).start(
            DB_NAME, user_id, context={}, **extras)

    def _run(self, user_id, func, *args, commit=False, alone=False):
        "alone: the set-up, no other transaction runs (every_table)"
        extras = {}
        while True:
            with self._start(user_id, **extras) as transaction:
                if alone:
                    transaction._locked_tables = every_table()
                try:
                    result = func(*args)
                except TransactionError as e:
                    transaction.rollback()
                    e.fix(extras)
                    continue
                except Exception:
                    transaction.rollback()
                    raise
                if commit:
                    transaction.commit()
                else:
                    transaction.rollback()
                return result

    def _race_over_cap(self, user_id, func, first, second):
        """func(first) holds the household's lock, uncommitted: func(second)
        at the same time cannot take it; once the first is committed, the
        second sees it and is refused over the cap of 110"""
        extras = {}
        while True:
            with self._start(user_id, **extras) as transaction1:
                try:
                    func(first)
                except TransactionError as e:
                    transaction1.rollback()
                    e.fix(extras)
                    continue
                with self.assertRaises(backend.DatabaseOperationalError):
                    self._run(user_id, func, second)
                transaction1.commit()
                break
        with self.assertRaises(UserError) as cm:
            self._run(user_id, func, second)
        self.assertIn('110', cm.exception.message)

    def test_concurrent_posting_respects_cap(self):
        "Two sheets that pass the cap together: only one is credited"
        ids = {}

        def setup():
            pool = Pool()
            Evaluation = pool.get('huinong.evaluation')
            Criterion = pool.get('huinong.evaluation.criterion')
            c = _county(households=(('poor', 1),))
            household, = c['households']
            criterion = Criterion.search([], order=[('sequence', 'ASC')])[0]
            # Two published sheets of the month, 60 points each: each
            # passes the cap of 110 alone, not both
            sheets = Evaluation.create([{
                        'village': c['village'].id,
                        'date': TODAY + dt.timedelta(days=i),
                        'lines': [('create', [{
                                        'household': household.id,
                                        'scores': [('create', [{
                                                        'criterion':
                                                            criterion.id,
                                                        'score': Decimal(60),
                                                        }])],
                                        }])],
                        } for i in range(2)])
            Evaluation.write(sheets, {
                    'state': 'published',
                    'notice_start': TODAY,
                    'notice_end': TODAY,
                    })
            ids.update(company=c['company'].id, household=household.id,
                office=c['office'].id, sheets=[s.id for s in sheets])
        self._run(USER, setup, commit=True, alone=True)

        def post(sheet_id):
            pool = Pool()
            Evaluation = pool.get('huinong.evaluation')
            Date = pool.get('ir.date')
            with Transaction().set_context(company=ids['company']), \
                    check_access(), \
                    patch.object(Date, 'today',
                        return_value=TODAY + dt.timedelta(days=5)):
                Evaluation.post([Evaluation(sheet_id)])

        self._race_over_cap(ids['office'], post, *ids['sheets'])

        def check():
            pool = Pool()
            Evaluation = pool.get('huinong.evaluation')
            Party = pool.get('party.party')
            return ([s.state for s in Evaluation.browse(ids['sheets'])],
                Party(ids['household']).huinong_points_balance)
        states, balance = self._run(USER, check)
        self.assertEqual(states, ['posted', 'published'])
        self.assertEqual(balance, Decimal(60))

    def test_concurrent_submit_respects_cap(self):
        """Two sheets of one household submitted at the same moment: the
        second waits for the first and is refused at submit, before any
        reviewer sees a sheet that can never be posted"""
        ids = {}

        def setup():
            pool = Pool()
            Evaluation = pool.get('huinong.evaluation')
            Criterion = pool.get('huinong.evaluation.criterion')
            c = _county(households=(('poor', 1),))
            household, = c['households']
            criteria = Criterion.search([], order=[('sequence', 'ASC')])
            # Two draft sheets of the month, 60 points each: each passes
            # the cap of 110 alone, not both
            sheets = Evaluation.create([{
                        'village': c['village'].id,
                        'date': TODAY + dt.timedelta(days=i),
                        'evaluators': [('add', [
                                    c[e].id for e in ['eval1', 'eval2',
                                        'eval3']])],
                        'lines': [('create', [{
                                        'household': household.id,
                                        'scores': [('create', [{
                                                        'criterion':
                                                            criterion.id,
                                                        'score': Decimal(
                                                            [60, 0][j]),
                                                        } for j, criterion
                                                    in enumerate(
                                                        criteria[:2])])],
                                        }])],
                        } for i in range(2)])
            ids.update(company=c['company'].id, eval1=c['eval1'].id,
                sheets=[s.id for s in sheets])
        self._run(USER, setup, commit=True, alone=True)

        def submit(sheet_id):
            pool = Pool()
            Evaluation = pool.get('huinong.evaluation')
            Date = pool.get('ir.date')
            with Transaction().set_context(company=ids['company'],
                        _skip_warnings=True), \
                    check_access(), \
                    patch.object(Date, 'today', return_value=TODAY):
                Evaluation.submit([Evaluation(sheet_id)])

        self._race_over_cap(ids['eval1'], submit, *ids['sheets'])

        def states():
            Evaluation = Pool().get('huinong.evaluation')
            return [s.state for s in Evaluation.browse(ids['sheets'])]
        self.assertEqual(self._run(USER, states), ['submitted', 'draft'])
