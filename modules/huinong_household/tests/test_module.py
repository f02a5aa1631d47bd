# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.tests.test_tryton import ModuleTestCase


class HuinongHouseholdTestCase(ModuleTestCase):
    "Test Huinong Household module"
    module = 'huinong_household'


del ModuleTestCase
