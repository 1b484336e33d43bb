"""Rendering alone: microseconds per personalised message, no database, no network.

`prepare` once (templates, CSS inlining, serialisation), then for each of N recipients:
`personalise` alone (recipients made beforehand), and the engine's whole per-message work,
`MessageFactory.build` (signed links, Message-ID, personalise), as a batch calls it.

    python -m bench.render_alone [-n 10000] [--release FILE] [--photos 3 [--inline]]

With --photos, the release carries that many photos (resized at attach time, as
`release attach` does): linked from each message, or embedded (CID) with --inline.
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import fixture
from distribution.engine.claims import Claimed
from distribution.engine.messages import MessageFactory
from distribution.mail.media import InlineImage, MessageMedia, Photo
from distribution.mail.render import load_templates, prepare
from distribution.store.models import Distribution, DistributionKind


def measure(release_file: Path, n: int, workdir: Path, photos: int = 0,
            inline: bool = False) -> dict[str, Any]:
    env = fixture.environment(workdir, "sqlite://", "")
    settings = fixture.settings_for(env)
    release = fixture.sample_release(release_file)
    now = datetime.now(UTC)
    media = _photos(settings, photos, inline)
    started = time.perf_counter()
    prepared = prepare(release, settings, load_templates(settings), marked=False,
                       list_name="media", media=media)
    prepare_ms = (time.perf_counter() - started) * 1000
    recipients = [fixture.recipient(settings, i) for i in range(n)]
    started = time.perf_counter()
    size = sum(len(prepared.personalise(r, date=now)) for r in recipients)
    personalise_us = (time.perf_counter() - started) * 1e6 / n
    build_us = _factory_build_us(settings, release, n, now, media)
    return {"name": "render alone", "n": n, "photos": photos, "inline": inline,
            "prepare_ms": round(prepare_ms, 1),
            "personalise_us": round(personalise_us, 1), "build_us": round(build_us, 1),
            "message_bytes": size // n}


def _photos(settings, count: int, inline: bool) -> MessageMedia:  # type: ignore[no-untyped-def]
    """`count` photos of 3000×2000 with detail, resized as attaching them does."""
    from PIL import Image

    from distribution.media.renditions import renditions

    photos, parts = [], []
    for n in range(count):
        image = Image.effect_mandelbrot((3000, 2000), (-2.0 + n * 0.1, -1.0, 1.0, 1.0), 60)
        original = io.BytesIO()
        image.convert("RGB").save(original, "JPEG", quality=90)
        email_copy = renditions(original.getvalue())[-1]
        cid = f"photo{n}@{settings.sender_domain}"
        link = f"{settings.base_url}/media/{'k' * 32}{n}/photo{n}.jpg"
        src = f"cid:{cid}" if inline else link.replace("/photo", "/w1200/photo")
        photos.append(Photo(src, link, email_copy.width, email_copy.height, f"Alt {n}",
                            f"Caption {n}", "© Photographer", f"photo{n}.jpg"))
        parts.append(InlineImage(cid, email_copy.data, email_copy.content_type,
                                 f"photo{n}.jpg"))
    return MessageMedia(tuple(photos), (), tuple(parts) if inline else (),
                        f"{settings.base_url}/releases/1")


def _factory_build_us(settings, release, n: int, now: datetime,  # type: ignore[no-untyped-def]
                      media: MessageMedia) -> float:
    distribution = Distribution(id=1, kind=DistributionKind.RELEASE, note=None)
    contacts = {i: (f"Reporter {i}", None) for i in range(n)}
    factory = MessageFactory(settings, distribution, release, contacts, {1: "media"},
                             (media, media))
    batch = [Claimed(i, i, f"reporter{i}@outlet{i % 2000}.example.com", False, 1, 1)
             for i in range(n)]
    factory.build(batch[0], now)  # the variant is prepared once per batch: not timed
    started = time.perf_counter()
    for claimed in batch:
        factory.build(claimed, now)
    return (time.perf_counter() - started) * 1e6 / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--release", type=Path, default=fixture.DEFAULT_RELEASE)
    parser.add_argument("--photos", type=int, default=0)
    parser.add_argument("--inline", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(measure(args.release, args.n, Path(tmp), args.photos, args.inline)))


if __name__ == "__main__":
    main()
