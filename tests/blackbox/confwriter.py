"""confwriter.py: writes echod config files in libconfig syntax.

Owns: turning a dict of settings into libconfig text, one setting per
line (so a test can tell which line a setting is on), and the settings
every test config starts from. Does not own: picking ports or running
echod (echodctl.py).
"""

# What every test's config holds unless the test says otherwise: loopback
# only, a fixed thread count, no pidfile.
BASE_SETTINGS = {
    "listen": ["127.0.0.1", "::1"],
    "threads": 2,
    "pidfile": "",
}

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r",
            "\t": "\\t", "\f": "\\f"}


def quote(text):
    """A libconfig string literal for text (str, any characters)."""
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("\\x%02x" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def value(v):
    """The libconfig literal for a Python value."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return quote(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(value(x) for x in v) + "]"
    raise TypeError("no libconfig literal for %r" % (v,))


def render(settings):
    """libconfig text: one `key = value;` per line, groups spread over lines."""
    lines = ["# written by the echod black-box tests"]
    for key, v in settings.items():
        if isinstance(v, dict):
            lines.append("%s = {" % key)
            lines.extend("  %s = %s;" % (k, value(x)) for k, x in v.items())
            lines.append("};")
        else:
            lines.append("%s = %s;" % (key, value(v)))
    return "\n".join(lines) + "\n"


def line_of(text, key):
    """1-based number of the first line of text that sets key."""
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip().startswith(key + " ") or line.strip().startswith(key + "="):
            return number
    raise KeyError(key)
