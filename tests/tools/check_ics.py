"""Reads an iCalendar file (RFC 5545) on stdin and checks it with parsers Haven does not
use: the `icalendar` package (Debian's python3-icalendar) parses the whole file,
python-dateutil expands each VEVENT's RRULE from its DTSTART;TZID, and the system's time
zone database (zoneinfo) gives the UTC offsets. Anything the parser rejects, or a required
property it cannot read, ends the script with an error (exit status 1). Prints one JSON
object: {"events": [{"uid", "dtstamp", "summary", "url", "tzid", "minutes", "rrule",
"local": [...], "offsets": [...]}], "vtimezone_ok": bool}.
Used by tests/tests/e2e/standing.rs."""
import json
import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar
from dateutil.rrule import rrulestr


def fail(why):
    sys.exit(f"check_ics.py: {why}")


text = sys.stdin.read()
if not text.endswith("\r\n") or "\n" in text.replace("\r\n", ""):
    fail("every line must end with CRLF")
try:
    calendars = icalendar.Calendar.from_ical(text, multiple=True)
except ValueError as e:
    fail(f"the parser rejects the file: {e}")
if len(calendars) != 1 or calendars[0].name != "VCALENDAR":
    fail(f"one VCALENDAR expected, found {[c.name for c in calendars]}")
cal = calendars[0]

# icalendar keeps going past a bad value inside some components (VEVENT ignores exceptions)
# and notes it in `errors`; here any such note fails the file.
for component in cal.walk():
    if component.errors:
        fail(f"{component.name}: the parser could not read {component.errors}")
allowed = {"VCALENDAR": {"VTIMEZONE", "VEVENT"}, "VTIMEZONE": {"STANDARD", "DAYLIGHT"}}
for component in cal.walk():
    for sub in component.subcomponents:
        if sub.name not in allowed.get(component.name, set()):
            fail(f"{sub.name} inside {component.name}")
for name in ("VERSION", "PRODID"):
    if name not in cal:
        fail(f"VCALENDAR without {name}")
if str(cal["VERSION"]) != "2.0":
    fail(f"VERSION {cal['VERSION']}")


def text_of(component, name):
    """A required text property, unescaped by the parser."""
    if name not in component:
        fail(f"{component.name} without {name}")
    return str(component[name])


def decoded(component, name):
    """A required property's value as the parser typed it."""
    if name not in component:
        fail(f"{component.name} without {name}")
    try:
        return component.decoded(name)
    except (ValueError, KeyError) as e:
        fail(f"{component.name} {name}: {e}")


zones = {}
for vtz in cal.walk("VTIMEZONE"):
    tzid = str(vtz["TZID"])
    if not vtz.subcomponents:
        fail(f"VTIMEZONE {tzid} without STANDARD or DAYLIGHT")
    zones[tzid] = vtz

out = {"events": [], "vtimezone_ok": True}
for event in cal.walk("VEVENT"):
    uid = text_of(event, "UID")
    stamp = decoded(event, "DTSTAMP")
    if not isinstance(stamp, datetime) or stamp.utcoffset() != timedelta(0):
        fail(f"DTSTAMP is not a UTC date-time: {stamp!r}")
    start = decoded(event, "DTSTART")
    tzid = event["DTSTART"].params.get("TZID")
    if not isinstance(start, datetime) or tzid is None:
        fail(f"DTSTART is not a local date-time with TZID: {event['DTSTART'].to_ical()!r}")
    if tzid not in zones:
        fail(f"DTSTART;TZID={tzid} has no VTIMEZONE")
    if "DURATION" in event and "DTEND" in event:
        fail("both DURATION and DTEND")
    if "DURATION" in event:
        length = decoded(event, "DURATION")
    else:
        length = decoded(event, "DTEND") - start
    if not isinstance(length, timedelta) or length <= timedelta(0):
        fail(f"a meeting of {length!r}")
    zone = ZoneInfo(tzid)
    # The parser's DTSTART carries its own (pytz) zone; dateutil expands the wall-clock time
    # in zoneinfo's, which handles offsets across changes without normalising.
    start = start.replace(tzinfo=None).replace(tzinfo=zone)
    rule = event.get("RRULE")
    rule = rule.to_ical().decode() if rule is not None else None
    times = list(rrulestr(rule, dtstart=start))[:60] if rule else [start]
    out["events"].append({
        "uid": uid,
        "dtstamp": stamp.strftime("%Y%m%dT%H%M%SZ"),
        "summary": text_of(event, "SUMMARY"),
        "url": text_of(event, "URL"),
        "tzid": tzid,
        "minutes": int(length.total_seconds() // 60),
        "rrule": rule,
        "local": [t.strftime("%a %H:%M") for t in times],
        "offsets": sorted({int(t.utcoffset().total_seconds()) for t in times}),
    })

    # Each observance, as the parser read it: just after its start (local time in
    # TZOFFSETFROM), zoneinfo agrees on the new offset.
    for o in zones[tzid].subcomponents:
        local = decoded(o, "DTSTART")
        before, after = decoded(o, "TZOFFSETFROM"), decoded(o, "TZOFFSETTO")
        if local.year == 1970:
            continue
        instant = local.replace(tzinfo=timezone(before))
        later = (instant + timedelta(minutes=1)).astimezone(zone)
        if later.utcoffset() != after:
            out["vtimezone_ok"] = False
    # And the parser's own time zone built from the VTIMEZONE puts every occurrence at the
    # offset zoneinfo gives it.
    try:
        parsed_zone = zones[tzid].to_tz()
    except Exception as e:  # the parser's own failure, whatever its type
        fail(f"VTIMEZONE {tzid}: the parser cannot build a time zone from it: {e!r}")
    for t in times:
        if parsed_zone.localize(t.replace(tzinfo=None)).utcoffset() != t.utcoffset():
            out["vtimezone_ok"] = False
print(json.dumps(out))
