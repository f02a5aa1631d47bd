# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Tests of the SMS outbox (huinong.sms).

The HTTP gateway is tested against a real HTTP server on 127.0.0.1 (a
thread of this process) that records what it receives and answers as the
test says: 200 OK, 500, not JSON, a refusal, or no answer at all.
"""
import datetime as dt
import hashlib
import hmac
import json
import socket
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import trytond.config as config
from trytond import backend
from trytond.model.exceptions import AccessError, ValidationError
from trytond.model.modelview import AccessButtonError
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    TestCase, activate_module, drop_db, with_transaction)
from trytond.transaction import Transaction

SECTION = 'huinong_sms'
PHONE = '+8613800138000'
SECRET = 'test-secret'


def custom_gateway(message):
    "A gateway given by its dotted name in [huinong_sms] gateway"
    custom_gateway.calls.append((message.phone, message.text))
    return 'custom-%s' % message.id


custom_gateway.calls = []


class _Handler(BaseHTTPRequestHandler):
    "Records each POST and answers as server.mode says"

    def do_POST(self):
        server = self.server
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length)
        server.received.append({
                'path': self.path,
                'content_type': self.headers.get('Content-Type'),
                'body': body,
                })
        mode = server.mode
        if mode == 'hang':
            # Longer than any timeout of the tests, until tearDown
            server.release.wait(10)
            mode = 'ok'
        if mode == 'ok':
            self._answer(200, json.dumps({
                        'code': 'OK',
                        'message_id': 'prov-%s' % len(server.received),
                        }).encode())
        elif mode == '500':
            self._answer(500, b'boom: internal error')
        elif mode == 'badjson':
            self._answer(200, b'<html>not json</html>', 'text/html')
        elif mode == 'redirect':
            self.send_response(302)
            self.send_header('Location', '/elsewhere')
            self.send_header('Content-Length', '0')
            self.end_headers()
        elif mode == 'refused':
            self._answer(200, json.dumps({
                        'code': 'isv.BUSINESS_LIMIT_CONTROL',
                        'message': '触发流控',
                        }, ensure_ascii=False).encode())

    def _answer(self, status, body, content_type='application/json'):
        try:
            self.send_response(status)
            self.send_header('Content-Type', content_type)
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            # The client gave up (timeout test)
            pass

    def log_message(self, format, *args):
        pass


def _free_port():
    "A port on which nothing listens"
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class SMSTestCase(TestCase):
    "Test the SMS outbox"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A database of its own, as ModuleTestCase does: the cron test
        # commits.
        drop_db()
        activate_module('huinong')
        cls.server = ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
        cls.server.daemon_threads = True
        cls.server.received = []
        cls.server.mode = 'ok'
        cls.server.release = threading.Event()
        cls.server_thread = threading.Thread(
            target=cls.server.serve_forever, daemon=True)
        cls.server_thread.start()
        cls.url = 'http://127.0.0.1:%s/sms' % cls.server.server_port

    @classmethod
    def tearDownClass(cls):
        cls.server.release.set()
        cls.server.shutdown()
        cls.server.server_close()
        super().tearDownClass()
        drop_db()

    def setUp(self):
        super().setUp()
        self.server.received.clear()
        self.server.mode = 'ok'
        self.server.release.clear()
        self.addCleanup(self.server.release.set)
        self.addCleanup(self._restore_config, self._save_config())

    # configuration --------------------------------------------------------

    @staticmethod
    def _save_config():
        saved = {}
        for section in [SECTION, 'queue']:
            if config.has_section(section):
                saved[section] = {
                    o: config.get(section, o)
                    for o in config.options(section)}
            else:
                saved[section] = None
        return saved

    @staticmethod
    def _restore_config(saved):
        for section, options in saved.items():
            if config.has_section(section):
                config.remove_section(section)
            if options is not None:
                config.add_section(section)
                for option, value in options.items():
                    # config.set clears trytond's cache of config values;
                    # [queue] always has options and is restored last.
                    config.set(section, option, value)

    def configure(self, **options):
        if not config.has_section(SECTION):
            config.add_section(SECTION)
        for option, value in options.items():
            config.set(SECTION, option, str(value))

    def configure_http(self, **options):
        values = {
            'gateway': 'http',
            'url': self.url,
            'sign_name': '白沙惠农超市',
            'template': 'SMS_0001',
            'access_key': 'test-key',
            'secret': SECRET,
            'timeout': 2,
            'max_attempts': 3,
            'retry_delay': 60,
            }
        values.update(options)
        self.configure(**values)

    def set_worker(self, worker):
        config.set('queue', 'worker', str(worker))

    # helpers --------------------------------------------------------------

    def create(self, text="您的惠农超市积分卡已发放。", phone='13800138000',
            **values):
        SMS = Pool().get('huinong.sms')
        message, = SMS.create([dict(phone=phone, text=text, **values)])
        return message

    def tasks(self, messages=None):
        "The ir.queue tasks that send huinong.sms"
        Queue = Pool().get('ir.queue')
        tasks = [t for t in Queue.search([], order=[('id', 'ASC')])
            if t.data.get('model') == 'huinong.sms'
            and t.data.get('method') == 'send']
        if messages is not None:
            ids = {m.id for m in messages}
            tasks = [t for t in tasks if ids & set(t.data['instances'])]
        return tasks

    def make_due(self, message):
        SMS = Pool().get('huinong.sms')
        SMS.write([message], {
                'next_attempt': dt.datetime.now() - dt.timedelta(seconds=1),
                })

    def assertAround(self, value, expected, delta=5):
        self.assertIsNotNone(value)
        self.assertLessEqual(
            abs((value - expected).total_seconds()), delta,
            msg=f"{value} is not about {expected}")

    # validation -----------------------------------------------------------

    @with_transaction()
    def test_phone_normalized(self):
        "Usual writings of a Chinese mobile number are stored as E.164"
        for phone in ['13800138000', '+86 138 0013 8000', '008613800138000',
                '+8613800138000', ' 138-0013-8000 ']:
            with self.subTest(phone=phone):
                self.assertEqual(self.create(phone=phone).phone, PHONE)

    @with_transaction()
    def test_phone_invalid(self):
        "Landlines, foreign and malformed numbers are refused"
        SMS = Pool().get('huinong.sms')
        for phone in ['0898-36123456', '+86 10 6552 9988', '+85298765432',
                '+12025550123', '12345', '1380013800', 'abc']:
            with self.subTest(phone=phone):
                with self.assertRaises(ValidationError) as cm:
                    self.create(phone=phone)
                self.assertIn('not a mobile number of China',
                    str(cm.exception))
        message = self.create()
        with self.assertRaises(ValidationError):
            SMS.write([message], {'phone': '12345'})

    @with_transaction()
    def test_text_refused(self):
        "A text with a resident ID number or a PIN is refused"
        SMS = Pool().get('huinong.sms')
        resident_ids = [
            '46902519800101123X',
            '469025198001011234',
            '身份证号46902519800101123x已登记',
            '卡号6222021234567890123',  # any run of 18 digits or more
            ]
        pins = [
            '您的积分卡密码为123456，请妥善保管',
            '新密码：654321。',
            '密码已重置为 000000',
            '您的PIN 123456',
            'pin:123456',
            '口令123456',
            ]
        for text in resident_ids:
            with self.subTest(text=text):
                with self.assertRaises(ValidationError) as cm:
                    self.create(text=text)
                self.assertIn('resident ID', str(cm.exception))
                # The error does not repeat the number
                self.assertNotIn('1980010112', str(cm.exception))
        for text in pins:
            with self.subTest(text=text):
                with self.assertRaises(ValidationError) as cm:
                    self.create(text=text)
                self.assertIn('PIN', str(cm.exception))
                self.assertNotIn('123456', str(cm.exception))

        allowed = [
            '您的积分卡(尾号1234)已发放，请到村委会领取。',
            '您的积分卡密码错误3次，已锁定。',
            '您的积分卡已挂失，密码请到村委会重新设置。',
            '密码问题请拨13800138000',
            '兑换商品120积分，余额880积分。',
            '咨询电话0898-27722123',
            '您于2024年5月1日兑换成功',
            ]
        for text in allowed:
            with self.subTest(text=text):
                self.assertEqual(self.create(text=text).text, text)

        message = self.create()
        with self.assertRaises(ValidationError):
            SMS.write([message], {'text': '密码123456'})
        with self.assertRaises(ValidationError):
            # too long
            self.create(text='长' * 201)

    @with_transaction()
    def test_origin(self):
        "A message is about a record of a model of _get_origin"
        pool = Pool()
        SMS = pool.get('huinong.sms')
        Party = pool.get('party.party')
        party = Party(name="王五")
        party.save()
        self.assertIn('party.party', dict(SMS.get_origin()))
        message, = SMS.queue([{
                    'phone': '13800138000', 'text': "测试",
                    'origin': party}])
        self.assertEqual(message.origin, party)
        other, = SMS.queue([{
                    'phone': '13800138000', 'text': "测试",
                    'origin': 'party.party,%s' % party.id}])
        self.assertEqual(other.origin, party)

    # the queue ------------------------------------------------------------

    @with_transaction()
    def test_queue_without_worker(self):
        "queue() pushes one task that runs after the request"
        pool = Pool()
        SMS = pool.get('huinong.sms')
        Queue = pool.get('ir.queue')
        transaction = Transaction()
        self.set_worker(False)

        messages = SMS.queue([
                {'phone': '13800138000', 'text': "您的积分卡已发放。"},
                {'phone': '+86 139 0013 9000', 'text': "您的积分卡已挂失。"},
                ])
        self.assertEqual([m.state for m in messages], ['queued', 'queued'])
        self.assertEqual(messages[1].phone, '+8613900139000')
        task, = self.tasks(messages)
        self.assertEqual(task.name, 'default')
        self.assertEqual(
            list(task.data['instances']), [m.id for m in messages])
        self.assertIsNone(task.scheduled_at)
        # Without worker, ir.queue.push leaves the task id to the request,
        # which runs it after its commit (protocols/dispatcher.py).
        self.assertIn(task.id, transaction.tasks)

        # Run it as the dispatcher would
        transaction.tasks.remove(task.id)
        with self.assertLogs('trytond.modules.huinong.sms', 'INFO') as logs:
            Queue(task.id).run()
        self.assertTrue(any("您的积分卡已发放。" in o for o in logs.output))
        for message in SMS.browse(messages):
            self.assertEqual(message.state, 'sent')
            self.assertEqual(message.attempts, 1)
            self.assertEqual(message.gateway, 'log')
            self.assertTrue(message.provider_id.startswith('log-'))
            self.assertIsNotNone(message.sent_at)
            self.assertIsNone(message.next_attempt)
        self.assertIsNotNone(Queue(task.id).finished_at)

        # A second run of the same task sends nothing again
        with self.assertNoLogs('trytond.modules.huinong.sms', 'INFO'):
            Queue(task.id).run()

    @with_transaction()
    def test_queue_with_worker(self):
        "With a worker, the task waits in ir.queue for trytond-worker"
        SMS = Pool().get('huinong.sms')
        transaction = Transaction()
        self.set_worker(True)
        message, = SMS.queue([{'phone': '13800138000', 'text': "测试"}])
        task, = self.tasks([message])
        self.assertNotIn(task.id, transaction.tasks)
        self.assertIsNone(task.dequeued_at)
        # the caller's scheduling does not delay the message
        with transaction.set_context(
                queue_scheduled_at=dt.timedelta(hours=1)):
            other, = SMS.queue([{'phone': '13800138000', 'text': "测试"}])
        task, = self.tasks([other])
        self.assertIsNone(task.scheduled_at)

    # gateways -------------------------------------------------------------

    @with_transaction()
    def test_log_gateway(self):
        "The default gateway logs the message and marks it sent"
        SMS = Pool().get('huinong.sms')
        message = self.create(text="您的积分卡已发放。")
        with self.assertLogs('trytond.modules.huinong.sms', 'INFO') as logs:
            SMS.send([message])
        self.assertIn(PHONE, logs.output[0])
        self.assertIn("您的积分卡已发放。", logs.output[0])
        self.assertEqual(message.state, 'sent')
        self.assertEqual(message.gateway, 'log')
        self.assertTrue(message.provider_id.startswith('log-'))
        self.assertEqual(self.server.received, [])

    @with_transaction()
    def test_custom_gateway(self):
        "gateway may name a function"
        SMS = Pool().get('huinong.sms')
        self.configure(gateway=f'{__name__}.custom_gateway')
        custom_gateway.calls.clear()
        message = self.create(text="测试")
        SMS.send([message])
        self.assertEqual(custom_gateway.calls, [(PHONE, "测试")])
        self.assertEqual(message.state, 'sent')
        self.assertEqual(message.provider_id, 'custom-%s' % message.id)
        self.assertEqual(message.gateway, f'{__name__}.custom_gateway')

    @with_transaction()
    def test_unknown_gateway(self):
        "An unknown gateway is a failure recorded on the message"
        SMS = Pool().get('huinong.sms')
        self.configure(gateway='no_such_module.send')
        message = self.create()
        with self.assertLogs('trytond.modules.huinong.sms', 'ERROR'):
            SMS.send([message])
        self.assertEqual(message.state, 'queued')
        self.assertEqual(message.attempts, 1)
        self.assertIn('not configured', message.last_error)

    @with_transaction()
    def test_http_sent(self):
        "The HTTP gateway POSTs the documented JSON, signed"
        SMS = Pool().get('huinong.sms')
        self.configure_http()
        text = "您的惠农超市积分卡已发放，请到村委会领取。"
        message = self.create(text=text)
        before = int(time.time())
        SMS.send([message])
        after = int(time.time())

        self.assertEqual(message.state, 'sent')
        self.assertEqual(message.provider_id, 'prov-1')
        self.assertEqual(message.gateway, 'http')
        self.assertEqual(message.attempts, 1)
        self.assertIsNone(message.last_error)
        self.assertIsNotNone(message.sent_at)

        request, = self.server.received
        self.assertEqual(request['path'], '/sms')
        self.assertEqual(
            request['content_type'], 'application/json; charset=utf-8')
        body = json.loads(request['body'].decode('utf-8'))
        self.assertEqual(set(body), {'phone', 'sign_name', 'template',
                'params', 'out_id', 'access_key', 'timestamp', 'signature'})
        self.assertEqual(body['phone'], PHONE)
        self.assertEqual(body['sign_name'], '白沙惠农超市')
        self.assertEqual(body['template'], 'SMS_0001')
        self.assertEqual(body['params'], {'text': text})
        self.assertEqual(body['out_id'], str(message.id))
        self.assertEqual(body['access_key'], 'test-key')
        self.assertIsInstance(body['timestamp'], int)
        self.assertTrue(before <= body['timestamp'] <= after)
        # The signature as doc/sms.rst describes it, computed here anew
        canonical = '\n'.join([
                'test-key', str(body['timestamp']), str(message.id), PHONE,
                '白沙惠农超市', 'SMS_0001',
                '{"text":"%s"}' % text])
        self.assertEqual(body['signature'], hmac.new(
                SECRET.encode(), canonical.encode('utf-8'),
                hashlib.sha256).hexdigest())

    @with_transaction()
    def test_http_500_retry_backoff(self):
        "A 500 is an attempt with its error and a retry later, doubling"
        SMS = Pool().get('huinong.sms')
        self.configure_http(max_attempts=3, retry_delay=60)
        self.set_worker(False)
        self.server.mode = '500'
        message, = SMS.queue([{'phone': '13800138000', 'text': "测试"}])
        tasks = self.tasks([message])

        SMS.send([message])
        self.assertEqual(message.state, 'queued')
        self.assertEqual(message.attempts, 1)
        self.assertIn('HTTP status 500', message.last_error)
        self.assertIn('boom: internal error', message.last_error)
        self.assertAround(
            message.next_attempt,
            dt.datetime.now() + dt.timedelta(seconds=60))
        self.assertIsNone(message.sent_at)
        # Without a worker no retry task: it would run at once; the cron
        # does the retry.
        self.assertEqual(self.tasks([message]), tasks)

        # Not due yet: a send (late task, cron) does nothing
        SMS.send([message])
        self.assertEqual(message.attempts, 1)
        self.assertEqual(len(self.server.received), 1)

        self.make_due(message)
        SMS.send([message])
        self.assertEqual(message.state, 'queued')
        self.assertEqual(message.attempts, 2)
        self.assertAround(
            message.next_attempt,
            dt.datetime.now() + dt.timedelta(seconds=120))

        # The last attempt fails the message
        self.make_due(message)
        with self.assertLogs('trytond.modules.huinong.sms', 'WARNING'):
            SMS.send([message])
        self.assertEqual(message.state, 'failed')
        self.assertEqual(message.attempts, 3)
        self.assertIsNone(message.next_attempt)
        self.assertIn('HTTP status 500', message.last_error)
        self.assertEqual(len(self.server.received), 3)
        SMS.send([message])
        self.assertEqual(len(self.server.received), 3)

        # The county office retries it
        self.server.mode = 'ok'
        SMS.retry([message])
        self.assertEqual(message.state, 'queued')
        self.assertEqual(message.attempts, 0)
        self.assertEqual(len(self.tasks([message])), len(tasks) + 1)
        SMS.send([message])
        self.assertEqual(message.state, 'sent')
        self.assertEqual(message.attempts, 1)
        self.assertIsNone(message.last_error)
        self.assertEqual(len(self.server.received), 4)

    @with_transaction()
    def test_http_500_retry_task_with_worker(self):
        "With a worker, a failed attempt schedules a retry task"
        SMS = Pool().get('huinong.sms')
        transaction = Transaction()
        self.configure_http(retry_delay=30)
        self.set_worker(True)
        self.server.mode = '500'
        message = self.create()
        SMS.send([message])
        task, = self.tasks([message])
        self.assertEqual(list(task.data['instances']), [message.id])
        self.assertAround(
            task.scheduled_at, dt.datetime.now() + dt.timedelta(seconds=30))
        self.assertAround(task.scheduled_at, message.next_attempt, 1)
        self.assertNotIn(task.id, transaction.tasks)

    @with_transaction()
    def test_http_bad_answers(self):
        "Not JSON, or a code other than OK, is a failure"
        SMS = Pool().get('huinong.sms')
        self.configure_http()

        self.server.mode = 'badjson'
        message = self.create()
        SMS.send([message])
        self.assertEqual(message.state, 'queued')
        self.assertEqual(message.attempts, 1)
        self.assertIn('not the expected JSON', message.last_error)
        self.assertIn('<html>not json</html>', message.last_error)

        self.server.mode = 'refused'
        message = self.create()
        SMS.send([message])
        self.assertEqual(message.state, 'queued')
        self.assertEqual(message.attempts, 1)
        self.assertIn('isv.BUSINESS_LIMIT_CONTROL', message.last_error)
        self.assertIn('触发流控', message.last_error)
        self.assertIsNone(message.provider_id)

        # A redirection is not followed
        self.server.mode = 'redirect'
        message = self.create()
        SMS.send([message])
        self.assertEqual(message.attempts, 1)
        self.assertIn('HTTP status 302', message.last_error)
        self.assertEqual(
            [r['path'] for r in self.server.received],
            ['/sms', '/sms', '/sms'])

    @with_transaction()
    def test_http_timeout(self):
        "No answer within the timeout is a failure, not a hang"
        SMS = Pool().get('huinong.sms')
        self.configure_http(timeout=1)
        self.server.mode = 'hang'
        first = self.create(text="第一条")
        second = self.create(text="第二条")
        start = time.monotonic()
        SMS.send([first, second])
        elapsed = time.monotonic() - start
        self.assertLess(elapsed, 4)
        self.assertEqual(first.state, 'queued')
        self.assertEqual(first.attempts, 1)
        self.assertIn('did not answer within 1', first.last_error)
        self.assertIsNotNone(first.next_attempt)
        # An unreachable gateway stops the batch: the second waits
        self.assertEqual(second.attempts, 0)
        self.assertIsNone(second.last_error)
        self.assertEqual(len(self.server.received), 1)

    @with_transaction()
    def test_http_connection_refused(self):
        "A refused connection is a failure"
        SMS = Pool().get('huinong.sms')
        self.configure_http(url='http://127.0.0.1:%s/sms' % _free_port())
        message = self.create()
        start = time.monotonic()
        SMS.send([message])
        self.assertLess(time.monotonic() - start, 3)
        self.assertEqual(message.state, 'queued')
        self.assertEqual(message.attempts, 1)
        self.assertIn('Cannot reach the SMS gateway', message.last_error)

    @with_transaction()
    def test_http_no_url(self):
        "The HTTP gateway needs a url"
        SMS = Pool().get('huinong.sms')
        self.configure_http(url='')
        message = self.create()
        SMS.send([message])
        self.assertEqual(message.attempts, 1)
        self.assertIn('not configured', message.last_error)

        self.configure_http(url='ftp://127.0.0.1/')
        message = self.create()
        SMS.send([message])
        self.assertEqual(message.attempts, 1)
        self.assertIn('not configured', message.last_error)

    # the cron -------------------------------------------------------------

    @with_transaction()
    def test_cron_record(self):
        "The cron sends queued messages every 5 minutes"
        Cron = Pool().get('ir.cron')
        cron, = Cron.search([('method', '=', 'huinong.sms|send_queued')])
        self.assertEqual(
            (cron.interval_number, cron.interval_type), (5, 'minutes'))
        self.assertTrue(cron.active)

    @with_transaction()
    def test_send_queued(self):
        "The cron sends the due messages, commits each, stops when down"
        SMS = Pool().get('huinong.sms')
        transaction = Transaction()
        future = dt.datetime.now() + dt.timedelta(hours=1)
        due1 = self.create(text="一")
        due2 = self.create(text="二")
        later = self.create(text="三")
        SMS.write([later], {'next_attempt': future})
        messages = [due1, due2, later]
        try:
            # The gateway is down: one attempt, the run stops
            self.configure_http(url='http://127.0.0.1:%s/' % _free_port())
            SMS.send_queued()
            self.assertEqual(
                [m.attempts for m in SMS.browse(messages)], [1, 0, 0])

            self.configure(gateway='log')
            SMS.send_queued()
            due1, due2, later = SMS.browse(messages)
            # due1 waits for its back-off, due2 is sent
            self.assertEqual(
                [m.state for m in SMS.browse(messages)],
                ['queued', 'sent', 'queued'])
            self.make_due(due1)
            SMS.send_queued()
            self.assertEqual(
                [m.state for m in SMS.browse(messages)],
                ['sent', 'sent', 'queued'])
            self.assertEqual(later.attempts, 0)

            # It was committed: another transaction sees it
            with transaction.new_transaction() as other:
                with other.set_context(_check_access=False):
                    self.assertEqual(SMS(due2.id).state, 'sent')
        finally:
            SMS.delete(SMS.browse(messages))
            transaction.commit()

    @unittest.skipIf(backend.name == 'sqlite', "SQLite locks no row")
    @with_transaction()
    def test_locked_message_skipped(self):
        "A message another sender holds is skipped, not sent twice"
        SMS = Pool().get('huinong.sms')
        transaction = Transaction()
        message = self.create()
        transaction.commit()
        try:
            with transaction.new_transaction() as first:
                # first is sending it (cron, worker…)
                self.assertEqual(SMS._lock_due([message.id]), [message.id])
                with transaction.new_transaction() as second:
                    with self.assertNoLogs(
                            'trytond.modules.huinong.sms', 'INFO'):
                        SMS.send([SMS(message.id)])
                    self.assertEqual(SMS(message.id).attempts, 0)
                    second.rollback()
                first.rollback()
            with self.assertLogs('trytond.modules.huinong.sms', 'INFO'):
                SMS.send([SMS(message.id)])
            self.assertEqual(SMS(message.id).state, 'sent')
        finally:
            SMS.delete([SMS(message.id)])
            transaction.commit()

    # access ---------------------------------------------------------------

    @with_transaction()
    def test_access(self):
        "Some groups read; nobody writes; only the county office retries"
        pool = Pool()
        SMS = pool.get('huinong.sms')
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        transaction = Transaction()

        def group(name):
            return ModelData.get_id('huinong', name)
        county, auditor, township, nobody = User.create([
                {'login': 'sms_county', 'name': "县电商办",
                    'groups': [('add', [group('group_county_office')])]},
                {'login': 'sms_auditor', 'name': "审计",
                    'groups': [('add', [group('group_auditor')])]},
                {'login': 'sms_township', 'name': "乡镇",
                    'groups': [('add', [group('group_township_office')])]},
                {'login': 'sms_nobody', 'name': "无"},
                ])
        message = self.create()
        SMS.write([message], {'state': 'failed'})

        for user in [county, auditor, township]:
            with self.subTest(user=user.login), \
                    transaction.set_user(user.id), \
                    transaction.set_context(_check_access=True):
                self.assertEqual(SMS.search([('id', '=', message.id)]),
                    [message])
                SMS.read([message.id], ['phone', 'text', 'state'])
                with self.assertRaises(AccessError):
                    SMS.create([{'phone': PHONE, 'text': "测试"}])
                with self.assertRaises(AccessError):
                    SMS.write([SMS(message.id)], {'text': "测试"})
                with self.assertRaises(AccessError):
                    SMS.delete([SMS(message.id)])
        with transaction.set_user(nobody.id), \
                transaction.set_context(_check_access=True):
            with self.assertRaises(AccessError):
                SMS.read([message.id], ['phone'])

        for user in [auditor, township]:
            with self.subTest(user=user.login), \
                    transaction.set_user(user.id), \
                    transaction.set_context(_check_access=True):
                with self.assertRaises(AccessButtonError):
                    SMS.retry([SMS(message.id)])
        with transaction.set_user(county.id), \
                transaction.set_context(_check_access=True):
            SMS.retry([SMS(message.id)])
        self.assertEqual(SMS(message.id).state, 'queued')

        # queue() works for any user: it is the code that writes
        with transaction.set_user(nobody.id), \
                transaction.set_context(_check_access=True):
            queued, = SMS.queue([{'phone': PHONE, 'text': "测试"}])
        self.assertEqual(SMS(queued.id).state, 'queued')


if __name__ == '__main__':
    unittest.main()
