"""The JSON API v1 and the EWP-style XML endpoints, for partner systems holding a token.

Every request carries `Authorization: Bearer <token>`; a token speaks for one institution and
sees exactly the nominations a partner of that institution sees in the portal. Another
institution's nomination answers 404, as it does in the pages.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, g, jsonify, request, url_for

from portal.api.models import ApiToken, hash_token
from portal.api.openapi import document as openapi_document
from portal.db import utcnow
from portal.documents.models import Document
from portal.documents.views import attachment
from portal.exports import iso_utc
from portal.extensions import csrf, db, limiter
from portal.forms import clean_text
from portal.institutions.models import Institution
from portal.nominations import ewp, services
from portal.nominations.models import Answer, MobilityStatus, Nomination

api = Blueprint("api", __name__, url_prefix="/api/v1")
ewp_bp = Blueprint("ewp", __name__, url_prefix="/ewp/omobilities")
csrf.exempt(api)
csrf.exempt(ewp_bp)

MAX_PER_PAGE = 200
MAX_GET_IDS = 100
# On every answer to a token: when it stops working (ISO 8601, UTC).
EXPIRES_HEADER = "X-Kopir-Token-Expires"


class ApiError(Exception):
    """An error answered as JSON (or as EWP XML on the EWP endpoints)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        """Keep the status, a stable code and a message for people."""
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _lookup(header: str) -> ApiToken | None:
    """Return the token an Authorization header carries, whatever its state (once a request)."""
    if "api_token_lookup" not in g:
        scheme, _, token = header.partition(" ")
        row = None
        if scheme.lower() == "bearer" and token.strip():
            row = db.session.scalar(
                sa.select(ApiToken).where(ApiToken.token_hash == hash_token(token.strip()))
            )
        g.api_token_lookup = row
    return g.api_token_lookup


def _token_key() -> str:
    # A working token is limited on its own; anything else (made-up, revoked and expired tokens)
    # shares the client address's limit, so guessing costs the guesser.
    token = _lookup(request.headers.get("Authorization", ""))
    if token is not None and token.active:
        return f"token:{token.id}"
    return f"ip:{request.remote_addr or ''}"


def _authenticate() -> None:
    if request.endpoint == "api.openapi":
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "Send an API token: Authorization: Bearer <token>.")
    row = _lookup(header)
    if row is None or row.revoked:
        raise ApiError(401, "unauthorized", "This token is unknown or revoked.")
    if row.expired:
        raise ApiError(
            401,
            "token_expired",
            f"This token expired on {iso_utc(row.expires_at)}. Make a new one on the partner "
            "portal's API tokens page.",
        )
    now = utcnow()
    # Recorded at most once a minute: the last use is for people, not an audit log.
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        row.last_used_at = now
    g.api_token = row


def _announce_expiry(response: Response) -> Response:
    # Systems cannot read the tokens page: every answer tells them when their token stops.
    token = g.get("api_token")
    if token is not None:
        response.headers[EXPIRES_HEADER] = iso_utc(token.expires_at)
    return response


# One budget per token across the JSON API and the EWP endpoints: a shared limit has one scope.
_api_limit = limiter.shared_limit(
    lambda: current_app.config.get("RATELIMIT_API", "300 per minute"),
    scope="partner-api",
    key_func=_token_key,
)
for blueprint in (api, ewp_bp):
    blueprint.before_request(_authenticate)
    blueprint.after_request(_announce_expiry)
    _api_limit(blueprint)


def _unauthorized_headers(response: Response, exc: ApiError) -> None:
    if exc.status != 401:
        return
    if exc.code == "token_expired":
        # RFC 6750: a token that no longer works is an invalid_token.
        response.headers["WWW-Authenticate"] = (
            'Bearer realm="kopir", error="invalid_token", '
            'error_description="The token expired"'
        )
    else:
        response.headers["WWW-Authenticate"] = 'Bearer realm="kopir"'


@api.errorhandler(ApiError)
def _api_error(exc: ApiError) -> tuple[Response, int]:
    response = jsonify({"error": exc.code, "message": exc.message})
    _unauthorized_headers(response, exc)
    return response, exc.status


@ewp_bp.errorhandler(ApiError)
def _ewp_error(exc: ApiError) -> Response:
    response = Response(
        ewp.error_response(exc.message), status=exc.status, mimetype="application/xml"
    )
    _unauthorized_headers(response, exc)
    return response


def _visible() -> sa.Select[tuple[Nomination]]:
    institution = g.api_token.institution_id
    return sa.select(Nomination).where(
        sa.or_(
            Nomination.sending_hei_id == institution,
            Nomination.receiving_hei_id == institution,
        )
    )


def _one(omobility_id: str) -> Nomination:
    nomination = db.session.scalar(_visible().where(Nomination.omobility_id == omobility_id))
    if nomination is None:
        raise ApiError(404, "not_found", "No such nomination for your institution.")
    return nomination


def _when(value: str | None, name: str, *, naive_is_utc: bool = False) -> datetime | None:
    # Only a parameter left out means "no filter"; an empty one is a malformed date-time.
    if value is None:
        return None
    # A "+" left unencoded in a query string arrives as a space.
    text = value.strip().replace(" ", "+")
    try:
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None and naive_is_utc:
            parsed = parsed.replace(tzinfo=UTC)
        if parsed.tzinfo is None:
            raise ValueError(text)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise ApiError(
            400, "bad_request", f"{name} must be an ISO 8601 date and time with its offset."
        ) from exc


def _int(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9) or not low <= int(raw) <= high:
        raise ApiError(400, "bad_request", f"{name} must be a whole number from {low} to {high}.")
    return int(raw)


def _choice(name: str, allowed: tuple[str, ...]) -> str | None:
    value = request.args.get(name)
    if value is None:
        return None
    if value not in allowed:
        raise ApiError(400, "bad_request", f"{name} must be one of: {', '.join(allowed)}.")
    return value


def _year(name: str, value: str | None = None) -> str | None:
    value = request.args.get(name) if value is None else value
    if value is None:
        return None
    first, slash, second = value.partition("/")
    if not (
        slash
        and first.isascii()
        and first.isdigit()
        and second.isascii()
        and second.isdigit()
        and len(first) == len(second) == 4
    ):
        raise ApiError(400, "bad_request", f"{name} must look like 2026/2027.")
    return value


def as_json(nomination: Nomination) -> dict[str, Any]:
    """Return a nomination as the API shows it."""
    student = nomination.student
    return {
        "omobility_id": nomination.omobility_id,
        "programme": nomination.program.slug,
        "sending_hei_id": nomination.sending_hei.schac,
        "receiving_hei_id": nomination.receiving_hei.schac,
        "receiving_academic_year_id": nomination.academic_year,
        "sending_academic_term_ewp_id": nomination.academic_term,
        "student": {
            "given_names": student.get("given_latin") or "",
            "family_name": student.get("family_latin") or "",
            "given_names_native": student.get("given_native") or None,
            "family_name_native": student.get("family_native") or None,
            "native_lang": student.get("native_lang"),
            "birth_date": student.get("birth_date"),
            "citizenship": student.get("citizenship"),
            "gender": student.get("gender"),
            "email": student.get("email"),
            "global_id": student.get("global_id"),
        },
        "activity_type": nomination.activity_type,
        "activity_attributes": nomination.activity_attributes,
        "eqf_level": nomination.eqf_level,
        "isced_code": nomination.isced_code,
        "language_skills": [
            {"language": s["language"], "cefr": s.get("cefr")}
            for s in nomination.language_skills or []
        ],
        "planned_arrival": nomination.planned_arrival.isoformat()
        if nomination.planned_arrival
        else None,
        "planned_departure": nomination.planned_departure.isoformat()
        if nomination.planned_departure
        else None,
        "status": nomination.status,
        "answer": nomination.answer,
        "answer_comment": nomination.answer_comment,
        "answered_at": iso_utc(nomination.answered_at) or None,
        "modified_at": iso_utc(nomination.modified_at),
    }


@api.get("/openapi.json")
def openapi() -> Response:
    """Describe the API (OpenAPI 3)."""
    return jsonify(openapi_document())


@api.get("/nominations")
def list_nominations() -> Response:
    """List the institution's nominations, newest change first, a page at a time."""
    query = _visible()
    since = _when(request.args.get("modified_since"), "modified_since")
    if since is not None:
        query = query.where(Nomination.modified_at > since)
    year = _year("academic_year")
    if year:
        query = query.where(Nomination.academic_year == year)
    status = _choice("status", tuple(s.value for s in MobilityStatus))
    if status:
        query = query.where(Nomination.status == status)
    page = _int("page", 1, 1, 100_000)
    per_page = _int("per_page", 50, 1, MAX_PER_PAGE)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    items = db.session.scalars(
        query.order_by(Nomination.modified_at.desc(), Nomination.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return jsonify(
        {
            "items": [as_json(n) for n in items],
            "page": page,
            "per_page": per_page,
            "total": total,
        }
    )


@api.get("/nominations/<omobility_id>")
def get_nomination(omobility_id: str) -> Response:
    """Return one nomination."""
    return jsonify(as_json(_one(omobility_id)))


def _documents(nomination: Nomination) -> list[Document]:
    return nomination.application.current_documents()


@api.get("/nominations/<omobility_id>/documents")
def list_documents(omobility_id: str) -> Response:
    """List the nominee's documents."""
    nomination = _one(omobility_id)
    return jsonify(
        [
            {
                "id": d.id,
                "kind": d.kind,
                "name": d.original_name,
                "media_type": d.media_type,
                "size": d.size,
                "sha256": d.sha256,
                "url": url_for(
                    "api.download_document", omobility_id=omobility_id, document_id=d.id
                ),
            }
            for d in _documents(nomination)
        ]
    )


@api.get("/nominations/<omobility_id>/documents/<int:document_id>")
def download_document(omobility_id: str, document_id: int) -> Response:
    """Send one of the nominee's documents, as an attachment."""
    nomination = _one(omobility_id)
    document = next((d for d in _documents(nomination) if d.id == document_id), None)
    if document is None:
        raise ApiError(404, "not_found", "No such document for this nomination.")
    return attachment(document)


@api.post("/nominations/<omobility_id>/answer")
def post_answer(omobility_id: str) -> Response:
    """Record the receiving university's answer: verified, or rejected with a comment."""
    nomination = _one(omobility_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(
            400, "bad_request", 'Send a JSON object: {"answer": ..., "comment": ...}.'
        )
    verdict = body.get("answer")
    comment = body.get("comment")
    if verdict not in (Answer.VERIFIED.value, Answer.REJECTED.value):
        raise ApiError(400, "bad_request", "answer must be \"verified\" or \"rejected\".")
    if comment is not None and (not isinstance(comment, str) or len(comment) > 2000):
        raise ApiError(400, "bad_request", "comment must be text of at most 2000 characters.")
    comment = clean_text(comment)
    if nomination.receiving_hei_id != g.api_token.institution_id:
        raise ApiError(403, "forbidden", "Only the receiving university answers a nomination.")
    try:
        services.answer(
            nomination,
            Answer(verdict),
            comment,
            institution_id=g.api_token.institution_id,
            api_token_id=g.api_token.id,
        )
    except services.CommentRequired as exc:
        # The request is well formed but incomplete: the client must fix it, not retry it.
        raise ApiError(422, "comment_required", "A rejection needs a comment saying why.") from exc
    except services.NominationError as exc:
        raise ApiError(409, "conflict", str(exc)) from exc
    return jsonify(as_json(nomination))


def _ewp_ids(name: str) -> list[str]:
    values = request.args.getlist(name)
    if "" in values:
        # An empty value is no value: refused, not read as "no filter" or silently dropped.
        raise ApiError(400, "bad_request", f"{name} must not be empty.")
    return values


def _hei(schac: str) -> int:
    """Return the id of a university by SCHAC code; EWP answers 400 for one it does not know."""
    found = db.session.scalar(sa.select(Institution.id).where(Institution.schac == schac))
    if found is None:
        raise ApiError(400, "bad_request", f"Unknown sending_hei_id: {schac[:100]}")
    return found


@ewp_bp.get("/index")
def ewp_index() -> Response:
    """List omobility ids, as the EWP Outgoing Mobilities index endpoint does."""
    sending = _ewp_ids("sending_hei_id")
    if len(sending) != 1:
        raise ApiError(400, "bad_request", "Give exactly one sending_hei_id.")
    query = _visible().where(Nomination.sending_hei_id == _hei(sending[0]))
    receiving = _ewp_ids("receiving_hei_id")
    if receiving:
        query = query.where(
            Nomination.receiving_hei_id.in_(
                sa.select(Institution.id).where(Institution.schac.in_(receiving))
            )
        )
    years = _ewp_ids("receiving_academic_year_id")
    if len(years) > 1:
        raise ApiError(400, "bad_request", "Give receiving_academic_year_id at most once.")
    if years:
        year = _year("receiving_academic_year_id", years[0])
        query = query.where(Nomination.academic_year == year)
    since = _ewp_ids("modified_since")
    if len(since) > 1:
        raise ApiError(400, "bad_request", "Give modified_since at most once.")
    if since:
        # xs:dateTime may leave the offset out; EWP servers read that as UTC.
        moment = _when(since[0], "modified_since", naive_is_utc=True)
        query = query.where(Nomination.modified_at > moment)
    ids = db.session.scalars(
        query.with_only_columns(Nomination.omobility_id).order_by(Nomination.id)
    ).all()
    return Response(ewp.index_response(ids), mimetype="application/xml")


@ewp_bp.get("/get")
def ewp_get() -> Response:
    """Return mobilities by id, as the EWP Outgoing Mobilities get endpoint does."""
    sending = _ewp_ids("sending_hei_id")
    if len(sending) != 1:
        raise ApiError(400, "bad_request", "Give exactly one sending_hei_id.")
    ids = _ewp_ids("omobility_id")
    if not ids:
        raise ApiError(400, "bad_request", "Give at least one omobility_id.")
    if len(ids) > MAX_GET_IDS:
        raise ApiError(400, "bad_request", f"Give at most {MAX_GET_IDS} omobility_id values.")
    # Unknown ids, and ids of other institutions, are left out, as EWP asks.
    nominations = db.session.scalars(
        _visible()
        .where(
            Nomination.omobility_id.in_(ids),
            Nomination.sending_hei_id == _hei(sending[0]),
        )
        .order_by(Nomination.id)
    ).all()
    return Response(ewp.get_response(nominations), mimetype="application/xml")
