"""The API's English messages in the desk page's language, translated where the page shows them.

The forms are checked by the API's own marshmallow schemas and service functions, whose
messages are English on purpose: the API answers in English and its clients rely on it. So
they stay as they are, and the pages translate them at this boundary: ``translate(message)``
looks the English up in the desk catalogue (the English is the msgid), and a message that
carries values (a length, a worker's id, a list of codes) is matched against its template,
``"Length must be between %(min)s and %(max)s."``, and the Chinese template is filled with the
values found. A message we do not know, or one without its Chinese yet, stays English: never
an error, never an empty string.

The msgids are the two tables below, marked with ``N_`` (one of ``pybabel extract``'s default
keywords), so ``make translations`` collects them and ``tests/admin/test_translations.py``
fails on one without its Chinese. ``tests/admin/test_form_messages.py`` fails when marshmallow
or one of our schemas and services says something these tables do not know.
"""
from __future__ import annotations

import re
from functools import lru_cache

from flask_babel import gettext


def N_(message: str) -> str:
    """A msgid for the extractor, left untranslated here (it is translated when shown)."""
    return message


# Whole messages: marshmallow's (fields and validators, as marshmallow 4 words them), then ours,
# from the schemas, services and helpers behind the desk forms. Fragments that the templates
# below capture (``after the check-out``) are translated too.
MESSAGES = frozenset((
    N_("Missing data for required field."), N_("Field may not be null."), N_("Invalid value."),
    N_("Not a valid string."), N_("Not a valid utf-8 string."), N_("Not a valid integer."),
    N_("Not a valid number."), N_("Number too large."),
    N_("Special numeric values (nan or infinity) are not permitted."), N_("Not a valid boolean."),
    N_("Not a valid date."), N_("Not a valid datetime."), N_("Not a valid aware datetime."),
    N_("Not a valid naive datetime."), N_("Not a valid time."), N_("Not a valid period of time."),
    N_("Not a valid list."), N_("Not a valid tuple."), N_("Not a valid mapping type."), N_("Invalid type."),
    N_("Invalid input type."), N_("Unknown field."), N_("Not a valid email address."), N_("Not a valid URL."),
    N_("Not a valid UUID."), N_("String does not match expected pattern."), N_("Invalid input."),
    # doorstep.errors: a refusal without its own words says its title
    N_("Bad request"), N_("Not found"), N_("Forbidden"), N_("Unauthorized"), N_("Conflict"),
    N_("Illegal status change"), N_("Validation failed"),
    N_("Someone changed this record at the same time; reload and try again."),
    N_("This change crossed another one saved at the same moment; nothing was saved. Send it again."),
    # schemas
    N_("A skill code: lower-case letters, digits and underscores, at most 40."),
    N_("2 to 40 characters: lower-case letters, digits, underscores."),
    N_("Must not contain control characters (newlines and tabs are fine)."),
    N_("Required together with the other."), N_("The request body is not valid JSON."), N_("Not valid JSON."),
    N_('If-Match must be an ETag this API sent, such as "3".'),
    # workers
    N_("Only admins and dispatchers manage workers."), N_("A skill code of 1 to 40 characters."),
    N_("A time with its UTC offset, e.g. 2026-11-23T08:00:00+08:00."),
    N_("At least one district: a worker outside every district is never planned."),
    N_("Between 1 and 100 characters."), N_("Degrees between -90 and 90."), N_("Degrees between -180 and 180."),
    N_("Must be after the shift's start."),
    N_("Only nurses have a title, registration number and practice start."),
    N_("The practising certificate number (护士执业证书编号), 1 to 40 characters."),
    # plans, the board's steering, re-plans, alarms, visit verification
    N_("The date is not a local date."), N_("A date like 2026-11-23."),
    N_("A stop was reported while changing the route; reload and try again."),
    N_("The changed routes would break a rule."),
    N_("The district is being re-planned right now; try again in a moment."),
    N_("The route left behind could not be timed; re-plan the district instead."),
    N_("This parcel is in its courier's bag already: it stays with them."),
    N_("No feasible place on this worker's route."), N_("No such active worker."),
    N_("Not on shift in this order's district."), N_("The routes would not be feasible."),
    N_("Choose pin, move or unassign."), N_("One of pin, move, unassign."), N_("Not a number."),
    N_("Out of range."), N_("This alarm was acknowledged already."),
    N_("A corrected time cannot be in the future."), N_("A correction needs a reason."),
    N_("A decision needs a reason."), N_("Only a visit's check-in and check-out are corrected."),
    N_("In the future."), N_("Only at a visit stop."), N_("Required."), N_("after the check-out"),
    N_("before the check-in"),
    # accounts and the desk's own services
    N_("Only admins manage accounts."), N_("The account cannot be tied to what its role needs."),
    N_("This account is not active."), N_("Wrong username or password."),
    N_("You cannot deactivate your own account."), N_("A date in the past."),
    N_("A pharmacist account needs the id of an existing pharmacy."), N_("No such patient."),
    N_("Your own account."), N_("The date must look like YYYY-MM-DD."), N_("Not a date (YYYY-MM-DD)."),
    N_("These pages are for dispatchers, pharmacists and administrators."),
    N_("On the pharmacy desk dispatchers read; they act on failed deliveries from the board."),
    # catalogue and eligibility
    N_("A price cannot take effect in the past."), N_("A price date needs a price."),
    N_("Only admins manage the catalogue."), N_("Only admins see withdrawn items."),
    N_("The eligibility rule is not valid."), N_("Already in the catalogue."),
    N_("Must be now or later: booked orders keep their price."), N_("Required with price_effective_from."),
    N_("An ICD-10 code such as I50 or E11.9."),
    # delivery orders, windows, the pharmacy desk
    N_("A rejection needs a reason."), N_("A return needs a reason."), N_("Not a phone number."),
    N_("Say what to search for."), N_("The new window is over already."),
    N_("The prescription reference is blank."), N_("This pharmacist account has no pharmacy."),
    N_("Two-person review: a pharmacist other than the one who created this order reviews it."),
    N_("Digits, with an optional +86."), N_("Give q, tracking_code, prescription_ref or phone."),
    N_("Is over already."), N_("Must be at least 1."), N_("Must not be blank."),
    N_("No such address of this patient."), N_("Only for a cold-chain parcel (cold_chain: true)."),
    N_("Required when approved is false."), N_("Required when accepted is false."),
    N_("Controlled drugs (narcotic, psychotropic) cannot be sent by delivery."),
    N_("The delivery order cannot be created."), N_("A window lasts at most 12 hours."),
    N_("Must be after the start."), N_("Must be on the same local day as the start."),
    N_("Must include a UTC offset."),
))

# Messages that carry values: ``%(name)s`` stands for any text, the same name twice for the
# same text. The Chinese may put the values in another order.
TEMPLATES = (
    # marshmallow's validators (Length, Range with its four operators, OneOf, Equal, Contains*)
    N_("Shorter than minimum length %(min)s."), N_("Longer than maximum length %(max)s."),
    N_("Length must be between %(min)s and %(max)s."), N_("Length must be %(equal)s."),
    N_("Must be greater than or equal to %(min)s and less than or equal to %(max)s."),
    N_("Must be greater than or equal to %(min)s and less than %(max)s."),
    N_("Must be greater than %(min)s and less than or equal to %(max)s."),
    N_("Must be greater than %(min)s and less than %(max)s."),
    N_("Must be greater than or equal to %(min)s."), N_("Must be greater than %(min)s."),
    N_("Must be less than or equal to %(max)s."), N_("Must be less than %(max)s."),
    N_("Must be one of: %(choices)s."), N_("Must be equal to %(other)s."),
    N_("One or more of the choices you made was in: %(values)s."),
    N_("One or more of the choices you made was not in: %(choices)s."),
    N_('"%(input)s" cannot be formatted as a date.'), N_('"%(input)s" cannot be formatted as a datetime.'),
    N_('"%(input)s" cannot be formatted as a time.'), N_("%(input)s cannot be formatted as a timedelta."),
    # ours
    N_("One of: %(choices)s."), N_("Unknown district %(code)s; one of: %(choices)s."),
    N_("Unknown districts: %(codes)s"), N_("Some fields of the worker are not valid: %(fields)s"),
    N_("No worker %(id)s."), N_("Registration number %(number)s belongs to worker %(worker)s."),
    N_("Already on worker %(worker)s."), N_("Worker %(worker)s has a %(roles)s account; it cannot become a %(kind)s."),
    N_("Worker %(worker)s is at version %(version)s, not %(expected)s; reload it and apply your change again."),
    N_("%(skill)s follows from title and practice_began; it is not set by hand."),
    N_("A date from %(year)s to today."), N_("A time between %(first)s and %(last)s."),
    N_("A whole number from 0 to %(max)s."), N_("Overlaps shift %(shift)s."),
    N_("No plan %(plan)s."), N_("No order %(order)s in plan %(plan)s."),
    N_("Plan %(plan)s is %(status)s: steer a finished plan."),
    N_("Plan %(plan)s is no longer the current plan of %(district)s on %(date)s; reload the board."),
    N_("No active worker %(worker)s."), N_("Order %(order)s is not waiting to be served on %(date)s: nothing to change."),
    N_("Order %(order)s is on no route of plan %(plan)s."), N_("Order %(order)s is on that worker's route already."),
    N_("%(worker)s cannot take order %(order)s (skills, district, shift, windows or capacity)."),
    N_("%(worker)s is not working in this district for the rest of the day (district, shift or day off)."),
    N_("%(name)s must be a number."), N_("%(name)s is out of range."),
    N_("No finished plan of %(date)s covers %(district)s: request a plan first."), N_("No alarm %(alarm)s."),
    N_("No exception %(exception)s."), N_("This exception was %(status)s already."),
    N_("There is no '%(event)s' report at this stop to correct."),
    N_("The corrected time would fall %(side)s."), N_("Falls %(side)s."),
    N_("No user %(user)s."), N_("Unknown role %(role)s."), N_("Unknown locale %(locale)s."),
    N_("The username %(username)s is taken."), N_("A %(role)s account needs the id of an existing %(kind)s worker."),
    N_("No catalogue item %(code)s."), N_("The code %(code)s is taken."), N_("You cannot book %(code)s: %(reason)s"),
    N_("A whole number of days from 0 to %(max)s."), N_("A list of 1 to %(max)s ICD-10 codes."),
    N_("Not used by the rule %(rule)s."), N_("No delivery order %(order)s."),
    N_("Only a failed delivery is re-delivered; this one is '%(status)s'."),
    N_("Prescription %(prescription)s is already on order %(order)s; a prescription backs one delivery "
       "(cancel that order first to send it again)."),
    N_("Already used by order %(order)s."), N_("Between 1 and %(max)s items."),
    N_("%(control)s drugs cannot be sent by delivery under dispensing rules; the patient collects them "
       "at the pharmacy."),
)

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def translate(message: object) -> str:
    """``message`` in the page's language when the catalogue has it, else as it came (English)."""
    text = str(message)
    if text in MESSAGES:
        return gettext(text) or text
    for template, pattern in _patterns():
        found = pattern.fullmatch(text)
        if found is None:
            continue
        values = {name: gettext(value) if value in MESSAGES else value
                  for name, value in found.groupdict().items()}
        try:
            return (gettext(template) % values) or text
        except (KeyError, ValueError, TypeError):  # a translation that lost a placeholder
            return text
    return text


def knows(message: object) -> bool:
    """Is ``message`` one of the tables' (whether or not its Chinese is there yet)?"""
    text = str(message)
    return text in MESSAGES or any(pattern.fullmatch(text) for _template, pattern in _patterns())


def translate_all(messages: object) -> str:
    """A field's message or list of messages, each translated, in one line."""
    if isinstance(messages, (list, tuple)):
        return "; ".join(translate(message) for message in messages)
    return translate(messages)


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((template, _pattern(template)) for template in TEMPLATES)


def _pattern(template: str) -> re.Pattern[str]:
    """``"No order %(order)s in plan %(plan)s."`` → ``No\\ order\\ (?P<order>.+?)\\ in\\ plan\\ (?P<plan>.+?)\\.``"""
    parts: list[str] = []
    seen: set[str] = set()
    position = 0
    for placeholder in _PLACEHOLDER.finditer(template):
        name = placeholder.group(1)
        parts.append(re.escape(template[position:placeholder.start()]))
        parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
        seen.add(name)
        position = placeholder.end()
    parts.append(re.escape(template[position:]))
    return re.compile("".join(parts), re.DOTALL)

