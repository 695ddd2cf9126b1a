"""The full-text index of the policy library and its ranked search, on SQLite and PostgreSQL
alike (decision 0015).

Both databases index the same pre-segmented tokens (``text.index_tokens``): SQLite in an FTS5
virtual table whose ``unicode61`` tokenizer splits them at the spaces, ranked by BM25 with the
title weighted ten times the body; PostgreSQL in a ``tsvector`` column (no text-search parser
involved: the vector is written as its literal, each token a lexeme with its positions, title
weight A, body weight B) under a GIN index, ranked by ``ts_rank`` with the same 10:1 weights.
The services keep the index in step with the policies, in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from sizhen.thinktank.text import QueryTerm, index_tokens

FTS_TABLE = "thinktank_policy_fts"
PG_TABLE = "thinktank_policy_search"
#: How much more a title match counts than a body match.
TITLE_WEIGHT = 10.0
#: PostgreSQL keeps at most 256 positions per lexeme, each at most 16383.
_MAX_POSITIONS = 256
_MAX_POSITION = 16383

CREATE_SQLITE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    "title, body, tokenize='unicode61 remove_diacritics 0')"
)
# No foreign key: a test database's flush truncates the policies without knowing this table;
# rows of policies that are gone are never joined (every search goes through the policy rows).
CREATE_POSTGRES = (
    f"CREATE TABLE IF NOT EXISTS {PG_TABLE} (policy_id integer PRIMARY KEY, document tsvector "
    f"NOT NULL); CREATE INDEX IF NOT EXISTS {PG_TABLE}_document ON {PG_TABLE} USING GIN (document)"
)
DROP_SQLITE = f"DROP TABLE IF EXISTS {FTS_TABLE}"
DROP_POSTGRES = f"DROP TABLE IF EXISTS {PG_TABLE}"


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def document_of(policy: Any, attachment_texts: Sequence[str] = ()) -> tuple[str, str]:
    """The title part and the body part of a policy's document: the body part also holds the
    document number, issuer, tags and the text of its attachments."""
    body = "\n".join(
        [
            policy.doc_number,
            policy.issuer,
            " ".join(policy.tags or []),
            policy.body,
            *attachment_texts,
        ]
    )
    return policy.title, body


def _tsvector(title: list[str], body: list[str]) -> str:
    positions: dict[str, list[str]] = {}
    for weight, tokens, start in (("A", title, 1), ("B", body, len(title) + 1)):
        for offset, token in enumerate(tokens):
            held = positions.setdefault(token, [])
            if len(held) < _MAX_POSITIONS:
                held.append(f"{min(start + offset, _MAX_POSITION)}{weight}")
    # Tokens are letters and digits only (text._keep), so quoting cannot be broken out of.
    return " ".join(f"'{token}':{','.join(held)}" for token, held in positions.items())


def write_index(documents: Iterable[tuple[int, str, str]]) -> None:
    """(Re)index policies: (id, title text, body text) each."""
    rows = [(pk, index_tokens(title), index_tokens(body)) for pk, title, body in documents]
    if not rows:
        return
    delete_index([pk for pk, _, _ in rows])
    with connection.cursor() as cursor:
        if is_postgres():
            cursor.executemany(
                f"INSERT INTO {PG_TABLE} (policy_id, document) VALUES (%s, %s::tsvector)",
                [(pk, _tsvector(title, body)) for pk, title, body in rows],
            )
        else:
            cursor.executemany(
                f"INSERT INTO {FTS_TABLE} (rowid, title, body) VALUES (%s, %s, %s)",
                [(pk, " ".join(title), " ".join(body)) for pk, title, body in rows],
            )


def delete_index(ids: Sequence[int]) -> None:
    if not ids:
        return
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        if is_postgres():
            cursor.execute(f"DELETE FROM {PG_TABLE} WHERE policy_id IN ({marks})", list(ids))
        else:
            cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid IN ({marks})", list(ids))


def clear_index() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {PG_TABLE if is_postgres() else FTS_TABLE}")


def _fts_match(terms: Sequence[QueryTerm]) -> str:
    def quoted(token: str) -> str:
        return '"' + token.replace('"', '""') + '"'

    parts = []
    for term in terms:
        options = ["(" + " AND ".join(quoted(t) for t in alt) + ")" for alt in term.alternatives]
        parts.append("(" + " OR ".join(options) + ")")
    return " AND ".join(parts)


def _tsquery(terms: Sequence[QueryTerm]) -> str:
    def quoted(token: str) -> str:
        return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"

    parts = []
    for term in terms:
        options = ["(" + " & ".join(quoted(t) for t in alt) + ")" for alt in term.alternatives]
        parts.append("(" + " | ".join(options) + ")")
    return " & ".join(parts)


def ranked(
    terms: Sequence[QueryTerm], policies: QuerySet[Any], limit: int, offset: int
) -> tuple[list[tuple[int, float]], int]:
    """(policy id, relevance) of the policies among ``policies`` that match every term, best
    first, one page of them; and how many match in all. Relevance is larger for better.

    The index is asked first, on its own, and the scope applied to what it found: given a
    ``rowid IN (…)`` beside MATCH, SQLite runs the full-text query once per candidate row."""
    if not terms:
        return [], 0
    scope_sql, scope_params = policies.order_by().values("pk").query.sql_with_params()
    if is_postgres():
        weights = f"'{{0.1, 0.1, {1 / TITLE_WEIGHT}, 1.0}}'"
        hits = (
            f"SELECT policy_id AS id, ts_rank({weights}, document, %s::tsquery) AS r "
            f"FROM {PG_TABLE} WHERE document @@ %s::tsquery"
        )
        query = _tsquery(terms)
        hit_params: list[Any] = [query, query]
        order = "r DESC, id DESC"
    else:
        hits = (
            f"SELECT rowid AS id, -bm25({FTS_TABLE}, {TITLE_WEIGHT}, 1.0) AS r "
            f"FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"
        )
        hit_params = [_fts_match(terms)]
        order = "r DESC, id DESC"
    # BM25 is smaller for better; negated above, so both backends answer larger = better.
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH hits AS MATERIALIZED ({hits}) "
            f"SELECT id, r, count(*) OVER () FROM hits WHERE id IN ({scope_sql}) "
            f"ORDER BY {order} LIMIT %s OFFSET %s",
            [*hit_params, *scope_params, limit, offset],
        )
        rows = cursor.fetchall()
        if rows:
            return [(pk, float(r)) for pk, r, _total in rows], rows[0][2]
        # A page past the end: the total still counts what matched.
        cursor.execute(
            f"WITH hits AS MATERIALIZED ({hits}) "
            f"SELECT count(*) FROM hits WHERE id IN ({scope_sql})",
            [*hit_params, *scope_params],
        )
        return [], cursor.fetchone()[0]


def matching_ids(terms: Sequence[QueryTerm], policies: QuerySet[Any]) -> QuerySet[Any]:
    """The policies among ``policies`` that match every term, as a queryset (for list pages
    that sort and page by their own columns)."""
    from django.db.models.expressions import RawSQL

    if not terms:
        return policies.none()
    if is_postgres():
        inner = RawSQL(
            f"SELECT policy_id FROM {PG_TABLE} WHERE document @@ %s::tsquery", [_tsquery(terms)]
        )
    else:
        inner = RawSQL(
            f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [_fts_match(terms)]
        )
    return policies.filter(pk__in=inner)
