"""Writes two-column-report.pdf: a two-page, two-column report as journals print them.

Not run by the tests (they read the PDF this wrote); rerun it after changing the text:

    python -m venv /tmp/rl && /tmp/rl/bin/pip install reportlab
    /tmp/rl/bin/python tests/data/pdf/make_two_column_pdf.py

The page has what PDF readers get wrong: a title across both columns, justified columns of
Helvetica 11 pt with words hyphenated across lines ("struc-" / "tures") and a compound broken
at its own hyphen ("well-" / "known"), a running header (journal name, page number) and a
running footer on every page. Page 1 writes its text column by column; page 2 writes it
row by row across both columns, as OCR text layers and some converters do, so a reader that
follows the content stream mixes the columns there.
"""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.pagesizes import letter
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

FONT, SIZE, LEADING = "Helvetica", 11.0, 14.0
PAGE_W, PAGE_H = letter
MARGIN, GUTTER = 72.0, 24.0
COL_W = (PAGE_W - 2 * MARGIN - GUTTER) / 2
TOP, BOTTOM = PAGE_H - 90.0, 72.0

TITLE = "Tides, Salt and Steel: Forty Years of the Harbor Bridge"
AUTHORS = "M. Okafor and L. Varga, Coastal Structures Laboratory"

PARAGRAPHS = [
    "The Harbor Bridge was opened in 1984 after six years of construction. It carries four lanes of "
    "traffic and a railway line across the mouth of the estuary, where the tidal range reaches seven "
    "metres and the water is brackish for most of the year. Its main span is 412 metres long.",
    "Salt spray is the most dangerous enemy of steel structures near the sea. Chlorides settle on the "
    "girders with every storm, and the protective coatings fail first at bolted joints, where water "
    "collects in narrow crevices and cannot dry. The original coating was a lead-based primer with an "
    "alkyd topcoat, a well-known system at the time that lasted about twelve years before the first "
    "large repairs.",
    "Inspections since 1990 have followed a fixed schedule. Every second year divers examine the "
    "foundations of the piers, and engineers climb the main girders with ultrasonic gauges to measure "
    "the remaining thickness of the steel plates. The measurements are entered into a register that "
    "now holds more than eleven thousand readings from four hundred fixed points.",
    "The register shows that corrosion is uneven. Girders on the seaward side lose metal three times "
    "faster than those on the landward side, because the prevailing westerly wind drives the spray "
    "against them. Near the expansion joints the loss is worst of all, and two plates there were "
    "replaced in 2009 after they had lost almost a third of their original thickness.",
    "Repainting the whole bridge takes about four years. Crews work under moving platforms that are "
    "wrapped in plastic sheeting, so that old paint and blasting grit do not fall into the estuary. "
    "The current system uses a zinc-rich primer, an epoxy intermediate coat and a polyurethane "
    "topcoat; laboratory tests suggest it should protect the steel for twenty-five years.",
    "Traffic has grown far beyond the original forecasts. The designers expected twenty thousand "
    "vehicles a day; by 2019 the daily average had reached fifty-four thousand, and heavy lorries "
    "made up almost a fifth of them. The heavier loads increase fatigue stresses in the deck, where "
    "small cracks were first found at welded stiffeners in 2012.",
    "The cracks are monitored with strain gauges and acoustic sensors that record every passing "
    "lorry. So far none of them has grown faster than the models predict, and the engineers regard "
    "the deck as safe, but they recommend that the stiffeners be strengthened before the bridge "
    "reaches its fiftieth year of service.",
    "Climate change adds a further uncertainty. Sea level at the harbor gauge has risen by eleven "
    "centimetres since the bridge was opened, and storm surges now reach the lower bearings about "
    "once a decade. Raising the bearings would be expensive and would close the railway line for "
    "several months, so the authority has chosen to protect them with removable steel shields.",
    "The foundations have given less trouble than the steel. Each pier stands on a cluster of "
    "concrete piles driven through soft clay into a bed of gravel about thirty metres below the "
    "riverbed. Scour around the piles was the main concern of the designers, and in 1997 a flood "
    "removed almost two metres of sediment from around the third pier in a single week.",
    "After that flood the authority placed a blanket of rock armour around all of the river piers. "
    "Each blanket weighs about nine thousand tonnes and is checked by sonar after every major flood. "
    "Since the armour was placed, the riverbed around the piers has stayed within half a metre of "
    "its level in 1998, and no further scour has been measured.",
    "The railway line brought problems of its own. Trains cross the bridge forty times a day, and "
    "their vibrations loosened hundreds of rivets in the rail stringers during the first decade. "
    "The rivets were replaced with high-strength bolts between 1995 and 1999, a slow task that "
    "could only be carried out at night, when no trains were running.",
    "The cables of the lighting masts and the signal cabinets suffered too. Moisture entered the "
    "cable ducts through cracked seals, and in the winter of 2003 a short circuit left the bridge "
    "dark for three nights. All ducts have since been fitted with drain holes and heated cabinets, "
    "and the electrical equipment is now inspected every spring.",
    "Money has always been the limiting factor. The authority spends about four million a year on "
    "maintenance, roughly one percent of what a new bridge of the same size would cost today. The "
    "engineers argue that this share should rise as the structure ages, because repairs that are "
    "postponed become more expensive with every passing winter.",
    "Public attention has helped. When the first large repairs closed two lanes for a summer in "
    "1996, the local newspaper ran a series of articles about the bridge and its engineers, and "
    "the council agreed to a fixed maintenance budget for the first time. That budget has been "
    "renewed every five years since then.",
    "The experience of forty years shows that a steel bridge in salt water can be kept in good "
    "condition, but only through constant attention. The inspection register, begun almost by "
    "accident, has become the most valuable tool of the maintenance engineers, and its readings "
    "now guide every decision about repairs, coatings and the future of the structure.",
]


def hyphen_point(word: str) -> int:
    """Where a long word is broken: between two consonants after a vowel ("struc-tures"), else
    after a vowel before a consonant ("engi-neers"), leaving at least three letters on each side."""
    vowels = "aeiouy"
    if not word.isalpha():
        return 0
    for i in range(3, len(word) - 2):
        if word[i - 2] in vowels and word[i - 1] not in vowels and word[i] not in vowels:
            return i
    for i in range(3, len(word) - 2):
        if word[i - 1] in vowels and word[i] not in vowels:
            return i
    return 0


def wrap(paragraph: str) -> list[tuple[str, bool]]:
    """The paragraph's lines (text, justified), hyphenating a long word that does not fit."""
    words = paragraph.split()
    lines: list[tuple[str, bool]] = []
    line: list[str] = []
    while words:
        word = words.pop(0)
        trial = " ".join(line + [word])
        if stringWidth(trial, FONT, SIZE) <= COL_W:
            line.append(word)
            continue
        if "-" in word.strip("-"):  # a compound: break at its own hyphen
            head, tail = word.split("-", 1)
            if stringWidth(" ".join(line + [head + "-"]), FONT, SIZE) <= COL_W:
                lines.append((" ".join(line + [head + "-"]), True))
                line, words = [], [tail] + words
                continue
        cut = hyphen_point(word.rstrip(".,;:"))
        if len(word) >= 7 and cut and stringWidth(" ".join(line + [word[:cut] + "-"]), FONT, SIZE) <= COL_W:
            lines.append((" ".join(line + [word[:cut] + "-"]), True))
            line, words = [], [word[cut:]] + words
            continue
        lines.append((" ".join(line), True))
        line = [word]
    lines.append((" ".join(line), False))
    return lines


def column_lines() -> list[tuple[str, bool] | None]:
    """All lines of the body, None for the space between paragraphs."""
    out: list[tuple[str, bool] | None] = []
    for p in PARAGRAPHS:
        out.extend(wrap(p))
        out.append(None)
    return out


def draw_line(c: canvas.Canvas, x: float, y: float, line: tuple[str, bool] | None) -> None:
    if line is None:
        return
    text, justified = line
    t = c.beginText(x, y)
    t.setFont(FONT, SIZE)
    gaps = text.count(" ")
    if justified and gaps:
        t.setWordSpace((COL_W - stringWidth(text, FONT, SIZE)) / gaps)
    t.textLine(text)
    c.drawText(t)


def main() -> None:
    out = Path(__file__).with_name("two-column-report.pdf")
    c = canvas.Canvas(str(out), pagesize=letter, invariant=1)
    c.setTitle(TITLE)
    lines = column_lines()
    page = 0
    while lines:
        page += 1
        c.setFont(FONT, 8)
        c.drawString(MARGIN, PAGE_H - 40, "Journal of Coastal Structures, Vol. 12 (2021)")
        c.drawRightString(PAGE_W - MARGIN, PAGE_H - 40, str(40 + page))
        c.drawCentredString(PAGE_W / 2, 40, f"Okafor and Varga: The Harbor Bridge at forty - page {page}")
        top = TOP
        if page == 1:
            c.setFont("Helvetica-Bold", 16)
            c.drawCentredString(PAGE_W / 2, TOP, TITLE)
            c.setFont(FONT, 10)
            c.drawCentredString(PAGE_W / 2, TOP - 20, AUTHORS)
            top = TOP - 50
        rows = int((top - BOTTOM) // LEADING)
        left, right = lines[:rows], lines[rows:2 * rows]
        lines = lines[2 * rows:]
        if page == 1:  # column by column
            for i, line in enumerate(left):
                draw_line(c, MARGIN, top - i * LEADING, line)
            for i, line in enumerate(right):
                draw_line(c, MARGIN + COL_W + GUTTER, top - i * LEADING, line)
        else:  # row by row, across both columns
            for i in range(rows):
                if i < len(left):
                    draw_line(c, MARGIN, top - i * LEADING, left[i])
                if i < len(right):
                    draw_line(c, MARGIN + COL_W + GUTTER, top - i * LEADING, right[i])
        c.showPage()
    c.save()


if __name__ == "__main__":
    main()
