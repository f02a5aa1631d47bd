# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Tests of the printed card and of the card register.

Both reports are rendered for real to PDF through LibreOffice and read back
with pdftotext, in a database whose language is Chinese (the translations of
the templates are loaded as at a real installation). Without `soffice` or
`pdftotext` the PDF tests are skipped, except when CI is 'true'.

Set HUINONG_REPORT_ARTIFACTS to a directory to keep the PDFs rendered by the
tests (to look at them, e.g. with pdftoppm)."""
import datetime as dt
import io
import os
import re
import shutil
import subprocess
import tempfile
import unittest
import zipfile

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.modules.huinong_card.report import (
    group_number, mask_resident_id, merge_svg_squares, photo_image)
from trytond.modules.huinong_card.tests.tools import (
    create_household, create_user, issue_card)
from trytond.modules.huinong_household.tests.tools import png
from trytond.modules.huinong.tests.tools import (
    DatabaseTestCase, with_transaction)
from trytond.pool import Pool
from trytond.tests.test_tryton import TestCase
from trytond.transaction import Transaction

from trytond.modules.huinong.tests.tools import (  # noqa: E402
    HAS_PDF_TOOLS, compact, needs_pdf_tools, pdf_text)


class CardReportTestCase(DatabaseTestCase, TestCase):
    "Test the printed card and the card register"
    # A database of its own in Chinese, the language of the users: the
    # modules' zh_CN translations are loaded as at an installation
    module = 'huinong_card'
    language = 'zh_CN'

    def _villages(self):
        pool = Pool()
        Area = pool.get('huinong.area')
        qifang, = Area.search([('name', '=', '七坊镇')])
        yuanmen, = Area.search([('name', '=', '元门乡')])
        return Area.create([
                {'name': "罗任村", 'code': 'QF01', 'parent': qifang.id},
                {'name': "元门村", 'code': 'YM01', 'parent': yuanmen.id},
                ])

    def _company(self, phone):
        "Create the programme's company with its phone"
        pool = Pool()
        Currency = pool.get('currency.currency')
        Party = pool.get('party.party')
        Company = pool.get('company.company')
        currency, = Currency.create([{
                    'name': "人民币", 'code': 'CNY', 'symbol': '¥'}])
        party, = Party.create([{
                    'name': "白沙县电商惠农超市工作领导小组办公室",
                    'contact_mechanisms': [('create', [{
                                    'type': 'phone', 'value': phone}])],
                    }])
        company, = Company.create([{
                    'party': party.id, 'currency': currency.id}])
        return company

    def test_helpers(self):
        "Grouped numbers, masked IDs, photo sizes"
        self.assertEqual(
            group_number('4690251010000427'), '4690 2510 1000 0427')
        self.assertEqual(group_number(None), '')
        self.assertEqual(
            mask_resident_id('46002519800101002X'), '*' * 14 + '002X')
        self.assertEqual(
            mask_resident_id('460025 19800101 002X'), '*' * 14 + '002X')
        self.assertEqual(mask_resident_id('12'), '**')
        self.assertEqual(mask_resident_id(None), '')
        data, mimetype, width, height = photo_image(png(260, 320))
        self.assertEqual(mimetype, 'image/png')
        self.assertEqual((width, height), ('1.750cm', '2.154cm'))
        data, mimetype, width, height = photo_image(png(300, 300))
        self.assertEqual((width, height), ('1.750cm', '1.750cm'))
        self.assertIsNone(photo_image(b'not an image'))
        self.assertIsNone(photo_image(None))
        qr = merge_svg_squares(
            b'<svg xmlns="http://www.w3.org/2000/svg" width="4mm" '
            b'height="4mm"><rect x="1mm" y="1mm" width="1mm" height="1mm"/>'
            b'<rect x="2mm" y="1mm" width="1mm" height="1mm"/></svg>')
        self.assertIn(b'viewBox="0 0 4 4"', qr.getvalue())
        self.assertIn(b'd="M1 1h1v1h-1zM2 1h1v1h-1z"', qr.getvalue())
        self.assertNotIn(b'<rect', qr.getvalue())
        self.assertEqual(merge_svg_squares(b'not svg'), b'not svg')

    @needs_pdf_tools
    @with_transaction()
    def test_print_card(self):
        "The card prints in Chinese with its grouped number and codes"
        pool = Pool()
        CardReport = pool.get('huinong.card.print', type='report')
        v1, _ = self._villages()
        # Without a company phone, a line to fill in by hand
        self.assertEqual(CardReport.hotline(), '____________')
        company = self._company('+86 898 2772 2345')
        household = create_household(
            v1, 1, name="王大山", huinong_photo=png(260, 320))
        card = issue_card(household)
        other = issue_card(create_household(v1, 2, name="李小花"))

        with Transaction().set_context(company=company.id):
            ext, content, direct_print, name = CardReport.execute(
                [card.id], {})
        self.assertEqual(ext, 'pdf')
        self.assertTrue(content.startswith(b'%PDF'))
        self.assertIn(card.number, name)
        text = pdf_text(content, 'card')
        flat = compact(text)
        self.assertIn("白沙县电商惠农超市积分卡", flat)
        self.assertIn("王大山", flat)
        self.assertIn("七坊镇", flat)
        self.assertIn("罗任村", flat)
        # The number in groups of 4 digits, on one line
        self.assertIn(group_number(card.number), text)
        self.assertIn(
            "挂失：请立即到村淘服务站或乡镇电商惠农超市管理工作办公室办理，电话",
            flat)
        self.assertIn(compact(company.party.phone), flat)
        self.assertIn("不得转借", flat)
        # Nothing left in English: the template is translated
        self.assertIsNone(re.search(r'[A-Za-z]{3,}', text))
        # Front and back
        self.assertEqual(text.count('\f'), 2)

        # Several cards in one document: two pages each
        ext, content, _, _ = CardReport.execute([card.id, other.id], {})
        text = pdf_text(content, 'cards')
        self.assertEqual(text.count('\f'), 4)
        self.assertIn(group_number(other.number), text)
        self.assertIn("李小花", compact(text))
        # Without the company in the context, the only company's phone
        self.assertEqual(
            compact(text).count(compact(company.party.phone)), 2)

    @unittest.skipUnless(
        HAS_PDF_TOOLS and shutil.which('pdftoppm') and shutil.which('zbarimg'),
        "soffice, poppler-utils or zbar-tools is missing")
    @with_transaction()
    def test_print_card_codes_scan(self):
        "The printed barcode and QR code scan as the card number"
        pool = Pool()
        CardReport = pool.get('huinong.card.print', type='report')
        v1, _ = self._villages()
        card = issue_card(create_household(v1, 1))
        _, content, _, _ = CardReport.execute([card.id], {})
        with tempfile.TemporaryDirectory(prefix='huinong_scan_') as directory:
            path = os.path.join(directory, 'card.pdf')
            with open(path, 'wb') as fp:
                fp.write(content)
            subprocess.run(['pdftoppm', '-r', '200', '-png', '-f', '1',
                    '-l', '1', path, os.path.join(directory, 'front')],
                check=True, capture_output=True)
            front, = [os.path.join(directory, n)
                for n in os.listdir(directory) if n.startswith('front')]
            result = subprocess.run(['zbarimg', '-q', front],
                capture_output=True)
        self.assertEqual(
            sorted(result.stdout.decode().split()),
            ['CODE-128:' + card.number, 'QR-Code:' + card.number])

    @with_transaction()
    def test_print_card_images(self):
        "The photo, the barcode and the QR code are in the document"
        pool = Pool()
        CardReport = pool.get('huinong.card.print', type='report')
        ActionReport = pool.get('ir.action.report')
        v1, _ = self._villages()
        photo = png(260, 320)
        card = issue_card(create_household(
                v1, 1, name="王大山", huinong_photo=photo))
        no_photo = issue_card(create_household(v1, 2))
        action, = ActionReport.search(
            [('report_name', '=', 'huinong.card.print')])
        # The OpenDocument before its conversion to PDF
        records = CardReport._get_records(
            [card.id, no_photo.id], 'huinong.card', {})
        context = CardReport.get_context(records, {}, {})
        odt = CardReport.render(action, context)
        with zipfile.ZipFile(io.BytesIO(odt)) as odt:
            pictures = {n: odt.read(n) for n in odt.namelist()
                if n.startswith('Pictures/')}
            content = odt.read('content.xml').decode('utf-8')
        self.assertIn(photo, pictures.values())
        # A barcode and a QR code for each card, one photo
        self.assertEqual(
            len([n for n in pictures if n.endswith('.svg')]), 4)
        self.assertEqual(content.count('<draw:image'), 5)

    @with_transaction()
    def test_print_card_not_issued(self):
        "Only issued cards print: a translated error otherwise"
        pool = Pool()
        Card = pool.get('huinong.card')
        CardReport = pool.get('huinong.card.print', type='report')
        v1, _ = self._villages()
        draft, = Card.create([{'household': create_household(v1, 1).id}])
        lost = issue_card(create_household(v1, 2))
        Card.report_lost([lost])
        for card, state in [(draft, "草稿"), (lost, "已挂失")]:
            with self.assertRaises(UserError) as cm:
                CardReport.execute([card.id], {})
            self.assertIn("只能打印已发放的积分卡", cm.exception.message)
            self.assertIn(state, cm.exception.message)

    @with_transaction()
    def test_print_card_access(self):
        "Only the township and county offices print cards, of their area"
        pool = Pool()
        CardReport = pool.get('huinong.card.print', type='report')
        ActionReport = pool.get('ir.action.report')
        v1, v2 = self._villages()
        card = issue_card(create_household(v1, 1))
        clerk = create_user('clerk', 'group_clerk', [v1.parent])
        far_office = create_user(
            'far_office', 'group_township_office', [v2.parent])
        office = create_user('office', 'group_township_office', [v1.parent])
        for user in [clerk, far_office]:
            with Transaction().set_user(user.id):
                with self.assertRaises(AccessError):
                    CardReport.execute([card.id], {})
        # The township's office renders it with its own access rights, as
        # through RPC (the conversion to PDF is tested above)
        action, = ActionReport.search(
            [('report_name', '=', 'huinong.card.print')])
        with Transaction().set_user(office.id), \
                Transaction().set_context(_check_access=True):
            CardReport.check_access(action, 'huinong.card', [card.id])
            records = CardReport._get_records(
                [card.id], 'huinong.card', {})
            odt = CardReport.render(
                action, CardReport.get_context(records, {}, {}))
        with zipfile.ZipFile(io.BytesIO(odt)) as odt:
            content = odt.read('content.xml').decode('utf-8')
        self.assertIn(card.household.name, content)
        self.assertIn(group_number(card.number), content)

    def _register_cards(self):
        """Issue cards in 七坊镇 and 元门乡; return them by key with the
        period of the register"""
        pool = Pool()
        Card = pool.get('huinong.card')
        v1, v2 = self._villages()
        start, end = dt.date(2026, 3, 1), dt.date(2026, 3, 31)
        government = create_user(
            'issuer', 'group_township_government', [v1.parent])
        government.name = "张发卡"
        government.save()
        cards = {}
        for key, village, serial, issued in [
                ('march1', v1, 11, dt.date(2026, 3, 2)),
                ('march2', v1, 12, dt.date(2026, 3, 31)),
                ('lost', v1, 13, dt.date(2026, 3, 15)),
                ('february', v1, 14, dt.date(2026, 2, 28)),
                ('april', v1, 15, dt.date(2026, 4, 1)),
                ('yuanmen', v2, 16, dt.date(2026, 3, 10)),
                ]:
            card = issue_card(create_household(
                    village, serial, name="农户%s" % serial))
            Card.write([card], {
                    'issue_date': issued, 'issued_by': government.id})
            cards[key] = card
        Card.report_lost([cards['lost']])
        draft, = Card.create([{
                    'household': create_household(v1, 17).id}])
        cards['draft'] = draft
        return v1.parent, v2.parent, start, end, cards

    def _print_register(self, township, start, end, name=None):
        pool = Pool()
        Register = pool.get('huinong.card.register', type='wizard')
        RegisterReport = pool.get(
            'huinong.card.register.report', type='report')
        # Through the wizard as the client does: its print state gives the
        # data of the report
        session_id, _, _ = Register.create()
        result = Register.execute(session_id, {
                'start': {
                    'township': township.id,
                    'from_date': start,
                    'to_date': end,
                    },
                }, 'print_')
        Register.delete(session_id)
        (action, data), = result['actions']
        self.assertEqual(
            action['report_name'], 'huinong.card.register.report')
        ext, content, _, filename = RegisterReport.execute([], data)
        self.assertEqual(ext, 'pdf')
        self.assertEqual(filename, "积分卡发放登记册-%s-%s-%s" % (
                township.name, start.isoformat(), end.isoformat()))
        return pdf_text(content, name)

    @needs_pdf_tools
    @with_transaction()
    def test_register(self):
        "The register lists the township's cards of the period by number"
        pool = Pool()
        Card = pool.get('huinong.card')
        qifang, _, start, end, cards = self._register_cards()
        text = self._print_register(qifang, start, end, 'register')
        flat = compact(text)
        self.assertIn("白沙县电商惠农超市积分卡发放登记册", flat)
        self.assertIn("七坊镇", flat)
        self.assertIn("2026-03-01", flat)
        self.assertIn("2026-03-31", flat)
        listed = [cards[k] for k in ['march1', 'march2', 'lost']]
        for card in listed:
            self.assertIn(group_number(card.number), text)
        for key in ['february', 'april', 'yuanmen']:
            self.assertNotIn(compact(cards[key].number), flat)
            self.assertNotIn(cards[key].household.name, flat)
        self.assertNotIn(cards['draft'].household.name, flat)
        # By number
        positions = [text.index(group_number(c.number))
            for c in sorted(listed, key=lambda c: c.number)]
        self.assertEqual(positions, sorted(positions))
        # Resident IDs masked but for their last 4 characters
        for card in Card.browse(cards.values()):
            resident_id = card.household.huinong_resident_id
            self.assertNotIn(resident_id, flat)
            self.assertNotIn(resident_id[:6], flat)
        for card in listed:
            self.assertIn(
                mask_resident_id(card.household.huinong_resident_id),
                flat)
        self.assertIn("已发放", flat)
        self.assertIn("已挂失", flat)
        self.assertIn("罗任村", flat)
        self.assertIn("张发卡", flat)
        self.assertIn("合计3", flat)
        self.assertIn("经办人", flat)
        self.assertIn("审核人", flat)
        self.assertIsNone(re.search(r'[A-Za-z]{3,}', text))

    @needs_pdf_tools
    @with_transaction()
    def test_register_record_rules(self):
        "A township office gets only its own township's cards"
        qifang, yuanmen, start, end, cards = self._register_cards()
        office = create_user(
            'office', 'group_township_office', [qifang])
        far_office = create_user(
            'far_office', 'group_township_office', [yuanmen])
        government = create_user(
            'government', 'group_township_government', [qifang])

        with Transaction().set_user(far_office.id):
            text = self._print_register(qifang, start, end, 'register_far')
        flat = compact(text)
        for card in cards.values():
            if card.number:
                self.assertNotIn(compact(card.number), flat)
            self.assertNotIn(card.household.name, flat)
        self.assertIn("本乡镇在此期间没有发放积分卡", flat)
        self.assertIn("合计0", flat)

        for user in [office, government]:
            with Transaction().set_user(user.id):
                text = self._print_register(qifang, start, end)
            for key in ['march1', 'march2', 'lost']:
                self.assertIn(group_number(cards[key].number), text)

    @with_transaction()
    def test_register_access(self):
        "Only township and county offices and admins print the register"
        pool = Pool()
        RegisterReport = pool.get(
            'huinong.card.register.report', type='report')
        Register = pool.get('huinong.card.register', type='wizard')
        qifang, _, start, end, _ = self._register_cards()
        clerk = create_user('clerk', 'group_clerk', [qifang])
        committee = create_user(
            'committee', 'group_village_committee', [qifang])
        data = {'township': qifang.id, 'from_date': start, 'to_date': end}
        for user in [clerk, committee]:
            with Transaction().set_user(user.id):
                with self.assertRaises(AccessError):
                    RegisterReport.execute([], data)
                with Transaction().set_context(_check_access=True), \
                        self.assertRaises(AccessError):
                    Register.check_access()

    @with_transaction()
    def test_register_defaults(self):
        "The start form proposes the user's township and this month"
        pool = Pool()
        Start = pool.get('huinong.card.register.start')
        Date = pool.get('ir.date')
        v1, v2 = self._villages()
        office = create_user('office', 'group_township_office', [v1.parent])
        county = create_user('county', 'group_county_office', [])
        both = create_user(
            'both', 'group_township_government', [v1.parent, v2.parent])
        with Transaction().set_user(office.id):
            self.assertEqual(Start.default_township(), v1.parent.id)
            self.assertEqual(Start.default_townships(), [v1.parent.id])
        with Transaction().set_user(county.id):
            self.assertIsNone(Start.default_township())
            self.assertEqual(Start.default_townships(), [])
        with Transaction().set_user(both.id):
            self.assertIsNone(Start.default_township())
            self.assertEqual(
                sorted(Start.default_townships()),
                sorted([v1.parent.id, v2.parent.id]))
        today = Date.today()
        self.assertEqual(Start.default_from_date(), today.replace(day=1))
        self.assertEqual(Start.default_to_date(), today)
