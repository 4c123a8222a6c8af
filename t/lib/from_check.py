#!/usr/bin/python3
# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
"""Reads a GET /resolve answer (JSON) on stdin and says, in one line, how
mail software reads its "from" as a From header (issue 13, section 5):

  fallback REASON                the resolver used the default sender
  name=JSON                      every check passed; JSON is the display
                                 name as both parsers decoded it
  BAD: WHAT                      a check failed

The checks, on "From: <from>" parsed by Python's email package (run with
Debian's /usr/bin/python3):
  - policy.default: one address; its addr_spec is exactly "address";
  - compat32: email.utils.parseaddr() gives exactly "address", and the
    name decoded by email.header.decode_header() equals policy.default's
    (see below for names of several encoded-words);
  - neither decoded name holds a control character (Unicode Cc) or a line
    or paragraph separator;
  - the header line "From: " + from is at most 998 octets (RFC 5322 2.1.1).

The name printed is compat32's.  Python 3.11's policy.default keeps the
space between two adjacent encoded-words of a display name, although RFC
2047 6.2 says to ignore it ("=?UTF-8?B?w6k=?= =?UTF-8?B?w6k=?=" reads
"é é"; Python folds a long name into such words itself and reads its own
output back the same way).  So for a value with adjacent encoded-words the
two names are compared without those spaces.
"""

import email
import email.header
import email.policy
import email.utils
import json
import sys
import unicodedata


def has_control(s):
    return any(unicodedata.category(c) == 'Cc' or c in '\u2028\u2029'
               for c in s)


def compat_name(raw):
    if not raw:
        return ''
    return str(email.header.make_header(email.header.decode_header(raw)))


def main():
    body = sys.stdin.read()
    try:
        ans = json.loads(body)
    except ValueError:
        print('BAD: not json: %r' % body[:200])
        return

    if ans.get('fallback'):
        print('fallback %s' % ans.get('reason'))
        return

    value, address = ans['from'], ans['address']
    line = 'From: ' + value

    if len(line.encode('utf-8')) > 998:
        print('BAD: line of %d octets' % len(line.encode('utf-8')))
        return

    if '\r' in value or '\n' in value:
        print('BAD: CR or LF in the value')
        return

    text = line + '\n\n'

    try:
        msg = email.message_from_string(text, policy=email.policy.default)
        addrs = msg['From'].addresses
    except Exception as e:               # a parser that gives up
        print('BAD: policy.default raised %s: %s' % (type(e).__name__, e))
        return

    if len(addrs) != 1:
        print('BAD: policy.default found %d addresses' % len(addrs))
        return

    if addrs[0].addr_spec != address:
        print('BAD: policy.default address %r' % addrs[0].addr_spec)
        return

    name = addrs[0].display_name

    old = email.message_from_string(text)          # compat32
    cname, caddr = email.utils.parseaddr(old['From'])

    if caddr != address:
        print('BAD: compat32 address %r' % caddr)
        return

    try:
        cname = compat_name(cname)
    except Exception as e:
        print('BAD: decode_header raised %s: %s' % (type(e).__name__, e))
        return

    if has_control(name) or has_control(cname):
        print('BAD: control character in %r / %r' % (name, cname))
        return

    if '?= =?' in value:
        same = name.replace(' ', '') == cname.replace(' ', '')
    else:
        same = name == cname

    if not same:
        print('BAD: parsers disagree: %r / %r' % (name, cname))
        return

    print('name=' + json.dumps(cname))


main()
