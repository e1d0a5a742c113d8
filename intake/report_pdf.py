"""The monthly report as a PDF: ReportLab lays out what intake/monthly_report.py built, matplotlib
draws its charts. Nothing here reads the database."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from xml.sax.saxutils import escape

import matplotlib

matplotlib.use("Agg")  # no screen: a worker renders to memory

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from intake.monthly_report import NO_DATA, NOT_PUBLISHED, RESERVED, ReportData
from intake.months import month_name, month_short
from intake.number_format import number

# DejaVu ships with matplotlib: the PDF embeds it, so every letter of an observation prints (the
# PDF's standard fonts stop at Latin-1), and the charts use the same face.
FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
BLUE, ORANGE, GREY = "#12355b", "#c2410c", "#4b5563"


def _register_fonts() -> None:
    if "DejaVu" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVu", str(FONTS / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("DejaVu-Bold", str(FONTS / "DejaVuSans-Bold.ttf")))
        pdfmetrics.registerFontFamily("DejaVu", normal="DejaVu", bold="DejaVu-Bold")


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=base["BodyText"], fontName="DejaVu", fontSize=9.5, leading=13)
    return {
        "title": ParagraphStyle("title", parent=body, fontName="DejaVu-Bold", fontSize=16, leading=20),
        "h2": ParagraphStyle("h2", parent=body, fontName="DejaVu-Bold", fontSize=12, leading=16, spaceBefore=10),
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=8, leading=10, textColor=colors.HexColor(GREY)),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8, leading=10),
    }


def _chart(draw: Callable[[Axes], None], width_cm: float = 16, height_cm: float = 5.5) -> Image:
    """A matplotlib figure as a PNG flowable (fixed metadata: the same data makes the same file)."""
    figure, axes = plt.subplots(figsize=(width_cm / 2.54, height_cm / 2.54), dpi=160)
    try:
        draw(axes)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", metadata={"Software": None})
    finally:
        plt.close(figure)
    buffer.seek(0)
    return Image(buffer, width=width_cm * cm, height=height_cm * cm)


def _numeric(values: list[float | int | str]) -> list[float | None]:
    return [None if isinstance(v, str) else float(v) for v in values]


def _bars(data: ReportData, label: str) -> Image:
    figure = next(f for f in data.figures if f.label == label)
    values = _numeric(figure.values)
    labels = [month_short(m) for m in data.months]

    def draw(axes: Axes) -> None:
        heights = [v or 0 for v in values]
        bars = axes.bar(labels, heights, color=[ORANGE if m == data.month else BLUE for m in data.months])
        top = max(heights, default=0) or 1
        for bar, value, raw in zip(bars, values, figure.values, strict=True):
            text = number(value) if value is not None else str(raw)
            axes.text(bar.get_x() + bar.get_width() / 2, (value or 0) + top * 0.02, text, ha="center", fontsize=7)
        axes.set_title(label, fontsize=9, loc="left")
        axes.tick_params(labelsize=7)
        axes.set_ylim(0, top * 1.18)

    return _chart(draw)


def _lines(data: ReportData, title: str, labels: dict[str, str], unit: str) -> Image:
    chosen = [(f, labels[f.label]) for f in data.figures if f.label in labels]
    ticks = [month_short(m) for m in data.months]

    def draw(axes: Axes) -> None:
        for (figure, name), colour in zip(chosen, (BLUE, ORANGE), strict=False):
            values = _numeric(figure.values)
            axes.plot(ticks, [float("nan") if v is None else v for v in values], marker="o", color=colour, label=name)
            for x, v in zip(ticks, values, strict=True):
                if v is not None:
                    axes.annotate(number(v), (x, v), textcoords="offset points", xytext=(0, 5), ha="center", fontsize=7)
        axes.set_title(title, fontsize=9, loc="left")
        axes.tick_params(labelsize=7)
        axes.set_ylim(bottom=0, top=100 * 1.12 if unit == "%" else None)
        if len(chosen) > 1:
            axes.legend(fontsize=7, frameon=False)

    return _chart(draw)


def _table(rows: list[list[str]], widths: list[float], styles: dict[str, ParagraphStyle]) -> Table:
    cells = [[Paragraph(escape(c), styles["cell"]) for c in row] for row in rows]
    table = Table(cells, colWidths=[w * cm for w in widths], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f7")),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#d1d5db")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def render(data: ReportData) -> bytes:
    """The report as PDF bytes."""
    _register_fonts()
    plt.rcParams["font.family"] = "DejaVu Sans"
    styles = _styles()
    p = styles["body"]
    story: list[Flowable] = [Paragraph(escape(data.title), styles["title"]), Spacer(1, 4)]
    if data.signoff:
        state = f"Firmado por el comité ciudadano de transparencia el {data.signoff['firmado']}."
    else:
        state = "BORRADOR: el comité ciudadano aún no ha firmado este mes. No es una publicación."
    story += [
        Paragraph(escape(state), styles["h2"] if not data.signoff else p),
        Paragraph(
            escape(
                f"Cifras de la publicación del {data.taken_at.date().isoformat()} (Línea Ciudadana del Bono Vida "
                f"Mejor). Para proteger a las personas, las cifras de 1 a {data.k - 1} casos, y las que permitirían "
                f"calcularlas, aparecen como «{RESERVED}»; un indicador que no respaldan al menos {data.k} casos "
                f"aparece como «{NOT_PUBLISHED}»; «{NO_DATA}» es un mes sin datos."
            ),
            styles["small"],
        ),
        Paragraph(escape(f"1. {month_name(data.month).capitalize()} frente a los seis meses anteriores"), styles["h2"]),
    ]
    header = ["", *[month_short(m) for m in data.months]]
    rows = [header] + [[f.label, *[number(v, f.unit) for v in f.values]] for f in data.figures]
    story.append(_table(rows, [5.2] + [1.6] * len(data.months), styles))
    story += [
        Spacer(1, 6),
        _bars(data, "Casos recibidos"),
        _lines(data, "Resueltos dentro del plazo (%)", {"Resueltos dentro del plazo": "en plazo"}, "%"),
        _lines(
            data,
            "Días para resolver",
            {"Días para resolver (mediana)": "mediana", "Días para resolver (percentil 90)": "percentil 90"},
            "",
        ),
        Paragraph("2. Indicadores del mes", styles["h2"]),
    ]
    if data.departments:
        rows = [["Departamento", "Casos", "Por 1.000 hogares"]] + [
            [d, number(n), number(rate)] for d, n, rate in data.departments
        ]
        story.append(KeepTogether(_table(rows, [6, 3, 4], styles)))
    if data.categories:
        story.append(Spacer(1, 6))
        rows = [["Categoría", "Casos del mes", "En plazo (desde el inicio)"]] + [
            [c, number(n), number(share, "%")] for c, n, share in data.categories
        ]
        story.append(KeepTogether(_table(rows, [8, 3, 4], styles)))
    if data.satisfaction:
        story.append(Spacer(1, 6))
        rows = [["Calificación de la respuesta", "Personas"]] + [[r, number(n)] for r, n in data.satisfaction]
        story.append(KeepTogether(_table(rows, [8, 3], styles)))
    story.append(Paragraph("3. Alertas", styles["h2"]))
    if data.flags:
        for flag in data.flags:
            story.append(
                Paragraph(
                    f"<b>{escape(flag['tipo_nombre'])}: {escape(flag['nombre'])}.</b> "
                    f"Regla: {escape(flag['explicacion'])}",
                    p,
                )
            )
    else:
        story.append(Paragraph("Ninguna regla de alerta se activó este mes.", p))
    story.append(Paragraph("4. Observaciones del comité ciudadano", styles["h2"]))
    if data.signoff:
        for part in data.signoff["observaciones"].splitlines() or [""]:
            story.append(Paragraph(escape(part), p))
    else:
        story.append(Paragraph("Pendientes: el comité escribe sus observaciones al firmar el mes.", p))
    story.append(Paragraph("Cómo se calcula cada indicador", styles["h2"]))
    for name, text in data.notes.items():
        story.append(Paragraph(f"<b>{escape(name)}</b>: {escape(text)}", styles["small"]))
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=1.8 * cm,
        rightMargin=1.8 * cm,
        topMargin=1.6 * cm,
        bottomMargin=1.6 * cm,
        title=data.title,
        author="Línea Ciudadana · Bono Vida Mejor",
        invariant=1,  # no creation time or random id in the file: the same data gives the same bytes
    )
    document.build(story, onFirstPage=_footer, onLaterPages=_footer)
    return buffer.getvalue()


def _footer(canvas: Canvas, document: SimpleDocTemplate) -> None:
    canvas.saveState()
    canvas.setFont("DejaVu", 7)
    canvas.setFillColor(colors.HexColor(GREY))
    canvas.drawString(1.8 * cm, 1 * cm, f"{document.title} · página {document.page}")
    canvas.restoreState()
