"""A map scene drawn with Pillow: the map's picture (inside the PDF report, under an SVG of its
north arrow and scale bar) or a PNG with title and legend.

Text from the data (names) is only ever drawn as text, and escaped in SVG.
"""

from __future__ import annotations

import io
from html import escape
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from gis_service.reports.scene import Scene

OUTLINE = "#d81b60"
SCALE_LABEL = "{m} m"


def north_arrow_svg(scene: Scene) -> str:
    """A north arrow in the top right corner."""
    x, y = scene.width - 30, 18
    arrow = f"M{x},{y} L{x - 9},{y + 26} L{x},{y + 20} L{x + 9},{y + 26} Z"
    return (f'<g><rect x="{x - 16}" y="{y - 6}" width="32" height="56" rx="6" fill="#ffffff" '
            f'fill-opacity="0.85"/><path d="{arrow}" fill="#212121"/>'
            f'<text x="{x}" y="{y + 42}" text-anchor="middle" font-size="14" '
            f'font-weight="bold">{escape(scene.north)}</text></g>')  # fmt: skip


def scale_bar_svg(scene: Scene) -> str:
    """A scale bar in the bottom left corner."""
    x, y, length = 16, scene.height - 18, scene.scale_px
    return (f'<g><rect x="{x - 4}" y="{y - 20}" width="{length + 8:.1f}" height="28" '
            'fill="#ffffff" fill-opacity="0.8"/>'
            f'<path d="M{x},{y - 6} L{x},{y} L{x + length:.1f},{y} L{x + length:.1f},{y - 6}" '
            'fill="none" stroke="#212121" stroke-width="2"/>'
            f'<text x="{x + length / 2:.1f}" y="{y - 8}" text-anchor="middle" font-size="11">'
            f"{SCALE_LABEL.format(m=scene.scale_m)}</text></g>")  # fmt: skip


def overlay_svg(scene: Scene) -> str:
    """The north arrow and scale bar as an SVG the size of the map (laid over its picture)."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{scene.width}" '
            f'height="{scene.height}" viewBox="0 0 {scene.width} {scene.height}">'
            f"{north_arrow_svg(scene)}{scale_bar_svg(scene)}</svg>")  # fmt: skip


def rgba(color: str, opacity: float) -> tuple[int, int, int, int]:
    """A #rrggbb colour with an opacity as an RGBA tuple."""
    value = color.lstrip("#")
    r, g, b = (int(value[i:i + 2], 16) for i in (0, 2, 4))
    return (r, g, b, round(255 * opacity))


def map_image(scene: Scene, factor: float = 1.0) -> Image.Image:
    """The shapes and the unit's outline on the map's own picture (what falls outside is cut),
    `factor` times the scene's size (sharper print)."""
    image = Image.new("RGB", (round(scene.width * factor), round(scene.height * factor)),
                      "#fafafa")  # fmt: skip
    pen = ImageDraw.Draw(image, "RGBA")  # RGBA colours blend into the picture
    line = max(1, round(factor))
    for shape in scene.shapes:
        if shape.point is not None:
            x, y, r = shape.point[0] * factor, shape.point[1] * factor, shape.radius * factor
            pen.ellipse((x - r, y - r, x + r, y + r), fill=rgba(shape.color, 1.0),
                        outline=(255, 255, 255, 255), width=line)  # fmt: skip
            continue
        for ring in shape.rings:
            points = [(float(x) * factor, float(y) * factor) for x, y in ring]
            if len(points) >= 3:
                pen.polygon(points, fill=rgba(shape.color, shape.fill_opacity),
                            outline=rgba(shape.color, 1.0), width=line)  # fmt: skip
    for ring in scene.outline:
        points = [(float(x) * factor, float(y) * factor) for x, y in ring]
        pen.line([*points, points[0]], fill=rgba(OUTLINE, 1.0), width=round(3 * factor))
    return image


def png_bytes(image: Image.Image) -> bytes:
    """A picture as PNG bytes."""
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def to_png(scene: Scene, title: str, subtitle: str, font_file: Path) -> bytes:
    """The scene as a PNG: title above, legend on the right, north arrow and scale bar."""
    big = ImageFont.truetype(str(font_file), 26, index=font_index(font_file))
    small = ImageFont.truetype(str(font_file), 15, index=font_index(font_file))
    top, legend_w = 72, 360
    image = Image.new("RGB", (scene.width + legend_w, scene.height + top), "#ffffff")
    image.paste(map_image(scene), (0, top))
    pen = ImageDraw.Draw(image, "RGBA")
    pen.text((16, 10), title, font=big, fill="#212121")
    pen.text((16, 44), subtitle, font=small, fill="#616161")
    x, y = scene.width - 30, top + 14
    pen.rounded_rectangle((x - 16, y - 6, x + 16, y + 50), 6, fill=(255, 255, 255, 210))
    pen.polygon([(x, y), (x - 9, y + 26), (x, y + 20), (x + 9, y + 26)], fill="#212121")
    pen.text((x, y + 30), scene.north, font=small, fill="#212121", anchor="mt")
    bx, by = 16, top + scene.height - 18
    pen.rectangle((bx - 4, by - 24, bx + scene.scale_px + 4, by + 6), fill=(255, 255, 255, 210))
    pen.line([(bx, by - 6), (bx, by), (bx + scene.scale_px, by), (bx + scene.scale_px, by - 6)],
             fill="#212121", width=2)  # fmt: skip
    pen.text((bx + scene.scale_px / 2, by - 8), SCALE_LABEL.format(m=scene.scale_m), font=small,
             fill="#212121", anchor="mb")  # fmt: skip
    lx, ly = scene.width + 16, top + 8
    pen.text((lx, ly), scene.legend_title, font=small, fill="#212121")
    ly += 26
    for label, color, kind in scene.legend:
        if kind == "point":
            pen.ellipse((lx, ly + 3, lx + 12, ly + 15), fill=color)
        elif kind == "outline":
            pen.rectangle((lx, ly + 2, lx + 14, ly + 16), outline=OUTLINE, width=3)
        else:
            pen.rectangle((lx, ly + 2, lx + 14, ly + 16), fill=color)
        pen.text((lx + 22, ly), label[:40], font=small, fill="#212121")
        ly += 22
    return png_bytes(image)


def font_index(font_file: Path) -> int:
    """The face of a font collection to use: Simplified Chinese in Noto CJK collections."""
    return 2 if font_file.suffix.lower() == ".ttc" and "CJK" in font_file.name else 0
