"""clear the old everyone-is-Kazakh default of the native name's alphabet

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 07:30:00

Until the profile let a student leave the alphabet to their citizenship, the form stored "kk"
for everyone who did not touch it. A "kk" of a citizen of another country whose name has no
letter that only Kazakh has is taken for that default and cleared ("automatic"); from now on a
stored value is the student's own choice and is read as it is. The rule is written out here
rather than imported, so that this migration does the same thing whatever the code becomes.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# Letters only Kazakh has, beside Russian; Kyrgyz shares ң, ө and ү with it.
_ONLY_KAZAKH = {
    "KG": set("әғқұһіӘҒҚҰҺІ"),
    None: set("әғқңөұүһіӘҒҚҢӨҰҮҺІ"),
}


def upgrade():
    profiles = sa.table(
        "student_profiles",
        sa.column("user_id", sa.Integer),
        sa.column("native_given_names", sa.String),
        sa.column("native_family_name", sa.String),
        sa.column("native_name_lang", sa.String),
        sa.column("citizenship", sa.String),
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(
            profiles.c.user_id,
            profiles.c.native_given_names,
            profiles.c.native_family_name,
            profiles.c.citizenship,
        ).where(profiles.c.native_name_lang == "kk")
    ).all()
    cleared = []
    for user_id, given, family, citizenship in rows:
        country = (citizenship or "").strip().upper()
        if country in ("", "KZ"):
            continue
        name = f"{given or ''} {family or ''}"
        only_kazakh = _ONLY_KAZAKH.get(country, _ONLY_KAZAKH[None])
        if not any(char in only_kazakh for char in name):
            cleared.append(user_id)
    if cleared:
        conn.execute(
            profiles.update()
            .where(profiles.c.user_id.in_(cleared))
            .values(native_name_lang=None)
        )


def downgrade():
    # A cleared default cannot be told apart from "automatic" chosen since: nothing to undo.
    pass
