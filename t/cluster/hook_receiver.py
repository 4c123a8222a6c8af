# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
#
# t/cluster/hook_receiver.py DIR: a webhook receiver for nodes_test.sh's
# "webhooks" case.  Listens on a free loopback port (written to DIR/port),
# appends one JSON line per request to DIR/hooks.log (time, the status it
# answered, webhook-id, the body) and answers 500 while DIR/fail exists,
# or to the events of the workspace DIR/fail_ws names, else 200.  Stopped
# by its pid.
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIR = sys.argv[1]


class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(n).decode('utf-8', 'replace')
        status = 500 if os.path.exists(os.path.join(DIR, 'fail')) else 200
        try:
            with open(os.path.join(DIR, 'fail_ws')) as f:
                if json.loads(body).get('workspace') == f.read().strip():
                    status = 500
        except (OSError, ValueError):
            pass
        with open(os.path.join(DIR, 'hooks.log'), 'a') as f:
            f.write(json.dumps({'t': time.time(), 'status': status,
                                'id': self.headers.get('webhook-id'),
                                'body': body}) + '\n')
        self.send_response(status)
        self.send_header('Content-Length', '0')
        self.end_headers()

    def log_message(self, *args):
        pass


srv = ThreadingHTTPServer(('127.0.0.1', 0), Hook)
with open(os.path.join(DIR, 'port.tmp'), 'w') as f:
    f.write(str(srv.server_address[1]))
os.rename(os.path.join(DIR, 'port.tmp'), os.path.join(DIR, 'port'))
srv.serve_forever()
