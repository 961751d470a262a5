"""Nominations as EWP Outgoing Mobilities v2 XML, streamed, valid against the official schemas.

The schemas are kept beside this module (`schemas/`, copied from the official bundle with
local schemaLocations) so that validation needs nothing at run time but the package.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache
from io import BytesIO
from pathlib import Path

from lxml import etree

from portal.nominations.models import Nomination

SCHEMAS = Path(__file__).resolve().parent / "schemas"
GET_NS = (
    "https://github.com/erasmus-without-paper/ewp-specs-api-omobilities/blob/stable-v2/"
    "endpoints/get-response.xsd"
)
INDEX_NS = (
    "https://github.com/erasmus-without-paper/ewp-specs-api-omobilities/blob/stable-v2/"
    "endpoints/index-response.xsd"
)
XML_NS = "http://www.w3.org/XML/1998/namespace"
COMMON_NS = (
    "https://github.com/erasmus-without-paper/ewp-specs-architecture/blob/stable-v1/"
    "common-types.xsd"
)


@cache
def schema(kind: str) -> etree.XMLSchema:
    """Return the official schema of a "get" or an "index" response."""
    name = {
        "get": "get-response.xsd",
        "index": "index-response.xsd",
        "error": "common-types.xsd",
    }[kind]
    return etree.XMLSchema(etree.parse(str(SCHEMAS / name)))


def validate(document: bytes, kind: str = "get") -> None:
    """Raise lxml's DocumentInvalid when the document does not follow the schema."""
    schema(kind).assertValid(etree.fromstring(document))


def _sub(parent: etree._Element, name: str, text: object | None = None, **attrs: str):
    element = etree.SubElement(parent, f"{{{GET_NS}}}{name}", attrs)
    if text is not None:
        element.text = str(text)
    return element


def mobility_element(nomination: Nomination) -> etree._Element:
    """Return one <student-mobility> element."""
    mobility = etree.Element(f"{{{GET_NS}}}student-mobility", nsmap={None: GET_NS})
    _sub(mobility, "omobility-id", nomination.omobility_id)
    sending = _sub(mobility, "sending-hei")
    _sub(sending, "hei-id", nomination.sending_hei.schac)
    receiving = _sub(mobility, "receiving-hei")
    _sub(receiving, "hei-id", nomination.receiving_hei.schac)
    if nomination.academic_term:
        _sub(mobility, "sending-academic-term-ewp-id", nomination.academic_term)
    else:
        _sub(mobility, "non-standard-mobility-period")
    _sub(mobility, "receiving-academic-year-id", nomination.academic_year)
    student = _sub(mobility, "student")
    data = nomination.student
    lang = data.get("native_lang")
    _sub(student, "given-names", data.get("given_latin") or "-")
    if data.get("given_native"):
        _sub(student, "given-names", data["given_native"], **{f"{{{XML_NS}}}lang": lang or "und"})
    _sub(student, "family-name", data.get("family_latin") or "-")
    if data.get("family_native"):
        _sub(student, "family-name", data["family_native"], **{f"{{{XML_NS}}}lang": lang or "und"})
    _sub(student, "global-id", data["global_id"])
    if data.get("birth_date"):
        _sub(student, "birth-date", data["birth_date"])
    if data.get("citizenship"):
        _sub(student, "citizenship", data["citizenship"])
    if data.get("gender") is not None:
        _sub(student, "gender", data["gender"])
    if data.get("email"):
        _sub(student, "email", data["email"])
    _sub(mobility, "status", nomination.status)
    _sub(mobility, "activity-type", nomination.activity_type)
    _sub(mobility, "activity-attributes", nomination.activity_attributes)
    if nomination.planned_arrival:
        _sub(mobility, "planned-arrival-date", nomination.planned_arrival.isoformat())
    if nomination.planned_departure:
        _sub(mobility, "planned-departure-date", nomination.planned_departure.isoformat())
    if nomination.eqf_level:
        _sub(mobility, "eqf-level-studied-at-nomination", nomination.eqf_level)
    if nomination.isced_code:
        _sub(mobility, "nominee-isced-f-code", nomination.isced_code)
    for skill in nomination.language_skills or []:
        element = _sub(mobility, "nominee-language-skill")
        _sub(element, "language", skill["language"])
        if skill.get("cefr"):
            _sub(element, "cefr-level", skill["cefr"])
    return mobility


def get_response_chunks(nominations: Iterable[Nomination], batch: int = 100) -> Iterator[bytes]:
    """Yield an <omobilities-get-response> document in pieces, a batch of mobilities at a time."""
    out = BytesIO()
    with etree.xmlfile(out, encoding="utf-8") as xml:
        xml.write_declaration()
        with xml.element(f"{{{GET_NS}}}omobilities-get-response", nsmap={None: GET_NS}):
            xml.flush()
            yield _drain(out)
            for n, nomination in enumerate(nominations, start=1):
                xml.write(mobility_element(nomination))
                if n % batch == 0:
                    xml.flush()
                    yield _drain(out)
    yield _drain(out)


def get_response(nominations: Iterable[Nomination]) -> bytes:
    """Return a whole <omobilities-get-response> document."""
    return b"".join(get_response_chunks(nominations))


def index_response(omobility_ids: Iterable[str]) -> bytes:
    """Return an <omobilities-index-response> listing the ids."""
    root = etree.Element(f"{{{INDEX_NS}}}omobilities-index-response", nsmap={None: INDEX_NS})
    for omobility_id in omobility_ids:
        etree.SubElement(root, f"{{{INDEX_NS}}}omobility-id").text = omobility_id
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def _drain(buffer: BytesIO) -> bytes:
    data = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return data


def error_response(message: str) -> bytes:
    """Return an EWP <error-response> carrying a message for the client's developers."""
    root = etree.Element(f"{{{COMMON_NS}}}error-response", nsmap={None: COMMON_NS})
    etree.SubElement(root, f"{{{COMMON_NS}}}developer-message").text = message
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")
