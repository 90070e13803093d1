import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode

from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from apps.common.error_codes import CommonErrorCode
from apps.common.errors import InvalidInput
from apps.common.fields import MAX_ID


class StandardPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


@dataclass(frozen=True)
class Position:
    """A row's place in an order by (start, id): unique, so a page can begin right
    after (or end right before) it."""

    start: datetime
    id: int


# read(position, backwards, limit) -> at most ``limit`` rows in ascending order:
# the first after ``position`` (from the beginning when None), or, backwards, the
# last before it (up to the end when None).
RowReader = Callable[[Position | None, bool, int], list[dict]]


class StartOrderCursorPagination(CursorPagination):
    """Pages of rows ordered by (start, id), reached by an opaque cursor: the answer
    is ``next``, ``previous`` and ``results``, with no total, so a page costs the
    same however many rows come before it (a keyset: no OFFSET, no COUNT). The
    cursor names the row a page continues from; rows added or changed between two
    pages are neither repeated nor skipped because of positions shifting.

    DRF's CursorPagination pages a queryset; this one asks a ``RowReader`` (a
    written-out statement), and only borrows DRF's page size, schema and cursor
    URLs. A cursor that is not one of ours is a 400 ``invalid_cursor``."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = ("start", "id")

    def paginate_rows(self, request, read: RowReader) -> list[dict]:
        self.base_url = request.build_absolute_uri()
        self.request = request
        size = self.get_page_size(request)
        position, backwards = self._cursor(request)
        rows = read(position, backwards, size + 1)
        more = len(rows) > size
        rows = (rows[1:] if more else rows) if backwards else rows[:size]
        has_next = more if not backwards else position is not None
        has_previous = more if backwards else position is not None
        self.next_link = self.previous_link = None
        if rows:
            if has_next:
                self.next_link = self._link(rows[-1], backwards=False)
            if has_previous:
                self.previous_link = self._link(rows[0], backwards=True)
        elif position is not None:
            # Nothing there any more (a filter's rows changed): from the other end.
            link = self._link(None, backwards=not backwards)
            self.next_link, self.previous_link = (link, None) if backwards else (None, link)
        return rows

    def get_paginated_response(self, data):
        return Response({"next": self.next_link, "previous": self.previous_link, "results": data})

    def _link(self, row: dict | None, *, backwards: bool) -> str:
        if row is None and not backwards:  # the first page
            return remove_query_param(self.base_url, self.cursor_query_param)
        fields = {"r": "1"} if backwards else {}
        if row is not None:
            fields["p"] = f"{row['start'].astimezone(UTC).isoformat()}~{row['id']}"
        encoded = base64.urlsafe_b64encode(urlencode(fields).encode()).decode().rstrip("=")
        return replace_query_param(self.base_url, self.cursor_query_param, encoded)

    def _cursor(self, request) -> tuple[Position | None, bool]:
        if "page" in request.query_params:  # a client still numbering pages would get page 1 again and again
            raise InvalidInput(
                "This list pages by cursor: follow the next and previous links.",
                code=CommonErrorCode.INVALID_CURSOR,
                fields={"page": ["Not used here: follow the next link."]},
            )
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None, False
        try:
            padded = encoded + "=" * (-len(encoded) % 4)
            fields = parse_qs(base64.urlsafe_b64decode(padded).decode(), strict_parsing=True)
            backwards = fields.pop("r", ["0"]) == ["1"]
            (position,) = fields.pop("p", [None])
            if fields or (position is None and not backwards):
                raise ValueError("unknown fields")
            if position is None:
                return None, True
            start_text, _, id_text = position.partition("~")
            start = datetime.fromisoformat(start_text)
            row_id = int(id_text)
            if start.tzinfo is None or not 1 <= row_id <= MAX_ID:
                raise ValueError("out of range")
            start = start.astimezone(UTC)
        except (ValueError, TypeError, OverflowError, UnicodeDecodeError) as exc:
            raise InvalidInput(
                "This cursor is not one of ours: follow the next and previous links.",
                code=CommonErrorCode.INVALID_CURSOR,
                fields={self.cursor_query_param: ["Invalid cursor."]},
            ) from exc
        return Position(start, row_id), backwards
