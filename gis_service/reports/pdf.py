"""The PDF report of a unit: HTML built from escaped values (no template engine), WeasyPrint.

Every text from the data goes through html.escape; the map is our own SVG. WeasyPrint runs
with a URL fetcher that refuses every URL, so a report never reaches the network or the disk.
"""

from __future__ import annotations

from html import escape

from gis_service.reports.draw import OUTLINE, map_image, overlay_svg, png_bytes
from gis_service.reports.facts import Facts
from gis_service.reports.scene import Scene
from gis_service.reports.strings import say

MAP_SIZE = (640, 520)
MAP_URL = "report:map.png"
"""The only thing a report loads: its own map picture (CSS below), handed over by url_fetcher."""
SHARPNESS = 2.5
"""The map picture's pixels per map unit (about 300 dpi at the printed width)."""
CSS = """
@page { size: A4; margin: 14mm 12mm 16mm 12mm;
        @bottom-center { content: counter(page) " / " counter(pages); font-size: 8pt; } }
body { font-family: "Noto Sans CJK SC", "Noto Sans CJK", sans-serif; font-size: 10pt;
       color: #212121; }
h1 { font-size: 17pt; margin: 0 0 2mm 0; }
h2 { font-size: 12pt; margin: 5mm 0 2mm 0; border-bottom: 1px solid #bdbdbd; }
.meta { color: #616161; font-size: 9pt; }
.map { display: flex; gap: 4mm; align-items: flex-start; }
.map-picture { width: 130mm; border: 1px solid #bdbdbd; background-size: 100% 100%;
               background-image: url("report:map.png"); }
.map-picture svg { display: block; width: 100%; height: auto; }
.legend { font-size: 8.5pt; }
.legend div { margin: 0 0 1.2mm 0; }
.swatch { display: inline-block; width: 3.2mm; height: 3.2mm; margin-right: 1.5mm;
          vertical-align: middle; }
.point { border-radius: 50%; }
.outline { border: 0.6mm dashed """ + OUTLINE + """; width: 2.4mm; height: 2.4mm; }
table { border-collapse: collapse; width: 100%; }
td, th { border: 1px solid #e0e0e0; padding: 1mm 2mm; text-align: left; }
td.n, th.n { text-align: right; }
"""


def legend_html(scene: Scene) -> str:
    """The map's legend as HTML (labels escaped)."""
    rows = []
    for label, color, kind in scene.legend:
        style = "" if kind == "outline" else f"background:{escape(color)}"
        rows.append(f'<div><span class="swatch {kind}" style="{style}"></span>'
                    f"{escape(label)}</div>")  # fmt: skip
    return f'<div class="legend"><b>{escape(scene.legend_title)}</b>{"".join(rows)}</div>'


def table(head: list[str], rows: list[list[str]], numeric: set[int]) -> str:
    """An HTML table of escaped cells; columns in `numeric` right-aligned."""
    def cells(values: list[str], tag: str) -> str:
        return "".join(f'<{tag}{" class=n" if i in numeric else ""}>{escape(v)}</{tag}>'
                       for i, v in enumerate(values))  # fmt: skip

    body = "".join(f"<tr>{cells(r, 'td')}</tr>" for r in rows)
    return f"<table><tr>{cells(head, 'th')}</tr>{body}</table>"


def report_html(facts: Facts, scene: Scene) -> str:
    """The report as one HTML document."""
    lang = facts.lang
    unit = facts.unit
    title = f"{unit.title(lang)} · {say(lang, unit.level)}"
    meta = (f"{say(lang, 'generated')}: {facts.generated.isoformat()} · "
            f"{say(lang, 'data_version')}: {facts.data_version} · "
            f"{say(lang, 'visible_to', user=facts.user)}")  # fmt: skip
    pipeline = table([say(lang, "status"), say(lang, "count")],
                     [[label, str(n)] for _code, label, n in facts.pipeline], {1})  # fmt: skip
    batches = table(
        [say(lang, "batch"), say(lang, "batch_status"), say(lang, "batch_stairwells"),
         say(lang, "projection"), say(lang, "share_stairwells")],
        [[b["name"], b["status"], str(b["stairwells"]), b["projection"], b["after"]]
         for b in facts.batches], {2, 4},
    ) if facts.batches else f"<p>{escape(say(lang, 'no_batch'))}</p>"  # fmt: skip
    coverage = table([say(lang, "figure"), say(lang, "value")], [list(c) for c in facts.coverage],
                     {1})
    gaps = "".join(f"<li>{escape(line)}</li>" for line in facts.gaps)
    return f"""<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">
<title>{escape(title)}</title><style>{CSS}</style></head><body>
<h1>{escape(title)}</h1><div class="meta">{escape(say(lang, "report"))}<br>{escape(meta)}</div>
<h2>{escape(say(lang, "map"))}</h2>
<div class="map"><div class="map-picture">{overlay_svg(scene)}</div>{legend_html(scene)}</div>
<h2>{escape(say(lang, "coverage"))}</h2>{coverage}
<h2>{escape(say(lang, "pipeline"))}</h2>{pipeline}
<h2>{escape(say(lang, "batches"))}</h2>{batches}
<h2>{escape(say(lang, "gaps"))}</h2><ul>{gaps}</ul>
</body></html>"""


def render_pdf(facts: Facts, scene: Scene) -> bytes:
    """The PDF bytes of a report."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    picture = png_bytes(map_image(scene, SHARPNESS))

    class OwnMapOnly(URLFetcher):
        """WeasyPrint's URL fetcher: the map picture, and nothing from outside."""

        def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
            if url == MAP_URL:
                return URLFetcherResponse(url, picture, {"Content-Type": "image/png"})
            raise ValueError(f"reports load nothing from outside (asked for {url[:80]!r})")

    pdf = HTML(string=report_html(facts, scene), url_fetcher=OwnMapOnly()).write_pdf()
    return bytes(pdf or b"")
