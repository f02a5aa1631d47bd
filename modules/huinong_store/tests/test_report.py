# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Tests of the opening hours notice (营业时间公示).

The notice is rendered for real to PDF through LibreOffice and read back
with pdftotext, in a database whose language is Chinese. Without `soffice`
or `pdftotext` the PDF tests are skipped, except when CI is 'true'.

Set HUINONG_REPORT_ARTIFACTS to a directory to keep the PDFs."""
import datetime as dt
import re

from trytond.model.exceptions import AccessError
from trytond.modules.huinong_store.tests.tools import (
    create_operator, create_store, create_user, get_township)
from trytond.modules.huinong.tests.tools import (
    DatabaseTestCase, with_transaction)
from trytond.pool import Pool
from trytond.tests.test_tryton import TestCase
from trytond.transaction import Transaction

from trytond.modules.huinong.tests.tools import (  # noqa: E402
    compact, needs_pdf_tools, pdf_text)


class StoreReportTestCase(DatabaseTestCase, TestCase):
    "Test the opening hours notice"
    module = 'huinong_store'
    language = 'zh_CN'

    def _store(self):
        qifang = get_township('七坊镇')
        clerk = create_user('clerk', 'group_clerk', [qifang])
        clerk.name = "王小二"
        clerk.save()
        store = create_store(qifang, 'QF', "七坊镇电商惠农超市示范店",
            clerks=[clerk], operator=create_operator("七坊镇村淘服务站"),
            huinong_phone='0898-27721234')
        return store, clerk

    @needs_pdf_tools
    @with_transaction()
    def test_notice(self):
        "The notice shows the store, its hours by weekday and the rule"
        pool = Pool()
        Notice = pool.get(
            'huinong.store.opening_hours.notice', type='report')
        Location = pool.get('stock.location')
        store, clerk = self._store()
        # Saturday is one long day, changed through the store
        saturday = [l for l in store.huinong_opening_hours
            if l.weekday == '6']
        Location.write([store], {'huinong_opening_hours': [
                    ('delete', [l.id for l in saturday[1:]]),
                    ('write', [saturday[0].id], {'closes': dt.time(17)}),
                    ]})
        ext, content, _, name = Notice.execute([store.id], {})
        self.assertEqual(ext, 'pdf')
        text = pdf_text(content, 'notice')
        flat = compact(text)
        for expected in ["营业时间公示", "七坊镇电商惠农超市示范店", "七坊镇",
                "星期一", "星期二", "星期三", "星期四", "星期五", "星期六",
                "星期日", "王小二", "0898-27721234",
                "积分兑换一分抵一元不兑现金"]:
            self.assertIn(expected, flat)
        self.assertEqual(flat.count("08:00-12:0014:00-18:30"), 6)
        self.assertIn("星期六08:00-17:00", flat)
        self.assertIsNone(re.search(r'[A-Za-z]{3,}', text))

    @with_transaction()
    def test_notice_access(self):
        "A clerk of another store cannot print the notice"
        pool = Pool()
        Notice = pool.get(
            'huinong.store.opening_hours.notice', type='report')
        store, clerk = self._store()
        yuanmen = get_township('元门乡')
        far_clerk = create_user('far_clerk', 'group_clerk', [yuanmen])
        create_store(yuanmen, 'YM', clerks=[far_clerk])
        with Transaction().set_user(far_clerk.id), \
                self.assertRaises(AccessError):
            Notice.execute([store.id], {})

    @with_transaction(context={'language': 'zh_CN'})
    def test_stock_words_in_chinese(self):
        "What trytond's zh_CN gets wrong on the clerk's screens is replaced"
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        Button = pool.get('ir.model.button')
        Uom = pool.get('product.uom')
        for model in ['stock.shipment.in', 'stock.shipment.in.return',
                'stock.shipment.internal']:
            Model = pool.get(model)
            self.assertEqual(
                Model.fields_get(['number'])['number']['string'], "单号")
        done = Button(ModelData.get_id('stock', 'shipment_in_done_button'))
        self.assertEqual(done.string, "完成收货")
        unit = Uom(ModelData.get_id('product', 'uom_unit'))
        self.assertEqual((unit.name, unit.symbol), ("件", "件"))
        # trytond's own messages whose zh_CN is fuzzy (English shown) or
        # wrong (a button's refusal read as a deletion's): huinong's
        from trytond.i18n import gettext
        self.assertEqual(gettext('ir.msg_button_state_record',
                button="确认", record="DH0001", model="兑换"),
            "不能对“兑换”的记录“DH0001”执行“确认”。")
        self.assertEqual(gettext('ir.msg_context_groups', groups="营业员"),
            "所属用户组：营业员")
        self.assertIn("必须填写", gettext('ir.msg_required_validation_record',
                field="户主", record="x", model="农户"))
