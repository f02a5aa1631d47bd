# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Static checks of the deployment files in docker/ (no Docker needed).

A plain unittest module run by scripts/test (it reads files only and runs
the same on both backends).  scripts/deploy-check is what runs the
deployment for real; this checks that the files agree with each other:

- docker/compose.yml parses (with PyYAML when installed, else with a small
  parser of the YAML subset the file uses) and every file it references
  exists (build context, Dockerfile, bind-mounted config);
- every file the Dockerfile copies exists, the entrypoint is executable and
  handles every command compose.yml gives it;
- the Dockerfile and scripts/deploy-check install with the same pip line
  (docker/requirements-deploy.txt);
- docker/trytond.conf points at the paths of the image and the volumes.
"""
import configparser
import os
import re
import shutil
import subprocess
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCKER = os.path.join(ROOT, 'docker')
COMPOSE = os.path.join(DOCKER, 'compose.yml')
DOCKERFILE = os.path.join(DOCKER, 'Dockerfile')
PIP_LINE = 'pip install -r docker/requirements-deploy.txt'


# --- a parser of the YAML subset compose.yml uses ------------------------------
# Block mappings and sequences by indentation, plain/quoted scalars, flow
# sequences of scalars, anchors (&a), aliases (*a) and merge keys (<<).
# Used only when PyYAML is not installed; test_mini_yaml_agrees checks it
# against PyYAML when both are there.

def _scalar(text):
    text = text.strip()
    if text[:1] in '"\'' and text[-1:] == text[:1]:
        return text[1:-1]
    if text.startswith('[') and text.endswith(']'):
        inner = text[1:-1].strip()
        return [_scalar(t) for t in inner.split(',')] if inner else []
    if text in ('true', 'True'):
        return True
    if text in ('false', 'False'):
        return False
    if re.fullmatch(r'-?\d+', text):
        return int(text)
    return text


def _strip_comment(line):
    quote = None
    for i, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in '"\'':
            quote = char
        elif char == '#' and (i == 0 or line[i - 1] in ' \t'):
            return line[:i].rstrip()
    return line.rstrip()


def mini_yaml(text):
    lines = []
    for raw in text.splitlines():
        line = _strip_comment(raw)
        if line.strip():
            lines.append((len(line) - len(line.lstrip(' ')), line.strip()))
    anchors = {}

    def value_of(rest, index, indent):
        "The value after 'key:' or '- ': inline, or the block below"
        anchor = None
        if rest.startswith('&'):
            anchor, _, rest = rest.partition(' ')
            anchor = anchor[1:]
        if rest.startswith('*'):
            value = anchors[rest[1:]]
        elif rest:
            value = _scalar(rest)
        elif index < len(lines) and lines[index][0] > indent:
            value, index = block(index, lines[index][0])
        else:
            value = None
        if anchor:
            anchors[anchor] = value
        return value, index

    def block(index, indent):
        if lines[index][1].startswith('- ') or lines[index][1] == '-':
            result = []
            while index < len(lines) and lines[index][0] == indent \
                    and lines[index][1].startswith('-'):
                value, index = value_of(
                    lines[index][1][1:].strip(), index + 1, indent)
                result.append(value)
            return result, index
        result = {}
        while index < len(lines) and lines[index][0] == indent:
            key, sep, rest = lines[index][1].partition(':')
            if not sep:
                raise ValueError('not a mapping line: %r' % lines[index][1])
            value, index = value_of(rest.strip(), index + 1, indent)
            key = _scalar(key)
            if key == '<<':
                for k, v in value.items():
                    result.setdefault(k, v)
            else:
                result[key] = value
        return result, index

    result, index = block(0, lines[0][0])
    if index != len(lines):
        raise ValueError('cannot parse line %r' % (lines[index][1],))
    return result


def load_compose():
    with open(COMPOSE, encoding='utf-8') as fp:
        text = fp.read()
    try:
        import yaml
    except ImportError:
        return mini_yaml(text)
    return yaml.safe_load(text)


def dockerfile_instructions():
    "(INSTRUCTION, arguments) of docker/Dockerfile, continuations joined"
    with open(DOCKERFILE, encoding='utf-8') as fp:
        text = fp.read()
    text = re.sub(r'\\\n', ' ', text)
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith('#'):
            word, _, rest = line.partition(' ')
            result.append((word.upper(), ' '.join(rest.split())))
    return result


class DeployTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.compose = load_compose()
        cls.services = cls.compose['services']

    def test_services(self):
        "compose.yml has the services of a deployment"
        self.assertEqual(set(self.services),
            {'postgres', 'setup', 'trytond', 'cron', 'worker'})
        commands = {name: service.get('command')
            for name, service in self.services.items()}
        self.assertEqual(commands['setup'], ['setup'])
        self.assertEqual(commands['trytond'], ['web'])
        self.assertEqual(commands['cron'], ['cron'])
        self.assertEqual(commands['worker'], ['worker'])
        for name in ['trytond', 'cron', 'worker']:
            with self.subTest(service=name):
                self.assertEqual(self.services[name]['depends_on'], {
                        'setup': {
                            'condition': 'service_completed_successfully'}})

    def test_build_paths_exist(self):
        "The build context and Dockerfile of every service exist"
        builds = [s['build'] for s in self.services.values() if 'build' in s]
        self.assertTrue(builds)
        for build in builds:
            context = os.path.normpath(os.path.join(DOCKER, build['context']))
            self.assertEqual(context, ROOT)
            self.assertTrue(os.path.isfile(
                    os.path.join(context, build['dockerfile'])))

    def test_volumes_and_mounts(self):
        "Bind mounts exist, named volumes are declared"
        declared = set(self.compose.get('volumes') or {})
        for name, service in self.services.items():
            for volume in service.get('volumes', []):
                source, target = volume.split(':')[:2]
                with self.subTest(service=name, volume=volume):
                    if source.startswith(('.', '/')):
                        self.assertTrue(os.path.exists(
                                os.path.join(DOCKER, source)), source)
                    else:
                        self.assertIn(source, declared)

    def test_secrets(self):
        "Secret files are under docker/secrets/, which git ignores"
        secrets = self.compose['secrets']
        self.assertEqual(set(secrets), {'db_password', 'admin_password'})
        for name, secret in secrets.items():
            path = os.path.normpath(os.path.join(DOCKER, secret['file']))
            self.assertEqual(os.path.dirname(path),
                os.path.join(DOCKER, 'secrets'))
        with open(os.path.join(DOCKER, 'secrets', '.gitignore')) as fp:
            self.assertIn('*', fp.read().split())
        for name, service in self.services.items():
            for secret in service.get('secrets', []):
                self.assertIn(secret, secrets)

    def test_database_user(self):
        "trytond's services log in as the role postgres creates"
        user = self.services['postgres']['environment']['POSTGRES_USER']
        for name in ['setup', 'trytond', 'cron', 'worker']:
            self.assertEqual(
                self.services[name]['environment']['PGUSER'], user)

    def test_dockerfile_copies_exist(self):
        "Every file the Dockerfile copies from the context exists"
        copies = [args for word, args in dockerfile_instructions()
            if word == 'COPY' and '--from=' not in args]
        self.assertTrue(copies)
        for args in copies:
            sources = [a for a in args.split() if not a.startswith('--')][:-1]
            for source in sources:
                with self.subTest(source=source):
                    self.assertTrue(os.path.exists(
                            os.path.join(ROOT, source)), source)
        with open(os.path.join(ROOT, '.dockerignore')) as fp:
            ignored = fp.read().split()
        for source in ['modules', 'scripts', 'docker', 'setup.cfg']:
            self.assertNotIn(source, ignored)

    def test_entrypoint(self):
        "The entrypoint is copied, executable and knows every command"
        instructions = dockerfile_instructions()
        entrypoint, = [a for w, a in instructions if w == 'ENTRYPOINT']
        self.assertEqual(entrypoint, '["/opt/huinong/docker/entrypoint.sh"]')
        self.assertIn(('COPY',
                'docker/entrypoint.sh docker/healthcheck.py /opt/huinong/docker/'),
            instructions)
        path = os.path.join(DOCKER, 'entrypoint.sh')
        self.assertTrue(os.access(path, os.X_OK))
        if shutil.which('bash'):
            subprocess.run(['bash', '-n', path], check=True)
        with open(path) as fp:
            text = fp.read()
        for service in self.services.values():
            for command in service.get('command') or []:
                if service.get('image', '').startswith('postgres'):
                    continue
                self.assertRegex(text, r'\n    %s(\|[a-z]+)*\)\n' % command)
        healthcheck, = [a for w, a in instructions if w == 'HEALTHCHECK']
        self.assertIn('/opt/huinong/docker/healthcheck.py', healthcheck)

    def test_same_pip_line(self):
        "The image and scripts/deploy-check install the same way"
        runs = [a for w, a in dockerfile_instructions() if w == 'RUN']
        pip_runs = [a for a in runs if 'pip install' in a]
        self.assertEqual(len(pip_runs), 1)
        self.assertIn(PIP_LINE, pip_runs[0])
        with open(os.path.join(ROOT, 'scripts', 'deploy-check')) as fp:
            check = fp.read()
        # deploy-check reads the line from the Dockerfile and installs it
        self.assertIn('pip install --disable-pip-version-check -q $pip_args',
            check)
        self.assertIn('[[ $pip_args == "-r docker/requirements-deploy.txt" ]]',
            check)
        with open(os.path.join(DOCKER, 'requirements-deploy.txt')) as fp:
            requirements = [l.split('#')[0].strip() for l in fp]
        requirements = [r for r in requirements if r]
        self.assertIn('.[postgresql]', requirements)
        self.assertTrue(any(r.startswith('gunicorn') for r in requirements))

    def test_trytond_conf(self):
        "docker/trytond.conf matches the image and the volumes"
        config = configparser.RawConfigParser()
        config.read(os.path.join(DOCKER, 'trytond.conf'))
        self.assertFalse(config.has_option('database', 'uri'))
        self.assertEqual(config.get('database', 'list'), 'False')
        self.assertEqual(config.get('cache', 'clean_timeout'), '0')
        self.assertEqual(config.get('queue', 'worker'), 'True')
        self.assertTrue(config.getint('session', 'timeout'))
        self.assertGreaterEqual(config.getint('password', 'length'), 8)
        instructions = dockerfile_instructions()
        self.assertIn(('COPY', '--from=sao /src/var/sao/www %s'
                % config.get('web', 'root')), instructions)
        filestore = config.get('database', 'path')
        for name in ['setup', 'trytond', 'cron', 'worker']:
            self.assertIn('filestore:%s' % filestore,
                self.services[name]['volumes'])
            self.assertIn('./trytond.conf:/etc/trytond.conf:ro',
                self.services[name]['volumes'])
            self.assertEqual(self.services[name]['environment'][
                    'TRYTOND_CONFIG'], '/etc/trytond.conf')

    def test_mini_yaml_agrees(self):
        "The fallback parser reads compose.yml as PyYAML does"
        try:
            import yaml
        except ImportError:
            self.skipTest("PyYAML is not installed")
        with open(COMPOSE, encoding='utf-8') as fp:
            text = fp.read()
        self.assertEqual(mini_yaml(text), yaml.safe_load(text))

    def test_docker_compose_config(self):
        "docker compose config accepts the file (when the plugin exists)"
        docker = shutil.which('docker')
        if not docker or subprocess.run([docker, 'compose', 'version'],
                capture_output=True).returncode:
            self.skipTest("no `docker compose` here")
        env = dict(os.environ)
        result = subprocess.run([docker, 'compose', '-f', COMPOSE, 'config',
                '--no-interpolate', '-q'], capture_output=True, text=True,
            env=env)
        self.assertEqual(result.returncode, 0, result.stderr)


if __name__ == '__main__':
    unittest.main()
