"""The parcel label: a 100 x 150 mm PDF with the tracking code as text and as a QR code. Pure.

What goes on the outside of a parcel is what a courier and a doorman need and
no more: the tracking code, the pharmacy, the patient's name shortened
(``张**``, ``Wang F.``), the district, the window and a cold-chain mark. No
address line (the courier's phone has it), no drug names and no diagnoses: a
parcel's label is read by everyone it passes.

The QR code holds exactly the tracking code, so any scanner (and
``GET /api/v1/track/{tracking_code}``) reads it. It is embedded as a 1-bit
image, one pixel per module, drawn without interpolation: sharp at any size.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import segno
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

PAGE_SIZE = (100 * mm, 150 * mm)
QR_SIZE = 55 * mm
# A CJK font every PDF reader has (not embedded): Chinese names and pharmacies print as written.
CJK_FONT = "STSong-Light"
LATIN_FONT, LATIN_BOLD = "Helvetica", "Helvetica-Bold"


@dataclass(frozen=True)
class LabelData:
    """Everything a label shows, already chosen and shortened by the caller."""

    tracking_code: str
    order_id: int
    pharmacy_name: str
    patient_name: str  # full name; the label prints short_name() of it
    district: str
    service_date: str  # YYYY-MM-DD, local
    window: str | None  # "13:00-16:00", local; None: any time that day
    cold_chain: bool
    max_out_of_fridge_minutes: int | None
    item_count: int


def short_name(name: str) -> str:
    """A name as a label may show it: ``张三丰`` → ``张**``; ``Wang Fang`` → ``Wang F.``.

    A name without spaces (as Chinese names are written) keeps its first
    character, the surname, and masks the rest; a name with spaces keeps the
    first word and the initial of the last.
    """
    name = " ".join(name.split())
    if not name:
        return "*"
    if " " in name:
        words = name.split(" ")
        return f"{words[0]} {words[-1][0]}."
    return name[0] + "*" * max(len(name) - 1, 1)


def qr_code(payload: str) -> segno.QRCode:
    """The QR code of ``payload`` (error correction M: survives a scuffed corner)."""
    return segno.make_qr(payload, error="m", boost_error=False)


def render_label(data: LabelData) -> bytes:
    """The label as PDF bytes (one page, 100 x 150 mm)."""
    _register_fonts()
    out = io.BytesIO()
    width, height = PAGE_SIZE
    pdf = Canvas(out, pagesize=PAGE_SIZE, pageCompression=1)
    pdf.setTitle(f"Parcel {data.tracking_code}")
    pdf.setAuthor("Doorstep")
    margin = 6 * mm

    y = height - margin - 5 * mm
    pdf.setFont(CJK_FONT, 11)
    pdf.drawString(margin, y, _fit(data.pharmacy_name, 40))
    y -= 5 * mm
    pdf.setFont(LATIN_FONT, 8)
    pdf.drawString(margin, y, f"Order {data.order_id}  -  {data.item_count} item(s)")

    # The QR code, centred, then the code itself in large type under it.
    y -= 3 * mm + QR_SIZE
    png = io.BytesIO()
    qr_code(data.tracking_code).save(png, kind="png", scale=1, border=4)
    png.seek(0)
    pdf.drawImage(ImageReader(png), (width - QR_SIZE) / 2, y, QR_SIZE, QR_SIZE)
    y -= 8 * mm
    pdf.setFont(LATIN_BOLD, 16)
    pdf.drawCentredString(width / 2, y, data.tracking_code)

    y -= 10 * mm
    pdf.setFont(CJK_FONT, 14)
    pdf.drawString(margin, y, _fit(short_name(data.patient_name), 24))
    y -= 6 * mm
    pdf.setFont(LATIN_FONT, 10)
    pdf.drawString(margin, y, f"District: {data.district}")
    y -= 5 * mm
    pdf.drawString(margin, y, f"Deliver: {data.service_date} {data.window or 'any time'}")

    if data.cold_chain:
        box_h = 16 * mm
        pdf.setFillGray(0)
        pdf.rect(margin, margin, width - 2 * margin, box_h, stroke=0, fill=1)
        pdf.setFillGray(1)
        pdf.setFont(LATIN_BOLD, 13)
        pdf.drawString(margin + 3 * mm, margin + box_h - 6.5 * mm, "COLD CHAIN 2-8 \u00b0C")
        pdf.setFont(CJK_FONT, 13)
        pdf.drawRightString(width - margin - 3 * mm, margin + box_h - 6.5 * mm, "冷链")
        if data.max_out_of_fridge_minutes:
            pdf.setFont(LATIN_FONT, 9)
            pdf.drawString(margin + 3 * mm, margin + 3.5 * mm,
                           f"At most {data.max_out_of_fridge_minutes} min out of the fridge")
        pdf.setFillGray(0)
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


_fonts_registered = False


def _register_fonts() -> None:
    global _fonts_registered
    if not _fonts_registered:
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
        _fonts_registered = True
