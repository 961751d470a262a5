"""A student registers, fills the profile, applies with two documents and submits, in a browser.

Runs in all four languages on a phone-sized and a desktop-sized screen; every page is
screenshotted to test-artifacts/screenshots/ and checked for console errors, failed requests,
horizontal scrolling on the phone and serious or critical axe-core accessibility violations.
"""

from __future__ import annotations

import functools
import re
from datetime import date
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
import sqlalchemy as sa
from axe_playwright_python.sync_playwright import Axe

from portal.applications.models import Application
from portal.extensions import db
from tests import factories
from tests.browser.conftest import ROOT, translator
from tests.documents.corpus import make_jpeg, make_pdf
from tests.profiles.test_profile import iin_for

pytestmark = pytest.mark.browser

# Reduced motion, as many people set it: Bootstrap then opens the phone menu at once, so a
# click never lands on a link that is still sliding open (a lost click failed a CI run).
DEVICES = {
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
        "reduced_motion": "reduce",
    },
    "desktop": {"viewport": {"width": 1280, "height": 900}, "reduced_motion": "reduce"},
}
AXE = Axe()
# What a violation must weigh to fail a test: "serious" and "critical" block people (no name on a
# button, unreadable contrast); "minor" and "moderate" are advice we read but do not enforce.
AXE_FAILS = ("serious", "critical")
MOTIVATION = (
    "Мен Алтай мұздықтарын зерттеймін және оларды Тянь-Шань мұздықтарымен салыстырғым келеді. "
) * 4


class Page:
    """One browser tab that records problems and screenshots each step."""

    def __init__(self, context, base: str, folder: Path, prefix: str, phone: bool) -> None:
        self.page = context.new_page()
        self.base = base
        self.folder = folder
        self.prefix = prefix
        self.phone = phone
        self.problems: list[str] = []
        self.step = 0
        self.page.on(
            "console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}")
        )
        # A load cut short by the next navigation (ERR_ABORTED) is the browser's choice, not ours.
        self.page.on(
            "requestfailed",
            lambda r: (
                "ERR_ABORTED" not in (r.failure or "")
                and self.problems.append(f"request failed: {r.url} {r.failure}")
            ),
        )
        self.page.on(
            "response", lambda r: r.status >= 400 and self.problems.append(f"{r.status}: {r.url}")
        )

    def goto(self, path: str) -> None:
        self.page.goto(self.base + path)

    def shot(self, name: str) -> None:
        # Images and frames still loading would move the page under the next click.
        self.page.wait_for_load_state("load")
        self.step += 1
        self.page.screenshot(
            path=str(self.folder / f"{self.prefix}-{self.step:02d}-{name}.png"), full_page=True
        )
        if self.phone:
            overflow = self.page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            if overflow > 0:
                self.problems.append(f"horizontal scroll of {overflow}px on {name}")
        self.problems.extend(accessibility_problems(self.page, f"{self.prefix}-{name}"))
        self.problems.extend(untranslated_text(self.page, f"{self.prefix}-{name}"))


# Every piece of text a person reads on a page, with the language it is marked as written in.
_VISIBLE_TEXT = """() => {
  const out = [];
  const langOf = (el) => (el.closest('[lang]') || document.documentElement).lang;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!el || el.closest('script, style, template, noscript')) continue;
    const text = node.textContent.trim();
    if (text) out.push([text, langOf(el)]);
  }
  for (const el of document.querySelectorAll('[aria-label], [placeholder], [title], [alt]')) {
    for (const name of ['aria-label', 'placeholder', 'title', 'alt']) {
      const value = (el.getAttribute(name) || '').trim();
      if (value) out.push([value, langOf(el)]);
    }
  }
  out.push([document.title.trim(), document.documentElement.lang]);
  return [document.documentElement.lang, out];
}"""


@functools.cache
def _english_patterns(lang: str) -> tuple[frozenset[str], re.Pattern | None]:
    """Return the English messages that read differently in the language, whole and as a regex."""
    from babel.messages.pofile import read_po

    path = ROOT / "portal" / "translations" / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    plain, formatted = set(), []
    for message in catalog:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for english in ids:
            # A message the language writes the same way (CSV, EQF, e-mail) proves nothing.
            if not english or english in strings or not re.search(r"[A-Za-z]{3}", english):
                continue
            if "%(" in english or "%d" in english or "%s" in english:
                parts = re.split(r"%\(\w+\)[sd]|%[sd]", english)
                formatted.append(".+?".join(re.escape(part) for part in parts))
            else:
                plain.add(english)
    pattern = re.compile("|".join(f"(?:{p})" for p in formatted)) if formatted else None
    return frozenset(plain), pattern


def untranslated_text(page, name: str) -> list[str]:
    """Find English interface text left on a page served in another language."""
    lang, texts = page.evaluate(_VISIBLE_TEXT)
    if lang not in ("ru", "kk", "ky"):
        return []
    plain, pattern = _english_patterns(lang)
    found = []
    for text, marked in texts:
        if marked != lang:
            continue  # e.g. the language switcher names each language in itself
        if text in plain or (pattern is not None and pattern.fullmatch(text)):
            found.append(f"untranslated on {name} ({lang}): {text!r}")
    return found


def accessibility_problems(page, name: str) -> list[str]:
    """Run axe-core on the page and describe each serious or critical violation in one line."""
    # The portal's CSP (script-src 'self') does not stop this: AXE.run injects axe with
    # page.evaluate, which goes through the DevTools protocol that CSP does not govern; so no
    # context needs bypass_csp and every page is checked exactly as it is served.
    results = AXE.run(page)
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] not in AXE_FAILS:
            continue
        targets = "; ".join(
            " ".join(str(part) for part in node["target"]) for node in violation["nodes"][:5]
        )
        more = len(violation["nodes"]) - 5
        first = violation["nodes"][0]
        detail = " ".join(c["message"] for c in first["any"] + first["all"] + first["none"])
        found.append(
            f"axe {violation['impact']} {violation['id']} on {name}: {violation['help']} "
            f"[{targets}{f' and {more} more' if more > 0 else ''}] ({detail})"
        )
    return found


@pytest.fixture
def programme(app):
    with app.app_context():
        host = factories.institution(
            schac="vku.edu.kz",
            names={
                "en": "Sarsen Amanzholov East Kazakhstan University",
                "ru": "Восточно-Казахстанский университет им. С. Аманжолова",
                "kk": "С. Аманжолов атындағы Шығыс Қазақстан университеті",
                "ky": "С. Аманжолов атындагы Чыгыш Казакстан университети",
            },
        )
        program = factories.program(
            host,
            slug="altai",
            titles={
                "en": "Altai Summer School",
                "ru": "Алтайская школа",
                "kk": "Алтай жазғы мектебі",
                "ky": "Алтай жайкы мектеби",
            },
            required_language="en",
            required_cefr="B1",
        )
        return program.slug


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("lang", ["kk", "ru", "ky", "en"])
def test_student_applies_in_a_browser(
    app, live_server, chromium, screenshots, programme, tmp_path, lang, device
):
    _ = translator(lang)
    context = chromium.new_context(
        locale={"kk": "kk-KZ", "ru": "ru-RU", "ky": "ky-KG", "en": "en-GB"}[lang],
        timezone_id="Asia/Bishkek",
        **DEVICES[device],
    )
    tab = Page(context, live_server, screenshots, f"{lang}-{device}", device == "phone")
    page = tab.page
    email = f"student-{lang}-{device}@example.kz"
    password = "Altai-summer-2026"

    tab.goto(f"/?lang={lang}")
    tab.shot("home")
    tab.goto("/programs")
    tab.shot("catalogue")
    page.get_by_role("link", name=re.compile("Алтай|Altai")).first.click()
    tab.shot("programme")

    register_and_log_in(tab, app, _, email, password)
    fill_profile(tab, _, native=("Әлихан", "Бөкейханов"), latin=("ALIKHAN", "BOKEIKHANOV"))
    apply_with_documents(tab, _, "altai", tmp_path)
    tab.goto("/applications/")
    tab.shot("dashboard")
    context.close()

    with app.app_context():
        application = db.session.scalar(
            sa.select(Application)
            .join(Application.student)
            .where(sa.text("users.email = :e"))
            .params(e=email)
        )
        assert application is not None and application.state == "submitted"
        assert len(application.current_documents()) == 2
    assert tab.problems == []


def register_and_log_in(tab: Page, app, _, email: str, password: str) -> None:
    """Register through the form, open the link mailed to the outbox and log in."""
    page = tab.page
    tab.goto("/account/register")
    page.get_by_label(_("E-mail")).fill(email)
    page.get_by_label(_("Password"), exact=True).fill(password)
    page.get_by_label(_("Repeat the password")).fill(password)
    tab.shot("register")
    page.get_by_role("button", name=_("Register")).last.click()
    tab.shot("check-mail")

    outbox = Path(app.config["OUTBOX_DIR"])
    mails = [message_from_bytes(p.read_bytes(), policy=default) for p in outbox.glob("*.eml")]
    [mail] = [m for m in mails if m["To"] == email]
    body = mail.get_body(("plain",)).get_content()
    verify = re.search(r"https?://[^/\s]+(/account/verify/\S+)", body).group(1)
    tab.goto(verify)
    tab.shot("verified")
    page.get_by_label(_("E-mail")).fill(email)
    page.get_by_label(_("Password"), exact=True).fill(password)
    page.get_by_role("button", name=_("Log in")).last.click()


def fill_profile(
    tab: Page, _, *, native: tuple[str, str], latin: tuple[str, str], home: str | None = None
) -> None:
    """Fill and save the whole profile of a Kazakh student; home is the university's name."""
    page = tab.page
    tab.goto("/profile/")
    page.get_by_label(_("Given names in your alphabet")).fill(native[0])
    page.get_by_label(_("Family name in your alphabet")).fill(native[1])
    page.get_by_label(_("Given names as in your passport (Latin)")).fill(latin[0])
    page.get_by_label(_("Family name as in your passport (Latin)")).fill(latin[1])
    page.get_by_label(_("Date of birth")).fill("2003-05-17")
    page.get_by_label(_("Gender")).select_option("1")
    page.get_by_label(_("Citizenship")).select_option("KZ")
    page.get_by_label(_("National identification number")).fill(iin_for(date(2003, 5, 17), True))
    page.get_by_label(_("Passport number")).fill("N12345678")
    page.get_by_label(_("Mobile phone")).fill("8 701 123 45 67")
    if home is None:
        page.get_by_label(_("Home university")).select_option(index=1)
    else:
        page.get_by_label(_("Home university")).select_option(label=home)
    page.get_by_label(_("Faculty or school")).fill("Жаратылыстану факультеті")
    page.get_by_label(_("Study level")).select_option("6")
    page.get_by_label(_("Field of study (ISCED-F 2013)")).select_option("052")
    page.get_by_label(_("Year of study")).fill("3")
    page.get_by_label(_("Grade point average")).fill("3.40")
    page.get_by_label(_("Grading scale")).select_option("kz4")
    page.locator("#languages-0-language").select_option("en")
    page.locator("#languages-0-level").select_option("B2")
    page.locator("#languages-1-language").select_option("kk")
    page.locator("#languages-1-level").select_option("native")
    tab.shot("profile-filled")
    page.get_by_role("button", name=_("Save my profile")).click()
    tab.shot("profile-saved")
    assert page.locator(".alert-success").count() == 1, page.content()[:2000]


def apply_with_documents(tab: Page, _, slug: str, tmp_path: Path) -> None:
    """Start an application, write the motivation, upload a passport and a transcript, submit."""
    page = tab.page
    tab.goto(f"/programs/{slug}")
    tab.shot("programme-page")
    page.get_by_role("button", name=_("Start an application")).click()
    tab.shot("step-profile")
    page.get_by_role("link", name=_("Continue")).click()
    page.get_by_label(_("Your motivation")).fill(MOTIVATION)
    tab.shot("step-motivation")
    page.get_by_role("button", name=_("Save and continue")).click()
    passport = tmp_path / "паспорт.jpg"
    passport.write_bytes(make_jpeg())
    transcript = tmp_path / "transcript.pdf"
    transcript.write_bytes(make_pdf())
    for kind, path in (("passport", passport), ("transcript", transcript)):
        page.get_by_label(_("Document"), exact=True).select_option(kind)
        page.get_by_label(_("File (PDF, JPEG or PNG)")).set_input_files(str(path))
        with page.expect_navigation():
            page.get_by_role("button", name=_("Upload")).click()
        assert page.locator(".alert-success").count() == 1
    tab.shot("step-documents")
    page.get_by_role("link", name=_("Continue")).click()
    tab.shot("step-review")
    page.get_by_role("button", name=_("Submit the application")).click()
    tab.shot("submitted")
