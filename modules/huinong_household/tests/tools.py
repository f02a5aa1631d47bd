# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Helpers shared by the tests of the household module and later modules"
import datetime as dt
import io

from stdnum.cn import ric


def resident_id(serial, birth_date=dt.date(1970, 1, 1), area=None):
    """Return a valid resident ID number for the serial (0-999).
    The area code is the one Baisha had at the birth date (python-stdnum
    checks it): Guangdong before 1988, 460030 until 2002, then 469025."""
    if area is None:
        if birth_date.year < 1988:
            area = '440000'
        elif birth_date.year < 2002:
            area = '460030'
        else:
            area = '469025'
    number = '%s%s%03d' % (area, birth_date.strftime('%Y%m%d'), serial % 1000)
    return number + ric.calc_check_digit(number + '0')


def png(width=40, height=50, color=(200, 30, 30)):
    "Return the bytes of a small PNG image"
    from PIL import Image
    image = Image.new('RGB', (width, height), color)
    data = io.BytesIO()
    image.save(data, format='PNG')
    return data.getvalue()


HEADER = ['户主身份证号', '姓名', '与户主关系', '身份证号', '村', '手机号',
    '户籍地址', '农户类别', '类别起始日期']


def household_rows(count, village, start=0, members=1):
    """Return rows of a household file: one head row per household and
    `members` member rows each, with distinct valid resident IDs"""
    rows = []
    for i in range(start, start + count):
        head = resident_id(i, dt.date(1960 + i % 30, 1 + i % 12, 1 + i % 28))
        rows.append([head, '户主%d' % i, '户主', head, village,
                '1380000%04d' % i, '海南省白沙县', '贫困户' if i % 3 == 0
                else '一般农户', '2024-01-01'])
        for j in range(members):
            member = resident_id(
                i, dt.date(1990 + j, 1 + i % 12, 1 + i % 28))
            rows.append([head, '成员%d-%d' % (i, j), '子女', member, '', '',
                    '', '', ''])
    return rows


def csv_bytes(rows, header=HEADER, encoding='utf-8'):
    import csv
    data = io.StringIO()
    writer = csv.writer(data)
    writer.writerow(header)
    writer.writerows(rows)
    return data.getvalue().encode(encoding)


def xlsx_bytes(rows, header=HEADER):
    import openpyxl
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    data = io.BytesIO()
    workbook.save(data)
    return data.getvalue()
