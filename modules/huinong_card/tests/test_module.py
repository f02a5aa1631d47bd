# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt
from stdnum import luhn

from trytond.exceptions import UserError
from trytond.model.exceptions import (
    AccessError, SQLConstraintError, ValidationError)
from trytond.modules.huinong_card.tests.tools import (
    create_household, create_user, in_transaction, issue_card)
from trytond.model.modelview import AccessButtonError
from trytond.modules.huinong_card.exceptions import PINError
from trytond.modules.huinong_card.pin import check_new_pin
from trytond.pool import Pool
from trytond.modules.huinong.tests.tools import ClientViewsMixin, with_transaction
from trytond.tests.test_tryton import ModuleTestCase
from trytond.transaction import Transaction, check_access

from .test_report import CardReportTestCase  # noqa: F401


class HuinongCardTestCase(ClientViewsMixin, ModuleTestCase):
    "Test Huinong Card module"
    module = 'huinong_card'

    def _villages(self, suffix=''):
        pool = Pool()
        Area = pool.get('huinong.area')
        qifang, = Area.search([('name', '=', '七坊镇')])
        yuanmen, = Area.search([('name', '=', '元门乡')])
        return Area.create([
                {'name': "罗任村" + suffix, 'code': 'QF01' + suffix,
                    'parent': qifang.id},
                {'name': "元门村" + suffix, 'code': 'YM01' + suffix,
                    'parent': yuanmen.id},
                ])

    def test_new_pin_rules(self):
        "A PIN is 6 digits, typed twice, and not guessable"
        birth = dt.date(1968, 3, 12)
        rid = '44000019680312001X'
        for pin, confirm in [
                ('12345', '12345'), ('1234567', '1234567'),
                ('12a456', '12a456'), ('', ''), (None, None),
                ('135790', '135791'),
                # digits of other scripts: Arabic-Indic, full-width
                ('١٣٥٧٩٠', '١٣٥٧٩٠'), ('１３５７９０', '１３５７９０'),
                (135790, 135790)]:
            with self.assertRaises(ValidationError, msg=pin):
                check_new_pin(pin, confirm)
        for pin in ['000000', '999999', '123456', '654321', '012345',
                '121212', '123123', '680312', '120368', '031268',
                '120012']:
            with self.assertRaises(ValidationError, msg=pin):
                check_new_pin(pin, pin, resident_id='440000196803120012',
                    birth_date=birth)
        check_new_pin('135790', '135790', resident_id=rid, birth_date=birth)
        check_new_pin('802461', '802461')

    @with_transaction()
    def test_issuance_chain(self):
        "Apply, three reviews and issue, each by its role in its area"
        pool = Pool()
        Card = pool.get('huinong.card')
        Approval = pool.get('huinong.approval')
        SMS = pool.get('huinong.sms')
        v1, v2 = self._villages()
        household = create_household(v1, 1, huinong_mobile='13800138000')
        committee = create_user('committee', 'group_village_committee', [v1])
        committee2 = create_user(
            'committee2', 'group_village_committee', [v1])
        evaluation = create_user('evaluation', 'group_evaluation', [v1])
        far_evaluation = create_user(
            'far_evaluation', 'group_evaluation', [v2])
        office = create_user(
            'office', 'group_township_office', [v1.parent])
        government = create_user(
            'government', 'group_township_government', [v1.parent])
        far_government = create_user(
            'far_government', 'group_township_government', [v2.parent])

        def as_user(user, method, *args):
            # Buttons are called with access checks, as over RPC; issue is
            # called by its wizard, which runs without them
            with Transaction().set_user(user.id), check_access(
                    _access=method != 'issue'):
                card = Card(card_id)
                return getattr(Card, method)([card], *args)

        with Transaction().set_user(committee.id), check_access():
            card, = Card.create([{'household': household.id}])
            card_id = card.id
        as_user(committee, 'apply')
        self.assertEqual(Card(card_id).state, 'applied')

        # Wrong group, wrong village
        with self.assertRaises(AccessButtonError):
            as_user(office, 'village_review')
        with self.assertRaises(UserError):
            as_user(far_evaluation, 'village_review')
        as_user(evaluation, 'village_review')
        # The committee member who recorded the application cannot review it
        with self.assertRaises(UserError):
            as_user(committee, 'committee_review')
        as_user(committee2, 'committee_review')
        as_user(office, 'township_review')
        self.assertEqual(Card(card_id).state, 'township_reviewed')
        with self.assertRaises(UserError):
            as_user(far_government, 'issue', '135790', '135790')
        with self.assertRaises(ValidationError):
            as_user(government, 'issue', '123456', '123456')
        as_user(government, 'issue', '135790', '135790')

        card = Card(card_id)
        self.assertEqual(card.state, 'issued')
        self.assertEqual(card.issue_date, pool.get('ir.date').today())
        self.assertEqual(card.issuing_township, v1.parent)
        self.assertTrue(card.number.startswith(v1.parent.code))
        self.assertEqual(len(card.number), len(v1.parent.code) + 7)
        self.assertTrue(luhn.is_valid(card.number))
        self.assertEqual(
            [card.applied_by, card.village_reviewed_by,
                card.committee_reviewed_by, card.township_reviewed_by,
                card.issued_by],
            [committee, evaluation, committee2, office, government])
        self.assertTrue(all([card.applied_at, card.issued_at]))
        self.assertEqual(
            [(a.step, a.user) for a in Approval.search([
                        ('document', '=', str(card))])],
            [('apply', committee), ('village_review', evaluation),
                ('committee_review', committee2),
                ('township_review', office), ('issue', government)])
        self.assertTrue(card.pin_set)
        # The hash never leaves the server
        self.assertIsNone(Card.read([card.id], ['pin_hash'])[0]['pin_hash'])
        messages = SMS.search([('origin', '=', str(card))])
        self.assertEqual(len(messages), 1)
        self.assertIn(card.number[-4:], messages[0].text)
        self.assertNotIn('135790', messages[0].text)

        # A second card is numbered by the same sequence
        other = issue_card(create_household(v1, 2))
        self.assertNotEqual(other.number, card.number)
        self.assertTrue(luhn.is_valid(other.number))

    @with_transaction()
    def test_return_with_reason(self):
        "A reviewer returns the application with a reason"
        pool = Pool()
        Card = pool.get('huinong.card')
        Approval = pool.get('huinong.approval')
        v1, _ = self._villages()
        household = create_household(v1, 1)
        committee = create_user('committee', 'group_village_committee', [v1])
        evaluation = create_user('evaluation', 'group_evaluation', [v1])
        card, = Card.create([{'household': household.id}])
        with Transaction().set_user(committee.id):
            Card.apply([card])
        with Transaction().set_user(evaluation.id):
            with self.assertRaises(UserError):
                Card.approval_return([card], '  ')
            with Transaction().set_user(committee.id):
                # the committee is not the next reviewer
                with self.assertRaises(UserError):
                    Card.approval_return([card], "错误")
            Card.approval_return([card], "身份证照片不清楚")
        card = Card(card.id)
        self.assertEqual(card.state, 'draft')
        self.assertEqual(card.return_reason, "身份证照片不清楚")
        self.assertIsNone(card.applied_by)
        returned, = Approval.search([
                ('document', '=', str(card)), ('action', '=', 'return')])
        self.assertEqual(returned.reason, "身份证照片不清楚")
        self.assertEqual(returned.user, evaluation)
        with self.assertRaises(AccessError):
            Approval.write([returned], {'reason': "改"})
        with self.assertRaises(AccessError):
            Approval.delete([returned])

    @with_transaction()
    def test_one_active_card(self):
        "The database refuses a second active card for a household"
        pool = Pool()
        Card = pool.get('huinong.card')
        v1, _ = self._villages()
        household = create_household(v1, 1)
        card, = Card.create([{'household': household.id}])
        Card.cancel([card])
        Card.create([{'household': household.id}])
        with self.assertRaises(SQLConstraintError):
            Card.create([{'household': household.id}])

    @with_transaction()
    def test_life_cycle(self):
        "Lock, unlock, report lost, replace, cancel"
        pool = Pool()
        Card = pool.get('huinong.card')
        SMS = pool.get('huinong.sms')
        v1, _ = self._villages()
        household = create_household(v1, 1, huinong_mobile='13800138000')
        card = issue_card(household)
        with self.assertRaises(UserError):
            Card.lock_card([card], '')
        Card.lock_card([card], "村委会反映冒用")
        self.assertEqual(card.state, 'locked')
        with self.assertRaises(PINError):
            card.check_pin('135790')
        Card.unlock([card], "核实无误")
        self.assertEqual(card.state, 'issued')
        self.assertTrue(card.check_pin('135790'))

        Card.report_lost([card])
        self.assertEqual(card.state, 'lost')
        self.assertTrue(card.lost_at)
        with self.assertRaises(PINError):
            card.check_pin('135790')

        Card.replace([card])
        self.assertEqual(card.state, 'replaced')
        new = card.replaced_by
        self.assertEqual(new.state, 'issued')
        self.assertEqual(new.replaces, card)
        self.assertNotEqual(new.number, card.number)
        self.assertEqual(new.household, household)
        # The household keeps its PIN
        self.assertTrue(new.check_pin('135790'))
        with self.assertRaises(PINError):
            card.check_pin('135790')
        texts = [m.text for m in SMS.search([])]
        self.assertEqual(len(texts), 3)  # issued, lost, new card issued

        Card.cancel([new])
        self.assertEqual(new.state, 'cancelled')
        with self.assertRaises(PINError):
            new.check_pin('135790')
        # History keeps every change
        history = Card.read([card.id], ['state'])  # current
        self.assertEqual(history[0]['state'], 'replaced')

    @with_transaction()
    def test_change_and_reset_pin(self):
        "Change with the old PIN, reset by the township office"
        pool = Pool()
        SMS = pool.get('huinong.sms')
        v1, _ = self._villages()
        household = create_household(v1, 1, huinong_mobile='13800138000')
        card = issue_card(household)
        card.change_pin('135790', '246802', '246802')
        self.assertTrue(card.check_pin('246802'))
        with self.assertRaises(UserError):
            card.reset_pin('975310', '975310', '')
        card.reset_pin('975310', '975310', "农户忘记密码")
        self.assertTrue(card.check_pin('975310'))
        self.assertEqual(SMS.search_count([('origin', '=', str(card))]), 2)

    def test_pin_failures_lock_the_card(self):
        "Five refused requests in a row lock the card"
        def setup():
            v1, _ = self._villages(suffix='L')
            household = create_household(
                v1, 801, huinong_mobile='13800138001')
            return issue_card(household).id
        card_id = in_transaction(setup, commit=True, alone=True)

        def check(pin):
            return Pool().get('huinong.card')(card_id).check_pin(pin)

        def read():
            card = Pool().get('huinong.card')(card_id)
            return card.state, card.pin_failures

        def change(old):
            Pool().get('huinong.card')(card_id).change_pin(
                old, '246802', '246802')

        for attempt in range(1, 5):
            # The request fails and is rolled back, the count stays
            with self.assertRaises(PINError):
                if attempt == 4:
                    # changing the PIN with a wrong old PIN counts too
                    in_transaction(change, '999999')
                else:
                    in_transaction(check, '999999')
            self.assertEqual(in_transaction(read), ('issued', attempt))

        # A success resets the count
        self.assertTrue(in_transaction(check, '135790', commit=True))
        self.assertEqual(in_transaction(read), ('issued', 0))
        for attempt in range(5):
            with self.assertRaises(PINError):
                in_transaction(check, '999999')
        self.assertEqual(in_transaction(read), ('locked', 5))

        def after():
            Card = Pool().get('huinong.card')
            SMS = Pool().get('huinong.sms')
            card = Card(card_id)
            self.assertTrue(card.lock_reason)
            # issued + locked
            self.assertEqual(
                SMS.search_count([('origin', '=', str(card))]), 2)
            # The right PIN fails on a locked card
            with self.assertRaises(PINError):
                card.check_pin('135790')
            Card.unlock([card], "本人到乡镇办公室核实")
            return card.check_pin('135790')
        self.assertTrue(in_transaction(after, commit=True))

    @with_transaction()
    def test_access(self):
        "Each role does only what it may on cards"
        pool = Pool()
        Card = pool.get('huinong.card')
        v1, v2 = self._villages()
        h1 = create_household(v1, 1)
        h2 = create_household(v2, 2)
        c1 = issue_card(h1)
        c2 = issue_card(h2)
        clerk = create_user('clerk', 'group_clerk', [v1.parent])
        office = create_user('office', 'group_township_office', [v1.parent])
        committee = create_user('committee', 'group_village_committee', [v1])
        finance = create_user('finance', 'group_finance', [])
        for user, visible in [(clerk, {c1}), (office, {c1}),
                (committee, {c1}), (finance, {c1, c2})]:
            with Transaction().set_user(user.id), check_access():
                self.assertEqual(set(Card.search([
                                ('household', 'in', [h1.id, h2.id])])),
                    visible)
        with Transaction().set_user(clerk.id), check_access():
            with self.assertRaises(AccessButtonError):
                Card.replace([Card(c1.id)])
            with self.assertRaises(AccessButtonError):
                Card.cancel([Card(c1.id)])
            with self.assertRaises(AccessError):
                Card.report_lost([Card(c2.id)])
            Card.report_lost([Card(c1.id)])
        with Transaction().set_user(committee.id), check_access():
            with self.assertRaises(AccessButtonError):
                Card.replace([Card(c1.id)])
        with Transaction().set_user(finance.id), check_access():
            with self.assertRaises(AccessError):
                Card.write([Card(c2.id)], {'household': h1.id})
        # Nobody unlocks or renumbers a card by writing it directly
        with Transaction().set_user(clerk.id), check_access():
            for values in [{'state': 'issued'}, {'pin_failures': 0},
                    {'number': '1'}, {'issued_by': clerk.id}]:
                with self.subTest(values=values), \
                        self.assertRaises(AccessError):
                    Card.write([Card(c1.id)], values)
        with Transaction().set_user(office.id), check_access():
            with self.assertRaises(AccessError):
                Card.write([Card(c1.id)], {'household': h2.id})
        with Transaction().set_user(office.id), check_access():
            Card.replace([Card(c1.id)])

        # Wizards: issuing, locking and resetting a PIN are not the clerk's
        for name in ['huinong.card.issue', 'huinong.card.lock',
                'huinong.card.unlock', 'huinong.card.reset_pin',
                'huinong.card.change_pin']:
            Wizard = pool.get(name, type='wizard')
            with self.subTest(wizard=name), \
                    Transaction().set_user(clerk.id), \
                    Transaction().set_context(
                        active_model='huinong.card', active_id=c1.id,
                        active_ids=[c1.id]):
                with self.assertRaises(AccessError):
                    Wizard.create()

    @with_transaction()
    def test_entitlements(self):
        "Grants, uses oldest first, remaining counts, reversal"
        pool = Pool()
        Type = pool.get('huinong.entitlement.type')
        Grant = pool.get('huinong.entitlement.grant')
        Use = pool.get('huinong.entitlement.use')
        Card = pool.get('huinong.card')
        v1, _ = self._villages()
        h1 = create_household(v1, 1)
        h2 = create_household(v1, 2)
        haircut, rice = Type.create([
                {'name': "理发", 'code': 'HAIR', 'unit': "次"},
                {'name': "大米", 'code': 'RICE', 'unit': "袋"},
                ])
        d = dt.date
        old, new, _ = Grant.create([{
                    'household': h1.id, 'type': haircut.id, 'quantity': 2,
                    'start_date': d(2026, 1, 1), 'end_date': d(2026, 3, 31),
                    }, {
                    'household': h1.id, 'type': haircut.id, 'quantity': 3,
                    'start_date': d(2026, 2, 1), 'end_date': d(2026, 12, 31),
                    }, {
                    'household': h2.id, 'type': rice.id, 'quantity': 1,
                    'start_date': d(2026, 1, 1),
                    }])
        counts = Grant.get_remaining_counts([h1.id, h2.id], d(2026, 2, 15))
        self.assertEqual(counts, {
                h1.id: {haircut.id: 5}, h2.id: {rice.id: 1}})
        self.assertEqual(
            Grant.get_remaining_counts([h1.id], d(2026, 1, 15)),
            {h1.id: {haircut.id: 2}})

        # Three haircuts: two from the grant that ends first, one from next
        uses = Use.record_use(h1, haircut, 3, d(2026, 2, 15))
        self.assertEqual(
            [(u.grant, u.quantity) for u in uses], [(old, 2), (new, 1)])
        self.assertEqual(
            Grant.get_remaining_counts([h1.id], d(2026, 2, 16)),
            {h1.id: {haircut.id: 2}})
        # The old grant has expired in April: only the new one counts
        self.assertEqual(
            Grant.get_remaining_counts([h1.id], d(2026, 4, 1)),
            {h1.id: {haircut.id: 2}})
        with self.assertRaises(UserError):
            Use.record_use(h1, haircut, 3, d(2026, 4, 1))
        with self.assertRaises(UserError):
            Use.record_use(h2, haircut, 1, d(2026, 4, 1))
        with self.assertRaises(UserError):
            Use.record_use(h1, haircut, 0, d(2026, 4, 1))

        # A wrong use is reversed by a correcting entry
        with self.assertRaises(AccessError):
            Use.write(uses, {'quantity': 1})
        with self.assertRaises(AccessError):
            Use.delete(uses)
        with self.assertRaises(AccessError):
            Grant.write([old], {'quantity': 9})
        reversals = Use.reverse([uses[1]], "记错了", d(2026, 2, 16))
        self.assertEqual(reversals[0].quantity, -1)
        self.assertEqual(
            Grant.get_remaining_counts([h1.id], d(2026, 2, 16)),
            {h1.id: {haircut.id: 3}})
        with self.assertRaises(UserError):
            Use.reverse(reversals, "再改")

        card = issue_card(h1)
        self.assertIn("理发", Card(card.id).entitlements)

        # Goods for a household: granted by the offices only, the uses
        # written by the counter only, whatever the household's access
        # gives (the village committee changes households)
        committee = create_user('committee', 'group_village_committee', [v1])
        office = create_user('office', 'group_township_office', [v1.parent])
        grant = {'household': h1.id, 'type': rice.id, 'quantity': 5,
            'start_date': d(2026, 5, 1)}
        with Transaction().set_user(committee.id), check_access():
            with self.assertRaises(AccessError):
                Grant.create([grant])
            with self.assertRaises(AccessError):
                Use.create([{'household': h1.id, 'type': haircut.id,
                            'grant': new.id, 'quantity': -2,
                            'date': d(2026, 5, 1)}])
        with Transaction().set_user(office.id), check_access():
            Grant.create([grant])
            with self.assertRaises(AccessError):
                Use.create([{'household': h1.id, 'type': haircut.id,
                            'grant': new.id, 'quantity': -2,
                            'date': d(2026, 5, 1)}])

    @with_transaction()
    def test_entitlement_rules(self):
        "Monthly grants by household class, given once"
        pool = Pool()
        Type = pool.get('huinong.entitlement.type')
        Rule = pool.get('huinong.entitlement.rule')
        Grant = pool.get('huinong.entitlement.grant')
        Class = pool.get('huinong.household.class')
        v1, _ = self._villages()
        poor = create_household(v1, 1)
        ordinary = create_household(v1, 2)
        create_household(v1, 3)  # no class: nothing
        Class.create([
                {'household': poor.id, 'classification': 'poor',
                    'start_date': dt.date(2020, 1, 1)},
                {'household': ordinary.id, 'classification': 'ordinary',
                    'start_date': dt.date(2020, 1, 1)},
                ])
        rice, = Type.create([{'name': "大米", 'code': 'RICE', 'unit': "袋"}])
        Rule.create([
                {'type': rice.id, 'classification': 'poor', 'quantity': 1},
                {'type': rice.id, 'quantity': 2, 'months': 3},
                ])
        grants = Rule.grant_monthly(dt.date(2026, 5, 17))
        self.assertEqual(len(grants), 3)
        self.assertEqual(Rule.grant_monthly(dt.date(2026, 5, 20)), [])
        self.assertEqual(
            Grant.get_remaining_counts(
                [poor.id, ordinary.id], dt.date(2026, 5, 20)),
            {poor.id: {rice.id: 3}, ordinary.id: {rice.id: 2}})
        self.assertEqual(
            Grant.get_remaining_counts(
                [poor.id, ordinary.id], dt.date(2026, 7, 31)),
            {poor.id: {rice.id: 2}, ordinary.id: {rice.id: 2}})


del ModuleTestCase
