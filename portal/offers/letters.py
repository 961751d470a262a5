"""What an offer letter says: its words per language, the facts it prints, and its HTML."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency
from flask import g, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.applications.models import Application
from portal.extensions import db
from portal.i18n import SCRIPT_TAGS, zone_label
from portal.identity import snapshot_name_alphabet
from portal.offers.models import LetterTemplate
from portal.offers.pdf import STATIC_ROOT, qr_png
from portal.programs.mail_templates import fill
from portal.programs.models import Program
from portal.reference import language_name

LETTER_LANGUAGES = ("en", "ru", "kk", "ky")

PLACEHOLDERS = {
    "student_name": _l("the student's name as in the passport"),
    "native_name": _l("the student's name in their alphabet"),
    "programme": _l("the programme's title in the letter's language"),
    "host": _l("the host university"),
    "place": _l("the place"),
    "start_date": _l("the first day"),
    "end_date": _l("the last day"),
    "deadline": _l("the date and time to answer by"),
    "reference": _l("the letter's reference number"),
}


def default_body() -> str:
    """Return our wording of the letter, in the current locale."""
    return _(
        "Dear {student_name},\n"
        "We are pleased to offer you a place in the programme “{programme}”, held by {host} "
        "in {place} from {start_date} to {end_date}.\n"
        "Please accept or decline this offer in the Kopir portal by {deadline}. If we have no "
        "answer by then, the offer lapses and the place goes to another applicant."
    )


def default_conditions() -> str:
    """Return our wording of the offer's conditions, in the current locale."""
    return _(
        "This offer is conditional on a passport valid for the whole stay and, where one is "
        "needed, a visa; on your enrolment at your home university for the duration of the "
        "programme; and on health insurance valid in the host country."
    )


def default_signatory_title() -> str:
    """Return the signatory's title used when the programme has not named one."""
    return _("International Office")


@cache
def letter_labels(locale: str) -> dict[str, str]:
    """Return the fixed words of a letter in one language (cached: they never change)."""
    with force_locale(locale):
        return {
            "title": _("Offer of a place"),
            "reference": _("Reference"),
            "issued": _("Date of issue"),
            "programme": _("Programme"),
            "dates": _("Dates"),
            "place": _("Place"),
            "language": _("Language of instruction"),
            "fees": _("Fees"),
            "funding": _("Funding"),
            "deadline": _("Answer by"),
            "conditions": _("Conditions"),
            "verify": _("Check that this letter is genuine and still valid:"),
            "preview": _("Preview"),
            "no_fee": _("No fee"),
        }


@dataclass(frozen=True)
class LetterText:
    """The programme's words for one language, or ours where it has none."""

    body: str
    conditions: str
    signatory_name: str
    signatory_title: str


def _templates(program_id: int) -> dict[str, LetterTemplate]:
    """Return a programme's wording per language, read once per request or job."""
    cache = g.setdefault("letter_templates", {})
    if program_id not in cache:
        cache[program_id] = {
            t.locale: t
            for t in db.session.scalars(
                db.select(LetterTemplate).where(LetterTemplate.program_id == program_id)
            )
        }
    return cache[program_id]


def forget_templates() -> None:
    """Drop the wording read so far (after it was changed in this request)."""
    g.pop("letter_templates", None)


def letter_text(program: Program, locale: str) -> LetterText:
    """Return the programme's letter wording in a language, filling gaps from English and ours."""
    templates = _templates(program.id)
    own = templates.get(locale)
    english = templates.get("en")
    with force_locale(locale):
        body = (own.body if own and own.body.strip() else "") or default_body()
        conditions = (own.conditions if own and own.conditions.strip() else "") or (
            default_conditions()
        )
        title = (own.signatory_title if own else "") or default_signatory_title()
    name = (own.signatory_name if own else "") or (english.signatory_name if english else "")
    return LetterText(body, conditions, name, title)


def _paragraphs(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _deadline_text(deadline: datetime, program: Program, locale: str) -> str:
    # A city and the UTC offset, not CLDR's zone names: its Russian ones add "summer time" to
    # zones that have none, and an offset is what a reader in another country can convert.
    local = deadline.astimezone(program.zone)
    zone = zone_label(program.timezone, deadline, locale, inline=True)
    return f"{format_date(local.date(), 'long', locale=locale)}, {local:%H:%M} ({zone})"


def _fees(program: Program, locale: str) -> str:
    if not program.fee_amount:
        return letter_labels(locale)["no_fee"]
    return format_currency(program.fee_amount, program.fee_currency, locale=locale)


@dataclass(frozen=True)
class Addressee:
    """The student as the letter names them: from the profile frozen at submission."""

    latin: str
    native: str
    native_lang: str | None
    home: str


def addressee(application: Application, locale: str) -> Addressee | None:
    """Return the student as submitted (staff judged that profile), or None without one.

    A profile edited after acceptance never reaches a letter: a letter certifies what was
    assessed.
    """
    snapshot = application.profile_snapshot
    if not snapshot:
        return None

    def joined(*keys: str) -> str:
        return " ".join(str(snapshot[k]) for k in keys if snapshot.get(k))

    home = snapshot.get("home_institution_other") or snapshot.get("home_institution_name") or ""
    home_id = snapshot.get("home_institution_id")
    if home_id:
        from portal.institutions.models import Institution

        institution = db.session.get(Institution, home_id)
        if institution is not None:
            home = institution.name(locale)
    native = joined("native_given_names", "native_family_name")
    alphabet = snapshot_name_alphabet(snapshot)
    return Addressee(
        latin=joined("latin_given_names", "latin_family_name"),
        native=native,
        native_lang=SCRIPT_TAGS[alphabet],
        home=home,
    )


@dataclass
class LetterFacts:
    """Everything about one letter that does not depend on its wording's language."""

    reference: str
    version: int
    code: str
    verify_url: str
    issued_on: date
    deadline: datetime
    language: str
    bilingual: bool


def column(
    application: Application,
    facts: LetterFacts,
    locale: str,
    text: LetterText,
    student: Addressee,
) -> dict[str, Any]:
    """Return the letter's words and facts in one language (one column of the letter)."""
    program = application.program
    host = program.host
    dates = (
        f"{format_date(program.starts_on, 'long', locale=locale)} – "
        f"{format_date(program.ends_on, 'long', locale=locale)}"
    )
    deadline = _deadline_text(facts.deadline, program, locale)
    values = {
        "student_name": student.latin,
        "native_name": student.native or student.latin,
        "programme": program.title(locale),
        "host": host.name(locale),
        "place": program.place_name(locale),
        "start_date": format_date(program.starts_on, "long", locale=locale),
        "end_date": format_date(program.ends_on, "long", locale=locale),
        "deadline": deadline,
        "reference": facts.reference,
    }
    try:
        language = language_name(program.language, locale)
    except KeyError:
        language = program.language
    return {
        "lang": locale,
        "labels": letter_labels(locale),
        "host": host.name(locale),
        "host_address": ", ".join(
            p for p in (host.city_name(locale), _country(host.country, locale)) if p
        ),
        "issued_on": format_date(facts.issued_on, "long", locale=locale),
        "programme": program.title(locale),
        "dates": dates,
        "place": program.place_name(locale),
        "language": language,
        "fees": _fees(program, locale),
        "funding": program.funding_text(locale),
        "deadline": deadline,
        "body": _paragraphs(fill(text.body, values)),
        "conditions": _paragraphs(fill(text.conditions, values)),
        "signatory_name": text.signatory_name,
        "signatory_title": text.signatory_title,
    }


def _country(code: str, locale: str) -> str:
    from portal.reference import country_name

    try:
        return country_name(code, locale)
    except KeyError:
        return code


def logo_path(schac: str) -> str | None:
    """Return the static path of an institution's logo, if the operator put one there."""
    for suffix in (".svg", ".png", ".jpg"):
        relative = f"img/institutions/{schac}{suffix}"
        if (STATIC_ROOT / relative).is_file():
            return relative
    return None


def monogram(name: str) -> dict[str, str]:
    """Return the initials and colour of a plain mark, for hosts without a logo file."""
    words = [w for w in name.replace("-", " ").split() if w[:1].isalpha() and w[:1].isupper()]
    initials = "".join(w[0] for w in words[:3]) or name[:1]
    hue = int(hashlib.sha256(name.encode()).hexdigest()[:2], 16) * 360 // 256
    return {"initials": initials, "colour": f"hsl({hue}, 55%, 28%)"}


def letter_html(
    application: Application, facts: LetterFacts, *, preview: bool = False
) -> tuple[str, dict[str, Any]]:
    """Return the letter's HTML and the facts it prints (kept for the verification page)."""
    program = application.program
    student = addressee(application, facts.language)
    if student is None:
        raise ValueError("the application has no submitted profile")
    languages = [facts.language] + (["en"] if facts.bilingual and facts.language != "en" else [])
    columns = [
        column(application, facts, lang, letter_text(program, lang), student)
        for lang in languages
    ]
    host = program.host
    html = render_template(
        "letters/offer.html",
        columns=columns,
        bilingual=len(columns) > 1,
        reference=facts.reference,
        student_latin=student.latin,
        student_native=student.native,
        native_lang=student.native_lang or facts.language,
        student_home=student.home,
        logo_path=logo_path(host.schac),
        monogram=monogram(host.name("en")),
        website=host.website,
        qr=qr_png(facts.verify_url),
        verify_url=facts.verify_url,
        preview=preview,
    )
    main = columns[0]
    printed = {
        "reference": facts.reference,
        "version": facts.version,
        "language": facts.language,
        "bilingual": len(columns) > 1,
        "issued_on": facts.issued_on.isoformat(),
        "student_latin": student.latin,
        "student_native": student.native,
        "native_lang": student.native_lang,
        "programme": main["programme"],
        "programme_en": program.title("en"),
        "host": main["host"],
        "dates": main["dates"],
        "place": main["place"],
        "deadline": main["deadline"],
        "signatory_name": main["signatory_name"],
        "signatory_title": main["signatory_title"],
    }
    return html, printed
