# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
#
# t/cluster/hook_check.py LOG WHAT ARGS...: reads hook_receiver.py's log.
#   delivered IDENT TYPE...  status 0 when every TYPE of IDENT was answered
#                            200 (prints what is missing otherwise)
#   dups                     the webhook-ids answered 200 more than once,
#                            and ids shared by two different events
#   order IDENT T1 T2        T1's first 200 came before T2's
#   ids IDENT TYPE           the webhook-ids of IDENT's TYPE events, one line
#   count WS                 how many distinct events of workspace WS were
#                            answered 200
import json
import sys

log, what, args = sys.argv[1], sys.argv[2], sys.argv[3:]
reqs = []
try:
    with open(log) as f:
        for line in f:
            r = json.loads(line)
            try:
                b = json.loads(r['body'])
            except ValueError:
                b = {}
            r['type'] = b.get('type')
            r['ident'] = (b.get('identity') or {}).get('identity')
            r['bid'] = b.get('id')
            r['ws'] = b.get('workspace')
            reqs.append(r)
except FileNotFoundError:
    pass
ok = [r for r in reqs if r['status'] == 200]

if what == 'delivered':
    have = {r['type'] for r in ok if r['ident'] == args[0]}
    missing = [t for t in args[1:] if t not in have]
    print(' '.join(missing))
    sys.exit(1 if missing else 0)
elif what == 'dups':
    seen, bad = {}, []
    for r in ok:
        key = (r['ident'], r['type'], r['body'])
        if r['id'] in seen:
            bad.append('%s twice' % r['id'] if seen[r['id']] == key
                       else '%s shared by %s %s and %s %s'
                       % (r['id'], seen[r['id']][0], seen[r['id']][1],
                          r['ident'], r['type']))
        seen[r['id']] = key
    mism = [r['id'] for r in reqs if r['id'] != r['bid']]
    print('; '.join(bad + ['header %s is not the body id' % i for i in mism]))
    print('%d requests, %d answered 200, %d ids' % (len(reqs), len(ok),
                                                    len(seen)))
    sys.exit(1 if bad or mism else 0)
elif what == 'order':
    i1 = [i for i, r in enumerate(ok) if r['ident'] == args[0] and r['type'] == args[1]]
    i2 = [i for i, r in enumerate(ok) if r['ident'] == args[0] and r['type'] == args[2]]
    sys.exit(0 if i1 and i2 and i1[0] < i2[0] else 1)
elif what == 'count':
    print(len({r['id'] for r in ok if r['ws'] == args[0]}))
elif what == 'ids':
    print(' '.join(sorted({r['id'] for r in reqs
                           if r['ident'] == args[0] and r['type'] == args[1]})))
