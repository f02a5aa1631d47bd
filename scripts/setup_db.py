#!/usr/bin/env python3
"""Create or update a huinong database, and load the demo data.

    .venv/bin/python scripts/setup_db.py -c config/trytond-demo.conf -d demo \\
        [--password PW] [--demo [--households 300]]

What it does, in one process (the trytond-admin equivalent, in-process):

1. creates the database when it is missing (SQLite: the file
   ``<[database] path>/<name>.sqlite``; PostgreSQL: CREATE DATABASE), then
   activates the huinong modules and their dependencies with the zh_CN
   translations (``trytond-admin -u MODULES --activate-dependencies -l
   zh_CN``).  On an existing database the modules are updated only when
   needed: a module is not activated yet, ``--update`` is given, or (SQLite)
   the modules' files or the Tryton versions changed since the last run
   (a stamp file beside the database);
2. sets the password of ``admin`` when one is given (``--password``, the
   file named by ``TRYTONPASSFILE``, or ``HUINONG_ADMIN_PASSWORD``); a new
   database needs one;
3. marks every ``ir.module.config_wizard.item`` done, so that the clients
   do not open the module configuration wizard;
4. with ``--demo``: villages (3-5 per township), household attributes,
   households with members, resident IDs, mobiles, class histories and a
   few ID photos, and one user per role (see DEMO_USERS) with the demo
   password.  It is idempotent: villages are matched on their code,
   attributes on their name, households on the head's resident ID, users
   on their login; running it twice adds nothing.  The demo users' name,
   groups, areas, language and password are set again on every run (a
   demo's documented logins keep working).  The households are
   generated from a fixed seed, the first N being always the same, so a
   larger ``--households`` later only adds the missing ones;
5. sets ``--language`` (zh_CN) as the language of admin and of the demo
   users.

The trytond configuration is loaded BEFORE anything of trytond.modules is
imported (importing it first silently selects SQLite).  This file imports
only the standard library at module level, so that tests and other scripts
can import DEMO_USERS / DEMO_VILLAGES without loading trytond.
"""
import argparse
import datetime as dt
import hashlib
import io
import json
import logging
import os
import random
import sys
import time

# The demo villages of each township (real-sounding names), by township
# XML id.  The township codes are those of modules/huinong/area.xml; a
# village's code is its township's code followed by 201, 202...
DEMO_VILLAGES = {
    'area_yacha': ['牙叉村', '对俄村', '方香村', '白沙村'],
    'area_qifang': ['罗任村', '白打村', '七坊村', '高石村', '大湖村'],
    'area_bangxi': ['邦溪村', '南班村', '孟果村', '芙蓉田村'],
    'area_daan': ['打安村', '福妥村', '田表村', '长岭村'],
    'area_xishui': ['细水村', '番响村', '什付村'],
    'area_yuanmen': ['元门村', '红旗村', '罗帅村', '向民村', '翁村'],
    'area_nankai': ['南开村', '高峰村', '牙佬村', '道银村'],
    'area_fulong': ['阜龙村', '天堂村', '可任村', '打炳村'],
    'area_qingsong': ['青松村', '拥处村', '吴园村'],
    'area_jinbo': ['金波村', '芭蕉村', '什奋村', '加灵村'],
    'area_rongbang': ['荣邦村', '光雅村', '俄朗村'],
    }
TOWNSHIP_CODES = {
    'area_yacha': '469025100',
    'area_qifang': '469025101',
    'area_bangxi': '469025102',
    'area_daan': '469025103',
    'area_xishui': '469025200',
    'area_yuanmen': '469025201',
    'area_nankai': '469025202',
    'area_fulong': '469025203',
    'area_qingsong': '469025204',
    'area_jinbo': '469025205',
    'area_rongbang': '469025206',
    }

TOWNSHIP_NAMES = {
    'area_yacha': '牙叉镇', 'area_qifang': '七坊镇', 'area_bangxi': '邦溪镇',
    'area_daan': '打安镇', 'area_xishui': '细水乡', 'area_yuanmen': '元门乡',
    'area_nankai': '南开乡', 'area_fulong': '阜龙乡', 'area_qingsong': '青松乡',
    'area_jinbo': '金波乡', 'area_rongbang': '荣邦乡',
    }


def village_code(township, index):
    "The code of the index-th (0-based) demo village of the township"
    return '%s%03d' % (TOWNSHIP_CODES[township], 201 + index)


# The demo users: login, name, group XML ids (module huinong), areas (a
# township XML id, a village code, or 'area_baisha' for the county).
DEMO_USERS = [
    ('county', '符海燕（县电商办）', ['group_county_office'], ['area_baisha']),
    # Tryton's accounting group: the finance bureau pays the settlements'
    # supplier invoices
    ('finance', '王建华（县财政局）', ['group_finance', 'account.group_account'],
        ['area_baisha']),
    ('price', '陈秀英（县物价局）', ['group_price'], ['area_baisha']),
    ('fooddrug', '李明光（县食药监局）', ['group_food_drug'], ['area_baisha']),
    ('hq', '羊德文（县脱贫攻坚指挥部）', ['group_hq'], ['area_baisha']),
    ('auditor', '吉玉兰（审计）', ['group_auditor'], ['area_baisha']),
    ('qifang_office', '符永强（七坊镇惠农超市办）', ['group_township_office'],
        ['area_qifang']),
    ('qifang_gov', '王志明（七坊镇政府）', ['group_township_government'],
        ['area_qifang']),
    ('yuanmen_office', '黄春梅（元门乡惠农超市办）', ['group_township_office'],
        ['area_yuanmen']),
    ('luoren_committee', '符亚福（罗任村委会）', ['group_village_committee'],
        [village_code('area_qifang', 0)]),
    ('luoren_committee2', '王春兰（罗任村委会委员）',
        ['group_village_committee'], [village_code('area_qifang', 0)]),
    ('luoren_evaluation', '羊金花（罗任村评议小组）', ['group_evaluation'],
        [village_code('area_qifang', 0)]),
    ('luoren_evaluation2', '符小燕（罗任村评议小组）', ['group_evaluation'],
        [village_code('area_qifang', 0)]),
    ('luoren_evaluation3', '王德胜（罗任村评议小组）', ['group_evaluation'],
        [village_code('area_qifang', 0)]),
    ('luoren_supervision', '吉海军（罗任村监督小组）', ['group_supervision'],
        [village_code('area_qifang', 0)]),
    ('qifang_clerk', '林丽娟（七坊镇惠农超市店员）', ['group_clerk'],
        ['area_qifang']),
    ]
DEFAULT_DEMO_PASSWORD = 'huinong2024'
# The PIN of every demo card (the households choose theirs in real life)
DEMO_PIN = '135790'

DEMO_ATTRIBUTES = [
    # name, string, type_, extra values
    ('dibao', '低保户', 'boolean', {}),
    ('labour_force', '劳动力人数', 'integer', {}),
    ('housing', '住房情况', 'selection', {
            'selection': 'safe:安全住房\nrenovated:已危房改造\n'
            'unsafe:危房待改造',
            }),
    ]

SURNAMES = (
    '符符符符王王王羊羊吉吉李李陈陈黄林刘邢麦钟高谢郑周张'
    '卢韦潘梁')
MALE_CHARS = '国建明文海志华光德永金强军春福亚成胜平安家振忠良伟荣新'
FEMALE_CHARS = '秀玉美英兰妹花梅春丽燕霞芳娟桂凤翠琼珍月爱红莲'
MOBILE_PREFIXES = [
    '130', '131', '132', '133', '135', '136', '137', '138', '139', '150',
    '151', '152', '155', '157', '158', '159', '177', '180', '181', '182',
    '183', '186', '187', '188', '189', '198', '199']

logger = logging.getLogger('setup_db')


# --- pure helpers (no trytond) --------------------------------------------

def ric_area(birth_date):
    """The area code of Baisha that python-stdnum accepts for a birth date:
    it checks the code against the years it was in use (Guangdong's 白沙县
    before 1988, 460030 until 2002, then 469025)."""
    if birth_date.year < 1988:
        return '442227'
    elif birth_date.year < 2002:
        return '460030'
    return '469025'


def ric_check_digit(first17):
    "The check digit of an 18-character resident ID (ISO 7064 MOD 11-2)"
    checksum = (1 - 2 * int(first17, 13)) % 11
    return 'X' if checksum == 10 else str(checksum)


class IDGenerator:
    "Unique, valid resident IDs"

    def __init__(self):
        self.used = set()

    def __call__(self, rng, birth_date, male):
        prefix = ric_area(birth_date) + birth_date.strftime('%Y%m%d')
        for _ in range(1000):
            serial = rng.randrange(0, 1000)
            # The 17th digit is odd for men, even for women
            if (serial % 2 == 1) != male:
                serial = (serial + 1) % 1000
            first17 = '%s%03d' % (prefix, serial)
            if first17 not in self.used:
                self.used.add(first17)
                return first17 + ric_check_digit(first17)
        raise RuntimeError("no free resident ID for %s" % birth_date)


def random_date(rng, start, end):
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


def given_name(rng, male):
    chars = MALE_CHARS if male else FEMALE_CHARS
    if rng.random() < 0.15:
        return rng.choice(chars)
    return rng.choice(chars) + rng.choice(chars)


def id_photo(rng, male):
    """A small ID-card-like photo (PNG): a plain background and a head and
    shoulders silhouette"""
    from PIL import Image, ImageDraw
    background = rng.choice([(67, 142, 219), (255, 255, 255), (200, 30, 40)])
    width, height = 120, 150
    image = Image.new('RGB', (width, height), background)
    draw = ImageDraw.Draw(image)
    clothes = rng.choice([(40, 40, 40), (30, 50, 90), (90, 90, 90)])
    skin = rng.choice([(224, 187, 150), (205, 160, 120), (190, 145, 105)])
    hair = (25, 20, 20)
    draw.ellipse((15, 105, 105, 190), fill=clothes)           # shoulders
    draw.rectangle((50, 85, 70, 110), fill=skin)               # neck
    draw.ellipse((35, 28, 85, 95), fill=skin)                 # face
    if male:
        draw.chord((33, 20, 87, 70), 180, 360, fill=hair)
    else:
        draw.chord((30, 20, 90, 80), 170, 370, fill=hair)
        draw.rectangle((30, 50, 38, 100), fill=hair)
        draw.rectangle((82, 50, 90, 100), fill=hair)
    data = io.BytesIO()
    image.save(data, format='PNG', optimize=True)
    return data.getvalue()


def village_order():
    """(township XML id, village index) of every demo village, interleaved
    by township so that the first households cover every township"""
    order = []
    depth = max(len(v) for v in DEMO_VILLAGES.values())
    for index in range(depth):
        for township, names in DEMO_VILLAGES.items():
            if index < len(names):
                order.append((township, index))
    return order


def generate_households(count, seed, today):
    """Return the list of the first `count` demo households as plain
    dictionaries.  Household i depends only on the seed and on the
    households before it."""
    villages = village_order()
    new_id = IDGenerator()
    used_mobiles = set()
    households = []
    for i in range(count):
        rng = random.Random('%s-%d' % (seed, i))
        township, v_index = villages[i % len(villages)]
        village = DEMO_VILLAGES[township][v_index]
        male = rng.random() < 0.85
        surname = rng.choice(SURNAMES)
        head_birth = random_date(
            rng, dt.date(1940, 1, 1), dt.date(1995, 12, 31))
        head_age = (today - head_birth).days // 365
        household = {
            'index': i,
            'township': township,
            'village_code': village_code(township, v_index),
            'name': surname + given_name(rng, male),
            'resident_id': new_id(rng, head_birth, male),
            'residence': '海南省白沙黎族自治县%s%s委会第%d村民小组%d号' % (
                TOWNSHIP_NAMES[township], village, rng.randint(1, 9),
                rng.randint(1, 120)),
            }
        if rng.random() < 0.85:
            while True:
                mobile = rng.choice(MOBILE_PREFIXES) + '%08d' % rng.randrange(
                    10 ** 8)
                if mobile not in used_mobiles:
                    used_mobiles.add(mobile)
                    break
            household['mobile'] = mobile

        # Members
        members = []

        def add(name, relation, birth, male_, with_id=True):
            member = {
                'name': name,
                'relation': relation,
                'birth_date': birth,
                'gender': 'male' if male_ else 'female',
                }
            if with_id and rng.random() < 0.92:
                member['resident_id'] = new_id(rng, birth, male_)
            members.append(member)

        spouse_surname = rng.choice(SURNAMES)
        if rng.random() < 0.8:
            spouse_birth = head_birth + dt.timedelta(
                days=rng.randint(-5 * 365, 5 * 365))
            add(spouse_surname + given_name(rng, not male), 'spouse',
                spouse_birth, not male)
        child_surname = surname if male else spouse_surname
        children = 0 if head_age < 22 else rng.choice([0, 1, 1, 2, 2, 2, 3, 4])
        child_births = []
        for _ in range(children):
            birth = head_birth + dt.timedelta(
                days=rng.randint(20 * 365, 38 * 365))
            if birth > today:
                continue
            child_male = rng.random() < 0.52
            add(child_surname + given_name(rng, child_male), 'child', birth,
                child_male)
            child_births.append(birth)
        adult_children = [b for b in child_births
            if (today - b).days // 365 >= 24]
        if adult_children and rng.random() < 0.5:
            birth = adult_children[0] + dt.timedelta(
                days=rng.randint(-3 * 365, 3 * 365))
            in_law_male = rng.random() < 0.3
            add(rng.choice(SURNAMES) + given_name(rng, in_law_male),
                'child_in_law', birth, in_law_male)
            for _ in range(rng.choice([0, 1, 1, 2])):
                birth = adult_children[0] + dt.timedelta(
                    days=rng.randint(22 * 365, 32 * 365))
                if birth > today:
                    continue
                grand_male = rng.random() < 0.52
                add(child_surname + given_name(rng, grand_male),
                    'grandchild', birth, grand_male)
        if head_age < 50 and rng.random() < 0.5:
            birth = head_birth - dt.timedelta(
                days=rng.randint(22 * 365, 32 * 365))
            parent_male = rng.random() < 0.4
            add((surname if parent_male else rng.choice(SURNAMES))
                + given_name(rng, parent_male), 'parent', birth, parent_male)
        household['members'] = members

        # Class history: a third poor today, a sixth lifted out of poverty
        draw = rng.random()
        registered = random_date(
            rng, dt.date(2014, 4, 1), dt.date(2016, 6, 30))
        if draw < 0.33:
            classes = [{
                    'classification': 'poor',
                    'start_date': registered,
                    'reason': '建档立卡贫困户',
                    }]
        elif draw < 0.50:
            lifted = random_date(
                rng, dt.date(2017, 6, 1), dt.date(2020, 12, 1))
            classes = [{
                    'classification': 'poor',
                    'start_date': registered,
                    'end_date': lifted - dt.timedelta(days=1),
                    'reason': '建档立卡贫困户',
                    }, {
                    'classification': 'ordinary',
                    'start_date': lifted,
                    'reason': '脱贫退出',
                    }]
        else:
            classes = [{
                    'classification': 'ordinary',
                    'start_date': dt.date(2016, 1, 1),
                    'reason': '一般农户',
                    }]
        household['classes'] = classes
        poor = classes[0]['classification'] == 'poor'

        attributes = {}
        if rng.random() < 0.6:
            attributes['labour_force'] = min(
                1 + len(members), rng.choice([1, 1, 2, 2, 2, 3, 4]))
        if poor and rng.random() < 0.4:
            attributes['dibao'] = True
        if rng.random() < 0.3:
            attributes['housing'] = rng.choice(
                ['safe', 'safe', 'renovated', 'unsafe'])
        if attributes:
            household['attributes'] = attributes

        if rng.random() < 0.08:
            household['photo'] = id_photo(rng, male)
        households.append(household)
    return households


def read_password(args):
    "The admin password: --password, TRYTONPASSFILE, HUINONG_ADMIN_PASSWORD"
    if args.password:
        return args.password
    path = os.environ.get('TRYTONPASSFILE')
    if path:
        with open(path) as fp:
            password, = fp.read().splitlines()
        return password
    return os.environ.get('HUINONG_ADMIN_PASSWORD') or None


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Create/update a huinong database (and demo data).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n\n', 2)[2])
    parser.add_argument('-c', '--config', nargs='+',
        help="the trytond configuration file(s), later ones override "
        "earlier ones (as trytond -c)")
    parser.add_argument('--logins', action='store_true',
        help="only print the table of demo logins and exit")
    parser.add_argument('-d', '--database',
        help="the database name (SQLite: the file NAME.sqlite in the "
        "configuration's [database] path)")
    parser.add_argument('-p', '--password',
        help="the admin password (else the file named by TRYTONPASSFILE, "
        "else HUINONG_ADMIN_PASSWORD); required for a new database")
    parser.add_argument('-m', '--modules', nargs='+',
        help="modules to activate (default: every installed huinong* "
        "module)")
    parser.add_argument('-l', '--language', default='zh_CN',
        help="language to load and to give admin and the demo users "
        "(default: %(default)s)")
    parser.add_argument('-u', '--update', action='store_true',
        help="update every activated module even when nothing changed")
    parser.add_argument('--drop', action='store_true',
        help="drop the database first (when it exists) and build it again")
    parser.add_argument('--demo', action='store_true',
        help="load the demo data (villages, households, users)")
    parser.add_argument('--households', type=int, default=300,
        help="number of demo households (default: %(default)s)")
    parser.add_argument('--demo-password',
        default=os.environ.get('HUINONG_DEMO_PASSWORD')
        or DEFAULT_DEMO_PASSWORD,
        help="password of the demo users (default: HUINONG_DEMO_PASSWORD "
        "or %(default)s)")
    parser.add_argument('--seed', default='huinong',
        help="seed of the demo data generator")
    parser.add_argument('-q', '--quiet', action='store_true',
        help="do not print the table of demo logins")
    parser.add_argument('-v', '--verbose', action='count', default=0,
        help="log more (-v: progress, -vv: trytond's INFO logs)")
    return parser.parse_args(argv)


# --- trytond ----------------------------------------------------------------

def load_config(paths):
    "Load the trytond configuration, before anything of trytond.modules"
    if 'trytond.modules' in sys.modules:
        raise RuntimeError("trytond.modules imported before the configuration")
    for path in paths:
        if not os.path.isfile(path):
            raise SystemExit("setup_db: no configuration file %s" % path)
    from trytond import config
    config.update_etc(list(paths))
    path = config.get('database', 'path')
    if path and not os.path.isabs(path):
        # trytond 8.0 creates a SQLite file at a relative path but then
        # opens it as '/' + path ("unable to open database file"): only
        # absolute paths work, so make it absolute here and say so.
        absolute = os.path.abspath(path)
        logger.warning("[database] path %r is relative: using %s (trytond "
            "itself needs an absolute path)", path, absolute)
        config.set('database', 'path', absolute)
    return config


def in_transaction(database_name, func, *, context=None, readonly=False):
    """Run func() in a transaction as root, committed at the end; redo it
    when trytond asks for a lock taken at the start (TransactionError), as
    trytond-admin and the RPC dispatcher do"""
    from trytond.transaction import Transaction, TransactionError
    extras = {}
    while True:
        with Transaction().start(database_name, 0, readonly=readonly,
                context=context, **extras) as transaction:
            try:
                return func()
            except TransactionError as exception:
                transaction.rollback()
                exception.fix(extras)
                continue


def installed_huinong_modules():
    import importlib.metadata
    names = {ep.name for ep in importlib.metadata.entry_points(
            group='trytond.modules') if ep.name.startswith('huinong')}
    return sorted(names)


def modules_hash(modules):
    """A hash of the files of the modules (theirs and those they are
    installed with) and of the Tryton versions: when it changes, the
    database needs an update"""
    import importlib.metadata
    import importlib.util
    digest = hashlib.sha256()
    for module in sorted(modules):
        spec = importlib.util.find_spec('trytond.modules.' + module)
        if not spec or not spec.submodule_search_locations:
            continue
        for directory in spec.submodule_search_locations:
            for root, dirs, files in os.walk(directory):
                dirs[:] = sorted(d for d in dirs if d != '__pycache__')
                for filename in sorted(files):
                    if filename.endswith('.pyc'):
                        continue
                    path = os.path.join(root, filename)
                    digest.update(os.path.relpath(path, directory).encode())
                    with open(path, 'rb') as fp:
                        digest.update(hashlib.sha256(fp.read()).digest())
    for dist in sorted(importlib.metadata.distributions(),
            key=lambda d: (d.metadata['Name'] or '').lower()):
        name = (dist.metadata['Name'] or '').lower()
        if name.startswith(('trytond', 'proteus')):
            digest.update(('%s %s\n' % (name, dist.version)).encode())
    return digest.hexdigest()[:16]


class Setup:

    def __init__(self, args, config):
        self.args = args
        self.config = config
        self.name = args.database
        self.backend_name = config.get('database', 'uri').split(':', 1)[0]
        self.sqlite = self.backend_name.startswith('sqlite')

    def log(self, message, *args):
        if self.args.verbose:
            print('[setup_db] ' + (message % args if args else message),
                file=sys.stderr, flush=True)

    # database ---------------------------------------------------------------

    def stamp_path(self):
        if not self.sqlite:
            return None
        return os.path.join(
            self.config.get('database', 'path'), self.name + '.huinong-stamp')

    def database_exists(self):
        from trytond import backend
        if self.sqlite:
            return os.path.isfile(os.path.join(
                    self.config.get('database', 'path'),
                    self.name + '.sqlite'))
        # Not Database.list(): it leaves out a database that exists but is
        # not initialised yet (made by createdb), which CREATE would refuse
        database = backend.Database().connect()
        connection = database.get_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(
                'SELECT 1 FROM pg_database WHERE datname = %s', (self.name,))
            return bool(cursor.fetchone())
        finally:
            connection.rollback()
            database.put_connection(connection)
            database.close()

    def create_database(self):
        from trytond import backend
        if self.sqlite:
            os.makedirs(self.config.get('database', 'path'), exist_ok=True)
        database = backend.Database().connect()
        connection = database.get_connection(autocommit=True)
        try:
            database.create(connection, self.name)
        finally:
            database.put_connection(connection)
            database.close()

    def drop_database(self):
        from trytond import backend
        if not self.database_exists():
            return
        print("[setup_db] dropping database %s" % self.name,
            file=sys.stderr, flush=True)
        if self.sqlite:
            base = os.path.join(
                self.config.get('database', 'path'), self.name + '.sqlite')
            for path in [base, base + '-wal', base + '-shm',
                    self.stamp_path()]:
                if os.path.exists(path):
                    os.remove(path)
            return
        database = backend.Database().connect()
        connection = database.get_connection(autocommit=True)
        try:
            database.drop(connection, self.name)
        finally:
            database.put_connection(connection)
            database.close()

    def module_states(self, modules):
        from sql import Table
        from trytond import backend
        database = backend.Database(self.name).connect()
        connection = database.get_connection()
        try:
            cursor = connection.cursor()
            ir_module = Table('ir_module')
            cursor.execute(*ir_module.select(ir_module.name, ir_module.state))
            return dict(cursor)
        finally:
            connection.rollback()
            database.put_connection(connection)

    def prepare(self):
        """Create / update the database; return True when it was created"""
        from trytond import backend
        from trytond.pool import Pool

        modules = self.args.modules or installed_huinong_modules()
        if not modules:
            raise SystemExit("setup_db: no huinong module is installed")
        self.modules = modules
        created = False
        new = self.args.drop or not self.database_exists()
        if new and not self.password:
            raise SystemExit(
                "setup_db: a new database needs an admin password "
                "(--password, TRYTONPASSFILE or HUINONG_ADMIN_PASSWORD)")
        if self.args.drop:
            self.drop_database()
        if not self.database_exists():
            self.log("creating database %s", self.name)
            self.create_database()
            created = True
        database = backend.Database(self.name).connect()
        if not database.test():
            self.log("initialising database %s", self.name)
            database.init()
            created = True
        database.close()

        main_lang = self.config.get('database', 'language')
        languages = sorted({self.args.language, main_lang})
        states = self.module_states(modules)
        missing = [m for m in modules if states.get(m) != 'activated']
        current_hash = modules_hash(
            [m for m, s in states.items() if s == 'activated'])
        stamp = self.stamp_path()
        old_hash = None
        if stamp and os.path.exists(stamp):
            with open(stamp) as fp:
                old_hash = fp.read().strip()
        if created or missing:
            update = list(modules)
            reason = 'activating %s' % ', '.join(missing or modules)
        elif self.args.update or (stamp and old_hash != current_hash):
            update = ['ir', 'res', *modules]
            reason = ('--update' if self.args.update
                else 'modules or Tryton changed since the last run')
        else:
            update = None
            reason = None

        pool = Pool(self.name)
        if update:
            print("[setup_db] %s: %s (languages %s)..." % (
                    self.name, reason, ', '.join(languages)),
                file=sys.stderr, flush=True)
            start = time.monotonic()
            pool.init(update=update, lang=languages, activatedeps=True)
            self.log("modules ready in %.1fs", time.monotonic() - start)
        else:
            self.log("%s is up to date", self.name)
            pool.init()

        def init_configuration():
            pool = Pool()
            Lang = pool.get('ir.lang')
            Configuration = pool.get('ir.configuration')
            from trytond import __series__
            langs = Lang.search([('code', 'in', languages)])
            if len(langs) != len(languages):
                raise SystemExit("setup_db: unknown language in %s"
                    % ', '.join(languages))
            Lang.write(langs, {'translatable': True})
            if created:
                configuration = Configuration(1)
                configuration.series = __series__
                configuration.language = main_lang
                configuration.save()
        in_transaction(self.name, init_configuration)
        if update and stamp:
            states = self.module_states(modules)
            with open(stamp, 'w') as fp:
                fp.write(modules_hash(
                        [m for m, s in states.items() if s == 'activated'])
                    + '\n')
        return created

    def configure(self):
        "Admin password and language, configuration wizard done"
        from trytond.pool import Pool
        from trytond.transaction import inactive_records

        def func():
            pool = Pool()
            User = pool.get('res.user')
            Lang = pool.get('ir.lang')
            Item = pool.get('ir.module.config_wizard.item')
            with inactive_records():
                admin, = User.search([('login', '=', 'admin')])
            lang, = Lang.search([('code', '=', self.args.language)])
            admin.language = lang
            if self.password:
                admin.password = self.password
            elif not User._get_login('admin')[1]:
                # read() blanks password_hash: _get_login reads it in SQL
                # e.g. an earlier run stopped before setting it
                raise SystemExit("setup_db: admin has no password yet: "
                    "give one (--password, TRYTONPASSFILE or "
                    "HUINONG_ADMIN_PASSWORD)")
            admin.save()
            items = Item.search([('state', '!=', 'done')])
            if items:
                Item.write(items, {'state': 'done'})
            return len(items)
        count = in_transaction(self.name, func)
        self.log("admin configured, %d wizard items marked done", count)

    # demo data --------------------------------------------------------------

    def load_demo(self):
        from trytond.pool import Pool
        from trytond.transaction import inactive_records

        today = dt.date.today()
        start = time.monotonic()
        households = generate_households(
            self.args.households, self.args.seed, today)
        self.log("generated %d households in %.1fs", len(households),
            time.monotonic() - start)

        def func():
            pool = Pool()
            ModelData = pool.get('ir.model.data')
            Area = pool.get('huinong.area')
            Attribute = pool.get('huinong.household.attribute')

            # Villages
            township_ids = {t: ModelData.get_id('huinong', t)
                for t in DEMO_VILLAGES}
            codes = {village_code(t, i): (t, name)
                for t, names in DEMO_VILLAGES.items()
                for i, name in enumerate(names)}
            with inactive_records():
                existing = {a.code: a for a in Area.search([
                            ('code', 'in', list(codes)),
                            ])}
            to_create = [{
                    'name': name,
                    'code': code,
                    'type': 'village',
                    'parent': township_ids[township],
                    } for code, (township, name) in sorted(codes.items())
                if code not in existing]
            if to_create:
                for area in Area.create(to_create):
                    existing[area.code] = area
            stats = {'villages': len(to_create)}

            # Attributes
            names = {a.name for a in Attribute.search([
                        ('name', 'in', [a[0] for a in DEMO_ATTRIBUTES]),
                        ])}
            to_create = [{'name': n, 'string': s, 'type_': t, **extra}
                for n, s, t, extra in DEMO_ATTRIBUTES if n not in names]
            if to_create:
                Attribute.create(to_create)
            stats['attributes'] = len(to_create)

            stats.update(self.create_households(households, existing))
            stats['users'] = self.create_users(existing)
            if 'huinong_store' in self.modules:
                # after the users: qifang_clerk serves the 七坊镇 store
                from trytond.modules.huinong_store.demo import (
                    create_demo_stores)
                stats.update(create_demo_stores(pool))
            return stats
        stats = in_transaction(self.name, func)
        if 'huinong_points' in self.modules:
            stats.update(in_transaction(self.name, self.create_ledger))
        if 'huinong_store' in self.modules:
            # after the ledger: the initial stock moves need the company
            def create_goods():
                from trytond.modules.huinong_store.demo import (
                    create_demo_goods)
                from trytond.pool import Pool
                return create_demo_goods(Pool())
            stats.update(in_transaction(self.name, create_goods))
        if 'huinong_card' in self.modules:
            stats.update(in_transaction(self.name, self.create_cards))
        if 'huinong_points' in self.modules:
            # after the cards: three posted months of evaluation sheets
            def create_evaluations():
                from trytond.modules.huinong_points.demo import (
                    create_demo_evaluations)
                from trytond.pool import Pool
                return create_demo_evaluations(Pool())
            stats.update(in_transaction(self.name, create_evaluations))
        if 'huinong_redemption' in self.modules:
            # after the sheets: the households spend their points
            def create_redemptions():
                from trytond.modules.huinong_redemption.demo import (
                    create_demo_redemptions)
                from trytond.pool import Pool
                return create_demo_redemptions(Pool())
            stats.update(in_transaction(self.name, create_redemptions))
        if 'huinong_settlement' in self.modules:
            # after the redemptions: the months before this one settled
            def create_settlements():
                from trytond.modules.huinong_settlement.demo import (
                    create_demo_settlements)
                from trytond.pool import Pool
                return create_demo_settlements(Pool())
            stats.update(in_transaction(self.name, create_settlements))
        self.log("demo data: %s in %.1fs", stats, time.monotonic() - start)
        return stats

    def create_households(self, households, villages):
        from trytond.pool import Pool
        pool = Pool()
        Party = pool.get('party.party')
        Identifier = pool.get('party.identifier')
        Member = pool.get('huinong.household.member')
        Class = pool.get('huinong.household.class')

        heads = [h['resident_id'] for h in households]
        existing = set()
        for i in range(0, len(heads), 500):
            existing.update(i.code_compact for i in Identifier.search([
                        ('type', '=', 'cn_ric'),
                        ('code_compact', 'in', heads[i:i + 500]),
                        ]))
        todo = [h for h in households if h['resident_id'] not in existing]
        stats = {'households': 0, 'members': 0, 'classes': 0}
        if not todo:
            return stats
        # Several batches: each create validates its parties in one go
        for batch_start in range(0, len(todo), 100):
            batch = todo[batch_start:batch_start + 100]
            values = []
            for household in batch:
                value = {
                    'name': household['name'],
                    'huinong_household': True,
                    'huinong_village': villages[household['village_code']].id,
                    'huinong_resident_id': household['resident_id'],
                    'huinong_residence': household['residence'],
                    }
                if household.get('mobile'):
                    value['huinong_mobile'] = household['mobile']
                if household.get('photo'):
                    value['huinong_photo'] = household['photo']
                if household.get('attributes'):
                    value['huinong_attributes'] = household['attributes']
                values.append(value)
            parties = Party.create(values)
            members, classes = [], []
            for party, household in zip(parties, batch):
                for sequence, member in enumerate(household['members'], 1):
                    members.append({
                            'household': party.id,
                            'sequence': sequence,
                            **member,
                            })
                for record in household['classes']:
                    classes.append({'household': party.id, **record})
            Member.create(members)
            Class.create(classes)
            stats['households'] += len(parties)
            stats['members'] += len(members)
            stats['classes'] += len(classes)
            self.log("  %d/%d households", batch_start + len(batch),
                len(todo))
        return stats

    def create_ledger(self):
        """The programme's company in yuan (CNY) and its points ledger
        (chart, fiscal year, journal, configuration), set up with the same
        call as the county office's wizard; the demo users work in it."""
        from trytond.pool import Pool
        pool = Pool()
        Company = pool.get('company.company')
        Currency = pool.get('currency.currency')
        Party = pool.get('party.party')
        User = pool.get('res.user')
        Ledger = pool.get('huinong.points.ledger')

        created = 0
        companies = Company.search([], limit=1)
        if companies:
            company, = companies
        else:
            currencies = Currency.search([('code', '=', 'CNY')], limit=1)
            if currencies:
                cny, = currencies
            else:
                cny, = Currency.create([{
                            'name': "人民币", 'code': 'CNY', 'symbol': '¥',
                            'numeric_code': '156',
                            }])
            party, = Party.create([{'name': "白沙县电商惠农超市"}])
            company, = Company.create([{
                        'party': party.id, 'currency': cny.id,
                        'timezone': 'Asia/Shanghai',
                        }])
            created = 1
        Ledger.setup_ledger(company)
        users = User.search([
                ('login', 'in', ['admin'] + [u[0] for u in DEMO_USERS]),
                ])
        User.write(users, {
                'companies': [('add', [company.id])],
                'company': company.id,
                })
        return {'company': created}

    def create_cards(self):
        """Points cards for most demo households, all with DEMO_PIN:
        the households of 罗任村 go through the whole approval chain with
        the demo users of that village and township; the others are issued
        in bulk. A few stay in review, a few are locked, lost or replaced.
        Households that have a card already are left alone."""
        from trytond.pool import Pool
        from trytond.transaction import Transaction
        pool = Pool()
        Party = pool.get('party.party')
        Card = pool.get('huinong.card')
        User = pool.get('res.user')

        def wants_card(household):
            # One household in eight has not applied: decided by its ID, so
            # that a second run finds the same households without card
            digest = hashlib.sha1(
                household.huinong_resident_id.encode()).digest()
            return digest[0] % 8 != 0

        with_card = {c.household.id for c in Card.search([])}
        households = [h for h in Party.search(
                [('huinong_household', '=', True)], order=[('id', 'ASC')])
            if h.id not in with_card and wants_card(h)]
        if not households:
            return {'cards': 0}
        rng = random.Random(str(self.args.seed) + "-cards")
        luoren = village_code('area_qifang', 0)
        users = {u.login: u.id for u in User.search([
                    ('login', 'in', [u[0] for u in DEMO_USERS]),
                    ])}
        chain = [
            ('apply', 'luoren_committee'),
            ('village_review', 'luoren_evaluation'),
            ('committee_review', 'luoren_committee2'),
            ('township_review', 'qifang_office'),
            ]

        def batches(records, size=50):
            # SQLite checks the one-active-card constraint in Python with
            # one OR clause per record: its parser overflows past ~100
            for i in range(0, len(records), size):
                yield records[i:i + size]

        village_cards, other_cards = [], []
        for household in households:
            card = Card(household=household)
            if household.huinong_village.code == luoren:
                village_cards.append(card)
            else:
                other_cards.append(card)
        for batch in batches(village_cards + other_cards):
            Card.save(batch)

        # 罗任村: each step by its demo user; the last two stay in review
        in_review = village_cards[-2:]
        for step, login in chain:
            with Transaction().set_user(users[login]):
                getattr(Card, step)(village_cards)
            if step == 'village_review':
                village_cards = [c for c in village_cards
                    if c not in in_review[:1]]
        village_cards = [c for c in village_cards if c not in in_review]
        with Transaction().set_user(users['qifang_gov']):
            Card.issue(village_cards, DEMO_PIN, DEMO_PIN)

        # Elsewhere: issued in bulk by the system, a few left in review
        reviewing = other_cards[:6]
        issued = other_cards[6:]
        for batch in batches(reviewing + issued):
            Card.apply(batch)
        for batch in batches(reviewing[2:] + issued):
            Card.village_review(batch)
        for batch in batches(reviewing[4:] + issued):
            Card.committee_review(batch)
        for batch in batches(issued):
            Card.township_review(batch)
            Card.issue(batch, DEMO_PIN, DEMO_PIN)

        # A few locked, lost, replaced
        issued = village_cards + issued
        rng.shuffle(issued)
        locked, lost, replaced = issued[:4], issued[4:7], issued[7:10]
        Card.lock_card(locked, "村委会反映卡片被他人持有，待核实")
        Card.report_lost(lost)
        Card.report_lost(replaced)
        Card.replace(replaced)
        return {
            'cards': len(households) + len(replaced),
            'cards_in_review': len(reviewing) + len(in_review),
            }

    def create_users(self, villages):
        from trytond.pool import Pool
        from trytond.transaction import inactive_records
        pool = Pool()
        User = pool.get('res.user')
        Lang = pool.get('ir.lang')
        ModelData = pool.get('ir.model.data')

        lang, = Lang.search([('code', '=', self.args.language)])
        with inactive_records():
            users = {u.login: u for u in User.search([
                        ('login', 'in', [u[0] for u in DEMO_USERS]),
                        ])}
        created = 0
        to_save = []
        for login, name, groups, areas in DEMO_USERS:
            group_ids = [ModelData.get_id(*(g.split('.') if '.' in g
                        else ('huinong', g))) for g in groups]
            area_ids = [villages[a].id if a in villages
                else ModelData.get_id('huinong', a) for a in areas]
            user = users.get(login)
            if not user:
                user = User(login=login)
                created += 1
            user.name = name
            user.active = True
            user.language = lang
            # Only the role's groups and areas, whatever was there before
            user.groups = group_ids
            user.huinong_areas = area_ids
            user.password = self.args.demo_password
            to_save.append(user)
        User.save(to_save)
        return created

    def run(self):
        self.password = read_password(self.args)
        start = time.monotonic()
        created = self.prepare()
        self.configure()
        stats = None
        if self.args.demo:
            stats = self.load_demo()
        print("[setup_db] database %s %s in %.1fs%s" % (
                self.name, 'created' if created else 'ready',
                time.monotonic() - start,
                '; demo data added: ' + json.dumps(stats, ensure_ascii=False)
                if stats else ''), file=sys.stderr, flush=True)
        if self.args.demo and not self.args.quiet:
            print_logins(self.args.demo_password)


def area_label(area):
    "The Chinese name of a DEMO_USERS area"
    if area == 'area_baisha':
        return '白沙黎族自治县'
    if area in TOWNSHIP_NAMES:
        return TOWNSHIP_NAMES[area]
    for township, names in DEMO_VILLAGES.items():
        for index, name in enumerate(names):
            if village_code(township, index) == area:
                return TOWNSHIP_NAMES[township] + name
    return area


def print_logins(password):
    rows = [('login', 'password', '姓名（角色）', '负责区域')]
    for login, name, _, areas in DEMO_USERS:
        rows.append((login, password, name,
                '、'.join(area_label(a) for a in areas)))

    def width(text):
        # CJK characters take two columns in a terminal
        return sum(2 if ord(c) > 0x2e80 else 1 for c in text)

    sizes = [max(width(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        print('  '.join(cell + ' ' * (size - width(cell))
                for cell, size in zip(row, sizes)).rstrip())
        if n == 0:
            print('  '.join('-' * size for size in sizes))


def main(argv=None):
    args = parse_args(argv)
    level = logging.WARNING
    if args.verbose >= 2:
        level = logging.INFO
    logging.basicConfig(level=level,
        format='%(asctime)s %(levelname)s %(name)s %(message)s')
    if args.logins:
        print_logins(args.demo_password)
        return 0
    if not args.config or not args.database:
        raise SystemExit("setup_db: -c CONFIG and -d DATABASE are required")
    if args.households < 0:
        raise SystemExit("setup_db: --households must be >= 0")
    config = load_config(args.config)
    Setup(args, config).run()
    return 0


if __name__ == '__main__':
    sys.exit(main())
