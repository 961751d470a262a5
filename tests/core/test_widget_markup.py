"""The widgets' attributes are written exactly as WTForms writes them, only faster."""

from __future__ import annotations

import pytest
from markupsafe import Markup
from wtforms import widgets
from wtforms.widgets import core as widgets_core

from portal.forms import WTFORMS_HTML_PARAMS, html_params


class Html:
    """A value that brings its own markup, quotes included."""

    def __html__(self) -> str:
        return 'say "hi" <b>'


@pytest.mark.parametrize(
    "attributes",
    [
        {},
        {"name": "email", "id": "email", "type": "email", "value": "a@b.kz"},
        {
            "class_": "form-control is-invalid",
            "for_": "x",
            "data_role_name": "a_b",
            "aria_describedby": "h",
        },
        {"checked": True, "readonly": False, "required": True, "value": "yes"},
        {"value": '"><script>alert(1)</script>', "placeholder": "O'Brien & Sons"},
        {"value": Markup('<i>kept</i> "quoted"'), "title": Html()},
        {"value": 0, "min": 1.5, "max": None, "step": "any"},
        {"value": "Әлихан Бөкейханов", "lang": "kk"},
        {"key with space": "x", "odd<key": "y"},
    ],
)
def test_attributes_match_wtforms_own(attributes):
    ours = html_params(**attributes)
    assert isinstance(ours, Markup)
    assert ours == WTFORMS_HTML_PARAMS(**attributes)


def test_every_widget_uses_it():
    assert widgets_core.html_params is html_params
    assert widgets.html_params is html_params
    assert widgets_core.Input.html_params is html_params
    assert widgets_core.Button.html_params is html_params
