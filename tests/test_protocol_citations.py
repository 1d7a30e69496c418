"""Every "§N", "§N.M" and "§12 item K" cited in the repository's code and docs exists in docs/PROTOCOL.md."""
import os
import pathlib
import re

REPO = pathlib.Path(__file__).resolve().parents[1]
PROTOCOL = REPO / "docs" / "PROTOCOL.md"
PRUNED_DIRS = {"__pycache__", "logs", "build"}  # plus every hidden directory (.venv, .git, ...)

# "§5.2", "§6.6–6.7", "§5.2–§5.5", and "§12 item 6" / "§12 items 10–11" (possibly across a line break).
SECTION = re.compile(r"§(\d+)(?:\.(\d+))?(?:\s*[–-]\s*§?(\d+)(?:\.(\d+))?)?")
ITEMS = re.compile(r"\s+items?\s+(\d+)(?:\s*[–-]\s*(\d+))?")
# Sections of other documents, not of the protocol: the DVAE, DVAE++ and DVAE# papers and the tf2 notes.
OTHER_DOCUMENT = re.compile(r"(?:DVAE#?|DVAE\+\+|tf2-notes)\s*$")


def _sources():
    for root, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in PRUNED_DIRS and not d.endswith(".egg-info")]
        for name in files:
            if name.endswith((".py", ".md")):
                yield pathlib.Path(root) / name


def _citations_in(text):
    """(line, kind, key) for every protocol citation in `text`; kind is 'section' (key "N" or "N.M") or 'item'."""
    found = []
    for match in SECTION.finditer(text):
        if OTHER_DOCUMENT.search(text[max(0, match.start() - 12):match.start()]):
            continue
        line = text.count("\n", 0, match.start()) + 1
        major, minor, end_major, end_minor = match.groups()
        if end_major is not None and end_minor is None and minor is not None:
            end_major, end_minor = major, end_major  # "§6.6–6.7": the range's end shares the major number
        if end_major is None:
            found.append((line, "section", major if minor is None else f"{major}.{minor}"))
        elif minor is not None and end_minor is not None and end_major == major:
            found.extend((line, "section", f"{major}.{m}") for m in range(int(minor), int(end_minor) + 1))
        else:
            found.extend([(line, "section", major if minor is None else f"{major}.{minor}"),
                          (line, "section", end_major if end_minor is None else f"{end_major}.{end_minor}")])
        items = ITEMS.match(text, match.end())
        if major == "12" and minor is None and end_major is None and items:
            first, last = int(items.group(1)), int(items.group(2) or items.group(1))
            found.extend((line, "item", str(k)) for k in range(first, last + 1))
    return found


def _citations():
    """(file, line, kind, key) for every protocol citation in the repository's .py and .md files."""
    return [(str(path.relative_to(REPO)), *citation)
            for path in _sources() for citation in _citations_in(path.read_text(encoding="utf-8"))]


def _protocol_targets():
    """Section numbers with a heading ("## N." or "### N.M") and the numbered items of §12."""
    lines = PROTOCOL.read_text(encoding="utf-8").splitlines()
    sections = set()
    for line in lines:
        match = re.match(r"^##\s+(\d+)\.\s+\S", line) or re.match(r"^###\s+(\d+\.\d+)\s+\S", line)
        if match:
            sections.add(match.group(1))
    start = next(i for i, line in enumerate(lines) if re.match(r"^##\s+12\.\s", line))
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("## "))
    items = {m.group(1) for line in lines[start:end] if (m := re.match(r"^(\d+)\.\s+\S", line))}
    return sections, items


def test_protocol_has_sections_0_to_13_and_30_items_in_section_12():
    sections, items = _protocol_targets()
    assert {str(n) for n in range(14)} <= sections
    assert items == {str(k) for k in range(1, 31)}


def test_citation_parser_on_every_form_used():
    text = ("protocol §5.2–§5.5 and §6.6–6.7\n(DVAE++ §3, DVAE# §4, tf2-notes §2.4) §9; §12 items 10–11;\n"
            "(§10.2, §12\n   item 24) and §12 item 6.")
    assert _citations_in(text) == [
        (1, "section", "5.2"), (1, "section", "5.3"), (1, "section", "5.4"), (1, "section", "5.5"),
        (1, "section", "6.6"), (1, "section", "6.7"), (2, "section", "9"), (2, "section", "12"),
        (2, "item", "10"), (2, "item", "11"), (3, "section", "10.2"), (3, "section", "12"), (3, "item", "24"),
        (4, "section", "12"), (4, "item", "6")]


def test_citations_are_found_in_code_and_docs():
    citations = _citations()
    assert len(citations) >= 80, len(citations)
    assert {"configs/paper.py", "dvae/model/priors.py", "docs/DEVIATIONS.md"} <= {c[0] for c in citations}
    assert any(kind == "item" for _, _, kind, _ in citations)


def test_every_protocol_citation_exists_in_the_protocol():
    sections, items = _protocol_targets()
    dangling = [f"{path}:{line}: §{key}" if kind == "section" else f"{path}:{line}: §12 item {key}"
                for path, line, kind, key in _citations()
                if key not in (sections if kind == "section" else items)]
    assert not dangling, "citations of missing protocol sections or items:\n" + "\n".join(dangling)
