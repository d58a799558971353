"""Spanish and Arabic: every string people read goes through the translation functions, both
catalogs hold every message, and pages, numbers and e-mails come out in the reader's language.

The catalogs are read here with Babel (``read_po``), independently of the gettext the portal uses;
the messages are extracted afresh from the code (``setup.py extract_messages``, as ``make i18n``).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from babel import Locale
from babel.messages.pofile import read_po
from babel.numbers import parse_pattern
from bs4 import BeautifulSoup

from ckanext.cd3p.common import geography
from tests import equity, factories, partners
from tests.helpers import I18N, catalog, translated
from tests.mail import Inbox, body

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "ckanext-cd3p" / "ckanext" / "cd3p"
TEMPLATES = PACKAGE / "templates"
LANGUAGES = ("es", "ar")

# Words a page may show untranslated: file formats.
UNTRANSLATED = {"CSV", "XLSX"}
# Python calls whose message reaches a person: it must be a translation call, not a literal.
SINKS = {"ValidationError", "flash_error", "flash_success", "flash_notice", "abort"}
SINKS |= {"NotAuthorized", "ObjectNotFound", "Invalid", "StopOnError"}
FIELDS = re.compile(r"\{[^{}]*\}|%\([a-z_]+\)[sd]|%[sd]")
TAGS = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)")


# --- nothing outside the translation functions --------------------------------------------------


def untranslated_template_text(source: str) -> list[str]:
    """Words of a template that no ``_()``/``{% trans %}`` wraps: text between tags, and the
    ``placeholder``/``title``/``aria-label``/``alt`` attributes."""
    s = re.sub(r"\{#.*?#\}", "", source, flags=re.S)
    s = re.sub(r"\{%-?\s*trans\b.*?endtrans\s*-?%\}", " ", s, flags=re.S)
    s = re.sub(r"<script\b.*?</script>|<style\b.*?</style>", "", s, flags=re.S)
    s = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "\x00", s, flags=re.S)
    found = [
        m.group(0)
        for m in re.finditer(r'\b(placeholder|title|aria-label|alt)="([^"]*)"', s)
        if re.search(r"[A-Za-z]{2,}", m.group(2))
    ]
    between = re.sub(r"&[a-z#0-9]+;", " ", re.sub(r"<[^>]*>", "\n", s, flags=re.S))
    for line in between.split("\n"):
        words = set(re.findall(r"[A-Za-z]{2,}", line.replace("\x00", " "))) - UNTRANSLATED
        if words:
            found.append(line.strip())
    return found


def _is_translation(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
    return name in {"_", "ngettext", "ungettext", "gettext", "Text"}


def _literals(node: ast.AST) -> list[str]:
    if _is_translation(node):
        return []
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and re.search(r"[A-Za-z]{2,} ", node.value)
    ):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        words = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
        return [ast.unparse(node)] if re.search(r"[A-Za-z]{2,}", words) else []
    return [text for child in ast.iter_child_nodes(node) for text in _literals(child)]


def untranslated_python_text(source: str) -> list[str]:
    """Literal messages handed to a person: raised as a validation or auth error, flashed, or an
    auth function's ``msg``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in SINKS:
                for arg in [*node.args, *(k.value for k in node.keywords)]:
                    found += [f"line {node.lineno}: {t}" for t in _literals(arg)]
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "msg":
                    found += [f"line {node.lineno}: {t}" for t in _literals(value)]
    return found


def test_the_string_checks_catch_what_they_are_for() -> None:
    assert untranslated_template_text('<h1>{{ _("Ours") }}</h1><p>Not ours</p>') == ["Not ours"]
    assert untranslated_template_text('<input placeholder="Search here">') == ['placeholder="Search here"']
    assert untranslated_template_text("{% trans %}Fine {{ x }}{% endtrans %} <b>{{ y }}</b> CSV") == []
    assert untranslated_python_text('raise tk.ValidationError({"x": ["Bad value"]})') == ["line 1: Bad value"]
    assert untranslated_python_text('raise tk.ValidationError({"x": [tk._("Bad value")]})') == []
    assert untranslated_python_text('def f(c, d):\n    return {"success": False, "msg": f"No {d}"}') == [
        "line 2: f'No {d}'"
    ]


@pytest.mark.parametrize(
    "path",
    sorted(TEMPLATES.rglob("*.html")) + sorted(TEMPLATES.rglob("*.txt")),
    ids=lambda p: str(p.relative_to(TEMPLATES)),
)
def test_templates_have_no_text_outside_the_translation_functions(path: Path) -> None:
    assert untranslated_template_text(path.read_text(encoding="utf-8")) == []


def test_modules_hand_people_no_untranslated_message() -> None:
    found = {
        str(path.relative_to(PACKAGE)): untranslated_python_text(path.read_text(encoding="utf-8"))
        for path in sorted(PACKAGE.rglob("*.py"))
        if "migration" not in path.parts and path.name != "demo.py"  # demo.py: the shell's errors
    }
    assert {path: texts for path, texts in found.items() if texts} == {}


def test_javascript_takes_its_words_from_the_page() -> None:
    for path in (PACKAGE / "assets").glob("*.js"):
        code = re.sub(r"/\*.*?\*/|//[^\n]*", "", path.read_text(encoding="utf-8"), flags=re.S)
        quoted = set(re.findall(r"'([^'\n]*)'", code)) - {"use strict"}
        sentences = [s for s in quoted if re.search(r"[A-Za-z]{2,} [A-Za-z]{2,}", s)]
        assert sentences == [], path.name


# --- the catalogs -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Every message of the code today, extracted as ``make i18n`` does."""
    out = tmp_path_factory.mktemp("i18n") / "messages.pot"
    subprocess.run(
        [sys.executable, "-W", "ignore", "setup.py", "-q", "extract_messages", "-o", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with out.open("rb") as f:
        return read_po(f)


def _ids(messages: Any) -> set[Any]:
    return {m.id if isinstance(m.id, str) else tuple(m.id) for m in messages if m.id}


def test_the_template_catalog_is_current(extracted: Any) -> None:
    with (I18N / "ckanext-cd3p.pot").open("rb") as f:
        committed = read_po(f)
    assert _ids(committed) == _ids(extracted), "run `make i18n`"


def test_messages_from_the_yaml_files_are_extracted(extracted: Any) -> None:
    ids = _ids(extracted)
    # A scheming label, help text and choice; an indicator's title and description; a measure's.
    assert {"Equity topics", "Households without a computer", "Devices distributed"} <= ids
    assert "Share of households with no desktop, laptop, tablet or smartphone." in ids
    assert "500" not in ids  # a number placeholder is not a message


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_is_translated_with_its_placeholders(extracted: Any, lang: str) -> None:
    found = catalog(lang)
    missing, wrong = [], []
    for message in extracted:
        if not message.id:
            continue
        ours = found.get(message.id)
        strings = (
            [] if ours is None else ([ours.string] if isinstance(ours.string, str) else list(ours.string))
        )
        if not strings or not all(s.strip() for s in strings) or "fuzzy" in ours.flags:
            missing.append(message.id)
            continue
        sources = [message.id] if isinstance(message.id, str) else list(message.id)
        allowed = sorted(FIELDS.findall(sources[-1]))
        for s in strings:
            if isinstance(message.id, str) and sorted(FIELDS.findall(s)) != allowed:
                wrong.append((message.id, s))
            elif not set(FIELDS.findall(s)) <= set(FIELDS.findall(" ".join(sources))):
                wrong.append((sources, s))
            if sorted(TAGS.findall(s)) != sorted(TAGS.findall(sources[0])):
                wrong.append((sources, s))
        if not isinstance(message.id, str):
            assert len(strings) == found.num_plurals, message.id
    total = len(_ids(extracted))
    print(f"{lang}: {total - len(missing)}/{total} messages translated")
    assert missing == []
    assert wrong == []


# --- pages, numbers, e-mails in the reader's language -------------------------------------------


@pytest.fixture
def sources(request: pytest.FixtureRequest, with_plugins: None) -> dict[str, Any]:
    return equity.kept_sources(request)


def page(app: Any, path: str) -> BeautifulSoup:
    response = app.get(path)
    assert response.status_code == 200, path
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def without_computer_citywide() -> float:
    """Households without a computer, citywide, in percent: from the ACS file, by hand."""
    acs = {r["geoid"]: r for r in equity.acs_rows()}
    rows = [(equity.num(acs[g]["households"]), equity.num(acs[g]["f_computer"])) for g in geography.tracts()]
    kept = [(h, f) for h, f in rows if h is not None and f is not None]
    return 100 * sum(h * (1 - f) for h, f in kept) / sum(h for h, _ in kept)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_equity_page_speaks_the_language_with_its_numbers(
    app: Any, sources: dict[str, Any], lang: str
) -> None:
    doc = page(app, f"/{lang}/equity")

    assert doc.html["lang"] == lang
    assert doc.html.get("dir") == ("rtl" if lang == "ar" else None)
    assert translated(lang, "Digital equity in Detroit") in [h.get_text(strip=True) for h in doc("h1")]
    card = doc.select_one('.cd3p-headline[data-indicator="households-without-computer"]')
    assert card.select_one(".cd3p-headline-title").get_text(strip=True) == translated(
        lang, "Households without a computer"
    )
    # The locale's own percent pattern, one decimal: 17.8% in Arabic, "17,8 %" in Spanish.
    pattern = parse_pattern(Locale.parse(lang).percent_formats[None].pattern)
    pattern.frac_prec = (1, 1)
    value = pattern.apply(without_computer_citywide() / 100, Locale.parse(lang))
    assert card.select_one(".cd3p-headline-value").get_text(strip=True) == value
    # English stays the default, without a prefix.
    assert "Digital equity in Detroit" in [h.get_text(strip=True) for h in page(app, "/equity")("h1")]


@pytest.mark.usefixtures("with_plugins")
@pytest.mark.parametrize("lang", LANGUAGES)
def test_dataset_form_labels_help_and_choices_come_from_the_catalog(
    app: Any, partner: dict[str, Any], lang: str
) -> None:
    editor = partner["editor"]
    response = app.get(f"/{lang}/dataset/new", headers={"Authorization": editor["token"]})
    assert response.status_code == 200
    doc = BeautifulSoup(response.get_data(as_text=True), "html.parser")

    label = doc.select_one('label[for="field-access_level"]').get_text(" ", strip=True)
    assert label.startswith(translated(lang, "Access level")), label
    words = " ".join(doc.get_text(" ").split())
    assert translated(lang, "Equity topics") in words
    assert translated(lang, "Every digital-equity topic the data speaks to.") in words
    assert translated(lang, "Device access") in words
    options = {o["value"]: o.get_text(strip=True) for o in doc.select("#field-access_level option")}
    assert options["partners"] == translated(
        lang, "Partners: every organization with a signed Data Sharing Agreement"
    )


@pytest.mark.usefixtures("with_plugins", "with_request_context")
@pytest.mark.ckan_config("ckan.locale_default", "es")
def test_e_mails_go_out_in_the_portals_language(agreement: dict[str, Any], inbox: Inbox) -> None:
    factories.Sysadmin(email="sysadmin@detroitmi.gov")
    applicant = factories.User(email="lead@techtown.example")
    partners.apply(applicant, "Tech Town Neighbors", data_description="Hotspot loans")
    (received,) = inbox.to("sysadmin@detroitmi.gov")
    subject = translated("es", "New partner application: {org}").format(org="Tech Town Neighbors")
    assert received["Subject"] == subject
    assert translated("es", "Data they can share:") in body(received)


PAGES = [
    "/",
    "/dataset/",
    "/equity",
    "/equity/indicator/households-without-computer",
    "/equity/indicator/digital-equity-index?level=council_district",
    "/equity/place/council_district/district-1",
    "/impact",
    "/partners",
    "/partners/gaps",
    "/analysis",
    "/data-requests",
    "/agreement",
    "/partner/apply",
    "/ckan-admin/freshness",
    "/ckan-admin/partners",
    "/ckan-admin/checks",
    "/ckan-admin/agreements",
]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_page_renders_in_the_language(app: Any, sources: dict[str, Any], lang: str) -> None:
    """Each page of ours, as a sysadmin (who sees every section), in the language: a translation
    whose placeholders were wrong would fail here as an error page."""
    sysadmin = factories.SysadminWithToken()
    for path in PAGES:
        response = app.get(f"/{lang}{path}", headers={"Authorization": sysadmin["token"]})
        assert response.status_code == 200, path
        doc = BeautifulSoup(response.get_data(as_text=True), "html.parser")
        assert doc.html["lang"] == lang, path
