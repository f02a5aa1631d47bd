# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The SMS outbox (R-CARD-3 短信发送).

Other modules never talk to an SMS provider: they call
``huinong.sms.queue([{'phone': …, 'text': …, 'origin': record}, …])`` in
their own transaction. That creates one ``huinong.sms`` record per message
(checked: a Chinese mobile number, no resident ID number, no PIN) and
enqueues one task of the trytond task queue (``ir.queue``) that calls
``huinong.sms.send`` on them. The gateway that really sends is chosen in
the ``[huinong_sms]`` section of trytond.conf (see ``doc/sms.rst``).

How the task queue runs that task (trytond 8.0, ``ir/queue_.py``,
``protocols/dispatcher.py``, ``ir/cron.py``, ``worker.py``):

- ``[queue] worker = False`` (the default, and the demo's configuration):
  ``ir.queue.push`` stores the task and appends its id to
  ``Transaction().tasks``; after the request's transaction is COMMITTED the
  dispatcher pops those ids and runs each task in a new transaction of the
  same process, BEFORE it answers the client. So the message is sent just
  after the document that queued it is saved, never for a rolled-back one,
  but the user waits for the gateway (at most ``timeout`` seconds: one
  unreachable gateway stops the batch, see ``send``). The cron process does
  the same with tasks pushed by a cron method. In this mode the scheduling
  keys ``queue_scheduled_at``/``queue_expected_at`` are stored but IGNORED:
  the task runs at once. So no retry task is pushed without a worker: the
  cron ``send_queued`` makes the retries when ``next_attempt`` has passed.
- ``[queue] worker = True`` with ``trytond-worker`` running: the task stays
  in ``ir_queue`` and a worker process pulls it (``scheduled_at`` passed or
  empty) and runs it as the user who queued it. A failed attempt then also
  pushes a task with the context key ``queue_scheduled_at`` (a
  ``timedelta`` added to now; ``queue_expected_at`` likewise,
  ``queue_name`` picks the queue), so the retry comes in time. Seen with
  trytond-worker 8.0.12 on PostgreSQL: when no task is due, ``pull``
  does not return the time of the next scheduled one (its UPDATE …
  RETURNING returns no row), so the worker sleeps until a notification or
  its ``--timeout`` (default 60 s): a retry starts up to that much late.
- Under ``trytond.tests`` (``with_transaction``) pushed tasks are left in
  ``Transaction().tasks`` and cleared at the end of the test: a test runs
  them itself (``ir.queue(task_id).run()``).

Whatever the queue does, the cron task ``huinong.sms|send_queued`` (every 5
minutes) sends every queued message whose ``next_attempt`` has passed, so a
message is never lost when no worker or no request runs the task.
"""
import datetime as dt
import hashlib
import hmac
import http.client
import json
import logging
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import defaultdict

try:
    import phonenumbers
    from phonenumbers import (
        NumberParseException, PhoneNumberFormat, PhoneNumberType)
except ImportError:
    phonenumbers = None

import trytond.config as config
from trytond import backend
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.model.fields import SQL_OPERATORS
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice, resolve
from trytond.transaction import Transaction, without_check_access

from .exceptions import SMSGatewayError, SMSValidationError

logger = logging.getLogger(__name__)

SECTION = 'huinong_sms'
# Longest text accepted: 200 characters, about three SMS segments of
# Chinese text (67 characters each when concatenated).
TEXT_SIZE = 200
# At most this much of an error or of a gateway's answer is kept.
ERROR_SIZE = 1000
ANSWER_SIZE = 64 * 1024
# A retry is never scheduled more than one day away.
MAX_DELAY = 24 * 60 * 60
# A message counts as due this many seconds before its next_attempt: the
# worker starts a scheduled task by the database clock, next_attempt is set
# by the server's.
DUE_TOLERANCE = 5

# What a text message must never contain (R-CARD-3). Deliberately simple:
# - a resident ID number (居民身份证号): 17 digits then a digit or X. Any
#   run of 18 or more digits matches, so bank card numbers are refused too.
RESIDENT_ID = re.compile(r'\d{17}[\dXx]')
# - a PIN: exactly 6 digits after a word naming a secret — 密码, 口令 or
#   PIN (not inside a Latin word) — with at most 8 non-digit characters
#   between ("密码为：123456", "PIN: 123456", "新密码已重置为 123456").
#   "密码错误3次" or a phone number after 密码 is allowed.
PIN = re.compile(
    r'(?:密码|口令|(?<![A-Za-z])PIN(?![A-Za-z]))\D{0,8}\d{6}(?!\d)',
    re.IGNORECASE)


def _config_int(option, default):
    return config.getint(SECTION, option, default=default)


def _truncate(text, size=ERROR_SIZE):
    text = str(text)
    if len(text) > size:
        text = text[:size - 1] + '…'
    return text


def normalize_phone(value):
    "Return value as E.164 when it parses as a Chinese number"
    if not value or not phonenumbers:
        return value
    try:
        number = phonenumbers.parse(value, 'CN')
    except NumberParseException:
        return value
    if not phonenumbers.is_valid_number(number):
        return value
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def is_cn_mobile(value):
    "Whether value is a Chinese mobile number written in E.164"
    if not value or not phonenumbers:
        return bool(value and re.fullmatch(r'\+861\d{10}', value))
    try:
        number = phonenumbers.parse(value, None)
    except NumberParseException:
        return False
    return (number.country_code == 86
        and phonenumbers.is_valid_number(number)
        and phonenumbers.number_type(number) == PhoneNumberType.MOBILE
        and phonenumbers.format_number(number, PhoneNumberFormat.E164)
        == value)


def log_gateway(message):
    """The default gateway: log the message and call it sent.

    For development and the demo; the id it returns starts with "log-"."""
    logger.info(
        "SMS %s to %s: %s", message.id, message.phone, message.text)
    return 'log-' + uuid.uuid4().hex


def http_payload(message, timestamp=None):
    """The JSON object POSTed for message (see doc/sms.rst)

    signature = HMAC-SHA256(secret, canonical) in lower-case hex, where
    canonical joins with "\\n": access_key, timestamp, out_id, phone,
    sign_name, template and the params as compact JSON with sorted keys and
    non-ASCII characters kept (UTF-8)."""
    if timestamp is None:
        timestamp = int(time.time())
    access_key = config.get(SECTION, 'access_key', default='')
    secret = config.get(SECTION, 'secret', default='')
    payload = {
        'phone': message.phone,
        'sign_name': config.get(SECTION, 'sign_name', default=''),
        'template': config.get(SECTION, 'template', default=''),
        'params': {'text': message.text},
        'out_id': str(message.id),
        'access_key': access_key,
        'timestamp': timestamp,
        }
    payload['signature'] = http_signature(payload, secret)
    return payload


def http_canonical(payload):
    "The string that http_signature signs"
    params = json.dumps(
        payload['params'], ensure_ascii=False, sort_keys=True,
        separators=(',', ':'))
    return '\n'.join([
            payload['access_key'], str(payload['timestamp']),
            payload['out_id'], payload['phone'], payload['sign_name'],
            payload['template'], params])


def http_signature(payload, secret):
    return hmac.new(
        secret.encode('utf-8'), http_canonical(payload).encode('utf-8'),
        hashlib.sha256).hexdigest()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    "A redirection answers a POST: it is a failure, not a GET elsewhere"

    def redirect_request(self, *args, **kwargs):
        return None


def http_gateway(message):
    """POST the message as JSON to [huinong_sms] url.

    Success is HTTP 200 with the JSON answer {"code": "OK", "message_id":
    "…"}; anything else raises SMSGatewayError, with unreachable set when
    the gateway did not answer at all (timeout, refused connection…)."""
    url = config.get(SECTION, 'url')
    if not url or urllib.parse.urlsplit(url).scheme not in {'http', 'https'}:
        raise SMSGatewayError(
            gettext('huinong.msg_sms_error_config', option=f'url = {url}'),
            unreachable=True)
    timeout = config.getfloat(SECTION, 'timeout', default=5)
    data = json.dumps(http_payload(message), ensure_ascii=False)
    request = urllib.request.Request(
        url, data=data.encode('utf-8'), method='POST',
        headers={
            'Content-Type': 'application/json; charset=utf-8',
            'Accept': 'application/json',
            'User-Agent': 'huinong-sms',
            })
    try:
        opener = urllib.request.build_opener(_NoRedirect)
        with opener.open(request, timeout=timeout) as response:
            status = response.status
            body = response.read(ANSWER_SIZE)
    except urllib.error.HTTPError as e:
        # A 3xx (not followed), 4xx or 5xx answer
        try:
            body = e.read(ANSWER_SIZE)
        except (OSError, http.client.HTTPException):
            body = b''
        finally:
            e.close()
        raise SMSGatewayError(gettext('huinong.msg_sms_error_status',
                status=e.code,
                answer=_truncate(body.decode('utf-8', 'replace'), 200)))
    except (TimeoutError, socket.timeout):
        raise SMSGatewayError(
            gettext('huinong.msg_sms_error_timeout', timeout=f'{timeout:g}'),
            unreachable=True)
    except urllib.error.URLError as e:
        if isinstance(e.reason, (TimeoutError, socket.timeout)):
            error = gettext(
                'huinong.msg_sms_error_timeout', timeout=f'{timeout:g}')
        else:
            error = gettext(
                'huinong.msg_sms_error_connection', error=e.reason)
        raise SMSGatewayError(error, unreachable=True)
    except (OSError, http.client.HTTPException) as e:
        # connection reset, closed without answer, bad status line…
        raise SMSGatewayError(
            gettext('huinong.msg_sms_error_connection',
                error=f'{e.__class__.__name__}: {e}'),
            unreachable=True)
    text = body.decode('utf-8', 'replace')
    if status != 200:
        raise SMSGatewayError(gettext('huinong.msg_sms_error_status',
                status=status, answer=_truncate(text, 200)))
    try:
        answer = json.loads(body.decode('utf-8'))
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise SMSGatewayError(gettext('huinong.msg_sms_error_json',
                answer=_truncate(text, 200)))
    if answer.get('code') != 'OK':
        raise SMSGatewayError(gettext('huinong.msg_sms_error_refused',
                code=answer.get('code'),
                message=_truncate(answer.get('message') or '', 200)))
    message_id = answer.get('message_id')
    return str(message_id) if message_id not in (None, '') else None


GATEWAYS = {
    'log': log_gateway,
    'http': http_gateway,
    }


class SMS(Workflow, ModelSQL, ModelView):
    "Text Message"
    __name__ = 'huinong.sms'
    __string__ = "Text Message"

    phone = fields.Char(
        "Phone", required=True, readonly=True, strip=True,
        help="The mobile number of the recipient, in E.164 (+86…).")
    text = fields.Text(
        "Text", required=True, readonly=True, size=TEXT_SIZE,
        help="Never a PIN nor a resident ID number.")
    origin = fields.Reference(
        "Origin", selection='get_origin', readonly=True,
        help="The record the message is about.")
    state = fields.Selection([
            ('queued', "Queued"),
            ('sent', "Sent"),
            ('failed', "Failed"),
            ], "State", required=True, readonly=True, sort=False)
    attempts = fields.Integer(
        "Attempts", readonly=True,
        help="How many times the gateway was asked to send the message.")
    next_attempt = fields.Timestamp(
        "Next Attempt", readonly=True,
        help="When a queued message is sent (again) at the latest.")
    last_error = fields.Text("Last Error", readonly=True)
    sent_at = fields.Timestamp("Sent at", readonly=True)
    gateway = fields.Char(
        "Gateway", readonly=True,
        help='The gateway that took the message ("log" only logs it).')
    provider_id = fields.Char(
        "Provider Message ID", readonly=True,
        help="The id the SMS provider gave the message.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        table = cls.__table__()
        cls._sql_indexes.update({
                Index(
                    table,
                    (table.state, Index.Equality(cardinality='low')),
                    (table.next_attempt, Index.Range(nulls_first=True)),
                    where=table.state == 'queued'),
                Index(table, (table.origin, Index.Equality())),
                })
        cls._order = [
            ('create_date', 'DESC'),
            ('id', 'DESC'),
            ]
        cls._transitions |= {
            ('queued', 'sent'),
            ('queued', 'failed'),
            ('failed', 'queued'),
            }
        cls._buttons.update({
                'retry': {
                    'invisible': Eval('state') != 'failed',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'queued'

    @classmethod
    def default_attempts(cls):
        return 0

    @classmethod
    def default_next_attempt(cls):
        return dt.datetime.now()

    @classmethod
    def _get_origin(cls):
        "Return the names of the models a message can be about"
        return ['party.party']

    @classmethod
    def get_origin(cls):
        pool = Pool()
        IrModel = pool.get('ir.model')
        get_name = IrModel.get_name
        return [(None, '')] + [(m, get_name(m)) for m in cls._get_origin()]

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if values.get('phone'):
            values['phone'] = normalize_phone(values['phone'].strip())
        return values

    @classmethod
    def validate_fields(cls, messages, field_names):
        super().validate_fields(messages, field_names)
        cls.check_phone(messages, field_names)
        cls.check_text(messages, field_names)

    @classmethod
    def check_phone(cls, messages, field_names=None):
        if field_names and 'phone' not in field_names:
            return
        for message in messages:
            if not is_cn_mobile(message.phone):
                raise SMSValidationError(
                    gettext('huinong.msg_sms_phone_invalid',
                        phone=message.phone))

    @classmethod
    def check_text(cls, messages, field_names=None):
        # The errors never repeat the text: it holds what must not be shown
        if field_names and 'text' not in field_names:
            return
        for message in messages:
            text = message.text or ''
            if RESIDENT_ID.search(text):
                raise SMSValidationError(
                    gettext('huinong.msg_sms_text_resident_id',
                        phone=message.phone))
            if PIN.search(text):
                raise SMSValidationError(
                    gettext('huinong.msg_sms_text_pin',
                        phone=message.phone))

    @classmethod
    def copy(cls, messages, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('state', 'queued')
        default.setdefault('attempts', 0)
        default.setdefault('next_attempt', None)
        default.setdefault('last_error', None)
        default.setdefault('sent_at', None)
        default.setdefault('gateway', None)
        default.setdefault('provider_id', None)
        return super().copy(messages, default=default)

    @classmethod
    def queue(cls, messages):
        """Create text messages and enqueue their sending; return them.

        messages is a list of dicts with the keys "phone" (any usual
        writing of a Chinese mobile number; stored as E.164), "text" and
        optionally "origin" (a record of a model of _get_origin, or
        "model,id"). Call it inside the transaction that makes the event:
        an invalid phone or a text with a PIN or a resident ID number
        raises a ValidationError, and a rolled-back transaction sends
        nothing.

        One ir.queue task calls send() on the new messages: at the end of
        the request, after the commit, without a worker; by trytond-worker
        with one (see the module docstring). The cron send_queued is the
        safety net."""
        vlist = []
        for values in messages:
            origin = values.get('origin')
            if origin is not None and not isinstance(origin, str):
                origin = str(origin)
            vlist.append({
                    'phone': values['phone'],
                    'text': values['text'],
                    'origin': origin,
                    })
        if not vlist:
            return []
        # Callers have no access to the outbox: it is written by code only
        with without_check_access():
            records = cls.create(vlist)
        with Transaction().set_context(
                queue_scheduled_at=None, queue_expected_at=None):
            cls.__queue__.send(records)
        return records

    @classmethod
    @ModelView.button
    @Workflow.transition('queued')
    def retry(cls, messages):
        "Queue failed messages again for max_attempts more attempts"
        if not messages:
            return
        cls.write(messages, {
                'attempts': 0,
                'next_attempt': dt.datetime.now(),
                })
        with Transaction().set_context(
                queue_scheduled_at=None, queue_expected_at=None):
            cls.__queue__.send(messages)

    @classmethod
    def send(cls, messages):
        """Send now those of messages that are queued and due.

        The queue task of queue() and of a retry. Messages already sent,
        failed, taken by another transaction (locked, on PostgreSQL) or not
        yet due (next_attempt in the future) are skipped, so a late or
        duplicate task never sends twice nor ahead of the back-off."""
        cls._send(messages)

    @classmethod
    def send_queued(cls):
        """Send the queued messages whose next attempt has come (cron).

        The transaction is committed after each message, as
        account_payment_stripe does after each charge: a message handed to
        the gateway is recorded at once. The run stops at the first
        message for which the gateway was unreachable; the others stay due
        for the next run."""
        now = dt.datetime.now()
        messages = cls.search([
                ('state', '=', 'queued'),
                ['OR',
                    ('next_attempt', '=', None),
                    ('next_attempt', '<=', now),
                    ],
                ], order=[('next_attempt', 'ASC'), ('id', 'ASC')])
        transaction = Transaction()
        for message in messages:
            unreachable = cls._send([message])
            transaction.commit()
            if unreachable:
                break

    @classmethod
    def _lock_due(cls, messages):
        "Return the ids of messages that are queued and due, locked"
        transaction = Transaction()
        database = transaction.database
        cursor = transaction.connection.cursor()
        table = cls.__table__()
        due = dt.datetime.now() + dt.timedelta(seconds=DUE_TOLERANCE)
        ids = list(dict.fromkeys(int(m) for m in messages))
        found = set()
        for sub_ids in grouped_slice(ids, backend.MAX_QUERY_PARAMS):
            query = table.select(table.id,
                where=SQL_OPERATORS['in'](table.id, list(sub_ids))
                & (table.state == 'queued')
                & ((table.next_attempt == None)  # noqa: E711
                    | (table.next_attempt <= due)))
            if database.has_select_for():
                # Another sender (cron, worker) holding a message keeps it
                For = database.get_select_for_skip_locked()
                query.for_ = For('UPDATE')
            cursor.execute(*query)
            found.update(id_ for id_, in cursor)
        return [i for i in ids if i in found]

    @classmethod
    def _get_gateway(cls):
        "Return the name and the function of the configured gateway"
        name = config.get(SECTION, 'gateway', default='log') or 'log'
        if name in GATEWAYS:
            return name, GATEWAYS[name]
        try:
            function = resolve(name)
        except (ImportError, AttributeError, ValueError) as e:
            logger.error("Unknown SMS gateway %r", name, exc_info=True)
            raise SMSGatewayError(
                gettext('huinong.msg_sms_error_config',
                    option=f'gateway = {name} ({e})'),
                unreachable=True)
        return name, function

    @classmethod
    def _send(cls, messages):
        """Send the queued and due messages; return whether the gateway
        was unreachable (then the remaining messages are left untouched)"""
        ids = cls._lock_due(messages)
        if not ids:
            return False
        max_attempts = max(_config_int('max_attempts', 5), 1)
        retry_delay = max(_config_int('retry_delay', 60), 0)
        try:
            gateway_name, gateway = cls._get_gateway()
        except SMSGatewayError as e:
            gateway_name, gateway, config_error = None, None, e
        else:
            config_error = None

        done, retries, unreachable = [], defaultdict(list), False
        for message in cls.browse(ids):
            message.attempts = (message.attempts or 0) + 1
            message.gateway = gateway_name
            error = None
            try:
                if config_error:
                    raise config_error
                provider_id = gateway(message)
            except SMSGatewayError as e:
                error, unreachable = str(e), e.unreachable
            except Exception as e:
                logger.warning(
                    "SMS %s: gateway %s failed", message.id, gateway_name,
                    exc_info=True)
                error = f'{e.__class__.__name__}: {e}'
            now = dt.datetime.now()
            if error is None:
                message.state = 'sent'
                message.sent_at = now
                message.provider_id = _truncate(provider_id, 200) \
                    if provider_id else None
                message.next_attempt = None
                message.last_error = None
            else:
                message.last_error = _truncate(error)
                if message.attempts >= max_attempts:
                    message.state = 'failed'
                    message.next_attempt = None
                    logger.warning(
                        "SMS %s failed after %s attempts: %s",
                        message.id, message.attempts, error)
                else:
                    delay = min(
                        retry_delay * 2 ** (message.attempts - 1),
                        MAX_DELAY)
                    message.next_attempt = now + dt.timedelta(seconds=delay)
                    retries[delay].append(message)
                    logger.info(
                        "SMS %s attempt %s failed, next in %s s: %s",
                        message.id, message.attempts, delay, error)
            done.append(message)
            if unreachable:
                break
        cls.save(done)

        # Without a worker a scheduled task would run at once (see the
        # module docstring): then the cron makes the retry.
        if retries and config.getboolean('queue', 'worker', default=False):
            for delay, records in retries.items():
                with Transaction().set_context(
                        queue_scheduled_at=dt.timedelta(seconds=delay),
                        queue_expected_at=None):
                    cls.__queue__.send(records)
        return unreachable


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('huinong.sms|send_queued', "Send Queued Text Messages"))
