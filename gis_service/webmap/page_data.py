"""Page data kept out of templates: a page is a data-free skeleton plus one JSON block.

Branca compiles every macro's rendered output again as a Jinja template, so anything passed to a
Folium or branca element is template source. Pages therefore hand Folium only the view's YAML
configuration (labels made inert by `inert_label`), never a value from the database or the
request. The page's data goes in afterwards, by plain string replacement of one slot, as a
`<script type="application/json">` block that our scripts read with `READ_DATA_JS`.
"""

from __future__ import annotations

import html
from typing import Any

import orjson
from branca.element import Element, Figure

DATA_ID = "gis-page-data"
DATA_SLOT = "<!--gis-page-data-->"
TITLE_SLOT = "gis-page-title-slot"
READ_DATA_JS = f'JSON.parse(document.getElementById("{DATA_ID}").textContent)'
JSON_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def json_for_script(data: Any) -> str:
    """JSON that cannot end its <script> element or open a comment (and is valid JS too)."""
    text = orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS).decode()
    for raw, escaped in JSON_ESCAPES.items():
        text = text.replace(raw, escaped)
    return text


def data_block(data: Any) -> str:
    """The page data as an inert JSON script element."""
    return f'<script type="application/json" id="{DATA_ID}">{json_for_script(data)}</script>'


def inert_label(text: str) -> str:
    """A configured label for Folium (shown as HTML): escaped for HTML and for Jinja."""
    return html.escape(text).replace("{", "&#123;").replace("}", "&#125;")


def add_slots(root: Element) -> None:
    """Give a Folium map's figure the data slot (in the body) and the title slot."""
    if not isinstance(root, Figure):
        raise TypeError("the map's root must be a branca Figure")
    root.title = TITLE_SLOT
    root.html.add_child(Element(DATA_SLOT), name="gis_page_data")


def fill(skeleton: str, data: Any, title: str) -> str:
    """The page: the skeleton's one data slot and one title slot filled (nothing compiled)."""
    if skeleton.count(DATA_SLOT) != 1 or skeleton.count(TITLE_SLOT) != 1:
        raise ValueError("a page skeleton must hold exactly one data slot and one title slot")
    return skeleton.replace(TITLE_SLOT, html.escape(title)).replace(DATA_SLOT, data_block(data))
