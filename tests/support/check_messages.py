"""Parses every email in a boxoffice spool with Python's email package (the modern policy,
which raises on defects it cannot recover from) and every calendar entry with icalendar.

    python3 check_messages.py SPOOL_DIR

Prints "N messages, M calendar entries parsed"; exits 1 naming the first file that does not
parse, or a message without its From, To, Subject, Date or Message-ID.
"""

import email
import email.policy
import glob
import os
import sys

import icalendar

root = sys.argv[1]
files = sorted(glob.glob(os.path.join(root, "email", "new", "*")) + glob.glob(os.path.join(root, "email", "cur", "*")))
calendars = 0
for path in files:
    with open(path, "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.strict)
    for header in ("From", "To", "Subject", "Date", "Message-ID"):
        if msg[header] is None:
            sys.exit("%s: no %s header" % (path, header))
    for part in msg.walk():
        if part.get_content_type() == "text/calendar":
            cal = icalendar.Calendar.from_ical(part.get_content())
            events = [c for c in cal.walk() if c.name == "VEVENT"]
            if not events or events[0].get("DTSTART") is None or events[0].get("ORGANIZER") is None:
                sys.exit("%s: a calendar entry without its event, start or organizer" % path)
            calendars += 1
print("%d messages, %d calendar entries parsed" % (len(files), calendars))
