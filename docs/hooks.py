"""MkDocs hooks: pages that include a Markdown file of the repository, and links to such files.

A page includes a file with a line ``--8<-- "path"`` (the path from the top of the repository), as
pymdownx.snippets writes it. The file's relative links, and every page's links to an included file,
are rewritten to the page that includes it: the same links work on GitHub, where they point at the
files, and in the manual. A link to a file of the repository that no page includes is left as it is,
so that ``mkdocs build --strict`` reports it.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INCLUDE = re.compile(r'^--8<-- "(?P<path>[^"]+)"$', re.MULTILINE)
LINK = re.compile(r"(?<=\]\()(?P<target>[^)\s#]*)(?P<anchor>#[^)\s]*)?(?=\))")
# The repository path of every included file -> the repository path of the page that includes it.
included: dict[str, str] = {}


def on_files(files, config):
    included.clear()
    for file in files.documentation_pages():
        for match in INCLUDE.finditer(Path(file.abs_src_path).read_text(encoding="utf-8")):
            included[match["path"]] = f"docs/{file.src_uri}"
    return files


def on_page_markdown(markdown, page, config, files):
    here = f"docs/{page.file.src_uri}"

    def include(match: re.Match) -> str:
        path = match["path"]
        source = ROOT / path
        if not source.is_file():
            raise FileNotFoundError(f"{page.file.src_uri}: included file {path} does not exist")
        return relink(source.read_text(encoding="utf-8"), path, here)

    return INCLUDE.sub(include, relink(markdown, here, here))


def relink(text: str, source: str, page: str) -> str:
    """The links of `text`, written in the file at repository path `source`, as seen from the page at `page`."""

    def one(match: re.Match) -> str:
        target = match["target"]
        if not target or "://" in target or target.startswith(("/", "mailto:")):
            return match[0]
        path = posixpath.normpath(posixpath.join(posixpath.dirname(source), target))
        path = included.get(path, path)
        if not path.startswith("docs/"):
            return match[0]
        return posixpath.relpath(path, posixpath.dirname(page)) + (match["anchor"] or "")

    return LINK.sub(one, text)
