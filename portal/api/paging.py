"""Cut one page out of a list query a service built, and wrap it in the paged envelope."""
from sqlalchemy import Select

from portal.api.envelope import paged
from portal.api.schemas.common import MAX_PER_PAGE
from portal.extensions import db


def page_of(query: Select, args: dict, message: str = "OK.") -> dict:
    """`args` holds `page` and `per_page` as PageArgsSchema loaded them; a page past the end is empty."""
    page = db.paginate(query, page=args["page"], per_page=args["per_page"], error_out=False,
                       max_per_page=MAX_PER_PAGE)
    return paged(list(page.items), args["page"], args["per_page"], page.total or 0, message)
