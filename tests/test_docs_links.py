"""Every image and relative link in README.md and docs/ names a file in the repository, so a
renamed screenshot or a moved page cannot leave a guide pointing at nothing."""

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]
FENCE = re.compile(r"^```.*?^```", re.M | re.S)
CODE = re.compile(r"`[^`\n]*`")
# [text](target) and ![alt](target), with an optional "title"; [label]: target definitions.
INLINE = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
DEFINED = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.M)
IMG_TAG = re.compile(r"<img\s[^>]*src=[\"']([^\"']+)[\"']", re.I)


def targets(text: str) -> list[str]:
    """The relative targets a Markdown text links to or shows, anchors dropped; code spans and
    fenced blocks hold examples, not links, and are skipped."""
    prose = CODE.sub("", FENCE.sub("", text))
    found = INLINE.findall(prose) + DEFINED.findall(prose) + IMG_TAG.findall(prose)
    relative = []
    for target in found:
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("#"):
            continue  # https:, mailto:, … and links within the page
        relative.append(target.split("#", 1)[0].split("?", 1)[0])
    return relative


def broken(page: Path) -> list[str]:
    problems = []
    for target in targets(page.read_text()):
        resolved = (page.parent / target).resolve()
        if not resolved.is_relative_to(ROOT) or not resolved.exists():
            problems.append(f"{page.relative_to(ROOT)}: {target}")
    return problems


def test_the_finder_sees_links_images_and_definitions():
    text = ("![a shot](shots/a.png) see [the guide](guides/x.md#tasks \"title\") and\n"
            "[ref]: other.md\n<img alt='b' src=\"b.png\">\n"
            "`[not](code.md)` [web](https://example.org) [here](#top)\n```\n[no](fenced.md)\n```\n")
    assert targets(text) == ["shots/a.png", "guides/x.md", "other.md", "b.png"]


def test_every_link_and_image_in_the_docs_resolves():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    assert len(pages) > 10
    problems = [problem for page in pages for problem in broken(page)]
    assert not problems, "these links and images name no file in the repository:\n" + \
        "\n".join(problems)
