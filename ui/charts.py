"""Small charts drawn with QPainter: no extra Qt module, no network, and the theme's own colors.

Each chart takes plain numbers; its colors come from the widget's palette (set by the day or
night stylesheet), with series colors chosen for a light or a dark background.
"""

import math

from .qt import QColor, QFont, QPainter, QPalette, QPen, QRectF, Qt, QWidget

# name -> (on a light background, on a dark one): dim enough at night not to dazzle.
COLORS = {
    "ok": ("#2a8c82", "#5fa89f"),
    "over": ("#c0503a", "#c77a68"),
    "main": ("#1f3b5a", "#7d97b5"),
    "second": ("#e0a030", "#b8924a"),
    "grid": ("#d5dbe2", "#2c3138"),
}


def nice_top(largest: float) -> tuple[float, float]:
    """A round top for a value axis and its step, at least 1 so an empty chart still draws."""
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000):
        if largest / step <= 5:
            return max(step, math.ceil(largest / step) * step), step
    return math.ceil(largest / 1000) * 1000, 1000


class Chart(QWidget):
    """A chart's frame: colors for the theme, a plot area inside margins for the axis labels."""

    margins = (40, 12, 12, 28)  # left, top, right, bottom

    def __init__(self, min_height: int = 200):
        super().__init__()
        self.setMinimumHeight(min_height)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)

    def color(self, name: str) -> QColor:
        dark = self.palette().color(QPalette.ColorRole.Window).lightness() < 128
        return QColor(COLORS[name][1 if dark else 0])

    def text_color(self) -> QColor:
        return self.palette().color(QPalette.ColorRole.WindowText)

    def plot_rect(self) -> QRectF:
        left, top, right, bottom = self.margins
        return QRectF(left, top, max(1, self.width() - left - right),
                      max(1, self.height() - top - bottom))

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont(self.font())
        font.setPointSizeF(max(7.5, font.pointSizeF() * 0.85))
        painter.setFont(font)
        self.draw(painter)
        painter.end()

    def draw(self, painter: QPainter) -> None:
        raise NotImplementedError

    def value_axis(self, painter: QPainter, top: float, step: float, unit: str = "") -> None:
        """Horizontal grid lines with their values at the left."""
        plot = self.plot_rect()
        value = 0.0
        while value <= top + 1e-9:
            y = plot.bottom() - plot.height() * value / top
            painter.setPen(QPen(self.color("grid"), 1))
            painter.drawLine(int(plot.left()), int(y), int(plot.right()), int(y))
            painter.setPen(self.text_color())
            painter.drawText(QRectF(0, y - 9, plot.left() - 6, 18),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             f"{value:g}{unit}")
            value += step

    def day_axis(self, painter: QPainter, days: int) -> None:
        """Day numbers under the plot: the 1st and every 5th."""
        plot = self.plot_rect()
        painter.setPen(self.text_color())
        width = plot.width() / max(days, 1)
        for day in range(1, days + 1):
            if day == 1 or day % 5 == 0:
                x = plot.left() + width * (day - 0.5)
                painter.drawText(QRectF(x - 15, plot.bottom() + 4, 30, 18),
                                 Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                                 str(day))


class CheckInChart(Chart):
    """Each CRC check-in as a dot on its day, green within the target, red over it, with the
    target as a dashed line."""

    margins = (40, 22, 64, 28)

    def __init__(self):
        super().__init__(220)
        self.days: list[list[float]] = []
        self.target = 7.0

    def set_data(self, days: list[list[float]], target: float) -> None:
        self.days, self.target = days, target
        self.update()

    def draw(self, painter: QPainter) -> None:
        plot = self.plot_rect()
        largest = max((m for day in self.days for m in day), default=0)
        top, step = nice_top(max(largest, self.target * 1.5))
        self.value_axis(painter, top, step)
        self.day_axis(painter, len(self.days))
        width = plot.width() / max(len(self.days), 1)
        painter.setPen(Qt.PenStyle.NoPen)
        for n, day in enumerate(self.days):
            for k, minutes in enumerate(sorted(day)):
                x = plot.left() + width * (n + 0.5) + (k % 3 - 1) * min(4, width / 4)
                y = plot.bottom() - plot.height() * minutes / top
                painter.setBrush(self.color("ok" if minutes <= self.target else "over"))
                painter.drawEllipse(QRectF(x - 4, y - 4, 8, 8))
        y = plot.bottom() - plot.height() * self.target / top
        pen = QPen(self.color("main"), 2, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawLine(int(plot.left()), int(y), int(plot.right()), int(y))
        painter.setPen(self.text_color())
        painter.drawText(QRectF(plot.right() + 4, y - 16, 60, 32),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         f"target\n{self.target:g} min")
        painter.drawText(QRectF(0, 0, plot.left() + 40, 16),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, "minutes")


class BarChart(Chart):
    """Horizontal bars, one per labelled count, each with its value at its end."""

    margins = (170, 6, 36, 6)

    def __init__(self):
        super().__init__(200)
        self.rows: list[tuple[str, float]] = []

    def set_rows(self, rows: list[tuple[str, float]]) -> None:
        self.rows = rows
        self.setMinimumHeight(26 * len(rows) + 12)
        self.update()

    def draw(self, painter: QPainter) -> None:
        plot = self.plot_rect()
        if not self.rows:
            return
        top, _ = nice_top(max((v for _, v in self.rows), default=0))
        band = plot.height() / len(self.rows)
        for n, (label, value) in enumerate(self.rows):
            y = plot.top() + band * n
            painter.setPen(self.text_color())
            painter.drawText(QRectF(0, y, plot.left() - 8, band),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label)
            length = plot.width() * value / top
            bar = QRectF(plot.left(), y + band * 0.2, length, band * 0.6)
            painter.fillRect(bar, self.color("main"))
            painter.drawText(QRectF(plot.left() + length + 4, y, 60, band),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             f"{value:g}")


class DailyBars(Chart):
    """Stacked bars per day, one color per series, with a legend line above the plot."""

    margins = (40, 26, 12, 28)

    def __init__(self):
        super().__init__(220)
        self.series: list[tuple[str, str, list[float]]] = []  # (name, color name, per day)

    def set_series(self, series: list[tuple[str, str, list[float]]]) -> None:
        self.series = series
        self.update()

    def draw(self, painter: QPainter) -> None:
        plot = self.plot_rect()
        days = max((len(values) for _, _, values in self.series), default=0)
        totals = [sum(values[d] for _, _, values in self.series) for d in range(days)]
        top, step = nice_top(max(totals, default=0))
        self.value_axis(painter, top, step)
        self.day_axis(painter, days)
        width = plot.width() / max(days, 1)
        for d in range(days):
            base = 0.0
            for _, color, values in self.series:
                height = plot.height() * values[d] / top
                bar = QRectF(plot.left() + width * d + width * 0.15,
                             plot.bottom() - plot.height() * base / top - height,
                             width * 0.7, height)
                painter.fillRect(bar, self.color(color))
                base += values[d]
        x = plot.left()
        for name, color, values in self.series:
            painter.fillRect(QRectF(x, 6, 12, 12), self.color(color))
            painter.setPen(self.text_color())
            text = f"{name} ({sum(values):g})"
            painter.drawText(QRectF(x + 18, 2, 220, 20),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
            x += 18 + painter.fontMetrics().horizontalAdvance(text) + 24
