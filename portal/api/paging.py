"""Cut one page out of a list query a service built, and wrap it in the paged envelope."""
from flask import Response
from sqlalchemy import Select

from portal.api.envelope import paged, paged_items
from portal.services.persistence import Page, paginate


def page_of(query: Select, args: dict, message: str = "OK.") -> dict:
    """`args` holds `page` and `per_page` as PageArgsSchema loaded them; a page past the end is empty."""
    return answer(paginate(query, args["page"], args["per_page"]), message)


def answer(page: Page, message: str = "OK.") -> dict | Response:
    """The envelope of a page a service already cut (persistence.paginate), around the items the database wrote
    as JSON when it did (Page.json_items), for the response schema to dump otherwise."""
    if page.json_items:
        return paged_items(page.items, page.page, page.per_page, page.total, message)
    return paged(page.items, page.page, page.per_page, page.total, message)
