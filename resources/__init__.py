"""Files shipped with the app: stylesheets (day and night themes) and icons."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent


def path(name: str) -> Path:
    """The shipped file `name` (e.g. 'night.qss', 'icons/tandem.svg'); FileNotFoundError if absent."""
    found = ROOT / name
    if not found.is_file():
        raise FileNotFoundError(f"resource {name!r} is not in {ROOT}")
    return found


def text(name: str) -> str:
    return path(name).read_text(encoding="utf-8")


def stylesheet(theme: str) -> str:
    """The app's stylesheet for `theme` ('day' or 'night'): the shared sizes, then the theme's
    colours, with the icons it names (url(icons/...)) found where the app is installed."""
    sheet = text("base.qss") + text(f"{theme}.qss")
    return sheet.replace("url(icons/", f"url({(ROOT / 'icons').as_posix()}/")
