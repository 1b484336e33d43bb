"""Right to left in a real browser: the Arabic email and release page in headless Chromium.

Screenshots at 375 and 1024 px wide are saved in tests/artifacts/ (rtl-*.png).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from distribution.mail.render import load_templates, render
from distribution.store.models import Release, ReleaseStatus
from tests.test_render import recipient, sample_release

pytest_plugins = ["tests.fixtures.browser"]
pytestmark = pytest.mark.browser

PHONE = "+41 22 917 00 00"
WIDTHS = (375, 1024)
ARABIC = dict(
    language="ar", headline="رئيس الآلية يختتم زيارته إلى دمشق",
    dateline_text="دمشق، 16 نيسان 2025",
    body="اختتم رئيس الآلية زيارته إلى دمشق.\n\n- مستقلة\n- محايدة", end_marker="",
    boilerplate_heading="نبذة عن الآلية", boilerplate="الآلية هيئة تابعة للأمم المتحدة.",
    media_contacts=[{"name": "المكتب الإعلامي", "email": "media@iiim.example.org",
                     "phone": PHONE}])

# Where each space-separated group of the phone number is drawn, left to right on screen.
GROUP_LEFTS = """(element) => {
  const node = [...element.childNodes].find(n => n.nodeType === Node.TEXT_NODE);
  const text = node.textContent, lefts = [];
  let from = 0;
  for (const group of text.split(" ")) {
    const start = text.indexOf(group, from), range = document.createRange();
    range.setStart(node, start); range.setEnd(node, start + group.length);
    lefts.push(range.getBoundingClientRect().left);
    from = start + group.length;
  }
  return lefts;
}"""


def _reads_left_to_right(page: Any, selector: str) -> None:
    lefts = page.locator(selector).first.evaluate(GROUP_LEFTS)
    assert len(lefts) == 5 and lefts == sorted(lefts), lefts


def _bullets_on_the_right(page: Any) -> None:
    box = page.locator("ul").first.bounding_box()
    item = page.locator("li").first.bounding_box()
    # The list's indent (padding-inline-start) is on its right edge in right-to-left text.
    assert item["x"] + item["width"] < box["x"] + box["width"] - 10
    assert abs(item["x"] - box["x"]) < 2


@pytest.mark.parametrize("width", WIDTHS)
def test_the_arabic_email_mirrors_and_keeps_the_phone_number_in_order(
        page, tmp_path, screenshot, width) -> None:
    from tests.fixtures.settings import make_settings

    settings = make_settings(tmp_path, "sqlite://")
    release = sample_release(**ARABIC, embargo_until=datetime(2099, 4, 16, 7, tzinfo=UTC),
                             embargo_zone="Asia/Damascus")
    data = render(release, recipient(), load_templates(settings), settings, marked=True,
                  list_name="media", date=datetime(2099, 4, 1, tzinfo=UTC))
    import email
    import email.policy

    html = email.message_from_bytes(data, policy=email.policy.default).get_body(
        ("html",)).get_content()
    assert '<html lang="ar" dir="rtl">' in html
    page.set_viewport_size({"width": width, "height": 900})
    page.set_content(html)
    screenshot(page, f"rtl-email-{width}")
    _reads_left_to_right(page, f'bdi:has-text("{PHONE}")')
    _bullets_on_the_right(page)
    assert page.locator(".ends").inner_text() == "-انتهى-"
    banner = page.locator(".banner").first.bounding_box()
    title = page.locator("h1").bounding_box()
    # The headline starts at the right edge, as the banner does.
    assert abs((title["x"] + title["width"]) - (banner["x"] + banner["width"])) < 20


@pytest.mark.parametrize("width", WIDTHS)
def test_the_arabic_release_page_mirrors_and_keeps_the_phone_number_in_order(
        page, live_server, screenshot, width) -> None:
    with live_server.store.Session.begin() as session:
        original = Release(headline="IIIM Head Concludes Visit", language="en", body="Text.",
                           status=ReleaseStatus.SENT,
                           first_sent_at=datetime.now(UTC) - timedelta(hours=1))
        session.add(original)
        session.flush()
        fields = {k: v for k, v in ARABIC.items() if k != "dateline_text"}
        session.add(Release(**fields, status=ReleaseStatus.SENT, version_of_id=original.id,
                            first_sent_at=original.first_sent_at))
        session.flush()
        release_id = original.id
    page.set_viewport_size({"width": width, "height": 900})
    page.set_extra_http_headers({"Accept-Language": "ar"})
    page.goto(f"{live_server.url}/releases/{release_id}")
    screenshot(page, f"rtl-release-page-{width}")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("html").get_attribute("lang") == "ar"
    _reads_left_to_right(page, "bdi.phone")
    _bullets_on_the_right(page)
    assert page.get_by_role("heading", name="للاستفسارات الإعلامية يرجى الاتصال").is_visible()
    assert page.get_by_role("link", name="English").is_visible()
