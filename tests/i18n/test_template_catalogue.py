"""Templates look their strings up in the request's language, and in force_locale's inside it."""

from __future__ import annotations

from flask import render_template_string
from flask_babel import force_locale

TEMPLATE = (
    "{{ _('Log in') }}|"
    "{{ ngettext('%(num)d programme has no coordinator', "
    "'%(num)d programmes have no coordinator', 1) }}"
)


def test_each_request_speaks_its_own_language_and_force_locale_wins_inside_it(app):
    from flask_babel import gettext, ngettext

    def expected() -> str:
        one = ngettext(
            "%(num)d programme has no coordinator", "%(num)d programmes have no coordinator", 1
        )
        return f"{gettext('Log in')}|{one}"

    seen = {}
    for lang in ("ru", "en", "kk", "ru"):
        with app.test_request_context(f"/?lang={lang}"):
            seen[lang] = render_template_string(TEMPLATE)
            assert seen[lang] == expected()
            with force_locale("ky"):
                assert render_template_string(TEMPLATE).startswith("Кирүү|")
            # Back to the request's language once the block ends.
            assert render_template_string(TEMPLATE) == seen[lang]
    assert seen["ru"].startswith("Войти|")
    assert seen["kk"].startswith("Кіру|")
    assert seen["en"].startswith("Log in|1 programme")


def test_templates_render_outside_a_request(app):
    with app.app_context():
        assert render_template_string("{{ _('Log in') }}") == "Log in"
        with force_locale("ru"):
            assert render_template_string("{{ _('Log in') }}") == "Войти"
