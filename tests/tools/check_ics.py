"""Reads an iCalendar file (RFC 5545) on stdin and checks it with parsers Haven does not
use: python-dateutil expands each VEVENT's RRULE from its DTSTART;TZID, and the system's
time zone database (zoneinfo) gives the UTC offsets. Prints one JSON object:
{"events": [{"tzid", "rrule", "local": [...], "offsets": [...]}], "vtimezone_ok": bool}.
Used by tests/tests/e2e/standing.rs."""
import json
import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

text = sys.stdin.read()
assert text.endswith("\r\n"), "lines end with CRLF"
lines = []
for raw in text.split("\r\n"):
    if raw.startswith(" "):
        lines[-1] += raw[1:]
    elif raw:
        lines.append(raw)

events, current, vtz, observance = [], None, [], None
for line in lines:
    name, _, value = line.partition(":")
    if line == "BEGIN:VEVENT":
        current = {}
    elif line == "END:VEVENT":
        events.append(current)
        current = None
    elif current is not None:
        current[name] = value
    elif line in ("BEGIN:STANDARD", "BEGIN:DAYLIGHT"):
        observance = {}
    elif line in ("END:STANDARD", "END:DAYLIGHT"):
        vtz.append(observance)
        observance = None
    elif observance is not None:
        observance[name] = value

def offset(text):
    sign = -1 if text[0] == "-" else 1
    return sign * (int(text[1:3]) * 3600 + int(text[3:5]) * 60)

out = {"events": [], "vtimezone_ok": True}
for event in events:
    key = next(k for k in event if k.startswith("DTSTART;TZID="))
    tzid = key.split("=", 1)[1]
    zone = ZoneInfo(tzid)
    start = datetime.strptime(event[key], "%Y%m%dT%H%M%S").replace(tzinfo=zone)
    rule = event.get("RRULE")
    times = list(rrulestr(rule, dtstart=start))[:60] if rule else [start]
    out["events"].append({
        "tzid": tzid,
        "rrule": rule,
        "local": [t.strftime("%a %H:%M") for t in times],
        "offsets": sorted({int(t.utcoffset().total_seconds()) for t in times}),
    })
    # Each observance: just after its start (local time in TZOFFSETFROM), zoneinfo agrees
    # on the new offset.
    for o in vtz:
        local = datetime.strptime(o["DTSTART"], "%Y%m%dT%H%M%S")
        if o["DTSTART"].startswith("1970"):
            continue
        instant = local.replace(tzinfo=timezone(timedelta(seconds=offset(o["TZOFFSETFROM"]))))
        after = (instant + timedelta(minutes=1)).astimezone(zone)
        if int(after.utcoffset().total_seconds()) != offset(o["TZOFFSETTO"]):
            out["vtimezone_ok"] = False
print(json.dumps(out))
