"""The floor: a naive Python sender, as most projects write one.

One EmailMessage per recipient (text and HTML alternatives, the same content as Pressroom's
release), sent with smtplib over one reused connection, one command at a time.

    python bench/naive_sender.py --port 2525 -n 10000 --content content.json

content.json: {"subject": ..., "text": ..., "html": ..., "from": ...}. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import smtplib
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path


def message(content: dict[str, str], i: int) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = content["from"]
    msg["To"] = f"Reporter {i} <reporter{i}@outlet{i % 2000}.example.com>"
    msg["Subject"] = content["subject"]
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain="iiim.example.org")
    msg["List-Unsubscribe"] = f"<https://press.example.org/u/{i}>"
    msg.set_content(content["text"])
    msg.add_alternative(content["html"], subtype="html")
    return msg


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("-n", type=int, required=True)
    parser.add_argument("--content", type=Path, required=True)
    args = parser.parse_args()
    content = json.loads(args.content.read_text("utf-8"))
    started = time.perf_counter()
    with smtplib.SMTP(args.host, args.port) as smtp:
        for i in range(args.n):
            smtp.send_message(message(content, i))
    seconds = time.perf_counter() - started
    print(json.dumps({"sent": args.n, "seconds": seconds}))


if __name__ == "__main__":
    main()
