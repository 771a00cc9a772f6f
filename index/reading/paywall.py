"""Where a platform cut a paid post short, so that nothing past the cut is ever indexed.

A post's access, as stored with its entry and kept in the index:

- ``PUBLIC`` (""): the whole post is public.
- ``PREVIEW``: a feed entry cut at a paywall; what is indexed is the free part the feed shows.
- ``PAID``: an export's paid-only post, indexed whole because the source says ``include_paid``;
  it is quoted only to readers with the source's paid role.

The marks of a cut, as the platforms write them:

- Ghost's paywall card (the "public preview" divider) is the HTML comment ``<!--members-only-->``
  in the post's HTML; Ghost serves a members-only post to readers without access cut at it.
- Substack's paywall node is ``<div class="paywall-jump" data-component-name="PaywallToDOM">``
  in a post's body (a web page shows ``<div class="paywall" data-component-name="Paywall">``).
- Substack's feed ends a paid post's free part with a paragraph that is only a link to the post,
  "Read more" (the web page's "Keep reading with a 7-day free trial" reads the same way).
"""

from __future__ import annotations

import re
import urllib.parse

PUBLIC = ""
PREVIEW = "preview"
PAID = "paid"
ACCESS = (PUBLIC, PREVIEW, PAID)

_MARK = re.compile(
    r"<!--\s*members-only\s*-->"
    r"|<div\b[^>]*\bclass\s*=\s*[\"'](?:[^\"']*\s)?paywall(?:-jump)?(?:\s[^\"']*)?[\"'][^>]*>"
    r"|<[a-z][a-z0-9]*\b[^>]*\bdata-component-name\s*=\s*[\"'](?:Paywall|PaywallToDOM)[\"'][^>]*>",
    re.IGNORECASE,
)
_TAIL = re.compile(
    r"<p\b[^>]*>\s*<a\b[^>]*\bhref\s*=\s*[\"']([^\"']*)[\"'][^>]*>\s*"
    r"(?:<[^>]+>\s*)*(?:read more|continue reading|keep reading(?: with a \d+-day free trial)?)\s*(?:</?[^>]+>\s*)*"
    r"</a>\s*</p>\s*$",
    re.IGNORECASE,
)


def _same_page(href: str, link: str) -> bool:
    """``href`` leads to the post at ``link`` (query, fragment and a closing slash aside)."""
    if not link:
        return False
    a, b = urllib.parse.urlsplit(urllib.parse.urljoin(link, href.strip())), urllib.parse.urlsplit(link)
    return (a.netloc.lower(), a.path.rstrip("/")) == (b.netloc.lower(), b.path.rstrip("/"))


def cut_at_paywall(html: str, link: str) -> tuple[str, bool]:
    """(the HTML before the paywall, True) when the post is cut short; else (``html``, False).

    A "Read more" paragraph counts only when it is the entry's last and links to the entry itself:
    a free post that ends by pointing elsewhere is not a preview.
    """
    mark = _MARK.search(html)
    if mark is not None:
        return html[: mark.start()], True
    tail = _TAIL.search(html)
    if tail is not None and _same_page(tail.group(1), link):
        return html[: tail.start()], True
    return html, False
