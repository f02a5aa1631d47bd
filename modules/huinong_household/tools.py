# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Checks of Chinese resident ID and mobile numbers, shared by the module"
import phonenumbers
from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.util import isdigits


def compact_resident_id(value):
    """Return the compact form of a valid resident ID or None.

    python-stdnum checks the length, the check digit and the birth date.
    Its ``validate`` also requires the county code to have existed in the
    birth year, which refuses real IDs: Baisha's code 469025 dates from
    2002, and people born before keep the 469025 IDs issued to them since.
    So the place is checked at the province level only."""
    if not value:
        return None
    try:
        number = ric.compact(value)
        if len(number) != 18 or not isdigits(number[:-1]):
            return None
        if number[-1] != ric.calc_check_digit(number):
            return None
        ric.get_birth_date(number)
    except StdnumError:
        return None
    places = numdb.get('cn/loc').info(number[:6])
    if not places or 'province' not in places[0][1]:
        return None
    return number


def resident_id_birth_date(value):
    try:
        return ric.get_birth_date(value)
    except StdnumError:
        return None


def resident_id_gender(value):
    "The 17th digit is odd for men and even for women"
    code = compact_resident_id(value)
    if code:
        return 'male' if int(code[16]) % 2 else 'female'


def parse_cn_mobile(value):
    """Return the E.164 form of a valid mobile number of mainland China,
    or None"""
    if not value:
        return None
    try:
        number = phonenumbers.parse(value, 'CN')
    except phonenumbers.NumberParseException:
        return None
    if (not phonenumbers.is_valid_number(number)
            or phonenumbers.region_code_for_number(number) != 'CN'
            or phonenumbers.number_type(number)
            != phonenumbers.PhoneNumberType.MOBILE):
        return None
    return phonenumbers.format_number(
        number, phonenumbers.PhoneNumberFormat.E164)
