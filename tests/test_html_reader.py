"""qa.html_reader: HTML manuals as clean text (pages without a main container, definition lists,
code inside definitions, in-page navigation). Other HTML cases are in test_documents.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.documents import parse_document

from conftest import assistant_over


def html_text(markup: str) -> str:
    return parse_document(markup.encode("utf-8"), "page.html", ".html").text


def _manual_paragraph(topic: str) -> str:
    return (f"<p>The {topic} functions are designed to fit easily in more\nor less any context: in crypto toolkits for "
            "object-oriented languages, in applications like LSH or GNUPG, or even in kernel space. In most contexts you "
            "need more than the basic algorithms, you also need some way to keep track of available\nalgorithms.</p>\n")


def _spans_of(doc, kind: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [doc.text[a:b] for a, b, k in doc.regions if k == kind]


def test_a_page_without_a_main_container_keeps_its_headings_and_definition_terms() -> None:
    """A Texinfo manual (Nettle's) has its headings and paragraphs straight in <body>: trafilatura
    found no main content, and its recovery of loose paragraphs dropped every heading and every
    <dt> ("Function: void sha256_init (...)"), leaving "Initialize the SHA256 state." about nothing.
    Read whole, its menus and node links ("Next: ..., Up: ...") are navigation and stay out."""
    menu = ('<table class="menu"><tr><td>&bull; <a href="#Intro">Introduction</a>:</td><td>&nbsp;</td>'
            '<td>What is Nettle?</td></tr><tr><td>&bull; <a href="#Hash">Hash functions</a>:</td><td>&nbsp;</td>'
            "<td>Functions that hash their input and are used for integrity checks.</td></tr></table>\n")
    nav = '<div class="header"><p>Next: <a href="#Hash">Hash functions</a>, Up: <a href="#Top">Top</a></p></div>\n'
    page = ('<html><body lang="en">\n' + menu + nav + '<h2 class="chapter">1 Introduction</h2>\n' + _manual_paragraph("library")
            + _manual_paragraph("manual") + nav + '<h2 class="chapter">2 Hash functions</h2>\n' + _manual_paragraph("hash")
            + "<dl><dt>Function: <em>void</em> <strong>sha256_init</strong> <em>(struct sha256_ctx *<var>ctx</var>)"
            "</em></dt>\n<dd><p>Initialize the SHA256 state.</p></dd></dl>\n" + _manual_paragraph("digest")
            + "</body></html>")
    doc = parse_document(page.encode(), "manual.html", ".html")
    assert _spans_of(doc, "heading") == ["1 Introduction", "2 Hash functions"]
    assert "• Function: void sha256_init (struct sha256_ctx *ctx): Initialize the SHA256 state." in doc.text
    assert "The digest functions are designed" in doc.text
    for navigation in ("What is Nettle?", "used for integrity checks", "Next:", "Up:"):
        assert navigation not in doc.text, f"{navigation!r}: the menu and node links point to sections, they are none"


@pytest.mark.parametrize(
    ("definitions", "expected"),
    [
        pytest.param("<dt><code>--enable-fat</code></dt><dd><p>Include multiple versions of certain functions.</p></dd>",
                     ["• --enable-fat: Include multiple versions of certain functions."], id="option"),
        pytest.param("<dt>bytecode</dt><dd>Python source code is compiled into bytecode.</dd>",
                     ["• bytecode: Python source code is compiled into bytecode."], id="glossary-term-plain-definition"),
        pytest.param('<dt id="json.dumps">json.dumps(<em>obj</em>)<a class="headerlink" href="#json.dumps">¶</a></dt>'
                     "<dd><p>Serialize <em>obj</em> to a JSON formatted str.</p></dd>",
                     ["• json.dumps(obj): Serialize obj to a JSON formatted str."], id="sphinx-signature-permalink"),
        pytest.param("<dt>Macro: CBC_ENCRYPT</dt><dt>Macro: CBC_DECRYPT</dt><dd><p>A simpler way to invoke them.</p></dd>",
                     ["• Macro: CBC_ENCRYPT, Macro: CBC_DECRYPT: A simpler way to invoke them."], id="two-terms-one-definition"),
        pytest.param("<dt>Example:</dt><dd><p>Hash the file first.</p></dd>", ["• Example: Hash the file first."],
                     id="term-ending-in-a-colon"),
        pytest.param("<dt>CBC_CTX</dt><dd><pre>struct { uint8_t iv[16]; }</pre></dd>",
                     ["• CBC_CTX", "• struct { uint8_t iv[16]; }"], id="definition-opening-with-code-stays-apart"),
    ],
)
def test_a_definition_term_begins_its_definition(definitions: str, expected: list[str]) -> None:
    """A manual's definition rarely names what it defines ("Initialize the SHA256 state."): apart, the
    term is a name that answers nothing and the definition a sentence about nothing."""
    page = ("<html><body><article><h2>Reference</h2>" + _manual_paragraph("reference") + f"<dl>{definitions}</dl>"
            + _manual_paragraph("other") + "</article></body></html>")
    lines = html_text(page).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("The reference functions")) + 2
    assert [line for line in lines[start:start + len(expected) + 1] if line][:len(expected)] == expected


def test_a_code_block_inside_a_definition_ends_where_it_ends() -> None:
    """trafilatura wrote a <pre> inside a <dd> as "- Expands to ```": Markdown took the closing fence
    for an opening one, and the rest of the page (Nettle's manual: 107,000 characters) became code."""
    page = ("<html><body><article><h2>Cipher modes</h2>" + _manual_paragraph("cipher")
            + "<dl><dt>Macro: <strong>CBC_CTX</strong></dt><dd><p>Expands to</p><pre class='example'>{\n   uint8_t "
            "iv[16];\n}\n</pre></dd></dl>" + _manual_paragraph("mode") + "</article></body></html>")
    doc = parse_document(page.encode(), "manual.html", ".html")
    assert _spans_of(doc, "code") == ["{\n   uint8_t iv[16];\n}"]
    assert "```" not in doc.text
    assert "The mode functions are designed" in doc.text


def _article(*blocks: str) -> str:
    return ("<html><body><article><h2>Vectors</h2>" + _manual_paragraph("vector") + "".join(blocks)
            + "<p>Note that we added a type annotation here, because nothing is inserted into the vector yet.</p>"
            + "</article></body></html>")


@pytest.mark.parametrize(
    ("block", "code", "caption"),
    [
        pytest.param('<figure class="listing"><pre class="playground"><code class="language-rust"><span class="kw">let'
                     '</span> v: Vec&lt;i32&gt; = Vec::new();\nv.push(1);</code></pre><figcaption><a href="#l">Listing 8-1'
                     "</a>: Creating a new, empty vector</figcaption></figure>",
                     "let v: Vec<i32> = Vec::new();\nv.push(1);", "Listing 8-1: Creating a new, empty vector",
                     id="code-listing-in-a-figure"),
        pytest.param('<pre class="programlisting">xmlDocPtr\txsltApplyStylesheet\t(<a href="x.html#t">xsltStylesheetPtr'
                     "</a> style, <br/>\t\t xmlDocPtr doc)<br/>\n</pre>",
                     "xmlDocPtr\txsltApplyStylesheet\t(xsltStylesheetPtr style, \n\t\t xmlDocPtr doc)", None,
                     id="bare-pre-with-links-and-line-breaks"),
        pytest.param('<div class="example-wrap"><pre class="rust"><code><span class="kw">let mut</span> v = vec![1];\n'
                     'v.push(<span class="number">3</span>);</code></pre><a class="test-arrow" title="Run code" '
                     'href="https://play.rust-lang.org/?code=x"></a></div>',
                     "let mut v = vec![1];\nv.push(3);", None, id="highlighted-code-beside-a-run-link"),
    ],
)
def test_code_blocks_are_kept_as_code_with_their_captions(block: str, code: str, caption: str | None) -> None:
    """trafilatura dropped a <figure> whole (the Rust book's listings and their captions), wrote a
    bare <pre> as prose lines (gtk-doc's signatures), and dropped highlighted code beside an empty
    "Run" link, with everything after it."""
    doc = parse_document(_article(block).encode(), "page.html", ".html")
    assert _spans_of(doc, "code") == [code]
    assert _spans_of(doc, "caption") == ([caption] if caption else [])
    assert doc.text.endswith("because nothing is inserted into the vector yet.")


def test_a_news_page_whose_sidebar_headings_were_left_out_is_not_read_whole() -> None:
    """Six of the page's eight headings are a sidebar's and a footer's, rightly left out: the page is
    not retried whole (only headings lost inside the kept text count)."""
    article = ("<article><h1>Harbor Bridge restoration finishes under budget</h1>" + _manual_paragraph("restoration")
               + "<h2>Costs</h2>" + _manual_paragraph("cost") + "</article>")
    boxes = "".join(f'<div class="box"><h3>{title}</h3><ul><li><a href="/s{i}">Story {i} about the council vote</a></li>'
                    f"</ul><p>Our {title.lower()} page has more on the bridge works, updated every morning.</p></div>"
                    for i, title in enumerate(["Newsletter", "Follow us", "About the paper", "Regional sports", "Weather"]))
    page = (f'<html><body><div class="main">{article}</div><div class="col-4">{boxes}</div><div class="bottom">'
            "<h4>Contact</h4><p>Write to the newsroom at any time of day or night, we read every letter.</p></div>"
            "</body></html>")
    text = html_text(page)
    assert "The cost functions are designed" in text
    for chrome in ("Newsletter", "updated every morning", "Contact", "newsroom"):
        assert chrome not in text, f"{chrome!r} (a sidebar or footer) was kept"


FAQ = ("<html><body><main><h1>Help</h1><p>Our service stores your files and shares them with your team members "
       "safely, from any browser.</p><details><summary>How do I reset my password?</summary><p>Open the settings page "
       "and choose Reset password; a link is sent to your email address.</p></details><details><summary>How many "
       "people can a folder be shared with?</summary><p>Up to fifty at once.</p></details></main></body></html>")


def test_an_faqs_questions_title_their_answers(tmp_path, check_citations) -> None:  # type: ignore[no-untyped-def]
    """A <details>' <summary> titles what it folds (an FAQ's question above its answer): never the
    answer itself, and the section title its answer is found and read with."""
    doc = parse_document(FAQ.encode(), "help.html", ".html")
    assert _spans_of(doc, "heading") == ["Help", "How do I reset my password?", "How many people can a folder be shared with?"]
    bot = assistant_over(tmp_path, {"help.html": FAQ.encode()})
    answer = bot.ask("How many people can I share a folder with?")
    check_citations(bot.document_text, answer)
    assert answer.answered and answer.citations[0].quote == "Up to fifty at once."
    assert answer.citations[0].section == "How many people can a folder be shared with?"


ZLIB_HOW = Path(__file__).parent / "data" / "docs" / "zlib_how.html"  # zlib's "zlib Usage Example" (zlib licence)


def test_loose_text_between_code_blocks_is_kept() -> None:
    """An old hand-written page writes its prose loose in <body>, between <pre> listings and outside
    any <p>: the main content found held under half of it, and no heading went missing to tell. The
    page is read whole when that keeps most of what was lost."""
    text = " ".join(parse_document(ZLIB_HOW.read_bytes(), ZLIB_HOW.name, ".html").text.split())
    for sentence in ["We often get questions about how the deflate() and inflate() functions should be used.",
                     "If the memory is available, buffers sizes on the order of 128K or 256K bytes should be used.",
                     "The zlib format has a very small header of only two bytes to identify it",
                     "or it is a decompression pipe if zpipe -d is used."]:
        assert sentence in text
