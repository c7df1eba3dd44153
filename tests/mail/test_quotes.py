"""Quote folding on its own: Outlook desktop's bordered header block, trailing quotes, inline answers."""

from __future__ import annotations

from tessera.mail.inbound.quotes import fold_reply

OUTLOOK_DESKTOP = (
    "<html><body><div class=WordSection1><p>Merci, c'est réglé.</p><div><div style=\"border:none;"
    'border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm"><p><b>De :</b> Support<br><b>Envoyé :</b> '
    "lundi</p></div></div><p>Ancien texte</p></div></body></html>"
)


def test_outlook_desktop_quote_starts_at_its_bordered_header_block() -> None:
    assert (
        fold_reply("Merci, c'est réglé.\n\nDe : Support\nAncien texte", OUTLOOK_DESKTOP)
        == "Merci, c'est réglé."
    )


def test_a_trailing_quote_and_its_attribution_line_are_folded_in_any_language() -> None:
    text = "Dziękuję, działa.\n\nW dniu 2.03.2026 o 10:00, Support pisze:\n> Zrestartowaliśmy serwer.\n"
    assert fold_reply(text, "") == "Dziękuję, działa."


def test_answers_between_quoted_lines_are_kept() -> None:
    text = "Answers inline:\n> Which server?\nweb-2\n> Since when?\nsince 9:00"
    assert fold_reply(text, "") == text


def test_html_without_quote_containers_folds_the_text() -> None:
    assert fold_reply("Please quote TS-12 in the subject.", "<p>Please quote TS-12 in the subject.</p>") == (
        "Please quote TS-12 in the subject."
    )
