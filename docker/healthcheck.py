#!/usr/bin/env python3
"""Health check of the web container (Dockerfile HEALTHCHECK; also run by
scripts/deploy-check): POST the JSON-RPC call common.server.version to
/rpc/ and exit 0 when the server answers with its version.

    python healthcheck.py [URL]    (default http://127.0.0.1:8000/rpc/,
                                   or $HUINONG_HEALTHCHECK_URL)
"""
import json
import os
import sys
import urllib.request


def main():
    url = (sys.argv[1] if len(sys.argv) > 1
        else os.environ.get('HUINONG_HEALTHCHECK_URL',
            'http://127.0.0.1:8000/rpc/'))
    request = urllib.request.Request(url,
        data=json.dumps({
                'id': 0, 'method': 'common.server.version', 'params': [],
                }).encode(),
        headers={'Content-Type': 'application/json'})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            version = json.load(response).get('result')
    except Exception as exception:
        print('unhealthy: %s' % exception, file=sys.stderr)
        return 1
    if not version:
        print('unhealthy: no version in the answer', file=sys.stderr)
        return 1
    print('healthy: trytond %s' % version)
    return 0


if __name__ == '__main__':
    sys.exit(main())
