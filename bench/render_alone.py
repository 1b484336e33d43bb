"""Rendering alone: microseconds per personalised message, no database, no network.

`prepare` once (templates, CSS inlining, serialisation), then for each of N recipients:
`personalise` alone (recipients made beforehand), and the engine's whole per-message work,
`MessageFactory.build` (signed links, Message-ID, personalise), as a batch calls it.

    python -m bench.render_alone [-n 10000] [--release FILE] [--photos 3 [--inline]]
                                 [--versions 3]

With --photos, the release carries that many photos (resized at attach time, as
`release attach` does): linked from each message, or embedded (CID) with --inline.
With --versions K the release gets K-1 language versions and the recipients' languages
cycle through all K: the factory picks a version per row and renders each once.

With --dkim, the same build again with DKIM signing (a 2048-bit RSA key, and with
--ed25519 an Ed25519 signature beside it), in the same run: messages per second with and
without.

    python -m bench.render_alone [-n 10000] [--dkim [--ed25519]]
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
from distribution.store.models import Distribution, DistributionKind, Release

VERSION_LANGUAGES = ("en", "fr", "es", "ar", "ru", "zh")


def measure(release_file: Path, n: int, workdir: Path, photos: int = 0,
            inline: bool = False, versions: int = 1, *, dkim: bool = False,
            ed25519_too: bool = False) -> dict[str, Any]:
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
    build_us = _factory_build_us(settings, release, n, now, media, versions)
    result = {"name": "render alone", "n": n, "photos": photos, "inline": inline,
              "versions": versions,
              "prepare_ms": round(prepare_ms, 1),
              "personalise_us": round(personalise_us, 1), "build_us": round(build_us, 1),
              "message_bytes": size // n, "messages_per_s": round(1e6 / build_us)}
    if dkim:
        signing = fixture.settings_for({**env, **_dkim_env(workdir, ed25519_too)})
        signed_us = _factory_build_us(signing, release, n, now, media, versions)
        result.update({"dkim": "rsa-2048" + (" + ed25519" if ed25519_too else ""),
                       "build_dkim_us": round(signed_us, 1),
                       "messages_per_s_dkim": round(1e6 / signed_us)})
    return result


def _dkim_env(workdir: Path, ed25519_too: bool) -> dict[str, str]:
    """Fresh keys, written as the settings want them (owner-only)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    def write(name: str, key: Any) -> str:
        path = workdir / name
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
        path.chmod(0o600)
        return str(path)

    env = {"PRESSROOM_DKIM_SELECTOR": "bench", "PRESSROOM_DKIM_DOMAIN": "iiim.example.org",
           "PRESSROOM_DKIM_PRIVATE_KEY_FILE": write(
               "rsa.pem", rsa.generate_private_key(public_exponent=65537, key_size=2048))}
    if ed25519_too:
        env["PRESSROOM_DKIM_ED25519_SELECTOR"] = "bench-ed"
        env["PRESSROOM_DKIM_ED25519_KEY_FILE"] = write(
            "ed.pem", ed25519.Ed25519PrivateKey.generate())
    return env


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
                      media: MessageMedia, versions: int = 1) -> float:
    distribution = Distribution(id=1, kind=DistributionKind.RELEASE, note=None)
    languages = VERSION_LANGUAGES[:versions]
    release.id, release.language = 1, languages[0]
    others = [_version(release, i + 2, code) for i, code in enumerate(languages[1:])]
    contacts = {i: (f"Reporter {i}", None, languages[i % versions]) for i in range(n)}
    factory = MessageFactory(settings, distribution, release, contacts, {1: ("media", None)},
                             (media, media), others)
    batch = [Claimed(i, i, f"reporter{i}@outlet{i % 2000}.example.com", False, 1, 1)
             for i in range(n)]
    for claimed in batch[:versions]:  # each version is prepared once per batch: not timed
        factory.build(claimed, now)
    started = time.perf_counter()
    for claimed in batch:
        factory.build(claimed, now)
    return (time.perf_counter() - started) * 1e6 / n


def _version(release, release_id: int, language: str):  # type: ignore[no-untyped-def]
    columns = {a.key: getattr(release, a.key) for a in Release.__mapper__.column_attrs}
    return Release(**{**columns, "id": release_id, "language": language,
                      "version_of_id": release.id, "headline": f"{release.headline} ({language})"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--release", type=Path, default=fixture.DEFAULT_RELEASE)
    parser.add_argument("--photos", type=int, default=0)
    parser.add_argument("--inline", action="store_true")
    parser.add_argument("--versions", type=int, default=1, choices=range(1, 7))
    parser.add_argument("--dkim", action="store_true", help="measure with DKIM signing too")
    parser.add_argument("--ed25519", action="store_true", help="with --dkim: dual-sign")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(measure(args.release, args.n, Path(tmp), args.photos, args.inline,
                                 args.versions, dkim=args.dkim, ed25519_too=args.ed25519)))


if __name__ == "__main__":
    main()
