"""CSV quoting and formula neutralising: written once for Python and once as SQL, to the same rule.

The rule is ``csv.writer``'s (``QUOTE_MINIMAL``, ``\\r\\n`` line ends): a field is quoted when it
holds a comma, a quote or a line break, and quotes inside are doubled. A cell a spreadsheet would
run as a formula gets a single quote in front (OWASP's advice): one that starts with a formula
character (OWASP's list, and their full-width forms, which some spreadsheets fold to ASCII), or
with blanks or line breaks and then one (spreadsheets trim those before deciding).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, String, case, func, literal, or_

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# Trimmed by spreadsheets before a cell is read as a formula (tab and CR are formula starts too).
LEADING_BLANKS = " \t\r\n\v\f\u00a0\u3000"
CSV_SPECIAL = (",", '"', "\r", "\n")  # what makes csv.writer quote a field
LINE_END = "\r\n"


def starts_like_a_formula(value: str) -> bool:
    return value.startswith(FORMULA_STARTS) or value.lstrip(LEADING_BLANKS).startswith(FORMULA_STARTS)


def neutralise(value: str) -> str:
    return "'" + value if starts_like_a_formula(value) else value


def needs_quotes(value: str) -> bool:
    return any(ch in value for ch in CSV_SPECIAL)


def quote(value: str) -> str:
    """A field as csv.writer writes it."""
    return '"' + value.replace('"', '""') + '"' if needs_quotes(value) else value


def line(fields: list[str]) -> str:
    return ",".join(quote(field) for field in fields) + LINE_END


def sql_text(value: str) -> ColumnElement[str]:
    return literal(value, String)


def sql_formula_prefix(cell: ColumnElement[str], dialect: str) -> ColumnElement[str]:
    """ "'" before a cell a spreadsheet would run as a formula, else ''. Compares the first
    character's code point (unicode() on SQLite, ascii() on PostgreSQL): cheaper than substr()."""

    def first(text: ColumnElement[str]) -> ColumnElement[int]:
        return func.unicode(text) if dialect == "sqlite" else func.ascii(text)

    formula = [ord(s) for s in FORMULA_STARTS]
    # ltrim() only for cells that start with a blank: CASE stops at the first branch that holds.
    after_blanks = first(func.ltrim(cell, sql_text(LEADING_BLANKS)))
    return case(
        (first(cell).in_(formula), sql_text("'")),
        (first(cell).in_([ord(s) for s in LEADING_BLANKS]) & after_blanks.in_(formula), sql_text("'")),
        else_=sql_text(""),
    )


def sql_neutralised(cell: ColumnElement[str], dialect: str) -> ColumnElement[str]:
    return sql_formula_prefix(cell, dialect) + cell


def sql_quoted(cell: ColumnElement[str]) -> ColumnElement[str]:
    """A user-entered cell neutralised and quoted as ``quote(neutralise(...))`` would: for
    SQLite, which writes each finished line itself (PostgreSQL's COPY quotes on its own). The
    quote prefix holds no special character, so it can go inside the quotes; instr() is about
    twice as fast here as one GLOB with a character class."""
    special = or_(*(func.instr(cell, sql_text(ch)) > 0 for ch in CSV_SPECIAL))
    prefix = sql_formula_prefix(cell, "sqlite")
    return case(
        (special, sql_text('"') + prefix + func.replace(cell, '"', '""') + sql_text('"')),
        else_=prefix + cell,
    )
