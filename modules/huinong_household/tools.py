# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Checks of Chinese resident ID and mobile numbers, shared by the module"
import phonenumbers
from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError


def compact_resident_id(value):
    "Return the compact form of a valid resident ID or None"
    if not value:
        return None
    try:
        return ric.validate(value)
    except StdnumError:
        return None


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
