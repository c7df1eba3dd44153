"""Folding the quoted history out of a customer's reply, so the ticket shows what they wrote.

The HTML part says where the quote is whatever the language: Apple Mail and Thunderbird wrap it in
`blockquote type=cite`, Gmail in `div.gmail_quote`, Outlook starts it with a header block (`divRplyFwdMsg`,
`appendonsend`, or a top-bordered div) and everything after that is the quote. The header lines that
remain ("On … wrote:", "Il giorno … ha scritto:") and plain-text replies are folded by mail-parser-reply
(the languages of FOLD_LANGUAGES)."""

from __future__ import annotations

from mailparser_reply import EmailReplyParser
from selectolax.lexbor import LexborHTMLParser, LexborNode

from tessera.mail.inbound.parse import html_to_text

FOLD_LANGUAGES = ["en", "it", "pl", "fr"]
# Containers that hold the quote (and the attribution line some clients put beside it).
QUOTE_CONTAINERS = ", ".join(
    [
        'blockquote[type="cite"]',
        "div.gmail_quote",
        "div.gmail_attr",
        "div.moz-cite-prefix",
        "div.yahoo_quoted",
        "blockquote.protonmail_quote",
    ]
)
# Where Outlook's quote starts: the marker and everything after it in the document.
QUOTE_STARTS = ", ".join(
    [
        "div#appendonsend",
        "div#divRplyFwdMsg",
        "div.OutlookMessageHeader",
        'div[style*="border-top:solid #E1E1E1"]',
        'div[style*="border-top:solid #B5C4DF"]',
    ]
)


def fold_reply(text: str, html: str) -> str:
    """The new text of a reply, without the history it quotes; '' when nothing is left (the caller keeps
    the whole text then)."""
    if html and ("<blockquote" in html or "quote" in html or "divRplyFwdMsg" in html or "border-top" in html):
        folded = _fold_html(html)
        if folded is not None:
            return _fold_text(folded)
    return _fold_text(text)


def _fold_html(html: str) -> str | None:
    """The text of the HTML without its quote containers; None when it has none."""
    tree = LexborHTMLParser(html)
    root = tree.body or tree.root
    if root is None:
        return None
    found = False
    for start in root.css(QUOTE_STARTS)[:1]:
        _remove_from(start)
        found = True
    for node in root.css(QUOTE_CONTAINERS):
        if node.parent is not None:  # not already removed with an enclosing container
            node.decompose()
            found = True
    return html_to_text(root.html or "") if found else None


def _remove_from(node: LexborNode) -> None:
    """Remove `node` and everything after it in document order."""
    current: LexborNode | None = node
    while current is not None and current.tag not in ("body", "html"):
        sibling = current.next
        while sibling is not None:
            following = sibling.next
            sibling.decompose()
            sibling = following
        current = current.parent
    node.decompose()


def _fold_text(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    try:
        folded = EmailReplyParser(languages=FOLD_LANGUAGES).parse_reply(text).strip()
    except Exception:  # the folding library must never cost us a message
        folded = ""
    return _strip_quoted_tail(folded or text)


def _strip_quoted_tail(text: str) -> str:
    """A trailing block of ">" lines is quoted history in any language, and so is the line that
    announces it ("… wrote:", "… pisze:"); quotes between the customer's own lines stay."""
    lines = text.splitlines()
    end = len(lines)
    while end and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith(">")):
        end -= 1
    if end == len(lines) or not any(line.lstrip().startswith(">") for line in lines[end:]):
        return text
    if end and lines[end - 1].rstrip().endswith(":"):
        end -= 1
    return "\n".join(lines[:end]).strip() or text
