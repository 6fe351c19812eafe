"""Web and network addresses: Safe Harbor items 14 (URLs) and 15 (IP addresses),
45 CFR 164.514(b)(2)(i)(N), (O).

These carry their own syntax, so no cue is needed where the syntax is unambiguous:

* a URL starts with a scheme (`https://`, `http://`, `ftp://`) or `www.`; a bare domain
  (`example.org/login`) is not taken, it reads like a file name or an abbreviation.
* an IPv4 address is four dotted octets 0-255 without leading zeros, not touching other
  digits, dots or letters, and not after a version, section or clinical cue (`v`,
  `version`, `build`, `section`, `BP`, `labs`, `BMP`, ...). Without an IP cue ("IP", "address", "host", "from", ...) it
  also needs an octet of three digits: `192.168.14.201` is an address wherever it stands,
  while `10.0.0.1`, `4.5.11.0` or `1.2.3.4` could be a mistyped lab range or an outline
  number and are taken only after a cue.
* an IPv6 address is what Python's `ipaddress` accepts, written with `::` or all eight
  groups, with at least one group of three or four hex digits, so a time (`12:30:45`) or
  a score (`3::2`) never qualifies.

Keys: a URL without its scheme and `www.`, host in lower case, no trailing slash or
punctuation (the path keeps its case: servers treat it as case-sensitive); addresses in
their canonical form (`ipaddress`: `2001:DB8:0:0::1` is `2001:db8::1`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

_URL = re.compile(r"(?i)\b(?:(?:https?|ftp)://|www\.)[^\s<>\"'`]+")
_IPV4 = re.compile(r"(?<![\w.])((?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3})"
                   r"(?::\d{1,5})?(?![\w]|\.\d)")
_IPV6 = re.compile(r"(?<![\w:.])((?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4})(?![\w:])")
# Dotted runs that are not addresses: versions, outline numbers, codes, and vitals or a
# lab panel written with dots ("BP 120.80.70.16", "BMP 138.4.2.102").
_VERSION_CUE = re.compile(r"(?i)(?:\bv|\bver\.?|\bversion|\brelease|\bbuild|\brev\.?|\bsection|\bsect\.?|§|"
                          r"\bICD(?:-?\d+)?|\bstep|\bchapter|\bfig\.?|\btable|\bBP|\bVS|\bvitals?|"
                          r"\blabs?|\bBMP|\bCMP|\bchem\s*\d*|\bpanel|\blytes|\belectrolytes)\W{0,3}$")
_IP_CUE = re.compile(r"(?i)\b(?:IP|IPv4|address|addr|host|client|source|src|dst|server|from|login|"
                     r"logged\s+in|gateway|workstation|terminal)\b\W{0,3}$")


def _url_key(url: str) -> str:
    body = re.sub(r"(?i)^(?:(?:https?|ftp)://)?(?:www\.)?", "", url)
    host, slash, path = body.partition("/")
    return (host.lower() + slash + path).rstrip("/")


def find_network(text: str) -> Iterator[tuple[str, int, int, str]]:
    """(category, start, end, key) of every URL and IP address."""
    lower = text.lower()
    # Cheap tests first: most notes hold no URL and no IPv6 address at all.
    urls = _URL.finditer(text) if "://" in text or "www." in lower else ()
    for m in urls:
        url = m.group(0).rstrip(".,;:!?)]}")
        if re.search(r"[A-Za-z0-9]", url.split("://", 1)[-1].removeprefix("www.")):
            yield "url", m.start(), m.start() + len(url), _url_key(url)
    for m in _IPV4.finditer(text):
        before = text[max(0, m.start() - 24):m.start()]
        if _VERSION_CUE.search(before):
            continue
        if not _IP_CUE.search(before) and not any(len(o) == 3 for o in m.group(1).split(".")):
            continue
        yield "ip_address", m.start(1), m.end(1), str(ipaddress.IPv4Address(m.group(1)))
    for m in _IPV6.finditer(text) if "::" in text or text.count(":") >= 7 else ():
        value = m.group(1)
        if "::" not in value and value.count(":") != 7:
            continue
        try:
            address = ipaddress.IPv6Address(value)
        except ValueError:
            continue
        # A real address has a group of three or four hex digits; "3::2" or "1:2:3:4:5:6:7:8"
        # are scores and ratios that happen to parse.
        if not any(len(group) >= 3 for group in value.split(":")):
            continue
        yield "ip_address", m.start(1), m.end(1), address.compressed
